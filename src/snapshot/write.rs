//! Writes a snapshot atomically: everything goes into `FILE.tmp-<pid>` in one transaction,
//! and only a committed, closed file is renamed over `FILE`. A reader therefore sees either
//! the previous snapshot or the complete new one, never a partial one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use crate::access::directory::{Directory, function_name, source_name, warehouse_name};
use crate::access::grants;
use crate::access::record::{GrantRecord, Principal};
use crate::segment::models::{Permission, ResourceType};

use super::SnapshotError;
use super::schema::{CREATE, SCHEMA_VERSION};

/// Facts about the snapshot itself, stored in the `meta` table.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub tool_version: String,
    /// Seconds since the Unix epoch when reading started.
    pub taken_at_unix: i64,
    pub duration_ms: u64,
    pub api_url: String,
    /// How the snapshot was read: everything, or refreshed from an earlier one.
    pub read: ReadInfo,
}

/// Whether a snapshot was read in full or refreshed from the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadKind {
    Full,
    Refresh,
}

impl ReadKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ReadKind::Full => "full",
            ReadKind::Refresh => "refresh",
        }
    }
}

/// How a snapshot's contents were read (schema version 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadInfo {
    pub kind: ReadKind,
    /// When the last full read that this snapshot descends from started (seconds since the
    /// epoch): its own `taken_at` for a full read.
    pub last_full_read_unix: i64,
    /// The server's clock when reading started (milliseconds since the epoch), from its `Date`
    /// header, when known: where the next refresh starts reading the audit trail.
    pub server_taken_at_ms: Option<i64>,
    /// Requests the read sent.
    pub requests: u64,
    /// A refresh: the audit events it read, and the time it read them from.
    pub events: Option<u64>,
    pub since: Option<String>,
    /// Audit events after the last full read's mark, counted over every refresh since: how
    /// many changes the snapshot has taken in without a full read.
    pub changes_since_full: u64,
    /// A full read where a refresh was asked for: why.
    pub full_read_reason: Option<String>,
}

impl ReadInfo {
    /// A full read that started at `taken_at_unix`.
    pub(crate) fn full(taken_at_unix: i64) -> ReadInfo {
        ReadInfo {
            kind: ReadKind::Full,
            last_full_read_unix: taken_at_unix,
            server_taken_at_ms: None,
            requests: 0,
            events: None,
            since: None,
            changes_since_full: 0,
            full_read_reason: None,
        }
    }
}

/// How many rows went in, for the summary `sync` prints.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counts {
    pub users: usize,
    pub invites: usize,
    pub groups: usize,
    pub grants: usize,
}

/// Checks, before minutes of reading, that a snapshot can be written to `path`: it is a new
/// path or a regular file (never a directory, a device, a FIFO or a symbolic link, which a
/// rename would replace), and its directory takes a private temporary file.
pub(crate) fn check_target(path: &Path) -> Result<(), SnapshotError> {
    let shown = path.display().to_string();
    let invalid = |message: &str| SnapshotError::Invalid {
        path: shown.clone(),
        message: message.to_string(),
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(invalid(
                "is a symbolic link; name the file itself (a snapshot replaces the path it is written to)",
            ));
        }
        Ok(m) if m.is_dir() => return Err(invalid("is a directory; name a file in it")),
        Ok(m) if !m.is_file() => {
            return Err(invalid(
                "is not a regular file (a device, FIFO or socket); a snapshot is written only to a new path or over a regular file",
            ));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(SnapshotError::Io {
                path: shown,
                source,
            });
        }
    }
    let tmp = tmp_path(path);
    let _ = std::fs::remove_file(&tmp);
    crate::files::private_options()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map(drop)
        .map_err(|source| SnapshotError::Io {
            path: shown,
            source,
        })
}

/// Same directory as the target, so the rename cannot cross file systems.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    crate::files::tmp_path(path)
}

/// The temporary file, opened for one transaction that nobody else sees.
fn open_private(tmp: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(tmp)?;
    // The file is private until it is complete and renamed into place, so SQLite's own crash
    // safety (a rollback journal, fsyncs per commit) buys nothing here; one fsync before the
    // rename (in `Draft::commit`) keeps the renamed file whole. Seconds on 2,000 users.
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -131072;",
    )?;
    Ok(conn)
}

pub(super) fn write_to(tmp: &Path, dir: &Directory, meta: &Meta) -> rusqlite::Result<Counts> {
    let mut conn = open_private(tmp)?;
    let tx = conn.transaction()?;
    // Indexes are built once the rows are in: one sort per index instead of a B-tree insert
    // per row, which on 57,000 grants is most of the write. The schema is the same.
    let (indexes, tables): (Vec<&str>, Vec<&str>) = CREATE
        .split(';')
        .filter(|stmt| !stmt.trim().is_empty())
        .partition(|stmt| stmt.trim_start().starts_with("CREATE INDEX"));
    tx.execute_batch(&tables.join(";"))?;
    let mut counts = insert_lists(&tx, dir, meta)?;
    {
        let mut st = tx.prepare(INSERT_GRANT)?;
        for g in grants::iter(dir, &Default::default()) {
            insert_grant(&mut st, &g)?;
            counts.grants += 1;
        }
    }
    insert_meta(&tx, dir, meta)?;
    tx.execute_batch(&indexes.join(";"))?;
    tx.commit()?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(counts)
}

/// Writes `dir` over the copy of the snapshot `base` was read from: the lists and permissions
/// again in full (a few thousand rows), and of the grants only those of the principals whose
/// records changed, the rest kept as they are.
pub(super) fn update_to(
    tmp: &Path,
    base: &Directory,
    dir: &Directory,
    meta: &Meta,
) -> rusqlite::Result<Counts> {
    let mut conn = open_private(tmp)?;
    let tx = conn.transaction()?;
    tx.execute_batch(
        "DELETE FROM meta; DELETE FROM workspace; DELETE FROM users; DELETE FROM invites;
         DELETE FROM groups; DELETE FROM group_members; DELETE FROM group_invites;
         DELETE FROM roles; DELETE FROM resources; DELETE FROM labels; DELETE FROM permissions;",
    )?;
    let mut counts = insert_lists(&tx, dir, meta)?;
    // A principal is who they are by id (an invite by email): a renamed user's records differ,
    // and their old rows go.
    let key = |p: &Principal| match p {
        Principal::User { id, .. } | Principal::Group { id, .. } => (p.kind(), id.clone()),
        Principal::Invite { email } => (p.kind(), email.clone()),
    };
    let mut before: HashMap<(&'static str, String), Vec<GrantRecord>> = grants::by_principal(base)
        .map(|(p, records)| (key(&p), records))
        .collect();
    {
        let mut insert = tx.prepare(INSERT_GRANT)?;
        let mut delete = tx.prepare(
            "DELETE FROM grants WHERE principal_type = ?1 AND principal_id IS ?2 \
             AND (?2 IS NOT NULL OR principal_email = ?3)",
        )?;
        let mut forget = |(kind, id): &(&str, String)| match *kind {
            "invite" => delete.execute(params![kind, None::<&str>, id]),
            _ => delete.execute(params![kind, id, None::<&str>]),
        };
        for (p, records) in grants::by_principal(dir) {
            counts.grants += records.len();
            let k = key(&p);
            match before.remove(&k) {
                Some(old) if old == records => continue,
                Some(old) if !old.is_empty() => {
                    forget(&k)?;
                }
                _ => {}
            }
            for g in &records {
                insert_grant(&mut insert, g)?;
            }
        }
        for (k, old) in &before {
            if !old.is_empty() {
                forget(k)?;
            }
        }
    }
    insert_meta(&tx, dir, meta)?;
    tx.commit()?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(counts)
}

/// Every table but `grants` and `meta`: the workspace, users, invites, groups with their
/// members and invites, roles, resources, labels and permissions.
fn insert_lists(
    tx: &rusqlite::Transaction<'_>,
    dir: &Directory,
    meta: &Meta,
) -> rusqlite::Result<Counts> {
    let mut counts = Counts::default();
    if let Some(w) = &dir.workspace {
        tx.execute(
            "INSERT INTO workspace (id, name, slug, api_url) VALUES (?1, ?2, ?3, ?4)",
            params![w.id, w.name, w.slug, meta.api_url],
        )?;
    }
    {
        let mut st =
            tx.prepare("INSERT INTO users (id, name, email, ord) VALUES (?1, ?2, ?3, ?4)")?;
        for (i, u) in dir.users.iter().enumerate() {
            st.execute(params![u.id, u.name, u.email, i as i64])?;
            if let Some(perms) = &u.permissions {
                insert_permissions(tx, "user", &u.id, perms)?;
            }
        }
        counts.users = dir.users.len();
    }
    {
        let mut st = tx.prepare("INSERT OR IGNORE INTO invites (email, ord) VALUES (?1, ?2)")?;
        for (i, e) in dir.invites.iter().enumerate() {
            st.execute(params![e, i as i64])?;
        }
        counts.invites = dir.invites.len();
    }
    {
        let mut st = tx.prepare(
            "INSERT INTO groups (id, name, member_count, permissions_listed, ord) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut mem = tx.prepare(
            "INSERT OR IGNORE INTO group_members (group_id, user_id, name, email, ord) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut inv = tx.prepare(
            "INSERT OR IGNORE INTO group_invites (group_id, email, ord) VALUES (?1, ?2, ?3)",
        )?;
        for (i, g) in dir.groups.iter().enumerate() {
            st.execute(params![
                g.id,
                g.name,
                // A REAL column since schema version 1; whole numbers round-trip exactly.
                g.member_count as f64,
                g.permissions.is_some(),
                i as i64
            ])?;
            if let Some(perms) = &g.permissions {
                insert_permissions(tx, "group", &g.id, perms)?;
            }
            for (j, m) in dir.members.get(&g.id).into_iter().flatten().enumerate() {
                mem.execute(params![g.id, m.id, m.name, m.email, j as i64])?;
            }
            for (j, e) in dir
                .group_invites
                .get(&g.id)
                .into_iter()
                .flatten()
                .enumerate()
            {
                inv.execute(params![g.id, e, j as i64])?;
            }
        }
        counts.groups = dir.groups.len();
    }
    {
        let mut st =
            tx.prepare("INSERT INTO roles (id, name, description, ord) VALUES (?1, ?2, ?3, ?4)")?;
        for (i, r) in dir.roles.iter().enumerate() {
            st.execute(params![r.id, r.name, r.description, i as i64])?;
        }
    }
    insert_resources(tx, dir)?;
    {
        let mut st = tx.prepare(
            "INSERT OR IGNORE INTO labels (key, value, description) VALUES (?1, ?2, ?3)",
        )?;
        for l in &dir.labels {
            st.execute(params![l.key, l.value, l.description])?;
        }
    }
    Ok(counts)
}

const INSERT_GRANT: &str = "INSERT INTO grants (principal_type, principal_id, principal_email, principal_name, role_id, role_name, resource_type, resource_id, resource_name, labels, via_group_id, via_group_name, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

fn insert_grant(st: &mut rusqlite::Statement<'_>, g: &GrantRecord) -> rusqlite::Result<()> {
    let (pid, email, name) = match &g.principal {
        Principal::User { id, email, name } => {
            (Some(id.as_str()), Some(email.as_str()), Some(name.as_str()))
        }
        Principal::Invite { email } => (None, Some(email.as_str()), None),
        Principal::Group { id, name } => (Some(id.as_str()), None, Some(name.as_str())),
    };
    st.execute(params![
        g.principal.kind(),
        pid,
        email,
        name,
        g.role.as_ref().map(|r| &r.id),
        g.role.as_ref().map(|r| &r.name),
        g.resource.kind.as_str(),
        g.resource.id,
        g.resource.name,
        json(&g.labels),
        g.via.as_ref().map(|v| &v.id),
        g.via.as_ref().map(|v| &v.name),
        json(g),
    ])?;
    Ok(())
}

/// The `meta` rows: what the snapshot is of, and how and when it was read.
fn insert_meta(
    tx: &rusqlite::Transaction<'_>,
    dir: &Directory,
    meta: &Meta,
) -> rusqlite::Result<()> {
    let r = &meta.read;
    let meta_rows: [(&str, String); 15] = [
        ("schema_version", SCHEMA_VERSION.to_string()),
        ("tool_version", meta.tool_version.clone()),
        ("taken_at", rfc3339(meta.taken_at_unix)),
        (
            "workspace_id",
            dir.workspace
                .as_ref()
                .map(|w| w.id.clone())
                .unwrap_or_default(),
        ),
        ("duration_ms", meta.duration_ms.to_string()),
        ("api_url", meta.api_url.clone()),
        (
            "spaces_unavailable",
            dir.resources.spaces_unavailable.clone().unwrap_or_default(),
        ),
        ("read", r.kind.as_str().to_string()),
        ("last_full_read_at", rfc3339(r.last_full_read_unix)),
        (
            "server_taken_at",
            r.server_taken_at_ms
                .map(crate::segment::time::format_rfc3339)
                .unwrap_or_default(),
        ),
        ("requests", r.requests.to_string()),
        (
            "refresh_events",
            r.events.map(|n| n.to_string()).unwrap_or_default(),
        ),
        ("refresh_since", r.since.clone().unwrap_or_default()),
        ("changes_since_full_read", r.changes_since_full.to_string()),
        (
            "full_read_reason",
            r.full_read_reason.clone().unwrap_or_default(),
        ),
    ];
    for (k, v) in meta_rows {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)",
            params![k, v],
        )?;
    }
    Ok(())
}

fn json<T: serde::Serialize>(v: &T) -> String {
    // Our own plain data types always serialize.
    serde_json::to_string(v).unwrap_or_default()
}

pub(crate) fn resource_type_str(t: ResourceType) -> &'static str {
    crate::access::record::ResourceKind::from(t).as_str()
}

fn insert_permissions(
    tx: &rusqlite::Transaction<'_>,
    principal_type: &str,
    principal_id: &str,
    perms: &[Permission],
) -> rusqlite::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO permissions (principal_type, principal_id, perm_ord, res_ord, role_id, role_name, resource_type, resource_id, labels, resource_labels_raw, permission_labels_raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for (i, p) in perms.iter().enumerate() {
        let perm_labels = p.labels.as_ref().map(json);
        if p.resources.is_empty() {
            // Kept so the permission (and its role name) survives the round trip.
            st.execute(params![
                principal_type,
                principal_id,
                i as i64,
                0i64,
                p.role_id,
                p.role_name,
                None::<String>,
                None::<String>,
                "[]",
                None::<String>,
                perm_labels
            ])?;
        }
        for (j, r) in p.resources.iter().enumerate() {
            let effective = crate::access::plan::resource_labels(p, r);
            st.execute(params![
                principal_type,
                principal_id,
                i as i64,
                j as i64,
                p.role_id,
                p.role_name,
                resource_type_str(r.resource_type),
                r.id,
                json(&effective),
                r.labels.as_ref().map(json),
                perm_labels
            ])?;
        }
    }
    Ok(())
}

fn insert_resources(tx: &rusqlite::Transaction<'_>, dir: &Directory) -> rusqlite::Result<()> {
    let mut st = tx.prepare(
        "INSERT OR IGNORE INTO resources (type, id, name, slug, labels, raw, ord) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let r = &dir.resources;
    for (i, s) in r.sources.iter().enumerate() {
        st.execute(params![
            "source",
            s.id,
            source_name(s),
            s.slug,
            json(&s.labels),
            json(s),
            i as i64
        ])?;
    }
    for (i, w) in r.warehouses.iter().enumerate() {
        st.execute(params![
            "warehouse",
            w.id,
            warehouse_name(w),
            None::<String>,
            "[]",
            json(w),
            i as i64
        ])?;
    }
    for (i, f) in r.functions.iter().enumerate() {
        st.execute(params![
            "function",
            f.id,
            function_name(f),
            None::<String>,
            "[]",
            json(f),
            i as i64
        ])?;
    }
    for (i, s) in r.spaces.iter().enumerate() {
        st.execute(params![
            "space",
            s.id,
            s.name,
            s.slug,
            "[]",
            json(s),
            i as i64
        ])?;
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SSZ`, as `meta` stores times.
pub(crate) fn rfc3339(unix: i64) -> String {
    crate::segment::time::format_rfc3339_secs(unix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_764_115_200 + 3661), "2025-11-26T01:01:01Z");
    }

    #[test]
    fn tmp_is_next_to_the_target() {
        let t = tmp_path(Path::new("/a/b/snap.db"));
        assert_eq!(t.parent(), Some(Path::new("/a/b")));
        assert!(t.to_string_lossy().starts_with("/a/b/snap.db.tmp-"));
    }
}
