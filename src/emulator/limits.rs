//! Segment's rate limits: a fixed window per token, with a second, tighter window for the
//! endpoints that change permissions or group membership.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use super::RateLimits;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Bucket {
    General,
    Write,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    consumed: u64,
}

#[derive(Debug, Default)]
pub(super) struct Limiter {
    windows: HashMap<(usize, Bucket), Window>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    Allowed {
        consumed: u64,
        remaining: u64,
        reset_at: SystemTime,
    },
    Limited {
        consumed: u64,
        ms_before_next: u64,
    },
}

impl Limiter {
    pub(super) fn reset(&mut self) {
        self.windows.clear();
    }

    /// Counts one request of `token` (an index into the configured tokens). A refused request
    /// consumes nothing, so waiting `msBeforeNext` is always enough.
    pub(super) fn check(&mut self, token: usize, write: bool, limits: &RateLimits) -> Decision {
        let now = Instant::now();
        let len = Duration::from_millis(limits.window_ms.max(1));
        let mut buckets = vec![(Bucket::General, u64::from(limits.general))];
        if write {
            buckets.push((Bucket::Write, u64::from(limits.write)));
        }
        let mut limited: Option<(u64, u64)> = None;
        for (b, limit) in &buckets {
            let w = self.windows.entry((token, *b)).or_insert(Window {
                start: now,
                consumed: 0,
            });
            if now.duration_since(w.start) >= len {
                *w = Window {
                    start: now,
                    consumed: 0,
                };
            }
            if w.consumed >= *limit {
                let left = (w.start + len).saturating_duration_since(now);
                let ms = (left.as_millis() as u64).max(1);
                if limited.is_none_or(|(_, m)| ms > m) {
                    limited = Some((w.consumed, ms));
                }
            }
        }
        if let Some((consumed, ms_before_next)) = limited {
            return Decision::Limited {
                consumed,
                ms_before_next,
            };
        }
        let mut report = None;
        for (b, limit) in &buckets {
            if let Some(w) = self.windows.get_mut(&(token, *b)) {
                w.consumed += 1;
                let left = (w.start + len).saturating_duration_since(now);
                // The last bucket is the tightest one this request is subject to.
                report = Some(Decision::Allowed {
                    consumed: w.consumed,
                    remaining: limit.saturating_sub(w.consumed),
                    reset_at: SystemTime::now() + left,
                });
            }
        }
        report.unwrap_or(Decision::Allowed {
            consumed: 0,
            remaining: 0,
            reset_at: SystemTime::now(),
        })
    }
}
