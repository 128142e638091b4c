//! Asking on the terminal: for what a `grant` or `revoke` command line left out, and for every
//! choice `browse` offers. Esc (or q in a list) answers `None`, which callers treat as back or
//! cancel, so a person can always leave a prompt without changing anything.

use std::io::IsTerminal;

use dialoguer::{Confirm, FuzzySelect, MultiSelect, Select};

use crate::access::Directory;
use crate::access::record::ResourceKind;
use crate::access::views;
use crate::access::wants;
use crate::segment::models::Role;

use super::grant::ChangeArgs;
use super::{CliError, Context};

/// Prompts draw on stderr and read stdin; both must be a terminal.
pub fn can_prompt(ctx: &Context) -> bool {
    ctx.stderr_tty && std::io::stdin().is_terminal()
}

/// Esc is an answer (`None`). Ctrl-C normally never gets here (the prompt library raises
/// SIGINT, which ends the process); when SIGINT is ignored the read fails as interrupted, and
/// the command ends with nothing changed.
fn answer<T>(r: dialoguer::Result<Option<T>>) -> Result<Option<T>, CliError> {
    match r {
        Ok(v) => Ok(v),
        Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
            // dialoguer hides the cursor while a list is open and returns early on Ctrl-C
            // without showing it again; the shell would be left without one.
            eprintln!("\x1b[?25h");
            Err(CliError::failure("interrupted; nothing was changed"))
        }
        Err(e) => Err(CliError::failure(format!(
            "cannot ask on the terminal: {e}"
        ))),
    }
}

/// One of `items`, found by typing part of it.
pub fn fuzzy(prompt: &str, items: &[String]) -> Result<Option<usize>, CliError> {
    if items.is_empty() {
        eprintln!("{prompt}: nothing to choose from");
        return Ok(None);
    }
    answer(
        FuzzySelect::new()
            .with_prompt(prompt)
            .items(items)
            .default(0)
            .max_length(15)
            .interact_opt(),
    )
}

/// One of a few `items`, with the arrow keys.
pub fn select(prompt: &str, items: &[String]) -> Result<Option<usize>, CliError> {
    if items.is_empty() {
        eprintln!("{prompt}: nothing to choose from");
        return Ok(None);
    }
    answer(
        Select::new()
            .with_prompt(prompt)
            .items(items)
            .default(0)
            .max_length(15)
            .interact_opt(),
    )
}

/// Yes, no, or `None` for Esc. No is the default: Enter alone never changes anything.
pub fn confirm(question: &str) -> Result<Option<bool>, CliError> {
    answer(
        Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact_opt(),
    )
}

/// Every principal as the command line writes it, with a label for people. Ids rather than
/// names, because two groups may share a name.
pub fn principals(dir: &Directory) -> Vec<(String, String)> {
    let mut users: Vec<(String, String)> = dir
        .users
        .iter()
        .map(|u| (u.id.clone(), format!("{} ({})", u.email, u.name)))
        .collect();
    users.sort_by_key(|(_, l)| l.to_lowercase());
    let mut invites: Vec<(String, String)> = dir
        .invites
        .iter()
        .map(|e| (format!("invite:{e}"), format!("invite:{e}")))
        .collect();
    invites.sort_by_key(|(_, l)| l.to_lowercase());
    let mut groups: Vec<(String, String)> = dir
        .groups
        .iter()
        .map(|g| (format!("group:{}", g.id), format!("group:{}", g.name)))
        .collect();
    groups.sort_by_key(|(_, l)| l.to_lowercase());
    users.into_iter().chain(invites).chain(groups).collect()
}

/// A role, by name.
pub fn role(dir: &Directory) -> Result<Option<&Role>, CliError> {
    let mut roles: Vec<&Role> = dir.roles.iter().collect();
    roles.sort_by_key(|r| r.name.to_lowercase());
    let names: Vec<String> = roles.iter().map(|r| r.name.clone()).collect();
    Ok(fuzzy("Role", &names)?.map(|i| roles[i]))
}

/// Resources `role` can be bound to, as `--on` values; only those its role table allows are
/// offered. A role bindable to one resource only (the workspace) is not asked about.
pub fn resources(dir: &Directory, role: &Role) -> Result<Option<Vec<String>>, CliError> {
    let rows: Vec<views::ResourceRow> = views::resources(dir)
        .into_iter()
        .filter(|r| {
            r.kind
                .api_type()
                .is_some_and(|t| wants::binding_problem(role, t, &[]).is_none())
        })
        .collect();
    let on = |r: &views::ResourceRow| match r.kind {
        ResourceKind::Workspace => "workspace".to_string(),
        k => format!("{}:{}", k.as_str(), r.id),
    };
    if rows.len() == 1 {
        return Ok(Some(vec![on(&rows[0])]));
    }
    let labels: Vec<String> = rows
        .iter()
        .map(|r| match r.kind {
            ResourceKind::Workspace => format!("workspace (all of {})", r.name),
            k => format!("{}:{}", k.as_str(), r.name),
        })
        .collect();
    if labels.is_empty() {
        eprintln!("role {:?} cannot be bound to any resource here", role.name);
        return Ok(None);
    }
    let picked = answer(
        MultiSelect::new()
            .with_prompt(format!(
                "Resources for {} (space to mark, enter to accept)",
                role.name
            ))
            .items(&labels)
            .max_length(15)
            .interact_opt(),
    )?;
    Ok(match picked {
        Some(ix) if !ix.is_empty() => Some(ix.into_iter().map(|i| on(&rows[i])).collect()),
        Some(_) => {
            eprintln!("no resource marked; nothing was changed");
            None
        }
        None => None,
    })
}

/// A group, by name, leaving out `except` (ids).
pub fn group(dir: &Directory, except: &[String]) -> Result<Option<String>, CliError> {
    let mut groups: Vec<_> = dir
        .groups
        .iter()
        .filter(|g| !except.contains(&g.id))
        .collect();
    groups.sort_by_key(|g| g.name.to_lowercase());
    let names: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
    Ok(fuzzy("Group", &names)?.map(|i| groups[i].id.clone()))
}

/// Asks for what `grant`/`revoke` was not told: who, then a role (and where) or a group.
/// `false` when the person backed out.
pub fn fill(dir: &Directory, args: &mut ChangeArgs, all: bool) -> Result<bool, CliError> {
    if args.to.is_none() {
        let all_principals = principals(dir);
        let labels: Vec<String> = all_principals.iter().map(|(_, l)| l.clone()).collect();
        let Some(i) = fuzzy("Who (type part of an email or name)", &labels)? else {
            return Ok(false);
        };
        args.to = Some(all_principals[i].0.clone());
    }
    if all || args.role.is_some() || args.group.is_some() {
        return Ok(true);
    }
    let what = ["a role".to_string(), "a group membership".to_string()];
    match select("What", &what)? {
        Some(0) => {
            let Some(role) = role(dir)? else {
                return Ok(false);
            };
            let Some(on) = resources(dir, role)? else {
                return Ok(false);
            };
            args.role = Some(role.id.clone());
            args.on = on;
        }
        Some(_) => {
            let Some(g) = group(dir, &[])? else {
                return Ok(false);
            };
            args.group = Some(g);
        }
        None => return Ok(false),
    }
    Ok(true)
}
