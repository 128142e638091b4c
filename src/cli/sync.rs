//! `segment-access sync --out FILE.db`: a complete snapshot of the workspace's access.

use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::Args;

use crate::access::{Directory, Need, Source};
use crate::snapshot::{self, Meta, ReadInfo};

use super::{CliError, Context, ExitCode, VERSION};

const SYNC_HELP: &str = "\
Reads everything (workspace, users, invites, groups and their members, roles, resources, labels,
every permission) and writes it, with the grant records it implies, to an SQLite file. The file
is written next to FILE under a temporary name and renamed into place only when complete, so an
interrupted sync leaves the previous snapshot untouched. Schema: docs/snapshots.md.

Examples:
  segment-access sync --out access-$(date +%F).db
  segment-access list grants --snapshot access-2026-01-31.db --user ann@example.com
  segment-access diff access-2026-01-31.db live
  sqlite3 access.db 'SELECT principal_email, role_name FROM grants WHERE via_group_id IS NULL'";

#[derive(Debug, Args)]
#[command(after_help = SYNC_HELP)]
pub struct SyncArgs {
    /// The snapshot file to write (replaced atomically if it exists).
    #[arg(long, value_name = "FILE.db")]
    pub out: PathBuf,
}

/// Everything a snapshot holds, from `source`.
pub(crate) async fn load_all(ctx: &mut Context, source: &Source) -> Result<Directory, CliError> {
    let need = Need {
        labels: true,
        ..Need::everything()
    };
    let dir = source
        .directory(need, ctx.progress("Reading access"))
        .await?;
    if let Some(why) = &dir.resources.spaces_unavailable {
        ctx.note(&format!("note: spaces not listed: {why}"));
    }
    Ok(dir)
}

pub(crate) async fn run(args: SyncArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    // Checked before minutes of reading, not after.
    let parent = args
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    if !parent.is_dir() {
        return Err(CliError::usage(format!(
            "cannot write {}: directory {} does not exist",
            args.out.display(),
            parent.display()
        )));
    }
    // A place that is not a regular file, or a directory that takes no file, is refused now.
    snapshot::write::check_target(&args.out)
        .map_err(|e| CliError::usage(format!("cannot write the snapshot: {e}")))?;
    let taken_at_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let started = Instant::now();
    let read = async {
        let source = ctx.source(None).await?;
        let dir = load_all(ctx, &source).await?;
        Ok::<_, CliError>((source, dir))
    };
    let (source, dir) = match read.await {
        Ok(r) => r,
        Err(e) => {
            // The probe file of the check above.
            let _ = std::fs::remove_file(snapshot::write::tmp_path(&args.out));
            return Err(e);
        }
    };
    let meta = Meta {
        tool_version: VERSION.to_string(),
        taken_at_unix,
        duration_ms: started.elapsed().as_millis() as u64,
        api_url: source.api_url().to_string(),
        read: ReadInfo::full(taken_at_unix),
    };
    let out = args.out.clone();
    let counts = tokio::task::spawn_blocking(move || snapshot::write(&out, &dir, &meta))
        .await
        .map_err(|e| CliError::failure(format!("snapshot writer stopped: {e}")))??;
    ctx.note(&format!(
        "wrote {}: {} users, {} invites, {} groups, {} grants",
        args.out.display(),
        counts.users,
        counts.invites,
        counts.groups,
        counts.grants
    ));
    Ok(ExitCode::Ok)
}
