//! Client-side pacing against Segment's fixed-window rate limits.
//!
//! Segment tells us, on every success, how many points remain in the window and when the window
//! resets. We count our own requests down from that, and once the window is spent every caller
//! waits for the reset instead of sending a request that would only earn a 429. When a 429 does
//! arrive (another client on the same token, or a reset we could only see to the second), every
//! caller waits `msBeforeNext`, not just the one that was refused.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use reqwest::header::HeaderMap;

/// Extra wait after a window's reset: `X-RateLimit-Reset` has one-second resolution.
const RESET_MARGIN: Duration = Duration::from_millis(25);

#[derive(Debug, Default)]
struct Bucket {
    /// Requests we may still send in the current window; `None` when unknown (no answer yet,
    /// or the window we knew of is over).
    remaining: Option<i64>,
    /// When the current window ends.
    reset_at: Option<Instant>,
    /// Nobody sends before this instant (set by a 429).
    blocked_until: Option<Instant>,
}

#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    bucket: Mutex<Bucket>,
}

/// What a success's headers say about the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WindowInfo {
    pub remaining: i64,
    pub reset_at: Option<Instant>,
}

impl WindowInfo {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<WindowInfo> {
        let remaining = headers
            .get("x-ratelimit-remaining")?
            .to_str()
            .ok()?
            .trim()
            .parse::<i64>()
            .ok()?;
        let date = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| httpdate::parse_http_date(v.trim()).ok())
        };
        // Measured against the server's own clock (its `Date` header) when it sends one, so a
        // local clock that runs fast or slow cannot make every window look already over.
        let server_now = date("date").unwrap_or_else(SystemTime::now);
        let reset_at = date("x-ratelimit-reset").map(|at| {
            let now = Instant::now();
            match at.duration_since(server_now) {
                Ok(ahead) => now + ahead,
                Err(_) => now,
            }
        });
        Some(WindowInfo {
            remaining,
            reset_at,
        })
    }
}

impl RateLimiter {
    pub(crate) fn new() -> RateLimiter {
        RateLimiter::default()
    }

    /// Waits until a request may be sent, then counts it against the window.
    pub(crate) async fn acquire(&self) {
        loop {
            let wait = {
                let mut b = self.lock();
                let now = Instant::now();
                if let Some(until) = b.blocked_until {
                    if now < until {
                        Some(until - now)
                    } else {
                        b.blocked_until = None;
                        None
                    }
                } else {
                    None
                }
                .or_else(|| {
                    if let Some(reset) = b.reset_at
                        && now >= reset
                    {
                        // The window we knew is over; the next answer tells us the new one.
                        b.reset_at = None;
                        b.remaining = None;
                    }
                    match (b.remaining, b.reset_at) {
                        (Some(r), Some(reset)) if r <= 0 => Some(reset - now + RESET_MARGIN),
                        _ => None,
                    }
                })
                .or_else(|| {
                    if let Some(r) = b.remaining.as_mut() {
                        *r -= 1;
                    }
                    None
                })
            };
            match wait {
                Some(d) => {
                    tracing::debug!(wait_ms = d.as_millis() as u64, "pacing for rate limit");
                    tokio::time::sleep(d).await;
                }
                None => return,
            }
        }
    }

    /// Learns the window from a success's headers.
    pub(crate) fn observe(&self, info: WindowInfo) {
        let mut b = self.lock();
        let new_window = match (b.reset_at, info.reset_at) {
            (Some(known), Some(seen)) => seen > known + Duration::from_millis(500),
            (None, _) => true,
            (Some(_), None) => false,
        };
        if new_window {
            b.reset_at = info.reset_at;
            b.remaining = Some(info.remaining);
        } else {
            // Same window: trust whichever is lower; another client may share the token.
            b.remaining = Some(
                b.remaining
                    .map_or(info.remaining, |r| r.min(info.remaining)),
            );
        }
    }

    /// Everyone waits `wait` after a 429.
    pub(crate) fn block_for(&self, wait: Duration) {
        let mut b = self.lock();
        let until = Instant::now() + wait;
        b.blocked_until = Some(b.blocked_until.map_or(until, |u| u.max(until)));
        b.remaining = None;
        b.reset_at = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        // A panic while holding this lock cannot leave the bucket inconsistent in a way that
        // matters more than losing pacing, so recover the guard instead of propagating poison.
        self.bucket.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_for_reset_once_window_is_spent() {
        let l = RateLimiter::new();
        let reset = Instant::now() + Duration::from_secs(2);
        l.observe(WindowInfo {
            remaining: 2,
            reset_at: Some(reset),
        });
        let t0 = tokio::time::Instant::now();
        l.acquire().await;
        l.acquire().await;
        assert!(t0.elapsed() < Duration::from_millis(10));
        l.acquire().await;
        assert!(t0.elapsed() >= Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_blocks_everyone() {
        let l = RateLimiter::new();
        l.block_for(Duration::from_millis(700));
        let t0 = tokio::time::Instant::now();
        l.acquire().await;
        assert!(t0.elapsed() >= Duration::from_millis(700));
    }

    #[test]
    fn reset_is_measured_on_the_servers_clock() {
        // The server's clock is an hour behind ours: the window still ends 30 s from now.
        let server_now = SystemTime::now() - Duration::from_secs(3600);
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", "5".parse().unwrap());
        h.insert("date", httpdate::fmt_http_date(server_now).parse().unwrap());
        h.insert(
            "x-ratelimit-reset",
            httpdate::fmt_http_date(server_now + Duration::from_secs(30))
                .parse()
                .unwrap(),
        );
        let ahead = WindowInfo::from_headers(&h).unwrap().reset_at.unwrap() - Instant::now();
        assert!(ahead > Duration::from_secs(28) && ahead <= Duration::from_secs(30));
    }

    #[test]
    fn reads_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", "41".parse().unwrap());
        h.insert(
            "x-ratelimit-reset",
            httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30))
                .parse()
                .unwrap(),
        );
        let info = WindowInfo::from_headers(&h).unwrap();
        assert_eq!(info.remaining, 41);
        let ahead = info.reset_at.unwrap() - Instant::now();
        assert!(ahead > Duration::from_secs(28) && ahead <= Duration::from_secs(30));
    }
}
