//! `segment-access review close`: every decision checked against the live workspace, and the
//! evidence pack.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::access::journal::Journal;
use crate::access::review::campaign::Verified;
use crate::access::review::items::{Item, describe};
use crate::access::review::pack::{self, Evidence};
use crate::access::review::{Decision, now, sha256_hex, verify};
use crate::output::Tabular;

use super::{CampaignArg, CliError, Context, ExitCode, count, open, shown};

pub(super) const HELP: &str = "\
Reads the campaign's people in the live workspace and checks each item: a revoke must be gone,
a kept grant must still be there (if not, it changed since the review); flagged and undecided
items are listed as such. Then writes the evidence pack into a new folder (mode 0700, files
0600): summary.md, items.csv and items.md (every item with its decision, reviewer, time,
comment, the journal entry that carried it out and the verification), decisions.csv (every
decision made, including those changed later), snapshot.db, journal.ndjson (the entries of the
changes) and manifest.sha256 (`sha256sum -c` reads it; so does `review verify`). The campaign is
then closed: read-only.

Refused while items are undecided or revoke decisions have not been applied, unless --force (they
are then listed as such). Prints the items whose verification is a discrepancy, in every
--format; exit 0 when there is none, 1 when there are (the pack is written either way).

Examples:
  segment-access review close q1.review.db --out q1-evidence
  segment-access review close q1.review.db --out q1-evidence --force
  segment-access review verify q1-evidence";

#[derive(Debug, Args)]
pub struct CloseArgs {
    #[command(flatten)]
    pub campaign: CampaignArg,
    /// The folder to write the evidence pack into (new, or empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Close with undecided items or revoke decisions not yet applied (listed as such).
    #[arg(long)]
    pub force: bool,
}

/// An item whose verification needs a person's attention.
#[derive(Debug, Serialize)]
struct Attention {
    item_id: String,
    principal: String,
    access: String,
    decision: String,
    verification: String,
    live: String,
    detail: String,
}

impl Tabular for Attention {
    fn headers() -> Vec<&'static str> {
        vec![
            "ITEM",
            "PRINCIPAL",
            "ACCESS",
            "DECISION",
            "VERIFICATION",
            "DETAIL",
        ]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.item_id.clone(),
            self.principal.clone(),
            self.access.clone(),
            self.decision.clone(),
            self.verification.clone(),
            self.detail.clone(),
        ]
    }

    fn csv_headers() -> Vec<&'static str> {
        vec![
            "item_id",
            "principal",
            "access",
            "decision",
            "verification",
            "live",
            "detail",
        ]
    }

    fn csv_row(&self) -> Vec<String> {
        vec![
            self.item_id.clone(),
            self.principal.clone(),
            self.access.clone(),
            self.decision.clone(),
            self.verification.clone(),
            self.live.clone(),
            self.detail.clone(),
        ]
    }
}

pub(super) async fn run(args: CloseArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    let (mut campaign, snapshot) = open(&args.campaign)?;
    campaign.refuse_if_closed()?;
    let items = campaign.items()?;
    let decisions = campaign.decisions()?;
    let outcomes = campaign.outcomes()?;
    let history = campaign.history()?;
    let undecided = items.len() - decisions.len();
    let unapplied = decisions
        .values()
        .filter(|d| d.decision == Decision::Revoke)
        .filter(|d| !outcomes.get(&d.item_id).is_some_and(|o| o.status.done()))
        .count();
    if (undecided > 0 || unapplied > 0) && !args.force {
        let mut why = Vec::new();
        if undecided > 0 {
            why.push(format!("{} undecided", count(undecided, "item")));
        }
        if unapplied > 0 {
            why.push(format!(
                "{} not carried out",
                count(unapplied, "revoke decision")
            ));
        }
        let mut e = CliError::failure(format!(
            "campaign {} is not finished: {}",
            campaign.info.id,
            why.join(", ")
        ));
        e.hint = Some(format!(
            "decide with `segment-access review {f}` or import a sheet; carry out revokes with `segment-access review apply {f}`; or close anyway with --force (they are listed as such in the pack)",
            f = shown(campaign.path())
        ));
        return Err(e);
    }
    // The folder is checked before the live read, not after.
    if std::fs::read_dir(&args.out).is_ok_and(|mut d| d.next().is_some()) || args.out.is_file() {
        return Err(CliError::usage(format!(
            "{} exists and is not an empty folder; an evidence pack goes into a new folder",
            shown(&args.out)
        )));
    }
    let client = ctx.client().await?;
    let live = verify::read_live(
        &client,
        &items,
        ctx.progress("Verifying against the workspace"),
    )
    .await?;
    if live.workspace_id != campaign.info.workspace_id {
        return Err(CliError::usage(format!(
            "campaign {} reviews workspace {} ({}), but the token's workspace is {}; use that workspace's token (--profile)",
            campaign.info.id,
            campaign.info.workspace(),
            campaign.info.workspace_id,
            live.workspace_id
        )));
    }
    let against = client.base_url().as_str().trim_end_matches('/').to_string();
    let at = now();
    let verified = verify::check(&items, &decisions, &outcomes, &live, &at);

    let wanted: BTreeSet<String> = outcomes
        .values()
        .filter_map(|o| o.journal_entry.clone())
        .collect();
    let (entries, missing) = if wanted.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let journal = Journal::open(ctx.state_dir.as_deref())?.read()?;
        let entries: Vec<_> = journal
            .entries
            .into_iter()
            .filter(|e| wanted.contains(&e.id))
            .collect();
        let missing: Vec<String> = wanted
            .iter()
            .filter(|id| !entries.iter().any(|e| &e.id == *id))
            .cloned()
            .collect();
        (entries, missing)
    };
    for id in &missing {
        ctx.note(&format!(
            "warning: journal entry {id} is not in this machine's journal; the pack names it without its changes"
        ));
    }
    let bytes = std::fs::read(&snapshot)
        .map_err(|e| CliError::failure(format!("cannot read {}: {e}", shown(&snapshot))))?;
    if sha256_hex(&bytes) != campaign.info.snapshot.sha256 {
        return Err(CliError::failure(format!(
            "the snapshot {} changed while the review was closed; nothing was written",
            shown(&snapshot)
        )));
    }
    let evidence = Evidence {
        info: &campaign.info,
        items: &items,
        decisions: &decisions,
        history: &history,
        outcomes: &outcomes,
        verified: &verified,
        entries: &entries,
        missing_entries: &missing,
        snapshot: bytes,
        closed_at: &at,
        verified_against: &against,
    };
    let files = pack::files(&evidence);
    let manifest = pack::write(&args.out, &files)?;
    let pack_path = std::path::absolute(&args.out).unwrap_or(args.out.clone());
    campaign.close(&verified, &shown(&pack_path), &manifest, &at)?;

    let attention = needs_attention(&items, &verified, &decisions);
    let discrepancies = attention.len();
    let n = ctx.print_list(attention)?;
    let by = |r: &str| verified.iter().filter(|v| v.result == r).count();
    ctx.note(&format!(
        "closed campaign {}: {} verified ({} still held as kept, {} verified removed), {}, {} flagged, {} undecided",
        campaign.info.id,
        count(items.len(), "item"),
        by("held"),
        by("removed"),
        count(by("discrepancy"), "discrepancy").replace("discrepancys", "discrepancies"),
        by("flagged"),
        by("undecided"),
    ));
    ctx.note(&format!(
        "evidence pack {}: {} files and manifest.sha256 (its sha256: {manifest}); check with `segment-access review verify {}`",
        shown(&args.out),
        files.len(),
        shown(&args.out)
    ));
    if n > 0 {
        ctx.note(&if discrepancies == 1 {
            "1 discrepancy needs attention: listed above and in the pack's summary.md".to_string()
        } else {
            format!(
                "{discrepancies} discrepancies need attention: listed above and in the pack's summary.md"
            )
        });
        return Ok(ExitCode::Failure);
    }
    Ok(ExitCode::Ok)
}

/// The items whose verification is a discrepancy, in campaign order.
fn needs_attention(
    items: &[Item],
    verified: &[Verified],
    decisions: &HashMap<String, crate::access::review::campaign::Decided>,
) -> Vec<Attention> {
    let by_id: HashMap<&str, &Verified> =
        verified.iter().map(|v| (v.item_id.as_str(), v)).collect();
    items
        .iter()
        .filter_map(|it| {
            let v = by_id.get(it.id.as_str())?;
            (v.result == "discrepancy").then(|| Attention {
                item_id: it.id.clone(),
                principal: it.record.principal.display(),
                access: describe(&it.record),
                decision: decisions
                    .get(&it.id)
                    .map(|d| d.decision.as_str().to_string())
                    .unwrap_or_else(|| "undecided".into()),
                verification: v.result.clone(),
                live: v.live.clone(),
                detail: v.detail.clone(),
            })
        })
        .collect()
}
