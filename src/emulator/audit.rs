//! The audit trail: who changed what, as Segment's Business tier records it.
//!
//! Every change the emulator accepts records events with the names Segment's documentation
//! uses. Events about one user's or one group's permissions are exactly one per accepted
//! change and name that user or group as their resource, so a client can count the changes
//! made to a principal since a mark (`src/access/trail.rs` does). Membership changes name the
//! group, one event per member added or removed. `GET /audit-events` serves the last 90 days,
//! newest first; its cursors carry the end of the window of the first page, so events that
//! arrive while a client pages do not shift the pages.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::pagination;
use super::query::{MAX_PAGE, PageRequest, Query};
use super::state::{ApiError, State};
use super::time;
use crate::segment::models::AuditEvent;

/// How long the trail keeps events (Segment: 90 days).
pub(super) const RETENTION_MS: i64 = 90 * 24 * 3_600_000;

// The event names, as Segment's documentation spells them.
pub(super) const USER_POLICY_UPDATED: &str = "User Policy Updated";
pub(super) const GROUP_POLICY_UPDATED: &str = "User Group Policy Updated";
pub(super) const ADDED_TO_GROUP: &str = "User Added To User Group";
pub(super) const REMOVED_FROM_GROUP: &str = "User Removed From User Group";
pub(super) const INVITED: &str = "New User Invited to Workspace";
pub(super) const INVITE_DELETED: &str = "Invite Deleted";
pub(super) const USER_REMOVED: &str = "User Removed";
pub(super) const GROUP_CREATED: &str = "User Group Created";
pub(super) const GROUP_UPDATED: &str = "User Group Updated";
pub(super) const GROUP_DELETED: &str = "User Group Deleted";
pub(super) const LABEL_CREATED: &str = "Label Created";
pub(super) const LABEL_DELETED: &str = "Label Deleted";
/// `POST /_emulator/state`: the whole workspace replaced. No Segment event says that; a client
/// that does not know this name must not trust anything it had read before.
pub(super) const STATE_REPLACED: &str = "Emulator Workspace Replaced";

// Resource types, lower case like Segment's own (`function` in its example).
pub(super) const USER: &str = "user";
pub(super) const GROUP: &str = "user_group";
pub(super) const INVITE: &str = "invite";
pub(super) const LABEL: &str = "label";
pub(super) const WORKSPACE: &str = "workspace";

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Actor {
    pub id: String,
    pub email: Option<String>,
}

impl Actor {
    /// An API token, as Segment names it: `public-api-token/<id>`. The id is derived from the
    /// token and says nothing about it.
    pub(super) fn token(token: &str) -> Actor {
        // FNV-1a: stable across runs and builds, and not reversible to the token in any
        // useful way for a test double.
        let mut n: u64 = 0xcbf2_9ce4_8422_2325;
        for b in token.bytes() {
            n ^= u64::from(b);
            n = n.wrapping_mul(0x0000_0100_0000_01b3);
        }
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let id: String = (0..8)
            .map(|_| {
                let c = ALPHABET[(n % 62) as usize] as char;
                n /= 62;
                c
            })
            .collect();
        Actor {
            id: format!("public-api-token/{id}"),
            email: None,
        }
    }

    /// Changes through the control endpoints: someone else, in Segment's app.
    pub(super) fn control() -> Actor {
        Actor {
            id: "user/emulator-control".to_string(),
            email: Some("control@emulator.invalid".to_string()),
        }
    }
}

/// The audit-trail knobs (`audit` in `PATCH /_emulator/config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuditTrail {
    /// Whether `GET /audit-events` answers (a workspace on the Business tier). Changes are
    /// recorded either way.
    pub enabled: bool,
    /// What `GET /audit-events` answers when not enabled: 404 or 403.
    pub unavailable_status: u16,
    /// Whether changes are recorded at all. Off, the trail misses changes: a trail a client
    /// must not trust.
    pub record: bool,
}

impl Default for AuditTrail {
    fn default() -> Self {
        AuditTrail {
            enabled: true,
            unavailable_status: 404,
            record: true,
        }
    }
}

/// `GET /audit-events`: newest first, filtered by `startTime`, `endTime`, `resourceId` and
/// `resourceType`, over the last 90 days.
pub(super) fn list(st: &State, q: &Query) -> Result<Value, ApiError> {
    let bound = |key: &str| -> Result<Option<i64>, ApiError> {
        match q.get(key) {
            None | Some("") => Ok(None),
            Some(v) => time::parse_rfc3339(v).map(Some).ok_or_else(|| {
                ApiError::validation(key, format!("{key} must be an RFC 3339 date-time"))
            }),
        }
    };
    let start = bound("startTime")?;
    let req = q.pagination(true)?.unwrap_or(PageRequest {
        count: MAX_PAGE,
        cursor: None,
    });
    // The cursor's window wins over endTime: the pages of one walk are cut from one list.
    let now = time::now_millis();
    let end = match req.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => cursor_end(c).ok_or_else(|| {
            ApiError::validation(
                "pagination.cursor",
                "pagination.cursor is not a valid cursor",
            )
        })?,
        None => bound("endTime")?.unwrap_or(now).min(now),
    };
    let rid = q.get("resourceId").filter(|s| !s.is_empty());
    let rtype = q.get("resourceType").filter(|s| !s.is_empty());
    let oldest = now - RETENTION_MS;
    let events: Vec<&AuditEvent> = st
        .audit
        .iter()
        .rev()
        .filter(|a| a.millis >= oldest && a.millis <= end)
        .filter(|a| start.is_none_or(|s| a.millis >= s))
        .filter(|a| rid.is_none_or(|r| a.event.resource_id == r))
        .filter(|a| rtype.is_none_or(|t| a.event.resource_type.eq_ignore_ascii_case(t)))
        .map(|a| &a.event)
        .collect();
    let list_name = format!("audit-events/{end}");
    let (page, pagination) = pagination::page(&list_name, &events, &req)?;
    Ok(json!({ "events": page, "pagination": pagination }))
}

/// The end of the window a cursor of `GET /audit-events` was cut from.
fn cursor_end(cursor: &str) -> Option<i64> {
    pagination::list_of(cursor)?
        .strip_prefix("audit-events/")?
        .parse()
        .ok()
}

/// A plausible history for a seeded workspace: `n` changes over the 120 days before now (so
/// some are older than the trail keeps), made by API tokens and by owners in the app, about
/// the seed's own users, groups and invites. All of it is older than an hour, so it precedes
/// anything a client reads.
pub(super) fn seed_history(st: &mut State, n: usize, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let now = time::now_millis();
    let span = 120 * 24 * 3_600_000i64;
    let mut stamps: Vec<i64> = (0..n)
        .map(|_| now - 3_600_000 - rng.random_range(0..span))
        .collect();
    stamps.sort();
    let owners: Vec<Actor> = st
        .users
        .iter()
        .filter(|u| {
            u.permissions.iter().any(|p| {
                st.role(&p.role_id)
                    .is_some_and(|r| r.spec.name == "Workspace Owner")
            })
        })
        .take(3)
        .map(|u| Actor {
            id: format!("user/{}", u.id),
            email: Some(u.email.clone()),
        })
        .collect();
    let tokens = [
        Actor::token("seed-token-ci"),
        Actor::token("seed-token-scim"),
    ];
    for millis in stamps {
        let actor = if !owners.is_empty() && rng.random_bool(0.4) {
            owners.choose(&mut rng).cloned()
        } else {
            tokens.choose(&mut rng).cloned()
        }
        .unwrap_or_else(Actor::control);
        let roll: f64 = rng.random();
        let (event_type, resource_type, id, name) = if roll < 0.45 && !st.users.is_empty() {
            let u = &st.users[rng.random_range(0..st.users.len())];
            (USER_POLICY_UPDATED, USER, u.id.clone(), u.email.clone())
        } else if roll < 0.75 && !st.groups.is_empty() {
            let g = &st.groups[rng.random_range(0..st.groups.len())];
            let t = [
                ADDED_TO_GROUP,
                ADDED_TO_GROUP,
                REMOVED_FROM_GROUP,
                GROUP_POLICY_UPDATED,
                GROUP_UPDATED,
            ]
            .choose(&mut rng)
            .copied()
            .unwrap_or(ADDED_TO_GROUP);
            (t, GROUP, g.id.clone(), g.name.clone())
        } else if roll < 0.9 {
            let email = format!(
                "former.candidate{}@partner.example",
                rng.random_range(0..50)
            );
            let t = if rng.random_bool(0.5) {
                INVITED
            } else {
                INVITE_DELETED
            };
            (t, INVITE, email.clone(), email)
        } else if let Some(s) = st.sources.get(rng.random_range(0..st.sources.len().max(1))) {
            ("Source Modified", "source", s.id.clone(), s.name.clone())
        } else {
            continue;
        };
        let event_id = super::ids::object_id(&mut rng);
        st.record_as(
            event_id,
            millis,
            &actor,
            event_type,
            resource_type,
            &id,
            &name,
        );
    }
}

/// The body of `POST /_emulator/audit-events`: an event as a test wants it in the trail.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Injected {
    #[serde(rename = "type")]
    pub event_type: String,
    pub resource_type: String,
    pub resource_id: String,
    #[serde(default)]
    pub resource_name: Option<String>,
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub actor_email: Option<String>,
    /// RFC 3339; default now.
    #[serde(default)]
    pub timestamp: Option<String>,
}
