//! `segment-access undo`: restore what a journaled change replaced.

use clap::Args;

use crate::access::directory::ResourceNames;
use crate::access::journal::{self, Journal};
use crate::access::undo::UndoPlan;
use crate::access::{Directory, Need};

use super::write::{self, WriteFlags};
use super::{CliError, Context, ExitCode};

const HELP: &str = "\
Each applied grant, revoke, invite, revoke-invite and remove-user is journaled with exactly what
it replaced. undo puts it back: N entries back (default 1, the latest not yet undone), or the
entry --id names. A principal whose access changed since the entry is left alone unless --force.
The journal is journal.ndjson in the platform state directory, or in $SEGMENT_ACCESS_STATE_DIR.

Examples:
  segment-access undo --dry-run
  segment-access undo 2 --yes
  segment-access undo --id 18f3a2b4c5d-1a2b";

#[derive(Debug, Args)]
#[command(after_help = HELP)]
pub struct UndoArgs {
    /// How many entries back (1 = the latest not yet undone).
    #[arg(default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "id")]
    pub n: u32,
    /// The journal entry to undo.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Restore even when the principal changed since the entry.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub flags: WriteFlags,
}

pub(crate) async fn run(args: UndoArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    if ctx.global.demo {
        return Err(CliError::usage(
            "--demo starts a fresh sample workspace every run and journals nothing, so there is nothing to undo",
        ));
    }
    write::guard(args.flags, ctx)?;
    let j = Journal::open(ctx.state_dir.as_deref())?;
    let contents = j.read()?;
    if let Some(w) = &contents.torn {
        ctx.note(w);
    }
    let open = journal::undoable(&contents.entries);
    let entry = match &args.id {
        Some(id) => open.iter().find(|e| &e.id == id).copied().ok_or_else(|| {
            CliError::failure(format!(
                "no journal entry {id:?} left to undo in {}",
                j.path().display()
            ))
        })?,
        None => open.get(args.n as usize - 1).copied().ok_or_else(|| {
            CliError::failure(format!(
                "only {} journal entries left to undo in {}",
                open.len(),
                j.path().display()
            ))
        })?,
    };
    let client = ctx.client().await?;
    let need = Need {
        workspace: true,
        resources: true,
        ..Need::default()
    };
    let dir = Directory::load(&client, need, ctx.progress("Reading workspace")).await?;
    let workspace_id = dir.workspace.as_ref().map(|w| w.id.as_str()).unwrap_or("");
    if workspace_id != entry.workspace_id {
        return Err(CliError::failure(format!(
            "entry {} changed workspace {}, but this token belongs to {workspace_id}; nothing was changed",
            entry.id, entry.workspace_id
        )));
    }
    let plan = UndoPlan {
        entry: entry.clone(),
        force: args.force,
        names: ResourceNames::of(&dir),
    };
    write::run(ctx, &client, plan, args.flags).await
}
