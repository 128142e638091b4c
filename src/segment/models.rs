//! Wire models of the Segment Public API, named after Segment's own schemas (`UserV1`,
//! `PermissionV1`, ...). Field names follow Segment's camelCase via serde. Unknown fields are
//! tolerated (serde's default) so newer API versions do not break us; required fields are not
//! optional here, so a response missing one is a decode error rather than a silent default.
//!
//! The emulator serialises these same types, which keeps the two sides honest: if the client
//! could not read what the emulator writes, both would be wrong against the OpenAPI document.

use serde::{Deserialize, Deserializer, Serialize};

/// A count sent as a JSON number: `3`, or `3.0` from a server that writes floats.
fn whole_count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    if let Some(u) = n.as_u64() {
        return Ok(u);
    }
    match n.as_f64() {
        Some(f) if f >= 0.0 && f.fract() == 0.0 && f <= 9_007_199_254_740_992.0 => Ok(f as u64),
        _ => Err(serde::de::Error::custom(format!(
            "expected a whole, non-negative count, got {n}"
        ))),
    }
}

/// The kinds of resource a permission can point at (`PermissionResourceV1.type`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ResourceType {
    Workspace,
    Source,
    Warehouse,
    Function,
    Space,
}

impl ResourceType {
    pub(crate) const ALL: [ResourceType; 5] = [
        ResourceType::Workspace,
        ResourceType::Source,
        ResourceType::Warehouse,
        ResourceType::Function,
        ResourceType::Space,
    ];

    /// Segment's spelling: `WORKSPACE`, `SOURCE`, ...
    pub(crate) fn as_api_str(self) -> &'static str {
        match self {
            ResourceType::Workspace => "WORKSPACE",
            ResourceType::Source => "SOURCE",
            ResourceType::Warehouse => "WAREHOUSE",
            ResourceType::Function => "FUNCTION",
            ResourceType::Space => "SPACE",
        }
    }

    /// Our command-line and grant-record spelling: `workspace`, `source`, ...
    pub(crate) fn as_cli_str(self) -> &'static str {
        match self {
            ResourceType::Workspace => "workspace",
            ResourceType::Source => "source",
            ResourceType::Warehouse => "warehouse",
            ResourceType::Function => "function",
            ResourceType::Space => "space",
        }
    }

    pub(crate) fn from_api_str(s: &str) -> Option<ResourceType> {
        ResourceType::ALL.into_iter().find(|t| t.as_api_str() == s)
    }

    pub(crate) fn from_cli_str(s: &str) -> Option<ResourceType> {
        ResourceType::ALL
            .into_iter()
            .find(|t| t.as_cli_str().eq_ignore_ascii_case(s))
    }
}

/// `LabelV1` / `AllowedLabelBeta`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Label {
    pub key: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `PermissionResourceV1`: one resource a permission is bound to.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PermissionResource {
    pub id: String,
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
}

/// `PermissionV1`: a role bound to one or more resources.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Permission {
    pub role_id: String,
    pub role_name: String,
    pub resources: Vec<PermissionResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
}

/// `AccessPermissionV1`: what the add/replace permission endpoints answer with.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccessPermission {
    pub role_id: String,
    pub role_name: String,
    pub resources: Vec<PermissionResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
}

/// `PermissionInputV1`: what the add/replace permission endpoints take.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PermissionInput {
    pub role_id: String,
    pub resources: Vec<PermissionResource>,
}

/// Body of `POST`/`PUT /users/{id}/permissions` and `/groups/{id}/permissions`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct PermissionsInput {
    pub permissions: Vec<PermissionInput>,
}

/// `WorkspaceV1`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Workspace {
    pub id: String,
    pub name: String,
    pub slug: String,
}

/// `UserV1`: list items carry no permissions; `GET /users/{id}` fills them in.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<Permission>>,
}

/// `MinimalUserV1`: members of a group.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct MinimalUser {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// `UserGroupV1`: list items come with their permissions and member count.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserGroup {
    pub id: String,
    pub name: String,
    /// Typed `number` in Segment's schema, but a count: its examples and every typed client
    /// (the Go connector decodes it into an int64) have an integer. Read leniently, written as
    /// an integer.
    #[serde(deserialize_with = "whole_count")]
    pub member_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<Permission>>,
}

/// `MinimalUserGroupV1`: the groups of one user.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct MinimalUserGroup {
    pub id: String,
    pub name: String,
}

/// `RoleV1`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
}

/// The fields of `SourceV1` this tool reads. The emulator writes the full schema.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Source {
    pub id: String,
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub workspace_id: String,
    pub enabled: bool,
    #[serde(default)]
    pub labels: Vec<Label>,
}

/// The fields of `WarehouseV1` this tool reads. A warehouse's display name lives in
/// `settings.name`; `metadata.name` is the kind of warehouse (Snowflake, BigQuery, ...).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Warehouse {
    pub id: String,
    pub workspace_id: String,
    pub enabled: bool,
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
}

impl Warehouse {
    pub(crate) fn display_name(&self) -> Option<&str> {
        self.settings
            .as_ref()
            .and_then(|s| s.get("name"))
            .and_then(|n| n.as_str())
            .filter(|n| !n.is_empty())
    }
}

/// The fields of `ListFunctionItemV1` this tool reads.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Function {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
}

/// An Engage space (`GET /spaces`, alpha).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Space {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
}

/// `AuditEventV1`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditEvent {
    pub id: String,
    pub timestamp: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub actor: String,
    /// The email of the person behind `actor`, when Segment knows one (changes made in the
    /// app); API tokens have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_email: Option<String>,
    pub resource_id: String,
    pub resource_type: String,
    pub resource_name: String,
}

/// `PaginationOutput`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PaginationOutput {
    pub current: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_entries: Option<u64>,
}

/// One element of a failure envelope's `errors` array.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(crate) struct ApiErrorItem {
    #[serde(rename = "type")]
    pub error_type: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

/// `{"errors": [...]}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(crate) struct ErrorEnvelope {
    pub errors: Vec<ApiErrorItem>,
}

/// `{"data": ...}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(crate) struct DataEnvelope<T> {
    pub data: T,
}

/// `POST /invites` body item (`InviteV1`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct InviteInput {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<InvitePermission>>,
}

/// `InvitePermissionV1`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InvitePermission {
    pub role_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<PermissionResource>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
}

/// The Accept/Content-Type for GA endpoints.
pub(crate) const MEDIA_TYPE_V1: &str = "application/vnd.segment.v1+json";
/// The Accept header `GET /spaces` answers to.
pub(crate) const MEDIA_TYPE_V1_ALPHA: &str = "application/vnd.segment.v1alpha+json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_count_is_a_whole_number_both_ways() {
        let read = |count: &str| {
            serde_json::from_str::<UserGroup>(&format!(
                r#"{{"id":"g","name":"G","memberCount":{count}}}"#
            ))
            .map(|g| g.member_count)
        };
        assert_eq!(read("3").unwrap(), 3);
        assert_eq!(read("3.0").unwrap(), 3, "a server that writes floats");
        assert!(read("2.5").is_err());
        assert!(read("-1").is_err());
        let g = UserGroup {
            id: "g".into(),
            name: "G".into(),
            member_count: 3,
            permissions: None,
        };
        assert_eq!(
            serde_json::to_string(&g).unwrap(),
            r#"{"id":"g","name":"G","memberCount":3}"#
        );
    }
}
