//! The `data` of each list endpoint: its items under an endpoint-specific key, plus pagination.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::models::*;

pub(crate) trait PageData: DeserializeOwned {
    type Item;
    fn into_parts(self) -> (Vec<Self::Item>, Option<PaginationOutput>);
}

macro_rules! page {
    ($name:ident, $item:ty, $key:literal) => {
        #[derive(Deserialize)]
        pub(crate) struct $name {
            #[serde(rename = $key)]
            items: Vec<$item>,
            #[serde(default)]
            pagination: Option<PaginationOutput>,
        }

        impl PageData for $name {
            type Item = $item;
            fn into_parts(self) -> (Vec<$item>, Option<PaginationOutput>) {
                (self.items, self.pagination)
            }
        }
    };
}

page!(Users, User, "users");
page!(Invites, String, "invites");
page!(Groups, UserGroup, "userGroups");
page!(GroupUsers, MinimalUser, "users");
page!(GroupInvites, String, "emails");
page!(UserGroups, MinimalUserGroup, "groups");
page!(Roles, Role, "roles");
page!(Sources, Source, "sources");
page!(Warehouses, Warehouse, "warehouses");
page!(Functions, Function, "functions");
page!(Spaces, Space, "spaces");
page!(AuditEvents, AuditEvent, "events");
