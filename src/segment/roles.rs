//! What Segment knows about its built-in roles and this API does not say: which resource types
//! each role can be bound to. `GET /roles` answers only id, name and description, so the client
//! validates bindings by role name against this table before it calls Segment, and the emulator
//! enforces the same table the way Segment answers a mismatch (422).

use super::models::ResourceType;

/// A built-in Segment role and the resource types it can be bound to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoleSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// Resource types a permission with this role may point at. `WORKSPACE` on a resource-kind
    /// role (e.g. Source Admin) means "all resources of that kind", optionally narrowed by labels.
    pub bindable: &'static [ResourceType],
    /// Whether workspace-level bindings of this role may be narrowed by labels. Segment allows
    /// labels on the Source and Engage roles only ("Using Label-Based Access Control").
    pub labels_allowed: bool,
}

use ResourceType::{Function, Source, Space, Warehouse, Workspace};

pub(crate) const BUILTIN_ROLES: &[RoleSpec] = &[
    RoleSpec {
        name: "Workspace Owner",
        description: "Owners have full read and edit access to everything in the workspace, including Sources, Destinations, add-on products, and settings. Owners have full edit access to all Team Permissions.",
        bindable: &[Workspace],
        labels_allowed: false,
    },
    RoleSpec {
        name: "Minimal Workspace Access",
        description: "Access to view the workspace. Cannot view any sub resources or make changes to the workspace.",
        bindable: &[Workspace],
        labels_allowed: false,
    },
    RoleSpec {
        name: "Source Admin",
        description: "Edit access to assigned Sources and their connected Destinations, Functions and Tracking Plans.",
        bindable: &[Workspace, Source],
        labels_allowed: true,
    },
    RoleSpec {
        name: "Source Read-only",
        description: "Read access to assigned Sources and their connected Destinations.",
        bindable: &[Workspace, Source],
        labels_allowed: true,
    },
    RoleSpec {
        name: "Warehouse Admin",
        description: "Edit access to assigned Warehouses and their settings.",
        bindable: &[Workspace, Warehouse],
        labels_allowed: false,
    },
    RoleSpec {
        name: "Warehouse Read-only",
        description: "Read access to assigned Warehouses.",
        bindable: &[Workspace, Warehouse],
        labels_allowed: false,
    },
    RoleSpec {
        name: "Functions Admin",
        description: "Create, edit and delete Functions.",
        bindable: &[Workspace, Function],
        labels_allowed: false,
    },
    RoleSpec {
        name: "Functions Read-only",
        description: "Read access to Functions.",
        bindable: &[Workspace, Function],
        labels_allowed: false,
    },
    RoleSpec {
        name: "Tracking Plan Admin",
        description: "Edit access to all Tracking Plans in the workspace.",
        bindable: &[Workspace],
        labels_allowed: false,
    },
    RoleSpec {
        name: "Tracking Plan Read-only",
        description: "Read access to all Tracking Plans in the workspace.",
        bindable: &[Workspace],
        labels_allowed: false,
    },
    RoleSpec {
        name: "Engage Admin",
        description: "Edit access to assigned Engage spaces, including audiences, traits and journeys.",
        bindable: &[Workspace, Space],
        labels_allowed: true,
    },
    RoleSpec {
        name: "Engage User",
        description: "Edit access to audiences and computed traits in assigned Engage spaces.",
        bindable: &[Workspace, Space],
        labels_allowed: true,
    },
    RoleSpec {
        name: "Engage Read-only",
        description: "Read access to assigned Engage spaces.",
        bindable: &[Workspace, Space],
        labels_allowed: true,
    },
    RoleSpec {
        name: "Identity Admin",
        description: "Edit access to identity resolution settings and profile sync.",
        bindable: &[Workspace],
        labels_allowed: false,
    },
];

/// The spec of a built-in role by its exact Segment name (case-insensitive).
pub(crate) fn builtin(name: &str) -> Option<&'static RoleSpec> {
    BUILTIN_ROLES
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(name))
}

impl RoleSpec {
    pub(crate) fn can_bind(&self, t: ResourceType) -> bool {
        self.bindable.contains(&t)
    }
}
