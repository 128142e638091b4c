//! `segment-access revoke`: remove exactly the named bindings or memberships.

use clap::Args;

use crate::access::plan::Action;

use super::grant::{ChangeArgs, run_change};
use super::{CliError, Context, ExitCode};

const HELP: &str = "\
Removes exactly what is named: revoking Source Admin on one source keeps that role on other
sources, keeps labels, and keeps other roles. The new permission list is computed from a read
made just before the write and verified after it. A grant held only through a group cannot be
revoked on the user; the report names the group.

Examples:
  segment-access revoke --to ann@example.com --role 'Source Admin' --on source:web-prod
  segment-access revoke --to ann@example.com --group Analysts
  segment-access revoke --to ann@example.com --all --dry-run
  segment-access list grants --user ann@example.com --direct-only --format ndjson \\
    | jq -c 'select(.role.name == \"Source Admin\")' | segment-access revoke --from-file - --yes";

#[derive(Debug, Args)]
#[command(after_help = HELP)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Remove every direct permission of the principal (memberships stay).
    #[arg(long, conflicts_with_all = ["role", "group", "from_file"])]
    pub all: bool,
}

pub(crate) async fn run(args: RevokeArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    run_change(Action::Revoke, args.change, None, args.all, ctx).await
}
