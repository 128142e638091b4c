//! `segment-access review export`: the campaign's items as a spreadsheet to fill in.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::access::review::sheet::{COLUMNS, SheetRow};
use crate::output::{Format, Renderer, Tabular};

use super::{CampaignArg, CliError, Context, ExitCode, count, open, shown};

pub(super) const HELP: &str = "\
One row per item: the campaign id and the snapshot's SHA-256 (so a row from another campaign is
refused on import), the item id, who holds what (principal, role, resource, labels, via), the
policy findings that pre-flag it, and the decision columns: decision (keep, revoke or flag),
reviewer and comment, filled in where a decision was already made. Fill in decision and comment,
leave the other columns as they are, and give the file to `review import`.

CSV unless --format says otherwise (json, ndjson, md, table show the same rows). With --out the
file is written privately (mode 0600): it says who has access to what.

Examples:
  segment-access review export q1.review.db --out q1.csv
  segment-access review export q1.review.db --undecided --out left.csv
  segment-access review export q1.review.db --format json --jq '.[] | select(.policy != \"\")'";

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub campaign: CampaignArg,
    /// Write to this file (mode 0600) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Only the items without a decision.
    #[arg(long)]
    pub undecided: bool,
}

impl Tabular for SheetRow {
    fn headers() -> Vec<&'static str> {
        vec![
            "ITEM",
            "PRINCIPAL",
            "ROLE",
            "RESOURCE",
            "LABELS",
            "VIA",
            "POLICY",
            "DECISION",
            "REVIEWER",
            "COMMENT",
        ]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.item_id.clone(),
            self.principal.clone(),
            if self.role.is_empty() {
                "(member)".to_string()
            } else {
                self.role.clone()
            },
            self.resource.clone(),
            self.labels.clone(),
            self.via.clone(),
            self.policy.clone(),
            self.decision.clone(),
            self.reviewer.clone(),
            self.comment.clone(),
        ]
    }

    fn csv_headers() -> Vec<&'static str> {
        COLUMNS.to_vec()
    }

    fn csv_row(&self) -> Vec<String> {
        self.values()
    }
}

pub(super) fn run(args: ExportArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    let (campaign, _) = open(&args.campaign)?;
    let items = campaign.items()?;
    let decisions = campaign.decisions()?;
    let rows: Vec<SheetRow> = items
        .iter()
        .filter(|i| !args.undecided || !decisions.contains_key(&i.id))
        .map(|i| SheetRow::new(&campaign.info, i, decisions.get(&i.id)))
        .collect();
    // A spreadsheet unless a format was asked for.
    let asked = ctx.global.format.is_some() || ctx.global.json || ctx.global.jq.is_some();
    let csv;
    let renderer = if asked {
        &ctx.renderer
    } else {
        csv = Renderer::new(Format::Csv, None, None, false)?;
        &csv
    };
    let n = rows.len();
    match &args.out {
        Some(path) => {
            let mut buf = Vec::new();
            renderer.list(&mut buf, rows)?;
            crate::files::write_private_atomic(path, &buf)
                .map_err(|e| CliError::failure(format!("cannot write {}: {e}", shown(path))))?;
            ctx.note(&format!(
                "wrote {} of campaign {} to {}; fill in decision (keep, revoke or flag) and comment, then: segment-access review import {} {}",
                count(n, "item"),
                campaign.info.id,
                shown(path),
                shown(campaign.path()),
                shown(path)
            ));
        }
        None => {
            renderer.list(&mut ctx.io.out, rows)?;
            ctx.io.out.flush().map_err(CliError::stdout)?;
        }
    }
    Ok(ExitCode::Ok)
}
