//! `segment-access diff OLD NEW`: what changed between two snapshots, or a snapshot and live.

use clap::Args;

use crate::access::{Directory, GrantRecord};
use crate::output::Tabular;
use crate::snapshot::diff::{self, Change, Subject};

use super::{Breadth, CliError, Context, ExitCode};

const DIFF_HELP: &str = "\
Prints people (users, invites) and groups that appeared or went away, roles added or removed,
and every grant added or removed, group memberships included. Table rows start with + or -;
JSON, NDJSON and CSV rows carry \"change\": \"added\" | \"removed\" and a \"kind\"; a grant
change is a grant record with those two fields added.

Exit status, like diff(1): 0 when the two are the same, 1 when they differ. Errors also exit
non-zero (1 for most, 2 for usage, 4 for auth) and always print `error: ...` on stderr, so a
scheduled job tells \"changed\" from \"failed\" by an empty stderr.

Examples:
  segment-access diff monday.db friday.db
  segment-access diff last-review.db live --format ndjson | jq -c 'select(.kind == \"grant\")'";

#[derive(Debug, Args)]
#[command(after_help = DIFF_HELP)]
pub struct DiffArgs {
    /// The earlier state: a snapshot file, or `live`.
    #[arg(value_name = "OLD", add = clap_complete::ArgValueCompleter::new(super::completions::snapshot_or_live))]
    pub old: String,
    /// The later state: a snapshot file, or `live`.
    #[arg(value_name = "NEW", add = clap_complete::ArgValueCompleter::new(super::completions::snapshot_or_live))]
    pub new: String,
    /// Compare snapshots of two different workspaces anyway (every grant would differ).
    #[arg(long)]
    pub allow_different_workspaces: bool,
}

async fn side(which: &str, ctx: &mut Context) -> Result<Directory, CliError> {
    let snapshot = (which != "live").then(|| std::path::Path::new(which));
    let source = ctx.source(snapshot, Breadth::Everyone).await?;
    super::sync::load_all(ctx, &source).await
}

pub(crate) async fn run(args: DiffArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    // Files first: a missing file fails before a long live read.
    let (old, new) = if args.old == "live" {
        let new = side(&args.new, ctx).await?;
        (side(&args.old, ctx).await?, new)
    } else {
        let old = side(&args.old, ctx).await?;
        (old, side(&args.new, ctx).await?)
    };
    if let (Some(a), Some(b)) = (&old.workspace, &new.workspace)
        && a.id != b.id
    {
        if !args.allow_different_workspaces {
            return Err(CliError::usage(format!(
                "{} is workspace {} and {} is workspace {}: nothing but differences to see; compare two states of one workspace, or pass --allow-different-workspaces",
                args.old, a.slug, args.new, b.slug
            )));
        }
        ctx.note(&format!(
            "warning: comparing two different workspaces ({} and {})",
            a.slug, b.slug
        ));
    }
    let changes = diff::diff(&old, &new);
    ctx.print_list(&changes)?;
    if changes.is_empty() {
        if ctx.renderer.is_table() {
            ctx.note("no differences");
        }
        Ok(ExitCode::Ok)
    } else {
        ctx.note(&diff::summary(&changes));
        Ok(ExitCode::Failure)
    }
}

impl Tabular for Change {
    fn headers() -> Vec<&'static str> {
        vec!["", "KIND", "PRINCIPAL", "ROLE", "RESOURCE", "LABELS", "VIA"]
    }

    fn cells(&self) -> Vec<String> {
        let sign = self.change.sign().to_string();
        let kind = self.kind().to_string();
        match &self.subject {
            Subject::Principal(p) => vec![
                sign,
                kind,
                p.display(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ],
            Subject::Role(r) => vec![
                sign,
                kind,
                String::new(),
                r.name.clone(),
                String::new(),
                String::new(),
                String::new(),
            ],
            Subject::Grant(g) => {
                let mut cells = g.cells();
                cells.insert(0, kind);
                cells.insert(0, sign);
                cells
            }
        }
    }

    fn csv_headers() -> Vec<&'static str> {
        // The grant record's own columns, so a diff row lines up with `list grants` CSV.
        let mut h = vec!["change", "kind"];
        h.extend(GrantRecord::csv_headers());
        h
    }

    fn csv_row(&self) -> Vec<String> {
        let mut row = vec![self.change.as_str().to_string(), self.kind().to_string()];
        match &self.subject {
            Subject::Grant(g) => row.extend(g.csv_row()),
            Subject::Principal(p) => {
                let mut cells = p.csv_row();
                cells.extend(std::iter::repeat_n(String::new(), 9));
                row.extend(cells);
            }
            Subject::Role(r) => {
                row.extend(std::iter::repeat_n(String::new(), 4));
                row.push(r.id.clone());
                row.push(r.name.clone());
                row.extend(std::iter::repeat_n(String::new(), 7));
            }
        }
        row
    }
}
