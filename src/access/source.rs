//! One source of workspace data for every read-only question: Segment itself, read live, or a
//! directory loaded from a snapshot file. Every `list` answer, every grants query, and every
//! command that needs the whole picture asks here, so live and offline answers come from the
//! same code and cannot drift apart.

use std::sync::Arc;

use crate::segment::client::AuditQuery;
use crate::segment::models::{AuditEvent, Label, MinimalUserGroup, Role, User, UserGroup};
use crate::segment::{Client, Error};

use super::directory::{Directory, Need, Progress};
use super::events::{self, EventQuery, EventRecord};
use super::grants::{self, GrantFilter};
use super::record::{GrantRecord, Principal};
use super::resolve::{self, ResolveError};
use super::views::{self, InviteRow, ResourceRow, WorkspaceInfo};
use super::wants;

/// Where answers come from.
pub(crate) enum Source {
    /// Segment's API, read when asked.
    Live { client: Client, api_url: String },
    /// A directory read earlier (a snapshot file), with the API URL it was read from.
    Loaded {
        dir: Box<Directory>,
        api_url: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SourceError {
    #[error(transparent)]
    Api(#[from] Error),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The loaded directory lacks what the question needs.
    #[error("{0}")]
    Missing(String),
    /// `GET /audit-events` refused: no Business tier (404, or 403), or a token that may not
    /// read it (403).
    #[error("the audit trail is unavailable: {0}")]
    AuditTrail(Error),
}

/// The filters of `list grants`, as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct GrantQuery {
    pub user: Option<String>,
    pub group: Option<String>,
    pub role: Option<String>,
    pub resource: Option<String>,
    pub direct_only: bool,
}

/// The answer to a grants query: the records are computed from `dir` one principal at a time
/// while they are printed, so a large audit never sits in memory twice.
pub(crate) struct Grants {
    pub dir: Directory,
    pub filter: GrantFilter,
}

impl Grants {
    pub(crate) fn iter(&self) -> impl Iterator<Item = GrantRecord> + '_ {
        grants::iter(&self.dir, &self.filter)
    }

    /// What a person should know about the answer (parts Segment would not show).
    pub(crate) fn notes(&self) -> Vec<String> {
        self.dir
            .resources
            .spaces_unavailable
            .iter()
            .map(|why| format!("note: space names unavailable: {why}"))
            .collect()
    }
}

fn sorted<T>(mut v: Vec<T>, key: impl Fn(&T) -> String) -> Vec<T> {
    v.sort_by_cached_key(key);
    v
}

impl Source {
    pub(crate) fn live(client: Client) -> Source {
        let api_url = client.base_url().as_str().trim_end_matches('/').to_string();
        Source::Live { client, api_url }
    }

    pub(crate) fn loaded(dir: Directory, api_url: String) -> Source {
        Source::Loaded {
            dir: Box::new(dir),
            api_url,
        }
    }

    pub(crate) fn api_url(&self) -> &str {
        match self {
            Source::Live { api_url, .. } | Source::Loaded { api_url, .. } => api_url,
        }
    }

    /// The workspace, and where it was (or is) reached.
    pub(crate) async fn workspace(&self) -> Result<WorkspaceInfo, SourceError> {
        let w = match self {
            Source::Live { client, .. } => client.workspace().await?,
            Source::Loaded { dir, .. } => dir
                .workspace
                .clone()
                .ok_or_else(|| SourceError::Missing("the snapshot has no workspace".into()))?,
        };
        Ok(WorkspaceInfo {
            id: w.id,
            name: w.name,
            slug: w.slug,
            api_url: self.api_url().to_string(),
        })
    }

    /// Users by email, without permissions (the list endpoint carries none).
    pub(crate) async fn users(&self) -> Result<Vec<User>, SourceError> {
        let users = match self {
            Source::Live { client, .. } => client.users().await?,
            Source::Loaded { dir, .. } => dir
                .users
                .iter()
                .cloned()
                .map(|u| User {
                    permissions: None,
                    ..u
                })
                .collect(),
        };
        Ok(sorted(users, |u| u.email.to_lowercase()))
    }

    pub(crate) async fn invites(&self) -> Result<Vec<InviteRow>, SourceError> {
        let emails = match self {
            Source::Live { client, .. } => client.invites().await?,
            Source::Loaded { dir, .. } => dir.invites.clone(),
        };
        Ok(sorted(emails, |e| e.to_lowercase())
            .into_iter()
            .map(|email| InviteRow { email })
            .collect())
    }

    pub(crate) async fn groups(&self) -> Result<Vec<UserGroup>, SourceError> {
        let groups = match self {
            Source::Live { client, .. } => client.groups().await?,
            Source::Loaded { dir, .. } => dir.groups.clone(),
        };
        Ok(sorted(groups, |g| g.name.to_lowercase()))
    }

    pub(crate) async fn roles(&self) -> Result<Vec<Role>, SourceError> {
        let roles = match self {
            Source::Live { client, .. } => client.roles().await?,
            Source::Loaded { dir, .. } => dir.roles.clone(),
        };
        Ok(sorted(roles, |r| r.name.to_lowercase()))
    }

    /// The workspace's labels, by key and value: what `--label` accepts.
    pub(crate) async fn labels(&self) -> Result<Vec<Label>, SourceError> {
        let labels = match self {
            Source::Live { client, .. } => client.labels().await?,
            Source::Loaded { dir, .. } => dir.labels.clone(),
        };
        Ok(sorted(labels, |l| format!("{}={}", l.key, l.value)))
    }

    /// Every resource roles can be bound to, and why spaces are missing when they are.
    pub(crate) async fn resources(
        &self,
        progress: Arc<dyn Progress>,
    ) -> Result<(Vec<ResourceRow>, Option<String>), SourceError> {
        let need = Need {
            workspace: true,
            resources: true,
            ..Need::default()
        };
        let dir = self.directory(need, progress).await?;
        Ok((
            views::resources(&dir),
            dir.resources.spaces_unavailable.clone(),
        ))
    }

    /// Members of a group: users by email, then pending invites.
    pub(crate) async fn members(&self, group: &str) -> Result<Vec<Principal>, SourceError> {
        let (members, invites) = match self {
            Source::Live { client, .. } => {
                let groups = client.groups().await?;
                let g = resolve::group(&groups, group)?;
                tokio::try_join!(client.group_members(&g.id), client.group_invites(&g.id))?
            }
            Source::Loaded { dir, .. } => {
                let g = resolve::group(&dir.groups, group)?;
                (
                    dir.members.get(&g.id).cloned().unwrap_or_default(),
                    dir.group_invites.get(&g.id).cloned().unwrap_or_default(),
                )
            }
        };
        let users = members.into_iter().map(|m| Principal::User {
            id: m.id,
            email: m.email,
            name: m.name,
        });
        let mut rows = sorted(users.collect(), |p: &Principal| p.display().to_lowercase());
        rows.extend(
            sorted(invites, |e| e.to_lowercase())
                .into_iter()
                .map(|email| Principal::Invite { email }),
        );
        Ok(rows)
    }

    /// What `need` asks for. Live, it is read (concurrently, nothing twice); loaded, it is the
    /// whole directory.
    pub(crate) async fn directory(
        &self,
        need: Need,
        progress: Arc<dyn Progress>,
    ) -> Result<Directory, SourceError> {
        Ok(match self {
            Source::Live { client, .. } => Directory::load(client, need, progress).await?,
            Source::Loaded { dir, .. } => (**dir).clone(),
        })
    }

    /// The grants matching a query. Live, only what the question needs is read: one user's
    /// access is their own permissions and their groups' (found without reading the user list
    /// when an id or email allows, see [`find_user`]); one group's is its permissions, members
    /// and invites; anything else needs every user's permissions.
    pub(crate) async fn grants(
        &self,
        q: &GrantQuery,
        progress: Arc<dyn Progress>,
    ) -> Result<Grants, SourceError> {
        let dir = match self {
            Source::Loaded { dir, .. } => (**dir).clone(),
            Source::Live { client, .. } => {
                let roles = q.role.is_some();
                if let Some(user) = &q.user {
                    let base = Need {
                        workspace: true,
                        groups: true,
                        resources: true,
                        roles,
                        ..Need::default()
                    };
                    progress.add_work(2);
                    let (mut dir, (full, their_groups)) = tokio::try_join!(
                        async {
                            Directory::load(client, base, progress.clone())
                                .await
                                .map_err(SourceError::from)
                        },
                        find_user(client, user),
                    )?;
                    progress.done(2);
                    dir.narrow_to(full, &their_groups);
                    dir
                } else if let Some(group) = &q.group
                    && q.role.is_none()
                    && q.resource.is_none()
                {
                    let base = Need {
                        workspace: true,
                        groups: true,
                        resources: true,
                        ..Need::default()
                    };
                    let mut dir = Directory::load(client, base, progress.clone()).await?;
                    let g = resolve::group(&dir.groups, group)?.clone();
                    progress.add_work(2);
                    let (members, invites) =
                        tokio::try_join!(client.group_members(&g.id), client.group_invites(&g.id))?;
                    progress.done(2);
                    dir.members.insert(g.id.clone(), members);
                    dir.group_invites.insert(g.id.clone(), invites);
                    dir.groups = vec![g];
                    dir
                } else {
                    Directory::load(client, Need::everything(), progress.clone()).await?
                }
            }
        };
        let filter = filter_for(&dir, q)?;
        Ok(Grants { dir, filter })
    }
}

impl Source {
    /// History: the audit events matching `q`, newest first, with names resolved from the
    /// workspace's lists (users, invites, groups; and resources when one is asked about).
    pub(crate) async fn events(
        &self,
        q: &EventQuery,
        progress: Arc<dyn Progress>,
    ) -> Result<Vec<EventRecord>, SourceError> {
        let client = match self {
            Source::Live { client, .. } => client,
            Source::Loaded { .. } => {
                return Err(SourceError::Missing(
                    "a snapshot does not hold the audit trail; run list events without --snapshot"
                        .into(),
                ));
            }
        };
        let need = Need {
            users: true,
            invites: true,
            groups: true,
            workspace: q.resource.is_some(),
            resources: q.resource.is_some(),
            ..Need::default()
        };
        let dir = Directory::load(client, need, progress).await?;
        let base = AuditQuery {
            start_time: q.since.map(crate::segment::time::format_rfc3339),
            end_time: q.until.map(crate::segment::time::format_rfc3339),
            ..AuditQuery::default()
        };
        let with_id = |id: &str| AuditQuery {
            resource_id: Some(id.to_string()),
            ..base.clone()
        };
        // The resource ids to ask Segment for; none means the whole trail in the window.
        let mut ids: Vec<String> = Vec::new();
        if let Some(p) = &q.principal {
            match wants::principal(&dir, p) {
                Ok(Principal::User { id, email, .. }) => {
                    // Invited by email before joining: the invite's events are theirs too.
                    ids.push(id);
                    ids.push(email);
                }
                Ok(Principal::Group { id, .. }) => ids.push(id),
                Ok(Principal::Invite { email }) => ids.push(email),
                // A principal the workspace no longer lists (a removed user, a deleted group)
                // is still in the trail: matched by the id or name the events recorded.
                Err(e @ ResolveError::NotFound { .. }) => {
                    let raw = p.trim();
                    let raw = raw
                        .strip_prefix("group:")
                        .or_else(|| raw.strip_prefix("invite:"))
                        .unwrap_or(raw);
                    let events = client.audit_events(&base).await.map_err(audit_error)?;
                    let hits: Vec<AuditEvent> = events
                        .into_iter()
                        .filter(|e| {
                            e.resource_id.eq_ignore_ascii_case(raw)
                                || e.resource_name.eq_ignore_ascii_case(raw)
                        })
                        .collect();
                    if hits.is_empty() {
                        return Err(e.into());
                    }
                    return Ok(finish(&dir, hits, q));
                }
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(r) = &q.resource {
            let r = resolve::resource(&dir, r)?;
            if !ids.is_empty() {
                // Both asked: only events about both, which one event never is unless they
                // name the same thing.
                ids.retain(|i| *i == r.id);
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
            } else {
                ids.push(r.id);
            }
        }
        let events: Vec<AuditEvent> = if ids.is_empty() {
            client.audit_events(&base).await.map_err(audit_error)?
        } else {
            let reads = ids.iter().map(|id| client.audit_events_owned(with_id(id)));
            futures::future::try_join_all(reads)
                .await
                .map_err(audit_error)?
                .into_iter()
                .flatten()
                .collect()
        };
        Ok(finish(&dir, events, q))
    }
}

fn finish(dir: &Directory, events: Vec<AuditEvent>, q: &EventQuery) -> Vec<EventRecord> {
    let rows = events
        .into_iter()
        .map(|e| events::record(dir, e))
        .filter(|r| q.actor.as_deref().is_none_or(|a| events::by_actor(r, a)))
        .filter(|r| events::of_type(r, &q.types))
        .collect();
    events::newest_first(rows)
}

/// A refusal of `GET /audit-events` is about the trail, not about access management: said so.
fn audit_error(e: Error) -> SourceError {
    match e.status() {
        Some(403 | 404) => SourceError::AuditTrail(e),
        _ => SourceError::Api(e),
    }
}

/// Whether `input` could be a Segment id: one word of letters, digits, `-` or `_`. Segment's
/// are 22 letters and digits; a name like `bob` passes too, and costs one request that
/// answers 404 before the user list is read.
fn may_be_an_id(input: &str) -> bool {
    !input.is_empty()
        && input.len() <= 64
        && input
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// One user, by id, email or name, with permissions and groups, reading no more of the user
/// list than the input needs:
/// - something that may be an id is asked for directly (`GET /users/{id}` and its groups, two
///   requests); a 404 (or a 400/422, an id Segment refuses to parse) means it was a name after
///   all;
/// - an email (it has an `@`) pages through the user list and stops at the page that holds
///   it. Segment's list is not sorted by email, so that can be any page. Emails are unique in
///   a workspace, so the first match is the only one; the page's other users are still
///   checked, so a page that holds two matches is ambiguous as before;
/// - a name needs the whole list, because several users may share it, which must be an error
///   that names them, not a guess.
///
/// Not found at all, the whole list has been read, and the error suggests near matches.
async fn find_user(
    client: &Client,
    input: &str,
) -> Result<(User, Vec<MinimalUserGroup>), SourceError> {
    use futures::TryStreamExt;
    let trimmed = input.trim();
    if may_be_an_id(trimmed) {
        match tokio::try_join!(client.user(trimmed), client.user_groups(trimmed)) {
            Ok(found) => return Ok(found),
            Err(e) if matches!(e.status(), Some(400 | 404 | 422)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let users = if trimmed.contains('@') {
        let needle = trimmed.to_lowercase();
        let matches =
            |u: &User| u.email.to_lowercase() == needle || u.name.to_lowercase() == needle;
        let mut seen = Vec::new();
        let mut pages = std::pin::pin!(client.user_pages());
        while let Some(page) = pages.try_next().await? {
            let found = page.iter().any(matches);
            seen.extend(page);
            if found {
                break;
            }
        }
        seen
    } else {
        client.users().await?
    };
    let id = resolve::user(&users, input)?.id.clone();
    Ok(tokio::try_join!(client.user(&id), client.user_groups(&id))?)
}

/// The query's names resolved against a directory that holds what they name. Filtering a whole
/// directory and filtering one narrowed to a user or group give the same records.
fn filter_for(dir: &Directory, q: &GrantQuery) -> Result<GrantFilter, ResolveError> {
    let mut filter = GrantFilter {
        direct_only: q.direct_only,
        ..GrantFilter::default()
    };
    if let Some(user) = &q.user {
        filter.user_id = Some(resolve::user(&dir.users, user)?.id.clone());
    }
    if let Some(group) = &q.group {
        filter.group_id = Some(resolve::group(&dir.groups, group)?.id.clone());
    }
    if let Some(role) = &q.role {
        filter.role_id = Some(resolve::role(&dir.roles, role)?.id.clone());
    }
    if let Some(res) = &q.resource {
        filter.resource = Some(resolve::resource(dir, res)?.into());
    }
    Ok(filter)
}
