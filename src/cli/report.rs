//! `segment-access report FILE.db`: the access-review sheet an auditor asks for.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::access::grants;
use crate::access::record::{GrantRecord, Principal};
use std::io::Write;

use crate::output::{Format, Tabular, table};

use super::{CliError, Context, ExitCode};

const REPORT_HELP: &str = "\
One row per person (users, then pending invites): the groups they are in and every role they hold,
each with where it comes from (direct, or group:<name>). On a terminal it reads person by person,
fitted to the width; --wide shows every value whole. Segment's API does not show the roles a
pending invite was sent with, so an invite's own roles are shown as unknown. Meant for access
reviews: --format md for a Markdown table, --format csv for a spreadsheet; json and ndjson work too.

Examples:
  segment-access report access.db --format md > review.md
  segment-access report access.db --format csv > review.csv";

#[derive(Debug, Args)]
#[command(after_help = REPORT_HELP)]
pub struct ReportArgs {
    /// A snapshot written by `sync --out`.
    #[arg(value_name = "FILE.db")]
    pub snapshot: PathBuf,
}

/// One role a person holds, and through what.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Holding {
    pub role: String,
    /// `workspace` or `type:name`.
    pub resource: String,
    pub labels: Vec<String>,
    /// `direct` or `group:<name>`.
    pub source: String,
}

impl Holding {
    fn display(&self) -> String {
        let labels = if self.labels.is_empty() {
            String::new()
        } else {
            format!(" [{}]", self.labels.join(","))
        };
        format!(
            "{} on {}{} ({})",
            self.role, self.resource, labels, self.source
        )
    }
}

/// One person's access.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct ReportRow {
    /// `user` or `invite`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
    pub email: String,
    pub name: Option<String>,
    pub groups: Vec<String>,
    pub access: Vec<Holding>,
    /// Whether `access` holds the person's own (direct) roles: false for pending invites,
    /// whose roles Segment's API does not show.
    #[serde(rename = "directKnown")]
    pub direct_known: bool,
    /// What the report is of, for CSV's leading columns (JSON rows stay as they are, so
    /// `jq '.[]'` pipelines keep working).
    #[serde(skip)]
    pub about: Option<std::sync::Arc<About>>,
}

/// What a report is of: the workspace, when its snapshot was taken, and by what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct About {
    pub workspace: Option<crate::segment::models::Workspace>,
    /// RFC 3339, as the snapshot recorded it.
    pub taken_at: String,
    /// The tool that took the snapshot.
    pub snapshot_tool: String,
}

impl About {
    fn of(snap: &crate::snapshot::read::Snapshot) -> About {
        let meta = |k: &str| snap.meta.get(k).cloned().unwrap_or_default();
        About {
            workspace: snap.dir.workspace.clone(),
            taken_at: meta("taken_at"),
            snapshot_tool: meta("tool_version"),
        }
    }

    fn workspace_name(&self) -> String {
        match &self.workspace {
            Some(w) => format!("{} ({})", w.name, w.slug),
            None => "(unknown workspace)".to_string(),
        }
    }

    fn slug(&self) -> String {
        self.workspace
            .as_ref()
            .map(|w| w.slug.clone())
            .unwrap_or_default()
    }

    /// The heading of a table: who, when, by what.
    fn lines(&self) -> [String; 2] {
        [
            format!("Access report for {}", self.workspace_name()),
            format!(
                "Snapshot taken {} by segment-access {}; report by segment-access {}",
                self.taken_at,
                self.snapshot_tool,
                super::VERSION
            ),
        ]
    }

    /// The heading of a Markdown report: a title and a list, then the table.
    fn markdown(&self) -> String {
        let id = self
            .workspace
            .as_ref()
            .map(|w| format!(", id `{}`", w.id))
            .unwrap_or_default();
        let name = self
            .workspace
            .as_ref()
            .map_or("(unknown workspace)", |w| &w.name);
        format!(
            "# Access report: {name}\n\n\
             - Workspace: {name} (`{slug}`{id})\n\
             - Snapshot taken: {taken} (segment-access {tool})\n\
             - Report made by: segment-access {version}\n\n",
            slug = self.slug(),
            taken = self.taken_at,
            tool = self.snapshot_tool,
            version = super::VERSION,
        )
    }
}

/// `text` in bold when colour is on.
fn bold(text: &str, on: bool) -> String {
    match on {
        true => format!("\x1b[1m{text}\x1b[0m"),
        false => text.to_string(),
    }
}

/// What an invite's own roles are shown as.
const UNKNOWN_DIRECT: &str =
    "own roles unknown (Segment's API does not show the roles of a pending invite)";

impl ReportRow {
    /// Every holding and, for an invite, that its own roles are unknown.
    fn access_lines(&self) -> Vec<String> {
        let mut v: Vec<String> = self.access.iter().map(Holding::display).collect();
        if !self.direct_known {
            v.push(UNKNOWN_DIRECT.to_string());
        }
        v
    }
}

impl Tabular for ReportRow {
    fn headers() -> Vec<&'static str> {
        vec!["TYPE", "EMAIL", "NAME", "GROUPS", "ACCESS"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.kind.clone(),
            self.email.clone(),
            self.name.clone().unwrap_or_default(),
            self.groups.join(", "),
            match self.access_lines() {
                v if v.is_empty() => "(none)".to_string(),
                v => v.join("; "),
            },
        ]
    }
    fn csv_headers() -> Vec<&'static str> {
        vec![
            "workspace",
            "snapshot_taken_at",
            "type",
            "id",
            "email",
            "name",
            "groups",
            "access",
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        let mut c = self.cells();
        c.insert(1, self.id.clone().unwrap_or_default());
        let (slug, taken) = match &self.about {
            Some(a) => (a.slug(), a.taken_at.clone()),
            None => Default::default(),
        };
        c.insert(0, taken);
        c.insert(0, slug);
        c
    }
}

/// Every person with their grants: users listed in the workspace (even with no access at all),
/// then invites that hold anything or are pending.
pub(crate) fn rows(dir: &crate::access::Directory) -> Vec<ReportRow> {
    let mut out: Vec<ReportRow> = Vec::new();
    let mut by_key: std::collections::HashMap<(String, String), usize> =
        std::collections::HashMap::new();
    let mut users = dir.users.clone();
    users.sort_by_key(|u| (u.email.to_lowercase(), u.id.clone()));
    for u in &users {
        by_key.insert(("user".into(), u.id.clone()), out.len());
        out.push(ReportRow {
            kind: "user".into(),
            id: Some(u.id.clone()),
            email: u.email.clone(),
            name: Some(u.name.clone()),
            groups: Vec::new(),
            access: Vec::new(),
            direct_known: true,
            about: None,
        });
    }
    let mut invites = dir.invites.clone();
    invites.sort_by_key(|e| e.to_lowercase());
    invites.dedup();
    for e in &invites {
        by_key.insert(("invite".into(), e.clone()), out.len());
        out.push(invite_row(e));
    }
    for g in grants::all_grants(dir) {
        let key = match &g.principal {
            Principal::User { id, .. } => ("user".to_string(), id.clone()),
            Principal::Invite { email } => ("invite".to_string(), email.clone()),
            Principal::Group { .. } => continue,
        };
        let i = match by_key.get(&key) {
            Some(i) => *i,
            None => {
                // Known only as a group member (e.g. an invite withdrawn from the workspace
                // list but still in a group): still a person with access.
                let row = match &g.principal {
                    Principal::User { id, email, name } => ReportRow {
                        kind: "user".into(),
                        id: Some(id.clone()),
                        email: email.clone(),
                        name: Some(name.clone()),
                        groups: Vec::new(),
                        access: Vec::new(),
                        direct_known: true,
                        about: None,
                    },
                    Principal::Invite { email } => invite_row(email),
                    Principal::Group { .. } => continue,
                };
                by_key.insert(key, out.len());
                out.push(row);
                out.len() - 1
            }
        };
        add(&mut out[i], &g);
    }
    out
}

fn invite_row(email: &str) -> ReportRow {
    ReportRow {
        kind: "invite".into(),
        id: None,
        email: email.to_string(),
        name: None,
        groups: Vec::new(),
        access: Vec::new(),
        direct_known: false,
        about: None,
    }
}

fn add(row: &mut ReportRow, g: &GrantRecord) {
    if g.is_membership() {
        row.groups.push(
            g.resource
                .name
                .clone()
                .unwrap_or_else(|| g.resource.id.clone()),
        );
        return;
    }
    let Some(role) = &g.role else { return };
    row.access.push(Holding {
        role: role.name.clone(),
        resource: g.resource.display(),
        labels: g.labels.iter().map(|l| l.to_string()).collect(),
        source: match &g.via {
            Some(v) => format!("group:{}", v.name),
            None => "direct".to_string(),
        },
    });
}

pub(crate) async fn run(args: ReportArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    let snap = crate::snapshot::read(&args.snapshot)?;
    let about = std::sync::Arc::new(About::of(&snap));
    let mut rows = rows(&snap.dir);
    for r in &mut rows {
        r.about = Some(about.clone());
    }
    let heading = match ctx.renderer.format {
        Format::Table | Format::Wide if ctx.renderer.headers => {
            let [a, b] = about.lines();
            let fit = |l: String| table::fit_line(&l, ctx.renderer.width);
            format!("{}\n{}\n\n", bold(&fit(a), ctx.renderer.color), fit(b))
        }
        Format::Markdown => about.markdown(),
        _ => String::new(),
    };
    write!(ctx.io.out, "{heading}").map_err(CliError::stdout)?;
    match ctx.term.stdout && ctx.renderer.is_table() {
        // On a terminal: person by person, each role on its own line (fitted unless --wide).
        true => {
            for line in by_person(&rows, ctx.renderer.width, ctx.renderer.color) {
                writeln!(ctx.io.out, "{line}").map_err(CliError::stdout)?;
            }
            ctx.io.out.flush().map_err(CliError::stdout)?;
        }
        false => {
            ctx.print_list(rows)?;
        }
    }
    Ok(ExitCode::Ok)
}

/// The report for a person at a terminal: a line per person (email, name, groups), then a line
/// per role they hold, indented, in columns aligned across the whole report and fitted to
/// `width` like every table (`None`: values whole).
pub(crate) fn by_person(rows: &[ReportRow], width: Option<usize>, color: bool) -> Vec<String> {
    const INDENT: &str = "  ";
    let mut cells: Vec<Vec<String>> = Vec::new();
    for r in rows {
        for h in &r.access {
            cells.push(vec![
                h.role.clone(),
                h.resource.clone(),
                h.labels.join(","),
                h.source.clone(),
            ]);
        }
    }
    let style = table::Style {
        width: width.map(|w| w.saturating_sub(INDENT.len())),
        headers: false,
        bold: false,
    };
    let give = [
        table::CUT_LAST,
        table::CUT_LAST,
        table::CUT_LISTS,
        table::CUT_NAMES,
    ];
    let mut held =
        table::render(&["ROLE", "RESOURCE", "LABELS", "VIA"], &cells, &give, style).into_iter();
    let mut out = Vec::new();
    for r in rows {
        let who = match r.kind.as_str() {
            "invite" => format!("invite:{}", r.email),
            _ => r.email.clone(),
        };
        let mut heading = vec![who];
        heading.extend(r.name.clone().filter(|n| !n.is_empty()));
        if !r.groups.is_empty() {
            heading.push(format!("groups: {}", r.groups.join(", ")));
        }
        let heading = table::fit_line(&heading.join("  "), width);
        out.push(bold(&heading, color));
        for _ in &r.access {
            if let Some(l) = held.next() {
                out.push(format!("{INDENT}{l}"));
            }
        }
        if !r.direct_known {
            out.push(table::fit_line(&format!("{INDENT}{UNKNOWN_DIRECT}"), width));
        } else if r.access.is_empty() {
            out.push(format!("{INDENT}(no access)"));
        }
    }
    out
}
