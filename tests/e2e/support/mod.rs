//! Shared helpers for the end-to-end tests: a live emulator on loopback, the built binary
//! pointed at it and isolated from the caller's environment, an independent reading of the
//! emulator's state through its control endpoint (`control`), the grant facts that state
//! implies (`facts`), outside tools a test needs (`tools`), and an async client for the tests
//! that speak HTTP to the emulator themselves (`api`).

pub mod api;
mod control;
mod facts;
mod screen;
mod tools;

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use segment_access::emulator::{self, BlockingEmulator, EmulatorConfig};
use serde_json::Value;
use tempfile::TempDir;

pub use control::*;
pub use facts::*;
pub use screen::{Screen, Spec};
pub use tools::have_tool;

pub const OWNER: &str = emulator::DEFAULT_OWNER_TOKEN;
pub const MEMBER: &str = emulator::DEFAULT_MEMBER_TOKEN;

/// The built binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_segment-access");

/// A running emulator for a synchronous test; it stops when dropped.
pub fn start(config: EmulatorConfig) -> BlockingEmulator {
    emulator::spawn_blocking(config).expect("emulator starts")
}

/// An emulator with the small seed and Segment's own limits.
pub fn small() -> BlockingEmulator {
    start(EmulatorConfig::default())
}

/// The binary with a clean environment: only PATH, HOME in the temp dir, and a cache
/// directory of its own, so no colour, config, token hints or another test's cache leak in.
pub fn clean_bin() -> Command {
    static CACHES: AtomicU32 = AtomicU32::new(0);
    let cache = std::env::temp_dir().join(format!(
        "segment-access-test-cache-{}-{}",
        std::process::id(),
        CACHES.fetch_add(1, Ordering::Relaxed)
    ));
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("SEGMENT_ACCESS_CACHE_DIR", cache);
    c
}

/// The binary, pointed at `url` with `token`, isolated from the caller's environment.
pub fn bin(url: &str, token: &str) -> Command {
    let mut c = clean_bin();
    c.env("SEGMENT_API_URL", url)
        .env("SEGMENT_TOKEN", token)
        .env("NO_COLOR", "1");
    c
}

/// The binary for a write command: its journal in `state_dir`, nothing on a terminal.
pub fn writer(emu: &BlockingEmulator, state_dir: &Path) -> Command {
    let mut c = bin(&emu.url(), OWNER);
    c.env("SEGMENT_ACCESS_STATE_DIR", state_dir);
    c
}

/// Stdout of a command that must succeed.
pub fn stdout_of(c: &mut Command) -> String {
    let out = c.output().expect("runs");
    assert!(
        out.status.success(),
        "command failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Exit code, stdout, stderr.
pub fn run(c: &mut Command) -> (Option<i32>, String, String) {
    let o = c.output().expect("runs");
    (
        o.status.code(),
        String::from_utf8(o.stdout).expect("utf-8 stdout"),
        String::from_utf8(o.stderr).expect("utf-8 stderr"),
    )
}

/// The id of the newest journal entry in `state_dir` (each line is one change of an entry).
pub fn last_entry_id(state_dir: &Path) -> String {
    let text = std::fs::read_to_string(state_dir.join("journal.ndjson")).expect("journal");
    let last: Value = serde_json::from_str(text.lines().last().expect("an entry")).expect("json");
    last["entry"].as_str().expect("entry id").to_string()
}

/// Lines in the journal of `state_dir` (one per change that landed); 0 when there is none.
pub fn journal_lines(state_dir: &Path) -> usize {
    std::fs::read_to_string(state_dir.join("journal.ndjson"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// A fresh directory for one test (a journal, snapshots, a config), removed when the guard
/// drops: keep the `TempDir` alive for as long as the test uses the directory.
pub fn temp_dir(name: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("sa-{name}-"))
        .tempdir()
        .expect("temp dir")
}

/// Waits for an event: checks `condition` until it holds or `within` has passed, and says
/// which. A short pause between checks keeps a poll of another process from spinning a core;
/// it returns as soon as the condition holds, so no test waits longer than the event takes.
pub fn wait_until(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A profile name no other test (nor a parallel run) uses, since the OS keyring is shared.
pub fn unique_profile(what: &str) -> String {
    format!(
        "t-{what}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A config directory of a test's own, and the binary pointed at it. Unlike `bin`, the
/// environment is inherited (the OS keyring needs the session's D-Bus address), less the
/// variables that would choose a token, a profile or a server.
pub struct ConfigDir {
    dir: TempDir,
}

impl ConfigDir {
    /// An empty config directory.
    pub fn new() -> ConfigDir {
        ConfigDir {
            dir: temp_dir("config"),
        }
    }

    /// A config directory whose `config.toml` holds `config`.
    pub fn with_config(config: &str) -> ConfigDir {
        let c = ConfigDir::new();
        std::fs::write(c.path().join("config.toml"), config).expect("config");
        c
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env("SEGMENT_ACCESS_CONFIG_DIR", self.path())
            .env_remove("SEGMENT_TOKEN")
            .env_remove("SEGMENT_PROFILE")
            .env_remove("SEGMENT_API_URL")
            .env_remove("SEGMENT_REGION")
            .timeout(std::time::Duration::from_secs(90));
        c
    }

    /// `config.toml`, or nothing when there is none.
    pub fn config_text(&self) -> String {
        std::fs::read_to_string(self.path().join("config.toml")).unwrap_or_default()
    }
}
