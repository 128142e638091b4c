//! History: the audit trail's events, filtered as asked and with the names of the principals
//! and resources they are about resolved from what the workspace lists now. Segment names a
//! user by id and a group by id; a person reading history wants the email and the group's
//! current name, and keeps Segment's own name where the thing is gone.

use serde::Serialize;

use crate::segment::models::AuditEvent;

use super::directory::Directory;
use super::record::Principal;

/// The filters of `list events`, resolved except for the principal and resource (which need
/// the directory).
#[derive(Debug, Clone, Default)]
pub(crate) struct EventQuery {
    /// `<email|user id>`, `group:<id|name>` or `invite:<email>`.
    pub principal: Option<String>,
    /// `workspace`, `source:<id|slug|name>`, ...
    pub resource: Option<String>,
    /// An actor id (`public-api-token/<id>`, `user/<id>`), the part after the slash, or an
    /// email.
    pub actor: Option<String>,
    /// Event types, any of which matches (case-insensitive).
    pub types: Vec<String>,
    /// Milliseconds since the epoch.
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// Who made a change.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct ActorRef {
    /// Segment's actor: `public-api-token/<id>` for API tokens, a user otherwise.
    pub id: String,
    /// The person's email, from the event or from the user list; null for tokens.
    pub email: Option<String>,
}

/// What an event is about.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct EventResource {
    /// Segment's resource type, as sent (`user`, `user_group`, `invite`, `label`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    /// The current name where the workspace still lists it (a user's email, a group's name),
    /// else the name Segment recorded.
    pub name: String,
}

/// One event of `list events` (docs/event-record.md).
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct EventRecord {
    pub id: String,
    /// RFC 3339, UTC, as Segment sent it.
    pub time: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub actor: ActorRef,
    pub resource: EventResource,
    /// The principal the event is about, in the grant record's shape, when it is a user,
    /// group or invite the workspace still has; null otherwise.
    pub principal: Option<Principal>,
}

fn is_user(kind: &str) -> bool {
    kind.eq_ignore_ascii_case("user")
}

fn is_group(kind: &str) -> bool {
    let k: String = kind
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    k == "usergroup" || k == "group"
}

fn is_invite(kind: &str) -> bool {
    kind.eq_ignore_ascii_case("invite")
}

/// The principal `e` is about, as the directory lists it now.
fn principal_of(dir: &Directory, e: &AuditEvent) -> Option<Principal> {
    let id = e.resource_id.as_str();
    if is_user(&e.resource_type) {
        dir.user(id).map(|u| Principal::User {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
        })
    } else if is_group(&e.resource_type) {
        dir.group(id).map(|g| Principal::Group {
            id: g.id.clone(),
            name: g.name.clone(),
        })
    } else if is_invite(&e.resource_type) {
        dir.invites
            .iter()
            .find(|i| i.eq_ignore_ascii_case(id))
            .map(|i| Principal::Invite { email: i.clone() })
    } else {
        None
    }
}

/// `e` with names resolved from `dir`.
pub(crate) fn record(dir: &Directory, e: AuditEvent) -> EventRecord {
    let principal = principal_of(dir, &e);
    let name = match &principal {
        Some(Principal::User { email, .. }) => email.clone(),
        Some(Principal::Group { name, .. }) => name.clone(),
        Some(Principal::Invite { email }) => email.clone(),
        None => e.resource_name.clone(),
    };
    // A person acting in Segment's app is `user/<id>` (or the bare id); their email is in the
    // user list even where the event left it out.
    let actor_email = e.actor_email.clone().or_else(|| {
        let id = e.actor.strip_prefix("user/").unwrap_or(&e.actor);
        dir.user(id).map(|u| u.email.clone())
    });
    EventRecord {
        id: e.id,
        time: e.timestamp,
        event_type: e.event_type,
        actor: ActorRef {
            id: e.actor,
            email: actor_email,
        },
        resource: EventResource {
            kind: e.resource_type,
            id: e.resource_id,
            name,
        },
        principal,
    }
}

/// Whether `r` was made by `actor`: its whole id, the id after the slash, or the email.
pub(crate) fn by_actor(r: &EventRecord, actor: &str) -> bool {
    let a = actor.trim();
    r.actor.id.eq_ignore_ascii_case(a)
        || r.actor
            .id
            .rsplit_once('/')
            .is_some_and(|(_, tail)| tail.eq_ignore_ascii_case(a))
        || r.actor
            .email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(a))
}

/// Whether `r` is of one of `types` (all when empty).
pub(crate) fn of_type(r: &EventRecord, types: &[String]) -> bool {
    types.is_empty()
        || types
            .iter()
            .any(|t| t.trim().eq_ignore_ascii_case(r.event_type.trim()))
}

/// Newest first, as Segment pages them; events read by two queries appear once.
pub(crate) fn newest_first(mut v: Vec<EventRecord>) -> Vec<EventRecord> {
    v.sort_by(|a, b| {
        let t = |r: &EventRecord| crate::segment::time::parse_rfc3339(&r.time).unwrap_or(0);
        t(b).cmp(&t(a)).then_with(|| b.id.cmp(&a.id))
    });
    v.dedup_by(|a, b| a.id == b.id);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::models::{User, UserGroup};

    fn ev(t: &str, rt: &str, id: &str, name: &str, actor: &str) -> AuditEvent {
        AuditEvent {
            id: format!("events/{id}-{t}"),
            timestamp: "2026-01-01T00:00:00Z".into(),
            event_type: t.into(),
            actor: actor.into(),
            actor_email: None,
            resource_id: id.into(),
            resource_type: rt.into(),
            resource_name: name.into(),
        }
    }

    fn dir() -> Directory {
        Directory {
            users: vec![
                User {
                    id: "u1".into(),
                    name: "Ann".into(),
                    email: "ann@x.com".into(),
                    permissions: None,
                },
                User {
                    id: "u2".into(),
                    name: "Bo".into(),
                    email: "bo@x.com".into(),
                    permissions: None,
                },
            ],
            groups: vec![UserGroup {
                id: "g1".into(),
                name: "Analysts".into(),
                member_count: 0,
                permissions: None,
            }],
            invites: vec!["new@x.com".into()],
            ..Directory::default()
        }
    }

    #[test]
    fn names_come_from_the_workspace_and_fall_back_to_segments() {
        let d = dir();
        let r = record(&d, ev("User Policy Updated", "user", "u1", "u1", "user/u2"));
        assert_eq!(r.resource.name, "ann@x.com");
        assert_eq!(r.actor.email.as_deref(), Some("bo@x.com"));
        assert!(matches!(r.principal, Some(Principal::User { ref id, .. }) if id == "u1"));
        let g = record(
            &d,
            ev(
                "User Group Updated",
                "user_group",
                "g1",
                "Old name",
                "public-api-token/T1",
            ),
        );
        assert_eq!(g.resource.name, "Analysts");
        assert_eq!(g.actor.email, None);
        let gone = record(
            &d,
            ev(
                "User Removed",
                "user",
                "u9",
                "gone@x.com",
                "public-api-token/T1",
            ),
        );
        assert_eq!(gone.resource.name, "gone@x.com");
        assert_eq!(gone.principal, None);
        let inv = record(
            &d,
            ev(
                "Invite Deleted",
                "invite",
                "NEW@x.com",
                "NEW@x.com",
                "public-api-token/T1",
            ),
        );
        assert_eq!(
            inv.principal,
            Some(Principal::Invite {
                email: "new@x.com".into()
            })
        );
    }

    #[test]
    fn actors_and_types_match_loosely_but_exactly() {
        let d = dir();
        let r = record(
            &d,
            ev(
                "User Policy Updated",
                "user",
                "u1",
                "u1",
                "public-api-token/T1",
            ),
        );
        assert!(by_actor(&r, "public-api-token/T1"));
        assert!(by_actor(&r, "t1"));
        assert!(!by_actor(&r, "T2"));
        let a = record(&d, ev("User Policy Updated", "user", "u1", "u1", "user/u2"));
        assert!(by_actor(&a, "bo@x.com"));
        assert!(of_type(&r, &[]));
        assert!(of_type(&r, &["user policy updated".into()]));
        assert!(!of_type(&r, &["User Policy".into()]));
    }
}
