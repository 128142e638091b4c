//! `check --init`: a commented starter policy drawn from a workspace. It pins today's Workspace
//! Owners, email domains and invite count, so the workspace it was drawn from passes it and a
//! new owner (or domain) is a finding; every other rule is written out with its explanation,
//! switched on when the workspace already meets it and commented out (with today's count of
//! findings) when it does not.

use std::collections::BTreeSet;

use crate::access::directory::Directory;
use crate::access::record::Principal;

use super::{Check, Named, Policy, Rule, VERSION, findings};

/// The starter policy's text, and what it holds.
#[derive(Debug, Clone)]
pub(crate) struct Starter {
    pub text: String,
    /// Rules switched on.
    pub on: Vec<&'static str>,
    /// Rules commented out, with how many findings each has today (`None`: the rule could
    /// not be drawn from this workspace).
    pub off: Vec<(&'static str, Option<usize>)>,
    /// Workspace Owners pinned: (allow-list entries, people holding the role).
    pub owners: Option<(usize, usize)>,
    pub domains: usize,
}

/// One rule's block: what it means (comment lines), its TOML, and the rule to try it with.
struct Block {
    about: Vec<String>,
    toml: Vec<String>,
    rule: Option<Rule>,
    /// Why the rule could not be drawn from this workspace, when it could not.
    unavailable: Option<String>,
}

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn array(items: &[String]) -> String {
    let one_line = format!(
        "[{}]",
        items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    );
    if one_line.len() <= 72 {
        return one_line;
    }
    let mut s = "[\n".to_string();
    for i in items {
        s.push_str(&format!("    {},\n", q(i)));
    }
    s.push(']');
    s
}

fn lines(s: &str) -> Vec<String> {
    s.lines().map(str::to_string).collect()
}

/// The starter policy for a workspace.
pub(crate) fn starter(dir: &Directory) -> Starter {
    let mut blocks = Vec::new();
    let mut owners = None;

    // Workspace Owners, pinned.
    let owner_role = dir
        .roles
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case("Workspace Owner"));
    let about = lines(
        "Who may hold Workspace Owner: the emails listed, and group:<name> for a group and\n\
         its members. `max` caps how many people hold it, however they hold it. Pinned to\n\
         today's owners: a new owner is a finding.",
    );
    match owner_role {
        Some(role) => {
            let records = crate::access::grants::all_grants(dir);
            let of_role: Vec<_> = records
                .iter()
                .filter(|g| g.role.as_ref().is_some_and(|r| r.id == role.id))
                .collect();
            let mut users = BTreeSet::new();
            let mut groups = BTreeSet::new();
            let mut people = BTreeSet::new();
            for g in &of_role {
                match (&g.principal, &g.via) {
                    (Principal::Group { name, .. }, None) => {
                        groups.insert(format!("group:{name}"));
                    }
                    (Principal::User { email, .. }, None) => {
                        users.insert(email.to_lowercase());
                    }
                    _ => {}
                }
                if !matches!(g.principal, Principal::Group { .. }) {
                    people.insert(g.principal.sort_key());
                }
            }
            let allow: Vec<String> = users.into_iter().chain(groups).collect();
            owners = Some((allow.len(), people.len()));
            let max = u32::try_from(people.len()).unwrap_or(u32::MAX);
            blocks.push(Block {
                about,
                toml: vec![
                    "[[rules.role_holders]]".into(),
                    format!("role = {}", q(&role.name)),
                    format!("allow = {}", array(&allow)),
                    format!("max = {max}"),
                    "severity = \"critical\"".into(),
                ],
                rule: Some(Rule::new(Check::RoleHolders {
                    role: Named::new(role.name.clone()),
                    allow: allow.iter().map(Named::new).collect(),
                    max: Some(max),
                })),
                unavailable: None,
            });
        }
        None => blocks.push(Block {
            about,
            toml: lines(
                "[[rules.role_holders]]\nrole = \"Workspace Owner\"\nallow = []\nmax = 1\nseverity = \"critical\"",
            ),
            rule: None,
            unavailable: Some("the workspace lists no Workspace Owner role".into()),
        }),
    }

    // Direct grants.
    let except = if owner_role.is_some() {
        vec!["Workspace Owner".to_string()]
    } else {
        Vec::new()
    };
    blocks.push(Block {
        about: lines(
            "Roles come through groups: a user's own (direct) grant is a finding unless its role\n\
             is listed in `except_roles`.",
        ),
        toml: vec![
            "[rules.no_direct_grants]".into(),
            format!("except_roles = {}", array(&except)),
            "severity = \"medium\"".into(),
        ],
        rule: Some(Rule::new(Check::NoDirectGrants {
            except_roles: except.iter().map(Named::new).collect(),
        })),
        unavailable: None,
    });

    // Email domains, pinned.
    let domains: BTreeSet<String> = dir
        .users
        .iter()
        .map(|u| u.email.as_str())
        .chain(dir.invites.iter().map(String::as_str))
        .chain(dir.group_invites.values().flatten().map(String::as_str))
        .filter_map(|e| e.rsplit_once('@').map(|(_, d)| d.to_lowercase()))
        .filter(|d| !d.is_empty())
        .collect();
    let domains: Vec<String> = domains.into_iter().collect();
    blocks.push(Block {
        about: lines(
            "Users and pending invites have addresses in these domains (\"*.example.com\" also\n\
             allows its subdomains). Pinned to today's domains.",
        ),
        toml: vec![
            "[rules.email_domains]".into(),
            format!("allow = {}", array(&domains)),
            "severity = \"high\"".into(),
        ],
        rule: Some(Rule::new(Check::EmailDomains {
            allow: domains.iter().map(Named::new).collect(),
        })),
        unavailable: None,
    });

    // Label-scoped access, with a label this workspace uses.
    let label = example_label(dir);
    let source_admin = dir
        .roles
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case("Source Admin"));
    let shown_label = label.clone().unwrap_or_else(|| "environment=prod".into());
    let shown_role = source_admin.map_or("Source Admin", |r| r.name.as_str());
    blocks.push(Block {
        about: vec![
            format!("{shown_role} reaches resources labelled {shown_label} only through a binding narrowed"),
            format!("by that label (grant ... --role '{shown_role}' --label {shown_label}), never through a"),
            "workspace-wide binding or one on the resource itself. One table per role and label.".into(),
        ],
        toml: vec![
            "[[rules.label_scoped]]".into(),
            format!("role = {}", q(shown_role)),
            format!("label = {}", q(&shown_label)),
            "severity = \"high\"".into(),
        ],
        rule: match (&label, source_admin) {
            (Some(l), Some(r)) => Some(Rule::new(Check::LabelScoped {
                role: Named::new(r.name.clone()),
                label: Named::new(l.clone()),
            })),
            _ => None,
        },
        unavailable: match (&label, source_admin) {
            (None, _) => Some("no resource in the workspace carries a label".into()),
            (_, None) => Some("the workspace lists no Source Admin role".into()),
            _ => None,
        },
    });

    let simple = |about: &str, table: &str, severity: &str, check: Check| Block {
        about: lines(about),
        toml: vec![
            format!("[rules.{table}]"),
            format!("severity = {}", q(severity)),
        ],
        rule: Some(Rule::new(check)),
        unavailable: None,
    };
    blocks.push(simple(
        "A user's direct grant that one of their groups already gives (same role, resource and\n\
         labels): revoking it changes nothing they can do. To revoke them all:\n\
         \x20 segment-access check --rule redundant_grants --grants --format ndjson \\\n\
         \x20   | segment-access revoke --from-file - --yes",
        "redundant_grants",
        "low",
        Check::RedundantGrants,
    ));
    blocks.push(simple(
        "Every group has at least one member or pending invite.",
        "empty_groups",
        "low",
        Check::EmptyGroups,
    ));
    blocks.push(Block {
        about: lines(
            "Every user is a member of at least one group, except the emails in `except`.",
        ),
        toml: lines("[rules.ungrouped_users]\nexcept = []\nseverity = \"low\""),
        rule: Some(Rule::new(Check::UngroupedUsers { except: Vec::new() })),
        unavailable: None,
    });
    let pending = {
        let mut all: BTreeSet<String> = dir.invites.iter().map(|e| e.to_lowercase()).collect();
        all.extend(
            dir.group_invites
                .values()
                .flatten()
                .map(|e| e.to_lowercase()),
        );
        u32::try_from(all.len()).unwrap_or(u32::MAX)
    };
    blocks.push(Block {
        about: lines(
            "At most `max` pending invites; over it, each pending invite is a finding. Pinned to\n\
             today's count: lower it as invites are accepted or withdrawn.",
        ),
        toml: vec![
            "[rules.pending_invites]".into(),
            format!("max = {pending}"),
            "severity = \"low\"".into(),
        ],
        rule: Some(Rule::new(Check::PendingInvites { max: pending })),
        unavailable: None,
    });
    blocks.push(simple(
        "No grant points at a source, warehouse, function or space the workspace no longer\n\
         lists (revoke them with --grants, as above).",
        "dangling_grants",
        "medium",
        Check::DanglingGrants,
    ));

    render(dir, blocks, owners, domains.len())
}

/// A label for the label rule's example: one that marks production if any does, else the first
/// label a resource carries.
fn example_label(dir: &Directory) -> Option<String> {
    let on_resources: BTreeSet<String> = crate::access::views::resources(dir)
        .iter()
        .flat_map(|r| r.labels.iter().map(|l| l.to_string()))
        .collect();
    on_resources
        .iter()
        .find(|l| {
            let v = l.rsplit_once('=').map_or("", |(_, v)| v).to_lowercase();
            v == "prod" || v == "production"
        })
        .or_else(|| on_resources.iter().next())
        .cloned()
}

fn render(
    dir: &Directory,
    blocks: Vec<Block>,
    owners: Option<(usize, usize)>,
    domains: usize,
) -> Starter {
    let workspace = match &dir.workspace {
        Some(w) => format!("workspace {:?} ({})", w.name, w.slug),
        None => "the workspace".to_string(),
    };
    let mut text = format!(
        "# segment-access policy: the access rules `segment-access check` enforces.\n\
         # Drawn by `check --init` from {workspace},\n\
         # which met it then. Schema and every rule: docs/policy.md.\n\
         #\n\
         # Every rule is optional. `severity` is \"low\", \"medium\", \"high\" or \"critical\";\n\
         # `check --fail-on` decides which severities fail a run (default: any finding).\n\
         # Rules marked \"Off\" had findings then: uncomment one to enforce it.\n\
         \n\
         version = {VERSION}\n"
    );
    let mut on = Vec::new();
    let mut off = Vec::new();
    for b in blocks {
        text.push('\n');
        for l in &b.about {
            text.push_str(&format!("# {l}\n"));
        }
        let count = match (&b.rule, &b.unavailable) {
            (Some(rule), None) => {
                let policy = Policy {
                    rules: vec![rule.clone()],
                };
                match findings(dir, &policy) {
                    Ok(f) => Some(f.len()),
                    Err(e) => {
                        text.push_str(&format!("# Off: {}\n", e.message));
                        None
                    }
                }
            }
            (_, Some(why)) => {
                text.push_str(&format!("# Off: {why}.\n"));
                None
            }
            (None, None) => None,
        };
        let name = b.rule.as_ref().map_or("role_holders", |r| r.check.name());
        match count {
            Some(0) => {
                on.push(name);
                for l in &b.toml {
                    text.push_str(l);
                    text.push('\n');
                }
            }
            other => {
                if let Some(n) = other {
                    let findings = if n == 1 { "finding" } else { "findings" };
                    text.push_str(&format!("# Off: {n} {findings} in this workspace today.\n"));
                }
                off.push((name, other));
                for l in b.toml.iter().flat_map(|l| l.lines()) {
                    text.push_str(&format!("# {l}\n"));
                }
            }
        }
    }
    Starter {
        text,
        on,
        off,
        owners,
        domains,
    }
}
