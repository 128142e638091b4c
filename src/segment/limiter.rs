//! Client-side pacing against Segment's fixed-window rate limits.
//!
//! Segment counts requests per token in fixed windows (600 a minute): a window starts with the
//! first request after the previous one ended, and every answer carries `X-RateLimit-Consumed`,
//! `X-RateLimit-Remaining` and `X-RateLimit-Reset` (a date, to the second). A refused request
//! gets 429 with `msBeforeNext`.
//!
//! The scheme, per bucket:
//! - **Spend a confirmed window's budget at once.** With fixed windows, the fastest schedule
//!   that earns no 429 sends the window's whole budget as soon as it opens and then waits for
//!   the reset; spreading it over the window would make a job that fits in one window take the
//!   whole window, and the last window's requests trickle out instead of going in one round
//!   trip. Every request is counted down from the last `Remaining` seen.
//! - **Know when the window ends, to well under a second.** `X-RateLimit-Reset` only says the
//!   second, so it is used as a bound (`Reset - Date + 1 s` after the answer). The precise bound
//!   comes from the window's first request (`Consumed: 1`): the window started when the server
//!   counted it, before its answer arrived, so it ends at the latest one window length after
//!   that answer. The window length is learned from the same answer: `Reset - Date`, exact in
//!   whole seconds when windows last whole seconds (Segment's last a minute), and corrected
//!   from a 429's millisecond `msBeforeNext` when they do not.
//! - **Never burst into a window nobody has confirmed.** When the budget is spent, everyone
//!   waits for the window's end; then one request (a probe) goes alone, and the rest wait for
//!   its answer, whose `Remaining` is the new window's budget. The same happens at start-up
//!   (nothing known yet) and after a 429. A probe costs one round trip per window.
//! - **A 429 stops everyone** for its `msBeforeNext`, not just the refused request; then a
//!   probe confirms the new window.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Slack added to every predicted reset, for timer and clock granularity.
const RESET_MARGIN: Duration = Duration::from_millis(10);

/// How long the others wait for a probe's answer before sending another probe (a probe that
/// stalls must not stall everyone for the length of its timeout).
const PROBE_PATIENCE: Duration = Duration::from_secs(2);

/// What one answer's headers say about its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WindowInfo {
    pub remaining: i64,
    /// Requests counted in the window so far, this one included; `Some(1)` means this request
    /// opened the window.
    pub consumed: Option<i64>,
    /// `X-RateLimit-Reset` as sent: the same for every answer in one window.
    pub reset: Option<SystemTime>,
    /// How far the reset lay ahead when the answer was written: `Reset - Date` on the server's
    /// clock (whole seconds), or `Reset - now` on ours when the server sends no `Date`.
    pub reset_after: Option<Duration>,
}

impl WindowInfo {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<WindowInfo> {
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<i64>().ok();
        let date = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_date(v.trim()))
        };
        let remaining = number("x-ratelimit-remaining")?;
        let reset = date("x-ratelimit-reset");
        // Measured against the server's own clock (its `Date` header) when it sends one, so a
        // local clock that runs fast or slow cannot make every window look already over.
        let server_now = date("date").unwrap_or_else(SystemTime::now);
        let reset_after = reset.map(|at| at.duration_since(server_now).unwrap_or_default());
        Some(WindowInfo {
            remaining,
            consumed: number("x-ratelimit-consumed"),
            reset,
            reset_after,
        })
    }
}

/// An HTTP date (`Fri, 27 Nov 2026 01:29:48 GMT`), or the RFC 5322 form with a numeric zone
/// (`... 01:29:48 +0000`) that FACTS.md's description of `X-RateLimit-Reset` allows.
fn parse_date(s: &str) -> Option<SystemTime> {
    if let Ok(t) = httpdate::parse_http_date(s) {
        return Some(t);
    }
    let (rest, zone) = s.rsplit_once(' ')?;
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1i64, &zone[1..]),
        b'-' => (-1i64, &zone[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: u64 = digits[..2].parse().ok()?;
    let minutes: u64 = digits[2..].parse().ok()?;
    let offset = Duration::from_secs(hours * 3600 + minutes * 60);
    let local = httpdate::parse_http_date(&format!("{rest} GMT")).ok()?;
    // 01:29:48 +0100 is 00:29:48 GMT.
    if sign > 0 {
        local.checked_sub(offset)
    } else {
        local.checked_add(offset)
    }
}

/// The window requests currently go into, as far as answers have confirmed it.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// Its `X-RateLimit-Reset`, which tells it from the next one (windows of a second or more
    /// never share one).
    id: Option<SystemTime>,
    /// Requests we may still send into it.
    remaining: i64,
    /// It has surely ended by then; `None` when nothing says.
    ends_by: Option<Instant>,
    /// It surely started after this (when its first request was sent), when known.
    started_after: Option<Instant>,
}

#[derive(Debug, Default)]
struct State {
    /// Whole seconds of `Reset - Date` on a window's first answer, the largest seen.
    window_secs: Option<u64>,
    /// How long a window lasts, as far as we can tell (an upper bound once learned).
    window: Option<Duration>,
    /// `window` comes from a 429's `msBeforeNext` (milliseconds), not from whole seconds.
    window_measured: bool,
    current: Option<Window>,
    /// Nobody sends before this instant (set by a 429).
    blocked_until: Option<Instant>,
    /// Probes sent and not yet answered, and when the last one left.
    probes: u32,
    last_probe: Option<Instant>,
    /// Requests sent and not yet answered.
    in_flight: i64,
}

#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    state: Mutex<State>,
    /// Wakes those waiting for a probe's answer.
    probe_answered: Notify,
}

/// Leave to send one request. Report its answer with [`Permit::observed`],
/// [`Permit::limited`] or [`Permit::unmetered`]; dropping it says nothing was learned (a
/// transport error, a 5xx, or a request that was never sent).
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    limiter: &'a RateLimiter,
    sent_at: Instant,
    probe: bool,
    done: bool,
}

enum Wait {
    Until(Instant),
    Probe(Instant),
}

impl RateLimiter {
    pub(crate) fn new() -> RateLimiter {
        RateLimiter::default()
    }

    /// Waits until a request may be sent, then counts it against the window.
    pub(crate) async fn acquire(&self) -> Permit<'_> {
        loop {
            let notified = self.probe_answered.notified();
            tokio::pin!(notified);
            let wait = {
                let mut s = self.lock();
                let now = Instant::now();
                match s.decide(now) {
                    Ok(probe) => {
                        s.in_flight += 1;
                        if probe {
                            s.probes += 1;
                            s.last_probe = Some(now);
                        }
                        return Permit {
                            limiter: self,
                            sent_at: now,
                            probe,
                            done: false,
                        };
                    }
                    Err(Wait::Probe(give_up)) => {
                        // Registered while the lock is held: an answer cannot slip by unseen.
                        notified.as_mut().enable();
                        Wait::Probe(give_up)
                    }
                    Err(w) => w,
                }
            };
            match wait {
                Wait::Until(t) => {
                    tracing::debug!(
                        wait_ms = t.saturating_duration_since(Instant::now()).as_millis() as u64,
                        "pacing for rate limit"
                    );
                    tokio::time::sleep_until(t).await;
                }
                Wait::Probe(give_up) => {
                    tokio::select! {
                        _ = &mut notified => {}
                        _ = tokio::time::sleep_until(give_up) => {}
                    }
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state inconsistent in a way that
        // matters more than losing pacing, so recover the guard instead of propagating poison.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn finish(&self, permit: &Permit<'_>, outcome: Outcome) {
        let mut s = self.lock();
        let now = Instant::now();
        s.in_flight -= 1;
        match outcome {
            Outcome::Observed(info) => s.observe(now, permit.sent_at, permit.probe, info),
            Outcome::Limited(wait) => s.blocked(now, permit.sent_at, permit.probe, wait),
            Outcome::Unmetered => {
                // A server (or an endpoint) that sends no rate-limit headers: nothing to pace
                // by, so do not hold everyone back waiting to learn what will never come.
                if s.current.is_none() {
                    s.current = Some(Window {
                        id: None,
                        remaining: i64::MAX,
                        ends_by: None,
                        started_after: None,
                    });
                }
            }
            Outcome::Nothing => {}
        }
        if permit.probe {
            s.probes = s.probes.saturating_sub(1);
            drop(s);
            self.probe_answered.notify_waiters();
        }
    }
}

enum Outcome {
    Observed(WindowInfo),
    Limited(Duration),
    Unmetered,
    Nothing,
}

impl Permit<'_> {
    /// The request leaves now, not when the permit was granted (it waited for another bucket).
    pub(crate) fn sending(&mut self) {
        let now = Instant::now();
        self.sent_at = now;
        if self.probe {
            self.limiter.lock().last_probe = Some(now);
        }
    }

    /// The request was answered (not 429) with these rate-limit headers.
    pub(crate) fn observed(mut self, info: WindowInfo) {
        self.done = true;
        self.limiter.finish(&self, Outcome::Observed(info));
    }

    /// The request was answered without rate-limit headers.
    pub(crate) fn unmetered(mut self) {
        self.done = true;
        self.limiter.finish(&self, Outcome::Unmetered);
    }

    /// The request was refused with 429: everyone waits `wait`.
    pub(crate) fn limited(mut self, wait: Duration) {
        self.done = true;
        self.limiter.finish(&self, Outcome::Limited(wait));
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.limiter.finish(self, Outcome::Nothing);
        }
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl State {
    /// `Ok(probe)`: send now (alone, as a probe, when `probe`); `Err`: wait.
    fn decide(&mut self, now: Instant) -> Result<bool, Wait> {
        if let Some(until) = self.blocked_until {
            if now < until {
                return Err(Wait::Until(until));
            }
            self.blocked_until = None;
        }
        if let Some(w) = self.current.as_mut()
            && w.remaining > 0
        {
            // Safe even past the window's end: whichever window it lands in has room.
            w.remaining -= 1;
            return Ok(false);
        }
        if self.probes > 0 {
            let give_up = self.last_probe.unwrap_or(now) + PROBE_PATIENCE;
            if now < give_up {
                return Err(Wait::Probe(give_up));
            }
        }
        match self.current {
            Some(Window {
                ends_by: Some(end), ..
            }) if now < end => Err(Wait::Until(end)),
            // Spent and surely over, or nothing known: one request finds out.
            _ => Ok(true),
        }
    }

    fn observe(&mut self, now: Instant, sent_at: Instant, probe: bool, info: WindowInfo) {
        let opened = info.consumed == Some(1);
        if opened && let Some(ahead) = info.reset_after {
            // On the answer to a window's first request, Reset - Date is the window's length
            // in whole seconds (one less if the server's clock ticked in between: keep the
            // largest). A 429 may have taught us a longer one already.
            let secs = ahead.as_secs();
            if self.window_secs.is_none_or(|s| secs > s) {
                self.window_secs = Some(secs);
            }
            let learned = Duration::from_secs(secs);
            let raise = match self.window {
                None => true,
                // A length measured to the millisecond is only outdone by a window that grew.
                Some(w) if self.window_measured => learned > w + Duration::from_secs(1),
                Some(w) => learned > w,
            };
            if raise {
                self.window = Some(learned);
                self.window_measured = false;
            }
        }
        // Upper bounds on this window's end. The header's date is cut to the second; the
        // window's start is known to be before this answer arrived.
        let by_header = info
            .reset_after
            .map(|ahead| now + ahead + Duration::from_secs(1) + RESET_MARGIN);
        let by_start = self
            .window
            .filter(|_| opened)
            .map(|len| now + len + RESET_MARGIN);
        let ends_by = earliest(by_header, by_start);
        let started_after = opened.then_some(sent_at);

        let newer = match (self.current.as_ref().and_then(|w| w.id), info.reset) {
            (Some(known), Some(seen)) if seen < known => return, // an answer from a past window
            (Some(known), Some(seen)) => seen > known,
            _ => self.current.is_none(),
        };
        if newer || probe {
            // A probe went alone: its answer is the truth about the window it landed in, less
            // what the others still in flight (all sent before it) may take.
            self.current = Some(Window {
                id: info.reset,
                remaining: info.remaining - self.in_flight,
                ends_by,
                started_after,
            });
        } else if let Some(w) = self.current.as_mut() {
            // Same window: the server counted this request before later ones of ours, so its
            // `Remaining` can only be higher than our own count; trust whichever is lower.
            w.remaining = w.remaining.min(info.remaining);
            w.ends_by = earliest(w.ends_by, ends_by);
            if started_after.is_some() {
                w.started_after = started_after;
            }
            if w.id.is_none() {
                w.id = info.reset;
            }
        }
    }

    fn blocked(&mut self, now: Instant, sent: Instant, probe: bool, wait: Duration) {
        let until = now + wait + RESET_MARGIN;
        self.blocked_until = Some(self.blocked_until.map_or(until, |u| u.max(until)));
        // A probe sent at the predicted end was refused: the window is longer than we thought.
        // It started before its first request's answer and ends by `until`, which bounds its
        // length, by at most one second more than the headers said.
        if let Some(w) = self.current
            && let (Some(start), Some(ends_by)) = (w.started_after, w.ends_by)
            && probe
            && sent >= ends_by
        {
            let longest = until.saturating_duration_since(start);
            let cap = self
                .window_secs
                .map_or(longest, |s| Duration::from_secs(s + 1));
            let len = longest.min(cap);
            if self.window.is_none_or(|known| len > known) {
                tracing::debug!(
                    window_ms = len.as_millis() as u64,
                    "rate-limit window longer than the headers said"
                );
                self.window = Some(len);
                self.window_measured = true;
            }
        }
        // The window is spent until the server's wait is over; after that, a probe.
        let id = self.current.and_then(|w| w.id);
        self.current = Some(Window {
            id,
            remaining: 0,
            ends_by: Some(until),
            started_after: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn info(remaining: i64, consumed: i64, reset_after_secs: u64, id: u64) -> WindowInfo {
        WindowInfo {
            remaining,
            consumed: Some(consumed),
            reset: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(id)),
            reset_after: Some(Duration::from_secs(reset_after_secs)),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_request_goes_alone() {
        let l = Arc::new(RateLimiter::new());
        let first = l.acquire().await;
        assert!(first.probe);
        let l2 = l.clone();
        let second = tokio::spawn(async move {
            let p = l2.acquire().await;
            (p.probe, Instant::now())
        });
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(!second.is_finished(), "waits for the probe's answer");
        first.observed(info(9, 1, 3, 1_000));
        let (probe, at) = second.await.unwrap();
        assert!(!probe);
        assert!(at.elapsed() < Duration::from_millis(1));
    }

    #[tokio::test(start_paused = true)]
    async fn waits_for_the_end_of_a_spent_window_then_probes() {
        let l = RateLimiter::new();
        let t0 = Instant::now();
        l.acquire().await.observed(info(2, 1, 2, 1_000));
        l.acquire().await.observed(info(1, 2, 2, 1_000));
        l.acquire().await.observed(info(0, 3, 2, 1_000));
        assert!(t0.elapsed() < Duration::from_millis(10));
        let p = l.acquire().await;
        assert!(p.probe, "a spent window is followed by a lone probe");
        let waited = t0.elapsed();
        assert!(
            waited >= Duration::from_secs(2) && waited < Duration::from_millis(2100),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_blocks_everyone_then_a_probe_confirms() {
        let l = RateLimiter::new();
        l.acquire().await.observed(info(5, 1, 3, 1_000));
        let refused = l.acquire().await;
        let other = l.acquire().await;
        refused.limited(Duration::from_millis(700));
        // Another client spent the window: the budget we counted is gone.
        let t0 = Instant::now();
        let p = l.acquire().await;
        assert!(t0.elapsed() >= Duration::from_millis(700));
        assert!(p.probe);
        drop(other);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_lets_another_go() {
        let l = RateLimiter::new();
        let p = l.acquire().await;
        drop(p); // a connection error: nothing learned
        let t0 = Instant::now();
        let p = l.acquire().await;
        assert!(p.probe);
        assert!(t0.elapsed() < Duration::from_millis(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_without_rate_limit_headers_is_not_paced() {
        let l = RateLimiter::new();
        l.acquire().await.unmetered();
        let t0 = Instant::now();
        let permits: Vec<Permit<'_>> =
            futures::future::join_all((0..20).map(|_| l.acquire())).await;
        assert!(permits.iter().all(|p| !p.probe));
        assert!(t0.elapsed() < Duration::from_millis(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_probe_does_not_stall_everyone() {
        let l = RateLimiter::new();
        let _stalled = l.acquire().await;
        let t0 = Instant::now();
        let p = l.acquire().await;
        assert!(p.probe);
        assert_eq!(t0.elapsed(), PROBE_PATIENCE);
    }

    #[test]
    fn reset_is_measured_on_the_servers_clock() {
        // The server's clock is an hour behind ours: the window still ends 30 s from now.
        let server_now = SystemTime::now() - Duration::from_secs(3600);
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", "5".parse().unwrap());
        h.insert("x-ratelimit-consumed", "595".parse().unwrap());
        h.insert("date", httpdate::fmt_http_date(server_now).parse().unwrap());
        h.insert(
            "x-ratelimit-reset",
            httpdate::fmt_http_date(server_now + Duration::from_secs(30))
                .parse()
                .unwrap(),
        );
        let info = WindowInfo::from_headers(&h).unwrap();
        assert_eq!(info.reset_after, Some(Duration::from_secs(30)));
        assert_eq!(info.consumed, Some(595));
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
        assert_eq!(info.consumed, None);
        let ahead = info.reset_after.unwrap();
        assert!(ahead > Duration::from_secs(28) && ahead <= Duration::from_secs(30));
    }

    #[test]
    fn reads_rfc_5322_dates_with_a_numeric_zone() {
        let gmt = parse_date("Fri, 27 Nov 2026 01:29:48 GMT").unwrap();
        assert_eq!(parse_date("Fri, 27 Nov 2026 01:29:48 +0000"), Some(gmt));
        assert_eq!(
            parse_date("Fri, 27 Nov 2026 02:29:48 +0100"),
            Some(gmt),
            "a zone ahead of GMT"
        );
        assert_eq!(
            parse_date("Thu, 26 Nov 2026 20:29:48 -0500"),
            Some(gmt),
            "a zone behind GMT"
        );
        assert_eq!(parse_date("yesterday"), None);
    }

    // ---- a simulated server -------------------------------------------------------------

    /// Segment's limiter as FACTS.md describes it: fixed windows per token that start with the
    /// first request after the previous one ended, headers cut to the second, 429s with the
    /// exact wait.
    struct Server {
        limit: i64,
        window: Duration,
        /// Where in its second the server's clock was at `origin`.
        origin: Instant,
        epoch_offset: Duration,
        start: Option<Instant>,
        consumed: i64,
        /// Requests sent into a spent window.
        refused: u32,
        accepted: u32,
    }

    enum Answer {
        Ok(WindowInfo),
        Refused(Duration),
    }

    impl Server {
        fn clock(&self, at: Instant) -> Duration {
            self.epoch_offset + (at - self.origin)
        }

        fn handle(&mut self, now: Instant) -> Answer {
            if self.start.is_none_or(|s| now >= s + self.window) {
                self.start = Some(now);
                self.consumed = 0;
            }
            let end = self.start.unwrap() + self.window;
            if self.consumed >= self.limit {
                self.refused += 1;
                return Answer::Refused(end - now);
            }
            self.consumed += 1;
            self.accepted += 1;
            // Both dates are written with one-second resolution.
            let date = self.clock(now).as_secs();
            let reset = self.clock(end).as_secs();
            Answer::Ok(WindowInfo {
                remaining: self.limit - self.consumed,
                consumed: Some(self.consumed),
                reset: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(reset)),
                reset_after: Some(Duration::from_secs(reset - date)),
            })
        }
    }

    struct Run {
        wall: Duration,
        refused: u32,
        accepted: u32,
        windows: u32,
    }

    /// `total` requests, `concurrency` at a time, each taking `rtt` (half on the way there),
    /// through one limiter against the simulated server.
    async fn simulate(
        limit: i64,
        window: Duration,
        phase_ms: u64,
        total: usize,
        concurrency: usize,
        rtt: Duration,
    ) -> Run {
        use futures::StreamExt;
        let origin = Instant::now();
        let server = Arc::new(Mutex::new(Server {
            limit,
            window,
            origin,
            epoch_offset: Duration::from_secs(1_800_000_000) + Duration::from_millis(phase_ms),
            start: None,
            consumed: 0,
            refused: 0,
            accepted: 0,
        }));
        let limiter = Arc::new(RateLimiter::new());
        let windows = Arc::new(Mutex::new(0u32));
        futures::stream::iter(0..total)
            .map(|_| {
                let server = server.clone();
                let limiter = limiter.clone();
                let windows = windows.clone();
                async move {
                    // The client's loop: a refused request waits and goes again.
                    loop {
                        let permit = limiter.acquire().await;
                        tokio::time::sleep(rtt / 2).await;
                        let answer = server.lock().unwrap().handle(Instant::now());
                        tokio::time::sleep(rtt / 2).await;
                        match answer {
                            Answer::Ok(info) => {
                                if info.consumed == Some(1) {
                                    *windows.lock().unwrap() += 1;
                                }
                                permit.observed(info);
                                return;
                            }
                            Answer::Refused(wait) => permit.limited(wait),
                        }
                    }
                }
            })
            .buffer_unordered(concurrency)
            .collect::<Vec<()>>()
            .await;
        let s = server.lock().unwrap();
        Run {
            wall: origin.elapsed(),
            refused: s.refused,
            accepted: s.accepted,
            windows: *windows.lock().unwrap(),
        }
    }

    /// Full windows needed, plus the round trips the last window's requests take.
    fn floor(
        limit: i64,
        window: Duration,
        total: usize,
        concurrency: usize,
        rtt: Duration,
    ) -> Duration {
        let limit = limit as usize;
        let windows = total.div_ceil(limit);
        let last = total - (windows - 1) * limit;
        window * (windows as u32 - 1) + rtt * last.div_ceil(concurrency) as u32
    }

    #[tokio::test(start_paused = true)]
    async fn never_sends_into_a_spent_window_and_stays_near_the_floor() {
        let rtt = Duration::from_millis(80);
        // Windows of whole seconds (Segment's is a minute), headers to the second, the server's
        // clock at every phase of its second, at low and high concurrency.
        for (limit, window_s, total) in [(600, 3, 2_166), (50, 5, 400), (20, 1, 130)] {
            let window = Duration::from_secs(window_s);
            for concurrency in [4, 16, 64] {
                for phase_ms in [0, 250, 500, 750, 990] {
                    let run = simulate(limit, window, phase_ms, total, concurrency, rtt).await;
                    let what = format!(
                        "{limit} per {window_s} s, {total} requests, concurrency {concurrency}, phase {phase_ms} ms"
                    );
                    assert_eq!(run.refused, 0, "{what}: a request went into a spent window");
                    assert_eq!(run.accepted as usize, total, "{what}");
                    // Where the limit binds, the wall time is the window arithmetic plus a
                    // probe's round trip per window; where it does not, the concurrency cap.
                    let by_windows = floor(limit, window, total, concurrency, rtt);
                    let by_concurrency = rtt * total.div_ceil(concurrency) as u32;
                    let floor = by_windows.max(by_concurrency);
                    let allowance =
                        ((rtt + RESET_MARGIN * 2) * run.windows + rtt).max(floor.mul_f64(0.10));
                    assert!(
                        run.wall <= floor + allowance,
                        "{what}: {:?} against a floor of {floor:?} ({} windows)",
                        run.wall,
                        run.windows
                    );
                }
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn windows_of_a_fraction_of_a_second_cost_at_most_one_429_to_learn() {
        let rtt = Duration::from_millis(80);
        // 2.5 s: Reset - Date says 2 or 3 depending on where in its second the window started.
        // Told 2, a probe goes half a second early and its 429 measures the window; told 3,
        // every window is waited out up to half a second too long. No phase costs more than
        // one 429 or a quarter over the floor.
        let window = Duration::from_millis(2_500);
        for (limit, total) in [(100, 1_000), (5, 40)] {
            for phase_ms in [0, 300, 600, 900] {
                let run = simulate(limit, window, phase_ms, total, 32, rtt).await;
                assert!(
                    run.refused <= 1,
                    "phase {phase_ms}: {} refused in {} windows",
                    run.refused,
                    run.windows
                );
                let floor = floor(limit, window, total, 32, rtt);
                assert!(
                    run.wall <= floor.mul_f64(1.25),
                    "phase {phase_ms}: {:?} against {floor:?}",
                    run.wall
                );
            }
        }
        // Half a second: shorter than the headers' resolution.
        let run = simulate(10, Duration::from_millis(500), 0, 200, 16, rtt).await;
        assert!(run.refused <= 2, "{} refused", run.refused);
    }
}
