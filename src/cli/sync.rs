//! `segment-access sync --out FILE.db`: a complete snapshot of the workspace's access, read in
//! full or refreshed from an earlier one through the audit trail.

use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::Args;

use crate::access::{Directory, Need, Source};
use crate::snapshot::draft::Draft;
use crate::snapshot::{self, Meta, ReadKind};

use super::{CliError, Context, ExitCode, VERSION};

const SYNC_HELP: &str = "\
Reads everything (workspace, users, invites, groups and their members, roles, resources, labels,
every permission) and writes it, with the grant records it implies, to an SQLite file. The file
is written next to FILE under a temporary name and renamed into place only when complete, so an
interrupted sync leaves the previous snapshot untouched. Schema: docs/snapshots.md.

With --update, or --since OLD.db, the snapshot is refreshed instead: the cheap lists (users,
invites, groups, roles, resources, labels) are read again, and of the rest only what Segment's
audit trail says changed since the snapshot was taken; the result equals a full read. When a
refresh cannot be sure (no audit trail, a snapshot older than the trail's 90 days, an event it
does not know, lists that changed without an event), it reads everything and says why.

Examples:
  segment-access sync --out access-$(date +%F).db
  segment-access sync --update access.db
  segment-access sync --since access-2026-01-31.db --out access-2026-02-01.db
  segment-access list grants --snapshot access-2026-01-31.db --user ann@example.com
  segment-access diff access-2026-01-31.db live
  sqlite3 access.db 'SELECT principal_email, role_name FROM grants WHERE via_group_id IS NULL'";

#[derive(Debug, Args)]
#[command(after_help = SYNC_HELP)]
pub struct SyncArgs {
    /// The snapshot file to write (replaced atomically if it exists).
    #[arg(long, value_name = "FILE.db", required_unless_present = "update")]
    pub out: Option<PathBuf>,
    /// Refresh a snapshot in place from the audit trail: FILE.db, or the --out file.
    #[arg(long, value_name = "FILE.db", num_args = 0..=1, conflicts_with = "since")]
    pub update: Option<Option<PathBuf>>,
    /// Refresh from this earlier snapshot into --out (OLD.db is left as it is).
    #[arg(long, value_name = "OLD.db", requires = "out")]
    pub since: Option<PathBuf>,
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
    let out = match (&args.out, &args.update) {
        (Some(out), None | Some(None)) => out.clone(),
        (None, Some(Some(file))) => file.clone(),
        (Some(out), Some(Some(file))) if out == file => out.clone(),
        (Some(_), Some(Some(_))) => {
            return Err(CliError::usage(
                "--update FILE.db refreshes FILE.db in place; to write elsewhere use --since OLD.db --out NEW.db",
            ));
        }
        (None, _) => {
            return Err(CliError::usage(
                "sync needs --out FILE.db or --update FILE.db",
            ));
        }
    };
    // The snapshot to refresh from: named, or the target itself with --update (a missing
    // file is simply read in full).
    let old_path = match (&args.since, &args.update) {
        (Some(old), _) => Some(old.clone()),
        (None, Some(_)) if out.exists() => Some(out.clone()),
        (None, Some(_)) => {
            ctx.note(&format!(
                "note: {} does not exist yet; reading everything",
                out.display()
            ));
            None
        }
        (None, None) => None,
    };
    // Checked before minutes of reading, not after.
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    if !parent.is_dir() {
        return Err(CliError::usage(format!(
            "cannot write {}: directory {} does not exist",
            out.display(),
            parent.display()
        )));
    }
    // A place that is not a regular file, or a directory that takes no file, is refused now.
    let mut draft =
        Draft::new(&out).map_err(|e| CliError::usage(format!("cannot write the snapshot: {e}")))?;
    let _removed = super::signals::remove_on_signal(snapshot::write::tmp_path(&out));
    if let Some(p) = &old_path {
        draft.read_base(p)?;
    }
    let taken_at_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let started = Instant::now();
    let read = async {
        let client = ctx.client().await?;
        let (dir, info) =
            snapshot::refresh::read(&client, draft.base(), ctx.progress("Reading access")).await?;
        if let Some(why) = &dir.resources.spaces_unavailable {
            ctx.note(&format!("note: spaces not listed: {why}"));
        }
        Ok::<_, CliError>((Source::live(client), dir, info))
    };
    let (source, dir, mut info) = read.await?;
    // One clock for `taken_at` and the full read it is.
    if info.kind == ReadKind::Full {
        info.last_full_read_unix = taken_at_unix;
    }
    let meta = Meta {
        tool_version: VERSION.to_string(),
        taken_at_unix,
        duration_ms: started.elapsed().as_millis() as u64,
        api_url: source.api_url().to_string(),
        read: info.clone(),
    };
    let (counts, _) = tokio::task::spawn_blocking(move || draft.commit(&dir, &meta))
        .await
        .map_err(|e| CliError::failure(format!("snapshot writer stopped: {e}")))??;
    match (&info.kind, &info.full_read_reason) {
        (ReadKind::Refresh, _) => ctx.note(&format!(
            "refreshed from {} since {}: {} requests",
            match info.events.unwrap_or_default() {
                1 => "1 audit event".to_string(),
                n => format!("{n} audit events"),
            },
            info.since.as_deref().unwrap_or("?"),
            info.requests
        )),
        (ReadKind::Full, Some(why)) => ctx.note(&format!("note: read everything: {why}")),
        (ReadKind::Full, None) => {}
    }
    ctx.note(&format!(
        "wrote {}: {} users, {} invites, {} groups, {} grants",
        out.display(),
        counts.users,
        counts.invites,
        counts.groups,
        counts.grants
    ));
    Ok(ExitCode::Ok)
}
