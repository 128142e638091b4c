//! `segment-access review verify PACK`: an evidence pack against its manifest.

use std::path::PathBuf;

use clap::Args;

use crate::access::review::Campaign;
use crate::access::review::pack::{self, FileCheck, MANIFEST};
use crate::output::Tabular;

use super::{CliError, Context, ExitCode, count, shown};

pub(super) const HELP: &str = "\
Recomputes the SHA-256 of every file the pack's manifest.sha256 lists and lists each file with
its status: ok, changed, missing, extra (in the folder but not in the manifest) or malformed (a
manifest line that is not `<sha256>  <file>`). Exit 0 when every file is ok, 1 otherwise, naming
what differs. With --campaign, the manifest itself must be the one the campaign recorded when it
closed, so a pack whose manifest was rewritten to match edited files is caught too.
`sha256sum -c manifest.sha256`, run in the pack's folder, checks the same files.

Examples:
  segment-access review verify q1-evidence
  segment-access review verify q1-evidence --campaign q1.review.db
  (cd q1-evidence && sha256sum -c manifest.sha256)";

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The evidence pack's folder (`review close --out`).
    #[arg(value_name = "PACK")]
    pub pack: PathBuf,
    /// The closed campaign the pack came from: its recorded manifest SHA-256 must match.
    #[arg(long, value_name = "REVIEW.db")]
    pub campaign: Option<PathBuf>,
}

impl Tabular for FileCheck {
    fn headers() -> Vec<&'static str> {
        vec!["FILE", "STATUS", "SHA256"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.file.clone(),
            self.status.clone(),
            if self.actual.is_empty() {
                self.expected.clone()
            } else {
                self.actual.clone()
            },
        ]
    }

    fn csv_headers() -> Vec<&'static str> {
        vec!["file", "status", "expected", "actual"]
    }

    fn csv_row(&self) -> Vec<String> {
        vec![
            self.file.clone(),
            self.status.clone(),
            self.expected.clone(),
            self.actual.clone(),
        ]
    }
}

pub(super) fn run(args: VerifyArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    let (checks, manifest_sha) = pack::check(&args.pack)?;
    let bad: Vec<String> = checks
        .iter()
        .filter(|c| !c.ok())
        .map(|c| format!("{} {}", c.file, c.status))
        .collect();
    let files = checks.iter().filter(|c| c.ok()).count();
    ctx.print_list(&checks)?;
    let mut problems = bad;
    if let Some(path) = &args.campaign {
        let campaign = Campaign::open(path)?;
        match &campaign.info.closed {
            None => {
                return Err(CliError::usage(format!(
                    "campaign {} ({}) is not closed; it has no pack to compare with",
                    campaign.info.id,
                    shown(path)
                )));
            }
            Some(c) if c.manifest_sha256 != manifest_sha => problems.push(format!(
                "{MANIFEST} is not the manifest campaign {} recorded when it closed (sha256 {manifest_sha}, recorded {})",
                campaign.info.id, c.manifest_sha256
            )),
            Some(_) => {}
        }
    }
    if !problems.is_empty() {
        return Err(CliError::failure(format!(
            "evidence pack {} does not verify: {}",
            shown(&args.pack),
            problems.join(", ")
        )));
    }
    ctx.note(&format!(
        "evidence pack {} verifies: {} match {MANIFEST} (sha256 {manifest_sha})",
        shown(&args.pack),
        count(files, "file")
    ));
    Ok(ExitCode::Ok)
}
