//! Incremental refresh: a snapshot brought up to date from the cheap lists and the audit trail,
//! equal to what a full read would give.
//!
//! A full read costs one `GET /users/{id}` per user, and a read of each group's members. The
//! lists (users, invites, groups with their permissions, roles, resources, labels) are a few
//! pages; the audit trail says which users' permissions and which groups' members changed
//! since the snapshot. So a refresh reads the lists, the events since the snapshot, and only
//! what the events touched, and keeps the rest from the snapshot.
//!
//! It reads everything instead, and says why, when it cannot be sure: the trail is unavailable
//! or no longer reaches back to the snapshot, an event it does not understand touches access,
//! or the lists disagree with the snapshot in a way no event explains (someone in the user list
//! the snapshot lacks, a group whose member count moved without an event).
//!
//! Time: the mark a snapshot records is Segment's clock *before* anything was read (our clock
//! plus the offset the `Date` headers show), and a refresh reads the trail from that mark less
//! [`OVERLAP_MS`]. A change that lands while a read runs is therefore always in the next
//! refresh's events: events read twice cost a re-read, never a wrong answer.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::access::directory::{Directory, Need, Progress, load_members};
use crate::segment::client::AuditQuery;
use crate::segment::models::{AuditEvent, MinimalUser, User};
use crate::segment::time::{format_rfc3339, now_millis, parse_rfc3339};
use crate::segment::{Client, Error};

use super::events::{Touch, touch};
use super::read::Snapshot;
use super::write::{ReadInfo, ReadKind};

/// How far before a snapshot's mark a refresh reads the trail: the `Date` header's one-second
/// resolution, clocks, and a trail that records a change a moment after it lands.
pub(crate) const OVERLAP_MS: i64 = 60_000;

/// How long Segment keeps audit events.
pub(crate) const RETENTION_MS: i64 = 90 * 86_400_000;

/// A refresh is not tried this close to the trail's horizon: the first events could be gone
/// by the time the last page is read.
const HORIZON_MARGIN_MS: i64 = 3_600_000;

/// Everything a snapshot holds.
pub(crate) fn need() -> Need {
    Need {
        labels: true,
        ..Need::everything()
    }
}

/// Reads the workspace for a snapshot: refreshed from `old` where it can be, in full otherwise
/// (the reason in [`ReadInfo::full_read_reason`]).
pub(crate) async fn read(
    client: &Client,
    old: Option<&Snapshot>,
    progress: Arc<dyn Progress>,
) -> Result<(Directory, ReadInfo), Error> {
    let started_ms = now_millis();
    let sent = client.requests_sent();
    let mut reason = None;
    if let Some(old) = old {
        match refresh(client, old, progress.clone()).await? {
            Ok((dir, events, changes, since_ms)) => {
                let before = old.read_info();
                let info = ReadInfo {
                    kind: ReadKind::Refresh,
                    last_full_read_unix: before.last_full_read_unix,
                    server_taken_at_ms: Some(mark(client, started_ms)),
                    requests: client.requests_sent() - sent,
                    events: Some(events),
                    since: Some(format_rfc3339(since_ms)),
                    changes_since_full: before.changes_since_full + changes,
                    full_read_reason: None,
                };
                return Ok((dir, info));
            }
            Err(why) => reason = Some(why),
        }
    }
    let dir = Directory::load(client, need(), progress).await?;
    let mut info = ReadInfo::full(started_ms.div_euclid(1000));
    info.server_taken_at_ms = Some(mark(client, started_ms));
    info.requests = client.requests_sent() - sent;
    info.full_read_reason = reason;
    Ok((dir, info))
}

/// Segment's clock at `local_ms` of ours, as the answers' `Date` headers show it.
fn mark(client: &Client, local_ms: i64) -> i64 {
    local_ms + client.server_clock_offset_ms().unwrap_or(0)
}

/// Why a refresh cannot be trusted; the caller reads everything instead.
type Why = String;

/// The refreshed directory, the events read, those of them after the old snapshot's mark (the
/// rest is the overlap), and the time they were read from; or why not.
async fn refresh(
    client: &Client,
    old: &Snapshot,
    progress: Arc<dyn Progress>,
) -> Result<Result<(Directory, u64, u64, i64), Why>, Error> {
    let base = client.base_url().as_str().trim_end_matches('/').to_string();
    let old_url = old.api_url();
    if !old_url.is_empty() && old_url.trim_end_matches('/') != base {
        return Ok(Err(format!(
            "the snapshot was read from {old_url}, not {base}"
        )));
    }
    let info = old.read_info();
    let Some(old_mark) = info
        .server_taken_at_ms
        .or(old.taken_at_unix().map(|s| s * 1000))
    else {
        return Ok(Err("the snapshot does not say when it was taken".into()));
    };
    let since_ms = old_mark - OVERLAP_MS;
    let too_old = |now: i64| {
        (now - since_ms > RETENTION_MS - HORIZON_MARGIN_MS).then(|| {
            format!(
                "the snapshot was taken {} days ago and the audit trail keeps 90",
                (now - old_mark) / 86_400_000
            )
        })
    };
    // Before a request, by our clock; after the answers, by Segment's again.
    if let Some(why) = too_old(now_millis()) {
        return Ok(Err(why));
    }
    let lists = Need {
        workspace: true,
        users: true,
        invites: true,
        groups: true,
        roles: true,
        resources: true,
        labels: true,
        ..Need::default()
    };
    let q = AuditQuery {
        start_time: Some(format_rfc3339(since_ms)),
        ..AuditQuery::default()
    };
    // The events, and the users whose permissions they changed, are read while the lists
    // page on (the user list alone is ten pages on 2,000 users). A change that lands between
    // the events' read and a list's shows in the list without an event: a full read, never a
    // wrong answer.
    let early = async {
        let events = match client.audit_events(&q).await {
            Ok(v) => v,
            Err(e) if matches!(e.status(), Some(403 | 404)) => {
                return Ok(Err(format!("the audit trail is unavailable ({e})")));
            }
            Err(e) => return Err(e),
        };
        let t = match classify(&events) {
            Ok(t) => t,
            Err(why) => return Ok(Err(why)),
        };
        let ids: Vec<String> = t.users.iter().cloned().collect();
        let pre = read_users(client, ids, progress.clone()).await?;
        Ok(Ok((events, t, pre)))
    };
    let (mut dir, early) =
        tokio::try_join!(Directory::load(client, lists, progress.clone()), early)?;
    let (events, t, mut fresh) = match early {
        Ok(v) => v,
        Err(why) => return Ok(Err(why)),
    };
    let (new_ws, old_ws) = (
        dir.workspace.as_ref().map(|w| w.id.as_str()),
        old.workspace_id(),
    );
    if new_ws.is_some() && old_ws.is_some() && new_ws != old_ws {
        return Ok(Err(format!(
            "the snapshot is of workspace {}, the token's is {}",
            old_ws.unwrap_or_default(),
            new_ws.unwrap_or_default()
        )));
    }
    if let Some(why) = too_old(mark(client, now_millis())) {
        return Ok(Err(why));
    }
    if let Err(why) = explain_invites(&old.dir, &dir, &t) {
        return Ok(Err(why));
    }
    let to_read = match users_to_read(&old.dir, &dir, &t) {
        Ok(v) => v,
        Err(why) => return Ok(Err(why)),
    };
    // Members of a group change with its member events, and with the removal, joining or
    // un-inviting of someone in it.
    let mut groups_to_read: BTreeSet<String> = t.groups.clone();
    for (gid, members) in &old.dir.members {
        if members.iter().any(|m| t.removed.contains(&m.id)) {
            groups_to_read.insert(gid.clone());
        }
    }
    // An invite gone from the workspace's list (withdrawn or accepted) is gone from its
    // groups too, whichever event explained it.
    let still_invited: HashSet<String> = dir.invites.iter().map(|e| e.to_lowercase()).collect();
    for (gid, invites) in &old.dir.group_invites {
        if invites.iter().any(|e| {
            let e = e.to_lowercase();
            t.uninvited.contains(&e) || t.joined.contains(&e) || !still_invited.contains(&e)
        }) {
            groups_to_read.insert(gid.clone());
        }
    }
    for uid in &t.user_groups {
        for (gid, members) in &old.dir.members {
            if members.iter().any(|m| &m.id == uid) {
                groups_to_read.insert(gid.clone());
            }
        }
        match client.user_groups(uid).await {
            Ok(now) => groups_to_read.extend(now.into_iter().map(|g| g.id)),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    let old_groups: HashMap<&str, u64> = old
        .dir
        .groups
        .iter()
        .map(|g| (g.id.as_str(), g.member_count))
        .collect();
    let new_ids: HashSet<&str> = dir.groups.iter().map(|g| g.id.as_str()).collect();
    for g in &old.dir.groups {
        if !new_ids.contains(g.id.as_str()) && !t.deleted.contains(&g.id) {
            return Ok(Err(format!(
                "group {} is gone from the group list, and no event says it was deleted",
                g.name
            )));
        }
    }
    for g in &dir.groups {
        match old_groups.get(g.id.as_str()) {
            None if !t.created.contains(&g.id) => {
                return Ok(Err(format!(
                    "group {} is in the group list but not in the snapshot, and no event says it was created",
                    g.name
                )));
            }
            None => {
                groups_to_read.insert(g.id.clone());
            }
            Some(count) if *count != g.member_count && !groups_to_read.contains(&g.id) => {
                return Ok(Err(format!(
                    "group {} has {} members where the snapshot has {}, and no event says why",
                    g.name, g.member_count, count
                )));
            }
            Some(_) => {}
        }
    }

    // The reads the events call for.
    let subset: Vec<_> = dir
        .groups
        .iter()
        .filter(|g| groups_to_read.contains(&g.id))
        .cloned()
        .collect();
    let missing: Vec<String> = to_read
        .iter()
        .filter(|id| !fresh.contains_key(*id))
        .cloned()
        .collect();
    let users = read_users(client, missing, progress.clone());
    let members = async {
        let mut m = load_members(client, &subset, progress.as_ref()).await?;
        m.complete_invites(client, &subset, Some(&dir.invites), progress.as_ref())
            .await?;
        Ok::<_, Error>(m)
    };
    let (more, mut read_members) = tokio::try_join!(users, members)?;

    fresh.extend(more);
    let kept: HashMap<&str, &User> = old.dir.users.iter().map(|u| (u.id.as_str(), u)).collect();
    let listed = std::mem::take(&mut dir.users);
    dir.users = listed
        .into_iter()
        .filter_map(|u| {
            if to_read.contains(&u.id) {
                // Gone between the list and the read, as a full read would drop them.
                return fresh.get(&u.id).cloned().flatten();
            }
            let permissions = kept.get(u.id.as_str()).and_then(|o| o.permissions.clone());
            Some(User {
                permissions: Some(permissions.unwrap_or_default()),
                ..u
            })
        })
        .collect();
    // Untouched groups keep their members, named as the user list names them now.
    let by_id: HashMap<&str, &User> = dir.users.iter().map(|u| (u.id.as_str(), u)).collect();
    for g in &dir.groups {
        if groups_to_read.contains(&g.id) {
            continue;
        }
        if let Some(members) = old.dir.members.get(&g.id) {
            let renamed = members
                .iter()
                .map(|m| match by_id.get(m.id.as_str()) {
                    Some(u) => MinimalUser {
                        id: u.id.clone(),
                        name: u.name.clone(),
                        email: u.email.clone(),
                    },
                    None => m.clone(),
                })
                .collect();
            read_members.users.insert(g.id.clone(), renamed);
        }
        if let Some(invites) = old.dir.group_invites.get(&g.id) {
            read_members.invites.insert(g.id.clone(), invites.clone());
        }
    }
    dir.members = read_members.users;
    dir.group_invites = read_members.invites;
    let changes = events
        .iter()
        .filter(|e| parse_rfc3339(&e.timestamp).is_none_or(|t| t >= old_mark))
        .count() as u64;
    Ok(Ok((dir, events.len() as u64, changes, since_ms)))
}

/// What `events` touch, or why they cannot be trusted to say.
fn classify(events: &[AuditEvent]) -> Result<Touched, Why> {
    let mut t = Touched::default();
    for e in events {
        match touch(e) {
            Touch::UserPermissions(id) => {
                t.users.insert(id);
            }
            Touch::UserGroups(id) => t.user_groups.push(id),
            Touch::UserRemoved(id) => {
                t.removed.insert(id);
            }
            Touch::UserJoined(who) => {
                t.joined.insert(who.to_lowercase());
            }
            Touch::GroupPermissions(_) | Touch::GroupUpdated(_) | Touch::Lists => {}
            Touch::GroupMembers(id) => {
                t.groups.insert(id);
            }
            Touch::GroupCreated(id) => {
                t.created.insert(id.clone());
                t.groups.insert(id);
            }
            Touch::GroupDeleted(id) => {
                t.deleted.insert(id);
            }
            Touch::Invited(email) => {
                t.invited.insert(email.to_lowercase());
            }
            Touch::InviteDeleted(email) => {
                t.uninvited.insert(email.to_lowercase());
            }
            Touch::Unknown(why) => return Err(why),
        }
    }
    Ok(t)
}

/// `GET /users/{id}` of each of `ids`, with permissions; `None` for one removed meanwhile (as a
/// full read drops them).
async fn read_users(
    client: &Client,
    ids: Vec<String>,
    progress: Arc<dyn Progress>,
) -> Result<HashMap<String, Option<User>>, Error> {
    progress.add_work(ids.len() as u64);
    let read = client
        .fan_out(ids, |id| {
            let progress = progress.clone();
            async move {
                let full = client.user(&id).await;
                progress.done(1);
                match full {
                    Ok(full) => Ok((
                        id,
                        Some(User {
                            permissions: Some(full.permissions.unwrap_or_default()),
                            ..full
                        }),
                    )),
                    Err(e) if e.is_not_found() => Ok((id, None)),
                    Err(e) => Err(e),
                }
            }
        })
        .await?;
    Ok(read.into_iter().collect())
}

/// What the events since the snapshot touched.
#[derive(Default)]
struct Touched {
    /// Users whose permissions changed.
    users: BTreeSet<String>,
    /// Users whose memberships changed (an event about the user, not the group).
    user_groups: Vec<String>,
    removed: HashSet<String>,
    /// Ids or emails (lower case) of people who joined.
    joined: HashSet<String>,
    /// Groups whose members changed.
    groups: BTreeSet<String>,
    created: HashSet<String>,
    deleted: HashSet<String>,
    invited: HashSet<String>,
    uninvited: HashSet<String>,
}

/// The users whose permissions must be read: those the events touched and those new to the
/// list; an error when the user list moved in a way no event explains.
fn users_to_read(old: &Directory, now: &Directory, t: &Touched) -> Result<BTreeSet<String>, Why> {
    let old_ids: HashSet<&str> = old.users.iter().map(|u| u.id.as_str()).collect();
    let new_ids: HashSet<&str> = now.users.iter().map(|u| u.id.as_str()).collect();
    let mut read = BTreeSet::new();
    for u in &now.users {
        if old_ids.contains(u.id.as_str()) {
            if t.users.contains(&u.id) {
                read.insert(u.id.clone());
            }
        } else if t.joined.contains(&u.id.to_lowercase())
            || t.joined.contains(&u.email.to_lowercase())
        {
            read.insert(u.id.clone());
        } else {
            return Err(format!(
                "user {} is in the user list but not in the snapshot, and no event says they joined",
                u.email
            ));
        }
    }
    for u in &old.users {
        if !new_ids.contains(u.id.as_str()) && !t.removed.contains(&u.id) {
            return Err(format!(
                "user {} is gone from the user list, and no event says they were removed",
                u.email
            ));
        }
    }
    Ok(read)
}

/// An error when the invite list moved in a way no event explains. An invite that is gone is
/// explained by its withdrawal, or by anyone joining (a join event may name the new user by id,
/// not by the invite's email).
fn explain_invites(old: &Directory, now: &Directory, t: &Touched) -> Result<(), Why> {
    let lower = |v: &[String]| -> HashSet<String> { v.iter().map(|e| e.to_lowercase()).collect() };
    let (before, after) = (lower(&old.invites), lower(&now.invites));
    if let Some(e) = after.difference(&before).find(|e| !t.invited.contains(*e)) {
        return Err(format!(
            "invite {e} is in the invite list but not in the snapshot, and no event says it was sent"
        ));
    }
    if let Some(e) = before
        .difference(&after)
        .find(|e| !t.uninvited.contains(*e) && !t.joined.contains(*e) && t.joined.is_empty())
    {
        return Err(format!(
            "invite {e} is gone from the invite list, and no event says it was withdrawn or accepted"
        ));
    }
    Ok(())
}
