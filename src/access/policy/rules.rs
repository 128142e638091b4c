//! Checking a directory against a policy: one function per rule, each over the grant records
//! the directory implies (docs/policy.md says what each rule means).

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::access::directory::Directory;
use crate::access::grants::{self, ResourceMatch};
use crate::access::record::{GrantRecord, LabelRef, Principal, ResourceKind, RoleRef};
use crate::access::resolve::{self, ResolveError};
use crate::access::views;
use crate::segment::models::{ResourceType, Role};

use super::{Check, Finding, Named, Policy, PolicyError, Rule, nearest};

/// Everything the policy finds wrong with the directory, most severe first, then in the
/// policy's order, then by principal. A name in the policy that the workspace does not know
/// (a role, a group, a label) is an error, not a finding.
pub(crate) fn findings(dir: &Directory, policy: &Policy) -> Result<Vec<Finding>, PolicyError> {
    let ctx = Ctx::new(dir);
    let mut out: Vec<(usize, Finding)> = Vec::new();
    for (i, rule) in policy.rules.iter().enumerate() {
        let found = match &rule.check {
            Check::RoleHolders { role, allow, max } => ctx.role_holders(role, allow, *max)?,
            Check::NoDirectGrants { except_roles } => ctx.no_direct_grants(except_roles)?,
            Check::EmailDomains { allow } => ctx.email_domains(allow),
            Check::LabelScoped { role, label } => ctx.label_scoped(role, label)?,
            Check::RedundantGrants => ctx.redundant_grants(),
            Check::EmptyGroups => ctx.empty_groups(),
            Check::UngroupedUsers { except } => ctx.ungrouped_users(except),
            Check::PendingInvites { max } => ctx.pending_invites(*max),
            Check::DanglingGrants => ctx.dangling_grants(),
        };
        out.extend(found.into_iter().map(|f| (i, f.finish(rule))));
    }
    out.sort_by(|(ia, a), (ib, b)| {
        b.severity
            .cmp(&a.severity)
            .then(ia.cmp(ib))
            .then_with(|| principal_key(a).cmp(&principal_key(b)))
            .then_with(|| match (&a.grant, &b.grant) {
                (Some(x), Some(y)) => x.cmp_for_display(y),
                _ => std::cmp::Ordering::Equal,
            })
    });
    Ok(out.into_iter().map(|(_, f)| f).collect())
}

fn principal_key(f: &Finding) -> Option<(u8, String, String)> {
    f.principal.as_ref().map(|p| p.sort_key())
}

/// A finding before the rule's name, severity and line are filled in.
struct Found {
    message: String,
    principal: Option<Principal>,
    role: Option<RoleRef>,
    grant: Option<GrantRecord>,
}

impl Found {
    fn grant(g: &GrantRecord, message: String) -> Found {
        Found {
            message,
            principal: Some(g.principal.clone()),
            role: g.role.clone(),
            grant: Some(g.clone()),
        }
    }

    fn principal(p: Principal, message: String) -> Found {
        Found {
            message,
            principal: Some(p),
            role: None,
            grant: None,
        }
    }

    fn finish(self, rule: &Rule) -> Finding {
        Finding {
            rule: rule.check.name(),
            severity: rule.severity,
            message: self.message,
            principal: self.principal,
            role: self.role,
            grant: self.grant,
            line: rule.line,
        }
    }
}

/// The directory, with the grant records and memberships every rule looks at.
struct Ctx<'a> {
    dir: &'a Directory,
    records: Vec<GrantRecord>,
    /// User id -> ids of the groups they are a member of.
    user_groups: HashMap<&'a str, Vec<&'a str>>,
    /// Invite email (lower case) -> ids of the groups it is a pending member of.
    invite_groups: HashMap<String, Vec<&'a str>>,
}

impl<'a> Ctx<'a> {
    fn new(dir: &'a Directory) -> Ctx<'a> {
        let mut user_groups: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut invite_groups: HashMap<String, Vec<&str>> = HashMap::new();
        for g in &dir.groups {
            for m in dir.members.get(&g.id).into_iter().flatten() {
                user_groups.entry(&m.id).or_default().push(&g.id);
            }
            for e in dir.group_invites.get(&g.id).into_iter().flatten() {
                invite_groups
                    .entry(e.to_lowercase())
                    .or_default()
                    .push(&g.id);
            }
        }
        Ctx {
            dir,
            records: grants::all_grants(dir),
            user_groups,
            invite_groups,
        }
    }

    /// Records a principal holds itself (a user's or group's own permissions), with a role.
    fn direct(&self) -> impl Iterator<Item = &GrantRecord> {
        self.records
            .iter()
            .filter(|g| g.via.is_none() && g.role.is_some())
    }

    fn role(&self, n: &Named) -> Result<&'a Role, PolicyError> {
        resolve::role(&self.dir.roles, &n.text).map_err(|e| {
            let names = self.dir.roles.iter().map(|r| r.name.as_str());
            resolved_error(n, e, names)
        })
    }

    /// Whether every group's members were read (rules about membership need them all).
    fn members_known(&self) -> bool {
        self.dir
            .groups
            .iter()
            .all(|g| self.dir.members.contains_key(&g.id))
    }

    fn role_holders(
        &self,
        role: &Named,
        allow: &[Named],
        max: Option<u32>,
    ) -> Result<Vec<Found>, PolicyError> {
        let role = self.role(role)?;
        let mut emails: HashSet<String> = HashSet::new();
        let mut user_ids: HashSet<&str> = HashSet::new();
        let mut group_ids: HashSet<&str> = HashSet::new();
        for a in allow {
            let t = a.text.trim();
            if let Some(g) = t.strip_prefix("group:") {
                let g = resolve::group(&self.dir.groups, g).map_err(|e| {
                    let names = self.dir.groups.iter().map(|g| g.name.as_str());
                    resolved_error(a, e, names)
                })?;
                group_ids.insert(&g.id);
            } else if t.contains('@') {
                // An address the workspace does not know yet is allowed to hold the role later.
                emails.insert(t.to_lowercase());
            } else {
                let u = resolve::user(&self.dir.users, t).map_err(|e| {
                    resolved_error(a, e, std::iter::empty()).with_hint(
                        "allow takes emails, user ids and group:<name>; an email need not be a user yet",
                    )
                })?;
                user_ids.insert(&u.id);
            }
        }
        let in_allowed_group = |groups: Option<&Vec<&str>>| {
            groups.into_iter().flatten().any(|g| group_ids.contains(g))
        };
        let allowed = |p: &Principal| match p {
            Principal::User { id, email, .. } => {
                user_ids.contains(id.as_str())
                    || emails.contains(&email.to_lowercase())
                    || in_allowed_group(self.user_groups.get(id.as_str()))
            }
            Principal::Invite { email } => {
                emails.contains(&email.to_lowercase())
                    || in_allowed_group(self.invite_groups.get(&email.to_lowercase()))
            }
            Principal::Group { id, .. } => group_ids.contains(id.as_str()),
        };
        let of_role = |g: &&GrantRecord| g.role.as_ref().is_some_and(|r| r.id == role.id);
        let mut out = Vec::new();
        // A member's copy of a group's grant is allowed when the group is (members of allowed
        // groups are allowed), and otherwise named by the group's own finding.
        for g in self.direct().filter(of_role) {
            if allowed(&g.principal) {
                continue;
            }
            let message = match &g.principal {
                Principal::Group { id, .. } => {
                    format!("not on the allow list ({})", self.group_size(id))
                }
                _ => "not on the allow list".to_string(),
            };
            out.push(Found::grant(g, message));
        }
        if let Some(max) = max {
            let people: BTreeSet<(u8, String, String)> = self
                .records
                .iter()
                .filter(of_role)
                .filter(|g| !matches!(g.principal, Principal::Group { .. }))
                .map(|g| g.principal.sort_key())
                .collect();
            if people.len() > max as usize {
                let invites = people.iter().filter(|k| k.0 == 1).count();
                let of_which = match invites {
                    0 => String::new(),
                    1 => " (1 a pending invite)".to_string(),
                    n => format!(" ({n} pending invites)"),
                };
                out.push(Found {
                    message: format!(
                        "{} hold it{of_which}; at most {max} may",
                        people_count(people.len())
                    ),
                    principal: None,
                    role: Some(RoleRef {
                        id: role.id.clone(),
                        name: role.name.clone(),
                    }),
                    grant: None,
                });
            }
        }
        Ok(out)
    }

    /// "3 members" of a group, users and invites.
    fn group_size(&self, id: &str) -> String {
        let users = self.dir.members.get(id).map_or(0, Vec::len);
        let invites = self.dir.group_invites.get(id).map_or(0, Vec::len);
        plural(users + invites, "member")
    }

    fn no_direct_grants(&self, except_roles: &[Named]) -> Result<Vec<Found>, PolicyError> {
        let except: HashSet<&str> = except_roles
            .iter()
            .map(|n| self.role(n).map(|r| r.id.as_str()))
            .collect::<Result<_, _>>()?;
        Ok(self
            .direct()
            .filter(|g| matches!(g.principal, Principal::User { .. }))
            .filter(|g| {
                g.role
                    .as_ref()
                    .is_some_and(|r| !except.contains(r.id.as_str()))
            })
            .map(|g| Found::grant(g, "direct, not through a group".to_string()))
            .collect())
    }

    fn email_domains(&self, allow: &[Named]) -> Vec<Found> {
        let allowed = |email: &str| {
            let domain = email.rsplit_once('@').map_or("", |(_, d)| d).to_lowercase();
            allow.iter().any(|a| {
                let a = a.text.trim().to_lowercase();
                match a.strip_prefix("*.") {
                    Some(parent) => domain.ends_with(&format!(".{parent}")),
                    None => domain == a,
                }
            })
        };
        let message = |email: &str| {
            let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
            format!("domain {domain} is not allowed")
        };
        let users = self
            .dir
            .users
            .iter()
            .filter(|u| !allowed(&u.email))
            .map(|u| {
                Found::principal(
                    Principal::User {
                        id: u.id.clone(),
                        email: u.email.clone(),
                        name: u.name.clone(),
                    },
                    message(&u.email),
                )
            });
        let invites = self.invites().into_iter().filter(|e| !allowed(e)).map(|e| {
            let m = message(&e);
            Found::principal(Principal::Invite { email: e }, m)
        });
        users.chain(invites).collect()
    }

    /// Pending invites: the workspace's list, and any only a group's list names.
    fn invites(&self) -> Vec<String> {
        let mut seen: HashSet<String> = HashSet::new();
        let mut out = Vec::new();
        let from_groups = self.dir.group_invites.values().flatten();
        for e in self.dir.invites.iter().chain(from_groups) {
            if seen.insert(e.to_lowercase()) {
                out.push(e.clone());
            }
        }
        out.sort_by_key(|e| e.to_lowercase());
        out
    }

    fn label_scoped(&self, role: &Named, label: &Named) -> Result<Vec<Found>, PolicyError> {
        let role = self.role(role)?;
        let want = crate::access::wants::parse_label(&label.text)
            .map_err(|m| PolicyError::at(label, m))?;
        let resources = views::resources(self.dir);
        let known: BTreeSet<String> = self
            .dir
            .labels
            .iter()
            .map(|l| format!("{}={}", l.key, l.value))
            .chain(
                resources
                    .iter()
                    .flat_map(|r| r.labels.iter().map(|l| l.to_string())),
            )
            .collect();
        if !known.contains(&want.to_string()) {
            let mut e = PolicyError::at(label, format!("no label {} in this workspace", want));
            if let Some(s) = nearest(&want.to_string(), known.iter().map(String::as_str)) {
                e.message.push_str(&format!("; did you mean {s}?"));
            } else if !known.is_empty() {
                let all: Vec<&str> = known.iter().map(String::as_str).collect();
                e = e.with_hint(format!("labels: {}", all.join(", ")));
            }
            return Err(e);
        }
        let labelled: Vec<(ResourceMatch, String)> = resources
            .iter()
            .filter(|r| r.kind != ResourceKind::Workspace && r.labels.contains(&want))
            .map(|r| {
                (
                    ResourceMatch {
                        kind: r.kind,
                        id: r.id.clone(),
                        labels: r.labels.clone(),
                    },
                    r.name.clone(),
                )
            })
            .collect();
        let mut out = Vec::new();
        for g in self
            .direct()
            .filter(|g| g.role.as_ref().is_some_and(|r| r.id == role.id))
        {
            if scoped_by(g, &want) {
                continue;
            }
            let reached: Vec<&String> = labelled
                .iter()
                .filter(|(m, _)| grants::reaches(g, m))
                .map(|(_, name)| name)
                .collect();
            if reached.is_empty() {
                continue;
            }
            let message = if g.resource.kind != ResourceKind::Workspace {
                format!("not through {want}")
            } else if g.labels.is_empty() {
                format!("not through {want}; reaches {}", list(&reached, 3))
            } else {
                format!(
                    "through {}, not {want}; reaches {}",
                    g.labels_display(),
                    list(&reached, 3)
                )
            };
            out.push(Found::grant(g, message));
        }
        Ok(out)
    }

    fn redundant_grants(&self) -> Vec<Found> {
        let mut inherited: HashMap<BindingKey<'_>, Vec<&str>> = HashMap::new();
        for g in &self.records {
            if let (Some(via), Some(key)) = (&g.via, binding_key(g)) {
                inherited.entry(key).or_default().push(&via.name);
            }
        }
        self.direct()
            .filter(|g| !matches!(g.principal, Principal::Group { .. }))
            .filter_map(|g| {
                let groups = inherited.get(&binding_key(g)?)?;
                let names: Vec<String> = groups.iter().map(|n| format!("group:{n}")).collect();
                Some(Found::grant(
                    g,
                    format!("also through {}", names.join(", ")),
                ))
            })
            .collect()
    }

    fn empty_groups(&self) -> Vec<Found> {
        self.dir
            .groups
            .iter()
            // A group whose members were not read is unknown, not empty.
            .filter(|g| self.dir.members.contains_key(&g.id))
            .filter(|g| {
                self.dir.members.get(&g.id).is_none_or(Vec::is_empty)
                    && self.dir.group_invites.get(&g.id).is_none_or(Vec::is_empty)
            })
            .map(|g| {
                let roles = g.permissions.iter().flatten().count();
                let message = match roles {
                    0 => "no members or pending invites".to_string(),
                    _ => "no members or pending invites; still holds roles".to_string(),
                };
                Found::principal(
                    Principal::Group {
                        id: g.id.clone(),
                        name: g.name.clone(),
                    },
                    message,
                )
            })
            .collect()
    }

    fn ungrouped_users(&self, except: &[Named]) -> Vec<Found> {
        if !self.members_known() {
            return Vec::new();
        }
        let except: HashSet<String> = except
            .iter()
            .map(|n| n.text.trim().to_lowercase())
            .collect();
        self.dir
            .users
            .iter()
            .filter(|u| !self.user_groups.contains_key(u.id.as_str()))
            .filter(|u| {
                !except.contains(&u.email.to_lowercase()) && !except.contains(&u.id.to_lowercase())
            })
            .map(|u| {
                Found::principal(
                    Principal::User {
                        id: u.id.clone(),
                        email: u.email.clone(),
                        name: u.name.clone(),
                    },
                    "in no group".to_string(),
                )
            })
            .collect()
    }

    fn pending_invites(&self, max: u32) -> Vec<Found> {
        let invites = self.invites();
        if invites.len() <= max as usize {
            return Vec::new();
        }
        let message = match max {
            0 => "pending; none allowed".to_string(),
            m => format!("pending; {} invites, at most {m} allowed", invites.len()),
        };
        invites
            .into_iter()
            .map(|email| Found::principal(Principal::Invite { email }, message.clone()))
            .collect()
    }

    fn dangling_grants(&self) -> Vec<Found> {
        let spaces_unknown = self.dir.resources.spaces_unavailable.is_some();
        let workspace_unknown = self.dir.workspace.is_none();
        self.direct()
            .filter(|g| g.resource.name.is_none())
            .filter(|g| match g.resource.kind {
                // What Segment would not list is unknown, not gone.
                ResourceKind::Space => !spaces_unknown,
                ResourceKind::Workspace => !workspace_unknown,
                ResourceKind::Group => false,
                _ => true,
            })
            .map(|g| {
                let kind = g
                    .resource
                    .kind
                    .api_type()
                    .map_or("resource", ResourceType::as_cli_str);
                Found::grant(g, format!("the {kind} no longer exists"))
            })
            .collect()
    }
}

/// Who holds which role on what, narrowed how: equal for a direct grant and the same grant
/// held through a group.
type BindingKey<'a> = (
    &'a Principal,
    &'a str,
    ResourceKind,
    &'a str,
    &'a [LabelRef],
);

fn binding_key(g: &GrantRecord) -> Option<BindingKey<'_>> {
    let role = g.role.as_ref()?;
    Some((
        &g.principal,
        role.id.as_str(),
        g.resource.kind,
        g.resource.id.as_str(),
        g.labels.as_slice(),
    ))
}

/// Whether a binding is narrowed by the label (so it reaches the label's resources through it).
fn scoped_by(g: &GrantRecord, label: &LabelRef) -> bool {
    g.resource.kind == ResourceKind::Workspace && g.labels.contains(label)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn people_count(n: usize) -> String {
    if n == 1 {
        "1 person".to_string()
    } else {
        format!("{n} people")
    }
}

/// The first `n` names, then "and k more".
fn list(names: &[&String], n: usize) -> String {
    let mut s = names
        .iter()
        .take(n)
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > n {
        s.push_str(&format!(" and {} more", names.len() - n));
    }
    s
}

/// A resolve error about a name the policy gives, with a near-match suggestion by spelling
/// when the resolver found none by substring.
fn resolved_error<'n>(
    n: &Named,
    e: ResolveError,
    names: impl Iterator<Item = &'n str>,
) -> PolicyError {
    let mut message = e.to_string();
    if let ResolveError::NotFound {
        candidates, input, ..
    } = &e
        && candidates.is_empty()
        && let Some(s) = nearest(input, names)
    {
        message.push_str(&format!("; did you mean {s:?}?"));
    }
    PolicyError::at(n, message)
}
