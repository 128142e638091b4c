//! Change plans: what a principal holds before, what it will hold after, and how each asked-for
//! change stands (to apply, already holds, failed, skipped). Pure functions over Segment's
//! permission lists, so exactness is tested here without any server.

use serde::{Deserialize, Serialize};

use crate::segment::models::{
    Label, Permission, PermissionInput, PermissionResource, ResourceType,
};

use super::record::{LabelRef, Principal};

/// One binding: a role on one resource, narrowed by labels (sorted).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Binding {
    pub role_id: String,
    pub role_name: String,
    pub kind: ResourceType,
    pub resource_id: String,
    /// Shown to people; not part of a binding's identity.
    #[serde(default)]
    pub resource_name: Option<String>,
    #[serde(default)]
    pub labels: Vec<LabelRef>,
}

impl Binding {
    /// Same role, same resource, same labels: names do not count.
    pub(crate) fn same(&self, other: &Binding) -> bool {
        self.role_id == other.role_id
            && self.kind == other.kind
            && self.resource_id == other.resource_id
            && self.labels == other.labels
    }

    pub(crate) fn resource_display(&self) -> String {
        match self.kind {
            ResourceType::Workspace => "workspace".to_string(),
            k => format!(
                "{}:{}",
                k.as_cli_str(),
                self.resource_name.as_deref().unwrap_or(&self.resource_id)
            ),
        }
    }

    pub(crate) fn labels_display(&self) -> String {
        self.labels
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub(crate) fn display(&self) -> String {
        format!(
            "{} on {}",
            self.role_name,
            self.resource_display_with_labels()
        )
    }

    /// The resource, and the labels narrowing it in brackets.
    pub(crate) fn resource_display_with_labels(&self) -> String {
        let mut s = self.resource_display();
        if !self.labels.is_empty() {
            s.push_str(&format!(" [{}]", self.labels_display()));
        }
        s
    }
}

/// The labels narrowing one resource of a permission, sorted. Segment puts them on each
/// resource; a permission-level list (which its schema also allows, and which may summarise all
/// resources) counts only for a workspace resource that carries none of its own.
pub(crate) fn resource_labels(perm: &Permission, r: &PermissionResource) -> Vec<LabelRef> {
    let from_perm = if r.resource_type == ResourceType::Workspace {
        perm.labels.as_ref()
    } else {
        None
    };
    let mut v: Vec<LabelRef> = r
        .labels
        .as_ref()
        .or(from_perm)
        .into_iter()
        .flatten()
        .map(|l| LabelRef {
            key: l.key.clone(),
            value: l.value.clone(),
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Every binding in a permission list, in Segment's order.
pub(crate) fn bindings(perms: &[Permission]) -> Vec<Binding> {
    let mut out = Vec::new();
    for p in perms {
        for r in &p.resources {
            out.push(Binding {
                role_id: p.role_id.clone(),
                role_name: p.role_name.clone(),
                kind: r.resource_type,
                resource_id: r.id.clone(),
                resource_name: None,
                labels: resource_labels(p, r),
            });
        }
    }
    out
}

pub(crate) fn holds(perms: &[Permission], b: &Binding) -> bool {
    bindings(perms).iter().any(|h| h.same(b))
}

/// The permission list with exactly these bindings removed. Order, other resources of the same
/// role, their labels and other roles stay as they were, so a later replace writes back
/// everything else unchanged.
pub(crate) fn without(perms: &[Permission], remove: &[Binding]) -> Vec<Permission> {
    perms
        .iter()
        .filter_map(|p| {
            let resources: Vec<PermissionResource> = p
                .resources
                .iter()
                .filter(|r| {
                    let b = Binding {
                        role_id: p.role_id.clone(),
                        role_name: p.role_name.clone(),
                        kind: r.resource_type,
                        resource_id: r.id.clone(),
                        resource_name: None,
                        labels: resource_labels(p, r),
                    };
                    !remove.iter().any(|x| x.same(&b))
                })
                .cloned()
                .collect();
            (!resources.is_empty()).then(|| Permission {
                role_id: p.role_id.clone(),
                role_name: p.role_name.clone(),
                resources,
                labels: p.labels.clone(),
            })
        })
        .collect()
}

fn to_labels(ls: &[LabelRef]) -> Vec<Label> {
    ls.iter()
        .map(|l| Label {
            key: l.key.clone(),
            value: l.value.clone(),
            description: None,
        })
        .collect()
}

/// The body of a replace: the same roles, resources and labels, in the same order.
pub(crate) fn inputs(perms: &[Permission]) -> Vec<PermissionInput> {
    perms
        .iter()
        .map(|p| PermissionInput {
            role_id: p.role_id.clone(),
            resources: p
                .resources
                .iter()
                .map(|r| {
                    let ls = resource_labels(p, r);
                    PermissionResource {
                        id: r.id.clone(),
                        resource_type: r.resource_type,
                        labels: (!ls.is_empty()).then(|| to_labels(&ls)),
                    }
                })
                .collect(),
        })
        .collect()
}

/// The body of an additive grant: bindings grouped by role, in first-seen order.
pub(crate) fn inputs_for(bs: &[Binding]) -> Vec<PermissionInput> {
    let mut out: Vec<PermissionInput> = Vec::new();
    for b in bs {
        let r = PermissionResource {
            id: b.resource_id.clone(),
            resource_type: b.kind,
            labels: (!b.labels.is_empty()).then(|| to_labels(&b.labels)),
        };
        match out.iter_mut().find(|p| p.role_id == b.role_id) {
            Some(p) if !p.resources.contains(&r) => p.resources.push(r),
            Some(_) => {}
            None => out.push(PermissionInput {
                role_id: b.role_id.clone(),
                resources: vec![r],
            }),
        }
    }
    out
}

/// Grant or revoke.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Action {
    Grant,
    Revoke,
}

/// What one result row says happened (or, under --dry-run, would happen).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    /// Would be applied (--dry-run), or awaits applying.
    Planned,
    Applied,
    /// Already held (grant) or already absent (revoke): nothing to do.
    Noop,
    Failed,
    Skipped,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::Applied => "applied",
            Status::Noop => "noop",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// One line of a write command's report.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChangeResult {
    pub principal: String,
    pub action: String,
    pub role: Option<String>,
    pub resource: Option<String>,
    pub labels: Vec<LabelRef>,
    pub status: Status,
    pub message: String,
    /// The line of the batch file the change came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// A group a user or invite joins or leaves.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct GroupRef {
    pub id: String,
    pub name: String,
}

/// One asked-for change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Item {
    Bind(Binding),
    Member(GroupRef),
    /// Refused before planning (e.g. an inherited grant in a revoke batch), reported with what
    /// the record named.
    Refused {
        status: Status,
        message: String,
        /// The record contradicts the workspace (an id and a name that disagree): malformed
        /// input rather than a failed change.
        invalid: bool,
        role: Option<String>,
        resource: Option<String>,
        labels: Vec<LabelRef>,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct Want {
    pub principal: Principal,
    pub item: Item,
    pub line: Option<usize>,
}

impl Want {
    /// A result row for this change.
    pub(crate) fn result(
        &self,
        action: Action,
        status: Status,
        message: impl Into<String>,
    ) -> ChangeResult {
        let (verb, role, resource, labels) = match &self.item {
            Item::Bind(b) => (
                action_str(action),
                Some(b.role_name.clone()),
                Some(b.resource_display()),
                b.labels.clone(),
            ),
            Item::Member(g) => (
                match action {
                    Action::Grant => "add-member",
                    Action::Revoke => "remove-member",
                },
                None,
                Some(format!("group:{}", g.name)),
                Vec::new(),
            ),
            Item::Refused {
                role,
                resource,
                labels,
                ..
            } => (
                action_str(action),
                role.clone(),
                resource.clone(),
                labels.clone(),
            ),
        };
        ChangeResult {
            principal: self.principal.display(),
            action: verb.to_string(),
            role,
            resource,
            labels,
            status,
            message: message.into(),
            line: self.line,
        }
    }
}

fn action_str(a: Action) -> &'static str {
    match a {
        Action::Grant => "grant",
        Action::Revoke => "revoke",
    }
}

/// How the bindings asked of one principal stand against what it holds now.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PermPlan {
    pub before: Vec<Permission>,
    /// The list a revoke writes back; for a grant, what the additive write should lead to.
    pub after: Vec<Permission>,
    /// Bindings to add (grant) or remove (revoke).
    pub change: Vec<Binding>,
    /// Bindings that already hold (grant) or are already absent (revoke).
    pub already: Vec<Binding>,
}

/// Plans bindings against a principal's current permissions.
pub(crate) fn plan_permissions(
    action: Action,
    current: &[Permission],
    asked: &[Binding],
) -> PermPlan {
    let mut change: Vec<Binding> = Vec::new();
    let mut already = Vec::new();
    for b in asked {
        let held = holds(current, b);
        let needed = match action {
            Action::Grant => !held,
            Action::Revoke => held,
        };
        if needed && !change.iter().any(|c| c.same(b)) {
            change.push(b.clone());
        } else if !needed {
            already.push(b.clone());
        }
    }
    let after = match action {
        Action::Revoke => without(current, &change),
        Action::Grant => with(current, &change),
    };
    PermPlan {
        before: current.to_vec(),
        after,
        change,
        already,
    }
}

/// Segment's additive merge, for previews: a role already held widens to the new resources.
fn with(current: &[Permission], add: &[Binding]) -> Vec<Permission> {
    let mut out = current.to_vec();
    for b in add {
        let r = PermissionResource {
            id: b.resource_id.clone(),
            resource_type: b.kind,
            labels: Some(to_labels(&b.labels)),
        };
        match out.iter_mut().find(|p| p.role_id == b.role_id) {
            Some(p) => p.resources.push(r),
            None => out.push(Permission {
                role_id: b.role_id.clone(),
                role_name: b.role_name.clone(),
                resources: vec![r],
                labels: None,
            }),
        }
    }
    out
}

/// Lines a person reads before confirming: `-` removed, `+` added, ` ` kept.
/// Before/after lines of a permission change; `name` supplies the display names of resources
/// (Segment's permission lists carry only ids).
pub(crate) fn diff_lines(
    before: &[Permission],
    after: &[Permission],
    name: &dyn Fn(ResourceType, &str) -> Option<String>,
) -> Vec<String> {
    let named = |perms: &[Permission]| {
        let mut v = bindings(perms);
        for b in &mut v {
            b.resource_name = name(b.kind, &b.resource_id);
        }
        v
    };
    let b = named(before);
    let a = named(after);
    let mut out = Vec::new();
    for x in &b {
        let mark = if a.iter().any(|y| y.same(x)) {
            ' '
        } else {
            '-'
        };
        out.push(format!("{mark} {}", x.display()));
    }
    for y in &a {
        if !b.iter().any(|x| x.same(y)) {
            out.push(format!("+ {}", y.display()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(t: ResourceType, id: &str, labels: &[(&str, &str)]) -> PermissionResource {
        PermissionResource {
            id: id.into(),
            resource_type: t,
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| Label {
                        key: (*k).into(),
                        value: (*v).into(),
                        description: Some("d".into()),
                    })
                    .collect(),
            ),
        }
    }

    fn perm(role: &str, resources: Vec<PermissionResource>) -> Permission {
        Permission {
            role_id: role.into(),
            role_name: format!("Role {role}"),
            resources,
            labels: None,
        }
    }

    fn bind(role: &str, t: ResourceType, id: &str, labels: &[(&str, &str)]) -> Binding {
        Binding {
            role_id: role.into(),
            role_name: format!("Role {role}"),
            kind: t,
            resource_id: id.into(),
            resource_name: None,
            labels: labels
                .iter()
                .map(|(k, v)| LabelRef {
                    key: (*k).into(),
                    value: (*v).into(),
                })
                .collect(),
        }
    }

    fn sample() -> Vec<Permission> {
        use ResourceType::*;
        vec![
            perm(
                "sa",
                vec![
                    res(Source, "s1", &[]),
                    res(Source, "s2", &[]),
                    res(Source, "s3", &[]),
                ],
            ),
            perm("sr", vec![res(Workspace, "w", &[("env", "prod")])]),
            perm("wo", vec![res(Workspace, "w", &[])]),
        ]
    }

    #[test]
    fn revoke_one_of_three_sources_keeps_the_rest_exactly() {
        let p = plan_permissions(
            Action::Revoke,
            &sample(),
            &[bind("sa", ResourceType::Source, "s2", &[])],
        );
        assert_eq!(p.change.len(), 1);
        let left = bindings(&p.after);
        assert_eq!(left.len(), 4);
        assert!(!holds(
            &p.after,
            &bind("sa", ResourceType::Source, "s2", &[])
        ));
        assert!(holds(
            &p.after,
            &bind("sa", ResourceType::Source, "s1", &[])
        ));
        assert!(holds(
            &p.after,
            &bind("sa", ResourceType::Source, "s3", &[])
        ));
        assert!(holds(
            &p.after,
            &bind("sr", ResourceType::Workspace, "w", &[("env", "prod")])
        ));
        assert!(holds(
            &p.after,
            &bind("wo", ResourceType::Workspace, "w", &[])
        ));
        // The replace body keeps the labels of what stays.
        let body = inputs(&p.after);
        assert_eq!(body[1].resources[0].labels.as_ref().unwrap()[0].key, "env");
    }

    #[test]
    fn labels_are_part_of_a_bindings_identity() {
        // Revoking the unlabelled binding does not touch the labelled one.
        let p = plan_permissions(
            Action::Revoke,
            &sample(),
            &[bind("sr", ResourceType::Workspace, "w", &[])],
        );
        assert!(p.change.is_empty());
        assert_eq!(p.already.len(), 1);
        assert_eq!(p.after, sample());
    }

    #[test]
    fn last_resource_removes_the_role() {
        let p = plan_permissions(
            Action::Revoke,
            &sample(),
            &[bind("wo", ResourceType::Workspace, "w", &[])],
        );
        assert_eq!(p.after.len(), 2);
        assert!(p.after.iter().all(|x| x.role_id != "wo"));
    }

    #[test]
    fn grant_of_what_holds_is_a_noop() {
        let asked = [
            bind("sa", ResourceType::Source, "s1", &[]),
            bind("sa", ResourceType::Source, "s9", &[]),
        ];
        let p = plan_permissions(Action::Grant, &sample(), &asked);
        assert_eq!(p.already, vec![asked[0].clone()]);
        assert_eq!(p.change, vec![asked[1].clone()]);
        let body = inputs_for(&p.change);
        assert_eq!(body.len(), 1);
        assert_eq!(body[0].resources[0].id, "s9");
        assert!(holds(&p.after, &asked[1]));
    }

    #[test]
    fn inputs_for_groups_by_role() {
        let body = inputs_for(&[
            bind("sa", ResourceType::Source, "s1", &[]),
            bind("wo", ResourceType::Workspace, "w", &[]),
            bind("sa", ResourceType::Source, "s2", &[]),
            bind("sa", ResourceType::Source, "s2", &[]),
        ]);
        assert_eq!(body.len(), 2);
        assert_eq!(body[0].resources.len(), 2);
    }

    #[test]
    fn diff_marks_removed_and_added() {
        let p = plan_permissions(
            Action::Revoke,
            &sample(),
            &[bind("sa", ResourceType::Source, "s2", &[])],
        );
        let d = diff_lines(&p.before, &p.after, &|_, _| None);
        assert_eq!(d.iter().filter(|l| l.starts_with('-')).count(), 1);
        assert!(d.iter().any(|l| l.starts_with("- Role sa on source:s2")));
    }
}
