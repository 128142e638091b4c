//! Closing a campaign checks it against the workspace as it is now: every revoke must have taken
//! effect and every kept grant must still hold. The campaign's principals are read live (one
//! user at a time for a scoped campaign, the whole workspace for a large one), and each item is
//! looked for by its id among the grant records they hold now.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::access::grants::{self, GrantFilter};
use crate::access::record::Principal;
use crate::access::{Directory, Need, Progress};
use crate::segment::models::{MinimalUser, User};
use crate::segment::{Client, Error};

use super::Decision;
use super::campaign::{Decided, Outcome, OutcomeStatus, Verified};
use super::items::{Item, item_id};

/// Above this many users, reading the whole workspace costs fewer requests than reading each.
const PER_USER_LIMIT: usize = 200;

/// The campaign's principals as the workspace holds them now.
#[derive(Debug)]
pub(crate) struct Live {
    pub workspace_id: String,
    /// Ids of the items (grant records) that hold now.
    pub present: HashSet<String>,
}

/// Reads what the campaign's principals hold now.
pub(crate) async fn read_live(
    client: &Client,
    items: &[Item],
    progress: Arc<dyn Progress>,
) -> Result<Live, Error> {
    let users: BTreeSet<String> = items
        .iter()
        .filter_map(|i| match &i.record.principal {
            Principal::User { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect();
    let invites = items
        .iter()
        .any(|i| matches!(i.record.principal, Principal::Invite { .. }));
    let dir = if users.len() > PER_USER_LIMIT {
        Directory::load(client, Need::everything(), progress).await?
    } else {
        let base = Need {
            workspace: true,
            groups: true,
            ..Need::default()
        };
        let mut dir = Directory::load(client, base, progress.clone()).await?;
        progress.add_work(2 * users.len() as u64);
        let read = client
            .fan_out(users, |id| {
                let progress = progress.clone();
                async move {
                    let user = match client.user(&id).await {
                        Ok(u) => Some(u),
                        // Removed from the workspace: holds nothing.
                        Err(e) if e.is_not_found() => None,
                        Err(e) => return Err(e),
                    };
                    progress.done(1);
                    let groups = match &user {
                        Some(_) => client.user_groups(&id).await?,
                        None => Vec::new(),
                    };
                    progress.done(1);
                    Ok((user, groups))
                }
            })
            .await?;
        for (user, groups) in read {
            let Some(u) = user else { continue };
            for g in groups {
                dir.members.entry(g.id).or_default().push(MinimalUser {
                    id: u.id.clone(),
                    name: u.name.clone(),
                    email: u.email.clone(),
                });
            }
            dir.users.push(User {
                permissions: Some(u.permissions.clone().unwrap_or_default()),
                ..u
            });
        }
        if invites {
            let ids: Vec<String> = dir.groups.iter().map(|g| g.id.clone()).collect();
            progress.add_work(ids.len() as u64);
            let read = client
                .fan_out(ids, |gid| {
                    let progress = progress.clone();
                    async move {
                        let v = client.group_invites(&gid).await?;
                        progress.done(1);
                        Ok((gid, v))
                    }
                })
                .await?;
            dir.group_invites = read.into_iter().collect();
        }
        dir
    };
    let present = grants::iter(&dir, &GrantFilter::default())
        .map(|r| item_id(&r))
        .collect();
    Ok(Live {
        workspace_id: dir.workspace.map(|w| w.id).unwrap_or_default(),
        present,
    })
}

/// Each item checked against the live state, as its decision asks.
pub(crate) fn check(
    items: &[Item],
    decisions: &HashMap<String, Decided>,
    outcomes: &HashMap<String, Outcome>,
    live: &Live,
    at: &str,
) -> Vec<Verified> {
    items
        .iter()
        .map(|it| {
            let present = live.present.contains(&it.id);
            let held = if present {
                "still held"
            } else {
                "no longer held"
            };
            let outcome = outcomes.get(&it.id);
            let (result, detail) = match decisions.get(&it.id).map(|d| d.decision) {
                None => ("undecided", format!("no decision; {held}")),
                Some(Decision::Flag) => ("flagged", format!("flagged for follow-up; {held}")),
                Some(Decision::Keep) if present => ("held", "kept; still held".to_string()),
                Some(Decision::Keep) => (
                    "discrepancy",
                    "kept, but changed since the review: no longer held".to_string(),
                ),
                Some(Decision::Revoke) => {
                    let how = match outcome {
                        Some(o) if o.status == OutcomeStatus::Applied => match &o.journal_entry {
                            Some(e) => format!("revoked by journal entry {e} at {}", o.at),
                            None => format!("revoked at {} (not journaled: demo)", o.at),
                        },
                        Some(o) if o.status == OutcomeStatus::Absent => {
                            format!("already gone when `review apply` ran ({})", o.at)
                        }
                        Some(o) => format!("`review apply` {}: {}", o.status.as_str(), o.message),
                        None => "`review apply` did not carry it out".to_string(),
                    };
                    if present {
                        ("discrepancy", format!("{how}; still held"))
                    } else {
                        ("removed", format!("{how}; verified absent"))
                    }
                }
            };
            Verified {
                item_id: it.id.clone(),
                result: result.to_string(),
                live: if present { "present" } else { "absent" }.to_string(),
                detail,
                checked_at: at.to_string(),
            }
        })
        .collect()
}
