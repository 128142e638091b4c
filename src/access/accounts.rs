//! Accounts: inviting people, withdrawing invites, and removing users from the workspace.
//! Each function plans against what was read, so a command can show the plan and ask before
//! anything is written, and reports per email or user, as the grant and revoke commands do.

use crate::segment::Client;
use crate::segment::models::{InviteInput, InvitePermission, PermissionResource, User};

use super::directory::Directory;
use super::grants::{self, GrantFilter};
use super::journal::Change;
use super::plan::{Binding, ChangeResult, GroupRef, Status};
use super::record::{GrantRecord, Principal};

/// One email or user and what will happen to it.
#[derive(Debug, Clone)]
pub struct Planned {
    pub key: String,
    pub status: Status,
    pub message: String,
}

/// A plausible email address: something@something, without spaces. Segment checks the rest.
pub fn check_email(s: &str) -> Result<String, String> {
    let e = s.trim();
    match e.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !e.chars().any(char::is_whitespace)
                && !domain.contains('@') =>
        {
            Ok(e.to_string())
        }
        _ => Err(format!("{s:?} is not an email address")),
    }
}

/// Which emails to invite: people already in the workspace or already invited are no-ops.
pub fn plan_invites(dir: &Directory, emails: &[String]) -> Vec<Planned> {
    let mut seen = std::collections::HashSet::new();
    emails
        .iter()
        .filter(|e| seen.insert(e.to_lowercase()))
        .map(|e| {
            let (status, message) = if let Some(u) = dir
                .users
                .iter()
                .find(|u| u.email.eq_ignore_ascii_case(e))
            {
                (
                    Status::Noop,
                    format!("already a member of the workspace (user {})", u.id),
                )
            } else if dir.invites.iter().any(|i| i.eq_ignore_ascii_case(e)) {
                (
                    Status::Noop,
                    "already invited; to change what the invite grants, revoke-invite then invite again"
                        .to_string(),
                )
            } else {
                (Status::Planned, "will be invited".to_string())
            };
            Planned {
                key: e.clone(),
                status,
                message,
            }
        })
        .collect()
}

/// The invite permissions for a set of bindings, grouped by role as Segment expects.
pub fn invite_permissions(bindings: &[Binding]) -> Vec<InvitePermission> {
    let mut out: Vec<InvitePermission> = Vec::new();
    for b in bindings {
        let resource = PermissionResource {
            id: b.resource_id.clone(),
            resource_type: b.kind,
            labels: (!b.labels.is_empty()).then(|| {
                b.labels
                    .iter()
                    .map(|l| crate::segment::models::Label {
                        key: l.key.clone(),
                        value: l.value.clone(),
                        description: None,
                    })
                    .collect()
            }),
        };
        match out.iter_mut().find(|p| p.role_id == b.role_id) {
            Some(p) => p.resources.get_or_insert_with(Vec::new).push(resource),
            None => out.push(InvitePermission {
                role_id: b.role_id.clone(),
                resources: Some(vec![resource]),
                labels: None,
            }),
        }
    }
    out
}

/// Sends one `POST /invites` for every planned email.
pub async fn apply_invites(
    client: &Client,
    plans: &[Planned],
    permissions: &[InvitePermission],
) -> (Vec<ChangeResult>, Vec<Change>) {
    let todo: Vec<InviteInput> = plans
        .iter()
        .filter(|p| p.status == Status::Planned)
        .map(|p| InviteInput {
            email: p.key.clone(),
            permissions: (!permissions.is_empty()).then(|| permissions.to_vec()),
        })
        .collect();
    let sent = if todo.is_empty() {
        Ok(Vec::new())
    } else {
        match client.create_invites(&todo).await {
            // The invites may have been created before the failure: the pending list says.
            Err(e) if e.is_ambiguous() => match client.invites().await {
                Ok(now) => Ok(now),
                Err(_) => Err(e),
            },
            other => other,
        }
    };
    let mut results = Vec::new();
    let mut changes = Vec::new();
    for p in plans {
        if p.status != Status::Planned {
            results.push(result(&p.key, "invite", p.status, &p.message));
            continue;
        }
        match &sent {
            Ok(emails) if emails.iter().any(|e| e.eq_ignore_ascii_case(&p.key)) => {
                results.push(result(&p.key, "invite", Status::Applied, "invited"));
                changes.push(Change::Invite {
                    email: p.key.clone(),
                    created: true,
                    groups: Vec::new(),
                });
            }
            Ok(_) => results.push(result(
                &p.key,
                "invite",
                Status::Failed,
                "Segment did not confirm this invite; check `segment-access list invites`",
            )),
            Err(e) => results.push(result(&p.key, "invite", Status::Failed, &e.to_string())),
        }
    }
    (results, changes)
}

/// Which invites to withdraw, with the groups each sits in (so undo can put them back).
pub fn plan_revoke_invites(dir: &Directory, emails: &[String]) -> Vec<(Planned, Vec<GroupRef>)> {
    let mut seen = std::collections::HashSet::new();
    emails
        .iter()
        .filter(|e| seen.insert(e.to_lowercase()))
        .map(|e| {
            let pending = dir.invites.iter().find(|i| i.eq_ignore_ascii_case(e));
            let groups: Vec<GroupRef> = dir
                .groups
                .iter()
                .filter(|g| {
                    dir.group_invites
                        .get(&g.id)
                        .is_some_and(|inv| inv.iter().any(|i| i.eq_ignore_ascii_case(e)))
                })
                .map(|g| GroupRef {
                    id: g.id.clone(),
                    name: g.name.clone(),
                })
                .collect();
            let planned = match pending {
                Some(i) => Planned {
                    key: i.clone(),
                    status: Status::Planned,
                    message: if groups.is_empty() {
                        "invite will be withdrawn".to_string()
                    } else {
                        format!(
                            "invite will be withdrawn (and leave {})",
                            groups
                                .iter()
                                .map(|g| format!("group:{}", g.name))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    },
                },
                None => Planned {
                    key: e.clone(),
                    status: Status::Noop,
                    message: "no pending invite for this email".to_string(),
                },
            };
            (planned, groups)
        })
        .collect()
}

/// One `DELETE /invites` for every planned email.
pub async fn apply_revoke_invites(
    client: &Client,
    plans: &[(Planned, Vec<GroupRef>)],
) -> (Vec<ChangeResult>, Vec<Change>) {
    let todo: Vec<String> = plans
        .iter()
        .filter(|(p, _)| p.status == Status::Planned)
        .map(|(p, _)| p.key.clone())
        .collect();
    let sent = if todo.is_empty() {
        Ok(Vec::new())
    } else {
        match client.delete_invites(&todo).await {
            Ok(()) => Ok(Vec::new()),
            // The delete may have landed before the failure: what is still pending says.
            Err(e) if e.is_ambiguous() => match client.invites().await {
                Ok(still) => Ok(still),
                Err(_) => Err(e),
            },
            Err(e) => Err(e),
        }
    };
    let mut results = Vec::new();
    let mut changes = Vec::new();
    for (p, groups) in plans {
        if p.status != Status::Planned {
            results.push(result(&p.key, "revoke-invite", p.status, &p.message));
            continue;
        }
        match &sent {
            Ok(still) if still.iter().any(|e| e.eq_ignore_ascii_case(&p.key)) => {
                results.push(result(
                    &p.key,
                    "revoke-invite",
                    Status::Failed,
                    "Segment failed and the invite is still pending; run the command again",
                ));
            }
            Ok(_) => {
                results.push(result(
                    &p.key,
                    "revoke-invite",
                    Status::Applied,
                    "invite withdrawn",
                ));
                changes.push(Change::Invite {
                    email: p.key.clone(),
                    created: false,
                    groups: groups.clone(),
                });
            }
            Err(e) => results.push(result(
                &p.key,
                "revoke-invite",
                Status::Failed,
                &e.to_string(),
            )),
        }
    }
    (results, changes)
}

/// Everything a user holds (directly, through groups, and memberships), read fresh: what
/// removing them takes away.
pub async fn user_losses(
    client: &Client,
    base: &Directory,
    user: &User,
) -> Result<(Directory, Vec<GrantRecord>), crate::segment::Error> {
    let mut dir = base.clone();
    dir.narrow_to_user(client, &user.id).await?;
    let filter = GrantFilter {
        user_id: Some(user.id.clone()),
        ..GrantFilter::default()
    };
    let records = grants::grants(&dir, &filter);
    Ok((dir, records))
}

/// One `DELETE /users` for all the users, journaled with what each held directly.
pub async fn apply_remove_users(
    client: &Client,
    users: &[(User, Directory)],
) -> (Vec<ChangeResult>, Vec<Change>) {
    let ids: Vec<String> = users.iter().map(|(u, _)| u.id.clone()).collect();
    let sent = client.delete_users(&ids).await;
    let mut results = Vec::new();
    let mut changes = Vec::new();
    for (u, dir) in users {
        let name = u.email.clone();
        // After an ambiguous failure the users may be gone all the same: ask for each.
        let outcome = match &sent {
            Ok(()) => Ok(()),
            Err(e) if e.is_ambiguous() => match client.user(&u.id).await {
                Err(gone) if gone.is_not_found() => Ok(()),
                Ok(_) => Err(format!("{e}; the user is still in the workspace")),
                Err(_) => Err(format!(
                    "{e}; whether the user was removed is unknown: check `segment-access list users`"
                )),
            },
            Err(e) => Err(e.to_string()),
        };
        match &outcome {
            Ok(()) => {
                results.push(result(
                    &name,
                    "remove-user",
                    Status::Applied,
                    "removed from the workspace",
                ));
                let held = dir.users.first();
                changes.push(Change::UserRemoved {
                    principal: Principal::User {
                        id: u.id.clone(),
                        email: u.email.clone(),
                        name: u.name.clone(),
                    },
                    permissions: held.and_then(|h| h.permissions.clone()).unwrap_or_default(),
                    groups: dir
                        .groups
                        .iter()
                        .map(|g| crate::segment::models::MinimalUserGroup {
                            id: g.id.clone(),
                            name: g.name.clone(),
                        })
                        .collect(),
                });
            }
            Err(e) => results.push(result(&name, "remove-user", Status::Failed, e)),
        }
    }
    (results, changes)
}

pub fn result(principal: &str, action: &str, status: Status, message: &str) -> ChangeResult {
    ChangeResult {
        principal: principal.to_string(),
        action: action.to_string(),
        role: None,
        resource: None,
        labels: Vec::new(),
        status,
        message: message.to_string(),
        line: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked() {
        assert_eq!(check_email(" a@b.co ").unwrap(), "a@b.co");
        for bad in ["ann", "@x.com", "a@b", "a b@c.com", "a@b@c.com", ""] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn invites_skip_members_and_pending_invites_once_each() {
        let dir = Directory {
            users: vec![User {
                id: "u1".into(),
                name: "Ann".into(),
                email: "ann@x.com".into(),
                permissions: None,
            }],
            invites: vec!["new@x.com".into()],
            ..Directory::default()
        };
        let emails: Vec<String> = ["ANN@x.com", "new@x.com", "bob@x.com", "Bob@x.com"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let plans = plan_invites(&dir, &emails);
        let got: Vec<(String, Status)> = plans.iter().map(|p| (p.key.clone(), p.status)).collect();
        assert_eq!(
            got,
            vec![
                ("ANN@x.com".to_string(), Status::Noop),
                ("new@x.com".to_string(), Status::Noop),
                ("bob@x.com".to_string(), Status::Planned),
            ]
        );
        assert!(plans[0].message.contains("u1"));
    }
}
