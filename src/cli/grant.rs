//! `segment-access grant`: bind roles or add group members, one principal or a batch.

use std::io::Read;

use clap::Args;

use crate::access::apply::{self, Shape};
use crate::access::plan::{Action, Item, Want};
use crate::access::record::LabelRef;
use crate::access::record::Principal;
use crate::access::{Directory, Need, batch, copy, resolve, wants};

use super::choose::{self, Asked};
use super::write::{self, WriteFlags};
use super::{CliError, Context, ExitCode};

const HELP: &str = "\
PRINCIPAL is an email, a user id, group:<id|name> or invite:<email>.
RESOURCE is workspace, source:<id|slug|name>, warehouse:<id|name>, function:<id|name> or
space:<id|slug|name>. A role that can be bound to single resources (Source Admin, ...) needs
--on: it is asked for on a terminal, and --on workspace grants it on all of them; roles bound
only to the workspace (Workspace Owner, ...) need none, and --label implies the workspace.

Grants use Segment's additive endpoint: nothing already held is touched. A grant that already
holds is reported as noop. Applied changes are journaled; `segment-access undo` reverts them.

Examples:
  segment-access grant --to ann@example.com --role 'Source Admin' --on source:web-prod
  segment-access grant --to group:Analysts --role 'Source Read-only' --label env=prod
  segment-access grant --to ann@example.com --group Analysts --dry-run
  segment-access grant --to new.hire@example.com --like alan@example.com --dry-run
  segment-access grant --from-file grants.ndjson --yes --format json

--like copies what a principal holds directly (roles with their resources and labels) and the
groups it is in; access it holds only through groups comes with those memberships.";

#[derive(Debug, Args)]
#[command(after_help = HELP)]
pub struct GrantArgs {
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Copy the direct roles and group memberships of this principal (as --to takes it).
    #[arg(long, value_name = "PRINCIPAL", conflicts_with_all = ["role", "group", "from_file"])]
    pub like: Option<String>,
}

/// What grant and revoke both take.
#[derive(Debug, Args)]
pub struct ChangeArgs {
    /// Who: an email, a user id, group:<id|name> or invite:<email>.
    /// Asked for on a terminal when missing.
    #[arg(long, value_name = "PRINCIPAL", add = clap_complete::ArgValueCandidates::new(super::completions::principals))]
    pub to: Option<String>,
    /// Role name or id.
    #[arg(long, value_name = "ROLE", conflicts_with = "group", add = clap_complete::ArgValueCandidates::new(super::completions::role_names))]
    pub role: Option<String>,
    /// Resource the role is bound on (repeatable). grant needs it for a role that can be bound
    /// to single resources (asked for on a terminal; --on workspace means all of them); revoke
    /// defaults to workspace.
    #[arg(long, value_name = "RESOURCE", requires = "role", add = clap_complete::ArgValueCandidates::new(super::completions::resources))]
    pub on: Vec<String>,
    /// Narrow a workspace-level binding by label, key=value (repeatable).
    #[arg(long, value_name = "KEY=VALUE", requires = "role", add = clap_complete::ArgValueCandidates::new(super::completions::labels))]
    pub label: Vec<String>,
    /// Group membership instead of a role (users and invites).
    #[arg(long, value_name = "GROUP", add = clap_complete::ArgValueCandidates::new(super::completions::group_names))]
    pub group: Option<String>,
    /// Grant records (NDJSON or a JSON array; `-` for stdin), as `list grants --format ndjson` prints.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["to", "role", "group"])]
    pub from_file: Option<String>,
    /// Stop at the first failed change of a batch (the rest are reported as skipped).
    #[arg(long)]
    pub fail_fast: bool,
    #[command(flatten)]
    pub flags: WriteFlags,
}

pub(crate) async fn run(args: GrantArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    run_change(Action::Grant, args.change, args.like, false, ctx).await
}

/// Resolve, plan on a fresh read, then the write pipeline.
pub(super) async fn run_change(
    action: Action,
    args: ChangeArgs,
    like: Option<String>,
    all: bool,
    ctx: &mut Context,
) -> Result<ExitCode, CliError> {
    write::guard(args.flags, ctx)?;
    if args.from_file.as_deref() == Some("-") && ctx.global.token_stdin {
        return Err(CliError::usage(
            "--token-stdin and --from-file - both read standard input; put the batch in a file, or the token in SEGMENT_TOKEN or the keyring",
        ));
    }
    let mut asked = Asked {
        to: args.to.clone(),
        role: args.role.clone(),
        on: args.on.clone(),
        group: args.group.clone(),
    };
    let whole = all || like.is_some();
    let asks = args.from_file.is_none()
        && (asked.to.is_none() || (asked.role.is_none() && asked.group.is_none() && !whole));
    if asks && !ctx.prompter.available() {
        // Never wait for an answer nobody can give: a script gets a usage error at once.
        return Err(CliError::usage(if asked.to.is_none() {
            "say who: --to PRINCIPAL (or --from-file FILE); missing arguments are asked for only on a terminal"
        } else {
            "say what to change: --role ROLE, --group GROUP or --from-file FILE"
        }));
    }
    let batch_text = args
        .from_file
        .as_deref()
        .map(|f| read_input(ctx, f))
        .transpose()?;
    let records = batch_text
        .as_deref()
        .map(batch::parse)
        .transpose()
        .map_err(|e| {
            CliError::usage(format!(
                "malformed batch {}: {e}; nothing was changed",
                args.from_file.as_deref().unwrap_or("-")
            ))
        })?;
    let client = ctx.client().await?;
    let need = Need {
        workspace: true,
        users: true,
        invites: true,
        groups: true,
        roles: true,
        resources: true,
        labels: action == Action::Grant,
        // An invite's groups are known only from the groups' pending members.
        group_members: like.as_deref().is_some_and(|l| l.starts_with("invite:")),
        ..Need::default()
    };
    let dir = Directory::load(&client, need, ctx.progress("Reading workspace")).await?;
    let wanted = match &records {
        Some(recs) => recs
            .iter()
            .map(|n| wants::from_record(&dir, action, n.line, &n.record))
            .collect(),
        None => {
            if asks && !choose::fill(ctx.prompter.as_mut(), &dir, &mut asked, whole)? {
                return Err(CliError::failure("cancelled; nothing was changed"));
            }
            match &like {
                Some(like) => {
                    let to = asked.to.as_deref().unwrap_or_default();
                    like_wants(ctx, &dir, &client, to, like).await?
                }
                None => {
                    if action == Action::Grant && asked.on.is_empty() && args.label.is_empty() {
                        // Who first: a mistyped principal is the error to see, not a question.
                        wants::principal(&dir, asked.to.as_deref().unwrap_or_default())?;
                        asked.on = where_to_bind(ctx, &dir, asked.role.as_deref())?;
                    }
                    single(&dir, &client, action, &asked, &args.label, all).await?
                }
            }
        }
    };
    let shape = Shape {
        batch: records.is_some(),
        fail_fast: args.fail_fast,
    };
    let plan = apply::prepare(&client, action, wanted, &dir, shape).await;
    write::run(ctx, &client, plan, args.flags).await
}

/// Everything `like` holds directly and the groups it is in, as changes for `to`.
async fn like_wants(
    ctx: &mut Context,
    dir: &Directory,
    client: &crate::segment::Client,
    to: &str,
    like: &str,
) -> Result<Vec<Want>, CliError> {
    let principal = wants::principal(dir, to)?;
    let source = wants::principal(dir, like)?;
    if source == principal {
        return Err(CliError::usage(format!(
            "--like {like} names {to} itself; name the principal to copy from"
        )));
    }
    let copied = copy::access_of(client, dir, &source).await?;
    for n in &copied.notes {
        ctx.note(&format!("note: {n}"));
    }
    let mut out: Vec<Want> = copied
        .bindings
        .into_iter()
        .map(|b| Want {
            principal: principal.clone(),
            item: Item::Bind(b),
            line: None,
        })
        .collect();
    if matches!(principal, Principal::Group { .. }) {
        if !copied.groups.is_empty() {
            ctx.note(&format!(
                "note: {} is a group, and groups cannot be members of groups: the memberships of {} are not copied",
                principal.display(),
                source.display()
            ));
        }
    } else {
        out.extend(copied.groups.into_iter().map(|g| Want {
            principal: principal.clone(),
            item: Item::Member(g),
            line: None,
        }));
    }
    if out.is_empty() {
        ctx.note(&format!(
            "{} holds nothing directly and is in no group: nothing to copy",
            source.display()
        ));
    }
    Ok(out)
}

/// Where a role named without --on is bound. A role that binds only to the workspace needs no
/// --on; one that can also be bound to single resources (Source Admin: every source, or some)
/// is asked about on a terminal, and otherwise needs an explicit `--on workspace`, so a grant
/// to every source never happens by leaving --on out.
pub(super) fn where_to_bind(
    ctx: &mut Context,
    dir: &Directory,
    role: Option<&str>,
) -> Result<Vec<String>, CliError> {
    let Some(role) = role else {
        return Ok(Vec::new());
    };
    let role = resolve::role(&dir.roles, role)?;
    let kinds: Vec<&str> = crate::segment::roles::builtin(&role.name)
        .map(|spec| {
            spec.bindable
                .iter()
                .filter(|k| **k != crate::segment::models::ResourceType::Workspace)
                .map(|k| k.as_cli_str())
                .collect()
        })
        .unwrap_or_default();
    let Some(kind) = kinds.first() else {
        return Ok(vec!["workspace".to_string()]);
    };
    if !ctx.prompter.available() {
        return Err(CliError::usage(format!(
            "{:?} can be bound to single {kind}s or to the whole workspace: say where, --on {kind}:<name> (repeatable) or --on workspace for every {kind}",
            role.name
        )));
    }
    match choose::resources(ctx.prompter.as_mut(), dir, role)? {
        Some(on) => Ok(on),
        None => Err(CliError::failure("cancelled; nothing was changed")),
    }
}

/// The changes one command line asks for.
async fn single(
    dir: &Directory,
    client: &crate::segment::Client,
    action: Action,
    asked: &Asked,
    label: &[String],
    all: bool,
) -> Result<Vec<Want>, CliError> {
    let to = asked.to.as_deref().unwrap_or_default();
    let principal = wants::principal(dir, to)?;
    let want = |item| Want {
        principal: principal.clone(),
        item,
        line: None,
    };
    if all {
        let current = apply::direct_bindings(client, &principal).await?;
        return Ok(current.into_iter().map(|b| want(Item::Bind(b))).collect());
    }
    if let Some(g) = &asked.group {
        let g = resolve::group(&dir.groups, g)?;
        return Ok(vec![want(Item::Member(crate::access::plan::GroupRef {
            id: g.id.clone(),
            name: g.name.clone(),
        }))]);
    }
    let role_name = asked.role.as_deref().unwrap_or_default();
    let role = resolve::role(&dir.roles, role_name)?;
    let labels: Vec<LabelRef> = label
        .iter()
        .map(|l| wants::parse_label(l))
        .collect::<Result<_, _>>()
        .map_err(CliError::usage)?;
    // Checked before any write (and on --dry-run): Segment would refuse the whole write.
    if action == Action::Grant {
        wants::unknown_labels(dir, &labels).map_err(CliError::failure)?;
    }
    let on: Vec<String> = if asked.on.is_empty() {
        vec!["workspace".to_string()]
    } else {
        asked.on.clone()
    };
    on.iter()
        .map(|r| {
            wants::binding(dir, role, r, &labels)
                .map(|b| want(Item::Bind(b)))
                .map_err(CliError::from)
        })
        .collect()
}

/// A batch file's text, or standard input for `-`.
fn read_input(ctx: &mut Context, path: &str) -> Result<String, CliError> {
    if path == "-" {
        let mut s = String::new();
        ctx.io
            .stdin
            .read_to_string(&mut s)
            .map_err(|e| CliError::usage(format!("cannot read the batch from stdin: {e}")))?;
        return Ok(s);
    }
    std::fs::read_to_string(path).map_err(|e| CliError::usage(format!("cannot read {path}: {e}")))
}
