//! `segment-access emulator`: run the emulator in the foreground. `src/cli/emulator.rs`
//! re-exports these so the emulator does not depend on the rest of the CLI.

use std::net::SocketAddr;
use std::str::FromStr;

use super::{
    AccessLevel, AuditTrail, DEFAULT_MEMBER_TOKEN, DEFAULT_OWNER_TOKEN, EmulatorConfig,
    EmulatorError, FaultKind, FaultScope, Faults, Latency, RateLimits, Seed, TokenSpec,
};

/// A token given as `owner:VALUE` or `member:VALUE`.
#[derive(Clone)]
pub struct TokenArg(pub TokenSpec);

impl std::fmt::Debug for TokenArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for TokenArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (level, token) = s
            .split_once(':')
            .ok_or_else(|| "expected owner:TOKEN or member:TOKEN".to_string())?;
        let level = match level.to_ascii_lowercase().as_str() {
            "owner" => AccessLevel::Owner,
            "member" => AccessLevel::Member,
            _ => return Err("the level must be owner or member".to_string()),
        };
        if token.is_empty() {
            return Err("the token must not be empty".to_string());
        }
        Ok(TokenArg(TokenSpec {
            token: token.to_string(),
            level,
        }))
    }
}

#[derive(Clone, Debug)]
pub struct FaultKinds(pub Vec<FaultKind>);

impl FromStr for FaultKinds {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .filter(|k| !k.trim().is_empty())
            .map(FaultKind::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(FaultKinds)
    }
}

/// Run a local imitation of the Segment Public API (access management) for tests and demos.
#[derive(clap::Args, Debug, Clone)]
pub struct EmulatorArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Workspace to start with: small, large, users:N, or a JSON seed file.
    #[arg(long, default_value = "small")]
    pub seed: Seed,
    /// Accepted token as owner:VALUE or member:VALUE (repeatable). Default: the two built-in
    /// tokens.
    #[arg(long = "token", value_name = "LEVEL:VALUE")]
    pub tokens: Vec<TokenArg>,
    /// Requests per window per token.
    #[arg(long, default_value_t = 600)]
    pub rate_limit: u32,
    /// Requests per window per token on permission/membership-changing endpoints.
    #[arg(long, default_value_t = 60)]
    pub write_rate_limit: u32,
    /// Rate-limit window in milliseconds.
    #[arg(long, default_value_t = 60_000)]
    pub window_ms: u64,
    /// Fixed delay added to every Segment API answer.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Up to this many extra random milliseconds per answer.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// Fraction of requests that fail (0.0-1.0).
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Kinds of failure to inject: 500, 503, reset, stall (comma-separated).
    #[arg(long, default_value = "500,503,reset")]
    pub fault_kinds: FaultKinds,
    /// Which requests may fail: all, reads or writes.
    #[arg(long, default_value = "all", value_parser = parse_scope)]
    pub fault_scope: FaultScope,
    /// How long a stalled request waits before answering.
    #[arg(long, default_value_t = 30_000)]
    pub stall_ms: u64,
    /// Seed of the fault, jitter and run-time id RNGs.
    #[arg(long, default_value_t = 0)]
    pub rng_seed: u64,
    /// A workspace without the audit trail (not on the Business tier): `GET /audit-events`
    /// answers 404.
    #[arg(long)]
    pub no_audit_trail: bool,
}

fn parse_scope(s: &str) -> Result<FaultScope, String> {
    match s {
        "all" => Ok(FaultScope::All),
        "reads" => Ok(FaultScope::Reads),
        "writes" => Ok(FaultScope::Writes),
        _ => Err("expected all, reads or writes".into()),
    }
}

impl EmulatorArgs {
    pub fn to_config(&self) -> Result<EmulatorConfig, EmulatorError> {
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return Err(EmulatorError::Config(
                "--fault-rate must be between 0 and 1".into(),
            ));
        }
        let mut config = EmulatorConfig {
            seed: self.seed.clone(),
            limits: RateLimits {
                window_ms: self.window_ms.max(1),
                general: self.rate_limit,
                write: self.write_rate_limit,
            },
            latency: Latency {
                fixed_ms: self.latency_ms,
                jitter_ms: self.jitter_ms,
            },
            faults: Faults {
                rate: self.fault_rate,
                kinds: self.fault_kinds.0.clone(),
                stall_ms: self.stall_ms,
                scope: self.fault_scope,
            },
            rng_seed: self.rng_seed,
            audit: AuditTrail {
                enabled: !self.no_audit_trail,
                ..AuditTrail::default()
            },
            ..EmulatorConfig::default()
        };
        if !self.tokens.is_empty() {
            config.tokens = self.tokens.iter().map(|t| t.0.clone()).collect();
        }
        Ok(config)
    }
}

/// Starts the emulator, prints its URL as the first line of stdout, and serves until Ctrl-C
/// or SIGTERM.
pub async fn run(args: EmulatorArgs) -> Result<(), EmulatorError> {
    let config = args.to_config()?;
    let custom_tokens = !args.tokens.is_empty();
    let running = super::start(config, args.addr).await?;
    let url = running.url();
    println!("{url}");
    println!(
        "Segment API emulator listening on {url} (seed: {:?})",
        args.seed
    );
    if custom_tokens {
        println!("Tokens: as given with --token (not printed)");
    } else {
        println!("Owner token:  {DEFAULT_OWNER_TOKEN}");
        println!("Member token: {DEFAULT_MEMBER_TOKEN}");
    }
    if custom_tokens {
        println!("Try: curl -H 'Authorization: Bearer <an owner token you gave>' {url}/");
    } else {
        println!("Try: curl -H 'Authorization: Bearer {DEFAULT_OWNER_TOKEN}' {url}/");
    }
    println!("Control endpoints: {url}/_emulator/state, /_emulator/stats, /_emulator/config");
    println!("Press Ctrl-C to stop.");
    wait_for_signal().await;
    running.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
        match term {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
