//! Turning what was asked (command-line names, or grant records from a batch) into changes on
//! resolved principals, bindings and groups, refusing what Segment would refuse before any write.

use crate::segment::models::{ResourceType, Role};
use crate::segment::roles;

use super::directory::Directory;
use super::plan::{Action, Binding, GroupRef, Item, Status, Want};
use super::record::{GrantRecord, LabelRef, Principal, ResourceKind};
use super::resolve::{self, ResolveError};

/// `<email|user id>`, `group:<id|name>` or `invite:<email>`.
pub(crate) fn principal(dir: &Directory, input: &str) -> Result<Principal, ResolveError> {
    if let Some(g) = input.strip_prefix("group:") {
        let g = resolve::group(&dir.groups, g)?;
        return Ok(Principal::Group {
            id: g.id.clone(),
            name: g.name.clone(),
        });
    }
    if let Some(email) = input.strip_prefix("invite:") {
        return dir
            .invites
            .iter()
            .find(|e| e.eq_ignore_ascii_case(email.trim()))
            .map(|e| Principal::Invite { email: e.clone() })
            .ok_or_else(|| ResolveError::NotFound {
                kind: "pending invite",
                input: email.to_string(),
                candidates: Vec::new(),
            });
    }
    let u = resolve::user(&dir.users, input)?;
    Ok(Principal::User {
        id: u.id.clone(),
        email: u.email.clone(),
        name: u.name.clone(),
    })
}

/// Why a binding cannot be made, in Segment's terms, or `None` when it can.
pub(crate) fn binding_problem(
    role: &Role,
    kind: ResourceType,
    labels: &[LabelRef],
) -> Option<String> {
    let spec = roles::builtin(&role.name)?;
    if !spec.can_bind(kind) {
        let allowed: Vec<&str> = spec.bindable.iter().map(|t| t.as_cli_str()).collect();
        return Some(format!(
            "role {:?} cannot be bound to a {}; it can be bound to: {}",
            role.name,
            kind.as_cli_str(),
            allowed.join(", ")
        ));
    }
    if !labels.is_empty() && kind != ResourceType::Workspace {
        return Some("labels narrow only workspace-level bindings (--on workspace)".to_string());
    }
    if !labels.is_empty() && !spec.labels_allowed {
        return Some(format!("role {:?} does not support labels", role.name));
    }
    None
}

/// Why a binding cannot be made: a name that resolves to nothing (or to several), or a
/// binding Segment's role table forbids.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BindingError {
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error("{0}")]
    NotBindable(String),
}

/// A binding from resolved names, checked against the role table.
pub(crate) fn binding(
    dir: &Directory,
    role: &Role,
    resource: &str,
    labels: &[LabelRef],
) -> Result<Binding, BindingError> {
    let r = resolve::resource(dir, resource)?;
    let kind = r
        .kind
        .api_type()
        .ok_or_else(|| BindingError::NotBindable("a group is not a resource".to_string()))?;
    if let Some(p) = binding_problem(role, kind, labels) {
        return Err(BindingError::NotBindable(p));
    }
    let mut labels = labels.to_vec();
    labels.sort();
    labels.dedup();
    Ok(Binding {
        role_id: role.id.clone(),
        role_name: role.name.clone(),
        kind,
        resource_id: r.id,
        resource_name: Some(r.name),
        labels,
    })
}

/// `k=v`
pub(crate) fn parse_label(s: &str) -> Result<LabelRef, String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => Ok(LabelRef {
            key: k.trim().to_string(),
            value: v.trim().to_string(),
        }),
        _ => Err(format!("label {s:?} is not key=value (e.g. env=prod)")),
    }
}

/// One batch record as a change. Problems become refused items, reported per record.
pub(crate) fn from_record(dir: &Directory, action: Action, line: usize, rec: &GrantRecord) -> Want {
    let refuse = |status: Status, message: String| Item::Refused { status, message };
    let principal = match known_principal(dir, &rec.principal) {
        Ok(p) => p,
        Err(m) => {
            return Want {
                principal: rec.principal.clone(),
                item: refuse(Status::Failed, m),
                line: Some(line),
            };
        }
    };
    let item = if let Some(via) = &rec.via {
        let what = match action {
            Action::Revoke => format!(
                "held through group {:?}, not directly: remove the membership (revoke --to {} --group {}) or the group's own grant (revoke --to group:{} ...)",
                via.name,
                principal.display(),
                via.id,
                via.id
            ),
            Action::Grant => format!(
                "inherited through group {:?}; not granted directly (drop \"via\" to grant it directly)",
                via.name
            ),
        };
        let status = match action {
            Action::Revoke => Status::Failed,
            Action::Grant => Status::Skipped,
        };
        refuse(status, what)
    } else if rec.is_membership() {
        match dir.group(&rec.resource.id) {
            Some(g) => Item::Member(GroupRef {
                id: g.id.clone(),
                name: g.name.clone(),
            }),
            None => refuse(
                Status::Failed,
                format!("no group with id {:?}", rec.resource.id),
            ),
        }
    } else {
        match record_binding(dir, action, rec) {
            Ok(b) => Item::Bind(b),
            Err(m) => refuse(Status::Failed, m),
        }
    };
    Want {
        principal,
        item,
        line: Some(line),
    }
}

fn record_binding(dir: &Directory, action: Action, rec: &GrantRecord) -> Result<Binding, String> {
    let role_ref = rec
        .role
        .as_ref()
        .ok_or("role is null but the resource is not a group")?;
    let role = dir
        .roles
        .iter()
        .find(|r| r.id == role_ref.id)
        .ok_or_else(|| format!("no role with id {:?} ({})", role_ref.id, role_ref.name))?;
    let kind = rec
        .resource
        .kind
        .api_type()
        .ok_or("a role cannot be bound to a group")?;
    let known = rec.resource.kind == ResourceKind::Workspace
        || dir.resource_name(kind, &rec.resource.id).is_some();
    // A binding on a resource the workspace no longer lists can still be revoked (by id); it
    // cannot be granted.
    if !known && action == Action::Grant {
        return Err(format!(
            "no {} with id {:?} in this workspace",
            kind.as_cli_str(),
            rec.resource.id
        ));
    }
    let workspace_id = dir.workspace.as_ref().map(|w| w.id.clone());
    let resource_id = if rec.resource.kind == ResourceKind::Workspace {
        workspace_id.unwrap_or_else(|| rec.resource.id.clone())
    } else {
        rec.resource.id.clone()
    };
    if let Some(p) = binding_problem(role, kind, &rec.labels) {
        return Err(p);
    }
    let mut labels = rec.labels.clone();
    labels.sort();
    labels.dedup();
    Ok(Binding {
        role_id: role.id.clone(),
        role_name: role.name.clone(),
        kind,
        resource_id,
        resource_name: dir.resource_name(kind, &rec.resource.id),
        labels,
    })
}

/// The principal as the workspace knows it now, by id (users, groups) or email (invites).
fn known_principal(dir: &Directory, p: &Principal) -> Result<Principal, String> {
    match p {
        Principal::User { id, .. } => dir
            .user(id)
            .map(|u| Principal::User {
                id: u.id.clone(),
                email: u.email.clone(),
                name: u.name.clone(),
            })
            .ok_or_else(|| format!("no user with id {id:?} in this workspace")),
        Principal::Group { id, .. } => dir
            .group(id)
            .map(|g| Principal::Group {
                id: g.id.clone(),
                name: g.name.clone(),
            })
            .ok_or_else(|| format!("no group with id {id:?} in this workspace")),
        Principal::Invite { email } => dir
            .invites
            .iter()
            .find(|e| e.eq_ignore_ascii_case(email))
            .map(|e| Principal::Invite { email: e.clone() })
            .ok_or_else(|| format!("no pending invite for {email:?}")),
    }
}
