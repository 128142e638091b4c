//! `segment-access review start`: a campaign over every grant of a scope in a snapshot.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::access::review::campaign::{Info, PolicyRef, SnapshotRef};
use crate::access::review::items::{self, PopulationError, Scope};
use crate::access::review::{Campaign, new_campaign_id, now, sha256_file};
use crate::output::Tabular;

use super::{CliError, Context, ExitCode, count, shown};

pub(super) const HELP: &str = "\
The population is every grant in the snapshot (direct, through a group, and group memberships)
that `list grants` would print with the same filters, grouped by person. The campaign records the
snapshot's SHA-256, workspace and time, and the scope; every later review command refuses to run
if the snapshot file changes. With --policy, items a finding of the policy names are pre-flagged
(shown with the finding, for the reviewer to decide).

Examples:
  segment-access sync --out access-2026-q1.db
  segment-access review start --snapshot access-2026-q1.db --out q1.review.db
  segment-access review start --snapshot access-2026-q1.db --role 'Workspace Owner' --out owners.review.db
  segment-access review start --snapshot access-2026-q1.db --policy policy.toml --out q1.review.db";

#[derive(Debug, Args)]
pub struct StartArgs {
    /// The snapshot (`sync --out`) the population is drawn from.
    #[arg(long, value_name = "FILE.db")]
    pub snapshot: PathBuf,
    /// The campaign file to create (never overwritten).
    #[arg(long, value_name = "REVIEW.db")]
    pub out: PathBuf,
    /// Scope: only grants held by this user (email, id or name), directly or through groups.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Scope: only grants of this group: its own, its members' through it, its memberships.
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Scope: only grants of this role (name or id).
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// Scope: only grants that reach this resource: workspace, source:<id|slug|name>, ...
    #[arg(long, value_name = "RESOURCE")]
    pub resource: Option<String>,
    /// Scope: leave out grants inherited through groups.
    #[arg(long)]
    pub direct_only: bool,
    /// Pre-flag the items a finding of this policy file names (docs/policy.md).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// What `review start` made.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Started {
    campaign_id: String,
    file: String,
    workspace: String,
    workspace_id: String,
    snapshot: String,
    snapshot_sha256: String,
    snapshot_taken_at: String,
    scope: String,
    items: usize,
    /// People and groups the items belong to.
    principals: usize,
    preflagged: usize,
}

impl Tabular for Started {
    fn headers() -> Vec<&'static str> {
        vec![
            "CAMPAIGN",
            "FILE",
            "WORKSPACE",
            "WORKSPACE ID",
            "SNAPSHOT",
            "SNAPSHOT SHA256",
            "TAKEN AT",
            "SCOPE",
            "ITEMS",
            "PRINCIPALS",
            "PRE-FLAGGED",
        ]
    }

    fn csv_headers() -> Vec<&'static str> {
        vec![
            "campaign_id",
            "file",
            "workspace",
            "workspace_id",
            "snapshot",
            "snapshot_sha256",
            "snapshot_taken_at",
            "scope",
            "items",
            "principals",
            "preflagged",
        ]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.campaign_id.clone(),
            self.file.clone(),
            self.workspace.clone(),
            self.workspace_id.clone(),
            self.snapshot.clone(),
            self.snapshot_sha256.clone(),
            self.snapshot_taken_at.clone(),
            self.scope.clone(),
            self.items.to_string(),
            self.principals.to_string(),
            self.preflagged.to_string(),
        ]
    }
}

pub(super) async fn run(args: StartArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    // Checked before a large snapshot is read, not after.
    if std::fs::symlink_metadata(&args.out).is_ok() {
        return Err(CliError::usage(format!(
            "{} already exists; a campaign is never overwritten: choose another --out",
            shown(&args.out)
        )));
    }
    let (hash, bytes) = sha256_file(&args.snapshot)
        .map_err(|e| CliError::usage(format!("cannot read the snapshot: {e}")))?;
    let snap = crate::snapshot::read(&args.snapshot)?;
    // The file read must be the file hashed.
    if sha256_file(&args.snapshot)?.0 != hash {
        return Err(CliError::failure(format!(
            "{} changed while it was read; start again once nothing writes to it",
            shown(&args.snapshot)
        )));
    }
    let Some(ws) = snap.dir.workspace.clone() else {
        return Err(CliError::usage(format!(
            "{}: the snapshot has no workspace",
            shown(&args.snapshot)
        )));
    };
    let policy = match &args.policy {
        Some(p) => {
            let (path, policy) = super::super::check::read_policy(Some(p))?;
            let (sha256, _) = sha256_file(p)?;
            Some((PolicyRef { path, sha256 }, policy))
        }
        None => None,
    };
    let scope = Scope {
        user: args.user,
        group: args.group,
        role: args.role,
        resource: args.resource,
        direct_only: args.direct_only,
    };
    let items = items::population(&snap.dir, &scope, policy.as_ref().map(|(_, p)| p))
        .await
        .map_err(|e| match e {
            PopulationError::Scope(s) => CliError::from(s),
            PopulationError::Policy(p) => {
                let file = policy.as_ref().map(|(r, _)| r.path.as_str()).unwrap_or("");
                super::super::check::policy_error(p, file)
            }
        })?;
    items::nonempty(&items, &scope)?;
    let snapshot_path = std::path::absolute(&args.snapshot).unwrap_or(args.snapshot.clone());
    let info = Info {
        id: new_campaign_id(),
        created_at: now(),
        tool_version: super::super::VERSION.to_string(),
        snapshot: SnapshotRef {
            path: snapshot_path.display().to_string(),
            sha256: hash,
            bytes,
            taken_at: snap.meta.get("taken_at").cloned().unwrap_or_default(),
            tool_version: snap.meta.get("tool_version").cloned().unwrap_or_default(),
        },
        workspace_id: ws.id,
        workspace_name: ws.name,
        workspace_slug: ws.slug,
        api_url: snap.api_url(),
        scope,
        policy: policy.map(|(r, _)| r),
        closed: None,
    };
    let campaign = Campaign::create(&args.out, &info, &items)?;
    let mut principals: Vec<&str> = items.iter().map(|i| i.person.as_str()).collect();
    principals.dedup();
    let preflagged = items.iter().filter(|i| !i.findings.is_empty()).count();
    let started = Started {
        campaign_id: info.id.clone(),
        file: shown(campaign.path()),
        workspace: info.workspace(),
        workspace_id: info.workspace_id.clone(),
        snapshot: info.snapshot.path.clone(),
        snapshot_sha256: info.snapshot.sha256.clone(),
        snapshot_taken_at: info.snapshot.taken_at.clone(),
        scope: info.scope.describe(),
        items: items.len(),
        principals: principals.len(),
        preflagged,
    };
    ctx.print_one(&started)?;
    let flagged = if info.policy.is_some() {
        format!(", {preflagged} pre-flagged by the policy")
    } else {
        String::new()
    };
    ctx.note(&format!(
        "started campaign {}: {} of {}{flagged}",
        info.id,
        count(items.len(), "item"),
        items::whom(&items),
    ));
    ctx.note(&format!(
        "next: decide on a terminal with `segment-access review {f}`, or in a spreadsheet with `segment-access review export {f} --out review.csv`",
        f = shown(&args.out)
    ));
    Ok(ExitCode::Ok)
}
