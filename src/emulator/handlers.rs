//! Segment API routes. One entry point does what Segment's edge does for every request (faults,
//! latency, auth, Accept, rate limits) and then dispatches by hand, so that every malformed
//! input gets Segment's envelope rather than a framework's plain-text rejection.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::audit::{self, Actor, AuditTrail};
use super::limits::Decision;
use super::pagination;
use super::query::Query;
use super::server::{ConnKill, Shared, lock};
use super::state::{self, ApiError, State};
use super::{AccessLevel, FaultKind};
use crate::segment::models::{MEDIA_TYPE_V1, MEDIA_TYPE_V1_ALPHA};

const MAX_BODY: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Workspace,
    ListUsers,
    GetUser(String),
    UserGroups(String),
    AddUserPerms(String),
    ReplaceUserPerms(String),
    DeleteUsers,
    ListInvites,
    CreateInvites,
    DeleteInvites,
    ListGroups,
    CreateGroup,
    GetGroup(String),
    UpdateGroup(String),
    DeleteGroup(String),
    GroupUsers(String),
    GroupInvites(String),
    AddGroupUsers(String),
    RemoveGroupUsers(String),
    ReplaceGroupUsers(String),
    AddGroupPerms(String),
    ReplaceGroupPerms(String),
    ListRoles,
    ListSources,
    ListWarehouses,
    ListFunctions,
    ListSpaces,
    ListLabels,
    CreateLabel,
    DeleteLabel(String, String),
    AuditEvents,
}

impl Route {
    fn template(&self) -> &'static str {
        use Route::*;
        match self {
            Workspace => "GET /",
            ListUsers => "GET /users",
            GetUser(_) => "GET /users/{userId}",
            UserGroups(_) => "GET /users/{userId}/groups",
            AddUserPerms(_) => "POST /users/{userId}/permissions",
            ReplaceUserPerms(_) => "PUT /users/{userId}/permissions",
            DeleteUsers => "DELETE /users",
            ListInvites => "GET /invites",
            CreateInvites => "POST /invites",
            DeleteInvites => "DELETE /invites",
            ListGroups => "GET /groups",
            CreateGroup => "POST /groups",
            GetGroup(_) => "GET /groups/{userGroupId}",
            UpdateGroup(_) => "PATCH /groups/{userGroupId}",
            DeleteGroup(_) => "DELETE /groups/{userGroupId}",
            GroupUsers(_) => "GET /groups/{userGroupId}/users",
            GroupInvites(_) => "GET /groups/{userGroupId}/invites",
            AddGroupUsers(_) => "POST /groups/{userGroupId}/users",
            RemoveGroupUsers(_) => "DELETE /group/{userGroupId}/users",
            ReplaceGroupUsers(_) => "PUT /group/{userGroupId}/users",
            AddGroupPerms(_) => "POST /groups/{userGroupId}/permissions",
            ReplaceGroupPerms(_) => "PUT /groups/{userGroupId}/permissions",
            ListRoles => "GET /roles",
            ListSources => "GET /sources",
            ListWarehouses => "GET /warehouses",
            ListFunctions => "GET /functions",
            ListSpaces => "GET /spaces",
            ListLabels => "GET /labels",
            CreateLabel => "POST /labels",
            DeleteLabel(..) => "DELETE /labels/{key}/{value}",
            AuditEvents => "GET /audit-events",
        }
    }

    /// Endpoints a Workspace Member token may not call.
    fn iam(&self) -> bool {
        use Route::*;
        !matches!(
            self,
            Workspace | ListSources | ListWarehouses | ListFunctions | ListSpaces | ListLabels
        )
    }

    /// Endpoints under Segment's separate, lower limit.
    fn write_limited(&self) -> bool {
        use Route::*;
        matches!(
            self,
            AddUserPerms(_)
                | ReplaceUserPerms(_)
                | AddGroupPerms(_)
                | ReplaceGroupPerms(_)
                | AddGroupUsers(_)
                | RemoveGroupUsers(_)
                | ReplaceGroupUsers(_)
                | CreateInvites
                | DeleteInvites
                | DeleteUsers
                | CreateLabel
                | DeleteLabel(..)
        )
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn classify(method: &Method, path: &str) -> Option<Route> {
    let segs: Option<Vec<String>> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segs = segs?;
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let id = |i: usize| s[i].to_string();
    use Route::*;
    let m = method.as_str();
    Some(match (m, s.as_slice()) {
        ("GET", []) => Workspace,
        ("GET", ["users"]) => ListUsers,
        ("DELETE", ["users"]) => DeleteUsers,
        ("GET", ["users", _]) => GetUser(id(1)),
        ("GET", ["users", _, "groups"]) => UserGroups(id(1)),
        ("POST", ["users", _, "permissions"]) => AddUserPerms(id(1)),
        ("PUT", ["users", _, "permissions"]) => ReplaceUserPerms(id(1)),
        ("GET", ["invites"]) => ListInvites,
        ("POST", ["invites"]) => CreateInvites,
        ("DELETE", ["invites"]) => DeleteInvites,
        ("GET", ["groups"]) => ListGroups,
        ("POST", ["groups"]) => CreateGroup,
        ("GET", ["groups", _]) => GetGroup(id(1)),
        ("PATCH", ["groups", _]) => UpdateGroup(id(1)),
        ("DELETE", ["groups", _]) => DeleteGroup(id(1)),
        ("GET", ["groups", _, "users"]) => GroupUsers(id(1)),
        ("GET", ["groups", _, "invites"]) => GroupInvites(id(1)),
        ("POST", ["groups", _, "users"]) => AddGroupUsers(id(1)),
        ("DELETE", ["group", _, "users"]) => RemoveGroupUsers(id(1)),
        ("PUT", ["group", _, "users"]) => ReplaceGroupUsers(id(1)),
        ("POST", ["groups", _, "permissions"]) => AddGroupPerms(id(1)),
        ("PUT", ["groups", _, "permissions"]) => ReplaceGroupPerms(id(1)),
        ("GET", ["roles"]) => ListRoles,
        ("GET", ["sources"]) => ListSources,
        ("GET", ["warehouses"]) => ListWarehouses,
        ("GET", ["functions"]) => ListFunctions,
        ("GET", ["spaces"]) => ListSpaces,
        ("GET", ["labels"]) => ListLabels,
        ("POST", ["labels"]) => CreateLabel,
        ("DELETE", ["labels", _, _]) => DeleteLabel(id(1), id(2)),
        ("GET", ["audit-events"]) => AuditEvents,
        _ => return None,
    })
}

fn error_response(e: &ApiError) -> Response {
    let body = serde_json::to_vec(&e.envelope()).unwrap_or_default();
    (
        e.status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn simple_error(status: StatusCode, kind: &'static str, message: &str) -> Response {
    error_response(&ApiError {
        status,
        kind,
        message: message.to_string(),
        field: None,
        data: None,
    })
}

fn data_response(data: Value, media_type: &'static str) -> Response {
    let body = serde_json::to_vec(&json!({ "data": data })).unwrap_or_default();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(media_type))],
        body,
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Which media types an Accept header admits (ignoring parameters and q-values, which Segment's
/// clients do not send).
fn accepted_types(headers: &HeaderMap) -> Option<Vec<String>> {
    let v = headers.get(header::ACCEPT)?.to_str().ok()?;
    Some(
        v.split(',')
            .map(|t| {
                t.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|t| !t.is_empty())
            .collect(),
    )
}

fn ga_accept_ok(headers: &HeaderMap) -> bool {
    match accepted_types(headers) {
        None => true,
        Some(types) if types.is_empty() => true,
        Some(types) => types.iter().any(|t| {
            matches!(
                t.as_str(),
                "*/*"
                    | "application/*"
                    | "application/json"
                    | "application/vnd.segment.v1+json"
                    | "application/vnd.segment.v1beta+json"
                    | "application/vnd.segment.v1alpha+json"
            )
        }),
    }
}

fn alpha_accept_ok(headers: &HeaderMap) -> bool {
    accepted_types(headers).is_some_and(|types| types.iter().any(|t| t == MEDIA_TYPE_V1_ALPHA))
}

fn count_status(shared: &Shared, status: StatusCode) {
    let mut st = lock(&shared.stats);
    *st.by_status.entry(status.as_u16()).or_default() += 1;
    if status == StatusCode::TOO_MANY_REQUESTS {
        st.rate_limited += 1;
    }
}

/// Fallback handler: everything outside `/_emulator/` is Segment's API.
pub(super) async fn api(AxState(shared): AxState<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let route = classify(&method, req.uri().path());
    {
        let mut st = lock(&shared.stats);
        st.total_requests += 1;
        let key = route.as_ref().map_or("unknown", Route::template);
        *st.by_route.entry(key.to_string()).or_default() += 1;
        st.first_request.get_or_insert_with(std::time::Instant::now);
    }
    let response = serve(&shared, route, req).await;
    count_status(&shared, response.status());
    {
        let mut st = lock(&shared.stats);
        if let Some(first) = st.first_request {
            st.span_ms = st.span_ms.max(first.elapsed().as_millis() as u64);
        }
    }
    response
}

async fn serve(shared: &Arc<Shared>, route: Option<Route>, req: Request) -> Response {
    let knobs = lock(&shared.knobs).clone();
    let (delay, fault) = {
        let mut engine = lock(&shared.engine);
        let fault = engine.decide(&knobs.faults, req.method() == Method::GET);
        (engine.delay(&knobs.latency), fault)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(kind) = fault {
        *lock(&shared.stats)
            .faults
            .entry(kind.as_str().to_string())
            .or_default() += 1;
        match kind {
            FaultKind::Http500 => {
                return simple_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerError",
                    "Internal server error (injected by the emulator)",
                );
            }
            FaultKind::Http503 => {
                return simple_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "Service unavailable (injected by the emulator)",
                );
            }
            FaultKind::Reset => {
                if let Some(kill) = req.extensions().get::<ConnKill>() {
                    kill.0.notify_one();
                    // The connection task drops this future together with the socket.
                    std::future::pending::<()>().await;
                }
                return simple_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "Connection reset (injected by the emulator)",
                );
            }
            FaultKind::Stall => {
                tokio::time::sleep(Duration::from_millis(knobs.faults.stall_ms)).await;
            }
        }
    }

    let headers = req.headers().clone();
    let level_and_index = bearer(&headers).and_then(|t| {
        shared
            .tokens
            .iter()
            .position(|s| s.token == t)
            .map(|i| (i, shared.tokens[i].level))
    });
    let actor = bearer(&headers).map(Actor::token);
    let Some((token_index, level)) = level_and_index else {
        return simple_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Missing or invalid bearer token",
        );
    };
    let Some(route) = route else {
        return simple_error(StatusCode::NOT_FOUND, "NotFound", "Resource not found");
    };
    if route.iam() && level != AccessLevel::Owner {
        return simple_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "This token's access level does not allow this operation",
        );
    }
    let media_type = if route == Route::ListSpaces {
        if !alpha_accept_ok(&headers) {
            return simple_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                "This endpoint is in alpha: send Accept: application/vnd.segment.v1alpha+json",
            );
        }
        MEDIA_TYPE_V1_ALPHA
    } else {
        if !ga_accept_ok(&headers) {
            return simple_error(
                StatusCode::NOT_ACCEPTABLE,
                "NotAcceptable",
                "Accept application/vnd.segment.v1+json or application/json",
            );
        }
        MEDIA_TYPE_V1
    };

    let decision = lock(&shared.limiter).check(token_index, route.write_limited(), &knobs.limits);
    let rate_headers = match decision {
        Decision::Limited {
            consumed,
            ms_before_next,
        } => {
            let mut e = ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                kind: "RequestError",
                message: "Too many requests".into(),
                field: None,
                data: None,
            };
            e.data = Some(Box::new(json!({
                "remainingPoints": 0,
                "msBeforeNext": ms_before_next,
                "consumedPoints": consumed,
            })));
            let mut resp = error_response(&e);
            let secs = ms_before_next.div_ceil(1000);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return resp;
        }
        Decision::Allowed {
            consumed,
            remaining,
            reset_at,
        } => [
            ("x-ratelimit-consumed", consumed.to_string()),
            ("x-ratelimit-remaining", remaining.to_string()),
            ("x-ratelimit-reset", httpdate::fmt_http_date(reset_at)),
        ],
    };

    let query = Query::parse(req.uri().query());
    let needs_body = matches!(req.method().as_str(), "POST" | "PUT" | "PATCH");
    let body = if needs_body {
        match read_json(req.into_body()).await {
            Ok(v) => v,
            Err(e) => return with_headers(error_response(&e), &rate_headers),
        }
    } else {
        Value::Null
    };
    let actor = actor.unwrap_or_else(Actor::control);
    let result = dispatch(shared, route, &query, &body, &actor, &knobs.audit);
    let resp = match result {
        Ok(data) => data_response(data, media_type),
        Err(e) => error_response(&e),
    };
    with_headers(resp, &rate_headers)
}

fn with_headers(mut resp: Response, headers: &[(&'static str, String); 3]) -> Response {
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            resp.headers_mut().insert(*k, v);
        }
    }
    resp
}

/// The yaml documents only 404/422/429 for these operations, so an unreadable body is a 422.
async fn read_json(body: Body) -> Result<Value, ApiError> {
    let bytes: Bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::validation("body", "Request body is too large or unreadable"))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation(
            "body",
            "A JSON request body is required",
        ));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::validation("body", format!("Request body is not valid JSON: {e}")))
}

fn to_value<T: serde::Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn user_index(st: &State, id: &str) -> Result<usize, ApiError> {
    st.user_idx(id)
        .ok_or_else(|| ApiError::not_found(format!("User {id} not found")))
}

fn group_index(st: &State, id: &str) -> Result<usize, ApiError> {
    st.group_idx(id)
        .ok_or_else(|| ApiError::not_found(format!("User group {id} not found")))
}

fn paged<T: Clone + serde::Serialize>(
    q: &Query,
    list: &str,
    key: &str,
    items: &[T],
) -> Result<Value, ApiError> {
    let req = q.pagination(true)?.unwrap_or(super::query::PageRequest {
        count: super::query::MAX_PAGE,
        cursor: None,
    });
    let (page, pagination) = pagination::page(list, items, &req)?;
    Ok(json!({ key: to_value(page), "pagination": to_value(pagination) }))
}

fn permissions_answer(st: &State, perms: &[state::Perm]) -> Value {
    json!({ "permissions": to_value(st.perms_out(perms)) })
}

fn dispatch(
    shared: &Shared,
    route: Route,
    q: &Query,
    body: &Value,
    actor: &Actor,
    trail: &AuditTrail,
) -> Result<Value, ApiError> {
    use Route::*;
    let mut guard = lock(&shared.state);
    let st: &mut State = &mut guard;
    match route {
        Workspace => Ok(json!({ "workspace": to_value(&st.workspace) })),
        ListUsers => {
            let users: Vec<_> = st.users.iter().map(|u| st.user_out(u, false)).collect();
            paged(q, "users", "users", &users)
        }
        GetUser(id) => {
            let i = user_index(st, &id)?;
            Ok(json!({ "user": to_value(st.user_out(&st.users[i], true)) }))
        }
        UserGroups(id) => {
            user_index(st, &id)?;
            let groups = st.groups_of_user(&id);
            paged(q, &format!("users/{id}/groups"), "groups", &groups)
        }
        AddUserPerms(id) => {
            let i = user_index(st, &id)?;
            let perms = state::parse_permissions_body(body)?;
            let added = st.add_user_permissions(actor, i, perms)?;
            Ok(permissions_answer(st, &added))
        }
        ReplaceUserPerms(id) => {
            let i = user_index(st, &id)?;
            let perms = state::parse_permissions_body(body)?;
            let now = st.replace_user_permissions(actor, i, perms)?;
            Ok(permissions_answer(st, &now))
        }
        DeleteUsers => {
            let ids = q.array("userIds");
            if ids.is_empty() {
                return Err(ApiError::validation("userIds", "userIds is required"));
            }
            st.delete_users(actor, &ids)?;
            Ok(json!({ "status": "SUCCESS" }))
        }
        ListInvites => {
            let emails: Vec<String> = st.invites.iter().map(|i| i.email.clone()).collect();
            paged(q, "invites", "invites", &emails)
        }
        CreateInvites => {
            let invites = state::parse_invites_body(body, &st.workspace.id)?;
            let emails = st.create_invites(actor, invites)?;
            Ok(json!({ "emails": emails }))
        }
        DeleteInvites => {
            let emails = q.array("emails");
            if emails.is_empty() {
                return Err(ApiError::validation("emails", "emails is required"));
            }
            st.delete_invites(actor, &emails)?;
            Ok(json!({ "status": "SUCCESS" }))
        }
        ListGroups => {
            let groups: Vec<_> = st.groups.iter().map(|g| st.group_out(g)).collect();
            paged(q, "groups", "userGroups", &groups)
        }
        CreateGroup => {
            let name = body
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::validation("name", "name is required"))?
                .to_string();
            let i = st.create_group(actor, &name)?;
            Ok(json!({ "userGroup": to_value(st.group_out(&st.groups[i])) }))
        }
        GetGroup(id) => {
            let i = group_index(st, &id)?;
            Ok(json!({ "userGroup": to_value(st.group_out(&st.groups[i])) }))
        }
        UpdateGroup(id) => {
            let i = group_index(st, &id)?;
            if !body.is_object() {
                return Err(ApiError::validation("body", "body must be an object"));
            }
            match body.get("name") {
                None => {}
                Some(Value::String(n)) => st.rename_group(actor, i, n)?,
                Some(_) => return Err(ApiError::validation("name", "name must be a string")),
            }
            Ok(json!({ "userGroup": to_value(st.group_out(&st.groups[i])) }))
        }
        DeleteGroup(id) => {
            let i = group_index(st, &id)?;
            st.delete_group(actor, i);
            Ok(json!({ "status": "SUCCESS" }))
        }
        GroupUsers(id) => {
            let i = group_index(st, &id)?;
            let users: Vec<_> = st.groups[i]
                .members
                .iter()
                .filter_map(|m| st.user_idx(m))
                .map(|ui| State::minimal_user(&st.users[ui]))
                .collect();
            paged(q, &format!("groups/{id}/users"), "users", &users)
        }
        GroupInvites(id) => {
            let i = group_index(st, &id)?;
            let emails = st.groups[i].invites.clone();
            paged(q, &format!("groups/{id}/invites"), "emails", &emails)
        }
        AddGroupUsers(id) => {
            let i = group_index(st, &id)?;
            let emails = state::parse_emails_body(body)?;
            st.add_group_members(actor, i, &emails)?;
            Ok(json!({ "userGroup": to_value(st.group_out(&st.groups[i])) }))
        }
        RemoveGroupUsers(id) => {
            let i = group_index(st, &id)?;
            let emails = q.array("emails");
            if emails.is_empty() {
                return Err(ApiError::validation("emails", "emails is required"));
            }
            st.remove_group_members(actor, i, &emails)?;
            Ok(json!({ "status": "SUCCESS" }))
        }
        ReplaceGroupUsers(id) => {
            let i = group_index(st, &id)?;
            let emails = state::parse_emails_body(body)?;
            st.replace_group_members(actor, i, &emails)?;
            Ok(json!({ "userGroup": to_value(st.group_out(&st.groups[i])) }))
        }
        AddGroupPerms(id) => {
            let i = group_index(st, &id)?;
            let perms = state::parse_permissions_body(body)?;
            let added = st.add_group_permissions(actor, i, perms)?;
            Ok(permissions_answer(st, &added))
        }
        ReplaceGroupPerms(id) => {
            let i = group_index(st, &id)?;
            let perms = state::parse_permissions_body(body)?;
            let now = st.replace_group_permissions(actor, i, perms)?;
            Ok(permissions_answer(st, &now))
        }
        ListRoles => {
            let roles: Vec<_> = st.roles.iter().map(state::role_out).collect();
            paged(q, "roles", "roles", &roles)
        }
        ListSources => {
            let ws = st.workspace.id.clone();
            let sources: Vec<Value> = st.sources.iter().map(|s| source_json(s, &ws)).collect();
            paged(q, "sources", "sources", &sources)
        }
        ListWarehouses => {
            let ws = st.workspace.id.clone();
            let items: Vec<Value> = st
                .warehouses
                .iter()
                .map(|w| warehouse_json(w, &ws))
                .collect();
            paged(q, "warehouses", "warehouses", &items)
        }
        ListFunctions => {
            let t = q
                .get("resourceType")
                .ok_or_else(|| ApiError::validation("resourceType", "resourceType is required"))?;
            if !matches!(
                t,
                "SOURCE" | "DESTINATION" | "INSERT_SOURCE" | "INSERT_DESTINATION"
            ) {
                return Err(ApiError::validation(
                    "resourceType",
                    "resourceType must be one of SOURCE, DESTINATION, INSERT_SOURCE, INSERT_DESTINATION",
                ));
            }
            let items: Vec<Value> = st
                .functions
                .iter()
                .filter(|f| f.resource_type == t)
                .map(function_json)
                .collect();
            paged(q, &format!("functions/{t}"), "functions", &items)
        }
        ListSpaces => {
            let items: Vec<Value> = st
                .spaces
                .iter()
                .map(|s| json!({"id": s.id, "name": s.name, "slug": s.slug}))
                .collect();
            // Spaces are few; the alpha endpoint pages only when asked to.
            let req = q.pagination(false)?.unwrap_or(super::query::PageRequest {
                count: super::query::MAX_PAGE,
                cursor: None,
            });
            let (page, p) = pagination::page("spaces", &items, &req)?;
            Ok(json!({ "spaces": page, "pagination": to_value(p) }))
        }
        ListLabels => Ok(json!({ "labels": to_value(&st.labels) })),
        CreateLabel => {
            let label = body
                .get("label")
                .ok_or_else(|| ApiError::validation("label", "label is required"))?;
            let field = |k: &str| -> Result<String, ApiError> {
                match label.get(k) {
                    Some(Value::String(s)) => Ok(s.clone()),
                    Some(_) => Err(ApiError::validation(
                        format!("label.{k}"),
                        format!("label.{k} must be a string"),
                    )),
                    None => Err(ApiError::validation(
                        format!("label.{k}"),
                        format!("label.{k} is required"),
                    )),
                }
            };
            let description = match label.get("description") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => {
                    return Err(ApiError::validation(
                        "label.description",
                        "label.description must be a string",
                    ));
                }
            };
            let l = crate::segment::models::Label {
                key: field("key")?,
                value: field("value")?,
                description,
            };
            let l = st.create_label(actor, l)?;
            Ok(json!({ "label": to_value(l) }))
        }
        DeleteLabel(key, value) => {
            st.delete_label(actor, &key, &value)?;
            Ok(json!({ "status": "SUCCESS" }))
        }
        AuditEvents => {
            if !trail.enabled {
                return Err(trail_unavailable(trail.unavailable_status));
            }
            audit::list(st, q)
        }
    }
}

/// What a workspace without the audit trail (not on the Business tier) answers.
fn trail_unavailable(status: u16) -> ApiError {
    if status == 403 {
        ApiError {
            status: StatusCode::FORBIDDEN,
            kind: "Forbidden",
            message: "The audit trail is not available on this workspace's plan".into(),
            field: None,
            data: None,
        }
    } else {
        ApiError::not_found("The audit trail is not available on this workspace's plan")
    }
}

fn logo(slug: &str) -> Value {
    json!({ "default": format!("https://cdn.filepicker.io/api/file/{slug}-logo.svg") })
}

pub(super) fn source_json(s: &state::SourceRec, workspace_id: &str) -> Value {
    let kind_name = catalog_name(&s.kind);
    json!({
        "id": s.id,
        "slug": s.slug,
        "name": s.name,
        "workspaceId": workspace_id,
        "enabled": s.enabled,
        "writeKeys": [s.write_key],
        "settings": {},
        "labels": to_value(&s.labels),
        "metadata": {
            "id": format!("{}-catalog", s.kind),
            "name": kind_name,
            "slug": s.kind,
            "description": format!("{kind_name} source"),
            "logos": logo(&s.kind),
            "options": [],
            "categories": ["Website"],
            "isCloudEventSource": false,
        },
    })
}

pub(super) fn warehouse_json(w: &state::WarehouseRec, workspace_id: &str) -> Value {
    let kind_name = catalog_name(&w.kind);
    json!({
        "id": w.id,
        "workspaceId": workspace_id,
        "enabled": w.enabled,
        "settings": { "name": w.name },
        "metadata": {
            "id": format!("{}-catalog", w.kind),
            "name": kind_name,
            "slug": w.kind,
            "description": format!("{kind_name} data warehouse"),
            "logos": logo(&w.kind),
            "options": [],
        },
    })
}

pub(super) fn function_json(f: &state::FunctionRec) -> Value {
    json!({
        "id": f.id,
        "resourceType": f.resource_type,
        "displayName": f.name,
        "description": f.description,
        "createdAt": f.created_at,
        "createdBy": f.created_by,
        "logoUrl": "https://cdn.filepicker.io/api/file/function-logo.svg",
        "catalogId": format!("cat{}", f.id),
    })
}

/// `bigquery` -> `Bigquery`; good enough for catalogue display names.
fn catalog_name(slug: &str) -> String {
    slug.split(['-', '_'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}
