//! Fault injection and latency knobs.

use std::time::{Duration, Instant};

use reqwest::Method;
use segment_access::emulator::{
    EmulatorConfig, FaultKind, FaultScope, Faults, Latency, spawn_blocking,
};
use serde_json::json;

use crate::support::api::*;

fn faulty(kinds: Vec<FaultKind>, rate: f64, rng_seed: u64) -> EmulatorConfig {
    EmulatorConfig {
        faults: Faults {
            rate,
            kinds,
            stall_ms: 3_000,
            scope: FaultScope::All,
        },
        rng_seed,
        ..EmulatorConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn http_500_and_503_faults() {
    for (kind, status) in [(FaultKind::Http500, 500), (FaultKind::Http503, 503)] {
        let e = emu(faulty(vec![kind], 1.0, 7)).await;
        let a = e.get("/").await;
        assert_eq!(a.status, status);
        assert!(a.body["errors"][0]["type"].is_string());
        // Control endpoints are never faulted.
        let st = e.state().await;
        assert!(st["users"].is_array());
        let stats = e
            .client
            .get(format!("{}/_emulator/stats", e.url))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap();
        assert_eq!(stats["faults"][kind.as_str()], 1);
        assert_eq!(stats["byStatus"][status.to_string()], 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_fault_is_a_connection_error() {
    let e = emu(faulty(vec![FaultKind::Reset], 1.0, 7)).await;
    let err = e
        .client
        .get(format!("{}/", e.url))
        .bearer_auth(OWNER)
        .send()
        .await
        .expect_err("the connection is dropped without a response");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    // The emulator itself keeps serving.
    let st = e.state().await;
    assert!(st["workspace"]["id"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn stall_fault_trips_the_client_timeout() {
    let e = emu(faulty(vec![FaultKind::Stall], 1.0, 7)).await;
    let started = Instant::now();
    let err = e
        .client
        .get(format!("{}/", e.url))
        .bearer_auth(OWNER)
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .expect_err("stalled");
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test(flavor = "multi_thread")]
async fn same_seed_same_fault_sequence() {
    async fn sequence(seed: u64) -> Vec<u16> {
        let e = emu(faulty(
            vec![FaultKind::Http500, FaultKind::Http503],
            0.5,
            seed,
        ))
        .await;
        let mut out = Vec::new();
        for _ in 0..40 {
            out.push(e.get("/").await.status.as_u16());
        }
        out
    }
    let a = sequence(42).await;
    let b = sequence(42).await;
    let c = sequence(43).await;
    assert_eq!(a, b);
    assert_ne!(a, c, "a different seed gives a different sequence");
    assert!(a.contains(&200) && (a.contains(&500) || a.contains(&503)));
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_can_be_limited_to_writes_and_changed_at_runtime() {
    let mut config = faulty(vec![FaultKind::Http503], 1.0, 1);
    config.faults.scope = FaultScope::Writes;
    let e = emu(config).await;
    assert_eq!(e.get("/").await.status, 200);
    let a = e.post("/groups", json!({"name": "Temp"})).await;
    assert_eq!(a.status, 503);
    let cfg = e
        .control(
            Method::PATCH,
            "/_emulator/config",
            json!({"faults": {"rate": 0.0}}),
        )
        .await;
    assert_eq!(cfg["faults"]["rate"], 0.0);
    assert_eq!(e.post("/groups", json!({"name": "Temp"})).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn latency_adds_at_least_the_configured_delay() {
    let e = emu(EmulatorConfig {
        latency: Latency {
            fixed_ms: 150,
            jitter_ms: 50,
        },
        ..EmulatorConfig::default()
    })
    .await;
    let started = Instant::now();
    assert_eq!(e.get("/").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    // Control endpoints answer without the added latency.
    let started = Instant::now();
    e.state().await;
    assert!(started.elapsed() < Duration::from_millis(150));
}

#[test]
fn blocking_emulator_serves_and_stops_on_drop() {
    let emu = spawn_blocking(EmulatorConfig::default()).expect("starts");
    let url = emu.url();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt.block_on(async {
        {
            segment_access::segment::tls::install_provider();
            reqwest::Client::new()
        }
        .get(format!("{url}/"))
        .bearer_auth(OWNER)
        .send()
        .await
        .unwrap()
        .status()
    });
    assert_eq!(status, 200);
    drop(emu);
    let after = rt.block_on(async {
        {
            segment_access::segment::tls::install_provider();
            reqwest::Client::new()
        }
        .get(format!("{url}/"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
    });
    assert!(after.is_err(), "the port is closed after drop");
}
