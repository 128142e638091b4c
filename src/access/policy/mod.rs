//! Policy checks: access rules kept in a TOML file (schema version 1, docs/policy.md) and
//! checked against a workspace's directory.
//!
//! [`parse`] reads a policy file into a [`Policy`], naming the line and field of any mistake;
//! [`findings`] checks a directory against it. A [`Finding`] is a record: the rule, a severity,
//! a short message, and what it is about (a principal, a role, and the grant record at fault
//! where there is one). [`Finding::names`] answers "is this grant record part of what the
//! finding is about?", which is how a review campaign pre-flags its items ([`flagged`]).
//!
//! Findings name the binding where it is held: a group's own grant, not each member's copy of
//! it, so every grant-shaped finding is a record `revoke --from-file` can remove exactly.

mod rules;
mod schema;
mod starter;

use serde::{Deserialize, Serialize};

use super::record::{GrantRecord, Principal, RoleRef};

pub(crate) use rules::findings;
pub(crate) use schema::{PolicyError, parse};
pub(crate) use starter::starter;

/// The only schema version this build reads (and `check --init` writes).
pub(crate) const VERSION: i64 = 1;

/// How serious a finding is; `check --fail-on` decides which fail the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub(crate) const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Rule names as the policy file spells them, in the order docs/policy.md lists them.
pub(crate) const RULE_NAMES: [&str; 9] = [
    "role_holders",
    "no_direct_grants",
    "email_domains",
    "label_scoped",
    "redundant_grants",
    "empty_groups",
    "ungrouped_users",
    "pending_invites",
    "dangling_grants",
];

/// Where a value sits in the policy file, for errors about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Loc {
    pub line: usize,
    pub column: usize,
    /// Its path: `rules.role_holders[0].allow[2]`.
    pub field: String,
}

/// A name the policy gives (a role, an email, `group:<name>`, a label), with where it was
/// written when it came from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Named {
    pub text: String,
    pub loc: Option<Loc>,
}

impl Named {
    pub(crate) fn new(text: impl Into<String>) -> Named {
        Named {
            text: text.into(),
            loc: None,
        }
    }
}

/// What a rule checks, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Check {
    /// Only `allow`ed principals (emails; `group:<name>` for a group and its members) hold
    /// `role`, and at most `max` people (users and invites, however they hold it).
    RoleHolders {
        role: Named,
        allow: Vec<Named>,
        max: Option<u32>,
    },
    /// Users hold roles through groups; direct grants only of `except_roles`.
    NoDirectGrants { except_roles: Vec<Named> },
    /// Users' and invites' email domains are among `allow` (`*.example.com` for subdomains).
    EmailDomains { allow: Vec<Named> },
    /// `role` reaches resources carrying `label` only through a binding narrowed by it.
    LabelScoped { role: Named, label: Named },
    /// No direct grant that a group of the same user already gives.
    RedundantGrants,
    /// Every group has a member or a pending invite.
    EmptyGroups,
    /// Every user is in a group, except `except` (emails or ids).
    UngroupedUsers { except: Vec<Named> },
    /// At most `max` pending invites.
    PendingInvites { max: u32 },
    /// No grant points at a resource the workspace no longer lists.
    DanglingGrants,
}

impl Check {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Check::RoleHolders { .. } => "role_holders",
            Check::NoDirectGrants { .. } => "no_direct_grants",
            Check::EmailDomains { .. } => "email_domains",
            Check::LabelScoped { .. } => "label_scoped",
            Check::RedundantGrants => "redundant_grants",
            Check::EmptyGroups => "empty_groups",
            Check::UngroupedUsers { .. } => "ungrouped_users",
            Check::PendingInvites { .. } => "pending_invites",
            Check::DanglingGrants => "dangling_grants",
        }
    }

    /// The severity of the rule's findings when the policy does not say.
    pub(crate) fn default_severity(&self) -> Severity {
        match self {
            Check::RoleHolders { .. } => Severity::Critical,
            Check::EmailDomains { .. } | Check::LabelScoped { .. } => Severity::High,
            Check::NoDirectGrants { .. } | Check::DanglingGrants => Severity::Medium,
            Check::RedundantGrants
            | Check::EmptyGroups
            | Check::UngroupedUsers { .. }
            | Check::PendingInvites { .. } => Severity::Low,
        }
    }
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub check: Check,
    pub severity: Severity,
    /// The line of the rule's table in the policy file.
    pub line: Option<usize>,
}

impl Rule {
    /// A rule with its default severity, as code (not a file) writes it.
    pub(crate) fn new(check: Check) -> Rule {
        Rule {
            severity: check.default_severity(),
            check,
            line: None,
        }
    }
}

/// A parsed policy: its rules, in the order the file gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Policy {
    pub rules: Vec<Rule>,
}

impl Policy {
    /// What a live read must load for these rules (and nothing the rules do not look at).
    pub(crate) fn need(&self) -> super::Need {
        let mut need = super::Need {
            workspace: true,
            users: true,
            ..super::Need::default()
        };
        for r in &self.rules {
            match &r.check {
                Check::RoleHolders { .. } => {
                    need.user_permissions = true;
                    need.group_members = true;
                    need.roles = true;
                    need.resources = true;
                }
                Check::NoDirectGrants { .. } | Check::DanglingGrants => {
                    need.user_permissions = true;
                    need.groups = true;
                    need.roles = true;
                    need.resources = true;
                }
                Check::LabelScoped { .. } => {
                    need.user_permissions = true;
                    need.groups = true;
                    need.roles = true;
                    need.resources = true;
                    need.labels = true;
                }
                Check::RedundantGrants => {
                    need.user_permissions = true;
                    need.group_members = true;
                    need.roles = true;
                    need.resources = true;
                }
                Check::EmailDomains { .. } => need.invites = true,
                Check::EmptyGroups | Check::UngroupedUsers { .. } => {
                    need.group_members = true;
                }
                Check::PendingInvites { .. } => need.invites = true,
            }
        }
        need.groups |= need.group_members;
        need
    }
}

/// One thing a policy rule found wrong. Serialised as the `check` JSON record
/// (docs/policy.md#findings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Finding {
    /// The rule's name, as the policy file spells it.
    pub rule: &'static str,
    pub severity: Severity,
    /// Why, in a few words; the other fields say who and what.
    pub message: String,
    /// Who the finding is about, when it is about one principal.
    pub principal: Option<Principal>,
    /// The role, when the finding is about one.
    pub role: Option<RoleRef>,
    /// The grant record at fault, held directly by `principal`; `revoke --from-file` takes it.
    pub grant: Option<GrantRecord>,
    /// The line of the rule in the policy file.
    pub line: Option<usize>,
}

impl Finding {
    /// Whether `rec` is part of what this finding is about: the grant at fault and every copy
    /// of it a member holds through the group; every record of the principal a finding is about
    /// (and, for a group, its memberships and what its members hold through it); or, for a
    /// finding about a role as a whole (too many holders), every record of that role.
    pub(crate) fn names(&self, rec: &GrantRecord) -> bool {
        if let Some(g) = &self.grant {
            return rec == g || inherited_from(rec, g);
        }
        if let Some(p) = &self.principal {
            if &rec.principal == p {
                return true;
            }
            return match p {
                Principal::Group { id, .. } => {
                    rec.via.as_ref().is_some_and(|v| &v.id == id)
                        || (rec.is_membership() && &rec.resource.id == id)
                }
                _ => false,
            };
        }
        if let Some(r) = &self.role {
            return rec.role.as_ref().is_some_and(|x| x.id == r.id);
        }
        false
    }
}

/// Whether `rec` is a member's copy of group grant `g`.
fn inherited_from(rec: &GrantRecord, g: &GrantRecord) -> bool {
    let Principal::Group { id, .. } = &g.principal else {
        return false;
    };
    g.via.is_none()
        && rec.via.as_ref().is_some_and(|v| &v.id == id)
        && rec.role.as_ref().map(|r| &r.id) == g.role.as_ref().map(|r| &r.id)
        && rec.resource.kind == g.resource.kind
        && rec.resource.id == g.resource.id
        && rec.labels == g.labels
}

/// The findings that name a grant record: what a review campaign shows next to that item.
pub(crate) fn flagged<'a>(
    findings: &'a [Finding],
    rec: &'a GrantRecord,
) -> impl Iterator<Item = &'a Finding> + 'a {
    findings.iter().filter(move |f| f.names(rec))
}

/// The grant records of grant-shaped findings, each once, in display order: the input
/// `revoke --from-file` takes.
pub(crate) fn grants_of(findings: &[Finding]) -> Vec<GrantRecord> {
    let mut v: Vec<GrantRecord> = findings.iter().filter_map(|f| f.grant.clone()).collect();
    v.sort_by_cached_key(GrantRecord::display_key);
    v.dedup();
    v
}

/// The closest of `candidates` to a mistyped `input`, when one is close enough to suggest.
pub(crate) fn nearest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let needle = input.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&needle, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests;
