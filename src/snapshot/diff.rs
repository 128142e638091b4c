//! What changed between two directories: grants (memberships included), people who joined or
//! left, groups and roles that appeared or went away.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::access::directory::Directory;
use crate::access::grants;
use crate::access::record::{GrantRecord, Principal, RoleRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ChangeKind {
    Removed,
    Added,
}

impl ChangeKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
        }
    }
    pub(crate) fn sign(self) -> &'static str {
        match self {
            ChangeKind::Added => "+",
            ChangeKind::Removed => "-",
        }
    }
}

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Subject {
    /// A user, invite or group that exists in one side only.
    Principal(Principal),
    Role(RoleRef),
    Grant(GrantRecord),
}

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub change: ChangeKind,
    pub subject: Subject,
}

impl Change {
    /// `grant`, `membership`, `user`, `invite`, `group` or `role`.
    pub(crate) fn kind(&self) -> &'static str {
        match &self.subject {
            Subject::Principal(p) => p.kind(),
            Subject::Role(_) => "role",
            Subject::Grant(g) if g.is_membership() => "membership",
            Subject::Grant(_) => "grant",
        }
    }
}

/// `{"change": .., "kind": .., <fields of the subject>}`: a grant change is a grant record
/// with two more fields, so scripts that read grant records read it too.
impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("change", self.change.as_str())?;
        m.serialize_entry("kind", self.kind())?;
        match &self.subject {
            Subject::Principal(p) => m.serialize_entry("principal", p)?,
            Subject::Role(r) => m.serialize_entry("role", r)?,
            Subject::Grant(g) => {
                m.serialize_entry("principal", &g.principal)?;
                m.serialize_entry("role", &g.role)?;
                m.serialize_entry("resource", &g.resource)?;
                m.serialize_entry("labels", &g.labels)?;
                m.serialize_entry("via", &g.via)?;
            }
        }
        m.end()
    }
}

fn principals(dir: &Directory) -> Vec<Principal> {
    let mut v: Vec<Principal> = dir
        .users
        .iter()
        .map(|u| Principal::User {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
        })
        .collect();
    v.extend(
        dir.invites
            .iter()
            .map(|e| Principal::Invite { email: e.clone() }),
    );
    v.extend(dir.groups.iter().map(|g| Principal::Group {
        id: g.id.clone(),
        name: g.name.clone(),
    }));
    v
}

fn roles(dir: &Directory) -> Vec<RoleRef> {
    dir.roles
        .iter()
        .map(|r| RoleRef {
            id: r.id.clone(),
            name: r.name.clone(),
        })
        .collect()
}

/// Items of `a` not in `b`, then items of `b` not in `a`.
fn sides<T: Clone + Eq + std::hash::Hash>(a: &[T], b: &[T]) -> (Vec<T>, Vec<T>) {
    let sa: HashSet<&T> = a.iter().collect();
    let sb: HashSet<&T> = b.iter().collect();
    let removed = a.iter().filter(|x| !sb.contains(x)).cloned().collect();
    let added = b.iter().filter(|x| !sa.contains(x)).cloned().collect();
    (removed, added)
}

/// Every change from `old` to `new`: people, groups and roles first, then grants, each in
/// display order with removals before additions.
pub(crate) fn diff(old: &Directory, new: &Directory) -> Vec<Change> {
    let mut out = Vec::new();
    let (removed, added) = sides(&principals(old), &principals(new));
    let mut ps: Vec<(ChangeKind, Principal)> = removed
        .into_iter()
        .map(|p| (ChangeKind::Removed, p))
        .chain(added.into_iter().map(|p| (ChangeKind::Added, p)))
        .collect();
    ps.sort_by_cached_key(|(c, p)| (p.sort_key(), *c));
    out.extend(ps.into_iter().map(|(change, p)| Change {
        change,
        subject: Subject::Principal(p),
    }));

    let (removed, added) = sides(&roles(old), &roles(new));
    let mut rs: Vec<(ChangeKind, RoleRef)> = removed
        .into_iter()
        .map(|r| (ChangeKind::Removed, r))
        .chain(added.into_iter().map(|r| (ChangeKind::Added, r)))
        .collect();
    rs.sort_by_cached_key(|(c, r)| (r.name.to_lowercase(), r.id.clone(), *c));
    out.extend(rs.into_iter().map(|(change, r)| Change {
        change,
        subject: Subject::Role(r),
    }));

    let (removed, added) = sides(&grants::all_grants(old), &grants::all_grants(new));
    let mut gs: Vec<(ChangeKind, GrantRecord)> = removed
        .into_iter()
        .map(|g| (ChangeKind::Removed, g))
        .chain(added.into_iter().map(|g| (ChangeKind::Added, g)))
        .collect();
    gs.sort_by_cached_key(|(c, g)| (g.display_key(), *c));
    out.extend(gs.into_iter().map(|(change, g)| Change {
        change,
        subject: Subject::Grant(g),
    }));
    out
}

/// Counts by kind and direction, for a one-line summary.
pub(crate) fn summary(changes: &[Change]) -> String {
    let mut by: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for c in changes {
        *by.entry((c.kind(), c.change.as_str())).or_default() += 1;
    }
    by.iter()
        .map(|((k, c), n)| format!("{n} {k} {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}
