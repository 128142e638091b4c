//! Reads a snapshot back into a `Directory`, so every offline answer runs the code that
//! answers live.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::de::DeserializeOwned;

use crate::access::directory::{Directory, Resources};
use crate::segment::models::*;

use super::SnapshotError;
use super::schema::{READS, SCHEMA_VERSION};
use super::write::{ReadInfo, ReadKind};

/// A snapshot as loaded: the directory and the facts about when and how it was taken.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub dir: Directory,
    pub meta: HashMap<String, String>,
}

impl Snapshot {
    /// The API URL the snapshot was taken from.
    pub(crate) fn api_url(&self) -> String {
        self.meta.get("api_url").cloned().unwrap_or_default()
    }

    fn meta_str(&self, key: &str) -> Option<&str> {
        self.meta
            .get(key)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    fn meta_unix(&self, key: &str) -> Option<i64> {
        self.meta_str(key)
            .and_then(crate::segment::time::parse_rfc3339)
            .map(|ms| ms.div_euclid(1000))
    }

    /// When reading started, in seconds since the epoch (our clock).
    pub(crate) fn taken_at_unix(&self) -> Option<i64> {
        self.meta_unix("taken_at")
    }

    /// The workspace the snapshot is of.
    pub(crate) fn workspace_id(&self) -> Option<&str> {
        self.meta_str("workspace_id")
            .or(self.dir.workspace.as_ref().map(|w| w.id.as_str()))
    }

    /// How the snapshot was read. A version 1 file was read in full at its `taken_at`.
    pub(crate) fn read_info(&self) -> ReadInfo {
        let taken = self.taken_at_unix().unwrap_or_default();
        let number = |key: &str| self.meta_str(key).and_then(|s| s.parse::<u64>().ok());
        ReadInfo {
            kind: match self.meta_str("read") {
                Some("refresh") => ReadKind::Refresh,
                _ => ReadKind::Full,
            },
            last_full_read_unix: self.meta_unix("last_full_read_at").unwrap_or(taken),
            server_taken_at_ms: self
                .meta_str("server_taken_at")
                .and_then(crate::segment::time::parse_rfc3339),
            requests: number("requests").unwrap_or_default(),
            events: number("refresh_events"),
            since: self.meta_str("refresh_since").map(str::to_string),
            changes_since_full: number("changes_since_full_read").unwrap_or_default(),
            full_read_reason: self.meta_str("full_read_reason").map(str::to_string),
        }
    }
}

/// Reads the snapshot file at `path`.
pub(crate) fn read(path: &Path) -> Result<Snapshot, SnapshotError> {
    check_file(path)?;
    open(path, &path.display().to_string())
}

/// An error unless `path` is a file.
pub(crate) fn check_file(path: &Path) -> Result<(), SnapshotError> {
    let invalid = |message: &str| SnapshotError::Invalid {
        path: path.display().to_string(),
        message: message.to_string(),
    };
    if path.is_dir() {
        return Err(invalid(
            "is a directory; name a snapshot file written by `sync --out`",
        ));
    }
    if !path.is_file() {
        return Err(invalid("no such snapshot file"));
    }
    Ok(())
}

/// Reads the snapshot file at `path`; errors name it `shown` (the file it is a copy of).
pub(crate) fn open(path: &Path, shown: &str) -> Result<Snapshot, SnapshotError> {
    let shown = shown.to_string();
    let invalid = |message: String| SnapshotError::Invalid {
        path: shown.clone(),
        message,
    };
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|source| {
            SnapshotError::Sqlite {
                path: shown.clone(),
                source,
            }
        })?;
    let version: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(|_| invalid("not a segment-access snapshot (no meta table)".into()))?;
    match version.as_deref().map(str::parse::<i64>) {
        Some(Ok(v)) if READS.contains(&v) => {}
        Some(Ok(v)) => {
            return Err(invalid(format!(
                "snapshot schema version {v}; this build reads versions 1 to {SCHEMA_VERSION}"
            )));
        }
        _ => {
            return Err(invalid(
                "not a segment-access snapshot (no schema_version)".into(),
            ));
        }
    }
    load(&conn).map_err(|e| match e {
        Bad::Sql(source) => SnapshotError::Sqlite {
            path: shown.clone(),
            source,
        },
        Bad::Data(m) => invalid(m),
    })
}

enum Bad {
    Sql(rusqlite::Error),
    Data(String),
}

impl From<rusqlite::Error> for Bad {
    fn from(e: rusqlite::Error) -> Bad {
        Bad::Sql(e)
    }
}

fn parse<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, Bad> {
    serde_json::from_str(text).map_err(|e| Bad::Data(format!("bad {what} in snapshot: {e}")))
}

fn resource_type(s: &str) -> Result<ResourceType, Bad> {
    Ok(match s {
        "workspace" => ResourceType::Workspace,
        "source" => ResourceType::Source,
        "warehouse" => ResourceType::Warehouse,
        "function" => ResourceType::Function,
        "space" => ResourceType::Space,
        other => return Err(Bad::Data(format!("unknown resource type {other:?}"))),
    })
}

fn load(conn: &Connection) -> Result<Snapshot, Bad> {
    let mut meta = HashMap::new();
    {
        let mut st = conn.prepare("SELECT key, value FROM meta")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (k, v) = row?;
            meta.insert(k, v);
        }
    }
    let workspace = conn
        .query_row("SELECT id, name, slug FROM workspace", [], |r| {
            Ok(Workspace {
                id: r.get(0)?,
                name: r.get(1)?,
                slug: r.get(2)?,
            })
        })
        .optional()?;
    let mut perms = load_permissions(conn)?;
    let mut users = Vec::new();
    {
        let mut st = conn.prepare("SELECT id, name, email FROM users ORDER BY ord")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (id, name, email) = row?;
            let permissions = Some(
                perms
                    .remove(&("user".to_string(), id.clone()))
                    .unwrap_or_default(),
            );
            users.push(User {
                id,
                name,
                email,
                permissions,
            });
        }
    }
    let invites = strings(conn, "SELECT email FROM invites ORDER BY ord")?;
    let mut groups = Vec::new();
    {
        let mut st = conn.prepare(
            "SELECT id, name, member_count, permissions_listed FROM groups ORDER BY ord",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?,
                r.get::<_, bool>(3)?,
            ))
        })?;
        for row in rows {
            let (id, name, member_count, listed) = row?;
            let p = perms.remove(&("group".to_string(), id.clone()));
            groups.push(UserGroup {
                id,
                name,
                member_count: member_count.max(0.0).round() as u64,
                permissions: if listed {
                    Some(p.unwrap_or_default())
                } else {
                    None
                },
            });
        }
    }
    let mut members: HashMap<String, Vec<MinimalUser>> = HashMap::new();
    let mut group_invites: HashMap<String, Vec<String>> = HashMap::new();
    // Every group was read with its members; an empty list is a fact, not a gap.
    for g in &groups {
        members.insert(g.id.clone(), Vec::new());
        group_invites.insert(g.id.clone(), Vec::new());
    }
    {
        let mut st = conn.prepare(
            "SELECT group_id, user_id, name, email FROM group_members ORDER BY group_id, ord",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                MinimalUser {
                    id: r.get(1)?,
                    name: r.get(2)?,
                    email: r.get(3)?,
                },
            ))
        })?;
        for row in rows {
            let (g, m) = row?;
            members.entry(g).or_default().push(m);
        }
    }
    {
        let mut st =
            conn.prepare("SELECT group_id, email FROM group_invites ORDER BY group_id, ord")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (g, e) = row?;
            group_invites.entry(g).or_default().push(e);
        }
    }
    let mut roles = Vec::new();
    {
        let mut st = conn.prepare("SELECT id, name, description FROM roles ORDER BY ord")?;
        let rows = st.query_map([], |r| {
            Ok(Role {
                id: r.get(0)?,
                name: r.get(1)?,
                description: r.get(2)?,
            })
        })?;
        for row in rows {
            roles.push(row?);
        }
    }
    let mut resources = Resources {
        spaces_unavailable: meta
            .get("spaces_unavailable")
            .filter(|s| !s.is_empty())
            .cloned(),
        ..Resources::default()
    };
    {
        let mut st = conn.prepare("SELECT type, raw FROM resources ORDER BY type, ord")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (t, raw) = row?;
            match t.as_str() {
                "source" => resources.sources.push(parse("source", &raw)?),
                "warehouse" => resources.warehouses.push(parse("warehouse", &raw)?),
                "function" => resources.functions.push(parse("function", &raw)?),
                "space" => resources.spaces.push(parse("space", &raw)?),
                other => return Err(Bad::Data(format!("unknown resource type {other:?}"))),
            }
        }
    }
    let mut labels = Vec::new();
    {
        let mut st =
            conn.prepare("SELECT key, value, description FROM labels ORDER BY key, value")?;
        let rows = st.query_map([], |r| {
            Ok(Label {
                key: r.get(0)?,
                value: r.get(1)?,
                description: r.get(2)?,
            })
        })?;
        for row in rows {
            labels.push(row?);
        }
    }
    Ok(Snapshot {
        dir: Directory {
            workspace,
            users,
            invites,
            groups,
            members,
            group_invites,
            roles,
            resources,
            labels,
        },
        meta,
    })
}

fn strings(conn: &Connection, sql: &str) -> Result<Vec<String>, Bad> {
    let mut st = conn.prepare(sql)?;
    let rows = st.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row?);
    }
    Ok(out)
}

type Row = (
    String,
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Permissions by (principal type, principal id), rebuilt in their original order and shape.
fn load_permissions(conn: &Connection) -> Result<HashMap<(String, String), Vec<Permission>>, Bad> {
    let mut st = conn.prepare(
        "SELECT principal_type, principal_id, perm_ord, role_id, role_name, resource_type, resource_id, resource_labels_raw, permission_labels_raw
         FROM permissions ORDER BY principal_type, principal_id, perm_ord, res_ord",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
        ))
    })?;
    let mut out: HashMap<(String, String), Vec<Permission>> = HashMap::new();
    let mut last: Option<(String, String, i64)> = None;
    for row in rows {
        let (ptype, pid, ord, role_id, role_name, rtype, rid, rlabels, plabels): Row = row?;
        let key = (ptype.clone(), pid.clone(), ord);
        let list = out.entry((ptype, pid)).or_default();
        if last.as_ref() != Some(&key) {
            list.push(Permission {
                role_id,
                role_name,
                resources: Vec::new(),
                labels: plabels.map(|t| parse("labels", &t)).transpose()?,
            });
            last = Some(key);
        }
        if let (Some(t), Some(id), Some(p)) = (rtype, rid, list.last_mut()) {
            p.resources.push(PermissionResource {
                id,
                resource_type: resource_type(&t)?,
                labels: rlabels.map(|t| parse("labels", &t)).transpose()?,
            });
        }
    }
    Ok(out)
}
