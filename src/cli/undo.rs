//! `segment-access undo`: restore what a journaled change replaced.

use clap::Args;
use serde::Serialize;

use crate::access::directory::ResourceNames;
use crate::access::journal::{self, Journal};
use crate::access::undo::UndoPlan;
use crate::access::{Directory, Need};

use super::write::{self, WriteFlags};
use super::{CliError, Context, ExitCode};
use crate::output::Tabular;

const HELP: &str = "\
Each applied grant, revoke, invite, revoke-invite and remove-user is journaled with exactly what
it replaced. undo puts it back: N entries back (default 1, the latest not yet undone), or the
entry with that ID (as `undo --list` shows it). A principal whose access changed since the entry
is left alone unless --force. The journal is journal.ndjson in the platform state directory, or
in $SEGMENT_ACCESS_STATE_DIR.

Examples:
  segment-access undo --list
  segment-access undo --dry-run
  segment-access undo 2 --yes
  segment-access undo 18f3a2b4c5d-1a2b";

#[derive(Debug, Args)]
#[command(after_help = HELP)]
pub struct UndoArgs {
    /// How many entries back (1 = the latest not yet undone), or an entry id from --list.
    #[arg(value_name = "N|ID", conflicts_with = "id")]
    pub target: Option<String>,
    /// The journal entry to undo (the same as giving its id as N|ID).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// List the journal, newest first: what each entry changed, when, who ran it, and whether
    /// it is still open to undo.
    #[arg(long, conflicts_with_all = ["target", "id", "force"])]
    pub list: bool,
    /// Restore even when the principal changed since the entry.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub flags: WriteFlags,
}

/// Which entry to undo.
enum Target {
    Back(usize),
    Id(String),
}

fn target(args: &UndoArgs) -> Result<Target, CliError> {
    if let Some(id) = &args.id {
        return Ok(Target::Id(id.clone()));
    }
    match args.target.as_deref() {
        None => Ok(Target::Back(1)),
        Some(t) if t.chars().all(|c| c.is_ascii_digit()) => match t.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Target::Back(n)),
            _ => Err(CliError::usage(format!(
                "{t:?}: N counts entries back from 1 (the latest not yet undone)"
            ))),
        },
        Some(t) => Ok(Target::Id(t.to_string())),
    }
}

pub(crate) async fn run(args: UndoArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    if args.list {
        return list(ctx);
    }
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
    let entry = match target(&args)? {
        Target::Id(id) => open.iter().find(|e| e.id == id).copied().ok_or_else(|| {
            let mut e = CliError::failure(format!(
                "no journal entry {id:?} left to undo in {}",
                j.path().display()
            ));
            let ids: Vec<&str> = open.iter().map(|e| e.id.as_str()).collect();
            let near = crate::access::resolve::nearest(&id, ids);
            e.hint = Some(match near.first() {
                Some(n) => format!("did you mean {n}? (`segment-access undo --list` shows them)"),
                None => "`segment-access undo --list` shows the entries".to_string(),
            });
            e
        })?,
        Target::Back(n) => open.get(n - 1).copied().ok_or_else(|| {
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

/// One journal entry, as `undo --list` shows it.
#[derive(Debug, Serialize)]
struct ListRow {
    id: String,
    time: String,
    by: Option<String>,
    command: String,
    workspace_id: String,
    /// open (can be undone), undone (by entry `undone_by`), or undo (an entry that undid
    /// another, `undoes`).
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    undoes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    undone_by: Option<String>,
    /// What the entry changed, in words.
    changes: Vec<String>,
}

impl Tabular for ListRow {
    fn headers() -> Vec<&'static str> {
        vec!["ID", "WHEN", "BY", "COMMAND", "STATE", "CHANGES"]
    }
    fn cells(&self) -> Vec<String> {
        let state = match (&self.undoes, &self.undone_by) {
            (Some(u), _) => format!("undoes {u}"),
            (None, Some(b)) => format!("undone by {b}"),
            _ => self.state.to_string(),
        };
        vec![
            self.id.clone(),
            self.time.clone(),
            self.by.clone().unwrap_or_default(),
            self.command.clone(),
            state,
            self.changes.join("; "),
        ]
    }
    fn csv_headers() -> Vec<&'static str> {
        vec![
            "id",
            "time",
            "by",
            "command",
            "workspace_id",
            "state",
            "undoes",
            "undone_by",
            "changes",
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.time.clone(),
            self.by.clone().unwrap_or_default(),
            self.command.clone(),
            self.workspace_id.clone(),
            self.state.to_string(),
            self.undoes.clone().unwrap_or_default(),
            self.undone_by.clone().unwrap_or_default(),
            self.changes.join("; "),
        ]
    }
}

/// The journal, newest first, offline: no token, no request.
fn list(ctx: &mut Context) -> Result<ExitCode, CliError> {
    let j = Journal::open(ctx.state_dir.as_deref())?;
    let contents = j.read()?;
    if let Some(w) = &contents.torn {
        ctx.note(w);
    }
    let entries = &contents.entries;
    let rows: Vec<ListRow> = entries
        .iter()
        .rev()
        .filter(|e| !e.changes.is_empty() || e.undoes.is_some())
        .map(|e| {
            let undone_by = entries
                .iter()
                .find(|u| u.undoes.as_deref() == Some(e.id.as_str()))
                .map(|u| u.id.clone());
            let state = match (&e.undoes, &undone_by) {
                (Some(_), _) => "undo",
                (None, Some(_)) => "undone",
                (None, None) => "open",
            };
            ListRow {
                id: e.id.clone(),
                time: e.time.clone(),
                by: e.by.clone(),
                command: e.command.clone(),
                workspace_id: e.workspace_id.clone(),
                state,
                undoes: e.undoes.clone(),
                undone_by,
                changes: e.changes.iter().flat_map(|c| c.describe()).collect(),
            }
        })
        .collect();
    let n = ctx.print_list(rows)?;
    if n == 0 && ctx.renderer.is_table() {
        ctx.note(&format!("the journal {} is empty", j.path().display()));
    }
    Ok(ExitCode::Ok)
}
