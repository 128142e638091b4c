//! The population of a campaign: the grant records of its scope, each with a stable id, the
//! policy findings that name it, and the person it belongs to.

use serde::{Deserialize, Serialize};

use crate::access::grants;
use crate::access::policy::{self, Finding, Policy};
use crate::access::record::{GrantRecord, ResourceKind};
use crate::access::source::GrantQuery;
use crate::access::{Directory, Quiet, Source};

use super::{ReviewError, person_key, sha256_hex};

/// One thing to review: a grant record (direct, through a group, or a membership).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    /// Stable: the same grant has the same id in every campaign ([`item_id`]).
    pub id: String,
    /// Its place in the campaign: people in display order, their grants in display order.
    pub ord: i64,
    /// [`person_key`] of its principal.
    pub person: String,
    pub record: GrantRecord,
    /// The policy findings that name it, when the campaign was started with a policy.
    pub findings: Vec<Flag>,
}

/// A policy finding, as an item keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Flag {
    pub rule: String,
    pub severity: String,
    pub message: String,
}

impl Flag {
    pub(crate) fn display(&self) -> String {
        format!("{} {}: {}", self.severity, self.rule, self.message)
    }
}

/// What a campaign covers: every grant, or those `list grants` would print with these filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Scope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(default)]
    pub direct_only: bool,
}

impl Scope {
    /// The scope as the flags that give it: `--role 'Source Admin' --direct-only`, or
    /// `all grants`.
    pub(crate) fn describe(&self) -> String {
        let quote = |s: &str| {
            if s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "@.:_-+".contains(c))
            {
                s.to_string()
            } else {
                format!("'{}'", s.replace('\'', "'\\''"))
            }
        };
        let mut parts = Vec::new();
        for (flag, v) in [
            ("--user", &self.user),
            ("--group", &self.group),
            ("--role", &self.role),
            ("--resource", &self.resource),
        ] {
            if let Some(v) = v {
                parts.push(format!("{flag} {}", quote(v)));
            }
        }
        if self.direct_only {
            parts.push("--direct-only".to_string());
        }
        if parts.is_empty() {
            "all grants".to_string()
        } else {
            parts.join(" ")
        }
    }

    fn query(&self) -> GrantQuery {
        GrantQuery {
            user: self.user.clone(),
            group: self.group.clone(),
            role: self.role.clone(),
            resource: self.resource.clone(),
            direct_only: self.direct_only,
        }
    }
}

/// A grant's stable id: the first 16 hex digits of the SHA-256 of what identifies it (principal,
/// role, resource, labels, the group it comes through), never of names, which change.
pub(crate) fn item_id(rec: &GrantRecord) -> String {
    let labels: Vec<String> = {
        let mut v: Vec<String> = rec.labels.iter().map(|l| l.to_string()).collect();
        v.sort();
        v
    };
    let text = format!(
        "segment-access review item v1\n{}\n{}\n{}:{}\n{}\n{}",
        person_key(&rec.principal),
        rec.role.as_ref().map(|r| r.id.as_str()).unwrap_or(""),
        rec.resource.kind.as_str(),
        rec.resource.id,
        labels.join(","),
        rec.via.as_ref().map(|v| v.id.as_str()).unwrap_or(""),
    );
    sha256_hex(text.as_bytes())[..16].to_string()
}

/// The items of a scope in a snapshot's directory, in display order, each flagged with the
/// findings of `policy` that name it. A scope that names nothing the snapshot has is an error
/// with near matches, as `list grants` gives.
pub(crate) async fn population(
    dir: &Directory,
    scope: &Scope,
    policy: Option<&Policy>,
) -> Result<Vec<Item>, PopulationError> {
    let source = Source::loaded(dir.clone(), String::new());
    let answer = source
        .grants(&scope.query(), std::sync::Arc::new(Quiet))
        .await?;
    let findings: Vec<Finding> = match policy {
        Some(p) => policy::findings(dir, p)?,
        None => Vec::new(),
    };
    Ok(answer
        .iter()
        .enumerate()
        .map(|(i, record)| Item {
            id: item_id(&record),
            ord: i as i64,
            person: person_key(&record.principal),
            findings: policy::flagged(&findings, &record)
                .map(|f| Flag {
                    rule: f.rule.to_string(),
                    severity: f.severity.as_str().to_string(),
                    message: f.message.clone(),
                })
                .collect(),
            record,
        })
        .collect())
}

/// Why a population cannot be drawn: a scope that names nothing the snapshot has, or a policy
/// rule that does.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PopulationError {
    #[error(transparent)]
    Scope(#[from] crate::access::SourceError),
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
}

/// One line for people: `Source Admin on source:web-prod [env=prod] (via group:Analysts)`,
/// `member of group:Analysts`.
pub(crate) fn describe(rec: &GrantRecord) -> String {
    let mut s = if rec.is_membership() {
        format!("member of {}", rec.resource.display())
    } else {
        format!(
            "{} on {}",
            rec.role.as_ref().map(|r| r.name.as_str()).unwrap_or("?"),
            rec.resource.display()
        )
    };
    if !rec.labels.is_empty() {
        s.push_str(&format!(" [{}]", rec.labels_display()));
    }
    match &rec.via {
        Some(v) => s.push_str(&format!(" (via group:{})", v.name)),
        None if rec.resource.kind != ResourceKind::Group => s.push_str(" (direct)"),
        None => {}
    }
    s
}

/// The grants a membership of group `group_id` gives (the group's own), from the directory.
pub(crate) fn membership_gives(dir: &Directory, group_id: &str) -> Vec<GrantRecord> {
    let filter = grants::GrantFilter {
        group_id: Some(group_id.to_string()),
        ..grants::GrantFilter::default()
    };
    grants::iter(dir, &filter)
        .filter(|r| {
            matches!(&r.principal, crate::access::record::Principal::Group { id, .. } if id == group_id)
        })
        .collect()
}

/// Whether two records are the same binding (role, resource, labels), whoever holds them.
pub(crate) fn same_binding(a: &GrantRecord, b: &GrantRecord) -> bool {
    a.role.as_ref().map(|r| &r.id) == b.role.as_ref().map(|r| &r.id)
        && a.resource.kind == b.resource.kind
        && a.resource.id == b.resource.id
        && a.labels == b.labels
}

/// Whom items belong to, counted: `12 people and 2 groups`, `1 person`.
pub(crate) fn whom<'a>(items: impl IntoIterator<Item = &'a Item>) -> String {
    let mut keys: Vec<&str> = items.into_iter().map(|i| i.person.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    let groups = keys.iter().filter(|k| k.starts_with("group:")).count();
    let people = keys.len() - groups;
    let people_text = match people {
        1 => "1 person".to_string(),
        n => format!("{n} people"),
    };
    let groups_text = match groups {
        1 => "1 group".to_string(),
        n => format!("{n} groups"),
    };
    match (people, groups) {
        (_, 0) => people_text,
        (0, _) => groups_text,
        _ => format!("{people_text} and {groups_text}"),
    }
}

/// Refuses an empty population: there is nothing to review.
pub(crate) fn nonempty(items: &[Item], scope: &Scope) -> Result<(), ReviewError> {
    if items.is_empty() {
        return Err(ReviewError::Usage(format!(
            "the snapshot holds no grant in the scope ({}); nothing to review",
            scope.describe()
        )));
    }
    Ok(())
}
