//! Injected failures and latency, drawn from seeded RNGs so that the same seed and the same
//! sequence of requests always fail the same way. Latency jitter has its own RNG so that turning
//! jitter on does not change which requests fail.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{FaultKind, FaultScope, Faults, Latency};

#[derive(Debug)]
pub(super) struct FaultEngine {
    faults: StdRng,
    jitter: StdRng,
}

impl FaultEngine {
    pub(super) fn new(seed: u64) -> Self {
        FaultEngine {
            faults: StdRng::seed_from_u64(seed),
            jitter: StdRng::seed_from_u64(seed.wrapping_add(0x9E37_79B9_7F4A_7C15)),
        }
    }

    /// Draws for one request. Requests outside the scope draw nothing, so they do not shift
    /// the fault sequence of the requests that are in scope.
    pub(super) fn decide(&mut self, faults: &Faults, is_read: bool) -> Option<FaultKind> {
        let in_scope = match faults.scope {
            FaultScope::All => true,
            FaultScope::Reads => is_read,
            FaultScope::Writes => !is_read,
        };
        if !in_scope || faults.rate <= 0.0 || faults.kinds.is_empty() {
            return None;
        }
        let roll: f64 = self.faults.random();
        if roll >= faults.rate.min(1.0) {
            return None;
        }
        let i = self.faults.random_range(0..faults.kinds.len());
        Some(faults.kinds[i])
    }

    pub(super) fn delay(&mut self, latency: &Latency) -> Duration {
        let jitter = if latency.jitter_ms > 0 {
            self.jitter.random_range(0..=latency.jitter_ms)
        } else {
            0
        };
        Duration::from_millis(latency.fixed_ms.saturating_add(jitter))
    }
}
