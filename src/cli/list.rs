//! `segment-access list ...`: read-only views of the workspace.

use std::io::Write;

use clap::{Args, Subcommand};

use crate::access::grants::{self, GrantFilter};
use crate::access::record::Principal;
use crate::access::views::{self, InviteRow, WorkspaceInfo};
use crate::access::{Directory, Need, resolve};

use super::{CliError, Context, ExitCode};

const LIST_HELP: &str = "\
Every list prints a table on a terminal and takes --format json|ndjson|csv and --jq for scripts.

Examples:
  segment-access --demo list users
  segment-access list groups --format csv > groups.csv
  segment-access list users --jq '.[].email'
  segment-access list grants --format ndjson | jq -c 'select(.via == null)'";

#[derive(Debug, Args)]
#[command(after_help = LIST_HELP)]
pub struct ListArgs {
    #[command(subcommand)]
    pub what: ListWhat,
    /// Answer from a snapshot written by `sync --out`, offline (no token, no requests).
    #[arg(long, global = true, value_name = "FILE.db")]
    pub snapshot: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ListWhat {
    /// The workspace the token belongs to.
    ///
    /// Its id, name and slug, and the API URL in use: a quick check that a token and region
    /// point where you think.
    #[command(
        after_help = "Examples:\n  segment-access list workspace\n  segment-access list workspace --jq .slug"
    )]
    Workspace,
    /// Users of the workspace.
    ///
    /// Every user with an account, sorted by email. People invited but not yet signed up are
    /// under `list invites`.
    #[command(
        after_help = "Examples:\n  segment-access list users\n  segment-access list users --jq '.[].email'\n  segment-access list users --format csv > users.csv"
    )]
    Users,
    /// Pending invites.
    ///
    /// Email addresses invited to the workspace that have not accepted yet.
    #[command(
        after_help = "Examples:\n  segment-access list invites\n  segment-access list invites --format ndjson | jq -r .email"
    )]
    Invites,
    /// User groups, with member counts and roles.
    #[command(
        after_help = "Examples:\n  segment-access list groups\n  segment-access list groups --jq '.[] | select(.memberCount == 0) | .name'"
    )]
    Groups,
    /// Roles that can be granted.
    ///
    /// Segment's built-in roles, with the ids and names `--role` accepts.
    #[command(
        after_help = "Examples:\n  segment-access list roles\n  segment-access list roles --jq '.[].name'"
    )]
    Roles,
    /// The workspace, sources, warehouses, functions and spaces roles can be bound to.
    ///
    /// Each resource with its type, id, name, slug and labels; `type:name` of any row is what
    /// `--resource` accepts.
    #[command(
        after_help = "Examples:\n  segment-access list resources\n  segment-access list resources --jq '.[] | select(.type == \"source\") | .slug'"
    )]
    Resources,
    /// Members (users and pending invites) of a group.
    #[command(
        after_help = "Examples:\n  segment-access list members Analysts\n  segment-access list members Analysts --format ndjson | jq -r 'select(.type == \"user\") | .email'"
    )]
    Members {
        /// Group id or name.
        group: String,
    },
    /// Every grant: direct, through a group, and group memberships.
    ///
    /// Prints grant records (docs/grant-record.md), the one JSON shape scripts read and that
    /// `grant`/`revoke --from-file` will take back.
    #[command(after_help = GRANTS_HELP)]
    Grants(GrantsArgs),
}

const GRANTS_HELP: &str = "\
Each grant is one fact: a principal (user, invite or group) holds a role on a resource, directly
or through a group; or a principal is a member of a group (role null, resource type group).

--resource matches grants bound to that resource and grants that reach it from workspace level
(Workspace Owner, all-sources bindings, label-narrowed bindings whose labels the resource has).

Examples:
  segment-access list grants --user ann@example.com
  segment-access list grants --resource source:web-prod
  segment-access list grants --role 'Source Admin' --direct-only --format csv
  segment-access list grants --format ndjson | jq -c 'select(.via != null)'
  segment-access list grants --format ndjson \\
    | jq -c 'select(.role.name == \"Workspace Owner\" and .via == null)'";

#[derive(Debug, Args)]
pub struct GrantsArgs {
    /// Only grants held by this user (email, id or name), directly or through groups.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Only grants of this group: its own, its members' through it, and its memberships.
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Only grants of this role (name or id).
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// Only grants that reach this resource: workspace, source:<id|slug|name>, ...
    #[arg(long, value_name = "RESOURCE")]
    pub resource: Option<String>,
    /// Leave out grants inherited through groups.
    #[arg(long)]
    pub direct_only: bool,
}

pub async fn run(args: ListArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    if let Some(path) = &args.snapshot {
        return run_offline(path, args.what, ctx);
    }
    let client = ctx.client().await?;
    let mut stdout = std::io::stdout().lock();
    let out: &mut dyn Write = &mut stdout;
    let r = &ctx.renderer;
    let n = match args.what {
        ListWhat::Workspace => {
            let w = client.workspace().await?;
            let info = WorkspaceInfo {
                id: w.id,
                name: w.name,
                slug: w.slug,
                api_url: ctx.api_url(),
            };
            r.one(out, &info)?;
            1
        }
        ListWhat::Users => {
            let mut users = client.users().await?;
            users.sort_by_key(|u| u.email.to_lowercase());
            r.list(out, users)?
        }
        ListWhat::Invites => {
            let mut invites = client.invites().await?;
            invites.sort_by_key(|e| e.to_lowercase());
            r.list(out, invites.into_iter().map(|email| InviteRow { email }))?
        }
        ListWhat::Groups => {
            let mut groups = client.groups().await?;
            groups.sort_by_key(|g| g.name.to_lowercase());
            r.list(out, groups)?
        }
        ListWhat::Roles => {
            let mut roles = client.roles().await?;
            roles.sort_by_key(|r| r.name.to_lowercase());
            r.list(out, roles)?
        }
        ListWhat::Resources => {
            let need = Need {
                workspace: true,
                resources: true,
                ..Need::default()
            };
            let dir = Directory::load(&client, need, ctx.progress("Reading resources")).await?;
            if let Some(why) = &dir.resources.spaces_unavailable {
                ctx.note(&format!("note: spaces not listed: {why}"));
            }
            r.list(out, views::resources(&dir))?
        }
        ListWhat::Members { group } => {
            let groups = client.groups().await?;
            let g = resolve::group(&groups, &group)?;
            let (members, invites) =
                tokio::try_join!(client.group_members(&g.id), client.group_invites(&g.id))?;
            let mut rows: Vec<Principal> = members
                .into_iter()
                .map(|m| Principal::User {
                    id: m.id,
                    email: m.email,
                    name: m.name,
                })
                .collect();
            rows.sort_by_key(|p| p.display().to_lowercase());
            let mut inv: Vec<String> = invites;
            inv.sort_by_key(|e| e.to_lowercase());
            rows.extend(inv.into_iter().map(|email| Principal::Invite { email }));
            r.list(out, rows)?
        }
        ListWhat::Grants(g) => {
            let (dir, filter) = load_for_grants(&client, &g, ctx).await?;
            r.list(out, grants::iter(&dir, &filter))?
        }
    };
    out.flush()
        .map_err(|e| CliError::from(crate::output::OutputError::Io(e)))?;
    if n == 0 && r.is_table() {
        ctx.note("nothing to list");
    }
    Ok(ExitCode::Ok)
}

/// Loads only what the filters need and resolves the filters against it.
async fn load_for_grants(
    client: &crate::segment::Client,
    args: &GrantsArgs,
    ctx: &Context,
) -> Result<(Directory, GrantFilter), CliError> {
    let progress = ctx.progress("Reading access");
    let mut filter = GrantFilter {
        direct_only: args.direct_only,
        ..GrantFilter::default()
    };
    let dir = if let Some(user) = &args.user {
        // One user's access: their own permissions and their groups', nothing else.
        let base = Need {
            workspace: true,
            users: true,
            groups: true,
            resources: true,
            ..Need::default()
        };
        let mut dir = Directory::load(client, base, progress.clone()).await?;
        let u = resolve::user(&dir.users, user)?.clone();
        progress.add_work(2);
        dir.narrow_to_user(client, &u.id).await?;
        progress.done(2);
        filter.user_id = Some(u.id);
        dir
    } else if let Some(group) = &args.group
        && args.role.is_none()
        && args.resource.is_none()
    {
        // One group's access: its permissions, members and invites.
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
        filter.group_id = Some(g.id.clone());
        dir.groups = vec![g];
        dir
    } else {
        Directory::load(client, Need::everything(), progress.clone()).await?
    };
    if let Some(group) = &args.group
        && filter.group_id.is_none()
    {
        filter.group_id = Some(resolve::group(&dir.groups, group)?.id.clone());
    }
    if let Some(role) = &args.role {
        let roles = if dir.roles.is_empty() {
            client.roles().await?
        } else {
            dir.roles.clone()
        };
        filter.role_id = Some(resolve::role(&roles, role)?.id.clone());
    }
    if let Some(res) = &args.resource {
        filter.resource = Some(resolve::resource(&dir, res)?.into());
    }
    if let Some(why) = &dir.resources.spaces_unavailable {
        ctx.note(&format!("note: space names unavailable: {why}"));
    }
    drop(progress);
    Ok((dir, filter))
}

/// The same answers as `run`, from a snapshot: the directory is read back from the file and the
/// same rows are built and rendered from it.
fn run_offline(
    path: &std::path::Path,
    what: ListWhat,
    ctx: &mut Context,
) -> Result<ExitCode, CliError> {
    let snap = crate::snapshot::read(path)?;
    let dir = &snap.dir;
    let mut stdout = std::io::stdout().lock();
    let out: &mut dyn Write = &mut stdout;
    let r = &ctx.renderer;
    let n = match what {
        ListWhat::Workspace => {
            let w = dir.workspace.clone().ok_or_else(|| {
                CliError::failure(format!("{}: the snapshot has no workspace", path.display()))
            })?;
            let info = WorkspaceInfo {
                id: w.id,
                name: w.name,
                slug: w.slug,
                api_url: snap.api_url(),
            };
            r.one(out, &info)?;
            1
        }
        ListWhat::Users => {
            // The live list endpoint carries no permissions; neither does this list.
            let mut users: Vec<_> = dir
                .users
                .iter()
                .cloned()
                .map(|mut u| {
                    u.permissions = None;
                    u
                })
                .collect();
            users.sort_by_key(|u| u.email.to_lowercase());
            r.list(out, users)?
        }
        ListWhat::Invites => {
            let mut invites = dir.invites.clone();
            invites.sort_by_key(|e| e.to_lowercase());
            r.list(out, invites.into_iter().map(|email| InviteRow { email }))?
        }
        ListWhat::Groups => {
            let mut groups = dir.groups.clone();
            groups.sort_by_key(|g| g.name.to_lowercase());
            r.list(out, groups)?
        }
        ListWhat::Roles => {
            let mut roles = dir.roles.clone();
            roles.sort_by_key(|r| r.name.to_lowercase());
            r.list(out, roles)?
        }
        ListWhat::Resources => {
            if let Some(why) = &dir.resources.spaces_unavailable {
                ctx.note(&format!("note: spaces not listed: {why}"));
            }
            r.list(out, views::resources(dir))?
        }
        ListWhat::Members { group } => {
            let g = resolve::group(&dir.groups, &group)?;
            let mut rows: Vec<Principal> = dir
                .members
                .get(&g.id)
                .into_iter()
                .flatten()
                .cloned()
                .map(|m| Principal::User {
                    id: m.id,
                    email: m.email,
                    name: m.name,
                })
                .collect();
            rows.sort_by_key(|p| p.display().to_lowercase());
            let mut inv: Vec<String> = dir.group_invites.get(&g.id).cloned().unwrap_or_default();
            inv.sort_by_key(|e| e.to_lowercase());
            rows.extend(inv.into_iter().map(|email| Principal::Invite { email }));
            r.list(out, rows)?
        }
        ListWhat::Grants(g) => {
            let filter = offline_filter(dir, &g)?;
            if let Some(why) = &dir.resources.spaces_unavailable {
                ctx.note(&format!("note: space names unavailable: {why}"));
            }
            r.list(out, grants::iter(dir, &filter))?
        }
    };
    out.flush()
        .map_err(|e| CliError::from(crate::output::OutputError::Io(e)))?;
    if n == 0 && r.is_table() {
        ctx.note("nothing to list");
    }
    Ok(ExitCode::Ok)
}

/// The filters of `list grants`, resolved against a whole directory. Live, `--user` and
/// `--group` narrow what is read instead; filtering the whole directory gives the same records.
pub(crate) fn offline_filter(dir: &Directory, args: &GrantsArgs) -> Result<GrantFilter, CliError> {
    let mut filter = GrantFilter {
        direct_only: args.direct_only,
        ..GrantFilter::default()
    };
    if let Some(user) = &args.user {
        filter.user_id = Some(resolve::user(&dir.users, user)?.id.clone());
    }
    if let Some(group) = &args.group {
        filter.group_id = Some(resolve::group(&dir.groups, group)?.id.clone());
    }
    if let Some(role) = &args.role {
        filter.role_id = Some(resolve::role(&dir.roles, role)?.id.clone());
    }
    if let Some(res) = &args.resource {
        filter.resource = Some(resolve::resource(dir, res)?.into());
    }
    Ok(filter)
}
