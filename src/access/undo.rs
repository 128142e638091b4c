//! Undoing a journaled change: put back exactly what it replaced, unless the principal has
//! changed since (then say so, and restore only when forced).

use crate::segment::models::{InviteInput, Permission};
use crate::segment::{Client, Error};

use super::change::{ChangePlan, Ledger, stop_reason};
use super::directory::ResourceNames;
use super::journal::{Change, Entry};
use super::plan::{self, ChangeResult, Status};
use super::record::Principal;
use super::trail;

/// Undoing one journal entry: its changes, newest first, so changes that built on each other
/// unwind in order.
pub(crate) struct UndoPlan {
    pub entry: Entry,
    pub force: bool,
    pub names: ResourceNames,
}

impl UndoPlan {
    /// What undoing one change does, for people.
    fn lines(&self, change: &Change) -> Vec<String> {
        match change {
            Change::Permissions {
                principal,
                before,
                after,
                ..
            } => {
                let mut out = vec![format!(
                    "{}: permissions back as before",
                    principal.display()
                )];
                let lines = plan::diff_lines(after, before, &|t, id| self.names.get(t, id));
                out.extend(
                    lines
                        .into_iter()
                        .filter(|l| !l.starts_with(' '))
                        .map(|l| format!("  {l}")),
                );
                out
            }
            Change::Membership {
                principal,
                group,
                added,
            } => {
                let mark = if *added { '-' } else { '+' };
                vec![
                    format!("{}:", principal.display()),
                    format!("  {mark} member of group:{}", group.name),
                ]
            }
            Change::Invite {
                email,
                created,
                groups,
            } => {
                if *created {
                    vec![format!("- invite {email} (withdrawn)")]
                } else if groups.is_empty() {
                    vec![format!(
                        "+ invite {email} again (without the roles it carried: the API does not show them)"
                    )]
                } else {
                    vec![format!(
                        "+ invite {email} again, back in {} (without the roles it carried: the API does not show them)",
                        groups
                            .iter()
                            .map(|g| format!("group:{}", g.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )]
                }
            }
            Change::UserRemoved { principal, .. } => vec![format!(
                "{}: removed from the workspace; cannot be undone through Segment's API",
                principal.display()
            )],
        }
    }
}

impl ChangePlan for UndoPlan {
    fn command(&self) -> &'static str {
        "undo"
    }

    fn heading(&self) -> &'static str {
        "undo plan (- removed, + added back):"
    }

    fn describe(&self) -> Vec<String> {
        let mut out = vec![format!(
            "entry {} ({} at {}):",
            self.entry.id, self.entry.command, self.entry.time
        )];
        for c in self.entry.changes.iter().rev() {
            out.extend(self.lines(c).into_iter().map(|l| format!("  {l}")));
        }
        out
    }

    fn pending(&self) -> usize {
        self.entry.changes.len()
    }

    fn preview(&self) -> Vec<ChangeResult> {
        self.entry
            .changes
            .iter()
            .rev()
            .map(|c| row(who(c), action_of(c), Status::Planned, ""))
            .collect()
    }

    fn question(&self) -> String {
        format!("Undo {} change(s)?", self.entry.changes.len())
    }

    fn workspace_id(&self) -> String {
        self.entry.workspace_id.clone()
    }

    async fn apply(&mut self, client: &Client, ledger: &mut dyn Ledger) -> Vec<ChangeResult> {
        let mut results = Vec::new();
        let mut failed: Option<String> = None;
        for c in self.entry.changes.iter().rev() {
            if let Some(why) = stop_reason(ledger, failed.as_deref()) {
                results.push(row(who(c), action_of(c), Status::Skipped, why));
                continue;
            }
            let (r, done) = undo(client, c, self.force).await;
            results.push(r);
            if let Some(d) = done
                && let Err(e) = ledger.landed(d.named(&self.names))
            {
                failed.get_or_insert(e);
            }
        }
        results
    }

    /// Only a complete undo closes its entry; otherwise it stays open for another try (what
    /// this run did restore is journaled on its own, so it can be undone too).
    fn undoes(&self, results: &[ChangeResult]) -> Option<String> {
        complete(results).then(|| self.entry.id.clone())
    }

    fn afterword(&self, results: &[ChangeResult]) -> Option<String> {
        (!complete(results)).then(|| {
            format!(
                "entry {id} stays open: some changes were not undone; retry with `segment-access undo --id {id}` (--force to override changes made since)",
                id = self.entry.id
            )
        })
    }
}

fn complete(results: &[ChangeResult]) -> bool {
    results
        .iter()
        .all(|r| matches!(r.status, Status::Applied | Status::Noop))
}

fn action_of(c: &Change) -> &'static str {
    match c {
        Change::Permissions { .. } => "restore-permissions",
        Change::Membership { added: true, .. } => "remove-member",
        Change::Membership { added: false, .. } => "add-member",
        Change::Invite { .. } => "undo-invite",
        Change::UserRemoved { .. } => "undo-remove-user",
    }
}

fn row(
    principal: String,
    action: &str,
    status: Status,
    message: impl Into<String>,
) -> ChangeResult {
    ChangeResult {
        principal,
        action: action.to_string(),
        role: None,
        resource: None,
        labels: Vec::new(),
        status,
        message: message.into(),
        line: None,
    }
}

fn same_bindings(a: &[Permission], b: &[Permission]) -> bool {
    let (x, y) = (plan::bindings(a), plan::bindings(b));
    x.len() == y.len() && x.iter().all(|p| y.iter().any(|q| q.same(p)))
}

/// Undoes one change; returns the report row and, when applied, the change the undo made.
async fn undo(client: &Client, change: &Change, force: bool) -> (ChangeResult, Option<Change>) {
    match undo_inner(client, change, force).await {
        Ok(r) => r,
        Err(e) => (
            row(who(change), "undo", Status::Failed, e.to_string()),
            None,
        ),
    }
}

fn who(change: &Change) -> String {
    match change {
        Change::Permissions { principal, .. }
        | Change::Membership { principal, .. }
        | Change::UserRemoved { principal, .. } => principal.display(),
        Change::Invite { email, .. } => format!("invite:{email}"),
    }
}

async fn undo_inner(
    client: &Client,
    change: &Change,
    force: bool,
) -> Result<(ChangeResult, Option<Change>), Error> {
    let name = who(change);
    Ok(match change {
        Change::Permissions {
            principal,
            before,
            after,
            ..
        } => {
            let watch = trail::watch(client, principal).await;
            let current = super::apply::read_perms(client, principal).await?;
            if same_bindings(&current, before) {
                return Ok((
                    row(
                        name,
                        "restore-permissions",
                        Status::Noop,
                        "already as before",
                    ),
                    None,
                ));
            }
            if !force && !same_bindings(&current, after) {
                return Ok((
                    row(
                        name,
                        "restore-permissions",
                        Status::Failed,
                        "permissions changed since this entry; nothing restored (pass --force to restore anyway)",
                    ),
                    None,
                ));
            }
            let body = plan::inputs(before);
            match principal {
                Principal::User { id, .. } => {
                    client.replace_user_permissions_once(id, &body).await?
                }
                Principal::Group { id, .. } => {
                    client.replace_group_permissions_once(id, &body).await?
                }
                Principal::Invite { .. } => Vec::new(),
            };
            let restored = Change::permissions(principal, current, before.clone());
            // What was written is journaled whatever the read-back says.
            let now = match super::apply::read_perms(client, principal).await {
                Ok(now) => now,
                Err(e) => {
                    let m = format!(
                        "restored, but reading it back failed ({e}); check with `segment-access list grants`"
                    );
                    return Ok((
                        row(name, "restore-permissions", Status::Failed, m),
                        Some(restored),
                    ));
                }
            };
            let conflict =
                super::apply::concurrent(client, principal, &watch, 1, before, &now).await;
            let (status, message) = match conflict {
                Some(m) => (Status::Failed, m),
                None => (Status::Applied, String::new()),
            };
            (
                row(name, "restore-permissions", status, message),
                Some(restored),
            )
        }
        Change::Membership {
            principal,
            group,
            added,
        } => {
            let email = match principal {
                Principal::User { email, .. } | Principal::Invite { email } => email.clone(),
                Principal::Group { .. } => String::new(),
            };
            let action = if *added {
                "remove-member"
            } else {
                "add-member"
            };
            // As for permissions: act only when the membership is still what the entry left.
            let member_now = match principal {
                Principal::User { id, .. } => client
                    .user_groups(id)
                    .await?
                    .iter()
                    .any(|g| g.id == group.id),
                Principal::Invite { email } => client
                    .group_invites(&group.id)
                    .await?
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(email)),
                Principal::Group { .. } => false,
            };
            if member_now != *added {
                return Ok((
                    row(
                        name,
                        action,
                        Status::Noop,
                        format!("already as before (group:{})", group.name),
                    ),
                    None,
                ));
            }
            let emails = [email];
            if *added {
                client.remove_group_members(&group.id, &emails).await?;
            } else {
                client.add_group_members(&group.id, &emails).await?;
            }
            (
                row(
                    name,
                    action,
                    Status::Applied,
                    format!("group:{}", group.name),
                ),
                Some(Change::Membership {
                    principal: principal.clone(),
                    group: group.clone(),
                    added: !added,
                }),
            )
        }
        Change::Invite {
            email,
            created,
            groups,
        } => {
            if *created {
                client.delete_invites(std::slice::from_ref(email)).await?;
            } else {
                client
                    .create_invites(&[InviteInput {
                        email: email.clone(),
                        permissions: None,
                    }])
                    .await?;
                for g in groups {
                    client
                        .add_group_members(&g.id, std::slice::from_ref(email))
                        .await?;
                }
            }
            let message = if *created {
                "invite deleted"
            } else {
                "invited again (with its groups; roles an invite carried are not readable through the API)"
            };
            (
                row(name, "undo-invite", Status::Applied, message),
                Some(Change::Invite {
                    email: email.clone(),
                    created: !created,
                    groups: groups.clone(),
                }),
            )
        }
        Change::UserRemoved { principal, .. } => (
            row(
                name,
                "undo-remove-user",
                Status::Failed,
                format!(
                    "a removed user cannot be restored through Segment's API; invite {} again (the journal entry lists the permissions and groups they had)",
                    principal.display()
                ),
            ),
            None,
        ),
    })
}
