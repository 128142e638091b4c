//! Full-workspace audit benchmark (docs/performance.md).
//!
//! `cargo bench --bench audit` starts the emulator with the `large` seed, 80 ms per request and
//! Segment's limits scaled up 20x, then runs the release binary's `list grants` end to end:
//! once as shipped, once strictly sequentially (`--concurrency 1`, the existing connector's
//! pattern). It also measures peak memory on a 20,000-user workspace and start-up time.
//! All figures come from one run so their ratios are comparable on a noisy machine.
//!
//! Options (after `--`): `--quick` skips the sequential baseline (about three minutes).
// Peak memory of the child comes from getrusage(2), which only libc offers.
#![allow(unsafe_code)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use segment_access::emulator::{self, BlockingEmulator, EmulatorConfig, Latency, RateLimits, Seed};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_segment-access");
/// Segment's 600 requests a minute, scaled up 20x.
const LIMIT_PER_MINUTE: u32 = 12_000;
const LATENCY_MS: u64 = 80;

fn control(emu: &BlockingEmulator, method: reqwest::Method, path: &str) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        {
            segment_access::segment::tls::install_provider();
            reqwest::Client::new()
        }
        .request(method, format!("{}{path}", emu.url()))
        .send()
        .await
        .expect("control endpoint")
        .json::<Value>()
        .await
        .unwrap_or(Value::Null)
    })
}

struct Run {
    wall: Duration,
    requests: u64,
    rate_limited: u64,
    records: usize,
}

/// Runs `list grants` against the emulator and reads the emulator's request counters.
fn audit(emu: &BlockingEmulator, extra: &[&str]) -> Run {
    control(emu, reqwest::Method::POST, "/_emulator/stats/reset");
    let t0 = Instant::now();
    let out = Command::new(BIN)
        .args(["list", "grants", "--format", "ndjson", "--quiet"])
        .args(extra)
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
    let stats = control(emu, reqwest::Method::GET, "/_emulator/stats");
    Run {
        wall,
        requests: stats["totalRequests"].as_u64().unwrap_or(0),
        rate_limited: stats["rateLimited"].as_u64().unwrap_or(0),
        records,
    }
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
        limits: RateLimits {
            window_ms: 60_000,
            general: 10_000_000,
            write: 10_000_000,
        },
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

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");

    // Memory first: getrusage(RUSAGE_CHILDREN) keeps the largest child's peak, so the
    // measured process must be the first one waited for.
    let (peak, lines) = memory(20_000);

    let help = startup(&["--help"], 20);
    let version = startup(&["--version"], 20);

    let emu = emulator::spawn_blocking(EmulatorConfig {
        seed: Seed::Large,
        latency: Latency {
            fixed_ms: LATENCY_MS,
            jitter_ms: 0,
        },
        limits: RateLimits {
            window_ms: 60_000,
            general: LIMIT_PER_MINUTE,
            write: LIMIT_PER_MINUTE / 10,
        },
        ..EmulatorConfig::default()
    })
    .expect("emulator");

    let fast = audit(&emu, &[]);
    let per_second = f64::from(LIMIT_PER_MINUTE) / 60.0;
    let floor = fast.requests as f64 / per_second;
    let ratio = fast.wall.as_secs_f64() / floor;
    let limited_pct = 100.0 * fast.rate_limited as f64 / fast.requests.max(1) as f64;

    println!("segment-access audit benchmark");
    println!(
        "  emulator: large seed, {LATENCY_MS} ms per request, {LIMIT_PER_MINUTE} requests/min"
    );
    println!("  records printed:        {}", fast.records);
    println!("  requests made:          {}", fast.requests);
    println!(
        "  429s provoked:          {} ({limited_pct:.2}%)  target <= 1%: {}",
        fast.rate_limited,
        verdict(limited_pct <= 1.0)
    );
    println!("  wall time:              {:.2} s", fast.wall.as_secs_f64());
    println!("  rate-limit floor:       {floor:.2} s (requests / limit)");
    println!(
        "  wall / floor:           {ratio:.3}  target <= 1.10: {}",
        verdict(ratio <= 1.10)
    );
    if quick {
        println!("  sequential baseline:    skipped (--quick)");
    } else {
        let slow = audit(&emu, &["--concurrency", "1"]);
        assert_eq!(slow.records, fast.records, "both runs print the same audit");
        let speedup = slow.wall.as_secs_f64() / fast.wall.as_secs_f64();
        println!(
            "  sequential wall time:   {:.2} s ({} requests)",
            slow.wall.as_secs_f64(),
            slow.requests
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
}
