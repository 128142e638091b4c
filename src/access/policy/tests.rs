//! Each rule against a small hand-built workspace whose every finding is known; the parser's
//! errors; the starter policy.

use std::collections::HashMap;

use serde_json::json;

use super::*;
use crate::access::directory::{Directory, Resources};
use crate::segment::models::*;

fn label(k: &str, v: &str) -> Label {
    Label {
        key: k.into(),
        value: v.into(),
        description: None,
    }
}

/// A permission of `role` on `(type, id)` resources, each narrowed by `labels`.
fn perm(role: (&str, &str), on: &[(ResourceType, &str)], labels: &[(&str, &str)]) -> Permission {
    let labels: Vec<Label> = labels.iter().map(|(k, v)| label(k, v)).collect();
    Permission {
        role_id: role.0.into(),
        role_name: role.1.into(),
        resources: on
            .iter()
            .map(|(t, id)| PermissionResource {
                id: (*id).into(),
                resource_type: *t,
                labels: (!labels.is_empty()).then(|| labels.clone()),
            })
            .collect(),
        labels: None,
    }
}

const OWNER: (&str, &str) = ("r-owner", "Workspace Owner");
const SA: (&str, &str) = ("r-sa", "Source Admin");
const SRO: (&str, &str) = ("r-sro", "Source Read-only");
const MIN: (&str, &str) = ("r-min", "Minimal Workspace Access");
const WA: (&str, &str) = ("r-wa", "Warehouse Admin");
const WS: (ResourceType, &str) = (ResourceType::Workspace, "w1");

fn user(id: &str, email: &str, perms: Vec<Permission>) -> User {
    User {
        id: id.into(),
        name: id.trim_start_matches("u-").into(),
        email: email.into(),
        permissions: Some(perms),
    }
}

fn group(id: &str, name: &str, perms: Vec<Permission>) -> UserGroup {
    UserGroup {
        id: id.into(),
        name: name.into(),
        member_count: 0,
        permissions: Some(perms),
    }
}

fn source(id: &str, name: &str, labels: &[(&str, &str)]) -> crate::segment::models::Source {
    crate::segment::models::Source {
        id: id.into(),
        slug: name.to_lowercase().replace(' ', "-"),
        name: Some(name.into()),
        workspace_id: "w1".into(),
        enabled: true,
        labels: labels.iter().map(|(k, v)| label(k, v)).collect(),
    }
}

/// Acme: who holds what, and every finding each rule should make, is spelled out in the tests.
fn acme() -> Directory {
    let src = |id| (ResourceType::Source, id);
    let users = vec![
        user("u-ada", "ada@acme.example", vec![perm(OWNER, &[WS], &[])]),
        user(
            "u-bob",
            "bob@acme.example",
            vec![perm(SA, &[src("s-web"), src("s-dev")], &[])],
        ),
        user("u-cy", "cy@partner.example", vec![perm(MIN, &[WS], &[])]),
        user(
            "u-dee",
            "dee@acme.example",
            vec![
                perm(SA, &[WS], &[("environment", "prod")]),
                perm(SRO, &[WS], &[]),
            ],
        ),
        user(
            "u-eve",
            "eve@acme.example",
            vec![perm(WA, &[(ResourceType::Warehouse, "wh-gone")], &[])],
        ),
        user("u-fay", "fay@eu.acme.example", vec![perm(SA, &[WS], &[])]),
    ];
    let groups = vec![
        group("g-mob", "Mobile", vec![perm(SA, &[src("s-web")], &[])]),
        group("g-own", "Owners", vec![perm(OWNER, &[WS], &[])]),
        group("g-empty", "Empty", vec![perm(SRO, &[WS], &[])]),
        group(
            "g-growth",
            "Growth",
            vec![perm(SA, &[WS], &[("team", "growth")])],
        ),
    ];
    let member = |id: &str, email: &str| MinimalUser {
        id: id.into(),
        name: id.trim_start_matches("u-").into(),
        email: email.into(),
    };
    let members: HashMap<String, Vec<MinimalUser>> = [
        (
            "g-mob",
            vec![
                member("u-bob", "bob@acme.example"),
                member("u-dee", "dee@acme.example"),
            ],
        ),
        ("g-own", vec![member("u-eve", "eve@acme.example")]),
        ("g-empty", vec![]),
        ("g-growth", vec![member("u-ada", "ada@acme.example")]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let group_invites: HashMap<String, Vec<String>> = [
        ("g-mob", vec!["new@acme.example".to_string()]),
        ("g-own", vec!["boss@acme.example".to_string()]),
        ("g-empty", vec![]),
        ("g-growth", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let role = |(id, name): (&str, &str)| Role {
        id: id.into(),
        name: name.into(),
        description: String::new(),
    };
    Directory {
        workspace: Some(Workspace {
            id: "w1".into(),
            name: "Acme".into(),
            slug: "acme".into(),
        }),
        users,
        invites: vec![
            "new@acme.example".into(),
            "ext@agency.example".into(),
            "boss@acme.example".into(),
        ],
        groups,
        members,
        group_invites,
        roles: [OWNER, SA, SRO, MIN, WA].into_iter().map(role).collect(),
        resources: Resources {
            sources: vec![
                source("s-web", "Website Prod", &[("environment", "prod")]),
                source("s-dev", "Website Dev", &[("environment", "dev")]),
                source(
                    "s-back",
                    "Backend",
                    &[("environment", "prod"), ("team", "growth")],
                ),
            ],
            warehouses: vec![Warehouse {
                id: "wh1".into(),
                workspace_id: "w1".into(),
                enabled: true,
                metadata: None,
                settings: Some(json!({"name": "Snowflake"})),
            }],
            ..Resources::default()
        },
        labels: vec![
            label("environment", "prod"),
            label("environment", "dev"),
            label("team", "growth"),
        ],
    }
}

fn check(dir: &Directory, text: &str) -> Vec<Finding> {
    let policy = parse(&format!("version = 1\n{text}")).expect("policy parses");
    findings(dir, &policy).expect("names resolve")
}

/// Findings as `principal | role | resource | via-less grant?`, compactly, for assertions.
fn brief(fs: &[Finding]) -> Vec<String> {
    fs.iter()
        .map(|f| {
            let who = f
                .principal
                .as_ref()
                .map(|p| p.display())
                .unwrap_or_default();
            let what = match &f.grant {
                Some(g) => format!(
                    " {} on {}{}",
                    g.role.as_ref().map_or("(member)", |r| r.name.as_str()),
                    g.resource.display(),
                    if g.labels.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", g.labels_display())
                    }
                ),
                None => f
                    .role
                    .as_ref()
                    .map(|r| format!(" {}", r.name))
                    .unwrap_or_default(),
            };
            format!("{}{what}: {}", who, f.message)
        })
        .collect()
}

fn error(text: &str) -> PolicyError {
    parse(text).expect_err("policy is refused")
}

#[test]
fn role_holders_allow_list_and_max() {
    let dir = acme();
    let fs = check(
        &dir,
        "[[rules.role_holders]]\nrole = \"Workspace Owner\"\nallow = [\"ADA@acme.example\"]\nmax = 2\n",
    );
    assert_eq!(
        brief(&fs),
        [
            " Workspace Owner: 3 people hold it (1 a pending invite); at most 2 may",
            "group:Owners Workspace Owner on workspace: not on the allow list (2 members)",
        ]
    );
    assert!(fs.iter().all(|f| f.rule == "role_holders"));
    assert!(fs.iter().all(|f| f.severity == Severity::Critical));
    assert_eq!(fs[1].line, Some(2));
    let g = fs[1].grant.as_ref().unwrap();
    assert!(
        g.via.is_none(),
        "the group's own grant, which revoke can remove"
    );

    // The group on the list allows it and its members (eve, and the invite boss@).
    let fs = check(
        &dir,
        "[[rules.role_holders]]\nrole = \"workspace owner\"\nallow = [\"ada@acme.example\", \"group:Owners\"]\nmax = 3\n",
    );
    assert_eq!(brief(&fs), Vec::<String>::new());

    // A member of an allowed group is allowed however else they hold the role.
    let fs = check(
        &dir,
        "[[rules.role_holders]]\nrole = \"Workspace Owner\"\nallow = [\"group:Growth\", \"group:g-own\"]\n",
    );
    assert_eq!(brief(&fs), Vec::<String>::new(), "ada is in Growth");

    // Users can be named by id or name too; an email need not be a user yet.
    let fs = check(
        &dir,
        "[[rules.role_holders]]\nrole = \"r-owner\"\nallow = [\"u-ada\", \"group:Owners\", \"later@acme.example\"]\n",
    );
    assert!(fs.is_empty(), "{:?}", brief(&fs));
}

#[test]
fn role_holders_names_must_resolve() {
    let dir = acme();
    let policy =
        parse("version = 1\n[[rules.role_holders]]\nrole = \"Workspace Ownr\"\nallow = []\n")
            .unwrap();
    let e = findings(&dir, &policy).unwrap_err();
    assert_eq!(e.loc.as_ref().map(|l| (l.line, l.column)), Some((3, 8)));
    assert_eq!(e.loc.as_ref().unwrap().field, "rules.role_holders[0].role");
    assert!(
        e.message.contains("did you mean") && e.message.contains("Workspace Owner?"),
        "{e}"
    );

    let policy = parse(
        "version = 1\n[[rules.role_holders]]\nrole = \"Workspace Owner\"\nallow = [\n  \"ada@acme.example\",\n  \"group:Ownrs\",\n]\n",
    )
    .unwrap();
    let e = findings(&dir, &policy).unwrap_err().in_file("p.toml");
    assert_eq!(
        e.to_string(),
        "p.toml:6:3: rules.role_holders[0].allow[1]: no group matches \"Ownrs\"; did you mean Owners (g-own)?"
    );
}

#[test]
fn no_direct_grants_except_roles() {
    let fs = check(
        &acme(),
        "[rules.no_direct_grants]\nexcept_roles = [\"Workspace Owner\"]\n",
    );
    assert_eq!(
        brief(&fs),
        [
            "bob@acme.example Source Admin on source:Website Dev: direct, not through a group",
            "bob@acme.example Source Admin on source:Website Prod: direct, not through a group",
            "cy@partner.example Minimal Workspace Access on workspace: direct, not through a group",
            "dee@acme.example Source Admin on workspace [environment=prod]: direct, not through a group",
            "dee@acme.example Source Read-only on workspace: direct, not through a group",
            "eve@acme.example Warehouse Admin on warehouse:wh-gone: direct, not through a group",
            "fay@eu.acme.example Source Admin on workspace: direct, not through a group",
        ]
    );
    assert!(fs.iter().all(|f| f.severity == Severity::Medium));
}

#[test]
fn email_domains_users_and_invites() {
    let dir = acme();
    let fs = check(&dir, "[rules.email_domains]\nallow = [\"acme.example\"]\n");
    assert_eq!(
        brief(&fs),
        [
            "cy@partner.example: domain partner.example is not allowed",
            "fay@eu.acme.example: domain eu.acme.example is not allowed",
            "invite:ext@agency.example: domain agency.example is not allowed",
        ]
    );
    assert!(fs.iter().all(|f| f.grant.is_none()));
    // `*.` allows subdomains only.
    let fs = check(
        &dir,
        "[rules.email_domains]\nallow = [\"acme.example\", \"*.acme.example\", \"Partner.Example\", \"agency.example\"]\n",
    );
    assert!(fs.is_empty(), "{:?}", brief(&fs));
    let fs = check(
        &dir,
        "[rules.email_domains]\nallow = [\"*.acme.example\"]\n",
    );
    assert_eq!(fs.len(), 8, "{:?}", brief(&fs));
}

#[test]
fn label_scoped_only_through_the_label() {
    let dir = acme();
    let fs = check(
        &dir,
        "[[rules.label_scoped]]\nrole = \"Source Admin\"\nlabel = \"environment=prod\"\n",
    );
    assert_eq!(
        brief(&fs),
        [
            // A binding on the source itself.
            "bob@acme.example Source Admin on source:Website Prod: not through environment=prod",
            // A workspace-wide binding reaches every prod source.
            "fay@eu.acme.example Source Admin on workspace: not through environment=prod; reaches Backend, Website Prod",
            // Narrowed by another label the prod source also carries.
            "group:Growth Source Admin on workspace [team=growth]: through team=growth, not environment=prod; reaches Backend",
            "group:Mobile Source Admin on source:Website Prod: not through environment=prod",
        ]
    );
    // dee's binding narrowed by environment=prod is the way; bob's on Website Dev reaches no
    // prod source.
    assert!(fs.iter().all(|f| f.severity == Severity::High));

    let e = findings(
        &dir,
        &parse("version = 1\n[[rules.label_scoped]]\nrole = \"Source Admin\"\nlabel = \"environment=prd\"\n").unwrap(),
    )
    .unwrap_err();
    assert!(e.message.contains("did you mean environment=prod?"), "{e}");
    assert_eq!(e.loc.unwrap().line, 4);
    let e =
        error("version = 1\n[[rules.label_scoped]]\nrole = \"Source Admin\"\nlabel = \"prod\"\n");
    assert!(e.message.contains("not key=value"), "{e}");
}

#[test]
fn redundant_grants_name_the_direct_record() {
    let fs = check(&acme(), "[rules.redundant_grants]\n");
    assert_eq!(
        brief(&fs),
        ["bob@acme.example Source Admin on source:Website Prod: also through group:Mobile"]
    );
    let g = fs[0].grant.as_ref().unwrap();
    assert!(g.via.is_none());
    assert_eq!(g.resource.id, "s-web");
    assert_eq!(fs[0].severity, Severity::Low);
}

#[test]
fn empty_groups_and_ungrouped_users() {
    let dir = acme();
    let fs = check(&dir, "[rules.empty_groups]\nseverity = \"medium\"\n");
    assert_eq!(
        brief(&fs),
        ["group:Empty: no members or pending invites; still holds roles"]
    );
    assert_eq!(fs[0].severity, Severity::Medium);

    let fs = check(&dir, "[rules.ungrouped_users]\n");
    assert_eq!(
        brief(&fs),
        [
            "cy@partner.example: in no group",
            "fay@eu.acme.example: in no group",
        ]
    );
    let fs = check(
        &dir,
        "[rules.ungrouped_users]\nexcept = [\"CY@partner.example\", \"u-fay\"]\n",
    );
    assert!(fs.is_empty());

    // A group whose members were not read is unknown, not empty.
    let mut partial = dir.clone();
    partial.members.remove("g-empty");
    assert!(check(&partial, "[rules.empty_groups]\n").is_empty());
}

#[test]
fn pending_invites_over_the_limit() {
    let dir = acme();
    assert!(check(&dir, "[rules.pending_invites]\nmax = 3\n").is_empty());
    let fs = check(&dir, "[rules.pending_invites]\nmax = 2\n");
    assert_eq!(
        brief(&fs),
        [
            "invite:boss@acme.example: pending; 3 invites, at most 2 allowed",
            "invite:ext@agency.example: pending; 3 invites, at most 2 allowed",
            "invite:new@acme.example: pending; 3 invites, at most 2 allowed",
        ]
    );
    let fs = check(&dir, "[rules.pending_invites]\n");
    assert_eq!(fs.len(), 3);
    assert_eq!(fs[0].message, "pending; none allowed");
}

#[test]
fn dangling_grants_but_not_unknown_spaces() {
    let mut dir = acme();
    let fs = check(&dir, "[rules.dangling_grants]\n");
    assert_eq!(
        brief(&fs),
        ["eve@acme.example Warehouse Admin on warehouse:wh-gone: the warehouse no longer exists"]
    );
    let g = fs[0].grant.as_ref().unwrap();
    assert_eq!(g.resource.name, None);
    // A grant on a space, when spaces could not be listed, is unknown rather than dangling.
    dir.users[0].permissions.as_mut().unwrap().push(perm(
        ("r-ea", "Engage Admin"),
        &[(ResourceType::Space, "sp1")],
        &[],
    ));
    dir.resources.spaces_unavailable = Some("403".into());
    assert_eq!(check(&dir, "[rules.dangling_grants]\n").len(), 1);
    dir.resources.spaces_unavailable = None;
    assert_eq!(check(&dir, "[rules.dangling_grants]\n").len(), 2);
}

#[test]
fn findings_are_ordered_by_severity_then_policy_order() {
    let fs = check(
        &acme(),
        "[rules.redundant_grants]\n[rules.empty_groups]\nseverity = \"critical\"\n[rules.dangling_grants]\n",
    );
    let order: Vec<(&str, Severity)> = fs.iter().map(|f| (f.rule, f.severity)).collect();
    assert_eq!(
        order,
        [
            ("empty_groups", Severity::Critical),
            ("dangling_grants", Severity::Medium),
            ("redundant_grants", Severity::Low),
        ]
    );
    assert_eq!(
        fs.iter().map(|f| f.line).collect::<Vec<_>>(),
        [Some(3), Some(5), Some(2)]
    );
}

#[test]
fn finding_json_shape() {
    let fs = check(&acme(), "[rules.redundant_grants]\n");
    let v = serde_json::to_value(&fs[0]).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "rule",
            "severity",
            "message",
            "principal",
            "role",
            "grant",
            "line"
        ]
    );
    assert_eq!(v["severity"], "low");
    assert_eq!(v["grant"]["via"], serde_json::Value::Null);
    // The grant is a grant record exactly as `revoke --from-file` reads it back.
    let back: GrantRecord = serde_json::from_value(v["grant"].clone()).unwrap();
    assert_eq!(Some(&back), fs[0].grant.as_ref());
}

#[test]
fn names_and_flagged_for_reviews() {
    let dir = acme();
    let records = crate::access::grants::all_grants(&dir);
    let fs = check(
        &dir,
        "[[rules.role_holders]]\nrole = \"Workspace Owner\"\nallow = [\"ada@acme.example\"]\n\
         [rules.email_domains]\nallow = [\"acme.example\", \"*.acme.example\"]\n\
         [rules.empty_groups]\n",
    );
    let named = |f: &Finding| -> Vec<String> {
        records
            .iter()
            .filter(|r| f.names(r))
            .map(|r| {
                format!(
                    "{} {} {}{}",
                    r.principal.display(),
                    r.role.as_ref().map_or("(member)", |x| x.name.as_str()),
                    r.resource.display(),
                    r.via
                        .as_ref()
                        .map(|v| format!(" via {}", v.name))
                        .unwrap_or_default()
                )
            })
            .collect()
    };
    let owners = fs.iter().find(|f| f.rule == "role_holders").unwrap();
    // The group's grant, and each member's copy of it; not the memberships themselves.
    assert_eq!(
        named(owners),
        [
            "eve@acme.example Workspace Owner workspace via Owners",
            "invite:boss@acme.example Workspace Owner workspace via Owners",
            "group:Owners Workspace Owner workspace",
        ]
    );
    let cy = fs.iter().find(|f| f.rule == "email_domains").unwrap();
    assert_eq!(
        named(cy),
        ["cy@partner.example Minimal Workspace Access workspace"]
    );
    let empty = fs.iter().find(|f| f.rule == "empty_groups").unwrap();
    assert_eq!(named(empty), ["group:Empty Source Read-only workspace"]);

    // flagged: every finding that names a record.
    let eve_owner = records
        .iter()
        .find(|r| r.principal.display() == "eve@acme.example" && r.via.is_some())
        .unwrap();
    let why: Vec<&str> = flagged(&fs, eve_owner).map(|f| f.rule).collect();
    assert_eq!(why, ["role_holders"]);

    // A count finding names every record of the role.
    let fs = check(
        &dir,
        "[[rules.role_holders]]\nrole = \"Workspace Owner\"\nallow = [\"ada@acme.example\", \"group:Owners\"]\nmax = 1\n",
    );
    assert_eq!(fs.len(), 1);
    let n = records.iter().filter(|r| fs[0].names(r)).count();
    let owner_records = records
        .iter()
        .filter(|r| r.role.as_ref().is_some_and(|x| x.name == "Workspace Owner"))
        .count();
    assert_eq!(n, owner_records);
}

#[test]
fn grants_of_is_each_record_once() {
    let fs = check(
        &acme(),
        "[rules.redundant_grants]\n[rules.no_direct_grants]\n",
    );
    let gs = grants_of(&fs);
    assert_eq!(
        gs.len(),
        8,
        "bob's Website Prod grant is named twice, listed once"
    );
    assert!(gs.iter().all(|g| g.via.is_none() && g.role.is_some()));
}

#[test]
fn need_reads_only_what_rules_use() {
    let p = parse(
        "version = 1\n[rules.email_domains]\nallow = [\"a.example\"]\n[rules.pending_invites]\n",
    )
    .unwrap();
    let n = p.need();
    assert!(n.users && n.invites);
    assert!(!n.user_permissions && !n.group_members && !n.resources);
    let p = parse("version = 1\n[rules.redundant_grants]\n").unwrap();
    let n = p.need();
    assert!(n.user_permissions && n.group_members && n.groups && n.roles && n.resources);
    assert!(!n.invites);
}

// ---- the parser ----

#[test]
fn every_rule_parses_with_defaults_and_lines() {
    let text = "\
version = 1

[[rules.role_holders]]
role = \"Workspace Owner\"
allow = [\"a@x.example\", \"group:Admins\"]
max = 3

[rules.no_direct_grants]
except_roles = [\"Workspace Owner\"]

[rules.email_domains]
allow = [\"x.example\"]

[[rules.label_scoped]]
role = \"Source Admin\"
label = \"environment=prod\"
severity = \"critical\"

[rules.redundant_grants]
[rules.empty_groups]
[rules.ungrouped_users]
[rules.pending_invites]
max = 2
[rules.dangling_grants]
";
    let p = parse(text).unwrap();
    let got: Vec<(&str, Severity, Option<usize>)> = p
        .rules
        .iter()
        .map(|r| (r.check.name(), r.severity, r.line))
        .collect();
    assert_eq!(
        got,
        [
            ("role_holders", Severity::Critical, Some(3)),
            ("no_direct_grants", Severity::Medium, Some(8)),
            ("email_domains", Severity::High, Some(11)),
            ("label_scoped", Severity::Critical, Some(14)),
            ("redundant_grants", Severity::Low, Some(19)),
            ("empty_groups", Severity::Low, Some(20)),
            ("ungrouped_users", Severity::Low, Some(21)),
            ("pending_invites", Severity::Low, Some(22)),
            ("dangling_grants", Severity::Medium, Some(24)),
        ]
    );
    assert_eq!(got.len(), RULE_NAMES.len());
    // Inline tables work as well as headers.
    let p = parse("version = 1\nrules = { empty_groups = {}, pending_invites = { max = 1 } }\n")
        .unwrap();
    assert_eq!(p.rules.len(), 2);
}

#[test]
fn a_mistyped_rule_is_named_with_line_and_suggestion() {
    let e = error("version = 1\n\n[rules.redundant_grant]\nseverity = \"low\"\n").in_file("p.toml");
    assert_eq!(
        e.to_string(),
        "p.toml:3:8: rules.redundant_grant: unknown rule `redundant_grant`; did you mean `redundant_grants`?"
    );
    assert!(e.hint.as_deref().unwrap().contains("empty_groups"), "{e:?}");

    let e = error("version = 1\n[rules]\nempty_group = {}\n");
    assert_eq!(e.loc.as_ref().unwrap().line, 3);
    assert!(e.message.contains("did you mean `empty_groups`?"), "{e}");

    let e = error("version = 1\n[rule.empty_groups]\n");
    assert_eq!(e.loc.as_ref().unwrap().field, "rule");
    assert!(
        e.message
            .contains("unknown key `rule`; did you mean `rules`?"),
        "{e}"
    );

    let e = error("verison = 1\n");
    assert!(e.message.contains("did you mean `version`?"), "{e}");
}

#[test]
fn a_mistyped_field_is_named_with_line_and_suggestion() {
    let e = error("version = 1\n[[rules.role_holders]]\nrole = \"Workspace Owner\"\nalow = []\n")
        .in_file("p.toml");
    assert_eq!(
        e.to_string(),
        "p.toml:4:1: rules.role_holders[0].alow: unknown field `alow`; did you mean `allow`?"
    );
    let e = error("version = 1\n[rules.pending_invites]\nmaximum = 3\n");
    assert!(e.message.contains("did you mean `max`?"), "{e}");
    // The second table of an array is named by its index.
    let e = error(
        "version = 1\n[[rules.label_scoped]]\nrole = \"a\"\nlabel = \"k=v\"\n[[rules.label_scoped]]\nrole = \"a\"\nlable = \"k=v\"\n",
    );
    assert_eq!(e.loc.unwrap().field, "rules.label_scoped[1].lable");
}

#[test]
fn a_wrong_type_names_the_field_and_line() {
    let e = error("version = 1\n[rules.pending_invites]\nmax = \"three\"\n").in_file("p.toml");
    assert_eq!(
        e.to_string(),
        "p.toml:3:7: rules.pending_invites.max: expected a whole number (0 or more), found string \"three\""
    );
    let e = error("version = 1\n[rules.pending_invites]\nmax = -1\n");
    assert!(e.message.contains("found integer `-1`"), "{e}");
    let e = error("version = 1\n[rules.email_domains]\nallow = \"acme.example\"\n");
    assert_eq!(e.loc.as_ref().unwrap().field, "rules.email_domains.allow");
    assert!(e.message.starts_with("expected an array"), "{e}");
    let e = error(
        "version = 1\n[[rules.role_holders]]\nrole = \"x\"\nallow = [\n  \"a@b.example\",\n  3,\n]\n",
    );
    assert_eq!(e.loc.as_ref().unwrap().line, 6);
    assert_eq!(e.loc.as_ref().unwrap().field, "rules.role_holders[0].allow");
    let e = error("version = \"1\"\n");
    assert_eq!(e.loc.as_ref().unwrap().field, "version");
}

#[test]
fn severities_and_shapes_are_checked() {
    let e = error("version = 1\n[rules.empty_groups]\nseverity = \"hgh\"\n");
    assert_eq!(e.loc.as_ref().unwrap().field, "rules.empty_groups.severity");
    assert!(e.message.contains("did you mean `high`?"), "{e}");
    let e = error("version = 1\n[rules.role_holders]\nrole = \"x\"\n");
    assert!(e.message.contains("[[rules.role_holders]]"), "{e}");
    let e = error("version = 1\n[[rules.label_scoped]]\nrole = \"x\"\n");
    assert_eq!(e.loc.as_ref().unwrap().line, 2);
    assert!(e.message.contains("missing field `label`"), "{e}");
    let e = error("version = 1\n[rules.email_domains]\nallow = [\"@acme.example\"]\n");
    assert!(e.message.contains("not a domain"), "{e}");
    let e = error("version = 1\n[rules.empty_groups\n");
    assert!(e.message.starts_with("not valid TOML"), "{e}");
    assert_eq!(e.loc.unwrap().line, 2);
}

#[test]
fn the_version_is_required_and_checked() {
    let e = error("[rules.empty_groups]\n");
    assert!(e.message.contains("version = 1"), "{e}");
    let e = error("version = 2\n");
    assert!(e.message.contains("schema version 2"), "{e}");
    assert_eq!(e.loc.unwrap().line, 1);
    assert_eq!(parse("version = 1\n").unwrap().rules.len(), 0);
}

// ---- the starter policy ----

#[test]
fn the_starter_passes_where_it_was_drawn_and_catches_a_new_owner() {
    let dir = acme();
    let s = starter(&dir);
    let policy = parse(&s.text).unwrap_or_else(|e| panic!("{e}\n{}", s.text));
    assert_eq!(findings(&dir, &policy).unwrap(), Vec::<Finding>::new());
    assert!(
        s.text
            .contains("allow = [\"ada@acme.example\", \"group:Owners\"]"),
        "{}",
        s.text
    );
    assert!(s.text.contains("max = 3"), "{}", s.text);
    assert!(
        s.text.contains("allow = [\"acme.example\", \"agency.example\", \"eu.acme.example\", \"partner.example\"]"),
        "{}",
        s.text
    );
    assert_eq!(s.owners, Some((2, 3)));
    assert!(s.on.contains(&"role_holders") && s.on.contains(&"email_domains"));
    assert!(
        s.off.contains(&("redundant_grants", Some(1))),
        "{:?}",
        s.off
    );

    let mut more = dir.clone();
    more.users[3]
        .permissions
        .as_mut()
        .unwrap()
        .push(perm(OWNER, &[WS], &[]));
    let fs = findings(&more, &policy).unwrap();
    assert_eq!(
        brief(&fs),
        [
            " Workspace Owner: 4 people hold it (1 a pending invite); at most 3 may",
            "dee@acme.example Workspace Owner on workspace: not on the allow list",
        ]
    );
}

#[test]
fn the_starter_uncommented_is_a_valid_policy() {
    let s = starter(&acme());
    // Uncomment every rule marked Off: the lines after "# Off:" up to the blank line.
    let mut text = String::new();
    let mut off = false;
    for l in s.text.lines() {
        if l.starts_with("# Off:") {
            off = true;
            continue;
        }
        if l.is_empty() {
            off = false;
        }
        text.push_str(if off {
            l.strip_prefix("# ").unwrap_or(l)
        } else {
            l
        });
        text.push('\n');
    }
    let p = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(p.rules.len(), RULE_NAMES.len(), "{text}");
    let names: Vec<&str> = p.rules.iter().map(|r| r.check.name()).collect();
    assert_eq!(names, RULE_NAMES);
    // Exactly the rules marked Off find something.
    let fs = findings(&acme(), &p).unwrap();
    let mut found: Vec<&str> = fs.iter().map(|f| f.rule).collect();
    found.sort();
    found.dedup();
    let mut off: Vec<&str> = s.off.iter().map(|(n, _)| *n).collect();
    off.sort();
    assert_eq!(found, off);
}

#[test]
fn the_starter_is_the_same_bytes_for_the_same_workspace() {
    assert_eq!(starter(&acme()).text, starter(&acme()).text);
}

#[test]
fn a_dangling_grant_can_be_revoked_but_not_granted() {
    use crate::access::plan::{Action, Item};
    let dir = acme();
    let fs = check(&dir, "[rules.dangling_grants]\n");
    let g = fs[0].grant.as_ref().unwrap();
    let revoke = crate::access::wants::from_record(&dir, Action::Revoke, 1, g);
    match revoke.item {
        Item::Bind(b) => {
            assert_eq!(b.resource_id, "wh-gone");
            assert_eq!(b.resource_name, None);
        }
        other => panic!("revoke refused: {other:?}"),
    }
    let grant = crate::access::wants::from_record(&dir, Action::Grant, 1, g);
    assert!(
        matches!(grant.item, Item::Refused { .. }),
        "{:?}",
        grant.item
    );
}
