//! `segment-access remove-user`: remove people from the workspace, after showing what they lose.

use clap::Args;

use crate::access::plan::Status;
use crate::access::{Directory, Need, accounts, resolve};

use super::confirm::{self, WriteFlags};
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
    #[arg(required = true, value_name = "USER")]
    pub users: Vec<String>,
    #[command(flatten)]
    pub flags: WriteFlags,
}

pub async fn run(args: RemoveUserArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    confirm::guard(args.flags, ctx)?;
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
    let mut targets = Vec::new();
    for u in &args.users {
        let user = resolve::user(&dir.users, u)?.clone();
        if targets
            .iter()
            .any(|(t, _): &(crate::segment::models::User, Directory)| t.id == user.id)
        {
            continue;
        }
        let (theirs, losses) = accounts::user_losses(&client, &dir, &user).await?;
        let mut lines = vec![format!("- remove {} ({}), who loses:", user.email, user.id)];
        if losses.is_empty() {
            lines.push("    nothing but their membership of the workspace".to_string());
        }
        for g in &losses {
            let role = g.role.as_ref().map_or("member of", |r| r.name.as_str());
            let labels = if g.labels.is_empty() {
                String::new()
            } else {
                format!(" [{}]", g.labels_display())
            };
            let via = g
                .via
                .as_ref()
                .map(|v| format!(" (through group:{})", v.name))
                .unwrap_or_default();
            lines.push(format!("    {role} {}{labels}{via}", g.resource.display()));
        }
        confirm::show(ctx, "plan:", &lines);
        targets.push((user, theirs));
    }
    if args.flags.dry_run {
        let preview: Vec<_> = targets
            .iter()
            .map(|(u, _)| {
                accounts::result(&u.email, "remove-user", Status::Planned, "will be removed")
            })
            .collect();
        return confirm::report(ctx, &preview, false);
    }
    confirm::confirm(
        args.flags,
        ctx,
        &format!("Remove {} users from the workspace?", targets.len()),
    )?;
    let (results, changes) = accounts::apply_remove_users(&client, &targets).await;
    let ws = dir.workspace.as_ref().map(|w| w.id.as_str()).unwrap_or("");
    confirm::finish(ctx, "remove-user", ws, None, changes, &results, false)
}
