//! The typed Segment client: one method per endpoint, pagination, pacing and retries inside, so
//! no caller can forget them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{Stream, StreamExt, TryStreamExt};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use url::Url;

use super::error::{Error, Result, Token};
use super::limiter::{Pacing, RateLimiter, WindowInfo};
use super::models::*;
use super::pages::{self, PageData};
use super::redact::redact;

/// Segment's largest page size; a full audit wants as few pages as possible.
pub(crate) const MAX_PAGE_SIZE: u32 = 200;

pub(crate) const US_API_URL: &str = "https://api.segmentapis.com";
pub(crate) const EU_API_URL: &str = "https://eu1.api.segmentapis.com";

#[derive(Debug, Clone)]
pub(crate) struct ClientConfig {
    pub base_url: String,
    pub token: Token,
    /// Requests in flight at once.
    pub concurrency: usize,
    pub timeout: Duration,
    /// Attempts for a request that fails transiently (5xx, reset, timeout) before giving up.
    pub max_attempts: u32,
    /// 429s tolerated for one request; each is followed by the server's wait.
    pub max_rate_limited: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    pub page_size: u32,
}

impl ClientConfig {
    pub(crate) fn new(base_url: impl Into<String>, token: Token) -> ClientConfig {
        ClientConfig {
            base_url: base_url.into(),
            token,
            concurrency: 16,
            timeout: Duration::from_secs(30),
            max_attempts: 6,
            max_rate_limited: 20,
            backoff_base: Duration::from_millis(200),
            backoff_cap: Duration::from_secs(8),
            page_size: MAX_PAGE_SIZE,
        }
    }
}

/// Whether a request may be sent again after an ambiguous failure (5xx, reset, timeout): only
/// when sending it twice cannot do more than sending it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    Safe,
    /// Retried only on 429, which Segment answers before doing anything.
    OnlyRateLimited,
}

/// Which rate-limit bucket a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    General,
    /// Permission- and membership-changing endpoints: Segment's lower limit.
    Write,
}

#[derive(Clone)]
pub(crate) struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    host: String,
    auth: HeaderValue,
    cfg: ClientConfig,
    general: RateLimiter,
    writes: RateLimiter,
    in_flight: Semaphore,
    /// HTTP requests sent (every attempt), for reports of what a read cost.
    sent: AtomicU64,
    /// The server's clock minus ours, in milliseconds, from the latest `Date` header.
    clock_offset_ms: AtomicI64,
    clock_known: AtomicBool,
}

/// The filters of `GET /audit-events`. Times are RFC 3339.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditQuery {
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub resource_id: Option<String>,
    pub resource_type: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

/// Checks an API URL: it must be absolute, and https unless it points at this machine.
pub(crate) fn validate_base_url(raw: &str) -> Result<Url> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::Config(format!("invalid API URL {raw:?}: {e}")))?;
    let host = url.host_str().unwrap_or_default().to_string();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(Error::Config(format!(
                "refusing to send the token over plain http to {host}: use https (http is allowed only for loopback addresses)"
            )));
        }
        other => {
            return Err(Error::Config(format!(
                "invalid API URL {raw:?}: scheme {other:?} is not http or https"
            )));
        }
    }
    if host.is_empty() {
        return Err(Error::Config(format!("invalid API URL {raw:?}: no host")));
    }
    Ok(url)
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

impl Client {
    pub(crate) fn new(cfg: ClientConfig) -> Result<Client> {
        let base = validate_base_url(&cfg.base_url)?;
        let host = match base.port() {
            Some(p) => format!("{}:{p}", base.host_str().unwrap_or_default()),
            None => base.host_str().unwrap_or_default().to_string(),
        };
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", cfg.token.expose())).map_err(|_| {
                Error::Config("the token contains characters not allowed in an HTTP header".into())
            })?;
        auth.set_sensitive(true);
        super::tls::install_provider();
        super::redact::register(&cfg.token);
        // Segment does not redirect; a proxy or a mistyped URL that does must not send our
        // requests (or show another server's answer as the workspace) elsewhere.
        let origin = base.origin();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            let to = attempt.url().origin();
            if to != origin {
                attempt.error(RedirectRefused(to.ascii_serialization()))
            } else if attempt.previous().len() >= 5 {
                attempt.error(RedirectRefused("too many redirects".into()))
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .redirect(redirects)
            .user_agent(concat!("segment-access/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(cfg.concurrency.max(1))
            .build()
            .map_err(|e| Error::Config(format!("cannot set up HTTP: {e}")))?;
        let concurrency = cfg.concurrency.max(1);
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                host,
                auth,
                in_flight: Semaphore::new(concurrency),
                cfg,
                general: RateLimiter::new(),
                writes: RateLimiter::new(),
                sent: AtomicU64::new(0),
                clock_offset_ms: AtomicI64::new(0),
                clock_known: AtomicBool::new(false),
            }),
        })
    }

    pub(crate) fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// What the rate-limit pacing is doing now, for a progress display.
    pub(crate) fn pacing(&self) -> Pacing {
        let (reads, writes) = (self.inner.general.pacing(), self.inner.writes.pacing());
        Pacing {
            waiting_until: reads.waiting_until.max(writes.waiting_until),
            budget: reads.budget.or(writes.budget),
        }
    }

    pub(crate) fn concurrency(&self) -> usize {
        self.inner.cfg.concurrency.max(1)
    }

    /// HTTP requests this client has sent so far (retries included).
    pub(crate) fn requests_sent(&self) -> u64 {
        self.inner.sent.load(Ordering::Relaxed)
    }

    /// The server's clock minus ours, in milliseconds, as the latest answer's `Date` header
    /// said (to its second); `None` before an answer with one.
    pub(crate) fn server_clock_offset_ms(&self) -> Option<i64> {
        self.inner
            .clock_known
            .load(Ordering::Relaxed)
            .then(|| self.inner.clock_offset_ms.load(Ordering::Relaxed))
    }

    // ---- reads -------------------------------------------------------------------------------

    pub(crate) async fn workspace(&self) -> Result<Workspace> {
        #[derive(serde::Deserialize)]
        struct D {
            workspace: Workspace,
        }
        let d: D = self.get(&[], &[]).await?;
        Ok(d.workspace)
    }

    pub(crate) async fn user(&self, user_id: &str) -> Result<User> {
        #[derive(serde::Deserialize)]
        struct D {
            user: User,
        }
        let d: D = self.get(&["users", user_id], &[]).await?;
        Ok(d.user)
    }

    pub(crate) async fn group(&self, group_id: &str) -> Result<UserGroup> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct D {
            user_group: UserGroup,
        }
        let d: D = self.get(&["groups", group_id], &[]).await?;
        Ok(d.user_group)
    }

    /// Whether the token may read IAM data: one page of one user. Segment answers 403 to tokens
    /// without the Workspace Owner access level.
    pub(crate) async fn probe_users(&self) -> Result<()> {
        let _: pages::Users = self.get(&["users"], &[("pagination.count", "1")]).await?;
        Ok(())
    }

    pub(crate) async fn labels(&self) -> Result<Vec<Label>> {
        #[derive(serde::Deserialize)]
        struct D {
            labels: Vec<Label>,
        }
        let d: D = self.get(&["labels"], &[]).await?;
        Ok(d.labels)
    }

    pub(crate) async fn users(&self) -> Result<Vec<User>> {
        self.list_all::<pages::Users>(&["users"], &[]).await
    }

    /// The user list a page at a time, for a caller that stops once it has found someone.
    pub(crate) fn user_pages(&self) -> impl Stream<Item = Result<Vec<User>>> + '_ {
        self.pages::<pages::Users>(&["users"], &[])
    }

    pub(crate) async fn invites(&self) -> Result<Vec<String>> {
        self.list_all::<pages::Invites>(&["invites"], &[]).await
    }

    pub(crate) async fn groups(&self) -> Result<Vec<UserGroup>> {
        self.list_all::<pages::Groups>(&["groups"], &[]).await
    }

    pub(crate) async fn group_members(&self, group_id: &str) -> Result<Vec<MinimalUser>> {
        self.list_all::<pages::GroupUsers>(&["groups", group_id, "users"], &[])
            .await
    }

    pub(crate) async fn group_invites(&self, group_id: &str) -> Result<Vec<String>> {
        self.list_all::<pages::GroupInvites>(&["groups", group_id, "invites"], &[])
            .await
    }

    pub(crate) async fn user_groups(&self, user_id: &str) -> Result<Vec<MinimalUserGroup>> {
        self.list_all::<pages::UserGroups>(&["users", user_id, "groups"], &[])
            .await
    }

    pub(crate) async fn roles(&self) -> Result<Vec<Role>> {
        self.list_all::<pages::Roles>(&["roles"], &[]).await
    }

    pub(crate) async fn sources(&self) -> Result<Vec<Source>> {
        self.list_all::<pages::Sources>(&["sources"], &[]).await
    }

    pub(crate) async fn warehouses(&self) -> Result<Vec<Warehouse>> {
        self.list_all::<pages::Warehouses>(&["warehouses"], &[])
            .await
    }

    /// Functions of one kind: `SOURCE`, `DESTINATION`, `INSERT_SOURCE` or `INSERT_DESTINATION`.
    pub(crate) async fn functions(&self, resource_type: &str) -> Result<Vec<Function>> {
        self.list_all::<pages::Functions>(&["functions"], &[("resourceType", resource_type)])
            .await
    }

    pub(crate) async fn spaces(&self) -> Result<Vec<Space>> {
        self.list_all::<pages::Spaces>(&["spaces"], &[]).await
    }

    /// The newest `count` audit events about one resource (a user or group id), newest first.
    pub(crate) async fn recent_audit_events(
        &self,
        resource_id: &str,
        count: u32,
    ) -> Result<Vec<AuditEvent>> {
        let count = count.clamp(1, MAX_PAGE_SIZE).to_string();
        let page: pages::AuditEvents = self
            .get(
                &["audit-events"],
                &[("resourceId", resource_id), ("pagination.count", &count)],
            )
            .await?;
        Ok(page.into_parts().0)
    }

    /// Every audit event matching `q`, newest first (all pages).
    pub(crate) async fn audit_events(&self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let mut query: Vec<(&str, &str)> = Vec::new();
        for (k, v) in [
            ("startTime", &q.start_time),
            ("endTime", &q.end_time),
            ("resourceId", &q.resource_id),
            ("resourceType", &q.resource_type),
        ] {
            if let Some(v) = v {
                query.push((k, v.as_str()));
            }
        }
        self.list_all::<pages::AuditEvents>(&["audit-events"], &query)
            .await
    }

    /// [`Client::audit_events`] with the query moved in, for futures that outlive a borrow.
    pub(crate) async fn audit_events_owned(&self, q: AuditQuery) -> Result<Vec<AuditEvent>> {
        self.audit_events(&q).await
    }

    // ---- writes ------------------------------------------------------------------------------

    /// Adds permissions (additive; what already holds is kept).
    pub(crate) async fn add_user_permissions(
        &self,
        user_id: &str,
        permissions: &[PermissionInput],
    ) -> Result<Vec<AccessPermission>> {
        self.permissions_write(
            Method::POST,
            &["users", user_id, "permissions"],
            permissions,
        )
        .await
    }

    pub(crate) async fn add_group_permissions(
        &self,
        group_id: &str,
        permissions: &[PermissionInput],
    ) -> Result<Vec<AccessPermission>> {
        self.permissions_write(
            Method::POST,
            &["groups", group_id, "permissions"],
            permissions,
        )
        .await
    }

    /// Replaces all of a user's permissions, without retrying after an ambiguous failure (5xx,
    /// reset, timeout). A retried PUT would re-send a list computed from an earlier read, so a
    /// change made by someone else during the backoff would be overwritten; that is why the
    /// client offers no retrying replace, and callers (revoke, undo) re-read and re-plan.
    pub(crate) async fn replace_user_permissions_once(
        &self,
        user_id: &str,
        permissions: &[PermissionInput],
    ) -> Result<Vec<AccessPermission>> {
        self.permissions_write_with(
            Method::PUT,
            &["users", user_id, "permissions"],
            permissions,
            Retry::OnlyRateLimited,
        )
        .await
    }

    /// Like [`Client::replace_user_permissions_once`], for a group.
    pub(crate) async fn replace_group_permissions_once(
        &self,
        group_id: &str,
        permissions: &[PermissionInput],
    ) -> Result<Vec<AccessPermission>> {
        self.permissions_write_with(
            Method::PUT,
            &["groups", group_id, "permissions"],
            permissions,
            Retry::OnlyRateLimited,
        )
        .await
    }

    pub(crate) async fn add_group_members(
        &self,
        group_id: &str,
        emails: &[String],
    ) -> Result<UserGroup> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct D {
            user_group: UserGroup,
        }
        let body = serde_json::json!({ "emails": emails });
        let d: D = self
            .send(
                Method::POST,
                &["groups", group_id, "users"],
                &[],
                Some(&body),
                Bucket::Write,
                Retry::Safe,
            )
            .await?;
        Ok(d.user_group)
    }

    /// Removes members by email. Note Segment's singular `/group/` in this path.
    pub(crate) async fn remove_group_members(
        &self,
        group_id: &str,
        emails: &[String],
    ) -> Result<()> {
        let q = indexed("emails", emails);
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let _: serde_json::Value = self
            .send::<(), _>(
                Method::DELETE,
                &["group", group_id, "users"],
                &q,
                None,
                Bucket::Write,
                Retry::Safe,
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn create_invites(&self, invites: &[InviteInput]) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct D {
            emails: Vec<String>,
        }
        let body = serde_json::json!({ "invites": invites });
        let d: D = self
            .send(
                Method::POST,
                &["invites"],
                &[],
                Some(&body),
                Bucket::Write,
                Retry::OnlyRateLimited,
            )
            .await?;
        Ok(d.emails)
    }

    /// Not retried after an ambiguous failure: Segment answers a repeated delete with 404 for
    /// what the first one already removed, which would turn a success into a failure. Callers
    /// re-read to learn the outcome instead.
    pub(crate) async fn delete_invites(&self, emails: &[String]) -> Result<()> {
        let q = indexed("emails", emails);
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let _: serde_json::Value = self
            .send::<(), _>(
                Method::DELETE,
                &["invites"],
                &q,
                None,
                Bucket::Write,
                Retry::OnlyRateLimited,
            )
            .await?;
        Ok(())
    }

    /// Not retried after an ambiguous failure; see [`Client::delete_invites`].
    pub(crate) async fn delete_users(&self, user_ids: &[String]) -> Result<()> {
        let q = indexed("userIds", user_ids);
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let _: serde_json::Value = self
            .send::<(), _>(
                Method::DELETE,
                &["users"],
                &q,
                None,
                Bucket::Write,
                Retry::OnlyRateLimited,
            )
            .await?;
        Ok(())
    }

    async fn permissions_write(
        &self,
        method: Method,
        path: &[&str],
        permissions: &[PermissionInput],
    ) -> Result<Vec<AccessPermission>> {
        // Both are idempotent: POST merges, PUT replaces with the same list.
        self.permissions_write_with(method, path, permissions, Retry::Safe)
            .await
    }

    async fn permissions_write_with(
        &self,
        method: Method,
        path: &[&str],
        permissions: &[PermissionInput],
        retry: Retry,
    ) -> Result<Vec<AccessPermission>> {
        #[derive(serde::Deserialize)]
        struct D {
            permissions: Vec<AccessPermission>,
        }
        let body = PermissionsInput {
            permissions: permissions.to_vec(),
        };
        let d: D = self
            .send(method, path, &[], Some(&body), Bucket::Write, retry)
            .await?;
        Ok(d.permissions)
    }

    // ---- pagination --------------------------------------------------------------------------

    /// Every page of a list endpoint, in order, as a stream of item batches.
    fn pages<'a, P: PageData + 'a>(
        &'a self,
        path: &'a [&'a str],
        query: &'a [(&'a str, &'a str)],
    ) -> impl Stream<Item = Result<Vec<P::Item>>> + 'a {
        let count = self.inner.cfg.page_size.clamp(1, MAX_PAGE_SIZE).to_string();
        futures::stream::try_unfold(Some(None::<String>), move |cursor| {
            let count = count.clone();
            async move {
                let Some(cursor) = cursor else {
                    return Ok(None);
                };
                let mut q: Vec<(&str, &str)> = query.to_vec();
                q.push(("pagination.count", &count));
                if let Some(c) = cursor.as_deref() {
                    q.push(("pagination.cursor", c));
                }
                let page: P = self.get(path, &q).await?;
                let (items, pagination) = page.into_parts();
                let next = pagination
                    .and_then(|p| p.next)
                    .filter(|n| !n.is_empty() && Some(n.as_str()) != cursor.as_deref());
                Ok(Some((items, next.map(Some))))
            }
        })
    }

    /// Walks every page of a list endpoint.
    async fn list_all<P: PageData>(
        &self,
        path: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Vec<P::Item>> {
        let batches: Vec<Vec<P::Item>> = self.pages::<P>(path, query).try_collect().await?;
        Ok(batches.into_iter().flatten().collect())
    }

    /// Runs `f` for every item with at most `concurrency()` requests in flight and returns the
    /// results in input order. Completion order is free: one request waiting out a retry must
    /// not hold back the others (an ordered buffer would stall behind it).
    pub(crate) async fn fan_out<I, T, F, Fut>(&self, items: I, f: F) -> Result<Vec<T>>
    where
        I: IntoIterator,
        F: Fn(I::Item) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        // Only the items are collected up front; each request's future is created when a slot
        // frees up, so 20,000 users never mean 20,000 pending state machines in memory.
        let items: Vec<I::Item> = items.into_iter().collect();
        let mut slots: Vec<Option<T>> = std::iter::repeat_with(|| None).take(items.len()).collect();
        let f = &f;
        let mut done = futures::stream::iter(items.into_iter().enumerate())
            .map(|(i, item)| async move { f(item).await.map(|v| (i, v)) })
            .buffer_unordered(self.concurrency());
        while let Some((i, v)) = done.try_next().await? {
            slots[i] = Some(v);
        }
        Ok(slots.into_iter().flatten().collect())
    }

    // ---- transport ---------------------------------------------------------------------------

    async fn get<T: DeserializeOwned>(&self, path: &[&str], query: &[(&str, &str)]) -> Result<T> {
        self.send::<(), T>(Method::GET, path, query, None, Bucket::General, Retry::Safe)
            .await
    }

    fn url(&self, path: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        {
            // `path_segments_mut` percent-encodes each id, so a user-typed id cannot change
            // which endpoint we call. Only cannot-be-a-base URLs fail here, and
            // `validate_base_url` already refused those.
            if let Ok(mut segs) = url.path_segments_mut() {
                segs.pop_if_empty();
                for p in path {
                    segs.push(p);
                }
            }
        }
        if path.is_empty() && !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        url
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        body: Option<&B>,
        bucket: Bucket,
        retry: Retry,
    ) -> Result<T> {
        let inner = &*self.inner;
        let url = self.url(path);
        let shown_path = format!("/{}", path.join("/"));
        let accept = if path.first() == Some(&"spaces") {
            MEDIA_TYPE_V1_ALPHA
        } else {
            MEDIA_TYPE_V1
        };
        let body_bytes = match body {
            Some(b) => Some(serde_json::to_vec(b).map_err(|e| Error::Decode {
                method: method.to_string(),
                path: shown_path.clone(),
                message: format!("cannot encode request: {e}"),
            })?),
            None => None,
        };

        let mut attempt: u32 = 0;
        let mut limited: u32 = 0;
        loop {
            attempt += 1;
            let permit = inner.in_flight.acquire().await.map_err(|_| {
                Error::Config("the client was shut down while a request waited".into())
            })?;
            // The tighter write window first: a request must not hold the general window's
            // probe while it waits a minute for the write window.
            let mut write_permit = match bucket {
                Bucket::Write => Some(inner.writes.acquire().await),
                Bucket::General => None,
            };
            let general_permit = inner.general.acquire().await;
            if let Some(p) = write_permit.as_mut() {
                p.sending();
            }
            // The answer's rate-limit headers describe the window of the request's own bucket.
            let (own_permit, other_permit) = match write_permit {
                Some(w) => (w, Some(general_permit)),
                None => (general_permit, None),
            };
            let mut req = inner
                .http
                .request(method.clone(), url.clone())
                .header(AUTHORIZATION, inner.auth.clone())
                .header(ACCEPT, accept)
                .timeout(inner.cfg.timeout);
            if !query.is_empty() {
                req = req.query(query);
            }
            if let Some(b) = &body_bytes {
                req = req.header(CONTENT_TYPE, MEDIA_TYPE_V1).body(b.clone());
            }
            tracing::debug!(method = %method, path = %shown_path, attempt, "request");
            inner.sent.fetch_add(1, Ordering::Relaxed);
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    self.note_server_clock(&headers);
                    match resp.bytes().await {
                        Ok(bytes) => Ok((status, headers, bytes)),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            drop(permit);
            drop(other_permit);

            // Refused connections rarely heal within seconds (wrong URL, server down); give
            // them fewer attempts than failures of a server that did answer before.
            let mut attempts_allowed = inner.cfg.max_attempts;
            let transient = match outcome {
                Ok((status, headers, bytes)) => {
                    tracing::debug!(method = %method, path = %shown_path, status = status.as_u16(), "response");
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        limited += 1;
                        let wait = retry_wait_429(&headers, &bytes);
                        own_permit.limited(wait);
                        if limited > inner.cfg.max_rate_limited {
                            return Err(api_error(&method, &shown_path, status, &bytes));
                        }
                        tracing::debug!(wait_ms = wait.as_millis() as u64, "rate limited; waiting");
                        attempt -= 1; // a 429 did nothing; it does not use up an attempt
                        continue;
                    }
                    // Every answer past the server's rate-limit check (a 404 or 422 too)
                    // says how much of the window is left.
                    match WindowInfo::from_headers(&headers) {
                        Some(info) => own_permit.observed(info),
                        None if status.is_success() => own_permit.unmetered(),
                        None => drop(own_permit),
                    }
                    if status.is_success() {
                        return decode::<T>(&method, &shown_path, &bytes);
                    }
                    if is_transient_status(status) && retry == Retry::Safe {
                        api_error(&method, &shown_path, status, &bytes)
                    } else {
                        return Err(api_error(&method, &shown_path, status, &bytes));
                    }
                }
                Err(e) => {
                    drop(own_permit);
                    if e.is_connect() {
                        attempts_allowed = attempts_allowed.min(3);
                    }
                    let err = if e.is_timeout() {
                        Error::Timeout {
                            method: method.to_string(),
                            path: shown_path.clone(),
                            host: inner.host.clone(),
                            secs: inner.cfg.timeout.as_secs().max(1),
                        }
                    } else {
                        Error::Network {
                            host: inner.host.clone(),
                            message: describe_transport_error(&e),
                        }
                    };
                    // A refused redirect is a decision, not a transient failure.
                    if retry != Retry::Safe || e.is_redirect() {
                        return Err(err);
                    }
                    err
                }
            };
            if attempt >= attempts_allowed {
                return Err(transient);
            }
            let wait = backoff(inner.cfg.backoff_base, inner.cfg.backoff_cap, attempt);
            tracing::debug!(error = %transient, wait_ms = wait.as_millis() as u64, "transient failure; retrying");
            tokio::time::sleep(wait).await;
        }
    }
}

impl Client {
    fn note_server_clock(&self, headers: &reqwest::header::HeaderMap) {
        let server = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v.trim()).ok());
        let millis = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or_default()
        };
        if let Some(server) = server {
            let offset = millis(server) - millis(SystemTime::now());
            self.inner.clock_offset_ms.store(offset, Ordering::Relaxed);
            self.inner.clock_known.store(true, Ordering::Relaxed);
        }
    }
}

fn is_transient_status(s: StatusCode) -> bool {
    matches!(s.as_u16(), 500 | 502 | 503 | 504)
}

/// Full jitter: a random wait in [0, min(cap, base * 2^attempt)], at least a few ms.
fn backoff(base: Duration, cap: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(16));
    let ceiling = exp.min(cap).as_millis() as u64;
    let ms = rand::random_range(ceiling / 2..=ceiling.max(1));
    Duration::from_millis(ms.max(5))
}

fn retry_wait_429(headers: &reqwest::header::HeaderMap, body: &[u8]) -> Duration {
    let from_body = serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()
        .and_then(|env| {
            env.errors.into_iter().find_map(|e| {
                e.data
                    .and_then(|d| d.get("msBeforeNext").and_then(|v| v.as_f64()))
            })
        })
        .map(|ms| Duration::from_millis(ms.max(0.0) as u64));
    let from_header = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    // A 429 with no hint still must not turn into a hot loop.
    from_body
        .or(from_header)
        .unwrap_or(Duration::from_secs(1))
        .max(Duration::from_millis(10))
        .min(Duration::from_secs(120))
}

fn decode<T: DeserializeOwned>(method: &Method, path: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice::<DataEnvelope<T>>(bytes)
        .map(|env| env.data)
        .map_err(|e| Error::Decode {
            method: method.to_string(),
            path: path.to_string(),
            message: redact(&e.to_string()).into_owned(),
        })
}

fn api_error(method: &Method, path: &str, status: StatusCode, bytes: &[u8]) -> Error {
    let first = serde_json::from_slice::<ErrorEnvelope>(bytes)
        .ok()
        .and_then(|env| env.errors.into_iter().next());
    // Whatever the server says is redacted before it is kept (and before it is cut short, so
    // no part of a token survives at the cut).
    let (error_type, message, field) = match first {
        Some(e) => (
            redact(&e.error_type).into_owned(),
            redact(&e.message).into_owned(),
            e.field.map(|f| redact(&f).into_owned()),
        ),
        None => (
            status.canonical_reason().unwrap_or("Error").to_string(),
            redact(&String::from_utf8_lossy(bytes))
                .chars()
                .take(200)
                .collect(),
            None,
        ),
    };
    Error::Api {
        method: method.to_string(),
        path: path.to_string(),
        status: status.as_u16(),
        error_type,
        message,
        field,
    }
}

fn describe_transport_error(e: &reqwest::Error) -> String {
    // reqwest's own text repeats its layers ("client error (Connect): tcp connect error: ...");
    // the innermost source says why (refused, reset, DNS) and holds no URL.
    let mut root: Option<&dyn std::error::Error> = None;
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        root = Some(s);
        src = s.source();
    }
    match root {
        Some(r) => redact(&r.to_string()).into_owned(),
        None if e.is_connect() => "connection failed".to_string(),
        None if e.is_redirect() => "refused a redirect to another host".to_string(),
        None => "connection error".to_string(),
    }
}

/// Why a redirect was not followed.
#[derive(Debug)]
struct RedirectRefused(String);

impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "refused a redirect to {} (only the API URL's own host is followed; check --api-url)",
            self.0
        )
    }
}

impl std::error::Error for RedirectRefused {}

/// `name.0=a&name.1=b`: the array encoding Segment documents (and its Go SDK sends).
fn indexed(name: &str, values: &[String]) -> Vec<(String, String)> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("{name}.{i}"), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_required_except_loopback() {
        assert!(validate_base_url("https://api.segmentapis.com").is_ok());
        assert!(validate_base_url("http://127.0.0.1:8080").is_ok());
        assert!(validate_base_url("http://localhost:1").is_ok());
        assert!(validate_base_url("http://[::1]:9").is_ok());
        let err = validate_base_url("http://api.example.com").unwrap_err();
        assert!(err.to_string().contains("plain http"), "{err}");
        assert!(validate_base_url("ftp://x").is_err());
        assert!(validate_base_url("not a url").is_err());
    }

    #[test]
    fn ids_are_encoded_into_one_path_segment() {
        let c = Client::new(ClientConfig::new(
            "http://127.0.0.1:1/base",
            Token::new("t"),
        ))
        .unwrap();
        assert_eq!(
            c.url(&["users", "a/../b"]).as_str(),
            "http://127.0.0.1:1/base/users/a%2F..%2Fb"
        );
        assert_eq!(c.url(&[]).as_str(), "http://127.0.0.1:1/base/");
    }

    #[test]
    fn backoff_is_capped() {
        for attempt in 1..20 {
            let d = backoff(Duration::from_millis(200), Duration::from_secs(8), attempt);
            assert!(d <= Duration::from_secs(8));
        }
    }

    #[test]
    fn token_never_in_debug() {
        let c = Client::new(ClientConfig::new(
            "http://127.0.0.1:1",
            Token::new("sekrit-canary"),
        ))
        .unwrap();
        assert!(!format!("{c:?}").contains("sekrit"));
        assert!(!format!("{:?}", Token::new("sekrit-canary")).contains("sekrit"));
    }
}
