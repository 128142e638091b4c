//! Auth levels and rate limits.

use std::time::{Duration, Instant};

use reqwest::Method;
use segment_access::emulator::{EmulatorConfig, RateLimits};
use serde_json::json;

use crate::support::api::*;

#[tokio::test(flavor = "multi_thread")]
async fn owner_member_unknown_and_missing_tokens() {
    let e = default_emu().await;
    assert_eq!(
        e.call(Some(OWNER), Method::GET, "/", None).await.status,
        200
    );
    assert_eq!(
        e.call(Some(MEMBER), Method::GET, "/", None).await.status,
        200
    );
    assert_eq!(
        e.call(
            Some(MEMBER),
            Method::GET,
            "/sources?pagination.count=5",
            None
        )
        .await
        .status,
        200
    );
    for path in [
        "/users?pagination.count=5",
        "/groups?pagination.count=5",
        "/invites?pagination.count=5",
        "/roles?pagination.count=5",
        "/audit-events?pagination.count=5",
    ] {
        let a = e.call(Some(MEMBER), Method::GET, path, None).await;
        assert_eq!(a.status, 403, "{path}");
        assert!(a.body["errors"][0]["message"].is_string());
    }
    let a = e
        .call(
            Some(MEMBER),
            Method::POST,
            "/groups",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(a.status, 403);
    let a = e.call(Some("not-a-token"), Method::GET, "/", None).await;
    assert_eq!(a.status, 401);
    assert!(a.body["errors"].is_array());
    assert_eq!(e.call(None, Method::GET, "/", None).await.status, 401);
    // Error bodies never echo the token.
    let a = e
        .call(Some("canary-token-123"), Method::GET, "/", None)
        .await;
    assert!(!a.body.to_string().contains("canary"));
}

#[tokio::test(flavor = "multi_thread")]
async fn burst_past_the_limit_gets_429_then_recovers() {
    let e = emu(EmulatorConfig {
        limits: RateLimits {
            window_ms: 500,
            general: 20,
            write: 5,
        },
        ..EmulatorConfig::default()
    })
    .await;
    let mut last_remaining = u64::MAX;
    for i in 0..20 {
        let a = e.get("/").await;
        assert_eq!(a.status, 200, "request {i}");
        let remaining: u64 = a.header("x-ratelimit-remaining").unwrap().parse().unwrap();
        let consumed: u64 = a.header("x-ratelimit-consumed").unwrap().parse().unwrap();
        assert!(remaining < last_remaining);
        assert_eq!(consumed + remaining, 20);
        assert!(httpdate::parse_http_date(a.header("x-ratelimit-reset").unwrap()).is_ok());
        last_remaining = remaining;
    }
    let a = e.get("/").await;
    let refused_at = Instant::now();
    assert_eq!(a.status, 429);
    assert_eq!(a.header("content-type"), Some("application/json"));
    let err = &a.body["errors"][0];
    assert_eq!(err["type"], "RequestError");
    assert_eq!(err["message"], "Too many requests");
    assert_eq!(err["data"]["remainingPoints"], 0);
    assert_eq!(err["data"]["consumedPoints"], 20);
    let wait = err["data"]["msBeforeNext"].as_u64().unwrap();
    assert!(wait > 0 && wait <= 500, "{wait}");
    // Retry-After says the same in whole seconds, rounded up.
    assert_eq!(a.header("retry-after"), Some("1"));
    // A refused request consumes nothing: the wait does not grow.
    let again = e.get("/").await;
    assert_eq!(again.status, 429);
    assert_eq!(again.body["errors"][0]["data"]["consumedPoints"], 20);
    // Waiting out the window is what is tested, so the test waits until the window's end that
    // the refusal announced: msBeforeNext, counted from when the emulator decided (before the
    // answer arrived) and rounded down to the millisecond, so it ends before `window_end`.
    let window_end = refused_at + Duration::from_millis(wait + 1);
    tokio::time::sleep_until(window_end.into()).await;
    assert_eq!(e.get("/").await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn write_bucket_is_separate_and_lower() {
    let e = emu(EmulatorConfig {
        limits: RateLimits {
            window_ms: 800,
            general: 50,
            write: 3,
        },
        ..EmulatorConfig::default()
    })
    .await;
    let g = e.group_by_name("Security").await;
    let gid = g["id"].as_str().unwrap().to_string();
    let body = json!({"emails": ["ada.lovelace@acme.example"]});
    for i in 0..3 {
        let a = e.post(&format!("/groups/{gid}/users"), body.clone()).await;
        assert_eq!(a.status, 200, "write {i}");
        assert_eq!(
            a.header("x-ratelimit-remaining").unwrap(),
            (2 - i).to_string(),
            "writes report the tighter bucket"
        );
    }
    let a = e.post(&format!("/groups/{gid}/users"), body.clone()).await;
    assert_eq!(a.status, 429);
    assert!(
        a.body["errors"][0]["data"]["msBeforeNext"]
            .as_u64()
            .unwrap()
            > 0
    );
    // Reads are still allowed: they only use the general bucket.
    let r = e.get("/").await;
    assert_eq!(r.status, 200);
    let remaining: u64 = r.header("x-ratelimit-remaining").unwrap().parse().unwrap();
    assert_eq!(remaining, 50 - 4);
    // The write-bucket limits every membership/permission endpoint, not just this one.
    let a = e
        .delete(&format!(
            "/group/{gid}/users?emails.0=ada.lovelace%40acme.example"
        ))
        .await;
    assert_eq!(a.status, 429);
    // The tokens have separate buckets.
    let m = e.call(Some(MEMBER), Method::GET, "/", None).await;
    assert_eq!(m.header("x-ratelimit-consumed"), Some("1"));
}
