//! Control endpoints under `/_emulator/`: outside Segment's namespace, no auth, never rate
//! limited or faulted. Tests use them to inspect the emulator and to change the workspace
//! "behind the tool's back".

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::audit::{self, Actor};
use super::faults::FaultEngine;
use super::seed::{self, SeedFile};
use super::server::{Knobs, Shared, Stats, lock};
use super::state::{self, ApiError, State};

fn err(e: ApiError) -> Response {
    (e.status, Json(e.envelope())).into_response()
}

fn parse_body(bytes: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::validation("body", format!("Request body is not valid JSON: {e}")))
}

pub(super) async fn not_found() -> Response {
    err(ApiError::not_found("No such control endpoint"))
}

/// The whole workspace, in the seed file format (so a dump can be loaded back).
pub(super) fn dump(st: &State) -> Value {
    let users: Vec<Value> = st
        .users
        .iter()
        .map(|u| {
            let group_ids: Vec<&str> = st
                .groups
                .iter()
                .filter(|g| g.members.contains(&u.id))
                .map(|g| g.id.as_str())
                .collect();
            json!({
                "id": u.id, "name": u.name, "email": u.email,
                "permissions": st.perms_out(&u.permissions),
                "groupIds": group_ids,
            })
        })
        .collect();
    let invites: Vec<Value> = st
        .invites
        .iter()
        .map(|i| json!({"email": i.email, "permissions": st.perms_out(&i.permissions)}))
        .collect();
    let groups: Vec<Value> = st
        .groups
        .iter()
        .map(|g| {
            json!({
                "id": g.id, "name": g.name,
                "memberIds": g.members, "inviteEmails": g.invites,
                "permissions": st.perms_out(&g.permissions),
            })
        })
        .collect();
    let roles: Vec<Value> = st
        .roles
        .iter()
        .map(|r| serde_json::to_value(state::role_out(r)).unwrap_or(Value::Null))
        .collect();
    json!({
        "workspace": st.workspace,
        "users": users,
        "invites": invites,
        "groups": groups,
        "roles": roles,
        "sources": st.sources.iter().map(|s| json!({
            "id": s.id, "name": s.name, "slug": s.slug, "enabled": s.enabled,
            "labels": s.labels, "type": s.kind,
        })).collect::<Vec<_>>(),
        "warehouses": st.warehouses.iter().map(|w| json!({
            "id": w.id, "name": w.name, "type": w.kind, "enabled": w.enabled,
        })).collect::<Vec<_>>(),
        "functions": st.functions.iter().map(|f| json!({
            "id": f.id, "name": f.name, "resourceType": f.resource_type,
            "description": f.description,
        })).collect::<Vec<_>>(),
        "spaces": st.spaces.iter().map(|s| json!({"id": s.id, "name": s.name, "slug": s.slug}))
            .collect::<Vec<_>>(),
        "labels": st.labels,
        "auditEventCount": st.audit.len(),
    })
}

pub(super) async fn get_state(AxState(shared): AxState<Arc<Shared>>) -> Response {
    Json(dump(&lock(&shared.state))).into_response()
}

/// Replaces the whole workspace with a seed file's contents.
pub(super) async fn post_state(AxState(shared): AxState<Arc<Shared>>, body: Bytes) -> Response {
    let file: SeedFile = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => {
            return err(ApiError::validation(
                "body",
                format!("not a seed document: {e}"),
            ));
        }
    };
    let rng_seed = lock(&shared.knobs).rng_seed;
    match seed::from_file_contents(file, rng_seed) {
        Ok(mut new_state) => {
            let mut st = lock(&shared.state);
            // The trail goes on: it records that everything was replaced, which no client
            // that read the workspace before can work out from the changes alone.
            new_state.audit = std::mem::take(&mut st.audit);
            new_state.audit_recording = st.audit_recording;
            let (id, name) = (
                new_state.workspace.id.clone(),
                new_state.workspace.name.clone(),
            );
            new_state.record(
                &Actor::control(),
                audit::STATE_REPLACED,
                audit::WORKSPACE,
                &id,
                &name,
            );
            *st = new_state;
            Json(dump(&st)).into_response()
        }
        Err(e) => err(ApiError::validation("body", e.to_string())),
    }
}

pub(super) async fn get_stats(AxState(shared): AxState<Arc<Shared>>) -> Response {
    let stats = lock(&shared.stats).clone();
    Json(stats).into_response()
}

pub(super) async fn reset_stats(AxState(shared): AxState<Arc<Shared>>) -> Response {
    *lock(&shared.stats) = Stats::default();
    Json(json!({"status": "SUCCESS"})).into_response()
}

pub(super) async fn get_config(AxState(shared): AxState<Arc<Shared>>) -> Response {
    Json(lock(&shared.knobs).clone()).into_response()
}

fn merge(into: &mut Value, patch: Value) {
    match (into, patch) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Merges a partial knobs document (`{"faults": {"rate": 0.5}}`) into the running config.
/// Changing limits restarts every rate-limit window; sending `rngSeed` restarts the fault
/// sequence from that seed.
pub(super) async fn patch_config(AxState(shared): AxState<Arc<Shared>>, body: Bytes) -> Response {
    let patch = match parse_body(&body) {
        Ok(p) => p,
        Err(e) => return err(e),
    };
    let mut knobs = lock(&shared.knobs);
    let mut current = serde_json::to_value(&*knobs).unwrap_or(Value::Null);
    let new_seed = patch.get("rngSeed").is_some();
    let new_limits = patch.get("limits").is_some();
    merge(&mut current, patch);
    let updated: Knobs = match serde_json::from_value(current) {
        Ok(k) => k,
        Err(e) => return err(ApiError::validation("body", format!("invalid config: {e}"))),
    };
    if !(0.0..=1.0).contains(&updated.faults.rate) {
        return err(ApiError::validation(
            "faults.rate",
            "faults.rate must be between 0 and 1",
        ));
    }
    if !matches!(updated.audit.unavailable_status, 403 | 404) {
        return err(ApiError::validation(
            "audit.unavailableStatus",
            "audit.unavailableStatus must be 403 or 404",
        ));
    }
    if new_seed {
        *lock(&shared.engine) = FaultEngine::new(updated.rng_seed);
    }
    lock(&shared.state).audit_recording = updated.audit.record;
    if new_limits {
        lock(&shared.limiter).reset();
    }
    *knobs = updated.clone();
    Json(updated).into_response()
}

fn perms_from(bytes: &Bytes) -> Result<Vec<state::Perm>, ApiError> {
    state::parse_permissions_body(&parse_body(bytes)?)
}

/// Same body and validation as Segment's `PUT /users/{id}/permissions`, without auth or limits.
pub(super) async fn put_user_permissions(
    AxState(shared): AxState<Arc<Shared>>,
    Path(user_id): Path<String>,
    body: Bytes,
) -> Response {
    let mut st = lock(&shared.state);
    let result = (|| {
        let i = st
            .user_idx(&user_id)
            .ok_or_else(|| ApiError::not_found(format!("User {user_id} not found")))?;
        let perms = perms_from(&body)?;
        st.replace_user_permissions(&Actor::control(), i, perms)
    })();
    match result {
        Ok(p) => (
            StatusCode::OK,
            Json(json!({"data": {"permissions": st.perms_out(&p)}})),
        )
            .into_response(),
        Err(e) => err(e),
    }
}

pub(super) async fn put_group_permissions(
    AxState(shared): AxState<Arc<Shared>>,
    Path(group_id): Path<String>,
    body: Bytes,
) -> Response {
    let mut st = lock(&shared.state);
    let result = (|| {
        let i = st
            .group_idx(&group_id)
            .ok_or_else(|| ApiError::not_found(format!("User group {group_id} not found")))?;
        let perms = perms_from(&body)?;
        st.replace_group_permissions(&Actor::control(), i, perms)
    })();
    match result {
        Ok(p) => Json(json!({"data": {"permissions": st.perms_out(&p)}})).into_response(),
        Err(e) => err(e),
    }
}

/// `DELETE /_emulator/resources/{type}/{id}` (`type`: source, warehouse, function, space):
/// removes the resource and leaves every permission that points at it, so a test can see grants
/// on a resource the workspace no longer lists.
pub(super) async fn delete_resource(
    AxState(shared): AxState<Arc<Shared>>,
    Path((kind, id)): Path<(String, String)>,
) -> Response {
    let mut st = lock(&shared.state);
    let removed = match kind.as_str() {
        "source" => remove(&mut st.sources, |r| r.id == id).map(|r| ("Source Deleted", r.name)),
        "warehouse" => {
            remove(&mut st.warehouses, |r| r.id == id).map(|r| ("Warehouse Deleted", r.name))
        }
        "function" => remove(&mut st.functions, |r| r.id == id).map(|r| {
            let t = if r.resource_type.contains("DESTINATION") {
                "Destination Function Deleted"
            } else {
                "Source Function Deleted"
            };
            (t, r.name)
        }),
        "space" => remove(&mut st.spaces, |r| r.id == id).map(|r| ("Space Deleted", r.name)),
        _ => {
            return err(ApiError::validation(
                "type",
                format!("{kind:?} is not source, warehouse, function or space"),
            ));
        }
    };
    match removed {
        Some((event_type, name)) => {
            st.record(&Actor::control(), event_type, &kind, &id, &name);
            StatusCode::NO_CONTENT.into_response()
        }
        None => err(ApiError::not_found(format!("No {kind} {id}"))),
    }
}

fn remove<T>(v: &mut Vec<T>, matches: impl Fn(&T) -> bool) -> Option<T> {
    let i = v.iter().position(matches)?;
    Some(v.remove(i))
}

/// `GET /_emulator/audit-events`: the whole trail as recorded, oldest first, including what
/// is older than `GET /audit-events` serves.
pub(super) async fn get_audit_events(AxState(shared): AxState<Arc<Shared>>) -> Response {
    let st = lock(&shared.state);
    let events: Vec<&crate::segment::models::AuditEvent> =
        st.audit.iter().map(|a| &a.event).collect();
    Json(json!({ "events": events })).into_response()
}

/// `POST /_emulator/audit-events`: puts an event into the trail as if Segment had recorded it
/// (a kind of change the emulator does not make, or one in the past), in time order.
pub(super) async fn post_audit_event(
    AxState(shared): AxState<Arc<Shared>>,
    body: Bytes,
) -> Response {
    let ev: audit::Injected = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => return err(ApiError::validation("body", format!("not an event: {e}"))),
    };
    let millis = match ev.timestamp.as_deref() {
        None => super::time::now_millis(),
        Some(ts) => match super::time::parse_rfc3339(ts) {
            Some(m) => m,
            None => {
                return err(ApiError::validation(
                    "timestamp",
                    "timestamp must be an RFC 3339 date-time",
                ));
            }
        },
    };
    let actor = match ev.actor {
        Some(id) => Actor {
            id,
            email: ev.actor_email,
        },
        None => Actor::control(),
    };
    let mut st = lock(&shared.state);
    let name = ev.resource_name.unwrap_or_else(|| ev.resource_id.clone());
    st.record_at(
        millis,
        &actor,
        &ev.event_type,
        &ev.resource_type,
        &ev.resource_id,
        &name,
    );
    let at = st.audit.iter().rposition(|a| a.millis == millis);
    let event = at.map(|i| st.audit[i].event.clone());
    Json(json!({ "event": event })).into_response()
}

pub(super) async fn put_group_users(
    AxState(shared): AxState<Arc<Shared>>,
    Path(group_id): Path<String>,
    body: Bytes,
) -> Response {
    let mut st = lock(&shared.state);
    let result = (|| {
        let i = st
            .group_idx(&group_id)
            .ok_or_else(|| ApiError::not_found(format!("User group {group_id} not found")))?;
        let emails = state::parse_emails_body(&parse_body(&body)?)?;
        st.replace_group_members(&Actor::control(), i, &emails)?;
        Ok::<_, ApiError>(st.group_out(&st.groups[i]))
    })();
    match result {
        Ok(g) => Json(json!({"data": {"userGroup": g}})).into_response(),
        Err(e) => err(e),
    }
}

/// A one-shot test hook: after the `afterGets`-th successful `GET /users/{userId}`, the
/// permissions are added to that user (Segment's additive merge), as if someone else changed
/// them between a client's read and its write.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Hook {
    pub user_id: String,
    pub remaining_gets: u64,
    pub add_permissions: Value,
}

/// `POST /_emulator/hooks` `{"userId", "afterGets", "addPermissions": [PermissionInput]}`.
pub(super) async fn post_hook(AxState(shared): AxState<Arc<Shared>>, body: Bytes) -> Response {
    let result = (|| {
        let v = parse_body(&body)?;
        let user_id = v["userId"]
            .as_str()
            .ok_or_else(|| ApiError::validation("userId", "userId is required"))?
            .to_string();
        let after = v["afterGets"]
            .as_u64()
            .filter(|n| *n >= 1)
            .ok_or_else(|| ApiError::validation("afterGets", "afterGets must be at least 1"))?;
        let perms = v["addPermissions"].clone();
        let st = lock(&shared.state);
        st.user_idx(&user_id)
            .ok_or_else(|| ApiError::not_found(format!("User {user_id} not found")))?;
        let parsed = state::parse_permissions_body(&json!({ "permissions": perms }))?;
        st.check_perms(parsed)?;
        Ok::<_, ApiError>(Hook {
            user_id,
            remaining_gets: after,
            add_permissions: perms,
        })
    })();
    match result {
        Ok(h) => {
            lock(&shared.hooks).push(h.clone());
            Json(h).into_response()
        }
        Err(e) => err(e),
    }
}

/// `GET /_emulator/hooks`: hooks that have not fired yet.
pub(super) async fn get_hooks(AxState(shared): AxState<Arc<Shared>>) -> Response {
    Json(lock(&shared.hooks).clone()).into_response()
}

/// Called after every successful `GET /users/{userId}`: counts down and fires due hooks.
pub(super) fn after_user_get(shared: &Shared, user_id: &str) {
    let due: Vec<Hook> = {
        let mut hooks = lock(&shared.hooks);
        for h in hooks.iter_mut().filter(|h| h.user_id == user_id) {
            h.remaining_gets = h.remaining_gets.saturating_sub(1);
        }
        let (due, rest): (Vec<Hook>, Vec<Hook>) =
            hooks.drain(..).partition(|h| h.remaining_gets == 0);
        *hooks = rest;
        due
    };
    for h in due {
        let mut st = lock(&shared.state);
        let parsed = state::parse_permissions_body(&json!({ "permissions": h.add_permissions }));
        if let (Ok(perms), Some(i)) = (parsed, st.user_idx(&h.user_id)) {
            let _ = st.add_user_permissions(&Actor::control(), i, perms);
        }
    }
}
