//! SQLite snapshots of a workspace's access: written by `sync`, read back into the same
//! `Directory` live commands use (so offline answers run the live code paths), and compared
//! by `diff`.

pub(crate) mod cache;
pub(crate) mod diff;
pub(crate) mod draft;
pub(crate) mod events;
pub(crate) mod read;
pub(crate) mod refresh;
pub(crate) mod schema;
pub(crate) mod write;

pub(crate) use read::read;
pub use schema::SCHEMA_VERSION;
pub(crate) use write::{Meta, ReadKind};

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::draft::{self, write};
    use super::write::ReadInfo;
    use super::*;
    use crate::access::directory::{Directory, Resources};
    use crate::access::grants;
    use crate::segment::models::*;

    fn label(k: &str, v: &str) -> Label {
        Label {
            key: k.into(),
            value: v.into(),
            description: None,
        }
    }

    fn res(t: ResourceType, id: &str, labels: Option<Vec<Label>>) -> PermissionResource {
        PermissionResource {
            id: id.into(),
            resource_type: t,
            labels,
        }
    }

    /// A directory with every shape the readers must keep apart: labels on the permission and
    /// on the resource, a permission with no resources, a group whose permissions were not
    /// listed, an empty group, a member unknown to the user list, invites in groups.
    fn tricky() -> Directory {
        let perm = |role: &str, resources, labels| Permission {
            role_id: format!("r-{role}"),
            role_name: role.into(),
            resources,
            labels,
        };
        let users = vec![
            User {
                id: "u1".into(),
                name: "Ann".into(),
                email: "ann@x.com".into(),
                permissions: Some(vec![
                    perm(
                        "Source Admin",
                        vec![
                            res(ResourceType::Workspace, "w1", None),
                            res(ResourceType::Source, "s1", Some(vec![label("env", "prod")])),
                        ],
                        Some(vec![label("env", "dev")]),
                    ),
                    perm("Empty", vec![], None),
                ]),
            },
            User {
                id: "u2".into(),
                name: "Bob".into(),
                email: "bob@x.com".into(),
                permissions: Some(vec![]),
            },
        ];
        let groups = vec![
            UserGroup {
                id: "g1".into(),
                name: "Analysts".into(),
                member_count: 2,
                permissions: Some(vec![perm(
                    "Warehouse Admin",
                    vec![res(ResourceType::Warehouse, "wh1", None)],
                    None,
                )]),
            },
            UserGroup {
                id: "g2".into(),
                name: "Unlisted".into(),
                member_count: 0,
                permissions: None,
            },
        ];
        let mut members = HashMap::new();
        members.insert(
            "g1".to_string(),
            vec![
                MinimalUser {
                    id: "u2".into(),
                    name: "Bob".into(),
                    email: "bob@x.com".into(),
                },
                MinimalUser {
                    id: "u9".into(),
                    name: "Ghost".into(),
                    email: "ghost@x.com".into(),
                },
            ],
        );
        members.insert("g2".to_string(), vec![]);
        let mut group_invites = HashMap::new();
        group_invites.insert("g1".to_string(), vec!["new@x.com".to_string()]);
        group_invites.insert("g2".to_string(), vec![]);
        Directory {
            workspace: Some(Workspace {
                id: "w1".into(),
                name: "Acme".into(),
                slug: "acme".into(),
            }),
            users,
            invites: vec!["new@x.com".into(), "other@x.com".into()],
            groups,
            members,
            group_invites,
            roles: vec![Role {
                id: "r-Source Admin".into(),
                name: "Source Admin".into(),
                description: "d".into(),
            }],
            resources: Resources {
                sources: vec![Source {
                    id: "s1".into(),
                    slug: "web".into(),
                    name: None,
                    workspace_id: "w1".into(),
                    enabled: true,
                    labels: vec![label("env", "prod")],
                }],
                warehouses: vec![Warehouse {
                    id: "wh1".into(),
                    workspace_id: "w1".into(),
                    enabled: false,
                    metadata: Some(serde_json::json!({"name": "Snowflake"})),
                    settings: Some(serde_json::json!({"name": "Main"})),
                }],
                functions: vec![Function {
                    id: "f1".into(),
                    display_name: Some("Fn".into()),
                    resource_type: Some("SOURCE".into()),
                }],
                spaces: vec![],
                spaces_unavailable: Some("403: no Engage".into()),
            },
            labels: vec![label("env", "dev"), label("env", "prod")],
        }
    }

    fn temp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("sa-snap-unit-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join("t.db")
    }

    fn meta() -> Meta {
        Meta {
            tool_version: "test".into(),
            taken_at_unix: 0,
            duration_ms: 5,
            api_url: "http://127.0.0.1:1".into(),
            read: ReadInfo::full(0),
        }
    }

    #[test]
    fn round_trip_keeps_every_shape() {
        let dir = tricky();
        let path = temp("round");
        let counts = write(&path, &dir, &meta()).unwrap();
        assert_eq!(counts.grants, grants::all_grants(&dir).len());
        let back = read(&path).unwrap();
        let b = &back.dir;
        assert_eq!(b.workspace, dir.workspace);
        assert_eq!(b.users, dir.users);
        assert_eq!(b.invites, dir.invites);
        assert_eq!(b.groups, dir.groups);
        assert_eq!(b.members, dir.members);
        assert_eq!(b.group_invites, dir.group_invites);
        assert_eq!(b.roles, dir.roles);
        assert_eq!(b.resources.sources, dir.resources.sources);
        assert_eq!(b.resources.warehouses, dir.resources.warehouses);
        assert_eq!(b.resources.functions, dir.resources.functions);
        assert_eq!(b.resources.spaces, dir.resources.spaces);
        assert_eq!(
            b.resources.spaces_unavailable,
            dir.resources.spaces_unavailable
        );
        assert_eq!(b.labels, dir.labels);
        assert_eq!(grants::all_grants(b), grants::all_grants(&dir));
        assert_eq!(back.api_url(), "http://127.0.0.1:1");
        assert_eq!(back.meta["taken_at"], "1970-01-01T00:00:00Z");
        let _ = std::fs::remove_file(&path);
    }

    /// Every table's rows as sorted text: the data, whatever order the rows were written in.
    fn rows(path: &std::path::Path) -> Vec<(String, Vec<String>)> {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut tables = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        let names: Vec<String> = tables
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        names
            .into_iter()
            .map(|t| {
                let mut st = conn.prepare(&format!("SELECT * FROM {t}")).unwrap();
                let n = st.column_count();
                let mut all: Vec<String> = st
                    .query_map([], |r| {
                        Ok((0..n)
                            .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                            .collect::<Vec<_>>()
                            .join("|"))
                    })
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                all.sort();
                (t, all)
            })
            .collect()
    }

    /// `tricky()` after a bit of everything: a renamed group, a user's permissions changed,
    /// a user gone with their membership, a user arrived, a renamed source, an invite
    /// withdrawn from a group.
    fn tricky_changed() -> Directory {
        let mut d = tricky();
        d.groups[0].name = "Analysts and friends".into();
        if let Some(p) = d.users[0].permissions.as_mut() {
            p.pop();
        }
        d.users.retain(|u| u.id != "u2");
        if let Some(m) = d.members.get_mut("g1") {
            m.retain(|m| m.id != "u2");
        }
        d.users.push(User {
            id: "u3".into(),
            name: "Cy".into(),
            email: "cy@x.com".into(),
            permissions: Some(vec![Permission {
                role_id: "r-Source Admin".into(),
                role_name: "Source Admin".into(),
                resources: vec![res(ResourceType::Source, "s1", None)],
                labels: None,
            }]),
        });
        d.resources.sources[0].name = Some("Website".into());
        d.group_invites.insert("g1".into(), vec![]);
        d
    }

    fn refreshed_meta() -> Meta {
        let mut m = meta();
        m.read.kind = ReadKind::Refresh;
        m
    }

    #[test]
    fn a_refresh_writes_only_what_changed_and_equals_a_whole_write() {
        let (old, new) = (temp("patch-old"), temp("patch-new"));
        let whole = temp("patch-whole");
        write(&old, &tricky(), &meta()).unwrap();
        let mut draft = draft::Draft::new(&new).unwrap();
        assert_eq!(draft.read_base(&old).unwrap().dir.users, tricky().users);
        let (counts, how) = draft.commit(&tricky_changed(), &refreshed_meta()).unwrap();
        assert_eq!(how, draft::Written::Changes);
        write(&whole, &tricky_changed(), &refreshed_meta()).unwrap();
        assert_eq!(counts.grants, grants::all_grants(&tricky_changed()).len());
        assert_eq!(rows(&new), rows(&whole));
        // And the unchanged case: nothing differs, every row is kept.
        let again = temp("patch-again");
        let mut draft = draft::Draft::new(&again).unwrap();
        draft.read_base(&new).unwrap();
        let (_, how) = draft.commit(&tricky_changed(), &refreshed_meta()).unwrap();
        assert_eq!(how, draft::Written::Changes);
        assert_eq!(rows(&again), rows(&whole));
        assert!(!write::tmp_path(&again).exists());
        for p in [old, new, whole, again] {
            let _ = std::fs::remove_file(p);
        }
    }

    #[test]
    fn a_base_from_another_version_or_a_full_read_is_written_whole() {
        let (old, new) = (temp("other-old"), temp("other-new"));
        let mut m = meta();
        m.tool_version = "0.0.1-other".into();
        write(&old, &tricky(), &m).unwrap();
        let mut draft = draft::Draft::new(&new).unwrap();
        draft.read_base(&old).unwrap();
        let (_, how) = draft.commit(&tricky_changed(), &refreshed_meta()).unwrap();
        assert_eq!(how, draft::Written::Whole);
        write(&old, &tricky(), &meta()).unwrap();
        let mut draft = draft::Draft::new(&new).unwrap();
        draft.read_base(&old).unwrap();
        let (_, how) = draft.commit(&tricky_changed(), &meta()).unwrap();
        assert_eq!(how, draft::Written::Whole);
        let whole = temp("other-whole");
        write(&whole, &tricky_changed(), &meta()).unwrap();
        assert_eq!(rows(&new), rows(&whole));
        for p in [old, new, whole] {
            let _ = std::fs::remove_file(p);
        }
    }

    #[test]
    fn a_draft_dropped_before_its_commit_leaves_nothing() {
        let (old, new) = (temp("drop-old"), temp("drop-new"));
        write(&old, &tricky(), &meta()).unwrap();
        let mut draft = draft::Draft::new(&new).unwrap();
        draft.read_base(&old).unwrap();
        assert!(write::tmp_path(&new).exists());
        drop(draft);
        assert!(!write::tmp_path(&new).exists());
        assert!(!new.exists());
        let e = draft::Draft::new(&new)
            .unwrap()
            .read_base(&new)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("drop-new") && e.contains("no such snapshot file"),
            "{e}"
        );
        let _ = std::fs::remove_file(old);
    }

    #[test]
    fn rewrite_replaces_and_leaves_no_temporary_file() {
        let path = temp("rewrite");
        write(&path, &tricky(), &meta()).unwrap();
        let mut smaller = tricky();
        smaller.users.truncate(1);
        write(&path, &smaller, &meta()).unwrap();
        assert_eq!(read(&path).unwrap().dir.users.len(), 1);
        assert!(!write::tmp_path(&path).exists());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let path = std::env::temp_dir()
            .join(format!("sa-snap-unit-missing-{}", std::process::id()))
            .join("nope")
            .join("t.db");
        assert!(write(&path, &tricky(), &meta()).is_err());
        assert!(!path.exists());
        assert!(!write::tmp_path(&path).exists());
    }

    #[test]
    fn other_files_and_versions_are_refused() {
        let path = temp("refuse");
        std::fs::write(&path, b"not sqlite at all, just text").unwrap();
        assert!(read(&path).is_err());
        write(&path, &tricky(), &meta()).unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
        drop(conn);
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("version 99"), "{e}");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn how_it_was_read_round_trips_and_version_1_reads_as_a_full_read() {
        let path = temp("readinfo");
        let mut m = meta();
        m.taken_at_unix = 1_800_000_000;
        m.read = ReadInfo {
            kind: ReadKind::Refresh,
            last_full_read_unix: 1_799_990_000,
            server_taken_at_ms: Some(1_800_000_001_000),
            requests: 12,
            events: Some(3),
            since: Some("2027-01-15T07:59:00Z".into()),
            changes_since_full: 7,
            full_read_reason: None,
        };
        write(&path, &tricky(), &m).unwrap();
        assert_eq!(read(&path).unwrap().read_info(), m.read);
        // A file from a build that wrote version 1: no keys of how it was read.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "UPDATE meta SET value = '1' WHERE key = 'schema_version';
             DELETE FROM meta WHERE key IN ('read', 'last_full_read_at', 'server_taken_at',
               'requests', 'refresh_events', 'refresh_since', 'full_read_reason',
               'changes_since_full_read');",
        )
        .unwrap();
        drop(conn);
        let old = read(&path).unwrap();
        let info = old.read_info();
        assert_eq!(info.kind, ReadKind::Full);
        assert_eq!(info.last_full_read_unix, 1_800_000_000);
        assert_eq!(info.server_taken_at_ms, None);
        assert_eq!(old.dir.users, tricky().users);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn diff_names_every_change_and_nothing_else() {
        use crate::access::record::Principal;
        use diff::{ChangeKind, Subject};
        let old = tricky();
        assert!(diff::diff(&old, &old).is_empty());
        let mut new = tricky();
        // Bob leaves (and with him his membership and what it gave him); an invite arrives;
        // a role is renamed.
        new.users.retain(|u| u.id != "u2");
        if let Some(m) = new.members.get_mut("g1") {
            m.retain(|m| m.id != "u2");
        }
        new.invites.push("late@x.com".into());
        new.roles[0].name = "Source Boss".into();
        let changes = diff::diff(&old, &new);
        let people: Vec<(ChangeKind, String)> = changes
            .iter()
            .filter_map(|c| match &c.subject {
                Subject::Principal(p) => Some((c.change, p.display())),
                _ => None,
            })
            .collect();
        assert_eq!(
            people,
            vec![
                (ChangeKind::Removed, "bob@x.com".to_string()),
                (ChangeKind::Added, "invite:late@x.com".to_string()),
            ]
        );
        let roles: Vec<(ChangeKind, String)> = changes
            .iter()
            .filter_map(|c| match &c.subject {
                Subject::Role(r) => Some((c.change, r.name.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            roles,
            vec![
                (ChangeKind::Removed, "Source Admin".to_string()),
                (ChangeKind::Added, "Source Boss".to_string()),
            ]
        );
        let bob_grants: Vec<&diff::Change> = changes
            .iter()
            .filter(|c| matches!(&c.subject, Subject::Grant(g) if matches!(&g.principal, Principal::User { id, .. } if id == "u2")))
            .collect();
        // His membership of Analysts and the Warehouse Admin it gave him.
        assert_eq!(bob_grants.len(), 2);
        assert!(bob_grants.iter().all(|c| c.change == ChangeKind::Removed));
        assert_eq!(changes.len(), 2 + 2 + 2);
        let json = serde_json::to_value(bob_grants[0]).unwrap();
        assert_eq!(json["change"], "removed");
        assert!(json["principal"].is_object() && json.get("via").is_some());
        assert_eq!(
            diff::summary(&changes),
            "1 grant removed, 1 invite added, 1 membership removed, 1 role added, 1 role removed, 1 user removed"
        );
    }
}
