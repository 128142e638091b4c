//! The one write pipeline every command that changes access goes through: build the plan (the
//! command's job), then show it in words -> nothing to change? -> dry run? -> confirm -> apply
//! -> report -> journal.

use std::io::Write;

use clap::Args;

use crate::access::change::{ChangePlan, Ledger};
use crate::access::journal::{self, Change, Entry, Journal};
use crate::access::plan::{ChangeResult, Status};
use crate::segment::Client;

use super::context::Context;
use super::error::{CliError, ErrorKind, ExitCode};

#[derive(Debug, Args, Clone, Copy, Default)]
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
pub(super) fn guard(flags: WriteFlags, ctx: &Context) -> Result<(), CliError> {
    if flags.dry_run || flags.yes || ctx.prompter.available() {
        return Ok(());
    }
    Err(CliError::usage(
        "refusing to change access without confirmation: not on a terminal; pass --yes to apply or --dry-run to preview",
    ))
}

/// Shows, confirms, applies, reports and journals a plan.
pub(super) async fn run<P: ChangePlan>(
    ctx: &mut Context,
    client: &Client,
    mut plan: P,
    flags: WriteFlags,
) -> Result<ExitCode, CliError> {
    show(ctx, plan.heading(), &plan.describe());
    let batch = plan.batch();
    if plan.pending() == 0 {
        ctx.note("nothing to change");
        return report(ctx, &plan.preview(), batch);
    }
    if flags.dry_run {
        return report(ctx, &plan.preview(), batch);
    }
    confirm(ctx, flags, &plan.question())?;
    let mut ledger = Collect::default();
    let results = plan.apply(client, &mut ledger).await;
    let undoes = plan.undoes(&results);
    if let Some(note) = plan.afterword(&results) {
        ctx.note(&note);
    }
    finish(
        ctx,
        plan.command(),
        &plan.workspace_id(),
        undoes,
        ledger.0,
        &results,
        batch,
    )
}

/// Applied changes, kept until the journal is written.
#[derive(Default)]
struct Collect(Vec<Change>);

impl Ledger for Collect {
    fn landed(&mut self, change: Change) -> Result<(), String> {
        self.0.push(change);
        Ok(())
    }
}

/// The plan, for people, on stderr.
fn show(ctx: &mut Context, heading: &str, lines: &[String]) {
    if lines.is_empty() || ctx.global.quiet {
        return;
    }
    let _ = writeln!(ctx.io.err, "{heading}");
    for l in lines {
        let _ = writeln!(ctx.io.err, "  {l}");
    }
}

/// Asks unless --yes. Declining and Esc change nothing (exit 1); Ctrl-C changes nothing and
/// exits 130. `guard` has already refused the cases that cannot ask.
pub(super) fn confirm(
    ctx: &mut Context,
    flags: WriteFlags,
    question: &str,
) -> Result<(), CliError> {
    if flags.yes {
        return Ok(());
    }
    match ctx.prompter.confirm(question) {
        Ok(Some(true)) => Ok(()),
        Ok(_) => Err(CliError::failure("cancelled; nothing was changed")),
        Err(e) if e.kind == ErrorKind::Interrupted => {
            Err(CliError::interrupted("interrupted; nothing was changed"))
        }
        Err(e) => Err(e),
    }
}

/// Appends what was applied to the journal and says how to undo it.
fn journal(
    ctx: &mut Context,
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
    let j = Journal::open(ctx.state_dir.as_deref())?;
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
fn finish(
    ctx: &mut Context,
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
pub(super) fn report(
    ctx: &mut Context,
    results: &[ChangeResult],
    batch: bool,
) -> Result<ExitCode, CliError> {
    ctx.print_list(results)?;
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
