//! `segment-access undo`: restore what a journaled change replaced.

use clap::Args;

use crate::access::journal::{self, Journal};
use crate::access::undo;

use crate::access::plan::Status;

use super::confirm::{self, WriteFlags};
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

pub async fn run(args: UndoArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    if ctx.global.demo {
        return Err(CliError::usage(
            "--demo starts a fresh sample workspace every run and journals nothing, so there is nothing to undo",
        ));
    }
    confirm::guard(args.flags, ctx)?;
    let j = Journal::open_default().map_err(|e| CliError::failure(e.to_string()))?;
    let entries = j.entries().map_err(|e| CliError::failure(e.to_string()))?;
    let open = journal::undoable(&entries);
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
    let workspace = client.workspace().await?;
    if workspace.id != entry.workspace_id {
        return Err(CliError::failure(format!(
            "entry {} changed workspace {}, but this token belongs to {}; nothing was changed",
            entry.id, entry.workspace_id, workspace.id
        )));
    }
    let lines: Vec<String> = entry
        .changes
        .iter()
        .map(|c| serde_json::to_string(c).unwrap_or_default())
        .collect();
    confirm::show(
        ctx,
        &format!(
            "undo {} ({} at {}), changes:",
            entry.id, entry.command, entry.time
        ),
        &lines,
    );
    if args.flags.dry_run {
        return Ok(ExitCode::Ok);
    }
    confirm::confirm(
        args.flags,
        ctx,
        &format!("Undo {} change(s)?", entry.changes.len()),
    )?;
    let mut results = Vec::new();
    let mut changes = Vec::new();
    // Newest first, so changes that built on each other unwind in order.
    for c in entry.changes.iter().rev() {
        let (r, done) = undo::undo(&client, c, args.force).await;
        results.push(r);
        changes.extend(done);
    }
    // Only a complete undo closes its entry; otherwise it stays open for another try (what
    // this run did restore is journaled on its own, so it can be undone too).
    let complete = results
        .iter()
        .all(|r| matches!(r.status, Status::Applied | Status::Noop));
    if !complete {
        ctx.note(&format!(
            "entry {id} stays open: some changes were not undone; retry with `segment-access undo --id {id}` (--force to override changes made since)",
            id = entry.id
        ));
    }
    confirm::finish(
        ctx,
        "undo",
        &workspace.id,
        complete.then(|| entry.id.clone()),
        changes,
        &results,
        false,
    )
}
