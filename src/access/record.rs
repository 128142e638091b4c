//! The grant record: the one JSON shape scripts read (`list grants`) and write back
//! (`grant`/`revoke --from-file`). Its schema is `docs/grant-record.schema.json`; changing a
//! field here is a breaking change and needs a new schema version.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::segment::models::ResourceType;

/// Who holds access.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum Principal {
    User {
        id: String,
        email: String,
        name: String,
    },
    /// A pending invite, known only by email.
    Invite {
        email: String,
    },
    Group {
        id: String,
        name: String,
    },
}

impl Principal {
    /// How a person would type it on the command line.
    pub(crate) fn display(&self) -> String {
        match self {
            Principal::User { email, .. } => email.clone(),
            Principal::Invite { email } => format!("invite:{email}"),
            Principal::Group { name, .. } => format!("group:{name}"),
        }
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Principal::User { .. } => "user",
            Principal::Invite { .. } => "invite",
            Principal::Group { .. } => "group",
        }
    }

    /// Users by email, then invites, then groups by name; ids break ties (two groups may
    /// share a name).
    pub(crate) fn sort_key(&self) -> (u8, String, String) {
        match self {
            Principal::User { email, id, .. } => (0, email.to_lowercase(), id.clone()),
            Principal::Invite { email } => (1, email.to_lowercase(), email.clone()),
            Principal::Group { name, id } => (2, name.to_lowercase(), id.clone()),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleRef {
    pub id: String,
    pub name: String,
}

/// What access is held on: a workspace, source, warehouse, function or space, or (for a
/// membership) a group.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ResourceKind {
    Workspace,
    Source,
    Warehouse,
    Function,
    Space,
    Group,
}

impl ResourceKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Workspace => "workspace",
            ResourceKind::Source => "source",
            ResourceKind::Warehouse => "warehouse",
            ResourceKind::Function => "function",
            ResourceKind::Space => "space",
            ResourceKind::Group => "group",
        }
    }

    pub(crate) fn api_type(self) -> Option<ResourceType> {
        match self {
            ResourceKind::Workspace => Some(ResourceType::Workspace),
            ResourceKind::Source => Some(ResourceType::Source),
            ResourceKind::Warehouse => Some(ResourceType::Warehouse),
            ResourceKind::Function => Some(ResourceType::Function),
            ResourceKind::Space => Some(ResourceType::Space),
            ResourceKind::Group => None,
        }
    }
}

impl From<ResourceType> for ResourceKind {
    fn from(t: ResourceType) -> ResourceKind {
        match t {
            ResourceType::Workspace => ResourceKind::Workspace,
            ResourceType::Source => ResourceKind::Source,
            ResourceType::Warehouse => ResourceKind::Warehouse,
            ResourceType::Function => ResourceKind::Function,
            ResourceType::Space => ResourceKind::Space,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceRef {
    #[serde(rename = "type")]
    pub kind: ResourceKind,
    pub id: String,
    /// `null` when Segment no longer lists a resource that a permission still points at.
    pub name: Option<String>,
}

impl ResourceRef {
    pub(crate) fn display(&self) -> String {
        match self.kind {
            ResourceKind::Workspace => "workspace".to_string(),
            k => format!(
                "{}:{}",
                k.as_str(),
                self.name.as_deref().unwrap_or(&self.id)
            ),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelRef {
    pub key: String,
    pub value: String,
}

impl fmt::Display for LabelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// The group a grant comes through.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub(crate) struct Via {
    #[serde(rename = "type")]
    pub kind: ViaKind,
    pub id: String,
    pub name: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ViaKind {
    Group,
}

/// One fact: `principal` holds `role` on `resource` (narrowed by `labels`), directly or `via`
/// a group; or, with `role: null` and a group resource, `principal` is a member of that group.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantRecord {
    pub principal: Principal,
    pub role: Option<RoleRef>,
    pub resource: ResourceRef,
    #[serde(default)]
    pub labels: Vec<LabelRef>,
    #[serde(default)]
    pub via: Option<Via>,
}

impl GrantRecord {
    pub(crate) fn is_membership(&self) -> bool {
        self.role.is_none() && self.resource.kind == ResourceKind::Group
    }

    pub(crate) fn labels_display(&self) -> String {
        self.labels
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// A stable, human order: principal, then direct before inherited, role, resource.
    pub(crate) fn cmp_for_display(&self, other: &GrantRecord) -> Ordering {
        self.display_key().cmp(&other.display_key())
    }

    /// The key of [`GrantRecord::cmp_for_display`], for sorting many records with one key
    /// each (`sort_by_cached_key`) instead of two per comparison.
    pub(crate) fn display_key(&self) -> impl Ord + use<> {
        (
            self.principal.sort_key(),
            self.via.as_ref().map(|v| v.name.to_lowercase()),
            self.role.as_ref().map(|r| r.name.to_lowercase()),
            self.resource.kind,
            self.resource
                .name
                .as_deref()
                .unwrap_or(&self.resource.id)
                .to_lowercase(),
            self.resource.id.clone(),
            self.labels.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_example_round_trips() {
        let text = r#"{"principal":{"type":"user","id":"u1","email":"a@x.com","name":"Ann"},"role":{"id":"r1","name":"Source Admin"},"resource":{"type":"source","id":"s1","name":"web-prod"},"labels":[{"key":"env","value":"prod"}],"via":{"type":"group","id":"g1","name":"Analysts"}}"#;
        let g: GrantRecord = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&g).unwrap(), text);
    }

    #[test]
    fn membership_shape() {
        let g = GrantRecord {
            principal: Principal::Invite {
                email: "new@x.com".into(),
            },
            role: None,
            resource: ResourceRef {
                kind: ResourceKind::Group,
                id: "g1".into(),
                name: Some("Analysts".into()),
            },
            labels: vec![],
            via: None,
        };
        assert!(g.is_membership());
        assert_eq!(
            serde_json::to_string(&g).unwrap(),
            r#"{"principal":{"type":"invite","email":"new@x.com"},"role":null,"resource":{"type":"group","id":"g1","name":"Analysts"},"labels":[],"via":null}"#
        );
    }

    #[test]
    fn rejects_unknown_fields_and_types() {
        assert!(serde_json::from_str::<GrantRecord>(r#"{"principal":{"type":"robot","id":"x"},"role":null,"resource":{"type":"group","id":"g","name":"n"}}"#).is_err());
        assert!(serde_json::from_str::<GrantRecord>(r#"{"principal":{"type":"invite","email":"a@b"},"role":null,"resource":{"type":"group","id":"g","name":"n"},"extra":1}"#).is_err());
    }
}
