//! Resilience: with injected 5xx and connection resets and a tight rate limit, a full audit of
//! the large workspace still returns exactly the emulator's grant set, and pacing keeps 429s
//! rare.

use std::collections::BTreeSet;

use segment_access::emulator::{EmulatorConfig, FaultKind, Faults, RateLimits, Seed};

use crate::support::*;

#[test]
fn full_audit_survives_faults_and_a_tight_rate_limit() {
    let emu = start(EmulatorConfig {
        seed: Seed::Large,
        limits: RateLimits {
            window_ms: 1_000,
            general: 500,
            write: 60,
        },
        faults: Faults {
            rate: 0.10,
            kinds: vec![FaultKind::Http500, FaultKind::Http503, FaultKind::Reset],
            ..Faults::default()
        },
        rng_seed: 7,
        ..EmulatorConfig::default()
    });
    let st = state(&emu);
    assert_eq!(st["users"].as_array().unwrap().len(), 2000);

    let out = stdout_of(bin(&emu.url(), OWNER).args(["list", "grants", "--format", "ndjson"]));
    let facts: Vec<Fact> = parse_ndjson(&out).iter().map(fact_of).collect();
    let got: BTreeSet<Fact> = facts.iter().cloned().collect();
    assert_eq!(facts.len(), got.len());
    let expected = expected_facts(&st);
    let missing: Vec<&Fact> = expected.difference(&got).take(5).collect();
    let extra: Vec<&Fact> = got.difference(&expected).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "exactly the emulator's grants despite faults; missing {} e.g. {missing:?}; extra {} e.g. {extra:?}",
        expected.difference(&got).count(),
        got.difference(&expected).count()
    );

    let s = stats(&emu);
    let total = s["totalRequests"].as_u64().unwrap();
    let limited = s["rateLimited"].as_u64().unwrap();
    let faults: u64 = s["faults"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    eprintln!("requests {total}, 429s {limited}, faults injected {faults}");
    assert!(faults > 100, "faults were really injected: {s}");
    assert!(total > 2000);
    assert!(
        limited * 100 <= total * 2,
        "pacing keeps 429s under 2% of requests: {limited} of {total}"
    );
}
