//! What every write command shares: refusing to run unconfirmed without a terminal, showing
//! the plan, asking, journaling what was applied, and reporting per change.

use std::io::{IsTerminal, Write};

use clap::Args;

use crate::access::journal::{self, Change, Entry, Journal};
use crate::access::plan::{ChangeResult, Status};

use super::{CliError, Context, ExitCode};

#[derive(Debug, Args, Clone, Copy)]
pub struct WriteFlags {
    /// Show the plan (before/after per principal) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply without asking (needed when not on a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Fails early, before anything is read, when a change could neither be confirmed nor was
/// pre-approved.
pub fn guard(flags: WriteFlags, ctx: &Context) -> Result<(), CliError> {
    if flags.dry_run || flags.yes || can_prompt(ctx) {
        return Ok(());
    }
    Err(CliError::usage(
        "refusing to change access without confirmation: not on a terminal; pass --yes to apply or --dry-run to preview",
    ))
}

fn can_prompt(ctx: &Context) -> bool {
    ctx.stderr_tty && std::io::stdin().is_terminal()
}

/// The plan, for people, on stderr.
pub fn show(ctx: &Context, heading: &str, lines: &[String]) {
    if lines.is_empty() || ctx.global.quiet {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{heading}");
    for l in lines {
        let _ = writeln!(err, "  {l}");
    }
}

/// Asks on the terminal unless --yes. `guard` has already refused the cases that cannot ask.
pub fn confirm(flags: WriteFlags, ctx: &Context, question: &str) -> Result<(), CliError> {
    if flags.yes {
        return Ok(());
    }
    let yes = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .map_err(|e| CliError::failure(format!("cannot ask for confirmation: {e}")))?;
    if yes {
        Ok(())
    } else {
        let _ = ctx;
        Err(CliError::failure("cancelled; nothing was changed"))
    }
}

/// Appends what was applied to the journal and says how to undo it.
fn journal(
    ctx: &Context,
    command: &str,
    workspace_id: &str,
    undoes: Option<String>,
    changes: Vec<Change>,
) -> Result<(), CliError> {
    if changes.is_empty() {
        return Ok(());
    }
    let entry = Entry {
        id: journal::new_id(),
        time: journal::now(),
        command: command.to_string(),
        workspace_id: workspace_id.to_string(),
        undoes,
        changes,
    };
    let j = Journal::open_default().map_err(|e| CliError::failure(e.to_string()))?;
    j.append(&entry).map_err(|e| {
        CliError::failure(format!(
            "the change was applied but could not be journaled (undo will not know it): {e}"
        ))
    })?;
    ctx.note(&format!(
        "journal entry {} (undo with: segment-access undo --id {})",
        entry.id, entry.id
    ));
    Ok(())
}

/// Ends a write command: the per-change report first (so a journal problem can never hide
/// what was applied), then the journal entry. Under --demo nothing is journaled: the sample
/// workspace is gone when the command ends, and a real `undo` must never find its entries.
pub fn finish(
    ctx: &Context,
    command: &str,
    workspace_id: &str,
    undoes: Option<String>,
    changes: Vec<Change>,
    results: &[ChangeResult],
    batch: bool,
) -> Result<ExitCode, CliError> {
    let outcome = report(ctx, results, batch);
    let journaled = if ctx.global.demo {
        if !changes.is_empty() {
            ctx.note("demo workspace: changes are not journaled");
        }
        Ok(())
    } else {
        journal(ctx, command, workspace_id, undoes, changes)
    };
    journaled.and(outcome)
}

/// Renders the per-change report; the exit code says whether everything went through.
pub fn report(ctx: &Context, results: &[ChangeResult], batch: bool) -> Result<ExitCode, CliError> {
    let mut out = std::io::stdout().lock();
    ctx.renderer.list(&mut out, results)?;
    out.flush()
        .map_err(|e| CliError::from(crate::output::OutputError::Io(e)))?;
    let failed = results
        .iter()
        .filter(|r| r.status == Status::Failed)
        .count();
    if failed == 0 {
        return Ok(ExitCode::Ok);
    }
    if batch {
        ctx.note(&format!(
            "{failed} of {} records failed; the others are reported as they stand",
            results.len()
        ));
        return Ok(ExitCode::Partial);
    }
    let first = results
        .iter()
        .find(|r| r.status == Status::Failed)
        .map(|r| r.message.clone())
        .unwrap_or_default();
    Err(CliError::failure(first))
}
