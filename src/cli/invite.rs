//! `segment-access invite`: invite people by email, optionally with a role.

use clap::Args;

use crate::access::accounts::{self, InvitePlan};
use crate::access::plan::Binding;
use crate::access::{Directory, Need, copy, resolve, wants};

use super::roles_arg::RoleArgs;
use super::write::{self, WriteFlags};
use super::{CliError, Context, ExitCode};

const HELP: &str = "\
An invited person gets the roles when they accept. People already in the workspace, and emails
already invited, are reported as noop. Applied invites are journaled; `segment-access undo`
withdraws them.

Several roles: each --on and --label belongs to the --role before it. --like copies what a
principal holds directly (roles with resources and labels) and its groups, which the invited
people join as pending members.

Examples:
  segment-access invite dana@example.com --role 'Source Read-only' --on source:web-prod
  segment-access invite dana@example.com --role 'Source Admin' --on source:web --role 'Warehouse Read-only'
  segment-access invite new.hire@example.com --like alan@example.com --dry-run
  segment-access invite a@example.com b@example.com --role 'Minimal Workspace Access' --yes
  segment-access invite dana@example.com --role 'Source Admin' --label environment=prod --dry-run";

#[derive(Debug, Args)]
#[command(after_help = HELP)]
pub struct InviteArgs {
    /// Email addresses to invite.
    #[arg(required = true, value_name = "EMAIL")]
    pub emails: Vec<String>,
    #[command(flatten)]
    pub(crate) roles: RoleArgs,
    /// Invite with the direct roles and the groups of this principal (as --to takes it).
    #[arg(long, value_name = "PRINCIPAL")]
    pub like: Option<String>,
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
    let roles = !args.roles.roles.is_empty() || args.like.is_some();
    let need = Need {
        workspace: true,
        users: true,
        invites: true,
        groups: args.like.is_some(),
        group_members: args
            .like
            .as_deref()
            .is_some_and(|l| l.starts_with("invite:")),
        roles,
        resources: roles,
        labels: args.roles.roles.iter().any(|r| !r.labels.is_empty()),
        ..Need::default()
    };
    let dir = Directory::load(&client, need, ctx.progress("Reading workspace")).await?;
    let mut bindings: Vec<Binding> = Vec::new();
    let mut groups = Vec::new();
    if let Some(like) = &args.like {
        let source = wants::principal(&dir, like)?;
        let copied = copy::access_of(&client, &dir, &source).await?;
        for n in &copied.notes {
            ctx.note(&format!("note: {n}"));
        }
        bindings.extend(copied.bindings);
        groups = copied.groups;
    }
    for spec in &args.roles.roles {
        let role = resolve::role(&dir.roles, &spec.role)?;
        let labels = spec
            .labels
            .iter()
            .map(|l| wants::parse_label(l))
            .collect::<Result<Vec<_>, _>>()
            .map_err(CliError::usage)?;
        wants::unknown_labels(&dir, &labels).map_err(CliError::failure)?;
        // As for grant: a role that can bind to single resources needs to be told where.
        let on = if !spec.on.is_empty() {
            spec.on.clone()
        } else if spec.labels.is_empty() {
            super::grant::where_to_bind(ctx, &dir, Some(&spec.role))?
        } else {
            vec!["workspace".to_string()]
        };
        for r in &on {
            let b = wants::binding(&dir, role, r, &labels)?;
            if !bindings.iter().any(|x| x.same(&b)) {
                bindings.push(b);
            }
        }
    }
    let plan = InvitePlan::new(&dir, &emails, bindings, groups);
    write::run(ctx, &client, plan, args.flags).await
}
