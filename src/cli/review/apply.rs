//! `segment-access review apply`: the campaign's revoke decisions, carried out through the one
//! write pipeline.

use clap::Args;

use crate::access::review::{Decision, carry};
use crate::access::{Directory, Need};

use super::super::write::{self, WriteFlags};
use super::{CampaignArg, CliError, Context, ExitCode, open, shown};

pub(super) const HELP: &str = "\
Every revoke decision becomes a change, planned on a fresh read of the workspace and shown
before anything is written: a direct grant is removed exactly (other resources, labels and roles
stay); a grant held through a group cannot be removed from the person alone, so the plan removes
the membership, once however many items it carries, and says what else the person loses with it.
Then --dry-run, confirmation (or --yes), the journal and the workspace lock, as for `revoke`.
Each change is recorded in the campaign with the journal entry that carried it as it lands, so a
second run applies nothing twice and says so.

Examples:
  segment-access review apply q1.review.db --dry-run
  segment-access review apply q1.review.db
  segment-access review apply q1.review.db --yes";

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub campaign: CampaignArg,
    #[command(flatten)]
    pub write: WriteFlags,
}

pub(super) async fn run(args: ApplyArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    write::guard(args.write, ctx)?;
    let (campaign, _) = open(&args.campaign)?;
    campaign.refuse_if_closed()?;
    let revokes = campaign
        .decisions()?
        .values()
        .filter(|d| d.decision == Decision::Revoke)
        .count();
    if revokes == 0 {
        ctx.note(&format!(
            "campaign {} has no revoke decision; nothing to apply",
            campaign.info.id
        ));
        return Ok(ExitCode::Ok);
    }
    let client = ctx.client().await?;
    let need = Need {
        workspace: true,
        users: true,
        invites: true,
        groups: true,
        roles: true,
        resources: true,
        ..Need::default()
    };
    let dir = Directory::load(&client, need, ctx.progress("Reading the workspace")).await?;
    let live = dir.workspace.as_ref().map(|w| w.id.as_str()).unwrap_or("");
    if live != campaign.info.workspace_id {
        return Err(CliError::usage(format!(
            "campaign {} ({}) reviews workspace {} ({}), but the token's workspace is {live}; use that workspace's token (--profile)",
            campaign.info.id,
            shown(campaign.path()),
            campaign.info.workspace(),
            campaign.info.workspace_id,
        )));
    }
    let plan = carry::plan(&client, campaign, &dir).await?;
    write::run(ctx, &client, plan, args.write).await
}
