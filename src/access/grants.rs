//! Effective access: every direct grant, every grant held through a group, and every group
//! membership, as grant records.

use std::collections::HashMap;

use crate::segment::models::{Permission, ResourceType, UserGroup};
use crate::segment::roles;

use super::directory::{Directory, ResourceNames};
use super::record::*;

/// Which records a question wants. All set filters must match.
#[derive(Debug, Clone, Default)]
pub(crate) struct GrantFilter {
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    pub role_id: Option<String>,
    pub resource: Option<ResourceMatch>,
    /// Only grants held directly (and memberships), not those inherited through a group.
    pub direct_only: bool,
}

/// A resource to match, with what is needed to decide whether a workspace-wide binding reaches
/// it (its type, and its labels for label-narrowed bindings).
#[derive(Debug, Clone)]
pub(crate) struct ResourceMatch {
    pub kind: ResourceKind,
    pub id: String,
    pub labels: Vec<LabelRef>,
}

impl From<super::resolve::ResolvedResource> for ResourceMatch {
    fn from(r: super::resolve::ResolvedResource) -> ResourceMatch {
        ResourceMatch {
            kind: r.kind,
            id: r.id,
            labels: r.labels,
        }
    }
}

impl GrantFilter {
    pub(crate) fn matches(&self, g: &GrantRecord) -> bool {
        if let Some(uid) = &self.user_id
            && !matches!(&g.principal, Principal::User { id, .. } if id == uid)
        {
            return false;
        }
        if let Some(gid) = &self.group_id {
            let as_principal = matches!(&g.principal, Principal::Group { id, .. } if id == gid);
            let as_via = g.via.as_ref().is_some_and(|v| &v.id == gid);
            let as_membership = g.is_membership() && &g.resource.id == gid;
            if !(as_principal || as_via || as_membership) {
                return false;
            }
        }
        if let Some(rid) = &self.role_id
            && g.role.as_ref().is_none_or(|r| &r.id != rid)
        {
            return false;
        }
        if self.direct_only && g.via.is_some() {
            return false;
        }
        if let Some(m) = &self.resource
            && !reaches(g, m)
        {
            return false;
        }
        true
    }
}

/// Whether a grant gives access to the resource: bound to it exactly, or bound at workspace
/// level by a role that covers that kind of resource (Workspace Owner covers everything), and,
/// when the binding is narrowed by labels, carrying at least one of them.
pub(crate) fn reaches(g: &GrantRecord, m: &ResourceMatch) -> bool {
    if g.resource.kind == m.kind && g.resource.id == m.id {
        return true;
    }
    if g.resource.kind != ResourceKind::Workspace || m.kind == ResourceKind::Group {
        return false;
    }
    let Some(role) = &g.role else {
        return false;
    };
    let Some(kind) = m.kind.api_type() else {
        return false;
    };
    let covers = role.name.eq_ignore_ascii_case("Workspace Owner")
        || roles::builtin(&role.name).is_some_and(|spec| {
            kind != ResourceType::Workspace
                && spec.can_bind(ResourceType::Workspace)
                && spec.can_bind(kind)
        });
    // A labelled binding reaches every resource that carries any one of its labels.
    covers && (g.labels.is_empty() || g.labels.iter().any(|l| m.labels.contains(l)))
}

/// Every grant record the directory implies, in display order.
pub(crate) fn all_grants(dir: &Directory) -> Vec<GrantRecord> {
    iter(dir, &GrantFilter::default()).collect()
}

/// The grants matching a filter.
pub(crate) fn grants(dir: &Directory, filter: &GrantFilter) -> Vec<GrantRecord> {
    iter(dir, filter).collect()
}

/// The grants matching a filter, in display order, computed one principal at a time so that
/// a caller streaming them out never holds more than one principal's records.
pub(crate) fn iter<'a>(
    dir: &'a Directory,
    filter: &'a GrantFilter,
) -> impl Iterator<Item = GrantRecord> + 'a {
    by_principal(dir).flat_map(move |(_, mut recs)| {
        recs.retain(|g| filter.matches(g));
        recs
    })
}

/// Every principal's grant records, one principal at a time, in display order: what a
/// snapshot rewrites of a principal whose records changed.
pub(crate) fn by_principal(
    dir: &Directory,
) -> impl Iterator<Item = (Principal, Vec<GrantRecord>)> + '_ {
    // Looked up once per grant: a map, not a scan of every source.
    let names = ResourceNames::of(dir);
    subjects(dir).into_iter().map(move |s| {
        let records = s.records(&names);
        (s.principal, records)
    })
}

/// A principal with what gives it access: its own permissions and the groups it is in.
struct Subject<'a> {
    principal: Principal,
    own: &'a [Permission],
    groups: Vec<&'a UserGroup>,
}

impl Subject<'_> {
    fn records(&self, names: &ResourceNames) -> Vec<GrantRecord> {
        let mut out = Vec::new();
        for perm in self.own {
            push_permission(names, &self.principal, perm, None, &mut out);
        }
        for g in &self.groups {
            out.push(GrantRecord {
                principal: self.principal.clone(),
                role: None,
                resource: ResourceRef {
                    kind: ResourceKind::Group,
                    id: g.id.clone(),
                    name: Some(g.name.clone()),
                },
                labels: Vec::new(),
                via: None,
            });
            let via = Via {
                kind: ViaKind::Group,
                id: g.id.clone(),
                name: g.name.clone(),
            };
            for perm in g.permissions.iter().flatten() {
                push_permission(names, &self.principal, perm, Some(&via), &mut out);
            }
        }
        out.sort_by_cached_key(GrantRecord::display_key);
        out.dedup();
        out
    }
}

/// Every principal that holds anything, in display order: users (those listed, and members the
/// directory only knows from a group), invites that sit in groups, then groups.
fn subjects(dir: &Directory) -> Vec<Subject<'_>> {
    let mut users: HashMap<&str, Subject<'_>> = HashMap::new();
    for u in &dir.users {
        users.insert(
            &u.id,
            Subject {
                principal: Principal::User {
                    id: u.id.clone(),
                    email: u.email.clone(),
                    name: u.name.clone(),
                },
                own: u.permissions.as_deref().unwrap_or_default(),
                groups: Vec::new(),
            },
        );
    }
    let mut invites: HashMap<&str, Subject<'_>> = HashMap::new();
    for g in &dir.groups {
        for m in dir.members.get(&g.id).into_iter().flatten() {
            users
                .entry(&m.id)
                .or_insert_with(|| Subject {
                    principal: Principal::User {
                        id: m.id.clone(),
                        email: m.email.clone(),
                        name: m.name.clone(),
                    },
                    own: &[],
                    groups: Vec::new(),
                })
                .groups
                .push(g);
        }
        for e in dir.group_invites.get(&g.id).into_iter().flatten() {
            invites
                .entry(e)
                .or_insert_with(|| Subject {
                    principal: Principal::Invite { email: e.clone() },
                    own: &[],
                    groups: Vec::new(),
                })
                .groups
                .push(g);
        }
    }
    let groups = dir.groups.iter().map(|g| Subject {
        principal: Principal::Group {
            id: g.id.clone(),
            name: g.name.clone(),
        },
        own: g.permissions.as_deref().unwrap_or_default(),
        groups: Vec::new(),
    });
    let mut all: Vec<Subject<'_>> = users
        .into_values()
        .chain(invites.into_values())
        .chain(groups)
        .collect();
    all.sort_by_cached_key(|s| s.principal.sort_key());
    all
}

fn push_permission(
    names: &ResourceNames,
    principal: &Principal,
    perm: &Permission,
    via: Option<&Via>,
    out: &mut Vec<GrantRecord>,
) {
    let role = RoleRef {
        id: perm.role_id.clone(),
        name: perm.role_name.clone(),
    };
    for r in &perm.resources {
        let labels = super::plan::resource_labels(perm, r);
        out.push(GrantRecord {
            principal: principal.clone(),
            role: Some(role.clone()),
            resource: ResourceRef {
                kind: r.resource_type.into(),
                id: r.id.clone(),
                name: names.get(r.resource_type, &r.id),
            },
            labels,
            via: via.cloned(),
        });
    }
}
