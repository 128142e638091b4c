//! Command-line definitions and the context every command runs in. One file per command; no
//! HTTP here: commands call `access` and hand its answers to `output`.

pub mod auth;
pub mod browse;
pub mod color;
pub mod completions;
mod confirm;
pub mod diff;
pub mod emulator;
pub mod environment;
pub mod error;
pub mod grant;
pub mod invite;
pub mod list;
pub mod man;
mod progress;
mod prompt;
pub mod remove_user;
pub mod report;
pub mod revoke;
pub mod revoke_invite;
pub mod sync;
pub mod undo;

use std::io::{IsTerminal, Read};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::access::Progress;
use crate::output::{Format, Renderer};
use crate::segment::client::{EU_API_URL, US_API_URL};
use crate::segment::{Client, ClientConfig, Token};
pub use color::ColorChoice;

pub use error::{CliError, ExitCode};

/// The version and the commit it was built from (build.rs), e.g. `0.1.0 (3f2a9c1d0e4b)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("SEGMENT_ACCESS_GIT_COMMIT"),
    ")"
);

const ABOUT: &str = "Audit and change who has access to a Segment workspace";

const LONG_ABOUT: &str = "\
Audit and change who has access to a Segment workspace: users, groups, roles, resources and every
grant between them, from a terminal or from scripts.

Start with the built-in demo workspace, no token needed:
  segment-access --demo list grants";

const AFTER_HELP: &str = "\
Examples:
  segment-access --demo list grants
  SEGMENT_TOKEN=... segment-access list grants --user ann@example.com
  segment-access list grants --format ndjson | jq 'select(.via == null)'
  segment-access list grants --role 'Workspace Owner' --jq '.[].principal.email'

Environment variables and files: segment-access help environment
Exit codes: 0 ok, 1 failure, 2 usage error, 3 partial failure in a batch, 4 auth problem.";

const EMULATOR_HELP: &str = "\
The first line of stdout is the base URL; it serves until Ctrl-C. Tokens: emulator-owner-token
(Workspace Owner) and emulator-member-token. More in docs/emulator.md.

Examples:
  segment-access emulator --seed small
  segment-access emulator --addr 127.0.0.1:8080 --fault-rate 0.1 --latency-ms 50
  SEGMENT_TOKEN=emulator-owner-token segment-access --api-url http://127.0.0.1:8080 list users";

#[derive(Debug, Parser)]
#[command(name = "segment-access", version = VERSION, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Named profile of settings to use.
    #[arg(
        long,
        global = true,
        env = "SEGMENT_PROFILE",
        value_name = "NAME",
        add = clap_complete::ArgValueCandidates::new(completions::profile_names)
    )]
    pub profile: Option<String>,

    /// Segment API base URL (https; http only for loopback addresses).
    #[arg(long, global = true, env = "SEGMENT_API_URL", value_name = "URL")]
    pub api_url: Option<String>,

    /// Segment region of the workspace, when --api-url is not given [default: the profile's
    /// region, else us].
    #[arg(long, global = true, env = "SEGMENT_REGION", value_enum)]
    pub region: Option<Region>,

    /// Read the API token from the first line of standard input.
    #[arg(long, global = true)]
    pub token_stdin: bool,

    /// Output format [default: the profile's format, else table].
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,

    /// Shorthand for --format json.
    #[arg(long, global = true, conflicts_with = "format")]
    pub json: bool,

    /// Filter JSON output with a jq expression (run in-process; jq need not be installed).
    #[arg(long, global = true, value_name = "EXPR")]
    pub jq: Option<String>,

    /// More detail on stderr (-v requests, -vv everything).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr: no progress, no notes.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// When to colour output: auto (on a terminal, unless NO_COLOR is set or CLICOLOR_FORCE
    /// forces it), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value_t = ColorChoice::Auto,
        overrides_with = "no_color"
    )]
    pub color: ColorChoice,

    /// Same as --color never.
    #[arg(long, global = true, overrides_with = "color")]
    pub no_color: bool,

    /// Run against a built-in emulator with a sample workspace (no token needed).
    #[arg(long, global = true)]
    pub demo: bool,

    /// Requests in flight at once.
    #[arg(long, global = true, default_value_t = 16, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// Seconds to wait for one answer before retrying.
    #[arg(long, global = true, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
}

impl GlobalArgs {
    /// --color, with --no-color folded in (the later of the two flags wins).
    pub fn color_choice(&self) -> ColorChoice {
        if self.no_color {
            ColorChoice::Never
        } else {
            self.color
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Region {
    Us,
    Eu,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List users, groups, roles, resources, and who holds what.
    List(list::ListArgs),
    /// Run a local Segment API emulator (for tests, demos and scripts).
    #[command(after_help = EMULATOR_HELP)]
    Emulator(emulator::EmulatorArgs),
    /// Log in, out and check: API tokens in the OS keyring, one per profile.
    Auth(auth::AuthArgs),
    /// Bind a role on resources, or add a group member (one principal, or a batch file).
    Grant(grant::GrantArgs),
    /// Remove exactly the named bindings or memberships (one principal, or a batch file).
    Revoke(revoke::RevokeArgs),
    /// Undo a journaled change (the last one by default).
    Undo(undo::UndoArgs),
    /// Invite people by email, optionally with a role.
    Invite(invite::InviteArgs),
    /// Withdraw pending invites (they also leave the groups they were added to).
    RevokeInvite(revoke_invite::RevokeInviteArgs),
    /// Remove users from the workspace, after showing everything they lose.
    RemoveUser(remove_user::RemoveUserArgs),
    /// Interactive audit on a terminal: find a person, group, role or resource, see its
    /// access, and change it.
    Browse(browse::BrowseArgs),
    /// Write a complete snapshot of the workspace's access to an SQLite file.
    Sync(sync::SyncArgs),
    /// Compare two snapshots (or a snapshot and `live`); exit 1 when they differ.
    Diff(diff::DiffArgs),
    /// An access-review sheet from a snapshot: one row per person, every role and its source.
    Report(report::ReportArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = completions::AFTER_HELP)]
    Completions(completions::CompletionsArgs),
    /// Print or write man pages, one per command.
    #[command(after_help = man::AFTER_HELP)]
    Man(man::ManArgs),
    #[command(about = environment::ABOUT, long_about = environment::long_about())]
    Environment(environment::EnvironmentArgs),
}

/// Where commands get their terminal facts, renderer and API client.
pub struct Context {
    pub global: GlobalArgs,
    pub renderer: Renderer,
    pub stdout_tty: bool,
    pub stderr_tty: bool,
    demo: Option<crate::emulator::RunningEmulator>,
}

impl Context {
    pub fn new(global: GlobalArgs) -> Result<Context, CliError> {
        let stdout_tty = std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let colors = color::decide(global.color_choice());
        let format = if global.json {
            Format::Json
        } else {
            match global.format {
                Some(f) => f,
                None => auth::profile_format(&global)?.unwrap_or(Format::Table),
            }
        };
        let renderer = Renderer::new(format, global.jq.as_deref(), stdout_tty, colors.stdout)
            .map_err(|e| CliError::usage(e.to_string()))?;
        Ok(Context {
            global,
            renderer,
            stdout_tty,
            stderr_tty,
            demo: None,
        })
    }

    /// The API URL in force: --demo, --api-url / SEGMENT_API_URL, the profile's api_url,
    /// --region / SEGMENT_REGION, the profile's region, the US.
    pub fn api_url(&self) -> String {
        if let Some(d) = &self.demo {
            return d.url();
        }
        match auth::endpoint(&self.global) {
            auth::Endpoint::Url(u) => u,
            auth::Endpoint::Region(Region::Us) => US_API_URL.to_string(),
            auth::Endpoint::Region(Region::Eu) => EU_API_URL.to_string(),
        }
    }

    /// A client for the workspace, starting the demo emulator first if asked.
    pub async fn client(&mut self) -> Result<Client, CliError> {
        let token = if self.global.demo {
            if self.demo.is_none() {
                let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
                let emu = crate::emulator::start(crate::emulator::EmulatorConfig::default(), addr)
                    .await
                    .map_err(|e| {
                        CliError::failure(format!("cannot start the demo workspace: {e}"))
                    })?;
                self.demo = Some(emu);
            }
            Token::new(crate::emulator::DEFAULT_OWNER_TOKEN)
        } else {
            self.token()?
        };
        let mut cfg = ClientConfig::new(self.api_url(), token);
        cfg.concurrency = self.global.concurrency as usize;
        cfg.timeout = Duration::from_secs(self.global.timeout);
        Client::new(cfg).map_err(CliError::from)
    }

    /// The token: --token-stdin, then SEGMENT_TOKEN, then the profile's OS keyring entry.
    fn token(&self) -> Result<Token, CliError> {
        let mut stdin = std::io::stdin().lock().take(64 * 1024);
        auth::lookup_token(&self.global, &mut stdin).map(|found| found.token)
    }

    /// A progress display on stderr, only on a terminal and without --quiet.
    pub fn progress(&self, what: &str) -> Arc<dyn Progress> {
        if self.stderr_tty && !self.global.quiet {
            Arc::new(progress::Bar::new(what))
        } else {
            Arc::new(crate::access::Quiet)
        }
    }

    /// A note for people on stderr (suppressed by --quiet).
    pub fn note(&self, msg: &str) {
        if !self.global.quiet {
            eprintln!("{msg}");
        }
    }

    pub async fn shutdown(mut self) {
        if let Some(d) = self.demo.take() {
            d.shutdown().await;
        }
    }
}

/// Runs `$module::run(args, &mut ctx)` in a fresh context, then shuts the context down (the
/// demo emulator, if any) whatever the command returned.
macro_rules! in_context {
    ($global:expr, $module:ident, $args:expr) => {{
        let mut ctx = Context::new($global)?;
        let result = $module::run($args, &mut ctx).await;
        ctx.shutdown().await;
        result
    }};
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Emulator(args) => emulator::run(args).await,
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args, cli.global.quiet),
        Command::Environment(args) => environment::run(args),
        Command::Auth(args) => in_context!(cli.global, auth, args),
        Command::List(args) => in_context!(cli.global, list, args),
        Command::Grant(args) => in_context!(cli.global, grant, args),
        Command::Revoke(args) => in_context!(cli.global, revoke, args),
        Command::Undo(args) => in_context!(cli.global, undo, args),
        Command::Invite(args) => in_context!(cli.global, invite, args),
        Command::RevokeInvite(args) => in_context!(cli.global, revoke_invite, args),
        Command::RemoveUser(args) => in_context!(cli.global, remove_user, args),
        Command::Browse(args) => in_context!(cli.global, browse, args),
        Command::Sync(args) => in_context!(cli.global, sync, args),
        Command::Diff(args) => in_context!(cli.global, diff, args),
        Command::Report(args) => in_context!(cli.global, report, args),
    }
}
