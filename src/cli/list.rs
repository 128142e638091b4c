//! `segment-access list ...`: read-only views of the workspace.

use clap::{Args, Subcommand};

use crate::access::GrantQuery;

use super::{Breadth, CliError, Context, ExitCode};

const LIST_HELP: &str = "\
Every list prints a table on a terminal, fitted to its width (long cells cut with an ellipsis;
--wide shows them whole), and takes --format json|ndjson|csv and --jq for scripts.

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
    /// Labels of the workspace: what --label accepts.
    ///
    /// Each label as key and value, with its description. `grant --label key=value` narrows a
    /// workspace-level binding to the resources carrying that label.
    #[command(
        after_help = "Examples:\n  segment-access list labels\n  segment-access list labels --jq '.[] | \"\\(.key)=\\(.value)\"'"
    )]
    Labels,
    /// Members (users and pending invites) of a group.
    #[command(
        after_help = "Examples:\n  segment-access list members Analysts\n  segment-access list members Analysts --format ndjson | jq -r 'select(.type == \"user\") | .email'"
    )]
    Members {
        /// Group id or name.
        #[arg(add = clap_complete::ArgValueCandidates::new(super::completions::group_names))]
        group: String,
    },
    /// Every grant: direct, through a group, and group memberships.
    ///
    /// Prints grant records (docs/grant-record.md), the one JSON shape scripts read and that
    /// `grant`/`revoke --from-file` will take back.
    #[command(after_help = GRANTS_HELP)]
    Grants(GrantsArgs),
    /// History: who changed access, what, and when (Segment's audit trail).
    ///
    /// Each event with its time, type, actor and the principal or resource it is about, the
    /// names resolved from the workspace where it still has them (docs/event-record.md).
    #[command(after_help = super::list_events::EVENTS_HELP)]
    Events(super::list_events::EventsArgs),
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
    #[arg(long, value_name = "USER", add = clap_complete::ArgValueCandidates::new(super::completions::user_emails))]
    pub user: Option<String>,
    /// Only grants of this group: its own, its members' through it, and its memberships.
    #[arg(long, value_name = "GROUP", add = clap_complete::ArgValueCandidates::new(super::completions::group_names))]
    pub group: Option<String>,
    /// Only grants of this role (name or id).
    #[arg(long, value_name = "ROLE", add = clap_complete::ArgValueCandidates::new(super::completions::role_names))]
    pub role: Option<String>,
    /// Only grants that reach this resource: workspace, source:<id|slug|name>, ...
    #[arg(long, value_name = "RESOURCE", add = clap_complete::ArgValueCandidates::new(super::completions::resources))]
    pub resource: Option<String>,
    /// Leave out grants inherited through groups.
    #[arg(long)]
    pub direct_only: bool,
}

/// How much a question needs: grants of one user, or the memberships of one group, are read
/// live in a few requests (`access::Source::grants`); other grants need everyone's.
fn breadth(what: &ListWhat) -> Breadth {
    match what {
        ListWhat::Grants(g)
            if g.user.is_none()
                && !(g.group.is_some() && g.role.is_none() && g.resource.is_none()) =>
        {
            Breadth::Everyone
        }
        _ => Breadth::Few,
    }
}

pub(crate) async fn run(args: ListArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    // History is read from the audit trail itself, never from a snapshot or the cache.
    let source = match (&args.what, &args.snapshot) {
        (ListWhat::Events(_), None) => crate::access::Source::live(ctx.client().await?),
        (what, snapshot) => ctx.source(snapshot.as_deref(), breadth(what)).await?,
    };
    let n = match args.what {
        ListWhat::Workspace => {
            let info = source.workspace().await?;
            ctx.print_one(&info)?;
            1
        }
        ListWhat::Users => {
            let rows = source.users().await?;
            ctx.print_list(rows)?
        }
        ListWhat::Invites => {
            let rows = source.invites().await?;
            ctx.print_list(rows)?
        }
        ListWhat::Groups => {
            let rows = source.groups().await?;
            ctx.print_list(rows)?
        }
        ListWhat::Roles => {
            let rows = source.roles().await?;
            ctx.print_list(rows)?
        }
        ListWhat::Resources => {
            let (rows, spaces_unavailable) =
                source.resources(ctx.progress("Reading resources")).await?;
            if let Some(why) = spaces_unavailable {
                ctx.note(&format!("note: spaces not listed: {why}"));
            }
            ctx.print_list(rows)?
        }
        ListWhat::Labels => {
            let rows = source.labels().await?;
            ctx.print_list(rows)?
        }
        ListWhat::Members { group } => {
            let rows = source.members(&group).await?;
            ctx.print_list(rows)?
        }
        ListWhat::Grants(g) => {
            let q = GrantQuery {
                user: g.user,
                group: g.group,
                role: g.role,
                resource: g.resource,
                direct_only: g.direct_only,
            };
            let answer = source.grants(&q, ctx.progress("Reading access")).await?;
            for note in answer.notes() {
                ctx.note(&note);
            }
            ctx.print_list(answer.iter())?
        }
        ListWhat::Events(e) => super::list_events::run(e, &source, ctx).await?,
    };
    if n == 0 && ctx.renderer.is_table() {
        ctx.note("nothing to list");
    }
    Ok(ExitCode::Ok)
}
