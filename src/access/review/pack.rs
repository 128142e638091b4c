//! The evidence pack `review close` writes, and its check. A pack is a folder (0700) of private
//! files (0600): `summary.md`, `items.csv`, `items.md`, `decisions.csv`, `snapshot.db`,
//! `journal.ndjson`, and `manifest.sha256`, whose lines (`<sha256>  <file>`, as `sha256sum`
//! writes them) cover every other file. It is built under a temporary name and renamed into
//! place when complete, so a pack that exists is whole.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::access::journal::Entry;
use crate::access::record::Principal;

use super::campaign::{Decided, Info, Outcome, Verified};
use super::items::{Item, describe};
use super::{ReviewError, sha256_file, sha256_hex};

pub(crate) const MANIFEST: &str = "manifest.sha256";

/// Everything a pack records.
pub(crate) struct Evidence<'a> {
    pub info: &'a Info,
    pub items: &'a [Item],
    pub decisions: &'a HashMap<String, Decided>,
    pub history: &'a [Decided],
    pub outcomes: &'a HashMap<String, Outcome>,
    pub verified: &'a [Verified],
    /// The journal entries that carried the revokes.
    pub entries: &'a [Entry],
    /// Entries the campaign names that this machine's journal does not hold.
    pub missing_entries: &'a [String],
    pub snapshot: Vec<u8>,
    pub closed_at: &'a str,
    /// Where the live workspace was read for the verification.
    pub verified_against: &'a str,
}

/// The files of a pack, by name (the manifest comes last, from these).
pub(crate) fn files(e: &Evidence<'_>) -> Vec<(String, Vec<u8>)> {
    vec![
        ("summary.md".to_string(), summary(e).into_bytes()),
        ("items.csv".to_string(), items_csv(e)),
        ("items.md".to_string(), items_md(e).into_bytes()),
        ("decisions.csv".to_string(), decisions_csv(e)),
        ("snapshot.db".to_string(), e.snapshot.clone()),
        ("journal.ndjson".to_string(), journal(e)),
    ]
}

/// The columns of `items.csv`, one row per item.
pub(crate) const ITEM_COLUMNS: [&str; 28] = [
    "campaign_id",
    "item_id",
    "principal_type",
    "principal_id",
    "principal_email",
    "principal_name",
    "role_id",
    "role_name",
    "resource_type",
    "resource_id",
    "resource_name",
    "labels",
    "via_group_id",
    "via_group_name",
    "policy",
    "decision",
    "reviewer",
    "decided_at",
    "comment",
    "decision_source",
    "change_status",
    "change_id",
    "changed_at",
    "change_message",
    "verification",
    "live",
    "verification_detail",
    "verified_at",
];

fn items_csv(e: &Evidence<'_>) -> Vec<u8> {
    let verified: HashMap<&str, &Verified> =
        e.verified.iter().map(|v| (v.item_id.as_str(), v)).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(ITEM_COLUMNS);
    for it in e.items {
        let r = &it.record;
        let (pid, pemail, pname) = match &r.principal {
            Principal::User { id, email, name } => (id.clone(), email.clone(), name.clone()),
            Principal::Invite { email } => (String::new(), email.clone(), String::new()),
            Principal::Group { id, name } => (id.clone(), String::new(), name.clone()),
        };
        let d = e.decisions.get(&it.id);
        let o = e.outcomes.get(&it.id);
        let v = verified.get(it.id.as_str());
        let row = [
            e.info.id.clone(),
            it.id.clone(),
            r.principal.kind().to_string(),
            pid,
            pemail,
            pname,
            r.role.as_ref().map(|x| x.id.clone()).unwrap_or_default(),
            r.role.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
            r.resource.kind.as_str().to_string(),
            r.resource.id.clone(),
            r.resource.name.clone().unwrap_or_default(),
            r.labels_display(),
            r.via.as_ref().map(|x| x.id.clone()).unwrap_or_default(),
            r.via.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
            it.findings
                .iter()
                .map(|f| f.display())
                .collect::<Vec<_>>()
                .join("; "),
            d.map(|d| d.decision.as_str().to_string())
                .unwrap_or_else(|| "undecided".into()),
            d.map(|d| d.reviewer.clone()).unwrap_or_default(),
            d.map(|d| d.decided_at.clone()).unwrap_or_default(),
            d.map(|d| d.comment.clone()).unwrap_or_default(),
            d.map(|d| d.source.clone()).unwrap_or_default(),
            o.map(|o| o.status.as_str().to_string()).unwrap_or_default(),
            o.and_then(|o| o.journal_entry.clone()).unwrap_or_default(),
            o.map(|o| o.at.clone()).unwrap_or_default(),
            o.map(|o| o.message.clone()).unwrap_or_default(),
            v.map(|v| v.result.clone()).unwrap_or_default(),
            v.map(|v| v.live.clone()).unwrap_or_default(),
            v.map(|v| v.detail.clone()).unwrap_or_default(),
            v.map(|v| v.checked_at.clone()).unwrap_or_default(),
        ];
        let _ = w.write_record(&row);
    }
    w.into_inner().unwrap_or_default()
}

fn decisions_csv(e: &Evidence<'_>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "seq",
        "item_id",
        "decision",
        "reviewer",
        "decided_at",
        "comment",
        "source",
        "current",
    ]);
    for d in e.history {
        let current = e.decisions.get(&d.item_id).is_some_and(|c| c.seq == d.seq);
        let _ = w.write_record([
            d.seq.to_string(),
            d.item_id.clone(),
            d.decision.as_str().to_string(),
            d.reviewer.clone(),
            d.decided_at.clone(),
            d.comment.clone(),
            d.source.clone(),
            if current { "yes" } else { "no" }.to_string(),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

fn journal(e: &Evidence<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in e.entries {
        if let Ok(line) = serde_json::to_vec(entry) {
            out.extend(line);
            out.push(b'\n');
        }
    }
    out
}

/// A Markdown table cell: pipes and line breaks would break the table.
fn md(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn md_row(out: &mut String, cells: &[String]) {
    let cells: Vec<String> = cells.iter().map(|c| md(c)).collect();
    let _ = writeln!(out, "| {} |", cells.join(" | "));
}

fn items_md(e: &Evidence<'_>) -> String {
    let verified: HashMap<&str, &Verified> =
        e.verified.iter().map(|v| (v.item_id.as_str(), v)).collect();
    let mut out = format!(
        "# Access review {}: items\n\nWorkspace {}; population: snapshot taken {}; scope: {}.\n\n",
        e.info.id,
        e.info.workspace(),
        e.info.snapshot.taken_at,
        e.info.scope.describe()
    );
    let head = [
        "item",
        "principal",
        "access",
        "decision",
        "reviewer",
        "decided at",
        "comment",
        "change",
        "verification",
    ];
    md_row(&mut out, &head.map(String::from));
    md_row(&mut out, &head.map(|_| "---".to_string()));
    for it in e.items {
        let d = e.decisions.get(&it.id);
        let o = e.outcomes.get(&it.id);
        let v = verified.get(it.id.as_str());
        let change = match o {
            Some(o) => match &o.journal_entry {
                Some(j) => format!("{} ({j})", o.status.as_str()),
                None => o.status.as_str().to_string(),
            },
            None => String::new(),
        };
        md_row(
            &mut out,
            &[
                it.id.clone(),
                it.record.principal.display(),
                describe(&it.record),
                d.map(|d| d.decision.as_str().to_string())
                    .unwrap_or_else(|| "undecided".into()),
                d.map(|d| d.reviewer.clone()).unwrap_or_default(),
                d.map(|d| d.decided_at.clone()).unwrap_or_default(),
                d.map(|d| d.comment.clone()).unwrap_or_default(),
                change,
                v.map(|v| format!("{}: {}", v.result, v.detail))
                    .unwrap_or_default(),
            ],
        );
    }
    out
}

fn summary(e: &Evidence<'_>) -> String {
    let i = e.info;
    let mut out = format!("# Access review {}: evidence\n\n", i.id);
    let decided_times: Vec<&str> = e.history.iter().map(|d| d.decided_at.as_str()).collect();
    let first = decided_times.iter().min().copied().unwrap_or("(none)");
    let last = decided_times.iter().max().copied().unwrap_or("(none)");
    let facts: Vec<(&str, String)> = vec![
        (
            "Workspace",
            format!(
                "{} (slug {}, id {})",
                i.workspace_name, i.workspace_slug, i.workspace_id
            ),
        ),
        ("Segment API", i.api_url.clone()),
        (
            "Population",
            format!(
                "every grant of the scope in snapshot.db, taken {} (sha256 {}, {} bytes, written by segment-access {})",
                i.snapshot.taken_at, i.snapshot.sha256, i.snapshot.bytes, i.snapshot.tool_version
            ),
        ),
        ("Scope", i.scope.describe()),
        (
            "Items",
            format!(
                "{} grants (direct, through groups, memberships) of {}",
                e.items.len(),
                super::items::whom(e.items)
            ),
        ),
        (
            "Policy",
            match &i.policy {
                Some(p) => format!(
                    "{} (sha256 {}): items its findings name are pre-flagged",
                    p.path, p.sha256
                ),
                None => "none".to_string(),
            },
        ),
        ("Campaign started", i.created_at.clone()),
        ("Decisions made", format!("{first} to {last}")),
        (
            "Closed",
            format!(
                "{} (every item verified against the live workspace at {})",
                e.closed_at, e.verified_against
            ),
        ),
        ("Tool", format!("segment-access {}", i.tool_version)),
    ];
    md_row(&mut out, &["Campaign".into(), i.id.clone()]);
    md_row(&mut out, &["---".into(), "---".into()]);
    for (k, v) in facts {
        md_row(&mut out, &[k.to_string(), v]);
    }

    // Counts by decision, with what the verification found.
    let verified: HashMap<&str, &Verified> =
        e.verified.iter().map(|v| (v.item_id.as_str(), v)).collect();
    let mut by: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for it in e.items {
        let d = e
            .decisions
            .get(&it.id)
            .map(|d| d.decision.as_str())
            .unwrap_or("undecided");
        let slot = by.entry(d).or_default();
        slot.0 += 1;
        match verified.get(it.id.as_str()).map(|v| v.result.as_str()) {
            Some("held" | "removed") => slot.1 += 1,
            Some("discrepancy") => slot.2 += 1,
            _ => {}
        }
    }
    out.push_str("\n## Decisions and verification\n\n");
    md_row(
        &mut out,
        &["decision", "items", "verified", "discrepancies"].map(String::from),
    );
    md_row(&mut out, &["---"; 4].map(String::from));
    for d in ["keep", "revoke", "flag", "undecided"] {
        let (n, ok, bad) = by.get(d).copied().unwrap_or_default();
        let ok = if matches!(d, "keep" | "revoke") {
            ok.to_string()
        } else {
            "-".to_string()
        };
        md_row(
            &mut out,
            &[d.to_string(), n.to_string(), ok, bad.to_string()],
        );
    }

    // Reviewers, by their current decisions.
    let mut reviewers: BTreeMap<&str, (usize, &str, &str)> = BTreeMap::new();
    for d in e.decisions.values() {
        let r = reviewers.entry(d.reviewer.as_str()).or_insert((
            0,
            d.decided_at.as_str(),
            d.decided_at.as_str(),
        ));
        r.0 += 1;
        r.1 = r.1.min(d.decided_at.as_str());
        r.2 = r.2.max(d.decided_at.as_str());
    }
    out.push_str("\n## Reviewers\n\n");
    md_row(
        &mut out,
        &["reviewer", "decisions", "first", "last"].map(String::from),
    );
    md_row(&mut out, &["---"; 4].map(String::from));
    for (who, (n, first, last)) in &reviewers {
        md_row(
            &mut out,
            &[
                who.to_string(),
                n.to_string(),
                first.to_string(),
                last.to_string(),
            ],
        );
    }
    if reviewers.is_empty() {
        out.push_str("\nNo decisions were made.\n");
    }

    // What needs a person's attention.
    let by_id: HashMap<&str, &Item> = e.items.iter().map(|x| (x.id.as_str(), x)).collect();
    let listed = |result: &str| -> Vec<String> {
        e.verified
            .iter()
            .filter(|v| v.result == result)
            .filter_map(|v| {
                by_id.get(v.item_id.as_str()).map(|it| {
                    format!(
                        "- `{}` {}: {} — {}",
                        it.id,
                        it.record.principal.display(),
                        describe(&it.record),
                        v.detail
                    )
                })
            })
            .collect()
    };
    if i.policy.is_some() {
        out.push_str("\n## Pre-flagged by the policy\n\n");
        let flagged: Vec<&Item> = e.items.iter().filter(|x| !x.findings.is_empty()).collect();
        if flagged.is_empty() {
            out.push_str("None: no finding of the policy names an item.\n");
        }
        for it in flagged {
            let d = e.decisions.get(&it.id);
            let decided = match d {
                Some(d) if d.comment.is_empty() => {
                    format!("{} by {}", d.decision.as_str(), d.reviewer)
                }
                Some(d) => format!("{} by {} ({})", d.decision.as_str(), d.reviewer, d.comment),
                None => "undecided".to_string(),
            };
            let findings: Vec<String> = it.findings.iter().map(|f| f.display()).collect();
            let _ = writeln!(
                out,
                "- `{}` {}: {} — {}; decided: {decided}",
                it.id,
                it.record.principal.display(),
                describe(&it.record),
                findings.join("; ")
            );
        }
    }
    for (title, result, none) in [
        (
            "Discrepancies",
            "discrepancy",
            "None: every revoke was verified absent and every kept grant still holds.",
        ),
        ("Flagged for follow-up", "flagged", "None."),
        ("Undecided", "undecided", "None."),
    ] {
        let _ = write!(out, "\n## {title}\n\n");
        let lines = listed(result);
        if lines.is_empty() {
            let _ = writeln!(out, "{none}");
        } else {
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
        }
    }

    out.push_str("\n## Changes carried out\n\n");
    if e.entries.is_empty() && e.missing_entries.is_empty() {
        out.push_str("None.\n");
    }
    for entry in e.entries {
        let carried = e
            .outcomes
            .values()
            .filter(|o| o.journal_entry.as_deref() == Some(entry.id.as_str()))
            .count();
        let _ = writeln!(
            out,
            "- journal entry `{}` ({}, `{}`): {} change(s), carrying out {carried} revoke decision(s)",
            entry.id,
            entry.time,
            entry.command,
            entry.changes.len()
        );
    }
    for id in e.missing_entries {
        let _ = writeln!(
            out,
            "- journal entry `{id}`: not in the journal of the machine that closed the review"
        );
    }

    out.push_str(&format!(
        "\n## Files\n\n\
         - `items.csv`, `items.md`: every item with its decision, reviewer, time, comment, the change that carried it out and the verification\n\
         - `decisions.csv`: every decision recorded, including those later changed\n\
         - `snapshot.db`: the snapshot the population was drawn from (sha256 {})\n\
         - `journal.ndjson`: the journal entries of the changes\n\
         - `{MANIFEST}`: the SHA-256 of every other file; check with `sha256sum -c {MANIFEST}` in this folder, or `segment-access review verify <folder>`\n",
        i.snapshot.sha256
    ));
    out
}

/// Writes a pack into `dir`, which must not exist or be empty; returns the SHA-256 of its
/// manifest.
pub(crate) fn write(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<String, ReviewError> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {
            let empty = std::fs::read_dir(dir)
                .map_err(|e| ReviewError::io(dir, e))?
                .next()
                .is_none();
            if !empty {
                return Err(ReviewError::Usage(format!(
                    "{} is not empty; an evidence pack goes into a new (or empty) folder",
                    dir.display()
                )));
            }
        }
        Ok(_) => {
            return Err(ReviewError::Usage(format!(
                "{} exists and is not a folder; an evidence pack goes into a new folder",
                dir.display()
            )));
        }
        Err(_) => {}
    }
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    crate::files::create_private_dir(&parent).map_err(|e| ReviewError::io(&parent, e))?;
    let tmp = crate::files::tmp_path(dir);
    let _ = std::fs::remove_dir_all(&tmp);
    let built = (|| {
        crate::files::create_private_dir(&tmp)?;
        let mut manifest = String::new();
        let mut names: Vec<&(String, Vec<u8>)> = files.iter().collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, bytes) in names {
            crate::files::write_private_atomic(&tmp.join(name), bytes)?;
            let _ = writeln!(manifest, "{}  {name}", sha256_hex(bytes));
        }
        crate::files::write_private_atomic(&tmp.join(MANIFEST), manifest.as_bytes())?;
        std::fs::rename(&tmp, dir)?;
        Ok::<_, std::io::Error>(sha256_hex(manifest.as_bytes()))
    })();
    if built.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    built.map_err(|e| ReviewError::io(dir, e))
}

/// One file of a pack, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FileCheck {
    pub file: String,
    /// `ok`, `changed`, `missing`, `extra` (in the folder, not in the manifest) or `malformed`
    /// (a manifest line that is not `<sha256>  <file>`).
    pub status: String,
    pub expected: String,
    pub actual: String,
}

impl FileCheck {
    pub(crate) fn ok(&self) -> bool {
        self.status == "ok"
    }
}

/// Checks every file of a pack against its manifest; also returns the manifest's own SHA-256.
pub(crate) fn check(dir: &Path) -> Result<(Vec<FileCheck>, String), ReviewError> {
    if !dir.is_dir() {
        return Err(ReviewError::Usage(format!(
            "{}: no such folder; name the evidence pack `review close --out` wrote",
            dir.display()
        )));
    }
    let manifest_path = dir.join(MANIFEST);
    let text = match std::fs::read(&manifest_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ReviewError::Usage(format!(
                "{}: no {MANIFEST}; this is not an evidence pack written by `review close`",
                dir.display()
            )));
        }
        Err(e) => return Err(ReviewError::io(&manifest_path, e)),
    };
    let manifest_sha = sha256_hex(&text);
    let text = String::from_utf8_lossy(&text);
    let mut out = Vec::new();
    let mut listed: Vec<String> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed = line
            .split_once("  ")
            .or_else(|| line.split_once(" *"))
            .filter(|(h, name)| {
                h.len() == 64
                    && h.chars().all(|c| c.is_ascii_hexdigit())
                    && !name.is_empty()
                    && !name.contains(['/', '\\'])
                    && *name != ".."
                    && *name != "."
            });
        let Some((hash, name)) = parsed else {
            out.push(FileCheck {
                file: format!("{MANIFEST}:{}", n + 1),
                status: "malformed".into(),
                expected: "<sha256>  <file>".into(),
                actual: line.chars().take(80).collect(),
            });
            continue;
        };
        listed.push(name.to_string());
        let path = dir.join(name);
        let (status, actual) = if path.is_file() {
            let (h, _) = sha256_file(&path)?;
            if h.eq_ignore_ascii_case(hash) {
                ("ok", h)
            } else {
                ("changed", h)
            }
        } else {
            ("missing", String::new())
        };
        out.push(FileCheck {
            file: name.to_string(),
            status: status.into(),
            expected: hash.to_lowercase(),
            actual,
        });
    }
    let mut extra: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| ReviewError::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n != MANIFEST && !listed.contains(n))
        .collect();
    extra.sort();
    for name in extra {
        let path = dir.join(&name);
        let actual = if path.is_file() {
            sha256_file(&path)?.0
        } else {
            "(not a file)".into()
        };
        out.push(FileCheck {
            file: name,
            status: "extra".into(),
            expected: String::new(),
            actual,
        });
    }
    Ok((out, manifest_sha))
}
