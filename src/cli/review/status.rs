//! `segment-access review status`: where a campaign stands.

use std::collections::BTreeMap;

use clap::Args;
use serde::Serialize;

use crate::access::review::Decision;
use crate::access::review::items::{Item, whom};
use crate::output::Tabular;

use super::{CampaignArg, CliError, Context, ExitCode, count, open, shown};

pub(super) const HELP: &str = "\
One row per decision and reviewer with its number of items, and a row for the items still
undecided; in every --format. Notes on stderr say what the campaign covers, how many people
are left, how many revoke decisions were carried out, and whether it is closed.

Examples:
  segment-access review status q1.review.db
  segment-access review status q1.review.db --format json
  segment-access review status q1.review.db --jq '.[] | select(.decision == \"undecided\") | .items'";

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub campaign: CampaignArg,
}

/// How many items have one decision by one reviewer (or are undecided).
#[derive(Debug, Serialize)]
struct CountRow {
    /// keep, revoke, flag or undecided.
    decision: String,
    reviewer: Option<String>,
    items: usize,
}

impl Tabular for CountRow {
    fn headers() -> Vec<&'static str> {
        vec!["DECISION", "REVIEWER", "ITEMS"]
    }

    fn csv_headers() -> Vec<&'static str> {
        vec!["decision", "reviewer", "items"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.decision.clone(),
            self.reviewer.clone().unwrap_or_default(),
            self.items.to_string(),
        ]
    }
}

pub(super) fn run(args: StatusArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    let (campaign, _) = open(&args.campaign)?;
    let items = campaign.items()?;
    let decisions = campaign.decisions()?;
    let outcomes = campaign.outcomes()?;
    let info = &campaign.info;
    let mut counts: BTreeMap<(usize, String), usize> = BTreeMap::new();
    for d in decisions.values() {
        let order = Decision::ALL
            .iter()
            .position(|x| *x == d.decision)
            .unwrap_or(0);
        *counts.entry((order, d.reviewer.clone())).or_default() += 1;
    }
    let mut rows: Vec<CountRow> = counts
        .into_iter()
        .map(|((order, reviewer), items)| CountRow {
            decision: Decision::ALL[order].as_str().to_string(),
            reviewer: Some(reviewer),
            items,
        })
        .collect();
    let left = items.len() - decisions.len();
    rows.push(CountRow {
        decision: "undecided".to_string(),
        reviewer: None,
        items: left,
    });
    ctx.print_list(rows)?;

    ctx.note(&format!(
        "campaign {} ({}): {}, snapshot taken {}, scope {}",
        info.id,
        shown(campaign.path()),
        info.workspace(),
        info.snapshot.taken_at,
        info.scope.describe()
    ));
    let open: Vec<&Item> = items
        .iter()
        .filter(|i| !decisions.contains_key(&i.id))
        .collect();
    let whom_left = if open.is_empty() || open.len() == items.len() {
        String::new()
    } else {
        format!(" ({} with items left)", whom(open))
    };
    ctx.note(&format!(
        "{} of {}: {} decided, {left} left{whom_left}",
        count(items.len(), "item"),
        whom(&items),
        decisions.len(),
    ));
    let preflagged = items.iter().filter(|i| !i.findings.is_empty()).count();
    if info.policy.is_some() {
        ctx.note(&format!(
            "{preflagged} pre-flagged by the policy {}",
            info.policy.as_ref().map(|p| p.path.as_str()).unwrap_or("")
        ));
    }
    let revokes: Vec<&str> = decisions
        .values()
        .filter(|d| d.decision == Decision::Revoke)
        .map(|d| d.item_id.as_str())
        .collect();
    if !revokes.is_empty() {
        let done = revokes
            .iter()
            .filter(|id| outcomes.get(**id).is_some_and(|o| o.status.done()))
            .count();
        let todo = revokes.len() - done;
        let next = if todo > 0 && info.closed.is_none() {
            format!(
                " (carry them out with `segment-access review apply {}`)",
                shown(campaign.path())
            )
        } else {
            String::new()
        };
        ctx.note(&format!(
            "revoke decisions: {done} carried out, {todo} to apply{next}"
        ));
    }
    match &info.closed {
        Some(c) => {
            let verified = campaign.verification()?;
            let by = |r: &str| verified.values().filter(|v| v.result == r).count();
            ctx.note(&format!(
                "closed {} (read-only): {} held as kept, {} verified removed, {}, {} flagged, {} undecided; evidence pack {} (manifest sha256 {})",
                c.at,
                by("held"),
                by("removed"),
                match by("discrepancy") {
                    1 => "1 discrepancy".to_string(),
                    n => format!("{n} discrepancies"),
                },
                by("flagged"),
                by("undecided"),
                c.pack,
                c.manifest_sha256
            ));
        }
        None if left > 0 => ctx.note(&format!(
            "open: decide with `segment-access review {f}` or a sheet (`review export`, `review import`)",
            f = shown(campaign.path())
        )),
        None => ctx.note(&format!(
            "open: every item decided; close with `segment-access review close {} --out DIR`",
            shown(campaign.path())
        )),
    }
    Ok(ExitCode::Ok)
}
