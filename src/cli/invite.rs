//! `segment-access invite`: invite people by email, optionally with a role.

use clap::Args;

use crate::access::accounts::{self, InvitePlan};
use crate::access::{Directory, Need, resolve, wants};

use super::write::{self, WriteFlags};
use super::{CliError, Context, ExitCode};

const HELP: &str = "\
An invited person gets the role when they accept. People already in the workspace, and emails
already invited, are reported as noop. Applied invites are journaled; `segment-access undo`
withdraws them.

Examples:
  segment-access invite dana@example.com --role 'Source Read-only' --on source:web-prod
  segment-access invite a@example.com b@example.com --role 'Minimal Workspace Access' --yes
  segment-access invite dana@example.com --role 'Source Admin' --label environment=prod --dry-run";

#[derive(Debug, Args)]
#[command(after_help = HELP)]
pub struct InviteArgs {
    /// Email addresses to invite.
    #[arg(required = true, value_name = "EMAIL")]
    pub emails: Vec<String>,
    /// Role the invited people get (name or id).
    #[arg(long, value_name = "ROLE", add = clap_complete::ArgValueCandidates::new(super::completions::role_names))]
    pub role: Option<String>,
    /// Resource the role is bound on (repeatable; default: workspace).
    #[arg(long, value_name = "RESOURCE", requires = "role", add = clap_complete::ArgValueCandidates::new(super::completions::resources))]
    pub on: Vec<String>,
    /// Narrow a workspace-level binding by label, key=value (repeatable).
    #[arg(long, value_name = "KEY=VALUE", requires = "role", add = clap_complete::ArgValueCandidates::new(super::completions::labels))]
    pub label: Vec<String>,
    #[command(flatten)]
    pub flags: WriteFlags,
}

pub(crate) async fn run(args: InviteArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    write::guard(args.flags, ctx)?;
    let emails: Vec<String> = args
        .emails
        .iter()
        .map(|e| accounts::check_email(e))
        .collect::<Result<_, _>>()
        .map_err(|e| CliError::usage(format!("{e}; nothing was changed")))?;
    let client = ctx.client().await?;
    let need = Need {
        workspace: true,
        users: true,
        invites: true,
        roles: args.role.is_some(),
        resources: args.role.is_some(),
        labels: !args.label.is_empty(),
        ..Need::default()
    };
    let dir = Directory::load(&client, need, ctx.progress("Reading workspace")).await?;
    let mut bindings = Vec::new();
    if let Some(role) = &args.role {
        let role = resolve::role(&dir.roles, role)?;
        let labels = args
            .label
            .iter()
            .map(|l| wants::parse_label(l))
            .collect::<Result<Vec<_>, _>>()
            .map_err(CliError::usage)?;
        wants::unknown_labels(&dir, &labels).map_err(CliError::failure)?;
        let on = if args.on.is_empty() {
            vec!["workspace".to_string()]
        } else {
            args.on.clone()
        };
        for r in &on {
            bindings.push(wants::binding(&dir, role, r, &labels)?);
        }
    }
    let plan = InvitePlan::new(&dir, &emails, bindings);
    write::run(ctx, &client, plan, args.flags).await
}
