//! The one write pipeline every command that changes access goes through: build the plan (the
//! command's job), then show it in words -> nothing to change? -> dry run? -> confirm -> apply
//! -> report -> journal.

use std::io::Write;

use clap::Args;

use crate::access::change::{ChangePlan, Ledger};
use crate::access::journal::{self, Change, Journal};
use crate::access::plan::{ChangeResult, Status};
use crate::segment::Client;

use super::context::Context;
use super::error::{CliError, ErrorKind, ExitCode};
use super::signals;

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
        return report(ctx, &plan.preview(), Stage::Planned, batch);
    }
    if flags.dry_run {
        let code = report(ctx, &plan.preview(), Stage::Planned, batch);
        if plan.invalid() > 0 {
            return Err(CliError::usage(format!(
                "{} record(s) contradict the workspace (see the report); fix them before applying",
                plan.invalid()
            )));
        }
        return code;
    }
    confirm(ctx, flags, &plan.question())?;
    let mut ledger = JournalLedger::open(ctx, plan.command(), &plan.workspace_id())?;
    let _lock = workspace_lock(ctx, &plan.workspace_id()).await?;
    let results = {
        let _applying = signals::applying();
        plan.apply(client, &mut ledger).await
    };
    if let (Some(undone), Some(w)) = (plan.undoes(&results), ledger.writer.as_mut())
        && let Err(e) = w.close(&undone)
    {
        ledger.failed.get_or_insert(e.to_string());
    }
    if let Some(note) = plan.afterword(&results) {
        ctx.note(&note);
    }
    // The report first, so a journal problem can never hide what was applied.
    let outcome = report(ctx, &results, Stage::Applied, batch);
    let journaled = ledger.finish(ctx);
    if let Some(signal) = signals::requested() {
        let applied = results
            .iter()
            .filter(|r| r.status == Status::Applied)
            .count();
        let kind = if signal == signals::SIGTERM {
            ErrorKind::Terminated
        } else {
            ErrorKind::Interrupted
        };
        return Err(CliError::new(
            kind,
            format!(
                "stopped by a signal after {applied} change(s); the rest were not attempted{}",
                ledger.undo_hint()
            ),
        ));
    }
    journaled.and(outcome)
}

/// Serialises the changes of processes on this machine to one workspace: a second command
/// waits (and says so) until the first is done, then plans its writes on fresh reads, so the two
/// cannot overwrite each other. Processes elsewhere are noticed afterwards (the audit trail and
/// the read-back), not prevented: Segment has no conditional write.
async fn workspace_lock(
    ctx: &mut Context,
    workspace_id: &str,
) -> Result<Option<crate::files::Lock>, CliError> {
    let Some(dir) = ctx.state_dir.clone().filter(|_| !ctx.global.demo) else {
        return Ok(None);
    };
    let name: String = workspace_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    let path = dir.join("locks").join(format!("{name}.lock"));
    let failed = |e: std::io::Error| {
        CliError::failure(format!(
            "cannot take the workspace lock {}: {e}; nothing was changed",
            path.display()
        ))
    };
    if let Some(lock) = crate::files::try_lock(&path).map_err(failed)? {
        return Ok(Some(lock));
    }
    ctx.note(&format!(
        "waiting for another segment-access process that is changing this workspace (lock {})",
        path.display()
    ));
    let waiting = path.clone();
    tokio::task::spawn_blocking(move || crate::files::lock(&waiting))
        .await
        .map_err(|e| CliError::failure(format!("cannot wait for the workspace lock: {e}")))?
        .map(Some)
        .map_err(failed)
}

/// The journal of one command: every change is written (and synced) as it lands, before the
/// next write is sent. Under --demo nothing is journaled: the sample workspace is gone when the
/// command ends, and a real `undo` must never find its entries.
struct JournalLedger {
    writer: Option<journal::Writer>,
    /// Changes that landed (also under --demo, where nothing is written).
    landed: usize,
    /// Why recording failed, once it did: the plan stops at its next write.
    failed: Option<String>,
}

impl JournalLedger {
    /// Opens the journal before anything is written: a journal that cannot be written refuses
    /// the change instead of applying it unrecorded.
    fn open(ctx: &mut Context, command: &str, workspace_id: &str) -> Result<Self, CliError> {
        if ctx.global.demo {
            return Ok(JournalLedger {
                writer: None,
                landed: 0,
                failed: None,
            });
        }
        let opened =
            Journal::open(ctx.state_dir.as_deref()).and_then(|j| j.writer(command, workspace_id));
        let (writer, warning) = opened.map_err(|e| {
            CliError::failure(format!("cannot journal changes, so none were made: {e}"))
        })?;
        if let Some(w) = warning {
            ctx.note(&w);
        }
        Ok(JournalLedger {
            writer: Some(writer),
            landed: 0,
            failed: None,
        })
    }

    fn undo_hint(&self) -> String {
        match &self.writer {
            Some(w) if w.written() > 0 => format!(
                "; what landed is journaled (undo with: segment-access undo --id {})",
                w.id()
            ),
            _ => String::new(),
        }
    }

    /// Says where the changes were journaled, or that some were not.
    fn finish(&self, ctx: &mut Context) -> Result<(), CliError> {
        let Some(w) = &self.writer else {
            if self.landed > 0 {
                ctx.note("demo workspace: changes are not journaled");
            }
            return Ok(());
        };
        if let Some(why) = &self.failed {
            return Err(CliError::failure(format!(
                "the journal could not record a change that was applied ({why}); later changes were not attempted: check with `segment-access list grants`{}",
                self.undo_hint()
            )));
        }
        if w.written() > 0 {
            ctx.note(&format!(
                "journal entry {} (undo with: segment-access undo --id {})",
                w.id(),
                w.id()
            ));
        }
        Ok(())
    }
}

impl Ledger for JournalLedger {
    fn landed(&mut self, change: Change) -> Result<(), String> {
        self.landed += 1;
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        w.record(&change).map_err(|e| {
            let m = e.to_string();
            self.failed.get_or_insert(m.clone());
            m
        })
    }

    fn stop_requested(&self) -> bool {
        signals::requested().is_some()
    }

    fn entry_id(&self) -> Option<String> {
        self.writer.as_ref().map(|w| w.id().to_string())
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

/// Whether a report is of a plan (nothing written yet) or of what was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Planned,
    Applied,
}

/// Renders the per-change report; the exit code says whether everything went through. Each
/// failure is told once: when every change of one command line was refused before anything
/// was written, a table would only repeat the error, so people get the error alone (scripts
/// asking for JSON, NDJSON or CSV still get their records); when some went through, the table
/// tells which failed and why. What was applied is always reported.
pub(super) fn report(
    ctx: &mut Context,
    results: &[ChangeResult],
    stage: Stage,
    batch: bool,
) -> Result<ExitCode, CliError> {
    let failed = results
        .iter()
        .filter(|r| r.status == Status::Failed)
        .count();
    let for_people = ctx.renderer.is_table() && !batch;
    let all_refused = stage == Stage::Planned && failed > 0 && failed == results.len();
    if !(for_people && all_refused) {
        ctx.print_list(results)?;
    }
    if failed == 0 {
        return Ok(ExitCode::Ok);
    }
    if for_people && stage == Stage::Planned && failed < results.len() {
        return Err(CliError::failure(format!(
            "{failed} of {} changes failed; the report above says why",
            results.len()
        )));
    }
    // A batch where some records went through is a partial failure (3); one where none did
    // is a failure (1), as a single change would be.
    let succeeded = results
        .iter()
        .any(|r| matches!(r.status, Status::Applied | Status::Noop | Status::Planned));
    if batch && succeeded {
        ctx.note(&format!(
            "{failed} of {} records failed; the others are reported as they stand",
            results.len()
        ));
        return Ok(ExitCode::Partial);
    }
    if batch {
        return Err(CliError::failure(format!(
            "all {} records failed (the report says why, line by line)",
            results.len()
        )));
    }
    let first = results
        .iter()
        .find(|r| r.status == Status::Failed)
        .map(|r| r.message.clone())
        .unwrap_or_default();
    Err(CliError::failure(first))
}
