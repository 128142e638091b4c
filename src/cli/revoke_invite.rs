//! `segment-access revoke-invite`: withdraw pending invites.

use clap::Args;

use crate::access::accounts::RevokeInvitePlan;
use crate::access::{Directory, Need};

use super::write::{self, WriteFlags};
use super::{CliError, Context, ExitCode};

const HELP: &str = "\
A withdrawn invite also leaves the groups it was added to. An email that is neither a pending
invite nor a user is an error (with the nearest pending invites), before anything is withdrawn;
the email of a user (an invite accepted since) is reported as noop. `segment-access undo` invites them again and puts them back in their groups
(Segment's API does not show the roles an invite carried, so those are not restored).

Examples:
  segment-access revoke-invite dana@example.com
  segment-access list invites --jq '.[].email | select(endswith(\"@agency.example\"))' \\
    | xargs segment-access revoke-invite --yes";

#[derive(Debug, Args)]
#[command(after_help = HELP)]
pub struct RevokeInviteArgs {
    /// Emails whose pending invites to withdraw.
    #[arg(required = true, value_name = "EMAIL", add = clap_complete::ArgValueCandidates::new(super::completions::invite_emails))]
    pub emails: Vec<String>,
    #[command(flatten)]
    pub flags: WriteFlags,
}

pub(crate) async fn run(args: RevokeInviteArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    write::guard(args.flags, ctx)?;
    let client = ctx.client().await?;
    let need = Need {
        workspace: true,
        users: true,
        invites: true,
        groups: true,
        group_members: true,
        ..Need::default()
    };
    let dir = Directory::load(&client, need, ctx.progress("Reading invites")).await?;
    let plan = RevokeInvitePlan::new(&dir, &args.emails)?;
    write::run(ctx, &client, plan, args.flags).await
}
