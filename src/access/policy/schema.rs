//! Reading a policy file: TOML into [`Policy`], every mistake named by line, column and field,
//! with a suggestion for a mistyped name. Unknown keys are errors (a typo must never turn a
//! rule off silently).

use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{Check, Loc, Named, Policy, RULE_NAMES, Rule, Severity, VERSION, nearest};

/// A policy file that cannot be used, or a name in it the workspace does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PolicyError {
    /// The file, for messages; set by whoever read it.
    pub file: Option<String>,
    pub loc: Option<Loc>,
    pub message: String,
    /// What to do about it, when the message does not say.
    pub hint: Option<String>,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.as_deref().unwrap_or("policy");
        match &self.loc {
            Some(loc) if loc.field.is_empty() => {
                write!(f, "{file}:{}:{}: {}", loc.line, loc.column, self.message)
            }
            Some(loc) => write!(
                f,
                "{file}:{}:{}: {}: {}",
                loc.line, loc.column, loc.field, self.message
            ),
            None => write!(f, "{file}: {}", self.message),
        }
    }
}

impl std::error::Error for PolicyError {}

impl PolicyError {
    pub(crate) fn new(loc: Option<Loc>, message: impl Into<String>) -> PolicyError {
        PolicyError {
            file: None,
            loc,
            message: message.into(),
            hint: None,
        }
    }

    /// An error about a name the policy gives.
    pub(crate) fn at(n: &Named, message: impl Into<String>) -> PolicyError {
        PolicyError::new(n.loc.clone(), message)
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> PolicyError {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn in_file(mut self, file: impl Into<String>) -> PolicyError {
        self.file = Some(file.into());
        self
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: Option<Spanned<i64>>,
    #[serde(default)]
    rules: RawRules,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    role_holders: Vec<Spanned<RawRoleHolders>>,
    no_direct_grants: Option<Spanned<RawNoDirectGrants>>,
    email_domains: Option<Spanned<RawEmailDomains>>,
    #[serde(default)]
    label_scoped: Vec<Spanned<RawLabelScoped>>,
    redundant_grants: Option<Spanned<RawSeverityOnly>>,
    empty_groups: Option<Spanned<RawSeverityOnly>>,
    ungrouped_users: Option<Spanned<RawUngroupedUsers>>,
    pending_invites: Option<Spanned<RawPendingInvites>>,
    dangling_grants: Option<Spanned<RawSeverityOnly>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoleHolders {
    role: Spanned<String>,
    #[serde(default)]
    allow: Vec<Spanned<String>>,
    max: Option<u32>,
    severity: Option<Severity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNoDirectGrants {
    #[serde(default)]
    except_roles: Vec<Spanned<String>>,
    severity: Option<Severity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmailDomains {
    allow: Vec<Spanned<String>>,
    severity: Option<Severity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLabelScoped {
    role: Spanned<String>,
    label: Spanned<String>,
    severity: Option<Severity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeverityOnly {
    severity: Option<Severity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUngroupedUsers {
    #[serde(default)]
    except: Vec<Spanned<String>>,
    severity: Option<Severity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPendingInvites {
    #[serde(default)]
    max: u32,
    severity: Option<Severity>,
}

/// Reads a policy file's text.
pub(crate) fn parse(text: &str) -> Result<Policy, PolicyError> {
    let raw: RawPolicy = toml::from_str(text).map_err(|e| explain(text, &e))?;
    let doc = Doc { text };
    match &raw.version {
        None => {
            return Err(PolicyError::new(
                Some(Loc {
                    line: 1,
                    column: 1,
                    field: "version".into(),
                }),
                "missing: the policy must start with `version = 1`",
            ));
        }
        Some(v) if *v.get_ref() != VERSION => {
            return Err(PolicyError::new(
                Some(doc.loc(v.span(), "version")),
                format!(
                    "schema version {} is not one this segment-access reads (it reads version {VERSION})",
                    v.get_ref()
                ),
            )
            .with_hint("upgrade segment-access, or write the policy in schema version 1 (docs/policy.md)"));
        }
        Some(_) => {}
    }
    let r = raw.rules;
    // Rules in file order, so findings and errors follow the file.
    let mut rules: Vec<(usize, Rule)> = Vec::new();
    let mut push = |span: Range<usize>, check: Check, severity: Option<Severity>| {
        let severity = severity.unwrap_or_else(|| check.default_severity());
        let line = doc.line_col(span.start).0;
        rules.push((
            span.start,
            Rule {
                check,
                severity,
                line: Some(line),
            },
        ));
    };
    for (i, t) in r.role_holders.into_iter().enumerate() {
        let span = t.span();
        let t = t.into_inner();
        let at = format!("rules.role_holders[{i}]");
        let check = Check::RoleHolders {
            role: doc.named(t.role, &format!("{at}.role")),
            allow: doc.names(t.allow, &format!("{at}.allow")),
            max: t.max,
        };
        push(span, check, t.severity);
    }
    if let Some(t) = r.no_direct_grants {
        let span = t.span();
        let t = t.into_inner();
        let check = Check::NoDirectGrants {
            except_roles: doc.names(t.except_roles, "rules.no_direct_grants.except_roles"),
        };
        push(span, check, t.severity);
    }
    if let Some(t) = r.email_domains {
        let span = t.span();
        let t = t.into_inner();
        let allow = doc.names(t.allow, "rules.email_domains.allow");
        for d in &allow {
            check_domain(d)?;
        }
        push(span, Check::EmailDomains { allow }, t.severity);
    }
    for (i, t) in r.label_scoped.into_iter().enumerate() {
        let span = t.span();
        let t = t.into_inner();
        let at = format!("rules.label_scoped[{i}]");
        let label = doc.named(t.label, &format!("{at}.label"));
        if let Err(m) = super::super::wants::parse_label(&label.text) {
            return Err(PolicyError::at(&label, m));
        }
        let check = Check::LabelScoped {
            role: doc.named(t.role, &format!("{at}.role")),
            label,
        };
        push(span, check, t.severity);
    }
    if let Some(t) = r.redundant_grants {
        push(t.span(), Check::RedundantGrants, t.into_inner().severity);
    }
    if let Some(t) = r.empty_groups {
        push(t.span(), Check::EmptyGroups, t.into_inner().severity);
    }
    if let Some(t) = r.ungrouped_users {
        let span = t.span();
        let t = t.into_inner();
        let check = Check::UngroupedUsers {
            except: doc.names(t.except, "rules.ungrouped_users.except"),
        };
        push(span, check, t.severity);
    }
    if let Some(t) = r.pending_invites {
        let span = t.span();
        let t = t.into_inner();
        push(span, Check::PendingInvites { max: t.max }, t.severity);
    }
    if let Some(t) = r.dangling_grants {
        push(t.span(), Check::DanglingGrants, t.into_inner().severity);
    }
    rules.sort_by_key(|(start, _)| *start);
    Ok(Policy {
        rules: rules.into_iter().map(|(_, r)| r).collect(),
    })
}

/// `acme.example` or `*.acme.example`; never an address.
fn check_domain(d: &Named) -> Result<(), PolicyError> {
    let t = d.text.trim();
    let bare = t.strip_prefix("*.").unwrap_or(t);
    if t.contains('@') {
        return Err(PolicyError::at(
            d,
            format!("{t:?} is not a domain; write the part after the @ (e.g. \"example.com\")"),
        ));
    }
    if bare.is_empty() || bare.contains(['*', ' ', '/']) || !bare.contains('.') {
        return Err(PolicyError::at(
            d,
            format!(
                "{t:?} is not a domain; write e.g. \"example.com\", or \"*.example.com\" for its subdomains"
            ),
        ));
    }
    Ok(())
}

/// The policy text, to turn byte offsets into lines and columns.
struct Doc<'a> {
    text: &'a str,
}

impl Doc<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(self.text, offset)
    }

    fn loc(&self, span: Range<usize>, field: &str) -> Loc {
        let (line, column) = self.line_col(span.start);
        Loc {
            line,
            column,
            field: field.to_string(),
        }
    }

    fn named(&self, s: Spanned<String>, field: &str) -> Named {
        let loc = self.loc(s.span(), field);
        Named {
            text: s.into_inner(),
            loc: Some(loc),
        }
    }

    fn names(&self, v: Vec<Spanned<String>>, field: &str) -> Vec<Named> {
        v.into_iter()
            .enumerate()
            .map(|(i, s)| self.named(s, &format!("{field}[{i}]")))
            .collect()
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The keys each table of the schema takes, for suggestions.
fn keys_of(table: &str) -> &'static [&'static str] {
    match table {
        "" => &["version", "rules"],
        "rules" => &RULE_NAMES,
        "rules.role_holders" => &["role", "allow", "max", "severity"],
        "rules.no_direct_grants" => &["except_roles", "severity"],
        "rules.email_domains" => &["allow", "severity"],
        "rules.label_scoped" => &["role", "label", "severity"],
        "rules.ungrouped_users" => &["except", "severity"],
        "rules.pending_invites" => &["max", "severity"],
        "rules.redundant_grants" | "rules.empty_groups" | "rules.dangling_grants" => &["severity"],
        _ => &[],
    }
}

/// A TOML or schema error as a located, plain-words policy error.
fn explain(text: &str, e: &toml::de::Error) -> PolicyError {
    let span = e.span().unwrap_or(0..0);
    let (line, column) = line_col(text, span.start);
    let path = field_path(text, &span);
    let msg = e.message().trim().to_string();
    let loc = |field: String| {
        Some(Loc {
            line,
            column,
            field,
        })
    };
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let table = path.table_schema();
        let (what, whats) = match table.as_str() {
            "rules" => ("rule", "rules"),
            "" => ("key", "top-level keys"),
            _ => ("field", "fields"),
        };
        let known = keys_of(&table);
        let mut message = format!("unknown {what} `{name}`");
        if let Some(s) = nearest(name, known.iter().copied()) {
            message.push_str(&format!("; did you mean `{s}`?"));
        }
        let field = if path.table.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", path.table)
        };
        let where_ = if table.is_empty() {
            "the top level".to_string()
        } else {
            format!("[{table}]")
        };
        return PolicyError::new(loc(field), message).with_hint(format!(
            "{whats} of {where_}: {} (docs/policy.md)",
            known.join(", ")
        ));
    }
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let name = rest.split('`').next().unwrap_or_default();
        let names: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
        let mut message = format!(
            "unknown severity `{name}`; expected one of {}",
            names.join(", ")
        );
        if let Some(s) = nearest(name, names.iter().copied()) {
            message.push_str(&format!("; did you mean `{s}`?"));
        }
        return PolicyError::new(loc(path.full()), message);
    }
    if msg == "invalid type: map, expected a sequence"
        && matches!(
            path.full().as_str(),
            "rules.role_holders" | "rules.label_scoped"
        )
    {
        let full = path.full();
        return PolicyError::new(
            loc(full.clone()),
            format!(
                "`{full}` is a list of rules: write its tables as [[{full}]] (double brackets), one per rule"
            ),
        );
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another type"));
        return PolicyError::new(
            loc(path.full()),
            format!("expected {}, found {found}", plain_type(expected)),
        );
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ") {
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another value"));
        return PolicyError::new(
            loc(path.full()),
            format!("expected {}, found {found}", plain_type(expected)),
        );
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return PolicyError::new(
            loc(path.full()),
            format!("missing field `{name}`; this rule needs it (docs/policy.md)"),
        );
    }
    // A TOML syntax error: the parser's own words, at its position.
    PolicyError::new(loc(String::new()), format!("not valid TOML: {msg}"))
}

/// Serde's names for types, as a policy author would say them.
fn plain_type(expected: &str) -> String {
    match expected {
        "u32" | "u64" | "i64" | "usize" => "a whole number (0 or more)".to_string(),
        "a sequence" => "an array, e.g. [\"a\", \"b\"]".to_string(),
        "a string" => "a string (in quotes)".to_string(),
        "a map" => "a table".to_string(),
        s if s.starts_with("struct ") => "a table".to_string(),
        s => s.to_string(),
    }
}

/// Where in the document an error is: the table it is in (`rules.role_holders[1]`) and the
/// key it is about, found from the text around its position.
struct FieldPath {
    /// The table's path with array indices.
    table: String,
    key: Option<String>,
}

impl FieldPath {
    fn full(&self) -> String {
        match (&self.table, &self.key) {
            (t, Some(k)) if t.is_empty() => k.clone(),
            (t, Some(k)) => format!("{t}.{k}"),
            (t, None) => t.clone(),
        }
    }

    /// The table's schema path: without array indices.
    fn table_schema(&self) -> String {
        let mut out = String::new();
        let mut depth = 0;
        for c in self.table.chars() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                c if depth == 0 => out.push(c),
                _ => {}
            }
        }
        out
    }
}

/// `[a.b]` or `[[a.b]]` on a line of its own (comments aside): the header's dotted path and
/// whether it is an array of tables.
fn header(line: &str) -> Option<(String, bool)> {
    let t = line.split('#').next().unwrap_or_default().trim();
    let (inner, array) = if let Some(s) = t.strip_prefix("[[") {
        (s.strip_suffix("]]")?, true)
    } else {
        (t.strip_prefix('[')?.strip_suffix(']')?, false)
    };
    let path: String = inner
        .split('.')
        .map(|p| p.trim().trim_matches('"'))
        .collect::<Vec<_>>()
        .join(".");
    let simple = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    (simple && !path.is_empty()).then_some((path, array))
}

/// The key a line assigns (`max = 3` -> `max`), if it assigns one.
fn assigned_key(line: &str) -> Option<String> {
    let (k, _) = line.split_once('=')?;
    let k = k.trim().trim_matches('"');
    let simple = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    simple.then(|| k.to_string())
}

fn field_path(text: &str, span: &Range<usize>) -> FieldPath {
    let start = floor_char_boundary(text, span.start.min(text.len()));
    let end = floor_char_boundary(text, span.end.min(text.len())).max(start);
    let line_no = text[..start].matches('\n').count();
    let lines: Vec<&str> = text.lines().collect();
    // The header the position is under (or on), with array-of-tables indices.
    let mut table = String::new();
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut header_line = None;
    for (i, l) in lines.iter().enumerate().take(line_no + 1) {
        if let Some((path, array)) = header(l) {
            header_line = Some(i);
            table = if array {
                let n = counts.entry(path.clone()).or_default();
                *n += 1;
                format!("{path}[{}]", *n - 1)
            } else {
                path
            };
        }
    }
    let spanned = text[start..end].trim();
    if header_line == Some(line_no) {
        // On a header: the error is about the header's table, or a key named inside it.
        let Some((path, array)) = lines.get(line_no).and_then(|l| header(l)) else {
            return FieldPath { table, key: None };
        };
        if !spanned.starts_with('[') && !spanned.is_empty() {
            // `[rules.empty_group]`: the unknown key is the part the span covers.
            let parent = path
                .strip_suffix(spanned)
                .map(|p| p.trim_end_matches('.').to_string())
                .unwrap_or_default();
            return FieldPath {
                table: parent,
                key: Some(spanned.to_string()),
            };
        }
        let _ = array;
        return FieldPath { table, key: None };
    }
    // The key: the span itself when it is one (unknown field), else the last key assigned at
    // or above this line within the table (a value, or an element of a multi-line array).
    let line_text = lines.get(line_no).copied().unwrap_or_default();
    let key = if assigned_key(line_text).as_deref() == Some(spanned.trim_matches('"')) {
        Some(spanned.trim_matches('"').to_string())
    } else {
        let from = header_line.map_or(0, |h| h + 1);
        (from..=line_no)
            .rev()
            .find_map(|i| lines.get(i).and_then(|l| assigned_key(l)))
    };
    FieldPath { table, key }
}
