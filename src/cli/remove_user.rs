//! `segment-access remove-user`: remove people from the workspace, after showing what they lose.

use clap::Args;

use crate::access::accounts::RemoveUserPlan;
use crate::access::{Directory, Need, resolve};

use super::write::{self, WriteFlags};
use super::{CliError, Context, ExitCode};

const HELP: &str = "\
Shows every grant each user loses (direct, through groups, and group memberships) before it
asks. Segment's API cannot bring a removed user back: the journal keeps what they held so they
can be invited again with the same access, but `undo` cannot restore them.

Examples:
  segment-access remove-user dana@example.com --dry-run
  segment-access remove-user dana@example.com
  segment-access remove-user a@example.com b@example.com --yes --format json";

#[derive(Debug, Args)]
#[command(after_help = HELP)]
pub struct RemoveUserArgs {
    /// Users to remove: email, user id or name.
    #[arg(required = true, value_name = "USER", add = clap_complete::ArgValueCandidates::new(super::completions::user_emails))]
    pub users: Vec<String>,
    #[command(flatten)]
    pub flags: WriteFlags,
}

pub(crate) async fn run(args: RemoveUserArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    write::guard(args.flags, ctx)?;
    for u in &args.users {
        if let Some(email) = u.strip_prefix("invite:") {
            return Err(CliError::usage(format!(
                "{u} is a pending invite, not a user; withdraw it with: segment-access revoke-invite {email}"
            )));
        }
        if u.starts_with("group:") {
            return Err(CliError::usage(format!(
                "{u} is a group; remove-user takes users (email, id or name)"
            )));
        }
    }
    let client = ctx.client().await?;
    let need = Need {
        workspace: true,
        users: true,
        groups: true,
        resources: true,
        ..Need::default()
    };
    let dir = Directory::load(&client, need, ctx.progress("Reading workspace")).await?;
    let users = args
        .users
        .iter()
        .map(|u| resolve::user(&dir.users, u))
        .collect::<Result<Vec<_>, _>>()?;
    let plan = RemoveUserPlan::new(&client, &dir, &users).await?;
    write::run(ctx, &client, plan, args.flags).await
}
