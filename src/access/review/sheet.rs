//! The spreadsheet round trip: `review export` writes one row per item with the decision
//! columns empty (or as decided so far); `review import` takes the filled file back, checks every
//! row against the campaign (campaign id, snapshot hash, item id, what the item is) and records
//! the decisions only when no row is wrong.

use std::collections::HashMap;

use serde::Serialize;

use super::Decision;
use super::campaign::{Decided, Info, NewDecision, Outcome};
use super::items::{Item, describe};
use crate::access::record::Principal;

/// The columns of an exported sheet, in order. `decision` and `comment` are the reviewer's to
/// fill; `campaign_id`, `snapshot_sha256` and `item_id` tie a row to its item; `principal`,
/// `role`, `resource`, `labels` and `via` must still say what the item is.
pub(crate) const COLUMNS: [&str; 14] = [
    "campaign_id",
    "snapshot_sha256",
    "item_id",
    "principal",
    "principal_name",
    "role",
    "resource",
    "labels",
    "via",
    "policy",
    "decision",
    "reviewer",
    "comment",
    "decided_at",
];

/// Columns a sheet must have to be imported.
const REQUIRED: [&str; 4] = ["campaign_id", "snapshot_sha256", "item_id", "decision"];
/// Columns that, when present, must still describe the item.
const IDENTITY: [&str; 5] = ["principal", "role", "resource", "labels", "via"];

/// One row of a sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SheetRow {
    pub campaign_id: String,
    pub snapshot_sha256: String,
    pub item_id: String,
    pub principal: String,
    pub principal_name: String,
    pub role: String,
    pub resource: String,
    pub labels: String,
    pub via: String,
    pub policy: String,
    pub decision: String,
    pub reviewer: String,
    pub comment: String,
    pub decided_at: String,
}

impl SheetRow {
    pub(crate) fn new(info: &Info, item: &Item, decided: Option<&Decided>) -> SheetRow {
        let identity = identity(item);
        SheetRow {
            campaign_id: info.id.clone(),
            snapshot_sha256: info.snapshot.sha256.clone(),
            item_id: item.id.clone(),
            principal: identity[0].clone(),
            principal_name: match &item.record.principal {
                Principal::User { name, .. } | Principal::Group { name, .. } => name.clone(),
                Principal::Invite { .. } => String::new(),
            },
            role: identity[1].clone(),
            resource: identity[2].clone(),
            labels: identity[3].clone(),
            via: identity[4].clone(),
            policy: item
                .findings
                .iter()
                .map(|f| f.display())
                .collect::<Vec<_>>()
                .join("; "),
            decision: decided
                .map(|d| d.decision.as_str().to_string())
                .unwrap_or_default(),
            reviewer: decided.map(|d| d.reviewer.clone()).unwrap_or_default(),
            comment: decided.map(|d| d.comment.clone()).unwrap_or_default(),
            decided_at: decided.map(|d| d.decided_at.clone()).unwrap_or_default(),
        }
    }

    /// The row's values, in [`COLUMNS`] order.
    pub(crate) fn values(&self) -> Vec<String> {
        vec![
            self.campaign_id.clone(),
            self.snapshot_sha256.clone(),
            self.item_id.clone(),
            self.principal.clone(),
            self.principal_name.clone(),
            self.role.clone(),
            self.resource.clone(),
            self.labels.clone(),
            self.via.clone(),
            self.policy.clone(),
            self.decision.clone(),
            self.reviewer.clone(),
            self.comment.clone(),
            self.decided_at.clone(),
        ]
    }
}

/// What an item is, as the identity columns spell it: principal, role, resource, labels, via.
fn identity(item: &Item) -> [String; 5] {
    let r = &item.record;
    [
        r.principal.display(),
        r.role.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
        r.resource.display(),
        r.labels_display(),
        match &r.via {
            Some(v) => format!("group:{}", v.name),
            None => "direct".to_string(),
        },
    ]
}

/// A wrong row: its line in the file and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct BadRow {
    pub line: u64,
    pub message: String,
}

/// What a sheet asks to record, once every row checked out.
#[derive(Debug, Default)]
pub(crate) struct Import {
    /// New or changed decisions.
    pub decisions: Vec<NewDecision>,
    /// Rows whose decision and comment are already recorded.
    pub unchanged: usize,
    /// Rows left without a decision.
    pub undecided: usize,
}

/// Everything an import is checked against.
pub(crate) struct Against<'a> {
    pub info: &'a Info,
    pub items: &'a [Item],
    pub decisions: &'a HashMap<String, Decided>,
    pub outcomes: &'a HashMap<String, Outcome>,
    /// Who imports: the reviewer of every decision recorded.
    pub reviewer: Option<&'a str>,
    /// How the decisions are attributed: `import <file> sha256:<hex>`.
    pub source: String,
}

/// Reads a filled sheet. Every row is checked; one wrong row refuses the whole file, and every
/// wrong row is named by its line.
pub(crate) fn read(text: &str, against: &Against<'_>) -> Result<Import, Vec<BadRow>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
        Err(e) => {
            return Err(vec![BadRow {
                line: 1,
                message: format!("not a CSV file: {e}"),
            }]);
        }
    };
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| !headers.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return Err(vec![BadRow {
            line: 1,
            message: format!(
                "the header lacks column(s) {}; import a file written by `review export`",
                missing.join(", ")
            ),
        }]);
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let by_id: HashMap<&str, &Item> = against.items.iter().map(|i| (i.id.as_str(), i)).collect();
    let mut bad: Vec<BadRow> = Vec::new();
    let mut out = Import::default();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for row in reader.records() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                bad.push(BadRow {
                    line,
                    message: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let line = row.position().map(|p| p.line()).unwrap_or(0);
        let cell = |name: &str| {
            col(name)
                .and_then(|i| row.get(i))
                .map(str::trim)
                .unwrap_or("")
                .to_string()
        };
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut problems: Vec<String> = Vec::new();
        let campaign = cell("campaign_id");
        if campaign != against.info.id {
            problems.push(format!(
                "the row is from campaign {:?}, not {}",
                campaign, against.info.id
            ));
        }
        let hash = cell("snapshot_sha256");
        if hash != against.info.snapshot.sha256 {
            problems.push(format!(
                "the row's snapshot_sha256 {:?} is not this campaign's snapshot ({})",
                hash, against.info.snapshot.sha256
            ));
        }
        let id = cell("item_id");
        let item = by_id.get(id.as_str()).copied();
        match item {
            None => problems.push(format!(
                "no item {id:?} in campaign {} (was the id changed?)",
                against.info.id
            )),
            Some(item) => {
                let want = identity(item);
                for (name, expected) in IDENTITY.iter().zip(want.iter()) {
                    if col(name).is_some() && &cell(name) != expected {
                        problems.push(format!(
                            "{name} says {:?} but item {id} is {} ({name} {:?}): do not edit the item columns",
                            cell(name),
                            describe(&item.record),
                            expected
                        ));
                    }
                }
                if let Some(first) = seen.get(&id) {
                    problems.push(format!("item {id} appears again (first on line {first})"));
                } else {
                    seen.insert(id.clone(), line);
                }
            }
        }
        let raw = cell("decision");
        let comment = cell("comment");
        let decision = if raw.is_empty() {
            None
        } else {
            match Decision::parse(&raw) {
                Some(d) => Some(d),
                None => {
                    problems.push(format!(
                        "unknown decision {raw:?}: write keep, revoke or flag (or leave it empty)"
                    ));
                    None
                }
            }
        };
        let recorded = item.and_then(|i| against.decisions.get(&i.id));
        if raw.is_empty() && !comment.is_empty() && recorded.is_none_or(|r| r.comment != comment) {
            problems.push(
                "a comment needs a decision (keep, revoke or flag) in the same row".to_string(),
            );
        }
        if !problems.is_empty() {
            bad.extend(problems.into_iter().map(|message| BadRow { line, message }));
            continue;
        }
        let (Some(item), Some(decision)) = (item, decision) else {
            // A blank decision records nothing: the item stays as it is.
            if recorded.is_some() {
                out.unchanged += 1;
            } else {
                out.undecided += 1;
            }
            continue;
        };
        if recorded.is_some_and(|r| r.decision == decision && r.comment == comment) {
            out.unchanged += 1;
            continue;
        }
        if decision != Decision::Revoke
            && against
                .outcomes
                .get(&item.id)
                .is_some_and(|o| o.status.done())
        {
            bad.push(BadRow {
                line,
                message: format!(
                    "item {} was already revoked by `review apply`; its decision stays revoke",
                    item.id
                ),
            });
            continue;
        }
        let reviewer = match against.reviewer {
            Some(r) => r,
            None => {
                bad.push(BadRow {
                    line,
                    message: "no reviewer: pass --reviewer EMAIL (or set SEGMENT_ACCESS_REVIEWER, or `reviewer` in the profile)".to_string(),
                });
                continue;
            }
        };
        let named = cell("reviewer");
        if !named.is_empty()
            && !named.eq_ignore_ascii_case(reviewer)
            && recorded.is_none_or(|r| !r.reviewer.eq_ignore_ascii_case(&named))
        {
            bad.push(BadRow {
                line,
                message: format!(
                    "the row names reviewer {named:?}, but {reviewer} is importing: each reviewer imports their own decisions"
                ),
            });
            continue;
        }
        out.decisions.push(NewDecision {
            item_id: item.id.clone(),
            decision,
            reviewer: reviewer.to_string(),
            comment,
            source: against.source.clone(),
        });
    }
    if bad.is_empty() {
        Ok(out)
    } else {
        bad.sort_by_key(|b| b.line);
        Err(bad)
    }
}

/// The person an item belongs to, as people read it.
pub(crate) fn person_display(item: &Item) -> String {
    match &item.record.principal {
        Principal::User { email, name, .. } => format!("{email} ({name})"),
        other => other.display(),
    }
}
