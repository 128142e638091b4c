//! `segment-access browse`: an interactive audit on a terminal. Pick a person, group, role or
//! resource, see every grant that touches it, and act on what you see. Every change goes
//! through the same plan, confirmation and journal as `grant` and `revoke`.

use clap::Args;

use std::io::Write;

use crate::access::apply::{self, Shape};
use crate::access::grants::{self, GrantFilter, ResourceMatch};
use crate::access::plan::{Action, GroupRef, Item, Want};
use crate::access::record::{GrantRecord, Principal, ResourceKind};
use crate::access::{Directory, Need, resolve, views, wants};
use crate::output::{self, table};
use crate::segment::Client;

use super::choose;
use super::prompt::Prompter;
use super::write::{self, WriteFlags};
use super::{Breadth, CliError, Context, ExitCode};

const HELP: &str = "\
Needs a terminal. Choose a lens (people, groups, roles, resources), find an item by typing part
of its name or email, and see its access as a table: for a person every grant, direct or through
which group; for a resource every principal and role that reaches it. From there: revoke a
grant, grant a role, add to or remove from a group, open a related item, or go back.

Each change shows its plan and asks before it runs; applied changes are journaled and
`segment-access undo` reverts them. Esc goes back at every prompt and changes nothing.
The workspace is read once per session; choose refresh to read it again.

For scripts use `segment-access list grants` (--user, --group, --role, --resource).

Examples:
  segment-access browse
  segment-access --demo browse";

#[derive(Debug, Args)]
#[command(after_help = HELP)]
pub struct BrowseArgs {}

/// What is on screen.
#[derive(Debug, Clone)]
enum View {
    User { id: String },
    Invite { email: String },
    Group { id: String },
    Role { id: String },
    Resource { target: ResourceMatch, name: String },
}

/// What can be done from a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Revoke,
    GrantRole,
    AddToGroup,
    AddMember,
    Open,
    Refresh,
    Back,
}

impl Act {
    fn label(self) -> &'static str {
        match self {
            Act::Revoke => "revoke a direct grant or membership",
            Act::GrantRole => "grant a role",
            Act::AddToGroup => "add to a group",
            Act::AddMember => "add a member",
            Act::Open => "open a related item",
            Act::Refresh => "refresh (read the workspace again)",
            Act::Back => "back",
        }
    }
}

pub(crate) async fn run(_args: BrowseArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    if !ctx.prompter.available() {
        return Err(CliError::usage(
            "browse is interactive and needs a terminal; in scripts use `segment-access list grants` (with --user, --group, --role or --resource)",
        ));
    }
    let client = ctx.client().await?;
    let mut dir = load(ctx, &client).await?;
    let mut stack: Vec<View> = Vec::new();
    loop {
        let Some(view) = stack.last().cloned() else {
            let lenses = [
                "people",
                "groups",
                "roles",
                "resources",
                Act::Refresh.label(),
                "quit",
            ]
            .map(String::from);
            let p = ctx.prompter.as_mut();
            match p.select("Browse", &lenses)? {
                Some(0) => stack.extend(pick_person(p, &dir)?),
                Some(1) => stack.extend(choose::group(p, &dir, &[])?.map(|id| View::Group { id })),
                Some(2) => {
                    stack.extend(choose::role(p, &dir)?.map(|r| View::Role { id: r.id.clone() }))
                }
                Some(3) => stack.extend(pick_resource(p, &dir)?),
                Some(4) => dir = load(ctx, &client).await?,
                _ => break,
            }
            continue;
        };
        let records = records(&dir, &view);
        let width = ctx.term.err_width;
        let heading = table::fit_line(&title(&dir, &view), width);
        let _ = write!(ctx.io.err, "\n{heading}\n{}", table(&records, width));
        let acts = acts(&view, &records);
        let labels: Vec<String> = acts.iter().map(|a| a.label().to_string()).collect();
        let p = ctx.prompter.as_mut();
        let act = match p.select("Action", &labels)? {
            Some(i) => acts[i],
            None => Act::Back,
        };
        let wanted = match act {
            Act::Back => {
                stack.pop();
                continue;
            }
            Act::Refresh => {
                dir = load(ctx, &client).await?;
                continue;
            }
            Act::Open => {
                stack.extend(pick_related(p, &dir, &view, &records)?);
                continue;
            }
            Act::Revoke => pick_revoke(p, &dir, &records)?.map(|w| (Action::Revoke, w)),
            Act::GrantRole => grant_role(p, &dir, &view)?.map(|w| (Action::Grant, w)),
            Act::AddToGroup => add_to_group(p, &dir, &view, &records)?.map(|w| (Action::Grant, w)),
            Act::AddMember => add_member(p, &dir, &view)?.map(|w| (Action::Grant, w)),
        };
        let Some((action, wanted)) = wanted else {
            continue;
        };
        let plan = apply::prepare(&client, action, wanted, &dir, Shape::default()).await;
        match write::run(ctx, &client, plan, WriteFlags::default()).await {
            // What was applied is only known from a fresh read.
            Ok(_) => dir = load(ctx, &client).await?,
            // Ctrl-C at the confirmation ends the session, as it does at every other prompt.
            Err(e) if e.kind == super::error::ErrorKind::Interrupted => return Err(e),
            // Declined, refused or failed: say so and stay on this view.
            Err(e) => ctx.note(&e.message),
        }
    }
    Ok(ExitCode::Ok)
}

/// The whole workspace, read once per session (and on refresh), with a progress bar.
async fn load(ctx: &mut Context, client: &Client) -> Result<Directory, CliError> {
    // Changes are planned from a live read of the principal (apply::prepare), so a cached
    // view is safe to act from.
    let dir = if ctx.use_cache(Breadth::Everyone) {
        ctx.cached_directory("Refreshing the cache").await?.0
    } else {
        ctx.reading_live();
        Directory::load(
            client,
            Need::everything(),
            ctx.progress("Reading workspace"),
        )
        .await?
    };
    if let Some(why) = &dir.resources.spaces_unavailable {
        ctx.note(&format!("note: spaces not listed: {why}"));
    }
    Ok(dir)
}

/// Users and invites, as `choose::principals` lists them.
fn people(dir: &Directory) -> Vec<(String, String)> {
    choose::principals(dir)
        .into_iter()
        .filter(|(id, _)| !id.starts_with("group:"))
        .collect()
}

fn pick_person(p: &mut dyn Prompter, dir: &Directory) -> Result<Option<View>, CliError> {
    let Some(id) = choose::principal(p, "Person (type part of an email or name)", &people(dir))?
    else {
        return Ok(None);
    };
    Ok(Some(match id.strip_prefix("invite:") {
        Some(email) => View::Invite {
            email: email.to_string(),
        },
        None => View::User { id: id.clone() },
    }))
}

fn pick_resource(p: &mut dyn Prompter, dir: &Directory) -> Result<Option<View>, CliError> {
    let rows = views::resources(dir);
    let labels: Vec<String> = rows
        .iter()
        .map(|r| match r.kind {
            ResourceKind::Workspace => format!("workspace ({})", r.name),
            k => format!("{}:{}", k.as_str(), r.name),
        })
        .collect();
    Ok(p.fuzzy("Resource", &labels)?
        .map(|i| resource_view(&rows[i])))
}

fn resource_view(r: &views::ResourceRow) -> View {
    View::Resource {
        target: ResourceMatch {
            kind: r.kind,
            id: r.id.clone(),
            labels: r.labels.clone(),
        },
        name: match r.kind {
            ResourceKind::Workspace => format!("workspace ({})", r.name),
            k => format!("{}:{}", k.as_str(), r.name),
        },
    }
}

/// Every grant that touches the item on screen.
fn records(dir: &Directory, view: &View) -> Vec<GrantRecord> {
    let filter = match view {
        View::User { id } => GrantFilter {
            user_id: Some(id.clone()),
            ..GrantFilter::default()
        },
        View::Group { id } => GrantFilter {
            group_id: Some(id.clone()),
            ..GrantFilter::default()
        },
        View::Role { id } => GrantFilter {
            role_id: Some(id.clone()),
            ..GrantFilter::default()
        },
        View::Resource { target, .. } => GrantFilter {
            resource: Some(target.clone()),
            ..GrantFilter::default()
        },
        View::Invite { email } => {
            return grants::iter(dir, &GrantFilter::default())
                .filter(|g| matches!(&g.principal, Principal::Invite { email: e } if e == email))
                .collect();
        }
    };
    grants::iter(dir, &filter).collect()
}

fn title(dir: &Directory, view: &View) -> String {
    match view {
        View::User { id } => match dir.user(id) {
            Some(u) => format!("{} ({}): access", u.email, u.name),
            None => format!("user {id}: access"),
        },
        View::Invite { email } => format!(
            "invite:{email}: access (its own roles are unknown: Segment's API does not show them)"
        ),
        View::Group { id } => format!(
            "group:{}: its grants, its members and what they hold through it",
            dir.group(id).map(|g| g.name.as_str()).unwrap_or(id)
        ),
        View::Role { id } => format!(
            "role {}: who holds it",
            dir.roles
                .iter()
                .find(|r| &r.id == id)
                .map(|r| r.name.as_str())
                .unwrap_or(id)
        ),
        View::Resource { name, .. } => format!("{name}: every principal and role that reaches it"),
    }
}

fn role_cell(g: &GrantRecord) -> String {
    match &g.role {
        Some(r) => r.name.clone(),
        None => "(member)".to_string(),
    }
}

fn via_cell(g: &GrantRecord) -> String {
    match &g.via {
        Some(v) => format!("group:{}", v.name),
        None => "direct".to_string(),
    }
}

/// One line per grant, for the revoke and open choices.
fn line(g: &GrantRecord) -> String {
    let mut s = format!(
        "{}  {} on {}",
        g.principal.display(),
        role_cell(g),
        g.resource.display()
    );
    if !g.labels.is_empty() {
        s.push_str(&format!(" [{}]", g.labels_display()));
    }
    s.push_str(&format!("  ({})", via_cell(g)));
    s
}

/// The grants as a table (always a table: browse is for people), indented, fitted to the
/// width of the terminal stderr is on like every table.
fn table(records: &[GrantRecord], width: Option<usize>) -> String {
    if records.is_empty() {
        return "  (no grants)\n".to_string();
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|g| {
            vec![
                g.principal.display(),
                role_cell(g),
                g.resource.display(),
                g.labels_display(),
                via_cell(g),
            ]
        })
        .collect();
    let headers = ["PRINCIPAL", "ROLE", "RESOURCE", "LABELS", "VIA"];
    let give: Vec<output::Give> = headers.iter().map(|h| table::give_for(h)).collect();
    let style = table::Style {
        width: width.map(|w| w.saturating_sub(2)),
        headers: true,
        bold: false,
    };
    let mut out = String::new();
    for line in table::render(&headers, &rows, &give, style) {
        out.push_str("  ");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn acts(view: &View, records: &[GrantRecord]) -> Vec<Act> {
    let mut out = Vec::new();
    if records.iter().any(|g| g.via.is_none()) {
        out.push(Act::Revoke);
    }
    match view {
        View::User { .. } => out.extend([Act::GrantRole, Act::AddToGroup]),
        View::Invite { .. } => out.push(Act::AddToGroup),
        View::Group { .. } => out.extend([Act::GrantRole, Act::AddMember]),
        View::Role { .. } | View::Resource { .. } => {}
    }
    if !records.is_empty() {
        out.push(Act::Open);
    }
    out.extend([Act::Refresh, Act::Back]);
    out
}

/// A grant held directly (or a membership) to take away. Inherited grants are not offered:
/// they go with the membership, or with the group's own grant.
fn pick_revoke(
    p: &mut dyn Prompter,
    dir: &Directory,
    records: &[GrantRecord],
) -> Result<Option<Vec<Want>>, CliError> {
    let direct: Vec<&GrantRecord> = records.iter().filter(|g| g.via.is_none()).collect();
    let labels: Vec<String> = direct.iter().map(|g| line(g)).collect();
    let Some(i) = p.fuzzy("Revoke which", &labels)? else {
        return Ok(None);
    };
    let mut want = wants::from_record(dir, Action::Revoke, 0, direct[i]);
    want.line = None;
    Ok(Some(vec![want]))
}

/// The principal on screen, for grants and memberships.
fn subject(dir: &Directory, view: &View) -> Option<Principal> {
    match view {
        View::User { id } => dir.user(id).map(|u| Principal::User {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
        }),
        View::Invite { email } => Some(Principal::Invite {
            email: email.clone(),
        }),
        View::Group { id } => dir.group(id).map(|g| Principal::Group {
            id: g.id.clone(),
            name: g.name.clone(),
        }),
        View::Role { .. } | View::Resource { .. } => None,
    }
}

fn grant_role(
    p: &mut dyn Prompter,
    dir: &Directory,
    view: &View,
) -> Result<Option<Vec<Want>>, CliError> {
    let Some(principal) = subject(dir, view) else {
        return Ok(None);
    };
    let Some(role) = choose::role(p, dir)? else {
        return Ok(None);
    };
    let Some(on) = choose::resources(p, dir, role)? else {
        return Ok(None);
    };
    let wanted = on
        .iter()
        .map(|r| {
            wants::binding(dir, role, r, &[]).map(|b| Want {
                principal: principal.clone(),
                item: Item::Bind(b),
                line: None,
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::usage(e.to_string()))?;
    Ok(Some(wanted))
}

fn add_to_group(
    p: &mut dyn Prompter,
    dir: &Directory,
    view: &View,
    records: &[GrantRecord],
) -> Result<Option<Vec<Want>>, CliError> {
    let Some(principal) = subject(dir, view) else {
        return Ok(None);
    };
    let already: Vec<String> = records
        .iter()
        .filter(|g| g.is_membership())
        .map(|g| g.resource.id.clone())
        .collect();
    let Some(gid) = choose::group(p, dir, &already)? else {
        return Ok(None);
    };
    Ok(member_want(dir, principal, &gid))
}

fn add_member(
    p: &mut dyn Prompter,
    dir: &Directory,
    view: &View,
) -> Result<Option<Vec<Want>>, CliError> {
    let View::Group { id: gid } = view else {
        return Ok(None);
    };
    let Some(who) = choose::principal(p, "Add whom", &people(dir))? else {
        return Ok(None);
    };
    let principal = wants::principal(dir, &who)?;
    Ok(member_want(dir, principal, gid))
}

fn member_want(dir: &Directory, principal: Principal, group_id: &str) -> Option<Vec<Want>> {
    let g = dir.group(group_id)?;
    Some(vec![Want {
        principal,
        item: Item::Member(GroupRef {
            id: g.id.clone(),
            name: g.name.clone(),
        }),
        line: None,
    }])
}

/// Items the grants on screen lead to: their principals, the groups they come through, and
/// their resources.
fn pick_related(
    p: &mut dyn Prompter,
    dir: &Directory,
    view: &View,
    records: &[GrantRecord],
) -> Result<Option<View>, CliError> {
    let mut related: Vec<(String, View)> = Vec::new();
    let mut add = |label: String, v: View| {
        if !related.iter().any(|(l, _)| l == &label) {
            related.push((label, v));
        }
    };
    for g in records {
        match &g.principal {
            Principal::User { id, email, .. } if !matches!(view, View::User { .. }) => {
                add(email.clone(), View::User { id: id.clone() })
            }
            Principal::Invite { email } if !matches!(view, View::Invite { .. }) => add(
                format!("invite:{email}"),
                View::Invite {
                    email: email.clone(),
                },
            ),
            Principal::Group { id, name } if !matches!(view, View::Group { id: v } if v == id) => {
                add(format!("group:{name}"), View::Group { id: id.clone() })
            }
            _ => {}
        }
        if let Some(v) = &g.via
            && !matches!(view, View::Group { id } if id == &v.id)
        {
            add(
                format!("group:{}", v.name),
                View::Group { id: v.id.clone() },
            );
        }
        if g.resource.kind == ResourceKind::Group {
            if !matches!(view, View::Group { id } if id == &g.resource.id) {
                add(
                    g.resource.display(),
                    View::Group {
                        id: g.resource.id.clone(),
                    },
                );
            }
        } else if let Ok(r) = resolve::resource(
            dir,
            &format!("{}:{}", g.resource.kind.as_str(), g.resource.id),
        ) {
            let row = views::ResourceRow {
                kind: r.kind,
                id: r.id,
                name: r.name,
                slug: None,
                labels: r.labels,
            };
            let v = resource_view(&row);
            let same = matches!((view, &v), (View::Resource { name: a, .. }, View::Resource { name: b, .. }) if a == b);
            if !same {
                add(g.resource.display(), v);
            }
        }
        if let Some(role) = &g.role
            && !matches!(view, View::Role { id } if id == &role.id)
        {
            add(
                format!("role {}", role.name),
                View::Role {
                    id: role.id.clone(),
                },
            );
        }
    }
    let labels: Vec<String> = related.iter().map(|(l, _)| l.clone()).collect();
    Ok(p.fuzzy("Open", &labels)?.map(|i| related[i].1.clone()))
}
