//! `segment-access review import`: the decisions of a filled-in spreadsheet, all or none.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::Args;

use crate::access::review::sheet::{self, Against};
use crate::access::review::{Decision, sha256_hex};

use super::{
    CampaignArg, CliError, Context, ExitCode, ReviewerArg, count, no_reviewer, open, reviewer,
    shown,
};

pub(super) const HELP: &str = "\
Reads a CSV written by `review export` (or `-` for standard input) and checks every row against
the campaign: the campaign id and snapshot SHA-256 must be this campaign's, the item id must be
one of its items, the item columns (principal, role, resource, labels, via) must still say what
that item is, and the decision must be keep, revoke or flag (or empty: no decision yet). One
wrong row refuses the whole file: every wrong row is named by its line, nothing is recorded,
and the exit code is 2. Otherwise the decisions are recorded together, with the reviewer, the
time of the import and the file's SHA-256; rows already recorded as they stand are skipped.

The reviewer of the imported decisions is the one importing (--reviewer, SEGMENT_ACCESS_REVIEWER
or the profile's `reviewer`); a row naming another reviewer is refused, so each reviewer imports
their own decisions.

Examples:
  segment-access review import q1.review.db q1.csv --reviewer ann@example.com
  segment-access review import q1.review.db q1.csv --dry-run";

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub campaign: CampaignArg,
    /// The filled-in CSV (`-`: standard input).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub reviewer: ReviewerArg,
    /// Check the file and say what would be recorded; record nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub(super) fn run(args: ImportArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    let (mut campaign, _) = open(&args.campaign)?;
    campaign.refuse_if_closed()?;
    let stdin = args.file.as_os_str() == "-";
    let bytes = if stdin {
        let mut b = Vec::new();
        ctx.io
            .stdin
            .read_to_end(&mut b)
            .map_err(|e| CliError::usage(format!("cannot read standard input: {e}")))?;
        b
    } else {
        std::fs::read(&args.file)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", shown(&args.file))))?
    };
    let name = if stdin {
        "standard input".to_string()
    } else {
        args.file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| shown(&args.file))
    };
    let text = String::from_utf8(bytes.clone()).map_err(|_| {
        CliError::usage(format!(
            "{name} is not UTF-8 text; save the spreadsheet as CSV UTF-8"
        ))
    })?;
    let who = reviewer(&args.reviewer, ctx)?;
    let items = campaign.items()?;
    let decisions = campaign.decisions()?;
    let outcomes = campaign.outcomes()?;
    let against = Against {
        info: &campaign.info,
        items: &items,
        decisions: &decisions,
        outcomes: &outcomes,
        reviewer: who.as_deref(),
        source: format!("import {name} sha256:{}", sha256_hex(&bytes)),
    };
    let read = sheet::read(&text, &against);
    let import = match read {
        Ok(i) => i,
        Err(bad) => {
            let lines = bad.len();
            if who.is_none() && bad.iter().all(|b| b.message.starts_with("no reviewer")) {
                return Err(no_reviewer());
            }
            for b in &bad {
                let _ = writeln!(ctx.io.err, "{name} line {}: {}", b.line, b.message);
            }
            let mut rows: Vec<u64> = bad.iter().map(|b| b.line).collect();
            rows.dedup();
            let wrong = if rows.len() == lines {
                count(lines, "row")
            } else {
                format!("{} ({})", count(rows.len(), "row"), count(lines, "problem"))
            };
            return Err(CliError::usage(format!(
                "{name}: {wrong} wrong; nothing was imported (fix them and import the file again)"
            )));
        }
    };
    let by = |d: Decision| import.decisions.iter().filter(|x| x.decision == d).count();
    let what = format!(
        "{} (keep {}, revoke {}, flag {}){}; {} unchanged, {} left without a decision",
        count(import.decisions.len(), "decision"),
        by(Decision::Keep),
        by(Decision::Revoke),
        by(Decision::Flag),
        who.as_deref()
            .filter(|_| !import.decisions.is_empty())
            .map(|w| format!(" as reviewer {w}"))
            .unwrap_or_default(),
        count(import.unchanged, "row"),
        count(import.undecided, "row"),
    );
    if args.dry_run {
        ctx.note(&format!("{name} checks out; would record {what}"));
        return Ok(ExitCode::Ok);
    }
    campaign.decide_all(&import.decisions)?;
    ctx.note(&format!("recorded {what} in campaign {}", campaign.info.id));
    Ok(ExitCode::Ok)
}
