//! The emulated workspace and every rule about changing it. Handlers parse HTTP; this module
//! decides what Segment would accept and what the workspace looks like afterwards.

use std::collections::HashMap;

use axum::http::StatusCode;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use super::audit::{self, Actor};
use super::ids;
use super::time;
use crate::segment::models::{
    AuditEvent, Label, MinimalUser, MinimalUserGroup, Permission, PermissionResource, ResourceType,
    Role, User, UserGroup, Workspace,
};
use crate::segment::roles::{BUILTIN_ROLES, RoleSpec};

/// A failure answered in Segment's error envelope.
#[derive(Debug, Clone)]
pub(super) struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    pub field: Option<String>,
    // Boxed: a `Value` would make every `Result<_, ApiError>` needlessly large.
    pub data: Option<Box<Value>>,
}

impl ApiError {
    pub(super) fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            kind: "NotFound",
            message: message.into(),
            field: None,
            data: None,
        }
    }

    pub(super) fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "ValidationFailure",
            message: message.into(),
            field: Some(field.into()),
            data: None,
        }
    }

    pub(super) fn envelope(&self) -> Value {
        let mut item = json!({"type": self.kind, "message": self.message});
        if let Some(f) = &self.field {
            item["field"] = json!(f);
        }
        if let Some(d) = &self.data {
            item["data"] = (**d).clone();
        }
        json!({ "errors": [item] })
    }
}

/// A role bound to resources, as stored. `roleName` is derived from the role table on output,
/// and every resource's labels are normalised (sorted, catalogue descriptions) so that equal
/// bindings compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Perm {
    pub role_id: String,
    pub resources: Vec<PermissionResource>,
}

#[derive(Debug, Clone)]
pub(super) struct UserRec {
    pub id: String,
    pub name: String,
    pub email: String,
    pub permissions: Vec<Perm>,
}

#[derive(Debug, Clone)]
pub(super) struct InviteRec {
    pub email: String,
    pub permissions: Vec<Perm>,
}

#[derive(Debug, Clone)]
pub(super) struct GroupRec {
    pub id: String,
    pub name: String,
    /// User ids, in the order they joined.
    pub members: Vec<String>,
    /// Emails of pending invites that are members.
    pub invites: Vec<String>,
    pub permissions: Vec<Perm>,
}

#[derive(Debug, Clone)]
pub(super) struct RoleRec {
    pub id: String,
    pub spec: &'static RoleSpec,
}

#[derive(Debug, Clone)]
pub(super) struct SourceRec {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub enabled: bool,
    pub labels: Vec<Label>,
    /// Catalogue slug of the source kind (`javascript`, `ios`, ...).
    pub kind: String,
    pub write_key: String,
}

#[derive(Debug, Clone)]
pub(super) struct WarehouseRec {
    pub id: String,
    pub name: String,
    /// Catalogue slug of the warehouse kind (`snowflake`, `bigquery`, ...).
    pub kind: String,
    pub enabled: bool,
}

#[derive(Debug, Clone)]
pub(super) struct FunctionRec {
    pub id: String,
    pub name: String,
    pub resource_type: String,
    pub description: String,
    pub created_at: String,
    pub created_by: String,
}

#[derive(Debug, Clone)]
pub(super) struct SpaceRec {
    pub id: String,
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Clone)]
pub(super) struct AuditRec {
    pub millis: i64,
    pub event: AuditEvent,
}

#[derive(Debug)]
pub(super) struct State {
    pub workspace: Workspace,
    pub users: Vec<UserRec>,
    user_index: HashMap<String, usize>,
    pub invites: Vec<InviteRec>,
    pub groups: Vec<GroupRec>,
    pub roles: Vec<RoleRec>,
    pub sources: Vec<SourceRec>,
    pub warehouses: Vec<WarehouseRec>,
    pub functions: Vec<FunctionRec>,
    pub spaces: Vec<SpaceRec>,
    pub labels: Vec<Label>,
    /// Oldest first; served newest first.
    pub audit: Vec<AuditRec>,
    /// Whether accepted changes are recorded (the `audit.record` knob).
    pub audit_recording: bool,
    /// Ids of objects created at run time.
    rng: StdRng,
}

/// Role ids are the same for every seed, like Segment's built-in roles are the same in every
/// workspace.
pub(super) fn builtin_roles() -> Vec<RoleRec> {
    let mut rng = StdRng::seed_from_u64(0x5e9_0e17);
    BUILTIN_ROLES
        .iter()
        .map(|spec| RoleRec {
            id: ids::ksuid(&mut rng),
            spec,
        })
        .collect()
}

pub(super) fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && e.len() <= 254
        && !e
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
}

impl State {
    pub(super) fn new(workspace: Workspace, rng_seed: u64) -> Self {
        State {
            workspace,
            users: Vec::new(),
            user_index: HashMap::new(),
            invites: Vec::new(),
            groups: Vec::new(),
            roles: builtin_roles(),
            sources: Vec::new(),
            warehouses: Vec::new(),
            functions: Vec::new(),
            spaces: Vec::new(),
            labels: Vec::new(),
            audit: Vec::new(),
            audit_recording: true,
            rng: StdRng::seed_from_u64(rng_seed ^ 0xA11CE),
        }
    }

    pub(super) fn new_id(&mut self) -> String {
        ids::object_id(&mut self.rng)
    }

    pub(super) fn push_user(&mut self, u: UserRec) {
        self.user_index.insert(u.id.clone(), self.users.len());
        self.users.push(u);
    }

    fn reindex_users(&mut self) {
        self.user_index = self
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.clone(), i))
            .collect();
    }

    pub(super) fn user_idx(&self, id: &str) -> Option<usize> {
        self.user_index.get(id).copied()
    }

    pub(super) fn user_by_email(&self, email: &str) -> Option<usize> {
        self.users
            .iter()
            .position(|u| u.email.eq_ignore_ascii_case(email))
    }

    pub(super) fn invite_idx(&self, email: &str) -> Option<usize> {
        self.invites
            .iter()
            .position(|i| i.email.eq_ignore_ascii_case(email))
    }

    pub(super) fn group_idx(&self, id: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.id == id)
    }

    pub(super) fn role(&self, id: &str) -> Option<&RoleRec> {
        self.roles.iter().find(|r| r.id == id)
    }

    pub(super) fn role_by_name(&self, name: &str) -> Option<&RoleRec> {
        self.roles
            .iter()
            .find(|r| r.spec.name.eq_ignore_ascii_case(name))
    }

    pub(super) fn resource_exists(&self, t: ResourceType, id: &str) -> bool {
        match t {
            ResourceType::Workspace => id == self.workspace.id,
            ResourceType::Source => self.sources.iter().any(|s| s.id == id),
            ResourceType::Warehouse => self.warehouses.iter().any(|w| w.id == id),
            ResourceType::Function => self.functions.iter().any(|f| f.id == id),
            ResourceType::Space => self.spaces.iter().any(|s| s.id == id),
        }
    }

    /// Checks one permission against the role table and the workspace, and normalises its
    /// resources' labels to the catalogue's spelling. `field` prefixes error fields
    /// (`permissions.0`).
    pub(super) fn check_perm(&self, mut p: Perm, field: &str) -> Result<Perm, ApiError> {
        let Some(role) = self.role(&p.role_id) else {
            return Err(ApiError::validation(
                format!("{field}.roleId"),
                format!("Role {} does not exist", p.role_id),
            ));
        };
        let spec = role.spec;
        let mut out: Vec<PermissionResource> = Vec::with_capacity(p.resources.len());
        for (i, r) in p.resources.drain(..).enumerate() {
            let rf = format!("{field}.resources.{i}");
            if !spec.can_bind(r.resource_type) {
                return Err(ApiError::validation(
                    format!("{rf}.type"),
                    format!(
                        "Role {} cannot be assigned to a resource of type {}",
                        spec.name,
                        r.resource_type.as_api_str()
                    ),
                ));
            }
            if !self.resource_exists(r.resource_type, &r.id) {
                return Err(ApiError::validation(
                    format!("{rf}.id"),
                    format!(
                        "{} {} does not exist in this workspace",
                        r.resource_type.as_api_str(),
                        r.id
                    ),
                ));
            }
            let labels = r.labels.unwrap_or_default();
            if !labels.is_empty() {
                if r.resource_type != ResourceType::Workspace {
                    return Err(ApiError::validation(
                        format!("{rf}.labels"),
                        "Labels can only narrow WORKSPACE resources",
                    ));
                }
                if !spec.labels_allowed {
                    return Err(ApiError::validation(
                        format!("{rf}.labels"),
                        format!("Role {} does not support labels", spec.name),
                    ));
                }
            }
            let mut norm = Vec::with_capacity(labels.len());
            for (j, l) in labels.into_iter().enumerate() {
                match self
                    .labels
                    .iter()
                    .find(|c| c.key == l.key && c.value == l.value)
                {
                    Some(c) => norm.push(c.clone()),
                    None => {
                        return Err(ApiError::validation(
                            format!("{rf}.labels.{j}"),
                            format!("Label {}:{} does not exist", l.key, l.value),
                        ));
                    }
                }
            }
            norm.sort();
            norm.dedup();
            let res = PermissionResource {
                id: r.id,
                resource_type: r.resource_type,
                labels: Some(norm),
            };
            if !out.contains(&res) {
                out.push(res);
            }
        }
        p.resources = out;
        Ok(p)
    }

    pub(super) fn check_perms(&self, perms: Vec<Perm>) -> Result<Vec<Perm>, ApiError> {
        let mut out: Vec<Perm> = Vec::with_capacity(perms.len());
        for (i, p) in perms.into_iter().enumerate() {
            let p = self.check_perm(p, &format!("permissions.{i}"))?;
            merge_perms(&mut out, vec![p]);
        }
        Ok(out)
    }

    pub(super) fn perm_out(&self, p: &Perm) -> Permission {
        let role_name = self
            .role(&p.role_id)
            .map(|r| r.spec.name.to_string())
            .unwrap_or_default();
        let mut labels: Vec<Label> = p
            .resources
            .iter()
            .flat_map(|r| r.labels.iter().flatten().cloned())
            .collect();
        labels.sort();
        labels.dedup();
        Permission {
            role_id: p.role_id.clone(),
            role_name,
            resources: p
                .resources
                .iter()
                .map(|r| PermissionResource {
                    id: r.id.clone(),
                    resource_type: r.resource_type,
                    labels: Some(r.labels.clone().unwrap_or_default()),
                })
                .collect(),
            labels: Some(labels),
        }
    }

    pub(super) fn perms_out(&self, ps: &[Perm]) -> Vec<Permission> {
        ps.iter().map(|p| self.perm_out(p)).collect()
    }

    pub(super) fn user_out(&self, u: &UserRec, with_permissions: bool) -> User {
        User {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            permissions: with_permissions.then(|| self.perms_out(&u.permissions)),
        }
    }

    pub(super) fn minimal_user(u: &UserRec) -> MinimalUser {
        MinimalUser {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
        }
    }

    pub(super) fn group_out(&self, g: &GroupRec) -> UserGroup {
        UserGroup {
            id: g.id.clone(),
            name: g.name.clone(),
            member_count: (g.members.len() + g.invites.len()) as u64,
            permissions: Some(self.perms_out(&g.permissions)),
        }
    }

    pub(super) fn groups_of_user(&self, user_id: &str) -> Vec<MinimalUserGroup> {
        self.groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m == user_id))
            .map(|g| MinimalUserGroup {
                id: g.id.clone(),
                name: g.name.clone(),
            })
            .collect()
    }

    /// Records one event, now, unless recording is off.
    pub(super) fn record(
        &mut self,
        actor: &Actor,
        event_type: &str,
        resource_type: &str,
        resource_id: &str,
        resource_name: &str,
    ) {
        if !self.audit_recording {
            return;
        }
        let mut millis = time::now_millis();
        // Keep the trail strictly ordered even when two changes land in the same millisecond.
        if let Some(last) = self.audit.last() {
            millis = millis.max(last.millis + 1);
        }
        self.record_at(
            millis,
            actor,
            event_type,
            resource_type,
            resource_id,
            resource_name,
        );
    }

    /// Records one event at a given time (seeded history, injected events), in time order.
    pub(super) fn record_at(
        &mut self,
        millis: i64,
        actor: &Actor,
        event_type: &str,
        resource_type: &str,
        resource_id: &str,
        resource_name: &str,
    ) {
        let id = self.new_id();
        self.record_as(
            id,
            millis,
            actor,
            event_type,
            resource_type,
            resource_id,
            resource_name,
        );
    }

    /// [`State::record_at`] with the event's id chosen by the caller (seeded history, which
    /// must not use up the run-time id sequence).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_as(
        &mut self,
        id: String,
        millis: i64,
        actor: &Actor,
        event_type: &str,
        resource_type: &str,
        resource_id: &str,
        resource_name: &str,
    ) {
        let id = format!("events/{id}");
        let rec = AuditRec {
            millis,
            event: AuditEvent {
                id,
                timestamp: time::format_rfc3339(millis),
                event_type: event_type.to_string(),
                actor: actor.id.clone(),
                actor_email: actor.email.clone(),
                resource_id: resource_id.to_string(),
                resource_type: resource_type.to_string(),
                resource_name: resource_name.to_string(),
            },
        };
        let at = self.audit.partition_point(|a| a.millis <= millis);
        self.audit.insert(at, rec);
    }

    // ---- mutations -------------------------------------------------------------------------

    /// Additive: merges into the user's permission for the same role. Returns what was added.
    pub(super) fn add_user_permissions(
        &mut self,
        actor: &Actor,
        user_idx: usize,
        perms: Vec<Perm>,
    ) -> Result<Vec<Perm>, ApiError> {
        let perms = self.check_perms(perms)?;
        let u = &mut self.users[user_idx];
        merge_perms(&mut u.permissions, perms.clone());
        let (id, email) = (u.id.clone(), u.email.clone());
        self.record(actor, audit::USER_POLICY_UPDATED, audit::USER, &id, &email);
        Ok(perms)
    }

    pub(super) fn replace_user_permissions(
        &mut self,
        actor: &Actor,
        user_idx: usize,
        perms: Vec<Perm>,
    ) -> Result<Vec<Perm>, ApiError> {
        let perms = self.check_perms(perms)?;
        let u = &mut self.users[user_idx];
        u.permissions = perms.clone();
        let (id, email) = (u.id.clone(), u.email.clone());
        self.record(actor, audit::USER_POLICY_UPDATED, audit::USER, &id, &email);
        Ok(perms)
    }

    pub(super) fn add_group_permissions(
        &mut self,
        actor: &Actor,
        group_idx: usize,
        perms: Vec<Perm>,
    ) -> Result<Vec<Perm>, ApiError> {
        let perms = self.check_perms(perms)?;
        let g = &mut self.groups[group_idx];
        merge_perms(&mut g.permissions, perms.clone());
        let (id, name) = (g.id.clone(), g.name.clone());
        self.record(actor, audit::GROUP_POLICY_UPDATED, audit::GROUP, &id, &name);
        Ok(perms)
    }

    pub(super) fn replace_group_permissions(
        &mut self,
        actor: &Actor,
        group_idx: usize,
        perms: Vec<Perm>,
    ) -> Result<Vec<Perm>, ApiError> {
        let perms = self.check_perms(perms)?;
        let g = &mut self.groups[group_idx];
        g.permissions = perms.clone();
        let (id, name) = (g.id.clone(), g.name.clone());
        self.record(actor, audit::GROUP_POLICY_UPDATED, audit::GROUP, &id, &name);
        Ok(perms)
    }

    pub(super) fn create_group(&mut self, actor: &Actor, name: &str) -> Result<usize, ApiError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ApiError::validation("name", "name must not be empty"));
        }
        if self
            .groups
            .iter()
            .any(|g| g.name.eq_ignore_ascii_case(name))
        {
            return Err(ApiError::validation(
                "name",
                format!("A user group named {name:?} already exists"),
            ));
        }
        let id = self.new_id();
        self.groups.push(GroupRec {
            id: id.clone(),
            name: name.to_string(),
            members: Vec::new(),
            invites: Vec::new(),
            permissions: Vec::new(),
        });
        self.record(actor, audit::GROUP_CREATED, audit::GROUP, &id, name);
        Ok(self.groups.len() - 1)
    }

    pub(super) fn rename_group(
        &mut self,
        actor: &Actor,
        idx: usize,
        name: &str,
    ) -> Result<(), ApiError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ApiError::validation("name", "name must not be empty"));
        }
        if self
            .groups
            .iter()
            .enumerate()
            .any(|(i, g)| i != idx && g.name.eq_ignore_ascii_case(name))
        {
            return Err(ApiError::validation(
                "name",
                format!("A user group named {name:?} already exists"),
            ));
        }
        self.groups[idx].name = name.to_string();
        let id = self.groups[idx].id.clone();
        self.record(actor, audit::GROUP_UPDATED, audit::GROUP, &id, name);
        Ok(())
    }

    pub(super) fn delete_group(&mut self, actor: &Actor, idx: usize) {
        let g = self.groups.remove(idx);
        self.record(actor, audit::GROUP_DELETED, audit::GROUP, &g.id, &g.name);
    }

    fn ensure_invite(&mut self, actor: &Actor, email: &str) {
        if self.invite_idx(email).is_none() {
            self.invites.push(InviteRec {
                email: email.to_string(),
                permissions: Vec::new(),
            });
            self.record(actor, audit::INVITED, audit::INVITE, email, email);
        }
    }

    /// Validates a list of emails for membership changes; the field name is `emails`.
    pub(super) fn check_emails(emails: &[String]) -> Result<(), ApiError> {
        for (i, e) in emails.iter().enumerate() {
            if !valid_email(e) {
                return Err(ApiError::validation(
                    format!("emails.{i}"),
                    format!("{e:?} is not a valid email address"),
                ));
            }
        }
        Ok(())
    }

    /// Adds people to a group by email. A workspace user becomes a member; anyone else
    /// becomes (or stays) a pending invite and an invite member of the group. Each member
    /// added records one event (someone already a member records none).
    pub(super) fn add_group_members(
        &mut self,
        actor: &Actor,
        idx: usize,
        emails: &[String],
    ) -> Result<(), ApiError> {
        Self::check_emails(emails)?;
        let mut added = 0;
        for e in emails {
            match self.user_by_email(e) {
                Some(ui) => {
                    let uid = self.users[ui].id.clone();
                    if !self.groups[idx].members.contains(&uid) {
                        self.groups[idx].members.push(uid);
                        added += 1;
                    }
                }
                None => {
                    let email = match self.invite_idx(e) {
                        Some(ii) => self.invites[ii].email.clone(),
                        None => e.to_ascii_lowercase(),
                    };
                    self.ensure_invite(actor, &email);
                    let g = &mut self.groups[idx];
                    if !g.invites.iter().any(|x| x.eq_ignore_ascii_case(&email)) {
                        g.invites.push(email);
                        added += 1;
                    }
                }
            }
        }
        self.record_members(actor, idx, audit::ADDED_TO_GROUP, added);
        Ok(())
    }

    fn record_members(&mut self, actor: &Actor, idx: usize, event_type: &str, n: usize) {
        let (id, name) = (self.groups[idx].id.clone(), self.groups[idx].name.clone());
        for _ in 0..n {
            self.record(actor, event_type, audit::GROUP, &id, &name);
        }
    }

    /// Removes users and invite members whose email is listed; other emails are ignored.
    pub(super) fn remove_group_members(
        &mut self,
        actor: &Actor,
        idx: usize,
        emails: &[String],
    ) -> Result<(), ApiError> {
        Self::check_emails(emails)?;
        let ids: Vec<String> = emails
            .iter()
            .filter_map(|e| self.user_by_email(e).map(|i| self.users[i].id.clone()))
            .collect();
        let g = &mut self.groups[idx];
        let before = g.members.len() + g.invites.len();
        g.members.retain(|m| !ids.contains(m));
        g.invites
            .retain(|x| !emails.iter().any(|e| e.eq_ignore_ascii_case(x)));
        let removed = before - (g.members.len() + g.invites.len());
        self.record_members(actor, idx, audit::REMOVED_FROM_GROUP, removed);
        Ok(())
    }

    /// Makes the group's members exactly the listed people: those already in it stay where
    /// they are, the others leave, and new ones join at the end.
    pub(super) fn replace_group_members(
        &mut self,
        actor: &Actor,
        idx: usize,
        emails: &[String],
    ) -> Result<(), ApiError> {
        Self::check_emails(emails)?;
        let keep_users: Vec<String> = emails
            .iter()
            .filter_map(|e| self.user_by_email(e).map(|i| self.users[i].id.clone()))
            .collect();
        let g = &mut self.groups[idx];
        let before = g.members.len() + g.invites.len();
        g.members.retain(|m| keep_users.contains(m));
        g.invites
            .retain(|x| emails.iter().any(|e| e.eq_ignore_ascii_case(x)));
        let removed = before - (g.members.len() + g.invites.len());
        self.record_members(actor, idx, audit::REMOVED_FROM_GROUP, removed);
        self.add_group_members(actor, idx, emails)
    }

    /// All ids must exist, or nothing is deleted.
    pub(super) fn delete_users(
        &mut self,
        actor: &Actor,
        user_ids: &[String],
    ) -> Result<(), ApiError> {
        for id in user_ids {
            if self.user_idx(id).is_none() {
                return Err(ApiError::not_found(format!("User {id} not found")));
            }
        }
        let removed: Vec<UserRec> = self
            .users
            .iter()
            .filter(|u| user_ids.contains(&u.id))
            .cloned()
            .collect();
        self.users.retain(|u| !user_ids.contains(&u.id));
        self.reindex_users();
        for g in &mut self.groups {
            g.members.retain(|m| !user_ids.contains(m));
        }
        for u in removed {
            self.record(actor, audit::USER_REMOVED, audit::USER, &u.id, &u.email);
        }
        Ok(())
    }

    /// Creates (or refreshes the permissions of) pending invites. Existing users are refused.
    pub(super) fn create_invites(
        &mut self,
        actor: &Actor,
        invites: Vec<(String, Vec<Perm>)>,
    ) -> Result<Vec<String>, ApiError> {
        let mut checked = Vec::with_capacity(invites.len());
        for (i, (email, perms)) in invites.into_iter().enumerate() {
            if !valid_email(&email) {
                return Err(ApiError::validation(
                    format!("invites.{i}.email"),
                    format!("{email:?} is not a valid email address"),
                ));
            }
            if self.user_by_email(&email).is_some() {
                return Err(ApiError::validation(
                    format!("invites.{i}.email"),
                    format!("{email} is already a member of this workspace"),
                ));
            }
            let mut out: Vec<Perm> = Vec::new();
            for (j, p) in perms.into_iter().enumerate() {
                let p = self.check_perm(p, &format!("invites.{i}.permissions.{j}"))?;
                merge_perms(&mut out, vec![p]);
            }
            checked.push((email, out));
        }
        let mut emails = Vec::with_capacity(checked.len());
        for (email, perms) in checked {
            match self.invite_idx(&email) {
                Some(ii) => {
                    if !perms.is_empty() {
                        self.invites[ii].permissions = perms;
                    }
                    let e = self.invites[ii].email.clone();
                    self.record(actor, audit::INVITED, audit::INVITE, &e, &e);
                    emails.push(e);
                }
                None => {
                    let e = email.to_ascii_lowercase();
                    self.invites.push(InviteRec {
                        email: e.clone(),
                        permissions: perms,
                    });
                    self.record(actor, audit::INVITED, audit::INVITE, &e, &e);
                    emails.push(e);
                }
            }
        }
        Ok(emails)
    }

    /// All emails must be pending invites, or nothing is deleted.
    pub(super) fn delete_invites(
        &mut self,
        actor: &Actor,
        emails: &[String],
    ) -> Result<(), ApiError> {
        for e in emails {
            if self.invite_idx(e).is_none() {
                return Err(ApiError::not_found(format!("Invite for {e} not found")));
            }
        }
        let gone = |x: &String| emails.iter().any(|e| e.eq_ignore_ascii_case(x));
        let stored: Vec<String> = self
            .invites
            .iter()
            .filter(|i| gone(&i.email))
            .map(|i| i.email.clone())
            .collect();
        self.invites.retain(|i| !gone(&i.email));
        for g in &mut self.groups {
            g.invites.retain(|x| !gone(x));
        }
        for e in stored {
            self.record(actor, audit::INVITE_DELETED, audit::INVITE, &e, &e);
        }
        Ok(())
    }

    /// `POST /labels`: a new `key:value` label (422 if it exists).
    pub(super) fn create_label(&mut self, actor: &Actor, label: Label) -> Result<Label, ApiError> {
        for (field, v) in [("label.key", &label.key), ("label.value", &label.value)] {
            if v.trim().is_empty() {
                return Err(ApiError::validation(
                    field,
                    format!("{field} must not be empty"),
                ));
            }
        }
        if self
            .labels
            .iter()
            .any(|l| l.key == label.key && l.value == label.value)
        {
            return Err(ApiError::validation(
                "label",
                format!("Label {}:{} already exists", label.key, label.value),
            ));
        }
        self.labels.push(label.clone());
        let name = format!("{}:{}", label.key, label.value);
        self.record(actor, audit::LABEL_CREATED, audit::LABEL, &name, &name);
        Ok(label)
    }

    /// `DELETE /labels/{key}/{value}`: 404 when there is no such label, 422 while a source or
    /// a permission uses it (nothing is changed behind anyone's back).
    pub(super) fn delete_label(
        &mut self,
        actor: &Actor,
        key: &str,
        value: &str,
    ) -> Result<(), ApiError> {
        let Some(i) = self
            .labels
            .iter()
            .position(|l| l.key == key && l.value == value)
        else {
            return Err(ApiError::not_found(format!(
                "Label {key}:{value} not found"
            )));
        };
        let is_it = |l: &Label| l.key == key && l.value == value;
        let in_perms = |ps: &[Perm]| {
            ps.iter()
                .flat_map(|p| p.resources.iter())
                .any(|r| r.labels.iter().flatten().any(is_it))
        };
        let used = self.sources.iter().any(|s| s.labels.iter().any(is_it))
            || self.users.iter().any(|u| in_perms(&u.permissions))
            || self.invites.iter().any(|u| in_perms(&u.permissions))
            || self.groups.iter().any(|g| in_perms(&g.permissions));
        if used {
            return Err(ApiError::validation(
                "key",
                format!("Label {key}:{value} is in use by a source or a permission"),
            ));
        }
        self.labels.remove(i);
        let name = format!("{key}:{value}");
        self.record(actor, audit::LABEL_DELETED, audit::LABEL, &name, &name);
        Ok(())
    }
}

/// Segment's additive semantics: a permission for a role the subject already holds widens that
/// permission (union of resources); identical resources are not duplicated, so repeating a grant
/// changes nothing.
pub(super) fn merge_perms(existing: &mut Vec<Perm>, add: Vec<Perm>) {
    for p in add {
        match existing.iter_mut().find(|e| e.role_id == p.role_id) {
            Some(e) => {
                for r in p.resources {
                    if !e.resources.contains(&r) {
                        e.resources.push(r);
                    }
                }
            }
            None => {
                let mut fresh = Perm {
                    role_id: p.role_id,
                    resources: Vec::new(),
                };
                for r in p.resources {
                    if !fresh.resources.contains(&r) {
                        fresh.resources.push(r);
                    }
                }
                existing.push(fresh);
            }
        }
    }
}

// ---- request body parsing -------------------------------------------------------------------

fn obj<'a>(v: &'a Value, field: &str) -> Result<&'a serde_json::Map<String, Value>, ApiError> {
    v.as_object()
        .ok_or_else(|| ApiError::validation(field, format!("{field} must be an object")))
}

fn string_field(
    m: &serde_json::Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<String, ApiError> {
    match m.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ApiError::validation(
            field,
            format!("{field} must be a string"),
        )),
        None => Err(ApiError::validation(field, format!("{field} is required"))),
    }
}

fn array_field<'a>(
    m: &'a serde_json::Map<String, Value>,
    key: &str,
    field: &str,
    required: bool,
) -> Result<Option<&'a Vec<Value>>, ApiError> {
    match m.get(key) {
        Some(Value::Array(a)) => Ok(Some(a)),
        None if !required => Ok(None),
        Some(_) => Err(ApiError::validation(
            field,
            format!("{field} must be an array"),
        )),
        None => Err(ApiError::validation(field, format!("{field} is required"))),
    }
}

pub(super) fn parse_labels(v: &Value, field: &str) -> Result<Vec<Label>, ApiError> {
    let arr = v
        .as_array()
        .ok_or_else(|| ApiError::validation(field, format!("{field} must be an array")))?;
    arr.iter()
        .enumerate()
        .map(|(i, l)| {
            let f = format!("{field}.{i}");
            let m = obj(l, &f)?;
            Ok(Label {
                key: string_field(m, "key", &format!("{f}.key"))?,
                value: string_field(m, "value", &format!("{f}.value"))?,
                description: None,
            })
        })
        .collect()
}

fn parse_resource(v: &Value, field: &str, labels_ok: bool) -> Result<PermissionResource, ApiError> {
    let m = obj(v, field)?;
    let id = string_field(m, "id", &format!("{field}.id"))?;
    let t = string_field(m, "type", &format!("{field}.type"))?;
    let resource_type = ResourceType::from_api_str(&t).ok_or_else(|| {
        ApiError::validation(
            format!("{field}.type"),
            format!("{t:?} is not one of FUNCTION, SOURCE, SPACE, WAREHOUSE, WORKSPACE"),
        )
    })?;
    let labels = match m.get("labels") {
        None => None,
        Some(l) if labels_ok => Some(parse_labels(l, &format!("{field}.labels"))?),
        // Invite resources have no labels in the schema; extra properties are ignored.
        Some(_) => None,
    };
    Ok(PermissionResource {
        id,
        resource_type,
        labels,
    })
}

/// `{"permissions": [{"roleId", "resources": [{"id", "type", "labels"?}]}]}`
pub(super) fn parse_permissions_body(body: &Value) -> Result<Vec<Perm>, ApiError> {
    let m = obj(body, "body")?;
    let Some(arr) = array_field(m, "permissions", "permissions", true)? else {
        return Ok(Vec::new());
    };
    arr.iter()
        .enumerate()
        .map(|(i, p)| {
            let f = format!("permissions.{i}");
            let pm = obj(p, &f)?;
            let role_id = string_field(pm, "roleId", &format!("{f}.roleId"))?;
            let resources = array_field(pm, "resources", &format!("{f}.resources"), true)?
                .map(|rs| {
                    rs.iter()
                        .enumerate()
                        .map(|(j, r)| parse_resource(r, &format!("{f}.resources.{j}"), true))
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?
                .unwrap_or_default();
            if resources.is_empty() {
                return Err(ApiError::validation(
                    format!("{f}.resources"),
                    "At least one resource is required",
                ));
            }
            Ok(Perm { role_id, resources })
        })
        .collect()
}

/// `{"invites": [{"email", "permissions"?: [{"roleId", "resources"?, "labels"?}]}]}`. An invite
/// permission's labels narrow its WORKSPACE resources; without resources it binds the
/// workspace.
pub(super) fn parse_invites_body(
    body: &Value,
    workspace_id: &str,
) -> Result<Vec<(String, Vec<Perm>)>, ApiError> {
    let m = obj(body, "body")?;
    let Some(arr) = array_field(m, "invites", "invites", true)? else {
        return Ok(Vec::new());
    };
    if arr.is_empty() {
        return Err(ApiError::validation(
            "invites",
            "At least one invite is required",
        ));
    }
    arr.iter()
        .enumerate()
        .map(|(i, inv)| {
            let f = format!("invites.{i}");
            let im = obj(inv, &f)?;
            let email = string_field(im, "email", &format!("{f}.email"))?;
            let mut perms = Vec::new();
            if let Some(ps) = array_field(im, "permissions", &format!("{f}.permissions"), false)? {
                for (j, p) in ps.iter().enumerate() {
                    let pf = format!("{f}.permissions.{j}");
                    let pm = obj(p, &pf)?;
                    let role_id = string_field(pm, "roleId", &format!("{pf}.roleId"))?;
                    let labels = match pm.get("labels") {
                        None => Vec::new(),
                        Some(l) => parse_labels(l, &format!("{pf}.labels"))?,
                    };
                    let mut resources =
                        match array_field(pm, "resources", &format!("{pf}.resources"), false)? {
                            Some(rs) => rs
                                .iter()
                                .enumerate()
                                .map(|(k, r)| {
                                    parse_resource(r, &format!("{pf}.resources.{k}"), false)
                                })
                                .collect::<Result<Vec<_>, _>>()?,
                            None => Vec::new(),
                        };
                    if resources.is_empty() {
                        resources.push(PermissionResource {
                            id: workspace_id.to_string(),
                            resource_type: ResourceType::Workspace,
                            labels: None,
                        });
                    }
                    if !labels.is_empty() {
                        if !resources
                            .iter()
                            .any(|r| r.resource_type == ResourceType::Workspace)
                        {
                            return Err(ApiError::validation(
                                format!("{pf}.labels"),
                                "Labels can only narrow WORKSPACE resources",
                            ));
                        }
                        for r in &mut resources {
                            if r.resource_type == ResourceType::Workspace {
                                r.labels = Some(labels.clone());
                            }
                        }
                    }
                    perms.push(Perm { role_id, resources });
                }
            }
            Ok((email, perms))
        })
        .collect()
}

/// `{"emails": [...]}`; a missing list means no emails.
pub(super) fn parse_emails_body(body: &Value) -> Result<Vec<String>, ApiError> {
    let m = obj(body, "body")?;
    let Some(arr) = array_field(m, "emails", "emails", false)? else {
        return Ok(Vec::new());
    };
    arr.iter()
        .enumerate()
        .map(|(i, e)| {
            e.as_str().map(str::to_string).ok_or_else(|| {
                ApiError::validation(format!("emails.{i}"), "emails must be strings")
            })
        })
        .collect()
}

/// For `/_emulator/state`: a role name or id to a role id.
pub(super) fn role_id_for(
    state: &State,
    role_id: Option<&str>,
    role: Option<&str>,
) -> Option<String> {
    if let Some(id) = role_id {
        return state.role(id).map(|r| r.id.clone());
    }
    role.and_then(|n| {
        state
            .role_by_name(n)
            .or_else(|| state.role(n))
            .map(|r| r.id.clone())
    })
}

pub(super) fn role_out(r: &RoleRec) -> Role {
    Role {
        id: r.id.clone(),
        name: r.spec.name.to_string(),
        description: r.spec.description.to_string(),
    }
}
