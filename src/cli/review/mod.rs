//! `segment-access review`: access-review campaigns. `review start` freezes a population from a
//! snapshot; `review REVIEW.db` walks it on a terminal and `review export`/`import` round-trip
//! it through a spreadsheet; `review apply` carries out the revokes; `review close` verifies
//! against the live workspace and writes the evidence pack `review verify` checks.

mod apply;
mod close;
mod export;
mod import;
mod start;
mod status;
mod verify;
mod walk;

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::access::review::campaign::check_snapshot;
use crate::access::review::{Campaign, ReviewError};

use super::{CliError, Context, ExitCode};

const HELP: &str = "\
A review campaign is a file (REVIEW.db) over a frozen snapshot: every grant of a scope, grouped
by person, to be decided keep, revoke or flag by a named reviewer. Decide on a terminal
(`segment-access review REVIEW.db`, one key per decision) or in a spreadsheet (export, fill in,
import), in any mix; every decision is saved as it is made. `review apply` removes what was
decided revoke through the usual plan, confirmation and journal; `review close` checks every
decision against the live workspace and writes an evidence pack with a SHA-256 manifest.
Walk-through: docs/reviews.md.

Examples:
  segment-access sync --out access-2026-q1.db
  segment-access review start --snapshot access-2026-q1.db --out q1.review.db
  segment-access review q1.review.db --reviewer ann@example.com
  segment-access review export q1.review.db --out q1.csv
  segment-access review import q1.review.db q1.csv --reviewer ann@example.com
  segment-access review status q1.review.db
  segment-access review apply q1.review.db
  segment-access review close q1.review.db --out q1-evidence
  segment-access review verify q1-evidence";

#[derive(Debug, Args)]
#[command(
    after_help = HELP,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct ReviewArgs {
    #[command(subcommand)]
    pub cmd: Option<ReviewCommand>,
    #[command(flatten)]
    pub walk: walk::WalkArgs,
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Start a campaign: every grant of a scope in a snapshot, to be decided.
    #[command(after_help = start::HELP)]
    Start(start::StartArgs),
    /// Counts by decision and reviewer, and what is left.
    #[command(after_help = status::HELP)]
    Status(status::StatusArgs),
    /// Write the items as a spreadsheet (CSV) with decision columns to fill in.
    #[command(after_help = export::HELP)]
    Export(export::ExportArgs),
    /// Record the decisions of a filled-in spreadsheet, all or none.
    #[command(after_help = import::HELP)]
    Import(import::ImportArgs),
    /// Carry out the revoke decisions through the plan, confirmation and journal.
    #[command(after_help = apply::HELP)]
    Apply(apply::ApplyArgs),
    /// Verify every decision against the live workspace and write the evidence pack.
    #[command(after_help = close::HELP)]
    Close(close::CloseArgs),
    /// Check an evidence pack against its SHA-256 manifest.
    #[command(after_help = verify::HELP)]
    Verify(verify::VerifyArgs),
}

pub(crate) async fn run(args: ReviewArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    match args.cmd {
        Some(ReviewCommand::Start(a)) => start::run(a, ctx).await,
        Some(ReviewCommand::Status(a)) => status::run(a, ctx),
        Some(ReviewCommand::Export(a)) => export::run(a, ctx),
        Some(ReviewCommand::Import(a)) => import::run(a, ctx),
        Some(ReviewCommand::Apply(a)) => apply::run(a, ctx).await,
        Some(ReviewCommand::Close(a)) => close::run(a, ctx).await,
        Some(ReviewCommand::Verify(a)) => verify::run(a, ctx),
        None => walk::run(args.walk, ctx),
    }
}

/// The campaign file a command works on, and where its snapshot is now.
#[derive(Debug, Args)]
pub struct CampaignArg {
    /// The campaign file `review start` wrote.
    #[arg(value_name = "REVIEW.db")]
    pub campaign: PathBuf,
    /// The campaign's snapshot, when it has moved since `review start` (its SHA-256 must match).
    #[arg(long, value_name = "FILE.db")]
    pub snapshot: Option<PathBuf>,
}

/// Opens a campaign, refusing it when its snapshot is gone or changed.
pub(super) fn open(arg: &CampaignArg) -> Result<(Campaign, PathBuf), CliError> {
    let campaign = Campaign::open(&arg.campaign)?;
    let snapshot = check_snapshot(&campaign.info, arg.snapshot.as_deref())?;
    Ok((campaign, snapshot))
}

/// Who is reviewing: `--reviewer` (or `SEGMENT_ACCESS_REVIEWER`), else the profile's `reviewer`.
#[derive(Debug, Args)]
pub struct ReviewerArg {
    /// The reviewer's email, recorded with every decision [default: the profile's `reviewer`].
    #[arg(long, env = "SEGMENT_ACCESS_REVIEWER", value_name = "EMAIL")]
    pub reviewer: Option<String>,
}

pub(super) fn reviewer(arg: &ReviewerArg, ctx: &Context) -> Result<Option<String>, CliError> {
    let raw = arg
        .reviewer
        .clone()
        .filter(|r| !r.trim().is_empty())
        .or_else(|| ctx.settings.profile_settings().reviewer);
    match raw {
        None => Ok(None),
        Some(r) => crate::access::accounts::check_email(&r)
            .map(Some)
            .map_err(|m| CliError::usage(format!("reviewer: {m}"))),
    }
}

/// The error for a decision that needs a reviewer nobody named.
pub(super) fn no_reviewer() -> CliError {
    let mut e =
        CliError::usage("who is reviewing? decisions are recorded with the reviewer's email");
    e.hint = Some(
        "pass --reviewer EMAIL, set SEGMENT_ACCESS_REVIEWER, or set `reviewer = \"EMAIL\"` in the profile (config.toml)"
            .into(),
    );
    e
}

impl From<ReviewError> for CliError {
    fn from(e: ReviewError) -> CliError {
        match e {
            ReviewError::Usage(m) => CliError::usage(m),
            ReviewError::Refused(m) => CliError::failure(m),
            other => CliError::failure(other.to_string()).with_source(other),
        }
    }
}

/// `N thing(s)` with the right plural.
pub(super) fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// A path as the notes show it.
pub(super) fn shown(p: &Path) -> String {
    p.display().to_string()
}
