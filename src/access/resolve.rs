//! Turning what a person types (an email, a name, `source:web-prod`) into Segment ids.
//! Matching is exact on ids and case-insensitive on emails, slugs and names; an ambiguous or
//! unknown name is an error that lists candidates, never a guess.

use crate::segment::models::*;

use super::directory::{Directory, function_name, source_name, warehouse_name};
use super::record::{LabelRef, ResourceKind};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ResolveError {
    #[error("no {kind} matches {input:?}{}", hint(.candidates))]
    NotFound {
        kind: &'static str,
        input: String,
        candidates: Vec<String>,
    },
    #[error("{input:?} matches {} {kind}s: {}; use an id or a more exact name", .candidates.len(), .candidates.join(", "))]
    Ambiguous {
        kind: &'static str,
        input: String,
        candidates: Vec<String>,
    },
    #[error("{0}")]
    Syntax(String),
}

/// The candidates closest to `input` by edit distance (case-insensitive), best first: what a
/// person most likely meant by a typo. At most three; none when nothing is close.
pub(crate) fn nearest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let needle = input.trim().to_lowercase();
    if needle.is_empty() {
        return Vec::new();
    }
    // Two edits always count; longer names tolerate a little more.
    let allowed = (needle.chars().count() / 4).max(2);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter_map(|c| {
            let d = strsim::damerau_levenshtein(&needle, &c.to_lowercase());
            (d > 0 && d <= allowed).then_some((d, c))
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(3)
        .map(|(_, c)| c.to_string())
        .collect()
}

fn hint(candidates: &[String]) -> String {
    if candidates.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", candidates.join(", "))
    }
}

/// Picks the one item whose keys match `input`: exact id first, then case-insensitive keys.
fn pick<'a, T>(
    kind: &'static str,
    input: &str,
    items: &'a [T],
    id: impl Fn(&T) -> &str,
    keys: impl Fn(&T) -> Vec<String>,
    describe: impl Fn(&T) -> String,
) -> Result<&'a T, ResolveError> {
    if let Some(found) = items.iter().find(|t| id(t) == input) {
        return Ok(found);
    }
    let needle = input.trim().to_lowercase();
    let hits: Vec<&T> = items
        .iter()
        .filter(|t| keys(t).iter().any(|k| k.to_lowercase() == needle))
        .collect();
    match hits.len() {
        1 => Ok(hits[0]),
        0 => {
            // Typos first (by edit distance), then names that contain what was typed.
            let mut typos: Vec<(usize, String)> = items
                .iter()
                .filter_map(|t| {
                    keys(t)
                        .iter()
                        .filter(|k| !nearest(&needle, std::iter::once(k.as_str())).is_empty())
                        .map(|k| strsim::damerau_levenshtein(&needle, &k.to_lowercase()))
                        .min()
                        .map(|d| (d, describe(t)))
                })
                .collect();
            typos.sort();
            let mut near: Vec<String> = typos.into_iter().map(|(_, d)| d).collect();
            let mut contains: Vec<String> = items
                .iter()
                .filter(|t| {
                    !needle.is_empty()
                        && keys(t).iter().any(|k| {
                            let k = k.to_lowercase();
                            !k.is_empty()
                                && (k.contains(&needle)
                                    || (needle.len() > 3 && needle.contains(&k)))
                        })
                })
                .map(&describe)
                .filter(|d| !near.contains(d))
                .collect();
            contains.sort();
            near.extend(contains);
            near.truncate(5);
            Err(ResolveError::NotFound {
                kind,
                input: input.to_string(),
                candidates: near,
            })
        }
        _ => {
            let mut c: Vec<String> = hits.into_iter().map(describe).collect();
            c.sort();
            Err(ResolveError::Ambiguous {
                kind,
                input: input.to_string(),
                candidates: c,
            })
        }
    }
}

pub(crate) fn user<'a>(users: &'a [User], input: &str) -> Result<&'a User, ResolveError> {
    pick(
        "user",
        input,
        users,
        |u| &u.id,
        |u| vec![u.email.clone(), u.name.clone()],
        |u| format!("{} ({})", u.email, u.id),
    )
}

/// A group by id or name; a leading `group:` is accepted.
pub(crate) fn group<'a>(
    groups: &'a [UserGroup],
    input: &str,
) -> Result<&'a UserGroup, ResolveError> {
    let input = input.strip_prefix("group:").unwrap_or(input);
    pick(
        "group",
        input,
        groups,
        |g| &g.id,
        |g| vec![g.name.clone()],
        |g| format!("{} ({})", g.name, g.id),
    )
}

pub(crate) fn role<'a>(roles: &'a [Role], input: &str) -> Result<&'a Role, ResolveError> {
    pick(
        "role",
        input,
        roles,
        |r| &r.id,
        |r| vec![r.name.clone()],
        |r| r.name.clone(),
    )
}

/// A resolved resource: its kind, id, display name and labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolvedResource {
    pub kind: ResourceKind,
    pub id: String,
    pub name: String,
    pub labels: Vec<LabelRef>,
}

/// `workspace`, `source:<id|slug|name>`, `warehouse:<id|name>`, `function:<id|name>`,
/// `space:<id|slug|name>`.
pub(crate) fn resource(dir: &Directory, input: &str) -> Result<ResolvedResource, ResolveError> {
    let (kind, ident) = match input.split_once(':') {
        Some((k, v)) => (k.trim(), v.trim()),
        None => (input.trim(), ""),
    };
    let kind = ResourceType::from_cli_str(kind).ok_or_else(|| {
        let kinds = ["workspace", "source", "warehouse", "function", "space"];
        ResolveError::Syntax(match nearest(kind, kinds).first() {
            Some(k) if ident.is_empty() => {
                format!("unknown resource {input:?}; did you mean {k}?")
            }
            Some(k) => format!("unknown resource {input:?}; did you mean {k}:{ident}?"),
            None => format!(
                "unknown resource {input:?}: write workspace, source:<id|slug|name>, warehouse:<id|name>, function:<id|name> or space:<id|slug|name>"
            ),
        })
    })?;
    if kind != ResourceType::Workspace && ident.is_empty() {
        return Err(ResolveError::Syntax(format!(
            "resource {input:?} needs a name or id after the colon, e.g. {}:web-prod",
            kind.as_cli_str()
        )));
    }
    let r = &dir.resources;
    let labels = |ls: &[Label]| {
        ls.iter()
            .map(|l| LabelRef {
                key: l.key.clone(),
                value: l.value.clone(),
            })
            .collect()
    };
    Ok(match kind {
        ResourceType::Workspace => {
            let w = dir
                .workspace
                .as_ref()
                .ok_or_else(|| ResolveError::Syntax("the workspace was not loaded".to_string()))?;
            if !ident.is_empty() && ident != w.id && !ident.eq_ignore_ascii_case(&w.slug) {
                return Err(ResolveError::NotFound {
                    kind: "workspace",
                    input: ident.to_string(),
                    candidates: vec![format!("{} ({})", w.slug, w.id)],
                });
            }
            ResolvedResource {
                kind: ResourceKind::Workspace,
                id: w.id.clone(),
                name: w.name.clone(),
                labels: Vec::new(),
            }
        }
        ResourceType::Source => {
            let s = pick(
                "source",
                ident,
                &r.sources,
                |s| &s.id,
                |s| vec![s.slug.clone(), s.name.clone().unwrap_or_default()],
                |s| format!("{} ({})", s.slug, s.id),
            )?;
            ResolvedResource {
                kind: ResourceKind::Source,
                id: s.id.clone(),
                name: source_name(s),
                labels: labels(&s.labels),
            }
        }
        ResourceType::Warehouse => {
            let w = pick(
                "warehouse",
                ident,
                &r.warehouses,
                |w| &w.id,
                |w| vec![warehouse_name(w)],
                |w| format!("{} ({})", warehouse_name(w), w.id),
            )?;
            ResolvedResource {
                kind: ResourceKind::Warehouse,
                id: w.id.clone(),
                name: warehouse_name(w),
                labels: Vec::new(),
            }
        }
        ResourceType::Function => {
            let f = pick(
                "function",
                ident,
                &r.functions,
                |f| &f.id,
                |f| vec![function_name(f)],
                |f| format!("{} ({})", function_name(f), f.id),
            )?;
            ResolvedResource {
                kind: ResourceKind::Function,
                id: f.id.clone(),
                name: function_name(f),
                labels: Vec::new(),
            }
        }
        ResourceType::Space => {
            let s = pick(
                "space",
                ident,
                &r.spaces,
                |s| &s.id,
                |s| vec![s.name.clone(), s.slug.clone().unwrap_or_default()],
                |s| format!("{} ({})", s.name, s.id),
            )?;
            ResolvedResource {
                kind: ResourceKind::Space,
                id: s.id.clone(),
                name: s.name.clone(),
                labels: Vec::new(),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Vec<User> {
        let u = |id: &str, name: &str, email: &str| User {
            id: id.into(),
            name: name.into(),
            email: email.into(),
            permissions: None,
        };
        vec![
            u("u1", "Ann Lee", "ann@x.com"),
            u("u2", "Ann Lee", "ann.lee@y.com"),
            u("u3", "Bob", "bob@x.com"),
        ]
    }

    #[test]
    fn by_id_email_name() {
        let us = users();
        assert_eq!(user(&us, "u3").unwrap().id, "u3");
        assert_eq!(user(&us, "BOB@x.com").unwrap().id, "u3");
        assert_eq!(user(&us, "bob").unwrap().id, "u3");
    }

    #[test]
    fn ambiguous_lists_candidates() {
        let us = users();
        let e = user(&us, "ann lee").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"ann lee\" matches 2 users: ann.lee@y.com (u2), ann@x.com (u1); use an id or a more exact name"
        );
    }

    #[test]
    fn unknown_suggests() {
        let us = users();
        let e = user(&us, "ann@").unwrap_err();
        assert!(matches!(e, ResolveError::NotFound { .. }));
        assert!(e.to_string().contains("did you mean"), "{e}");
        let e = user(&us, "zed").unwrap_err();
        assert_eq!(e.to_string(), "no user matches \"zed\"");
    }

    #[test]
    fn typos_of_one_or_two_edits_are_suggested() {
        let names = ["Workspace Owner", "Source Admin", "Source Read-only"];
        assert_eq!(nearest("Workspace Onwer", names), ["Workspace Owner"]);
        assert_eq!(nearest("Sorce Admn", names), ["Source Admin"]);
        assert_eq!(
            nearest("source admin", names),
            Vec::<String>::new(),
            "exact is no typo"
        );
        assert!(nearest("Billing", names).is_empty());
        let us = users();
        for typo in ["bob@x.cmo", "bbo@x.com", "Bbo"] {
            let e = user(&us, typo).unwrap_err();
            assert!(
                e.to_string().contains("did you mean bob@x.com (u3)?"),
                "{typo}: {e}"
            );
        }
    }

    #[test]
    fn a_mistyped_resource_kind_is_suggested() {
        let d = Directory::default();
        let e = resource(&d, "sorce:web-prod").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown resource \"sorce:web-prod\"; did you mean source:web-prod?"
        );
        let e = resource(&d, "wrkspace").unwrap_err();
        assert!(e.to_string().ends_with("did you mean workspace?"), "{e}");
    }

    #[test]
    fn resource_syntax_errors() {
        let d = Directory::default();
        assert!(matches!(
            resource(&d, "bucket:x"),
            Err(ResolveError::Syntax(_))
        ));
        assert!(matches!(
            resource(&d, "source:"),
            Err(ResolveError::Syntax(_))
        ));
    }
}
