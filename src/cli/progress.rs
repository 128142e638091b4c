//! A progress bar on stderr for long reads (only ever created on a terminal).
//!
//! It appears only once a read has taken a moment (a quick command must not flash a bar), and
//! when the rate limit holds the read back it says so and for how long, instead of standing
//! still with no word of why.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::time::Instant;

use crate::access::Progress;
use crate::segment::{Client, Pacing};

/// A read that ends sooner than this never shows a bar.
const SHOW_AFTER: Duration = Duration::from_millis(300);
/// How often the reason line is brought up to date.
const TICK: Duration = Duration::from_millis(200);
/// Waits shorter than this are not worth a word (each window's probe waits a round trip).
const WORTH_SAYING: Duration = Duration::from_secs(1);
/// A read expected to take longer than this says how long, and what answers sooner.
const LONG_READ: Duration = Duration::from_secs(20);

const ONE_LINE: &str = "{prefix} [{bar:30}] {pos}/{len} requests ({elapsed})";
const TWO_LINES: &str = "{prefix} [{bar:30}] {pos}/{len} requests ({elapsed})\n  {wide_msg}";

pub(super) struct Bar {
    pb: ProgressBar,
    stop: Arc<(Mutex<bool>, Condvar)>,
    ticker: Option<JoinHandle<()>>,
}

impl Bar {
    /// `hint`: what answers sooner, said when the read will be long.
    pub(super) fn new(what: &str, client: Option<Client>, hint: Option<&'static str>) -> Bar {
        let pb = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        pb.set_style(style(ONE_LINE));
        pb.set_prefix(what.to_string());
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let ticker = {
            let (pb, stop) = (pb.clone(), stop.clone());
            std::thread::Builder::new()
                .name("progress".into())
                .spawn(move || tick(&pb, &stop, client.as_ref(), hint))
                .ok()
        };
        Bar { pb, stop, ticker }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// Shows the bar after [`SHOW_AFTER`], then keeps its reason line current until told to stop.
fn tick(
    pb: &ProgressBar,
    stop: &(Mutex<bool>, Condvar),
    client: Option<&Client>,
    hint: Option<&str>,
) {
    let started = std::time::Instant::now();
    let mut shown = false;
    let mut said = None::<String>;
    let (lock, wake) = stop;
    let mut stopped = lock.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let (guard, _) = wake
            .wait_timeout(stopped, TICK)
            .unwrap_or_else(|e| e.into_inner());
        stopped = guard;
        if *stopped {
            return;
        }
        if !shown && started.elapsed() >= SHOW_AFTER {
            pb.set_draw_target(ProgressDrawTarget::stderr());
            shown = true;
        }
        let left = pb.length().unwrap_or(0).saturating_sub(pb.position());
        let reason = client.and_then(|c| reason(&c.pacing(), Instant::now(), left, hint));
        if reason != said {
            match &reason {
                Some(text) => {
                    pb.set_style(style(TWO_LINES));
                    pb.set_message(text.clone());
                }
                None => pb.set_style(style(ONE_LINE)),
            }
            said = reason;
        }
    }
}

/// Why the read is slow, if it is: a wait for the rate limit, and how long the rest will take
/// at the rate the limit allows when that is long (with `hint`, what answers sooner).
fn reason(pacing: &Pacing, now: Instant, left: u64, hint: Option<&str>) -> Option<String> {
    let mut parts = Vec::new();
    let rate = pacing.budget.map(|(limit, window)| {
        let per = match window.as_secs() {
            60 => "a minute".to_string(),
            1 => "a second".to_string(),
            s => format!("per {s} s"),
        };
        (limit, window, format!("{limit} requests {per}"))
    });
    // The rest of the read at the rate the limit allows, when that is long.
    let long = rate
        .as_ref()
        .filter(|r| r.0 > 0)
        .map(|(limit, window, _)| window.mul_f64(left as f64 / *limit as f64))
        .filter(|&expected| expected > LONG_READ);
    if let Some(until) = pacing.waiting_until {
        let wait = until.saturating_duration_since(now);
        if wait >= WORTH_SAYING {
            // The limit's figures only when there is room for them on an 80-column line.
            let limit = rate
                .as_ref()
                .filter(|_| long.is_none())
                .map(|r| format!(" ({})", r.2));
            parts.push(format!(
                "waiting {} s for Segment's rate limit{}",
                wait.as_secs_f64().ceil() as u64,
                limit.unwrap_or_default()
            ));
        }
    }
    if let Some(expected) = long {
        parts.push(format!("about {} left", human(expected)));
        parts.extend(hint.map(str::to_string));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 90 {
        format!("{secs} s")
    } else {
        format!("{} min", secs.div_ceil(60))
    }
}

impl Progress for Bar {
    fn add_work(&self, n: u64) {
        self.pb.inc_length(n);
    }
    fn done(&self, n: u64) {
        self.pb.inc(n);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        // The ticker stops before the bar is cleared, so it cannot draw it again afterwards.
        let (lock, wake) = &*self.stop;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        wake.notify_all();
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        self.pb.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HINT: Option<&str> = Some("--cached is faster");

    fn pacing(wait_ms: Option<u64>, budget: Option<(i64, u64)>, now: Instant) -> Pacing {
        Pacing {
            waiting_until: wait_ms.map(|ms| now + Duration::from_millis(ms)),
            budget: budget.map(|(l, s)| (l, Duration::from_secs(s))),
        }
    }

    #[test]
    fn a_wait_for_the_rate_limit_is_named_with_its_length_and_the_limit() {
        let now = Instant::now();
        let p = pacing(Some(37_200), Some((600, 60)), now);
        assert_eq!(
            reason(&p, now, 100, HINT).as_deref(),
            Some("waiting 38 s for Segment's rate limit (600 requests a minute)")
        );
    }

    #[test]
    fn short_waits_and_quick_reads_say_nothing() {
        let now = Instant::now();
        assert_eq!(
            reason(&pacing(Some(400), Some((600, 60)), now), now, 50, HINT),
            None
        );
        assert_eq!(reason(&pacing(None, None, now), now, 5000, HINT), None);
        // 190 requests at 600 a minute: 19 s, under the threshold.
        assert_eq!(
            reason(&pacing(None, Some((600, 60)), now), now, 190, HINT),
            None
        );
    }

    #[test]
    fn a_long_read_says_how_long_and_what_answers_sooner() {
        let now = Instant::now();
        let p = pacing(Some(5_000), Some((600, 60)), now);
        assert_eq!(
            reason(&p, now, 1435, HINT).as_deref(),
            Some("waiting 5 s for Segment's rate limit; about 3 min left; --cached is faster")
        );
        let p = pacing(None, Some((50, 5)), now);
        assert_eq!(
            reason(&p, now, 300, HINT).as_deref(),
            Some("about 30 s left; --cached is faster")
        );
        // A read the cache cannot answer (a write's, or the cache's own) names no shortcut.
        assert_eq!(
            reason(&p, now, 300, None).as_deref(),
            Some("about 30 s left")
        );
    }
}
