//! Small row types for the `list` commands that have no Segment model of their own.

use serde::Serialize;

use super::directory::{Directory, function_name, source_name, warehouse_name};
use super::record::{LabelRef, ResourceKind};

/// A workspace-level resource a role can be bound to.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct ResourceRow {
    #[serde(rename = "type")]
    pub kind: ResourceKind,
    pub id: String,
    pub name: String,
    pub slug: Option<String>,
    pub labels: Vec<LabelRef>,
}

/// The workspace a token belongs to, and where it was reached.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WorkspaceInfo {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub api_url: String,
}

/// A pending invite.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct InviteRow {
    pub email: String,
}

/// Every resource in the directory: the workspace first, then sources, warehouses, functions
/// and spaces, each sorted by name.
pub(crate) fn resources(dir: &Directory) -> Vec<ResourceRow> {
    let labels = |ls: &[crate::segment::models::Label]| {
        let mut v: Vec<LabelRef> = ls
            .iter()
            .map(|l| LabelRef {
                key: l.key.clone(),
                value: l.value.clone(),
            })
            .collect();
        v.sort();
        v
    };
    let mut out = Vec::new();
    if let Some(w) = &dir.workspace {
        out.push(ResourceRow {
            kind: ResourceKind::Workspace,
            id: w.id.clone(),
            name: w.name.clone(),
            slug: Some(w.slug.clone()),
            labels: Vec::new(),
        });
    }
    let r = &dir.resources;
    let mut rest: Vec<ResourceRow> = r
        .sources
        .iter()
        .map(|s| ResourceRow {
            kind: ResourceKind::Source,
            id: s.id.clone(),
            name: source_name(s),
            slug: Some(s.slug.clone()),
            labels: labels(&s.labels),
        })
        .chain(r.warehouses.iter().map(|w| ResourceRow {
            kind: ResourceKind::Warehouse,
            id: w.id.clone(),
            name: warehouse_name(w),
            slug: None,
            labels: Vec::new(),
        }))
        .chain(r.functions.iter().map(|f| ResourceRow {
            kind: ResourceKind::Function,
            id: f.id.clone(),
            name: function_name(f),
            slug: None,
            labels: Vec::new(),
        }))
        .chain(r.spaces.iter().map(|s| ResourceRow {
            kind: ResourceKind::Space,
            id: s.id.clone(),
            name: s.name.clone(),
            slug: s.slug.clone(),
            labels: Vec::new(),
        }))
        .collect();
    rest.sort_by(|a, b| {
        (a.kind, a.name.to_lowercase(), &a.id).cmp(&(b.kind, b.name.to_lowercase(), &b.id))
    });
    out.extend(rest);
    out
}
