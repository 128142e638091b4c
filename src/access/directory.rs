//! What we know of a workspace's access, read once and then answered from memory.
//!
//! Loading is planned to fetch nothing twice and nothing the question does not need: groups come
//! with their permissions from the list endpoint, so only users need one `GET /users/{id}` each,
//! and member lists are fetched once per group. Independent reads run concurrently; the client
//! bounds how many are in flight and paces them against the rate limit.

use std::collections::HashMap;
use std::sync::Arc;

use crate::segment::models::*;
use crate::segment::{Client, Error};

/// Reports loading progress; the CLI shows it as a bar on a terminal.
pub(crate) trait Progress: Send + Sync {
    /// More work became known (e.g. one request per user, once the user list is in).
    fn add_work(&self, _n: u64) {}
    fn done(&self, _n: u64) {}
}

/// No progress display.
pub(crate) struct Quiet;
impl Progress for Quiet {}

/// The resources a permission can point at, by kind.
#[derive(Debug, Clone, Default)]
pub(crate) struct Resources {
    pub sources: Vec<Source>,
    pub warehouses: Vec<Warehouse>,
    pub functions: Vec<Function>,
    pub spaces: Vec<Space>,
    /// Set when `GET /spaces` is unavailable (workspaces without Engage): spaces are unknown,
    /// not absent.
    pub spaces_unavailable: Option<String>,
}

/// The function kinds `GET /functions` must be asked for one by one.
pub(crate) const FUNCTION_KINDS: [&str; 4] = [
    "SOURCE",
    "DESTINATION",
    "INSERT_SOURCE",
    "INSERT_DESTINATION",
];

#[derive(Debug, Clone, Default)]
pub(crate) struct Directory {
    pub workspace: Option<Workspace>,
    /// With permissions when loaded for grants.
    pub users: Vec<User>,
    pub invites: Vec<String>,
    /// Always with permissions (the list endpoint includes them).
    pub groups: Vec<UserGroup>,
    /// Group id -> member users, for the groups whose members were loaded.
    pub members: HashMap<String, Vec<MinimalUser>>,
    /// Group id -> pending invites in that group.
    pub group_invites: HashMap<String, Vec<String>>,
    pub roles: Vec<Role>,
    pub resources: Resources,
    pub labels: Vec<Label>,
}

/// What to load. Each flag costs requests; callers ask for what their question needs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Need {
    pub workspace: bool,
    pub users: bool,
    /// `GET /users/{id}` for every user (one request each).
    pub user_permissions: bool,
    pub invites: bool,
    pub groups: bool,
    /// Members and invites of every group (a page or more per group).
    pub group_members: bool,
    pub roles: bool,
    pub resources: bool,
    pub labels: bool,
}

impl Need {
    /// Everything a full grant audit needs.
    pub(crate) fn everything() -> Need {
        Need {
            workspace: true,
            users: true,
            user_permissions: true,
            invites: true,
            groups: true,
            group_members: true,
            roles: true,
            resources: true,
            labels: false,
        }
    }
}

impl Directory {
    /// Loads what `need` asks for, concurrently.
    pub(crate) async fn load(
        client: &Client,
        need: Need,
        progress: Arc<dyn Progress>,
    ) -> Result<Directory, Error> {
        let users = async {
            if !need.users && !need.user_permissions {
                return Ok(Vec::new());
            }
            let list = client.users().await?;
            progress.done(1);
            if !need.user_permissions {
                return Ok(list);
            }
            progress.add_work(list.len() as u64);
            client
                .fan_out(list, |u| {
                    let progress = progress.clone();
                    async move {
                        let full = client.user(&u.id).await;
                        progress.done(1);
                        match full {
                            // Segment may leave out `permissions` for someone who has none.
                            Ok(full) => Ok(Some(User {
                                permissions: Some(full.permissions.unwrap_or_default()),
                                ..full
                            })),
                            // Removed between the list and this read: the workspace no
                            // longer has this user, so neither do we.
                            Err(e) if e.is_not_found() => Ok(None),
                            Err(e) => Err(e),
                        }
                    }
                })
                .await
                .map(|v| v.into_iter().flatten().collect())
        };
        let invites = async {
            if !need.invites {
                return Ok(None);
            }
            let v = client.invites().await;
            progress.done(1);
            v.map(Some)
        };
        let groups = async {
            if !need.groups && !need.group_members {
                return Ok((Vec::new(), Members::default()));
            }
            let groups = client.groups().await?;
            progress.done(1);
            if !need.group_members {
                return Ok((groups, Members::default()));
            }
            let members = load_members(client, &groups, progress.as_ref()).await?;
            Ok((groups, members))
        };
        // Group invites not read yet are read as soon as both lists are in, while the users
        // are still being read.
        let groups_and_invites = async {
            let (invites, (groups, mut members)) = tokio::try_join!(invites, groups)?;
            if need.group_members {
                members
                    .complete_invites(client, &groups, invites.as_deref(), progress.as_ref())
                    .await?;
            }
            Ok::<_, Error>((groups, members, invites.unwrap_or_default()))
        };
        let workspace = async {
            if !need.workspace {
                return Ok(None);
            }
            let v = client.workspace().await.map(Some);
            progress.done(1);
            v
        };
        let roles = async {
            if !need.roles {
                return Ok(Vec::new());
            }
            let v = client.roles().await;
            progress.done(1);
            v
        };
        let resources = async {
            if !need.resources {
                return Ok(Resources::default());
            }
            let r = load_resources(client).await;
            progress.done(1);
            r
        };
        let labels = async {
            if !need.labels {
                return Ok(Vec::new());
            }
            client.labels().await
        };
        progress.add_work(7);
        let (users, (groups, members, invites), workspace, roles, resources, labels) = tokio::try_join!(
            users,
            groups_and_invites,
            workspace,
            roles,
            resources,
            labels
        )?;
        Ok(Directory {
            workspace,
            users,
            invites,
            groups,
            members: members.users,
            group_invites: members.invites,
            roles,
            resources,
            labels,
        })
    }

    /// Keeps only what one user's access depends on: that user, with permissions read fresh,
    /// and the groups they belong to, each listing just them as a member. Two requests,
    /// however large the workspace.
    pub(crate) async fn narrow_to_user(
        &mut self,
        client: &Client,
        user_id: &str,
    ) -> Result<(), Error> {
        let (full, their_groups) =
            tokio::try_join!(client.user(user_id), client.user_groups(user_id))?;
        self.narrow_to(full, &their_groups);
        Ok(())
    }

    /// [`Directory::narrow_to_user`] with the user (`GET /users/{id}`) and their groups
    /// (`GET /users/{id}/groups`) already read.
    pub(crate) fn narrow_to(&mut self, full: User, their_groups: &[MinimalUserGroup]) {
        let member = MinimalUser {
            id: full.id.clone(),
            name: full.name.clone(),
            email: full.email.clone(),
        };
        self.groups
            .retain(|g| their_groups.iter().any(|tg| tg.id == g.id));
        self.members = self
            .groups
            .iter()
            .map(|g| (g.id.clone(), vec![member.clone()]))
            .collect();
        self.group_invites.clear();
        self.invites.clear();
        self.users = vec![full];
    }

    pub(crate) fn group(&self, id: &str) -> Option<&UserGroup> {
        self.groups.iter().find(|g| g.id == id)
    }

    pub(crate) fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The display name of a resource a permission points at, if Segment still lists it.
    pub(crate) fn resource_name(&self, t: ResourceType, id: &str) -> Option<String> {
        let r = &self.resources;
        match t {
            ResourceType::Workspace => self
                .workspace
                .as_ref()
                .filter(|w| w.id == id)
                .map(|w| w.name.clone()),
            ResourceType::Source => r.sources.iter().find(|s| s.id == id).map(source_name),
            ResourceType::Warehouse => r.warehouses.iter().find(|w| w.id == id).map(warehouse_name),
            ResourceType::Function => r.functions.iter().find(|f| f.id == id).map(function_name),
            ResourceType::Space => r.spaces.iter().find(|s| s.id == id).map(|s| s.name.clone()),
        }
    }
}

/// The display names of every resource a permission can point at, kept by a plan that is shown
/// after the directory it was made from is gone.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResourceNames(HashMap<(ResourceType, String), String>);

impl ResourceNames {
    pub(crate) fn of(dir: &Directory) -> ResourceNames {
        let r = &dir.resources;
        let mut m = HashMap::new();
        // The first of two resources with one id, as `Directory::resource_name` finds it.
        let mut keep = |k: (ResourceType, String), name: String| {
            m.entry(k).or_insert(name);
        };
        if let Some(w) = &dir.workspace {
            keep((ResourceType::Workspace, w.id.clone()), w.name.clone());
        }
        for s in &r.sources {
            keep((ResourceType::Source, s.id.clone()), source_name(s));
        }
        for w in &r.warehouses {
            keep((ResourceType::Warehouse, w.id.clone()), warehouse_name(w));
        }
        for f in &r.functions {
            keep((ResourceType::Function, f.id.clone()), function_name(f));
        }
        for s in &r.spaces {
            keep((ResourceType::Space, s.id.clone()), s.name.clone());
        }
        ResourceNames(m)
    }

    pub(crate) fn get(&self, t: ResourceType, id: &str) -> Option<String> {
        self.0.get(&(t, id.to_string())).cloned()
    }
}

pub(crate) fn source_name(s: &Source) -> String {
    s.name
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(&s.slug)
        .to_string()
}

pub(crate) fn warehouse_name(w: &Warehouse) -> String {
    w.display_name().unwrap_or(&w.id).to_string()
}

pub(crate) fn function_name(f: &Function) -> String {
    f.display_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(&f.id)
        .to_string()
}

/// Members of every group, and the pending invites among them as far as read.
#[derive(Debug, Default)]
pub(crate) struct Members {
    pub users: HashMap<String, Vec<MinimalUser>>,
    /// Group id -> invite members, for the groups whose invites are known.
    pub invites: HashMap<String, Vec<String>>,
    /// Some group's `memberCount` was its users plus its invites: Segment counts invite members.
    count_includes_invites: bool,
}

/// The users of each group (not read for an empty one), and the invites of each group whose
/// `memberCount` is not the number of users found.
///
/// Whether Segment's `memberCount` counts pending invites too is not documented. We assume it
/// does (the emulator's reading): a group whose count equals the users found then has no
/// invite members, and its invites are not read. That saves a request per group, but only
/// where it is sure; [`Members::complete_invites`] reads the rest unless the workspace has no
/// pending invites at all, or some group's count was confirmed to include its invites.
pub(crate) async fn load_members(
    client: &Client,
    groups: &[UserGroup],
    progress: &dyn Progress,
) -> Result<Members, Error> {
    progress.add_work(groups.len() as u64);
    let read = client.fan_out(groups, |g| async move {
        // Segment's list item says how many members there are; an empty group needs no read.
        let users = if g.member_count > 0 {
            client.group_members(&g.id).await?
        } else {
            Vec::new()
        };
        progress.done(1);
        // More than the users found: the rest are invites. Fewer: the count is not what we
        // take it for, so look.
        let invites = if g.member_count != users.len() as u64 {
            progress.add_work(1);
            let v = client.group_invites(&g.id).await?;
            progress.done(1);
            Some(v)
        } else {
            None
        };
        Ok((g, users, invites))
    });
    let mut members = Members::default();
    for (g, users, invites) in read.await? {
        if let Some(invites) = invites {
            members.count_includes_invites |=
                !invites.is_empty() && g.member_count == (users.len() + invites.len()) as u64;
            members.invites.insert(g.id.clone(), invites);
        }
        members.users.insert(g.id.clone(), users);
    }
    Ok(members)
}

impl Members {
    /// Reads the invites of the groups whose counts left them unread, unless that is surely
    /// useless: the workspace has no pending invites (`workspace_invites`, when read), or a
    /// group's count was seen to include its invites (then a count equal to the users found
    /// means none).
    pub(crate) async fn complete_invites(
        &mut self,
        client: &Client,
        groups: &[UserGroup],
        workspace_invites: Option<&[String]>,
        progress: &dyn Progress,
    ) -> Result<(), Error> {
        let unread: Vec<&UserGroup> = groups
            .iter()
            .filter(|g| !self.invites.contains_key(&g.id))
            .collect();
        let sure = self.count_includes_invites || workspace_invites.is_some_and(|i| i.is_empty());
        if sure {
            for g in unread {
                self.invites.insert(g.id.clone(), Vec::new());
            }
            return Ok(());
        }
        progress.add_work(unread.len() as u64);
        let read = client
            .fan_out(unread, |g| async move {
                let v = client.group_invites(&g.id).await?;
                progress.done(1);
                Ok((g.id.clone(), v))
            })
            .await?;
        self.invites.extend(read);
        Ok(())
    }
}

/// Sources, warehouses, functions of every kind, and spaces, concurrently.
pub(crate) async fn load_resources(client: &Client) -> Result<Resources, Error> {
    let functions = client.fan_out(FUNCTION_KINDS, |kind| async move {
        match client.functions(kind).await {
            Ok(v) => Ok(v),
            // Older API versions know only SOURCE and DESTINATION functions.
            Err(e) if kind.starts_with("INSERT") && e.status() == Some(422) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    });
    let spaces = async {
        match client.spaces().await {
            Ok(v) => Ok((v, None)),
            // Workspaces without Engage, or tokens without access to it, cannot list spaces;
            // everything else still works, so say so instead of failing the audit.
            Err(e @ Error::Api { .. }) if matches!(e.status(), Some(403 | 404 | 415)) => {
                Ok((Vec::new(), Some(e.to_string())))
            }
            Err(e) => Err(e),
        }
    };
    let (sources, warehouses, functions, (spaces, spaces_unavailable)) =
        tokio::try_join!(client.sources(), client.warehouses(), functions, spaces)?;
    let mut functions: Vec<Function> = functions.into_iter().flatten().collect();
    functions.sort_by(|a, b| a.id.cmp(&b.id));
    functions.dedup_by(|a, b| a.id == b.id);
    Ok(Resources {
        sources,
        warehouses,
        functions,
        spaces,
        spaces_unavailable,
    })
}
