//! Command-line definitions and the context every command runs in. One file per command; no
//! HTTP here: commands call `access` and hand its answers to `output`.

pub(crate) mod auth;
pub(crate) mod browse;
pub(crate) mod check;
mod choose;
pub(crate) mod color;
pub(crate) mod completions;
mod context;
pub(crate) mod diff;
pub(crate) mod emulator;
pub(crate) mod environment;
pub(crate) mod error;
pub(crate) mod grant;
pub(crate) mod invite;
pub(crate) mod list;
pub(crate) mod list_events;
pub(crate) mod man;
mod progress;
mod prompt;
pub(crate) mod remove_user;
pub(crate) mod report;
pub(crate) mod review;
pub(crate) mod revoke;
pub(crate) mod revoke_invite;
mod roles_arg;
mod signals;
pub(crate) mod sync;
mod terminal;
#[cfg(test)]
mod tests;
pub(crate) mod undo;
mod write;

use std::io::Write;

use clap::{Args, Parser, Subcommand};

use crate::segment::redact::RedactingWriter;

use crate::auth::Region;
use crate::output::Format;
pub(crate) use color::ColorChoice;
pub(crate) use context::{Breadth, Context};

pub(crate) use error::{CliError, ExitCode};

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
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every command takes, shown under their own heading after each command's own flags.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
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
    #[arg(long, short = 'o', global = true, value_enum)]
    pub format: Option<Format>,

    /// Shorthand for --format json.
    #[arg(long, global = true, conflicts_with = "format")]
    pub json: bool,

    /// Filter JSON output with a jq expression (run in-process; jq need not be installed).
    /// Implies --format json; with --format ndjson it runs once per record.
    #[arg(long, global = true, value_name = "EXPR")]
    pub jq: Option<String>,

    /// Tables show every value whole, even wider than the terminal (same as --format wide).
    #[arg(long, global = true)]
    pub wide: bool,

    /// Leave out the header line of tables and CSV.
    #[arg(long, global = true)]
    pub no_headers: bool,

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

    /// Answer read-only questions (list, browse, diff, check) from the profile's cache,
    /// refreshed from the audit trail first: seconds instead of minutes on a large workspace
    /// (docs/snapshots.md). The profile setting `cached = true` makes it the default.
    #[arg(long, global = true, conflicts_with = "live")]
    pub cached: bool,

    /// Read everything from Segment, even where the profile sets `cached = true`.
    #[arg(long, global = true)]
    pub live: bool,

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

/// The commands, in the order help lists them: everyday reading and changing first, then
/// snapshots and checks, then set-up and tooling.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List users, groups, roles, resources, labels, and who holds what.
    List(list::ListArgs),
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
    /// Check the workspace against a policy file of access rules; exit 1 on findings.
    Check(check::CheckArgs),
    /// Access reviews of a snapshot: decide each grant, apply the revokes, close with evidence.
    Review(review::ReviewArgs),
    /// Log in, out and check: API tokens in the OS keyring, one per profile.
    Auth(auth::AuthArgs),
    /// Run a local Segment API emulator (for tests, demos and scripts).
    #[command(after_help = EMULATOR_HELP)]
    Emulator(emulator::EmulatorArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = completions::AFTER_HELP)]
    Completions(completions::CompletionsArgs),
    /// Print or write man pages, one per command.
    #[command(after_help = man::AFTER_HELP)]
    Man(man::ManArgs),
    #[command(about = environment::ABOUT, long_about = environment::long_about())]
    Environment(environment::EnvironmentArgs),
}

/// Runs a parsed command line: the commands that need no workspace at once, the others in a
/// context that is shut down (the demo emulator, if any) whatever they returned.
async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Emulator(args) => emulator::run(args).await,
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args, cli.global.quiet),
        Command::Environment(args) => environment::run(args),
        command => {
            let mut ctx = Context::new(cli.global)?;
            let result = dispatch(command, &mut ctx).await;
            ctx.shutdown().await;
            result
        }
    }
}

/// Runs one command in a context.
async fn dispatch(command: Command, ctx: &mut Context) -> Result<ExitCode, CliError> {
    match command {
        Command::Auth(args) => auth::run(args, ctx).await,
        Command::List(args) => list::run(args, ctx).await,
        Command::Grant(args) => grant::run(args, ctx).await,
        Command::Revoke(args) => revoke::run(args, ctx).await,
        Command::Undo(args) => undo::run(args, ctx).await,
        Command::Invite(args) => invite::run(args, ctx).await,
        Command::RevokeInvite(args) => revoke_invite::run(args, ctx).await,
        Command::RemoveUser(args) => remove_user::run(args, ctx).await,
        Command::Browse(args) => browse::run(args, ctx).await,
        Command::Sync(args) => sync::run(args, ctx).await,
        Command::Diff(args) => diff::run(args, ctx).await,
        Command::Report(args) => report::run(args, ctx).await,
        Command::Check(args) => check::run(args, ctx).await,
        Command::Review(args) => review::run(args, ctx).await,
        Command::Emulator(_)
        | Command::Completions(_)
        | Command::Man(_)
        | Command::Environment(_) => Err(CliError::usage(
            "this command runs without a workspace context",
        )),
    }
}

/// The whole program: parse, run, print the error, exit with its code.
pub fn main() -> std::process::ExitCode {
    // `COMPLETE=$SHELL segment-access` is the shell asking for completions (profile names
    // included); this answers and exits, and is a single environment lookup otherwise.
    clap_complete::CompleteEnv::with_factory(<Cli as clap::CommandFactory>::command).complete();
    // clap answers --help and --version before any runtime or TLS set-up exists.
    let cli = Cli::parse();
    let cli_verbose = cli.global.verbose > 0;
    // A panic message may quote a request; it is redacted like every other output.
    std::panic::set_hook(Box::new(|info| {
        let text = info.to_string();
        eprintln!("{}", crate::segment::redact::redact(&text));
    }));
    let ansi = color::decide(cli.global.color_choice()).stderr;
    init_tracing(cli.global.verbose, cli.global.quiet, ansi);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(cli));
    // Pending requests of a failed command must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(code) => std::process::ExitCode::from(code as u8),
        Err(e) => {
            let mut err = RedactingWriter::new(std::io::stderr().lock());
            if !e.message.is_empty() {
                let _ = writeln!(err, "error: {}", e.message);
            }
            if let Some(hint) = &e.hint {
                let _ = writeln!(err, "hint: {hint}");
            }
            if cli_verbose && let Some(source) = &e.source {
                let _ = writeln!(err, "cause: {source}");
            }
            std::process::ExitCode::from(e.code() as u8)
        }
    }
}

fn init_tracing(verbose: u8, quiet: bool, ansi: bool) {
    let filter = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "warn,segment_access=debug",
        _ => "debug,segment_access=trace",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(|| RedactingWriter::new(std::io::stderr()))
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .try_init();
}
