//! End to end: the progress bar on a real 80x24 terminal, held back by the rate limit.

use segment_access::emulator::{EmulatorConfig, RateLimits, Seed};

use crate::support::*;

#[test]
fn a_read_held_back_by_the_rate_limit_says_why_and_how_long_and_ctrl_c_stops_it() {
    // 10 requests per 3 s and 80 users: about 24 s of reading, paced window by window.
    let emu = start(EmulatorConfig {
        seed: Seed::Users(80),
        limits: RateLimits {
            window_ms: 3_000,
            general: 10,
            write: 10,
        },
        ..EmulatorConfig::default()
    });
    let Some(s) = Screen::start_with(
        &emu,
        &Spec {
            width: 80,
            height: 24,
            record: true,
            ..Spec::new("progress", "list grants")
        },
    ) else {
        return;
    };
    s.wait_for("for Segment's rate limit");
    // Line by line as the terminal shows them (a bar line that fills the width would be
    // joined with the next by `text`).
    let screen = s.visible();
    let bar = screen
        .lines()
        .find(|l| l.starts_with("Reading access ["))
        .unwrap_or_else(|| panic!("a progress bar: {screen}"));
    assert!(bar.contains(" requests ("), "{bar}");
    let why = screen
        .lines()
        .find(|l| l.contains("for Segment's rate limit"))
        .expect("a reason line");
    let secs: u64 = why
        .trim()
        .strip_prefix("waiting ")
        .and_then(|w| w.split_once(" s "))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("a wait in seconds: {why:?}"));
    assert!(
        (1..=3).contains(&secs),
        "a wait within one 3 s window: {why}"
    );
    assert!(
        why.contains("left; --cached is faster"),
        "a long read says so: {why}"
    );
    for l in screen.lines() {
        assert!(l.chars().count() <= 80, "{l:?}");
    }
    assert_eq!(
        stats(&emu)["rateLimited"].as_u64().unwrap(),
        0,
        "paced, not refused"
    );
    assert!(
        s.raw().contains("Reading access ["),
        "the recording has the bar"
    );
    s.keys(&["C-c"]);
    let end = s.wait_for("EXITED ");
    assert!(end.contains("EXITED 130"), "{end}");
    assert!(
        !end.contains("PRINCIPAL"),
        "an interrupted read prints no partial answer: {end}"
    );
}

#[test]
fn a_quick_read_draws_no_progress_frame() {
    let emu = small();
    let Some(s) = Screen::start_with(
        &emu,
        &Spec {
            width: 80,
            height: 24,
            record: true,
            ..Spec::new("quick", "list grants")
        },
    ) else {
        return;
    };
    let end = s.wait_for("EXITED ");
    assert!(end.contains("EXITED 0"), "{end}");
    let raw = s.raw();
    assert!(
        raw.contains("PRINCIPAL"),
        "the recording has the answer: {raw}"
    );
    assert!(
        !raw.contains("Reading access") && !raw.contains(" requests ("),
        "a bar was drawn, if only for a moment: {raw:?}"
    );
}
