//! Accounts: inviting people, withdrawing invites, and removing users from the workspace.
//! Each function plans against what was read, so a command can show the plan and ask before
//! anything is written, and reports per email or user, as the grant and revoke commands do.

use crate::segment::Client;
use crate::segment::models::{InviteInput, InvitePermission, PermissionResource, User};

use super::change::{ChangePlan, Ledger, stop_reason};
use super::directory::Directory;
use super::grants::{self, GrantFilter};
use super::journal::Change;
use super::plan::{Binding, ChangeResult, GroupRef, Status};
use super::record::{GrantRecord, Principal};
use super::resolve::{self, ResolveError};

/// One email or user and what will happen to it.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub key: String,
    pub status: Status,
    pub message: String,
}

/// A plausible email address: something@something, without spaces. Segment checks the rest.
pub(crate) fn check_email(s: &str) -> Result<String, String> {
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
fn plan_invites(dir: &Directory, emails: &[String]) -> Vec<Planned> {
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
fn invite_permissions(bindings: &[Binding]) -> Vec<InvitePermission> {
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

/// Invitations to send, with the bindings they carry.
pub(crate) struct InvitePlan {
    pub plans: Vec<Planned>,
    pub bindings: Vec<Binding>,
    /// Groups the invited people join (as pending members) once invited.
    pub groups: Vec<GroupRef>,
    pub workspace_id: String,
}

impl InvitePlan {
    pub(crate) fn new(
        dir: &Directory,
        emails: &[String],
        bindings: Vec<Binding>,
        groups: Vec<GroupRef>,
    ) -> InvitePlan {
        InvitePlan {
            plans: plan_invites(dir, emails),
            bindings,
            groups,
            workspace_id: workspace_id(dir),
        }
    }
}

fn workspace_id(dir: &Directory) -> String {
    dir.workspace
        .as_ref()
        .map(|w| w.id.clone())
        .unwrap_or_default()
}

fn pending(plans: &[Planned]) -> usize {
    plans.iter().filter(|p| p.status == Status::Planned).count()
}

impl ChangePlan for InvitePlan {
    fn command(&self) -> &'static str {
        "invite"
    }

    fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.plans {
            if p.status != Status::Planned {
                out.push(format!("  {}: {}", p.key, p.message));
                continue;
            }
            out.push(format!("+ invite {}", p.key));
            out.extend(
                self.bindings
                    .iter()
                    .map(|b| format!("    + {}", b.display())),
            );
            out.extend(
                self.groups
                    .iter()
                    .map(|g| format!("    + member of group:{}", g.name)),
            );
        }
        out
    }

    fn pending(&self) -> usize {
        pending(&self.plans)
    }

    fn preview(&self) -> Vec<ChangeResult> {
        self.plans
            .iter()
            .map(|p| result(&p.key, "invite", p.status, &p.message))
            .collect()
    }

    fn question(&self) -> String {
        format!("Invite {} people?", self.pending())
    }

    fn workspace_id(&self) -> String {
        self.workspace_id.clone()
    }

    async fn apply(&mut self, client: &Client, ledger: &mut dyn Ledger) -> Vec<ChangeResult> {
        if let Some(why) = stop_reason(ledger, None) {
            return skipped(&self.plans, "invite", &why);
        }
        let permissions = invite_permissions(&self.bindings);
        let (mut results, mut changes) = apply_invites(client, &self.plans, &permissions).await;
        join_groups(client, &self.groups, &mut results, &mut changes).await;
        land_all(ledger, changes);
        results
    }
}

/// Every planned item reported as skipped, for a plan stopped before its first write.
fn skipped(plans: &[Planned], action: &str, why: &str) -> Vec<ChangeResult> {
    plans
        .iter()
        .map(|p| match p.status {
            Status::Planned => result(&p.key, action, Status::Skipped, why),
            s => result(&p.key, action, s, &p.message),
        })
        .collect()
}

/// Records changes that landed together (one request for all of them). A ledger failure here
/// cannot stop anything: the request already went.
fn land_all(ledger: &mut dyn Ledger, changes: Vec<Change>) {
    for c in changes {
        if let Err(e) = ledger.landed(c) {
            tracing::warn!("could not journal a change: {e}");
        }
    }
}

/// Adds the people just invited to `groups`, one request per group; an invite whose groups did
/// not all take it is reported as failed, with the groups it did join journaled.
async fn join_groups(
    client: &Client,
    groups: &[GroupRef],
    results: &mut [ChangeResult],
    changes: &mut [Change],
) {
    let invited: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Invite { email, .. } => Some(email.clone()),
            _ => None,
        })
        .collect();
    if invited.is_empty() {
        return;
    }
    for g in groups {
        let outcome = client.add_group_members(&g.id, &invited).await;
        for c in changes.iter_mut() {
            let Change::Invite { email, groups, .. } = c else {
                continue;
            };
            match &outcome {
                Ok(_) => groups.push(g.clone()),
                Err(e) => {
                    if let Some(r) = results.iter_mut().find(|r| &r.principal == email) {
                        r.status = Status::Failed;
                        r.message = format!("invited, but not added to group:{}: {e}", g.name);
                    }
                }
            }
        }
    }
}

/// Sends one `POST /invites` for every planned email.
async fn apply_invites(
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
fn plan_revoke_invites(dir: &Directory, emails: &[String]) -> Vec<(Planned, Vec<GroupRef>)> {
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
                // Accepted since: a user now, with no invite left to withdraw.
                None => Planned {
                    key: e.clone(),
                    status: Status::Noop,
                    message: "no pending invite: this email belongs to a user of the workspace (the invite was accepted); remove-user removes users".to_string(),
                },
            };
            (planned, groups)
        })
        .collect()
}

/// Invites to withdraw.
pub(crate) struct RevokeInvitePlan {
    pub plans: Vec<(Planned, Vec<GroupRef>)>,
    pub workspace_id: String,
}

impl RevokeInvitePlan {
    /// The invites of `emails` to withdraw. An email that is neither a pending invite nor a
    /// user (a typo, most likely) is an error naming the nearest pending invites, before
    /// anything is withdrawn; a user's email is a no-op (the invite was accepted).
    pub(crate) fn new(
        dir: &Directory,
        emails: &[String],
    ) -> Result<RevokeInvitePlan, ResolveError> {
        for e in emails {
            let known = dir.invites.iter().any(|i| i.eq_ignore_ascii_case(e))
                || dir.users.iter().any(|u| u.email.eq_ignore_ascii_case(e));
            if !known {
                return Err(ResolveError::NotFound {
                    kind: "pending invite",
                    input: e.clone(),
                    candidates: resolve::nearest(e, dir.invites.iter().map(String::as_str)),
                });
            }
        }
        Ok(RevokeInvitePlan {
            plans: plan_revoke_invites(dir, emails),
            workspace_id: workspace_id(dir),
        })
    }
}

impl ChangePlan for RevokeInvitePlan {
    fn command(&self) -> &'static str {
        "revoke-invite"
    }

    fn describe(&self) -> Vec<String> {
        self.plans
            .iter()
            .map(|(p, _)| match p.status {
                Status::Planned => format!("- {}: {}", p.key, p.message),
                _ => format!("  {}: {}", p.key, p.message),
            })
            .collect()
    }

    fn pending(&self) -> usize {
        self.plans
            .iter()
            .filter(|(p, _)| p.status == Status::Planned)
            .count()
    }

    fn preview(&self) -> Vec<ChangeResult> {
        self.plans
            .iter()
            .map(|(p, _)| result(&p.key, "revoke-invite", p.status, &p.message))
            .collect()
    }

    fn question(&self) -> String {
        format!("Withdraw {} invites?", self.pending())
    }

    fn workspace_id(&self) -> String {
        self.workspace_id.clone()
    }

    async fn apply(&mut self, client: &Client, ledger: &mut dyn Ledger) -> Vec<ChangeResult> {
        if let Some(why) = stop_reason(ledger, None) {
            let plans: Vec<Planned> = self.plans.iter().map(|(p, _)| p.clone()).collect();
            return skipped(&plans, "revoke-invite", &why);
        }
        let (results, changes) = apply_revoke_invites(client, &self.plans).await;
        land_all(ledger, changes);
        results
    }
}

/// One `DELETE /invites` for every planned email.
async fn apply_revoke_invites(
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
async fn user_losses(
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

/// Users to remove, each with everything they would lose.
pub(crate) struct RemoveUserPlan {
    pub targets: Vec<(User, Directory, Vec<GrantRecord>)>,
    pub workspace_id: String,
}

impl ChangePlan for RemoveUserPlan {
    fn command(&self) -> &'static str {
        "remove-user"
    }

    fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (user, _, losses) in &self.targets {
            lines.push(format!("- remove {} ({}), who loses:", user.email, user.id));
            if losses.is_empty() {
                lines.push("    nothing but their membership of the workspace".to_string());
            }
            for g in losses {
                // "Role on resource", as every plan says it; a membership is "member of".
                let role = g
                    .role
                    .as_ref()
                    .map_or("member of".to_string(), |r| format!("{} on", r.name));
                let labels = if g.labels.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", g.labels_display())
                };
                let via = g
                    .via
                    .as_ref()
                    .map(|v| format!(" (through group:{})", v.name))
                    .unwrap_or_default();
                lines.push(format!("    {role} {}{labels}{via}", g.resource.display()));
            }
        }
        lines
    }

    fn pending(&self) -> usize {
        self.targets.len()
    }

    fn preview(&self) -> Vec<ChangeResult> {
        self.targets
            .iter()
            .map(|(u, _, _)| result(&u.email, "remove-user", Status::Planned, "will be removed"))
            .collect()
    }

    fn question(&self) -> String {
        format!("Remove {} users from the workspace?", self.targets.len())
    }

    fn workspace_id(&self) -> String {
        self.workspace_id.clone()
    }

    async fn apply(&mut self, client: &Client, ledger: &mut dyn Ledger) -> Vec<ChangeResult> {
        if let Some(why) = stop_reason(ledger, None) {
            return self
                .targets
                .iter()
                .map(|(u, _, _)| result(&u.email, "remove-user", Status::Skipped, &why))
                .collect();
        }
        let users: Vec<(User, Directory)> = self
            .targets
            .iter()
            .map(|(u, d, _)| (u.clone(), d.clone()))
            .collect();
        let (results, changes) = apply_remove_users(client, &users).await;
        land_all(ledger, changes);
        results
    }
}

impl RemoveUserPlan {
    /// Resolves each user and reads everything they hold, fresh.
    pub(crate) async fn new(
        client: &Client,
        dir: &Directory,
        users: &[&User],
    ) -> Result<RemoveUserPlan, crate::segment::Error> {
        let mut targets: Vec<(User, Directory, Vec<GrantRecord>)> = Vec::new();
        for user in users {
            if targets.iter().any(|(t, _, _)| t.id == user.id) {
                continue;
            }
            let (theirs, losses) = user_losses(client, dir, user).await?;
            targets.push(((*user).clone(), theirs, losses));
        }
        Ok(RemoveUserPlan {
            targets,
            workspace_id: workspace_id(dir),
        })
    }
}

/// One `DELETE /users` for all the users, journaled with what each held directly.
async fn apply_remove_users(
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

pub(crate) fn result(principal: &str, action: &str, status: Status, message: &str) -> ChangeResult {
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
