//! What an audit event says about the reads a snapshot is made of: which user's permissions,
//! which group's members, or only the cheap lists (which a refresh reads anyway). An event
//! this module does not know, about a user, a group, an invite, a policy or the workspace, is
//! a reason to read everything: the refresh cannot tell what it changed.

use crate::segment::models::AuditEvent;

/// What one event touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Touch {
    /// A user's own permissions (`GET /users/{id}`).
    UserPermissions(String),
    /// A user's group memberships, with the user as the event's resource.
    UserGroups(String),
    /// A user left the workspace (gone from the user list and from every group).
    UserRemoved(String),
    /// Someone joined (an invite accepted, SSO): a new user in the list, by id or email.
    UserJoined(String),
    /// A group's permissions (they come with the group list).
    GroupPermissions(String),
    /// A group's members or pending members (`GET /groups/{id}/users`, `/invites`).
    GroupMembers(String),
    GroupCreated(String),
    /// Renamed (the group list shows it).
    GroupUpdated(String),
    GroupDeleted(String),
    /// An invite created or sent again (the invite list shows it).
    Invited(String),
    /// An invite withdrawn (gone from the invite list and from every group).
    InviteDeleted(String),
    /// Only what the cheap lists hold (labels, sources, warehouses, functions, spaces), or
    /// nothing access depends on.
    Lists,
    /// Not understood: read everything. The text says why.
    Unknown(String),
}

/// Resource types (as normalised by [`kind`]) that access depends on: an event about one of
/// these whose name is not known cannot be ignored.
const ACCESS_KINDS: [&str; 7] = [
    "user",
    "usergroup",
    "group",
    "invite",
    "policy",
    "workspace",
    "role",
];

/// `user_group`, `User Group`, `USER-GROUP` -> `usergroup`.
pub(crate) fn kind(resource_type: &str) -> String {
    resource_type
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn is_user(k: &str) -> bool {
    k == "user"
}

fn is_group(k: &str) -> bool {
    matches!(k, "usergroup" | "group")
}

/// What `e` touches.
pub(crate) fn touch(e: &AuditEvent) -> Touch {
    let k = kind(&e.resource_type);
    let id = e.resource_id.trim().to_string();
    let name = e.event_type.trim().to_ascii_lowercase();
    let unknown = |why: &str| {
        Touch::Unknown(format!(
            "{why}: {:?} about {} {}",
            e.event_type, e.resource_type, e.resource_id
        ))
    };
    if id.is_empty() && !matches!(name.as_str(), "label created" | "label deleted") {
        return unknown("an event without a resource id");
    }
    match name.as_str() {
        "user policy updated" | "user permissions added" | "user permissions replaced" => {
            if is_user(&k) {
                Touch::UserPermissions(id)
            } else {
                unknown("a user's policy event about something else")
            }
        }
        "user group policy updated" => {
            if is_group(&k) {
                Touch::GroupPermissions(id)
            } else {
                unknown("a group's policy event about something else")
            }
        }
        "user added to user group"
        | "user removed from user group"
        | "subjects added to group"
        | "group memberships deleted" => {
            if is_group(&k) {
                Touch::GroupMembers(id)
            } else if is_user(&k) {
                Touch::UserGroups(id)
            } else if k == "invite" {
                Touch::InviteDeleted(id)
            } else {
                unknown("a membership event about neither a user nor a group")
            }
        }
        "user removed" => {
            if is_user(&k) {
                Touch::UserRemoved(id)
            } else {
                unknown("a removal of something other than a user")
            }
        }
        "user invite accepted" | "user added via sso" => Touch::UserJoined(id),
        "new user invited to workspace"
        | "new segment user invited to workspace"
        | "non-segment user invited to workspace"
        | "user invite sent" => Touch::Invited(id),
        "invite deleted" | "user invite deleted" => Touch::InviteDeleted(id),
        "user group created" => Touch::GroupCreated(id),
        "user group updated" => Touch::GroupUpdated(id),
        "user group deleted" => Touch::GroupDeleted(id),
        "label created" | "label deleted" => Touch::Lists,
        _ if ACCESS_KINDS.contains(&k.as_str()) => {
            unknown("an event type this version does not know")
        }
        // Sources, destinations, warehouses, functions, tracking plans and the like: what
        // access depends on among them (resources, their labels) is in the cheap lists.
        _ => Touch::Lists,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: &str, rt: &str, id: &str) -> AuditEvent {
        AuditEvent {
            id: "events/1".into(),
            timestamp: "2026-01-01T00:00:00Z".into(),
            event_type: t.into(),
            actor: "public-api-token/x".into(),
            actor_email: None,
            resource_id: id.into(),
            resource_type: rt.into(),
            resource_name: id.into(),
        }
    }

    #[test]
    fn known_events_touch_what_they_change() {
        assert_eq!(
            touch(&ev("User Policy Updated", "user", "u1")),
            Touch::UserPermissions("u1".into())
        );
        assert_eq!(
            touch(&ev("User Group Policy Updated", "user_group", "g1")),
            Touch::GroupPermissions("g1".into())
        );
        assert_eq!(
            touch(&ev("User Added To User Group", "User Group", "g1")),
            Touch::GroupMembers("g1".into())
        );
        assert_eq!(
            touch(&ev("User Added To User Group", "user", "u1")),
            Touch::UserGroups("u1".into())
        );
        assert_eq!(
            touch(&ev("Invite Deleted", "invite", "a@x.com")),
            Touch::InviteDeleted("a@x.com".into())
        );
        assert_eq!(touch(&ev("Source Modified", "source", "s1")), Touch::Lists);
        assert_eq!(touch(&ev("Label Created", "label", "")), Touch::Lists);
    }

    #[test]
    fn unknown_events_about_access_read_everything() {
        for (t, rt) in [
            ("Policy Deleted", "policy"),
            ("User Renamed", "user"),
            ("Emulator Workspace Replaced", "workspace"),
            ("User Policy Updated", "policy"),
            ("User Group Membership Synced", "user_group"),
        ] {
            assert!(
                matches!(touch(&ev(t, rt, "x1")), Touch::Unknown(_)),
                "{t} about {rt}"
            );
        }
        assert!(matches!(
            touch(&ev("User Policy Updated", "user", "")),
            Touch::Unknown(_)
        ));
    }
}
