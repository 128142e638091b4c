//! `segment-access revoke-invite`: withdraw pending invites.

use clap::Args;

use crate::access::accounts;
use crate::access::plan::Status;
use crate::access::{Directory, Need};

use super::confirm::{self, WriteFlags};
use super::{CliError, Context, ExitCode};

const HELP: &str = "\
A withdrawn invite also leaves the groups it was added to. Emails with no pending invite are
reported as noop. `segment-access undo` invites them again and puts them back in their groups
(Segment's API does not show the roles an invite carried, so those are not restored).

Examples:
  segment-access revoke-invite dana@example.com
  segment-access list invites --jq '.[].email | select(endswith(\"@agency.example\"))' \\
    | xargs segment-access revoke-invite --yes";

#[derive(Debug, Args)]
#[command(after_help = HELP)]
pub struct RevokeInviteArgs {
    /// Emails whose pending invites to withdraw.
    #[arg(required = true, value_name = "EMAIL")]
    pub emails: Vec<String>,
    #[command(flatten)]
    pub flags: WriteFlags,
}

pub async fn run(args: RevokeInviteArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    confirm::guard(args.flags, ctx)?;
    let client = ctx.client().await?;
    let need = Need {
        workspace: true,
        invites: true,
        groups: true,
        group_members: true,
        ..Need::default()
    };
    let dir = Directory::load(&client, need, ctx.progress("Reading invites")).await?;
    let plans = accounts::plan_revoke_invites(&dir, &args.emails);
    let lines: Vec<String> = plans
        .iter()
        .map(|(p, _)| match p.status {
            Status::Planned => format!("- {}: {}", p.key, p.message),
            _ => format!("  {}: {}", p.key, p.message),
        })
        .collect();
    confirm::show(ctx, "plan:", &lines);
    let pending = plans
        .iter()
        .filter(|(p, _)| p.status == Status::Planned)
        .count();
    if args.flags.dry_run || pending == 0 {
        if pending == 0 {
            ctx.note("nothing to change");
        }
        let preview: Vec<_> = plans
            .iter()
            .map(|(p, _)| accounts::result(&p.key, "revoke-invite", p.status, &p.message))
            .collect();
        return confirm::report(ctx, &preview, false);
    }
    confirm::confirm(args.flags, ctx, &format!("Withdraw {pending} invites?"))?;
    let (results, changes) = accounts::apply_revoke_invites(&client, &plans).await;
    let ws = dir.workspace.as_ref().map(|w| w.id.as_str()).unwrap_or("");
    confirm::finish(ctx, "revoke-invite", ws, None, changes, &results, false)
}
