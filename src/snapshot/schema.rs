//! The snapshot file's schema. Readers check `meta.schema_version` before trusting anything
//! else; any change to a table or column below bumps `SCHEMA_VERSION` (docs/snapshots.md).

/// The version this build writes.
pub const SCHEMA_VERSION: i64 = 2;

/// Versions this build reads. Version 1 lacks the meta keys of how the snapshot was read; it
/// is read as a full read at its `taken_at`.
pub(crate) const READS: [i64; 2] = [1, 2];

/// Every table and index, created in one transaction with the data.
pub(crate) const CREATE: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE workspace (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    slug    TEXT NOT NULL,
    api_url TEXT NOT NULL
);
CREATE TABLE users (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    email TEXT NOT NULL,
    ord   INTEGER NOT NULL
);
CREATE INDEX users_email ON users (email COLLATE NOCASE);
CREATE TABLE invites (
    email TEXT PRIMARY KEY,
    ord   INTEGER NOT NULL
);
CREATE TABLE groups (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    member_count        REAL NOT NULL,
    permissions_listed  INTEGER NOT NULL,
    ord                 INTEGER NOT NULL
);
CREATE INDEX groups_name ON groups (name COLLATE NOCASE);
CREATE TABLE group_members (
    group_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    name     TEXT NOT NULL,
    email    TEXT NOT NULL,
    ord      INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);
CREATE TABLE group_invites (
    group_id TEXT NOT NULL,
    email    TEXT NOT NULL,
    ord      INTEGER NOT NULL,
    PRIMARY KEY (group_id, email)
);
CREATE INDEX group_invites_email ON group_invites (email);
CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    ord         INTEGER NOT NULL
);
CREATE TABLE resources (
    type   TEXT NOT NULL,
    id     TEXT NOT NULL,
    name   TEXT NOT NULL,
    slug   TEXT,
    labels TEXT NOT NULL,
    raw    TEXT NOT NULL,
    ord    INTEGER NOT NULL,
    PRIMARY KEY (type, id)
);
CREATE TABLE labels (
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    description TEXT,
    PRIMARY KEY (key, value)
);
CREATE TABLE permissions (
    principal_type  TEXT NOT NULL,
    principal_id    TEXT NOT NULL,
    perm_ord        INTEGER NOT NULL,
    res_ord         INTEGER NOT NULL,
    role_id         TEXT NOT NULL,
    role_name       TEXT NOT NULL,
    resource_type   TEXT,
    resource_id     TEXT,
    labels          TEXT NOT NULL,
    resource_labels_raw   TEXT,
    permission_labels_raw TEXT
);
CREATE INDEX permissions_principal ON permissions (principal_type, principal_id);
CREATE INDEX permissions_role ON permissions (role_id);
CREATE INDEX permissions_resource ON permissions (resource_type, resource_id);
CREATE TABLE grants (
    principal_type  TEXT NOT NULL,
    principal_id    TEXT,
    principal_email TEXT,
    principal_name  TEXT,
    role_id         TEXT,
    role_name       TEXT,
    resource_type   TEXT NOT NULL,
    resource_id     TEXT NOT NULL,
    resource_name   TEXT,
    labels          TEXT NOT NULL,
    via_group_id    TEXT,
    via_group_name  TEXT,
    record          TEXT NOT NULL
);
CREATE INDEX grants_principal ON grants (principal_type, principal_id);
CREATE INDEX grants_email ON grants (principal_email COLLATE NOCASE);
CREATE INDEX grants_role ON grants (role_id);
CREATE INDEX grants_role_name ON grants (role_name COLLATE NOCASE);
CREATE INDEX grants_resource ON grants (resource_type, resource_id);
CREATE INDEX grants_via ON grants (via_group_id);
";
