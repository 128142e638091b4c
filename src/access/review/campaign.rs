//! The campaign file: one SQLite database per review (schema version 1, docs/reviews.md). Every
//! decision is its own transaction, committed (rollback journal, `synchronous=FULL`) before the
//! reviewer sees it confirmed, so a crash or a kill loses at most the decision being made.
//! Decisions are appended, never updated: the latest per item is the decision, the earlier ones
//! are its history.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::access::record::GrantRecord;

use super::items::{Flag, Item, Scope};
use super::{Decision, ReviewError, now};

/// The only schema version this build reads and writes.
pub(crate) const SCHEMA_VERSION: i64 = 1;
/// `meta.kind` of a campaign file, which tells it from a snapshot (both have a `meta` table).
const KIND: &str = "segment-access review campaign";

const CREATE: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items (
    id TEXT PRIMARY KEY,
    ord INTEGER NOT NULL UNIQUE,
    person TEXT NOT NULL,
    record TEXT NOT NULL,
    findings TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX items_person ON items (person, ord);
CREATE TABLE decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL REFERENCES items (id),
    decision TEXT NOT NULL CHECK (decision IN ('keep', 'revoke', 'flag')),
    reviewer TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL
);
CREATE INDEX decisions_item ON decisions (item_id, seq);
CREATE TABLE outcomes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL REFERENCES items (id),
    decision_seq INTEGER NOT NULL REFERENCES decisions (seq),
    status TEXT NOT NULL CHECK (status IN ('applied', 'absent', 'failed', 'skipped')),
    journal_entry TEXT,
    at TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outcomes_item ON outcomes (item_id, seq);
CREATE TABLE verification (
    item_id TEXT PRIMARY KEY REFERENCES items (id),
    result TEXT NOT NULL,
    live TEXT NOT NULL,
    detail TEXT NOT NULL,
    checked_at TEXT NOT NULL
);
";

/// The snapshot a campaign's population was drawn from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SnapshotRef {
    /// As given to `review start`, made absolute.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    /// When the snapshot's reading started (RFC 3339 UTC): the population's "as of".
    pub taken_at: String,
    /// The tool version that wrote the snapshot.
    pub tool_version: String,
}

/// The policy a campaign pre-flagged its items with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PolicyRef {
    pub path: String,
    pub sha256: String,
}

/// When and into what a campaign was closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Closed {
    pub at: String,
    pub pack: String,
    pub manifest_sha256: String,
}

/// What a campaign is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Info {
    pub id: String,
    pub created_at: String,
    pub tool_version: String,
    pub snapshot: SnapshotRef,
    pub workspace_id: String,
    pub workspace_name: String,
    pub workspace_slug: String,
    pub api_url: String,
    pub scope: Scope,
    pub policy: Option<PolicyRef>,
    pub closed: Option<Closed>,
}

impl Info {
    /// `Acme (acme)`.
    pub(crate) fn workspace(&self) -> String {
        format!("{} ({})", self.workspace_name, self.workspace_slug)
    }
}

/// A decision to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewDecision {
    pub item_id: String,
    pub decision: Decision,
    pub reviewer: String,
    pub comment: String,
    /// How it was made: `terminal`, or `import <file> sha256:<hex>`.
    pub source: String,
}

/// A decision as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Decided {
    pub seq: i64,
    pub item_id: String,
    pub decision: Decision,
    pub reviewer: String,
    pub decided_at: String,
    pub comment: String,
    pub source: String,
}

/// What became of a revoke decision when `review apply` ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OutcomeStatus {
    /// Removed by the change of `journal_entry`.
    Applied,
    /// Already gone when the plan was made: nothing to remove.
    Absent,
    Failed,
    /// Not attempted (stopped by a signal or an earlier failure).
    Skipped,
}

impl OutcomeStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::Applied => "applied",
            OutcomeStatus::Absent => "absent",
            OutcomeStatus::Failed => "failed",
            OutcomeStatus::Skipped => "skipped",
        }
    }

    fn parse(s: &str) -> OutcomeStatus {
        match s {
            "applied" => OutcomeStatus::Applied,
            "absent" => OutcomeStatus::Absent,
            "failed" => OutcomeStatus::Failed,
            _ => OutcomeStatus::Skipped,
        }
    }

    /// The revoke took effect: nothing is left to apply.
    pub(crate) fn done(self) -> bool {
        matches!(self, OutcomeStatus::Applied | OutcomeStatus::Absent)
    }
}

/// The latest outcome of an item's revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub item_id: String,
    pub status: OutcomeStatus,
    /// The journal entry whose change carried it out (`undo --id` takes it).
    pub journal_entry: Option<String>,
    pub at: String,
    pub message: String,
}

/// The verification of one item when the campaign was closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Verified {
    pub item_id: String,
    /// `held`, `removed`, `discrepancy`, `flagged` or `undecided`.
    pub result: String,
    /// `present` or `absent` in the live workspace.
    pub live: String,
    pub detail: String,
    pub checked_at: String,
}

pub(crate) struct Campaign {
    conn: Connection,
    path: PathBuf,
    pub info: Info,
}

fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> ReviewError + '_ {
    move |source| ReviewError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}

/// Durable commits; another process deciding at the same time waits its turn.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "DELETE")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

impl Campaign {
    /// Writes a new campaign file: built under a private temporary name and linked into place
    /// only when complete, never over an existing file.
    pub(crate) fn create(
        path: &Path,
        info: &Info,
        items: &[Item],
    ) -> Result<Campaign, ReviewError> {
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(ReviewError::Usage(format!(
                "{} already exists; a campaign is never overwritten: choose another --out",
                path.display()
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::files::create_private_dir(dir).map_err(|e| ReviewError::io(dir, e))?;
        }
        let tmp = crate::files::tmp_path(path);
        let _ = std::fs::remove_file(&tmp);
        crate::files::private_options()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| ReviewError::io(path, e))?;
        let written = Campaign::write_new(&tmp, info, items).map_err(sql(path));
        let placed = written.and_then(|()| {
            // A hard link never replaces a file that appeared in the meantime.
            std::fs::hard_link(&tmp, path)
                .or_else(|e| {
                    if path.exists() {
                        Err(e)
                    } else {
                        std::fs::rename(&tmp, path)
                    }
                })
                .map_err(|e| ReviewError::io(path, e))
        });
        let _ = std::fs::remove_file(&tmp);
        placed?;
        Campaign::open(path)
    }

    fn write_new(tmp: &Path, info: &Info, items: &[Item]) -> rusqlite::Result<()> {
        let mut conn = Connection::open(tmp)?;
        configure(&conn)?;
        let tx = conn.transaction()?;
        tx.execute_batch(CREATE)?;
        {
            let mut st = tx.prepare("INSERT INTO meta (key, value) VALUES (?1, ?2)")?;
            for (k, v) in meta_rows(info) {
                st.execute(params![k, v])?;
            }
            let mut st = tx.prepare(
                "INSERT INTO items (id, ord, person, record, findings) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for it in items {
                st.execute(params![
                    it.id,
                    it.ord,
                    it.person,
                    serde_json::to_string(&it.record).unwrap_or_default(),
                    serde_json::to_string(&it.findings).unwrap_or_else(|_| "[]".into()),
                ])?;
            }
        }
        tx.commit()?;
        conn.close().map_err(|(_, e)| e)
    }

    /// Opens an existing campaign file, checking that it is one, of this schema version.
    pub(crate) fn open(path: &Path) -> Result<Campaign, ReviewError> {
        let usage = |m: &str| ReviewError::Usage(format!("{}: {m}", path.display()));
        if path.is_dir() {
            return Err(usage(
                "is a directory; name a campaign file written by `review start`",
            ));
        }
        if !path.is_file() {
            return Err(usage("no such campaign file (`review start` writes one)"));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql(path))?;
        configure(&conn).map_err(|_| usage("not a review campaign (not an SQLite file)"))?;
        let meta: HashMap<String, String> = (|| {
            let mut st = conn.prepare("SELECT key, value FROM meta")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<HashMap<String, String>>>()
        })()
        .map_err(|_| usage("not a review campaign (no meta table)"))?;
        if meta.get("kind").map(String::as_str) != Some(KIND) {
            if meta.contains_key("taken_at") {
                return Err(usage(
                    "is a snapshot, not a review campaign; start one with `review start --snapshot FILE.db --out REVIEW.db`",
                ));
            }
            return Err(usage("not a review campaign"));
        }
        match meta.get("schema_version").map(|v| v.parse::<i64>()) {
            Some(Ok(SCHEMA_VERSION)) => {}
            Some(Ok(v)) => {
                return Err(usage(&format!(
                    "campaign schema version {v}; this build reads version {SCHEMA_VERSION}"
                )));
            }
            _ => return Err(usage("not a review campaign (no schema_version)")),
        }
        if let Ok(f) = std::fs::File::open(path) {
            let _ = crate::files::make_private(&f);
        }
        let info = info_from(&meta).map_err(|m| usage(&m))?;
        Ok(Campaign {
            conn,
            path: path.to_path_buf(),
            info,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> ReviewError + '_ {
        sql(&self.path)
    }

    /// Refuses any change to a closed campaign.
    pub(crate) fn refuse_if_closed(&self) -> Result<(), ReviewError> {
        match &self.info.closed {
            Some(c) => Err(closed_error(&self.info.id, c)),
            None => Ok(()),
        }
    }

    /// Every item, in campaign order.
    pub(crate) fn items(&self) -> Result<Vec<Item>, ReviewError> {
        let mut st = self
            .conn
            .prepare("SELECT id, ord, person, record, findings FROM items ORDER BY ord")
            .map_err(self.sql())?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for row in rows {
            let (id, ord, person, record, findings) = row.map_err(self.sql())?;
            let record: GrantRecord = serde_json::from_str(&record).map_err(|e| {
                ReviewError::Usage(format!(
                    "{}: item {id} holds an unreadable grant record: {e}",
                    self.path.display()
                ))
            })?;
            let findings: Vec<Flag> = serde_json::from_str(&findings).unwrap_or_default();
            out.push(Item {
                id,
                ord,
                person,
                record,
                findings,
            });
        }
        Ok(out)
    }

    /// Every decision ever recorded, oldest first.
    pub(crate) fn history(&self) -> Result<Vec<Decided>, ReviewError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT seq, item_id, decision, reviewer, decided_at, comment, source
                 FROM decisions ORDER BY seq",
            )
            .map_err(self.sql())?;
        let rows = st.query_map([], decided_row).map_err(self.sql())?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.sql())
    }

    /// The decision of each decided item: its latest.
    pub(crate) fn decisions(&self) -> Result<HashMap<String, Decided>, ReviewError> {
        let mut out = HashMap::new();
        for d in self.history()? {
            out.insert(d.item_id.clone(), d);
        }
        Ok(out)
    }

    /// The latest outcome of each item `review apply` worked on.
    pub(crate) fn outcomes(&self) -> Result<HashMap<String, Outcome>, ReviewError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT item_id, status, journal_entry, at, message FROM outcomes ORDER BY seq",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map([], |r| {
                Ok(Outcome {
                    item_id: r.get(0)?,
                    status: OutcomeStatus::parse(&r.get::<_, String>(1)?),
                    journal_entry: r.get(2)?,
                    at: r.get(3)?,
                    message: r.get(4)?,
                })
            })
            .map_err(self.sql())?;
        let mut out = HashMap::new();
        for o in rows {
            let o = o.map_err(self.sql())?;
            out.insert(o.item_id.clone(), o);
        }
        Ok(out)
    }

    /// Records one decision in its own committed transaction.
    pub(crate) fn decide(&mut self, d: &NewDecision) -> Result<Decided, ReviewError> {
        let mut done = self.decide_all(std::slice::from_ref(d))?;
        done.pop()
            .ok_or_else(|| ReviewError::Refused("the decision was not recorded".into()))
    }

    /// Records decisions all together or not at all. Refused for a closed campaign, an unknown
    /// item, or an item whose revoke was already carried out and would now be decided otherwise.
    pub(crate) fn decide_all(&mut self, ds: &[NewDecision]) -> Result<Vec<Decided>, ReviewError> {
        let path = self.path.clone();
        let sql = sql(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&sql)?;
        // Another process may have closed it since it was opened.
        let closed = closed_of(&tx).map_err(&sql)?;
        if let Some(c) = closed {
            return Err(closed_error(&self.info.id, &c));
        }
        let at = now();
        let mut out = Vec::with_capacity(ds.len());
        for d in ds {
            let known: Option<i64> = tx
                .query_row("SELECT ord FROM items WHERE id = ?1", [&d.item_id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(&sql)?;
            if known.is_none() {
                return Err(ReviewError::Refused(format!(
                    "no item {} in campaign {}",
                    d.item_id, self.info.id
                )));
            }
            if d.decision != Decision::Revoke
                && let Some(entry) = carried_out(&tx, &d.item_id).map_err(&sql)?
            {
                return Err(ReviewError::Refused(format!(
                    "item {} was already revoked ({}); its decision stays revoke (undo the change with `segment-access undo` and grant it again if it must stay)",
                    d.item_id,
                    entry
                        .map(|e| format!("journal entry {e}"))
                        .unwrap_or_else(|| "it was gone when applied".into())
                )));
            }
            tx.execute(
                "INSERT INTO decisions (item_id, decision, reviewer, decided_at, comment, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    d.item_id,
                    d.decision.as_str(),
                    d.reviewer,
                    at,
                    d.comment,
                    d.source
                ],
            )
            .map_err(&sql)?;
            out.push(Decided {
                seq: tx.last_insert_rowid(),
                item_id: d.item_id.clone(),
                decision: d.decision,
                reviewer: d.reviewer.clone(),
                decided_at: at.clone(),
                comment: d.comment.clone(),
                source: d.source.clone(),
            });
        }
        tx.commit().map_err(&sql)?;
        Ok(out)
    }

    /// Records what `review apply` did with the revoke of these items, committed at once (the
    /// change has already landed and been journaled).
    pub(crate) fn record_outcome(
        &mut self,
        item_ids: &[String],
        status: OutcomeStatus,
        journal_entry: Option<&str>,
        message: &str,
    ) -> Result<(), ReviewError> {
        let path = self.path.clone();
        let sql = sql(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&sql)?;
        let at = now();
        for id in item_ids {
            let seq: Option<i64> = tx
                .query_row(
                    "SELECT seq FROM decisions WHERE item_id = ?1 ORDER BY seq DESC LIMIT 1",
                    [id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(&sql)?;
            let Some(seq) = seq else { continue };
            tx.execute(
                "INSERT INTO outcomes (item_id, decision_seq, status, journal_entry, at, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, seq, status.as_str(), journal_entry, at, message],
            )
            .map_err(&sql)?;
        }
        tx.commit().map_err(&sql)
    }

    /// Closes the campaign: the verification of every item and where the evidence went, in one
    /// transaction. Nothing changes it afterwards.
    pub(crate) fn close(
        &mut self,
        verified: &[Verified],
        pack: &str,
        manifest_sha256: &str,
        at: &str,
    ) -> Result<(), ReviewError> {
        let path = self.path.clone();
        let sql = sql(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&sql)?;
        if let Some(c) = closed_of(&tx).map_err(&sql)? {
            return Err(closed_error(&self.info.id, &c));
        }
        {
            let mut st = tx
                .prepare(
                    "INSERT INTO verification (item_id, result, live, detail, checked_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(&sql)?;
            for v in verified {
                st.execute(params![v.item_id, v.result, v.live, v.detail, v.checked_at])
                    .map_err(&sql)?;
            }
            let mut st = tx
                .prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")
                .map_err(&sql)?;
            for (k, v) in [
                ("closed_at", at),
                ("pack", pack),
                ("manifest_sha256", manifest_sha256),
            ] {
                st.execute(params![k, v]).map_err(&sql)?;
            }
        }
        tx.commit().map_err(&sql)?;
        self.info.closed = Some(Closed {
            at: at.to_string(),
            pack: pack.to_string(),
            manifest_sha256: manifest_sha256.to_string(),
        });
        Ok(())
    }

    /// The verification recorded when the campaign was closed.
    pub(crate) fn verification(&self) -> Result<HashMap<String, Verified>, ReviewError> {
        let mut st = self
            .conn
            .prepare("SELECT item_id, result, live, detail, checked_at FROM verification")
            .map_err(self.sql())?;
        let rows = st
            .query_map([], |r| {
                Ok(Verified {
                    item_id: r.get(0)?,
                    result: r.get(1)?,
                    live: r.get(2)?,
                    detail: r.get(3)?,
                    checked_at: r.get(4)?,
                })
            })
            .map_err(self.sql())?;
        let mut out = HashMap::new();
        for v in rows {
            let v = v.map_err(self.sql())?;
            out.insert(v.item_id.clone(), v);
        }
        Ok(out)
    }
}

fn decided_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Decided> {
    let text: String = r.get(2)?;
    Ok(Decided {
        seq: r.get(0)?,
        item_id: r.get(1)?,
        decision: Decision::parse(&text).unwrap_or(Decision::Flag),
        reviewer: r.get(3)?,
        decided_at: r.get(4)?,
        comment: r.get(5)?,
        source: r.get(6)?,
    })
}

/// Whether an item's revoke was carried out: `Some(journal entry)` when it was (`Some(None)`
/// when the access was already gone).
fn carried_out(conn: &Connection, item_id: &str) -> rusqlite::Result<Option<Option<String>>> {
    let last: Option<(String, Option<String>)> = conn
        .query_row(
            "SELECT status, journal_entry FROM outcomes WHERE item_id = ?1 ORDER BY seq DESC LIMIT 1",
            [item_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(last
        .filter(|(s, _)| OutcomeStatus::parse(s).done())
        .map(|(_, e)| e))
}

fn closed_of(conn: &Connection) -> rusqlite::Result<Option<Closed>> {
    let get = |k: &str| -> rusqlite::Result<Option<String>> {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
            .optional()
    };
    Ok(match get("closed_at")? {
        Some(at) => Some(Closed {
            at,
            pack: get("pack")?.unwrap_or_default(),
            manifest_sha256: get("manifest_sha256")?.unwrap_or_default(),
        }),
        None => None,
    })
}

fn closed_error(id: &str, c: &Closed) -> ReviewError {
    ReviewError::Refused(format!(
        "campaign {id} was closed on {} (evidence pack {}); a closed campaign is read-only",
        c.at, c.pack
    ))
}

fn meta_rows(info: &Info) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("kind", KIND.to_string()),
        ("schema_version", SCHEMA_VERSION.to_string()),
        ("campaign_id", info.id.clone()),
        ("created_at", info.created_at.clone()),
        ("tool_version", info.tool_version.clone()),
        ("snapshot_path", info.snapshot.path.clone()),
        ("snapshot_sha256", info.snapshot.sha256.clone()),
        ("snapshot_bytes", info.snapshot.bytes.to_string()),
        ("snapshot_taken_at", info.snapshot.taken_at.clone()),
        ("snapshot_tool_version", info.snapshot.tool_version.clone()),
        ("workspace_id", info.workspace_id.clone()),
        ("workspace_name", info.workspace_name.clone()),
        ("workspace_slug", info.workspace_slug.clone()),
        ("api_url", info.api_url.clone()),
        (
            "scope",
            serde_json::to_string(&info.scope).unwrap_or_default(),
        ),
        ("scope_text", info.scope.describe()),
    ];
    if let Some(p) = &info.policy {
        v.push(("policy_path", p.path.clone()));
        v.push(("policy_sha256", p.sha256.clone()));
    }
    v
}

fn info_from(meta: &HashMap<String, String>) -> Result<Info, String> {
    let get = |k: &str| {
        meta.get(k)
            .cloned()
            .ok_or_else(|| format!("the campaign's meta table lacks {k}"))
    };
    let opt = |k: &str| meta.get(k).cloned().unwrap_or_default();
    let scope: Scope = serde_json::from_str(&get("scope")?)
        .map_err(|e| format!("the campaign's scope is unreadable: {e}"))?;
    let policy = meta.get("policy_path").map(|p| PolicyRef {
        path: p.clone(),
        sha256: opt("policy_sha256"),
    });
    let closed = meta.get("closed_at").map(|at| Closed {
        at: at.clone(),
        pack: opt("pack"),
        manifest_sha256: opt("manifest_sha256"),
    });
    Ok(Info {
        id: get("campaign_id")?,
        created_at: get("created_at")?,
        tool_version: opt("tool_version"),
        snapshot: SnapshotRef {
            path: get("snapshot_path")?,
            sha256: get("snapshot_sha256")?,
            bytes: opt("snapshot_bytes").parse().unwrap_or_default(),
            taken_at: opt("snapshot_taken_at"),
            tool_version: opt("snapshot_tool_version"),
        },
        workspace_id: get("workspace_id")?,
        workspace_name: opt("workspace_name"),
        workspace_slug: opt("workspace_slug"),
        api_url: opt("api_url"),
        scope,
        policy,
        closed,
    })
}

/// The snapshot of a campaign, checked: the file the campaign names (or `moved_to`), with the
/// hash it had when the campaign started. A snapshot that changed, or is gone, refuses the
/// campaign: its population is the snapshot as it was.
pub(crate) fn check_snapshot(info: &Info, moved_to: Option<&Path>) -> Result<PathBuf, ReviewError> {
    let path = moved_to
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(&info.snapshot.path));
    if !path.is_file() {
        return Err(ReviewError::Refused(format!(
            "the campaign's snapshot {} is missing; if it moved, name it with --snapshot FILE.db (its SHA-256 must be {})",
            path.display(),
            info.snapshot.sha256
        )));
    }
    let (hash, _) = super::sha256_file(&path)?;
    if hash != info.snapshot.sha256 {
        return Err(ReviewError::Refused(format!(
            "the snapshot {} changed since campaign {} started (SHA-256 {hash}, was {}): the review's population is the snapshot as it was; restore that file (or name it with --snapshot)",
            path.display(),
            info.id,
            info.snapshot.sha256
        )));
    }
    Ok(path)
}
