//! A local, stateful imitation of the Segment Public API's access-management surface.
//!
//! It serves Segment's paths, envelopes, status codes, pagination, validation and rate limits
//! over real HTTP on loopback, plus knobs for latency and injected faults, so that integration
//! tests, benchmarks and `--demo` exercise the same code paths as a real workspace. It is judged
//! against Segment's OpenAPI document, never against what our own client happens to expect.
//! See `docs/emulator.md` for the knobs, control endpoints and seed file format.

mod audit;
pub mod cli;
mod control;
mod faults;
mod handlers;
mod ids;
mod limits;
mod pagination;
mod query;
mod seed;
mod server;
mod state;
mod time;

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use audit::AuditTrail;
pub use server::{BlockingEmulator, RunningEmulator, spawn_blocking, start};

/// The token the emulator accepts as a Workspace Owner unless configured otherwise.
pub const DEFAULT_OWNER_TOKEN: &str = "emulator-owner-token";
/// The token the emulator accepts as a Workspace Member unless configured otherwise.
pub const DEFAULT_MEMBER_TOKEN: &str = "emulator-member-token";

/// Everything that shapes one emulator instance.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    pub seed: Seed,
    pub tokens: Vec<TokenSpec>,
    pub limits: RateLimits,
    pub latency: Latency,
    pub faults: Faults,
    /// Seeds the RNG behind fault injection, latency jitter and ids of objects created at run
    /// time, so a run can be replayed exactly.
    pub rng_seed: u64,
    /// Whether the audit trail is served (a Business-tier workspace) and recorded.
    pub audit: AuditTrail,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: Seed::Small,
            tokens: vec![
                TokenSpec {
                    token: DEFAULT_OWNER_TOKEN.to_string(),
                    level: AccessLevel::Owner,
                },
                TokenSpec {
                    token: DEFAULT_MEMBER_TOKEN.to_string(),
                    level: AccessLevel::Member,
                },
            ],
            limits: RateLimits::default(),
            latency: Latency::default(),
            faults: Faults::default(),
            rng_seed: 0,
            audit: AuditTrail::default(),
        }
    }
}

/// The workspace the emulator starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seed {
    /// A dozen people, a few groups, every built-in role bound somewhere.
    Small,
    /// 2,000 users, 60 groups, 200 sources: the shape of a big real workspace.
    Large,
    /// Shaped like `Large` but with this many users (for memory and throughput benches).
    Users(usize),
    /// A JSON seed file (format in `docs/emulator.md`).
    File(PathBuf),
}

impl std::str::FromStr for Seed {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "small" => Ok(Seed::Small),
            "large" => Ok(Seed::Large),
            _ => {
                if let Some(n) = s.strip_prefix("users:") {
                    return n
                        .parse::<usize>()
                        .map(Seed::Users)
                        .map_err(|_| format!("invalid user count in seed {s:?}"));
                }
                if s.is_empty() {
                    return Err("empty seed".to_string());
                }
                Ok(Seed::File(PathBuf::from(s)))
            }
        }
    }
}

/// A bearer token the emulator accepts, and what it may do.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSpec {
    pub token: String,
    pub level: AccessLevel,
}

// Tokens must never reach logs or panics, even fake ones: tests grep all output for canaries.
impl std::fmt::Debug for TokenSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSpec")
            .field("token", &"<redacted>")
            .field("level", &self.level)
            .finish()
    }
}

/// Segment's token access levels that matter for access management.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessLevel {
    /// Workspace Owner: reads and changes everything.
    Owner,
    /// Workspace Member: reads the workspace, gets 403 on IAM endpoints.
    Member,
}

/// Fixed-window rate limits, per token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RateLimits {
    /// Window length in milliseconds (Segment: one minute).
    pub window_ms: u64,
    /// Requests per window on every endpoint (Segment: 600).
    pub general: u32,
    /// Requests per window on permission/membership-changing endpoints (Segment: 60).
    pub write: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            window_ms: 60_000,
            general: 600,
            write: 60,
        }
    }
}

/// Added delay before each Segment API answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Latency {
    pub fixed_ms: u64,
    /// Up to this many extra milliseconds, drawn uniformly per request.
    pub jitter_ms: u64,
}

/// Injected failures on Segment API routes (never on `/_emulator/*`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    /// Fraction of requests in scope that fail, 0.0..=1.0.
    pub rate: f64,
    /// Kinds to pick from (uniformly) when a request fails.
    pub kinds: Vec<FaultKind>,
    /// How long a `stall` fault sleeps before answering normally.
    pub stall_ms: u64,
    pub scope: FaultScope,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            rate: 0.0,
            kinds: vec![FaultKind::Http500, FaultKind::Http503, FaultKind::Reset],
            stall_ms: 30_000,
            scope: FaultScope::All,
        }
    }
}

/// One kind of injected failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FaultKind {
    /// HTTP 500 with an error envelope.
    #[serde(rename = "500")]
    Http500,
    /// HTTP 503 with an error envelope.
    #[serde(rename = "503")]
    Http503,
    /// The TCP connection is closed without any response.
    #[serde(rename = "reset")]
    Reset,
    /// The answer is held back for `stall_ms`, then sent normally.
    #[serde(rename = "stall")]
    Stall,
}

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Http500 => "500",
            FaultKind::Http503 => "503",
            FaultKind::Reset => "reset",
            FaultKind::Stall => "stall",
        }
    }
}

impl std::str::FromStr for FaultKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "500" => Ok(FaultKind::Http500),
            "503" => Ok(FaultKind::Http503),
            "reset" => Ok(FaultKind::Reset),
            "stall" => Ok(FaultKind::Stall),
            other => Err(format!(
                "unknown fault kind {other:?} (expected 500, 503, reset or stall)"
            )),
        }
    }
}

/// Which requests faults may hit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultScope {
    #[default]
    All,
    /// GET requests only.
    Reads,
    /// Everything but GET.
    Writes,
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid seed: {0}")]
    Seed(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("emulator runtime failed: {0}")]
    Runtime(String),
}
