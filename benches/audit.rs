//! Full-workspace audit benchmark (docs/performance.md).
//!
//! `cargo bench --bench audit` runs the release binary's `list grants` end to end against the
//! emulator (80 ms per request) in three rate-limit regimes, at `--concurrency` 4, 8, 16, 32
//! and 64:
//! - `600/3s`: the `large` seed (2,000 users), 600 requests per 3-second window;
//! - `50/5s`: the `large` seed, Segment's 600 a minute scaled to a 5-second window (50);
//! - `600/60s`: Segment's real limit on a 300-user workspace (`users:300`).
//!
//! For each it prints requests, 429s, wall time, the floor and wall / floor. The wall time is
//! the time on the network (first request to last answer, from the emulator's `spanMs`) plus
//! local work (start-up, then computing and printing the records). The floor is the local
//! work plus the larger of two lower bounds on the network time: the window arithmetic (full
//! windows needed, plus the round trips the last window's requests take at that concurrency)
//! and the same audit's network time with the limit out of the way (what the concurrency cap
//! and the order of reads allow; measured). Then the
//! sequential comparison (`--concurrency 1`, the existing connector's pattern, limit out of
//! the way), peak memory on 20,000 users and start-up time. All in one run, so the ratios are
//! comparable on a noisy machine.
//!
//! Then the incremental refresh (`sync --update`) on the `large` and `users:2000` seeds: a
//! full sync (limit out of the way), then 1, 10 and 100 changes to distinct users made behind
//! the tool's back, each followed by a refresh at Segment's real limit (600 requests per 60 s):
//! requests and wall time against the full read's.
//!
//! Options (after `--`): `--quick` runs concurrency 16 and 64 only; `--regime NAME`
//! (repeatable) runs only the named regimes. Either skips the sequential baseline.
//! `--refresh` runs only the refresh benchmark.
// Peak memory of the child comes from getrusage(2), which only libc offers.
#![allow(unsafe_code)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use segment_access::emulator::{self, BlockingEmulator, EmulatorConfig, Latency, RateLimits, Seed};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_segment-access");
const LATENCY_MS: u64 = 80;
const DEFAULT_CONCURRENCY: usize = 16;
/// Limits no audit here comes near: the limiter out of the way.
const UNLIMITED: RateLimits = RateLimits {
    window_ms: 60_000,
    general: 10_000_000,
    write: 10_000_000,
};

fn control(
    emu: &BlockingEmulator,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        segment_access::segment::tls::install_provider();
        let mut req = reqwest::Client::new().request(method, format!("{}{path}", emu.url()));
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
            .await
            .expect("control endpoint")
            .json::<Value>()
            .await
            .unwrap_or(Value::Null)
    })
}

/// New limits; every window starts afresh.
fn set_limits(emu: &BlockingEmulator, limits: RateLimits) {
    control(
        emu,
        reqwest::Method::PATCH,
        "/_emulator/config",
        Some(json!({"limits": {
            "windowMs": limits.window_ms,
            "general": limits.general,
            "write": limits.write,
        }})),
    );
}

struct Run {
    wall: Duration,
    /// First request to last answer, as the emulator saw it: the wall time without start-up
    /// and without computing and printing the records.
    span: Duration,
    requests: u64,
    rate_limited: u64,
    records: usize,
}

/// Runs `list grants` against the emulator and reads the emulator's request counters.
fn audit(emu: &BlockingEmulator, concurrency: usize) -> Run {
    control(emu, reqwest::Method::POST, "/_emulator/stats/reset", None);
    let t0 = Instant::now();
    let out = Command::new(BIN)
        .args(["list", "grants", "--format", "ndjson", "--quiet"])
        .args(["--concurrency", &concurrency.to_string()])
        .env("SEGMENT_API_URL", emu.url())
        .env("SEGMENT_TOKEN", emulator::DEFAULT_OWNER_TOKEN)
        .env_remove("SEGMENT_PROFILE")
        .stderr(Stdio::inherit())
        .output()
        .expect("binary runs");
    let wall = t0.elapsed();
    assert!(out.status.success(), "list grants failed");
    let records = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    let stats = control(emu, reqwest::Method::GET, "/_emulator/stats", None);
    Run {
        wall,
        span: Duration::from_millis(stats["spanMs"].as_u64().unwrap_or(0)),
        requests: stats["totalRequests"].as_u64().unwrap_or(0),
        rate_limited: stats["rateLimited"].as_u64().unwrap_or(0),
        records,
    }
}

/// The least time `requests` answered requests can take under `limits` at `concurrency`:
/// the full windows before the last one, plus the round trips the last window's requests take.
fn window_floor(limits: RateLimits, requests: u64, concurrency: usize) -> Duration {
    let per_window = u64::from(limits.general);
    let windows = requests.div_ceil(per_window).max(1);
    let last = requests - (windows - 1) * per_window;
    let round_trips = last.div_ceil(concurrency as u64);
    Duration::from_millis(limits.window_ms * (windows - 1) + LATENCY_MS * round_trips)
}

/// Peak resident memory of the largest child waited for so far, in bytes.
fn children_peak_rss() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a complete `rusage` into the pointer we pass.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    assert_eq!(rc, 0, "getrusage");
    // SAFETY: initialised by the successful call above.
    let usage = unsafe { usage.assume_init() };
    // Linux reports ru_maxrss in KiB.
    usage.ru_maxrss as u64 * 1024
}

/// Peak RSS of `list grants --format ndjson` on a workspace of `users` users.
fn memory(users: usize) -> (u64, usize) {
    let emu = emulator::spawn_blocking(EmulatorConfig {
        seed: Seed::Users(users),
        limits: UNLIMITED,
        ..EmulatorConfig::default()
    })
    .expect("emulator");
    // Nothing else has been waited for yet: the children's peak is this run's.
    let before = children_peak_rss();
    let mut child = Command::new(BIN)
        .args(["list", "grants", "--format", "ndjson", "--quiet"])
        .env("SEGMENT_API_URL", emu.url())
        .env("SEGMENT_TOKEN", emulator::DEFAULT_OWNER_TOKEN)
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let mut lines = 0usize;
    {
        use std::io::BufRead;
        let stdout = child.stdout.take().expect("stdout");
        for line in std::io::BufReader::new(stdout).split(b'\n') {
            line.expect("read");
            lines += 1;
        }
    }
    assert!(child.wait().expect("wait").success());
    let peak = children_peak_rss();
    assert!(peak >= before);
    (peak, lines)
}

/// Mean wall time of `args` over `n` runs.
fn startup(args: &[&str], n: u32) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..n {
        let t0 = Instant::now();
        let st = Command::new(BIN)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .expect("runs");
        total += t0.elapsed();
        assert!(st.success());
    }
    total / n
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

struct Regime {
    name: &'static str,
    what: &'static str,
    seed: Seed,
    limits: RateLimits,
}

fn emulator_for(seed: Seed) -> BlockingEmulator {
    emulator::spawn_blocking(EmulatorConfig {
        seed,
        latency: Latency {
            fixed_ms: LATENCY_MS,
            jitter_ms: 0,
        },
        limits: UNLIMITED,
        ..EmulatorConfig::default()
    })
    .expect("emulator")
}

/// Segment's own limit.
const REAL: RateLimits = RateLimits {
    window_ms: 60_000,
    general: 600,
    write: 60,
};

/// `sync` with `args`; wall time and the requests the emulator answered.
fn sync(emu: &BlockingEmulator, args: &[&str]) -> (Duration, u64, String) {
    control(emu, reqwest::Method::POST, "/_emulator/stats/reset", None);
    let t0 = Instant::now();
    let out = Command::new(BIN)
        .arg("sync")
        .args(args)
        .env("SEGMENT_API_URL", emu.url())
        .env("SEGMENT_TOKEN", emulator::DEFAULT_OWNER_TOKEN)
        .env_remove("SEGMENT_PROFILE")
        .output()
        .expect("binary runs");
    let wall = t0.elapsed();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "sync failed: {err}");
    let stats = control(emu, reqwest::Method::GET, "/_emulator/stats", None);
    (wall, stats["totalRequests"].as_u64().unwrap_or(0), err)
}

/// Refresh after 1, 10 and 100 changes against a full read; whether the target held.
fn refresh_bench() -> bool {
    let dir = std::env::temp_dir().join(format!("sa-bench-refresh-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    println!("incremental refresh (sync --update) at Segment's limit, 600 requests per 60 s");
    println!(
        "  {:<11} {:>7} {:>8} {:>7} {:>10} {:>12} {:>9}",
        "seed", "changes", "requests", "wall s", "full reqs", "full est. s", "fewer"
    );
    let mut ok = true;
    for (name, seed) in [("large", Seed::Large), ("users:2000", Seed::Users(2000))] {
        for n in [1usize, 10, 100] {
            // A workspace of its own per run: the refresh reads the trail from a minute before
            // the snapshot's mark, so changes of an earlier run would count again.
            let emu = emulator_for(seed.clone());
            let file = dir.join(format!("{}-{n}.db", name.replace(':', "-")));
            let file_s = file.to_str().expect("utf-8 path").to_string();
            set_limits(&emu, UNLIMITED);
            let (_, full_requests, _) = sync(&emu, &["--out", &file_s]);
            // At 600 a minute, a full read waits for the windows its requests need.
            let full_windows = full_requests.div_ceil(600).max(1) - 1;
            let st = control(&emu, reqwest::Method::GET, "/_emulator/state", None);
            let users: Vec<String> = st["users"]
                .as_array()
                .expect("users")
                .iter()
                .map(|u| u["id"].as_str().expect("id").to_string())
                .collect();
            // n users' permissions replaced, as someone in Segment's app would.
            for id in users.iter().cycle().take(n) {
                control(
                    &emu,
                    reqwest::Method::PUT,
                    &format!("/_emulator/users/{id}/permissions"),
                    Some(json!({"permissions": []})),
                );
            }
            set_limits(&emu, REAL);
            let (wall, requests, err) = sync(&emu, &["--update", &file_s]);
            assert!(
                err.contains("refreshed from"),
                "a refresh, not a full read: {err}"
            );
            let fewer = full_requests as f64 / requests.max(1) as f64;
            println!(
                "  {:<11} {:>7} {:>8} {:>7.2} {:>10} {:>11}+ {:>8.0}x",
                name,
                n,
                requests,
                wall.as_secs_f64(),
                full_requests,
                full_windows * 60,
                fewer
            );
            if name == "users:2000" && n == 10 {
                ok &= fewer >= 50.0 && wall < Duration::from_secs(2);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "  target: after 10 changes on users:2000, >= 50x fewer requests than a full read and < 2 s: {}",
        verdict(ok)
    );
    ok
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--refresh") {
        refresh_bench();
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let only: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0] == "--regime")
        .map(|w| w[1].as_str())
        .collect();
    let concurrencies: &[usize] = if quick {
        &[16, 64]
    } else {
        &[4, 8, 16, 32, 64]
    };

    // Memory first: getrusage(RUSAGE_CHILDREN) keeps the largest child's peak, so the
    // measured process must be the first one waited for.
    let (peak, lines) = memory(20_000);
    let help = startup(&["--help"], 20);
    let version = startup(&["--version"], 20);

    let regimes = [
        Regime {
            name: "600/3s",
            what: "large seed, 600 requests per 3 s window",
            seed: Seed::Large,
            limits: RateLimits {
                window_ms: 3_000,
                general: 600,
                write: 60,
            },
        },
        Regime {
            name: "50/5s",
            what: "large seed, 600 a minute scaled to a 5 s window: 50 per 5 s",
            seed: Seed::Large,
            limits: RateLimits {
                window_ms: 5_000,
                general: 50,
                write: 5,
            },
        },
        Regime {
            name: "600/60s",
            what: "users:300 seed, Segment's 600 requests per 60 s window",
            seed: Seed::Users(300),
            limits: RateLimits {
                window_ms: 60_000,
                general: 600,
                write: 60,
            },
        },
    ];

    println!("segment-access audit benchmark ({LATENCY_MS} ms per request)");
    for r in &regimes {
        println!("  {:<8} {}", r.name, r.what);
    }
    println!(
        "  {:<8} {:>4} {:>8} {:>5} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "regime",
        "conc",
        "requests",
        "429s",
        "wall s",
        "net s",
        "local s",
        "window",
        "nolimit",
        "floor s",
        "w/floor"
    );
    let mut large_unlimited: Vec<(usize, Run)> = Vec::new();
    let mut missed = 0;
    for r in regimes
        .iter()
        .filter(|r| only.is_empty() || only.contains(&r.name))
    {
        let emu = emulator_for(r.seed.clone());
        let mut records = 0;
        for &c in concurrencies {
            set_limits(&emu, UNLIMITED);
            let free = audit(&emu, c);
            set_limits(&emu, r.limits);
            let run = audit(&emu, c);
            assert_eq!(run.records, free.records, "both runs print the same audit");
            records = run.records;
            let answered = run.requests - run.rate_limited;
            let by_windows = window_floor(r.limits, answered, c);
            // Start-up, and computing and printing the records after the last answer: work
            // no pacing can shorten, part of the wall time and so of the floor.
            let local = run.wall.saturating_sub(run.span);
            let floor = by_windows.max(free.span) + local;
            let ratio = run.wall.as_secs_f64() / floor.as_secs_f64();
            let limited_pct = 100.0 * run.rate_limited as f64 / run.requests.max(1) as f64;
            let ok = ratio <= 1.10
                && limited_pct <= 1.0
                && (c != DEFAULT_CONCURRENCY || run.rate_limited == 0);
            missed += usize::from(!ok);
            println!(
                "  {:<8} {:>4} {:>8} {:>5} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>7.3} {}",
                r.name,
                c,
                run.requests,
                run.rate_limited,
                run.wall.as_secs_f64(),
                run.span.as_secs_f64(),
                local.as_secs_f64(),
                by_windows.as_secs_f64(),
                free.span.as_secs_f64(),
                floor.as_secs_f64(),
                ratio,
                verdict(ok)
            );
            if matches!(r.seed, Seed::Large) && !large_unlimited.iter().any(|(k, _)| *k == c) {
                large_unlimited.push((c, free));
            }
        }
        println!("    ({}: {records} records)", r.name);
    }
    println!(
        "  targets: wall / floor <= 1.10 and 429s <= 1% at every concurrency, no 429 at {DEFAULT_CONCURRENCY}: {}",
        if missed == 0 { "ok" } else { "MISSED" }
    );

    if quick || !only.is_empty() {
        println!("  sequential baseline:    skipped (--quick or --regime)");
    } else {
        let emu = emulator_for(Seed::Large);
        let slow = audit(&emu, 1);
        let fast = match large_unlimited
            .into_iter()
            .find(|(c, _)| *c == DEFAULT_CONCURRENCY)
        {
            Some((_, run)) => run,
            None => audit(&emu, DEFAULT_CONCURRENCY),
        };
        assert_eq!(slow.records, fast.records, "both runs print the same audit");
        let speedup = slow.wall.as_secs_f64() / fast.wall.as_secs_f64();
        println!(
            "  sequential (--concurrency 1, no limit): {:.2} s for {} requests; --concurrency {DEFAULT_CONCURRENCY}: {:.2} s",
            slow.wall.as_secs_f64(),
            slow.requests,
            fast.wall.as_secs_f64()
        );
        println!(
            "  speed-up vs sequential: {speedup:.1}x  target >= 10x: {}",
            verdict(speedup >= 10.0)
        );
    }
    println!(
        "  peak RSS, 20,000 users: {:.1} MiB ({lines} records)  target < 100 MB: {}",
        peak as f64 / (1024.0 * 1024.0),
        verdict(peak < 100_000_000)
    );
    println!(
        "  start-up: --help {:.1} ms, --version {:.1} ms  target < 20 ms: {}",
        help.as_secs_f64() * 1e3,
        version.as_secs_f64() * 1e3,
        verdict(help < Duration::from_millis(20) && version < Duration::from_millis(20))
    );
    if !quick && only.is_empty() {
        refresh_bench();
    }
}
