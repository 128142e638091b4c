//! `segment-access check`: the workspace (or a snapshot) against a policy file of access rules;
//! findings as records, exit 1 when any is severe enough. `check --init` writes a starter policy
//! drawn from the workspace.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::access::Need;
use crate::access::policy::{self, Finding, PolicyError, RULE_NAMES, Severity};
use crate::output::Tabular;

use super::{Breadth, CliError, Context, ExitCode};

/// Where `check` looks for its policy when `--policy` is not given, and `--init` writes it.
pub(crate) const DEFAULT_POLICY: &str = "segment-access-policy.toml";

const HELP: &str = "\
Checks the workspace against access rules kept in a TOML file: who may hold a role and how many,
no direct grants, email domains, label-scoped access, redundant direct grants, empty groups,
users in no group, pending invites, grants on resources that no longer exist. Rules and
schema: docs/policy.md.

Each finding is a record (rule, severity, message, principal, role, and the grant record at
fault where there is one) in every --format. Exit 0 when no finding is at or above --fail-on,
1 when one is, 2 when the policy file is wrong (its line and field are named).

Examples:
  segment-access check --init                   # a starter policy from today's workspace
  segment-access check                          # segment-access-policy.toml, here
  segment-access check --policy policy.toml --fail-on high
  segment-access check --snapshot monday.db --format ndjson
  segment-access check --rule redundant_grants --grants --format ndjson \\
    | segment-access revoke --from-file - --yes";

#[derive(Debug, Args)]
#[command(after_help = HELP)]
pub struct CheckArgs {
    /// The policy file [default: segment-access-policy.toml in the current directory].
    #[arg(long, value_name = "FILE", conflicts_with = "init")]
    pub policy: Option<PathBuf>,
    /// Check a snapshot written by `sync --out`, offline (no token, no requests).
    #[arg(long, value_name = "FILE.db")]
    pub snapshot: Option<PathBuf>,
    /// Exit 1 when a finding is at least this severe; `never` reports and exits 0.
    #[arg(
        long,
        value_enum,
        value_name = "SEVERITY",
        default_value_t = FailOn::Low,
        conflicts_with = "init"
    )]
    pub fail_on: FailOn,
    /// Check only this rule of the policy (repeatable).
    #[arg(
        long = "rule",
        value_name = "RULE",
        value_parser = clap::builder::PossibleValuesParser::new(RULE_NAMES),
        conflicts_with = "init"
    )]
    pub rules: Vec<String>,
    /// Print only the grant records the findings name, each once: the input of
    /// `revoke --from-file -`.
    #[arg(long, conflicts_with = "init")]
    pub grants: bool,
    /// Write a commented starter policy drawn from the workspace instead of checking: today's
    /// Workspace Owners, email domains and invite count pinned, other rules explained.
    #[arg(long)]
    pub init: bool,
    /// Where --init writes (`-`: standard output) [default: segment-access-policy.toml].
    #[arg(long, value_name = "FILE", requires = "init")]
    pub out: Option<PathBuf>,
    /// Let --init replace an existing file.
    #[arg(long, requires = "init")]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Low,
    Medium,
    High,
    Critical,
    /// Report findings, exit 0.
    Never,
}

impl FailOn {
    fn fails(self, s: Severity) -> bool {
        let floor = match self {
            FailOn::Low => Severity::Low,
            FailOn::Medium => Severity::Medium,
            FailOn::High => Severity::High,
            FailOn::Critical => Severity::Critical,
            FailOn::Never => return false,
        };
        s >= floor
    }

    fn as_str(self) -> &'static str {
        match self {
            FailOn::Low => "low",
            FailOn::Medium => "medium",
            FailOn::High => "high",
            FailOn::Critical => "critical",
            FailOn::Never => "never",
        }
    }
}

pub(crate) async fn run(args: CheckArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    if args.init {
        return init(args, ctx).await;
    }
    let (path, mut policy) = read_policy(args.policy.as_deref())?;
    if !args.rules.is_empty() {
        for r in &args.rules {
            if !policy.rules.iter().any(|x| x.check.name() == r) {
                return Err(CliError::usage(format!(
                    "{path} has no `{r}` rule (--rule names rules of the policy)"
                )));
            }
        }
        policy
            .rules
            .retain(|x| args.rules.iter().any(|r| r == x.check.name()));
    }
    let source = ctx
        .source(args.snapshot.as_deref(), Breadth::Everyone)
        .await?;
    let dir = source
        .directory(policy.need(), ctx.progress("Reading access"))
        .await?;
    if let Some(why) = &dir.resources.spaces_unavailable {
        ctx.note(&format!(
            "note: spaces unknown ({why}); grants on spaces are not checked for dangling_grants"
        ));
    }
    let found = policy::findings(&dir, &policy).map_err(|e| policy_error(e, &path))?;
    let failing = found
        .iter()
        .filter(|f| args.fail_on.fails(f.severity))
        .count();
    if args.grants {
        let grants = policy::grants_of(&found);
        let n = ctx.print_list(grants)?;
        if ctx.renderer.is_table() {
            ctx.note(&format!(
                "{} named by {} against {path}",
                plural(n, "grant record"),
                plural(found.len(), "finding")
            ));
        }
    } else {
        ctx.print_list(&found)?;
        if ctx.renderer.is_table() {
            let summary = summary(&found, policy.rules.len(), &path, args.fail_on, failing);
            ctx.note(&summary);
        }
    }
    Ok(if failing > 0 {
        ExitCode::Failure
    } else {
        ExitCode::Ok
    })
}

/// The line under the table: how many findings of which severity, and what the exit says.
fn summary(found: &[Finding], rules: usize, path: &str, fail_on: FailOn, failing: usize) -> String {
    if found.is_empty() {
        return format!(
            "no findings: the workspace meets {path} ({})",
            plural(rules, "rule")
        );
    }
    let by: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| {
            let n = found.iter().filter(|f| f.severity == *s).count();
            (n > 0).then(|| format!("{n} {}", s.as_str()))
        })
        .collect();
    let mut s = format!(
        "{} ({}) against {path}",
        plural(found.len(), "finding"),
        by.join(", ")
    );
    if failing == 0 {
        s.push_str(&format!(
            "; none at or above --fail-on {}",
            fail_on.as_str()
        ));
    }
    s
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The policy file named, or the default one; its text parsed. Exit 2 for anything wrong.
pub(super) fn read_policy(given: Option<&Path>) -> Result<(String, policy::Policy), CliError> {
    let path = given.unwrap_or(Path::new(DEFAULT_POLICY));
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && given.is_none() => {
            let mut err = CliError::usage(format!(
                "no policy to check: {DEFAULT_POLICY} is not in the current directory"
            ));
            err.hint = Some(
                "write a starter policy from this workspace with `segment-access check --init`, or name one with --policy FILE"
                    .into(),
            );
            return Err(err);
        }
        Err(e) => {
            return Err(
                CliError::usage(format!("cannot read the policy {shown}: {e}")).with_source(e),
            );
        }
    };
    let policy = policy::parse(&text).map_err(|e| policy_error(e, &shown))?;
    Ok((shown, policy))
}

pub(super) fn policy_error(e: PolicyError, file: &str) -> CliError {
    let e = e.in_file(file);
    let mut err = CliError::usage(e.to_string());
    err.hint = e.hint.clone();
    err
}

async fn init(args: CheckArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    let out = args.out.unwrap_or_else(|| PathBuf::from(DEFAULT_POLICY));
    let to_stdout = out.as_os_str() == "-";
    if !to_stdout && !args.force && out.exists() {
        return Err(exists(&out));
    }
    let source = ctx
        .source(args.snapshot.as_deref(), Breadth::Everyone)
        .await?;
    let need = Need {
        labels: true,
        ..Need::everything()
    };
    let dir = source
        .directory(need, ctx.progress("Reading workspace"))
        .await?;
    let s = policy::starter(&dir);
    if to_stdout {
        ctx.io
            .out
            .write_all(s.text.as_bytes())
            .and_then(|()| ctx.io.out.flush())
            .map_err(CliError::stdout)?;
        return Ok(ExitCode::Ok);
    }
    write_new(&out, &s.text, args.force)?;
    let mut note = format!(
        "wrote {} ({} on, {} off)",
        out.display(),
        s.on.len(),
        s.off.len()
    );
    for name in &s.on {
        let pinned = match (*name, s.owners) {
            ("role_holders", Some((_, people))) => {
                format!(": {} pinned", plural(people, "Workspace Owner"))
            }
            ("email_domains", _) => format!(": {} pinned", plural(s.domains, "domain")),
            _ => String::new(),
        };
        note.push_str(&format!("\n  on   {name}{pinned}"));
    }
    for (name, n) in &s.off {
        let why = match n {
            Some(n) => format!("{} today", plural(*n, "finding")),
            None => "not drawn from this workspace".to_string(),
        };
        note.push_str(&format!("\n  off  {name}: {why}"));
    }
    let demo = if ctx.global.demo { " --demo" } else { "" };
    let check = if out == Path::new(DEFAULT_POLICY) {
        format!("segment-access{demo} check")
    } else {
        format!("segment-access{demo} check --policy {}", out.display())
    };
    note.push_str(&format!("\nnext: {check}"));
    ctx.note(&note);
    Ok(ExitCode::Ok)
}

fn exists(path: &Path) -> CliError {
    let mut e = CliError::usage(format!("{} already exists", path.display()));
    e.hint = Some("--force replaces it; --out FILE writes elsewhere, --out - prints it".into());
    e
}

/// Writes the file readable by its owner only (0600): a new file, or with `force` a
/// replacement put in place whole (a temporary file renamed over the old one).
fn write_new(path: &Path, text: &str, force: bool) -> Result<(), CliError> {
    let fail = |e: std::io::Error| {
        CliError::failure(format!("cannot write {}: {e}", path.display())).with_source(e)
    };
    if !force {
        let mut f = open_private(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => exists(path),
            _ => fail(e),
        })?;
        return f
            .write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(fail);
    }
    crate::files::write_private_atomic(path, text.as_bytes()).map_err(fail)
}

fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    crate::files::private_options()
        .write(true)
        .create_new(true)
        .open(path)
}

impl Tabular for Finding {
    fn headers() -> Vec<&'static str> {
        vec!["SEVERITY", "RULE", "PRINCIPAL", "FINDING"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.severity.as_str().to_string(),
            self.rule.to_string(),
            self.principal
                .as_ref()
                .map(|p| p.display())
                .unwrap_or_default(),
            {
                let what = match (&self.role, resource_cell(self)) {
                    (Some(r), res) if !res.is_empty() => format!("{} on {res}: ", r.name),
                    (Some(r), _) => format!("{}: ", r.name),
                    _ => String::new(),
                };
                format!("{what}{}", self.message)
            },
        ]
    }

    fn csv_headers() -> Vec<&'static str> {
        vec![
            "severity",
            "rule",
            "principal",
            "role",
            "resource",
            "labels",
            "message",
            "line",
        ]
    }

    fn csv_row(&self) -> Vec<String> {
        let g = self.grant.as_ref();
        vec![
            self.severity.as_str().to_string(),
            self.rule.to_string(),
            self.principal
                .as_ref()
                .map(|p| p.display())
                .unwrap_or_default(),
            self.role
                .as_ref()
                .map(|r| r.name.clone())
                .unwrap_or_default(),
            g.map(|g| g.resource.display()).unwrap_or_default(),
            g.map(|g| g.labels_display()).unwrap_or_default(),
            self.message.clone(),
            self.line.map(|l| l.to_string()).unwrap_or_default(),
        ]
    }
}

/// The grant's resource, with the labels narrowing it: `workspace (environment=prod)`.
fn resource_cell(f: &Finding) -> String {
    match &f.grant {
        Some(g) if g.labels.is_empty() => g.resource.display(),
        Some(g) => format!("{} ({})", g.resource.display(), g.labels_display()),
        None => String::new(),
    }
}
