//! Choosing from the workspace on a terminal: a principal, a role and where to bind it, a group.
//! Used by `grant`/`revoke` for what their command line left out and by `browse` for every
//! choice it offers. Each returns `None` when the person backed out with Esc.

use crate::access::Directory;
use crate::access::record::ResourceKind;
use crate::access::views;
use crate::access::wants;
use crate::segment::models::Role;

use super::error::CliError;
use super::prompt::Prompter;

/// Every principal as the command line writes it, with a label for people. Ids rather than
/// names, because two groups may share a name.
pub(super) fn principals(dir: &Directory) -> Vec<(String, String)> {
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

/// A principal of `candidates` (as `principals` lists them), found by typing.
pub(super) fn principal(
    p: &mut dyn Prompter,
    prompt: &str,
    candidates: &[(String, String)],
) -> Result<Option<String>, CliError> {
    let labels: Vec<String> = candidates.iter().map(|(_, l)| l.clone()).collect();
    Ok(p.fuzzy(prompt, &labels)?.map(|i| candidates[i].0.clone()))
}

/// A role, by name.
pub(super) fn role<'a>(
    p: &mut dyn Prompter,
    dir: &'a Directory,
) -> Result<Option<&'a Role>, CliError> {
    let mut roles: Vec<&Role> = dir.roles.iter().collect();
    roles.sort_by_key(|r| r.name.to_lowercase());
    let names: Vec<String> = roles.iter().map(|r| r.name.clone()).collect();
    Ok(p.fuzzy("Role", &names)?.map(|i| roles[i]))
}

/// Resources `role` can be bound to, as `--on` values; only those its role table allows are
/// offered. A role bindable to one resource only (the workspace) is not asked about.
pub(super) fn resources(
    p: &mut dyn Prompter,
    dir: &Directory,
    role: &Role,
) -> Result<Option<Vec<String>>, CliError> {
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
    let picked = p.multi_select(
        &format!(
            "Resources for {} (space to mark, enter to accept)",
            role.name
        ),
        &labels,
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
pub(super) fn group(
    p: &mut dyn Prompter,
    dir: &Directory,
    except: &[String],
) -> Result<Option<String>, CliError> {
    let mut groups: Vec<_> = dir
        .groups
        .iter()
        .filter(|g| !except.contains(&g.id))
        .collect();
    groups.sort_by_key(|g| g.name.to_lowercase());
    let names: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
    Ok(p.fuzzy("Group", &names)?.map(|i| groups[i].id.clone()))
}

/// What a `grant`/`revoke` command line names; the prompts fill in what it left out.
#[derive(Debug, Clone, Default)]
pub(super) struct Asked {
    pub to: Option<String>,
    pub role: Option<String>,
    pub on: Vec<String>,
    pub group: Option<String>,
}

/// Asks for what `grant`/`revoke` was not told: who, then a role (and where) or a group.
/// `false` when the person backed out.
pub(super) fn fill(
    p: &mut dyn Prompter,
    dir: &Directory,
    asked: &mut Asked,
    all: bool,
) -> Result<bool, CliError> {
    if asked.to.is_none() {
        let Some(who) = principal(p, "Who (type part of an email or name)", &principals(dir))?
        else {
            return Ok(false);
        };
        asked.to = Some(who);
    }
    if all || asked.role.is_some() || asked.group.is_some() {
        return Ok(true);
    }
    let what = ["a role".to_string(), "a group membership".to_string()];
    match p.select("What", &what)? {
        Some(0) => {
            let Some(role) = role(p, dir)? else {
                return Ok(false);
            };
            let Some(on) = resources(p, dir, role)? else {
                return Ok(false);
            };
            asked.role = Some(role.id.clone());
            asked.on = on;
        }
        Some(_) => {
            let Some(g) = group(p, dir, &[])? else {
                return Ok(false);
            };
            asked.group = Some(g);
        }
        None => return Ok(false),
    }
    Ok(true)
}
