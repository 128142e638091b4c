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
        if g.trim().is_empty() {
            return Err(ResolveError::Syntax(
                "group: needs a group name or id after the colon, e.g. group:Analysts".into(),
            ));
        }
        let g = resolve::group(&dir.groups, g)?;
        return Ok(Principal::Group {
            id: g.id.clone(),
            name: g.name.clone(),
        });
    }
    if let Some(email) = input.strip_prefix("invite:") {
        let email = email.trim();
        if super::accounts::check_email(email).is_err() {
            return Err(ResolveError::Syntax(format!(
                "{input:?} is not invite:<email>, e.g. invite:new.hire@example.com"
            )));
        }
        return dir
            .invites
            .iter()
            .find(|e| e.eq_ignore_ascii_case(email))
            .map(|e| Principal::Invite { email: e.clone() })
            .ok_or_else(|| ResolveError::NotFound {
                kind: "pending invite",
                input: email.to_string(),
                candidates: resolve::nearest(email, dir.invites.iter().map(String::as_str)),
            });
    }
    match resolve::user(&dir.users, input) {
        Ok(u) => Ok(Principal::User {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
        }),
        // The name of a group or a pending invite, typed without its prefix.
        Err(ResolveError::NotFound { .. }) if resolve::group(&dir.groups, input).is_ok() => {
            Err(ResolveError::Syntax(format!(
                "{input:?} is a group, not a user: write group:{input}"
            )))
        }
        Err(ResolveError::NotFound { .. })
            if dir
                .invites
                .iter()
                .any(|e| e.eq_ignore_ascii_case(input.trim())) =>
        {
            Err(ResolveError::Syntax(format!(
                "{input:?} is a pending invite, not a user yet: write invite:{}",
                input.trim()
            )))
        }
        // A typo of a group's name or a pending invite's email: suggest them, prefixed.
        Err(ResolveError::NotFound {
            kind,
            input,
            mut candidates,
        }) => {
            let groups: Vec<String> = dir.groups.iter().map(|g| g.name.clone()).collect();
            let near_groups = near_either(&input, &groups, "group:");
            let near_invites = near_either(&input, &dir.invites, "invite:");
            candidates.extend(near_groups.into_iter().chain(near_invites));
            candidates.truncate(5);
            Err(ResolveError::NotFound {
                kind,
                input,
                candidates,
            })
        }
        Err(e) => Err(e),
    }
}

/// Names near `input`, as `prefix` + name: compared both with and without the prefix, so a
/// typo in a name typed bare (`Data Enginering`) or prefixed (`grup:Data Engineering`) is
/// found.
fn near_either(input: &str, names: &[String], prefix: &str) -> Vec<String> {
    let prefixed: Vec<String> = names.iter().map(|n| format!("{prefix}{n}")).collect();
    let mut out: Vec<String> = resolve::nearest(input, names.iter().map(String::as_str))
        .into_iter()
        .map(|n| format!("{prefix}{n}"))
        .collect();
    for p in resolve::nearest(input, prefixed.iter().map(String::as_str)) {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
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

/// Why a record cannot become a change.
enum Refusal {
    /// The record names something the workspace does not have, or Segment would refuse.
    Failed(String),
    /// The record contradicts the workspace: an id and a name or email that disagree.
    Invalid(String),
}

impl From<String> for Refusal {
    fn from(m: String) -> Refusal {
        Refusal::Failed(m)
    }
}

impl From<&str> for Refusal {
    fn from(m: &str) -> Refusal {
        Refusal::Failed(m.to_string())
    }
}

/// One batch record as a change. Problems become refused items, reported per record with what
/// the record named, so every reference is checked before anything is written and a bad
/// record fails alone.
pub(crate) fn from_record(dir: &Directory, action: Action, line: usize, rec: &GrantRecord) -> Want {
    let refuse = |status: Status, r: Refusal| {
        let (message, invalid) = match r {
            Refusal::Failed(m) => (m, false),
            Refusal::Invalid(m) => (m, true),
        };
        Item::Refused {
            status,
            message,
            invalid,
            role: rec.role.as_ref().map(|r| r.name.clone()),
            resource: Some(rec.resource.display()),
            labels: rec.labels.clone(),
        }
    };
    let principal = match known_principal(dir, &rec.principal) {
        Ok(p) => p,
        Err(r) => {
            return Want {
                principal: rec.principal.clone(),
                item: refuse(Status::Failed, r),
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
        refuse(status, Refusal::Failed(what))
    } else if rec.is_membership() {
        match membership_group(dir, rec) {
            Ok(g) => Item::Member(g),
            Err(r) => refuse(Status::Failed, r),
        }
    } else {
        match record_binding(dir, action, rec) {
            Ok(b) => Item::Bind(b),
            Err(r) => refuse(Status::Failed, r),
        }
    };
    Want {
        principal,
        item,
        line: Some(line),
    }
}

/// The group of a membership record, its id and name agreeing with the workspace.
fn membership_group(dir: &Directory, rec: &GrantRecord) -> Result<GroupRef, Refusal> {
    let g = dir.group(&rec.resource.id).ok_or_else(|| {
        format!(
            "no group with id {:?}{}",
            rec.resource.id,
            near_group(dir, rec.resource.name.as_deref())
        )
    })?;
    if let Some(name) = &rec.resource.name
        && name != &g.name
    {
        return Err(disagree("group", &g.id, name, &g.name));
    }
    Ok(GroupRef {
        id: g.id.clone(),
        name: g.name.clone(),
    })
}

/// The message for a record whose id names one thing and whose name or email another.
fn disagree(what: &str, id: &str, record_says: &str, workspace_says: &str) -> Refusal {
    Refusal::Invalid(format!(
        "the record's {what} {id:?} is {workspace_says:?} in this workspace, not {record_says:?}; ids decide what changes, so fix the record (or take it from a fresh `list grants`)"
    ))
}

fn record_binding(dir: &Directory, action: Action, rec: &GrantRecord) -> Result<Binding, Refusal> {
    let role_ref = rec
        .role
        .as_ref()
        .ok_or("role is null but the resource is not a group")?;
    let role = dir
        .roles
        .iter()
        .find(|r| r.id == role_ref.id)
        .ok_or_else(|| {
            let near = dir
                .roles
                .iter()
                .filter(|r| {
                    r.name.eq_ignore_ascii_case(&role_ref.name)
                        || !resolve::nearest(&role_ref.name, [r.name.as_str()]).is_empty()
                })
                .map(|r| format!("{} ({})", r.name, r.id))
                .collect::<Vec<_>>();
            format!(
                "no role with id {:?} ({}){}",
                role_ref.id,
                role_ref.name,
                did_you_mean(&near)
            )
        })?;
    if role.name != role_ref.name {
        return Err(disagree("role", &role.id, &role_ref.name, &role.name));
    }
    let kind = rec
        .resource
        .kind
        .api_type()
        .ok_or("a role cannot be bound to a group")?;
    let resource_id = if rec.resource.kind == ResourceKind::Workspace {
        let w = dir.workspace.as_ref().ok_or("the workspace was not read")?;
        if rec.resource.id != w.id {
            return Err(Refusal::Invalid(format!(
                "the record is for workspace {:?}, but this token's workspace is {:?} ({}); grant records do not carry over between workspaces",
                rec.resource.id, w.id, w.slug
            )));
        }
        w.id.clone()
    } else {
        match dir.resource_name(kind, &rec.resource.id) {
            Some(name) => {
                if let Some(said) = &rec.resource.name
                    && said != &name
                {
                    return Err(disagree(kind.as_cli_str(), &rec.resource.id, said, &name));
                }
            }
            // A binding on a resource the workspace no longer lists can still be revoked (by
            // id); it cannot be granted.
            None if action == Action::Revoke => {}
            None => {
                // The record's name, if it names a resource the workspace has (under another
                // id) or one close to it.
                let near = rec
                    .resource
                    .name
                    .as_deref()
                    .map(
                        |n| match resolve::resource(dir, &format!("{}:{n}", kind.as_cli_str())) {
                            Ok(r) => vec![format!("{} ({})", r.name, r.id)],
                            Err(ResolveError::NotFound { candidates, .. }) => candidates,
                            Err(_) => Vec::new(),
                        },
                    )
                    .unwrap_or_default();
                return Err(format!(
                    "no {} with id {:?} in this workspace{}",
                    kind.as_cli_str(),
                    rec.resource.id,
                    did_you_mean(&near)
                )
                .into());
            }
        }
        rec.resource.id.clone()
    };
    if let Some(p) = binding_problem(role, kind, &rec.labels) {
        return Err(p.into());
    }
    // A grant with a label the workspace does not have would fail for the whole principal at
    // Segment; a revoke may name a label since deleted (the binding still carries it).
    if action == Action::Grant {
        unknown_labels(dir, &rec.labels)?;
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

/// An error naming the labels the workspace does not have, with the nearest it has.
pub(crate) fn unknown_labels(dir: &Directory, labels: &[LabelRef]) -> Result<(), String> {
    let known: Vec<String> = dir
        .labels
        .iter()
        .map(|l| format!("{}={}", l.key, l.value))
        .collect();
    let Some(bad) = labels.iter().find(|l| !known.contains(&l.to_string())) else {
        return Ok(());
    };
    let mut m = format!("no label {bad} in this workspace");
    let near = resolve::nearest(&bad.to_string(), known.iter().map(String::as_str));
    if !near.is_empty() {
        m.push_str(&format!("; did you mean {}?", near.join(", ")));
    } else if known.is_empty() {
        m.push_str("; it has no labels (`segment-access list labels`)");
    } else {
        m.push_str(&format!("; it has: {}", known.join(", ")));
    }
    Err(m)
}

/// The principal as the workspace knows it now, by id (users, groups) or email (invites); a
/// record whose id and email (or group name) disagree is refused.
fn known_principal(dir: &Directory, p: &Principal) -> Result<Principal, Refusal> {
    match p {
        Principal::User { id, email, .. } => {
            let u = dir.user(id).ok_or_else(|| {
                let near: Vec<String> = match resolve::user(&dir.users, email) {
                    Ok(u) => vec![format!("{} ({})", u.email, u.id)],
                    Err(ResolveError::NotFound { candidates, .. }) => candidates,
                    Err(_) => Vec::new(),
                };
                format!(
                    "no user with id {id:?} ({email}) in this workspace{}",
                    did_you_mean(&near)
                )
            })?;
            if !u.email.eq_ignore_ascii_case(email) {
                return Err(disagree("user", id, email, &u.email));
            }
            Ok(Principal::User {
                id: u.id.clone(),
                email: u.email.clone(),
                name: u.name.clone(),
            })
        }
        Principal::Group { id, name } => {
            let g = dir.group(id).ok_or_else(|| {
                format!(
                    "no group with id {id:?} in this workspace{}",
                    near_group(dir, Some(name))
                )
            })?;
            if &g.name != name {
                return Err(disagree("group", id, name, &g.name));
            }
            Ok(Principal::Group {
                id: g.id.clone(),
                name: g.name.clone(),
            })
        }
        Principal::Invite { email } => Ok(dir
            .invites
            .iter()
            .find(|e| e.eq_ignore_ascii_case(email))
            .map(|e| Principal::Invite { email: e.clone() })
            .ok_or_else(|| {
                let near = resolve::nearest(email, dir.invites.iter().map(String::as_str));
                format!("no pending invite for {email:?}{}", did_you_mean(&near))
            })?),
    }
}

/// `; did you mean A, B?`, or nothing.
fn did_you_mean(candidates: &[String]) -> String {
    if candidates.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", candidates.join(", "))
    }
}

/// The groups a record's group name matches or nearly matches, as `; did you mean ...?`.
fn near_group(dir: &Directory, name: Option<&str>) -> String {
    let Some(name) = name else {
        return String::new();
    };
    match resolve::group(&dir.groups, name) {
        Ok(g) => did_you_mean(&[format!("{} ({})", g.name, g.id)]),
        Err(
            ResolveError::NotFound { candidates, .. } | ResolveError::Ambiguous { candidates, .. },
        ) => did_you_mean(&candidates),
        Err(_) => String::new(),
    }
}
