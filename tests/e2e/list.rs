//! End to end: the built binary against a live emulator on loopback. Expected answers come from
//! the emulator's own state (its control endpoint), computed independently of the tool.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::*;

fn grants_ndjson(emu: &segment_access::emulator::BlockingEmulator, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["list", "grants", "--format", "ndjson"];
    args.extend_from_slice(extra);
    parse_ndjson(&stdout_of(bin(&emu.url(), OWNER).args(&args)))
}

#[test]
fn grants_are_exactly_the_emulators_grant_set() {
    let emu = small();
    let st = state(&emu);
    let printed = grants_ndjson(&emu, &[]);
    let facts: Vec<Fact> = printed.iter().map(fact_of).collect();
    let set: BTreeSet<Fact> = facts.iter().cloned().collect();
    assert_eq!(facts.len(), set.len(), "no record printed twice");
    let expected = expected_facts(&st);
    assert!(expected.len() > 40, "the small seed has a real grant mix");
    assert_eq!(set, expected);
    // Inherited grants and memberships are both present, and invites appear as principals.
    assert!(printed.iter().any(|r| r["via"].is_object()));
    assert!(
        printed
            .iter()
            .any(|r| r["role"].is_null() && r["resource"]["type"] == "group")
    );
    assert!(printed.iter().any(|r| r["principal"]["type"] == "invite"));
}

#[test]
fn records_carry_names_from_the_workspace() {
    let emu = small();
    let st = state(&emu);
    let printed = grants_ndjson(&emu, &[]);
    for r in &printed {
        if r["principal"]["type"] == "user" {
            let id = r["principal"]["id"].as_str().unwrap();
            let u = st["users"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["id"] == id)
                .unwrap();
            assert_eq!(r["principal"]["email"], u["email"]);
            assert_eq!(r["principal"]["name"], u["name"]);
        }
        if r["resource"]["type"] == "source" {
            let id = r["resource"]["id"].as_str().unwrap();
            let s = st["sources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == id)
                .unwrap();
            assert_eq!(r["resource"]["name"], s["name"]);
        }
        if let Some(role) = r["role"].as_object() {
            let rid = role["id"].as_str().unwrap();
            let known = st["roles"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["id"] == rid)
                .unwrap();
            assert_eq!(role["name"], known["name"]);
        }
    }
}

#[test]
fn every_format_says_the_same() {
    let emu = small();
    let nd = grants_ndjson(&emu, &[]);
    let json: Vec<Value> = serde_json::from_str(&stdout_of(
        bin(&emu.url(), OWNER).args(["list", "grants", "--json"]),
    ))
    .unwrap();
    assert_eq!(json, nd);

    let csv_text = stdout_of(bin(&emu.url(), OWNER).args(["list", "grants", "--format", "csv"]));
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(headers.get(0), Some("principal_type"));
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), nd.len());
    for (row, rec) in rows.iter().zip(&nd) {
        assert_eq!(
            row.get(0).unwrap(),
            rec["principal"]["type"].as_str().unwrap()
        );
        assert_eq!(
            row.get(4).unwrap(),
            rec["role"]["id"].as_str().unwrap_or("")
        );
        assert_eq!(row.get(7).unwrap(), rec["resource"]["id"].as_str().unwrap());
        assert_eq!(
            row.get(11).unwrap(),
            rec["via"]["id"].as_str().unwrap_or("")
        );
    }

    let table = stdout_of(bin(&emu.url(), OWNER).args(["list", "grants"]));
    let mut lines = table.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["PRINCIPAL", "ROLE", "RESOURCE", "LABELS", "VIA"]
    );
    assert_eq!(lines.count(), nd.len());
    assert!(!table.contains('\u{1b}'), "no escape sequences when piped");
}

#[test]
fn output_validates_against_the_published_json_schema() {
    let emu = small();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/grant-record.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let printed = grants_ndjson(&emu, &[]);
    for r in &printed {
        let errors: Vec<String> = validator.iter_errors(r).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{r}: {errors:?}");
    }
    // The schema is strict enough to reject a wrong record.
    let mut bad = printed[0].clone();
    bad["principal"]["type"] = Value::from("robot");
    assert!(!validator.is_valid(&bad));
}

#[test]
fn plain_lists_match_the_state() {
    let emu = small();
    let st = state(&emu);
    let count = |what: &str| {
        let v: Vec<Value> = serde_json::from_str(&stdout_of(
            bin(&emu.url(), OWNER).args(["list", what, "--json"]),
        ))
        .unwrap();
        v
    };
    let users = count("users");
    assert_eq!(users.len(), st["users"].as_array().unwrap().len());
    let emails: BTreeSet<&str> = users.iter().map(|u| u["email"].as_str().unwrap()).collect();
    let expected: BTreeSet<&str> = st["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, expected);
    assert!(users.iter().all(|u| u.get("permissions").is_none()));

    assert_eq!(
        count("groups").len(),
        st["groups"].as_array().unwrap().len()
    );
    assert_eq!(count("roles").len(), st["roles"].as_array().unwrap().len());
    let invites: BTreeSet<String> = count("invites")
        .iter()
        .map(|i| i["email"].as_str().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = st["invites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(invites, expected);

    let resources = count("resources");
    let n = |k: &str| st[k].as_array().unwrap().len();
    assert_eq!(
        resources.len(),
        1 + n("sources") + n("warehouses") + n("functions") + n("spaces")
    );
    assert_eq!(resources[0]["type"], "workspace");
    assert_eq!(resources[0]["id"], st["workspace"]["id"]);

    let ws: Value = serde_json::from_str(&stdout_of(bin(&emu.url(), OWNER).args([
        "list",
        "workspace",
        "--json",
    ])))
    .unwrap();
    assert_eq!(ws["id"], st["workspace"]["id"]);
    assert_eq!(ws["slug"], st["workspace"]["slug"]);
    assert_eq!(ws["apiUrl"], emu.url());
}

#[test]
fn members_of_a_group_by_name() {
    let emu = small();
    let st = state(&emu);
    let g = st["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| !g["inviteEmails"].as_array().unwrap().is_empty())
        .expect("a group with a pending invite");
    let name = g["name"].as_str().unwrap().to_uppercase();
    let rows: Vec<Value> = serde_json::from_str(&stdout_of(
        bin(&emu.url(), OWNER).args(["list", "members", &name, "--json"]),
    ))
    .unwrap();
    let users: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r["type"] == "user")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = g["memberIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(users, expected);
    let invites: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r["type"] == "invite")
        .map(|r| r["email"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = g["inviteEmails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(invites, expected);
}

/// A user who holds grants both directly and through a group.
fn user_with_direct_and_inherited(st: &Value) -> Value {
    let all = expected_facts(st);
    st["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| {
            let p = format!("user:{}", u["id"].as_str().unwrap());
            all.iter()
                .any(|f| f.principal == p && f.via.is_empty() && !f.role.is_empty())
                && all.iter().any(|f| f.principal == p && !f.via.is_empty())
        })
        .expect("seed has such a user")
        .clone()
}

#[test]
fn user_filter_gives_that_users_effective_access() {
    let emu = small();
    let st = state(&emu);
    let u = user_with_direct_and_inherited(&st);
    let p = format!("user:{}", u["id"].as_str().unwrap());
    let expected: BTreeSet<Fact> = expected_facts(&st)
        .into_iter()
        .filter(|f| f.principal == p)
        .collect();
    // By email in another case, by id and by name: the same answer.
    let email = u["email"].as_str().unwrap().to_uppercase();
    for key in [
        email.as_str(),
        u["id"].as_str().unwrap(),
        u["name"].as_str().unwrap(),
    ] {
        let got: BTreeSet<Fact> = grants_ndjson(&emu, &["--user", key])
            .iter()
            .map(fact_of)
            .collect();
        assert_eq!(got, expected, "--user {key}");
    }
    let direct: BTreeSet<Fact> = grants_ndjson(&emu, &["--user", &email, "--direct-only"])
        .iter()
        .map(fact_of)
        .collect();
    let expected_direct: BTreeSet<Fact> = expected
        .iter()
        .filter(|f| f.via.is_empty())
        .cloned()
        .collect();
    assert_eq!(direct, expected_direct);
    assert!(direct.len() < expected.len());
}

#[test]
fn user_filter_reads_only_that_user() {
    let emu = small();
    let st = state(&emu);
    let u = user_with_direct_and_inherited(&st);
    let before = stats(&emu);
    stdout_of(bin(&emu.url(), OWNER).args([
        "list",
        "grants",
        "--user",
        u["email"].as_str().unwrap(),
    ]));
    let after = stats(&emu);
    let per_route = |s: &Value, route: &str| s["byRoute"][route].as_u64().unwrap_or(0);
    assert_eq!(
        per_route(&after, "GET /users/{userId}") - per_route(&before, "GET /users/{userId}"),
        1,
        "one user read, not one per user: {after}"
    );
    assert_eq!(
        per_route(&after, "GET /groups/{userGroupId}/users")
            - per_route(&before, "GET /groups/{userGroupId}/users"),
        0
    );
}

#[test]
fn group_role_and_resource_filters() {
    let emu = small();
    let st = state(&emu);
    let all = expected_facts(&st);

    let g = &st["groups"].as_array().unwrap()[0];
    let gid = g["id"].as_str().unwrap();
    let got: BTreeSet<Fact> = grants_ndjson(&emu, &["--group", g["name"].as_str().unwrap()])
        .iter()
        .map(fact_of)
        .collect();
    let expected: BTreeSet<Fact> = all
        .iter()
        .filter(|f| {
            f.principal == format!("group:{gid}")
                || f.via == gid
                || f.resource == format!("group:{gid}")
        })
        .cloned()
        .collect();
    assert_eq!(got, expected);

    let owner = st["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Workspace Owner")
        .unwrap();
    let got: BTreeSet<Fact> = grants_ndjson(&emu, &["--role", "workspace owner"])
        .iter()
        .map(fact_of)
        .collect();
    let expected: BTreeSet<Fact> = all
        .iter()
        .filter(|f| f.role == owner["id"].as_str().unwrap())
        .cloned()
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(got, expected);

    // A source: grants bound to it, plus workspace-wide ones that reach it.
    let src = &st["sources"].as_array().unwrap()[0];
    let sid = src["id"].as_str().unwrap();
    let got = grants_ndjson(
        &emu,
        &[
            "--resource",
            &format!("source:{}", src["slug"].as_str().unwrap()),
        ],
    );
    let got_facts: BTreeSet<Fact> = got.iter().map(fact_of).collect();
    let exact: BTreeSet<Fact> = all
        .iter()
        .filter(|f| f.resource == format!("source:{sid}"))
        .cloned()
        .collect();
    assert!(exact.is_subset(&got_facts), "every exact binding is listed");
    let owners: BTreeSet<Fact> = all
        .iter()
        .filter(|f| f.role == owner["id"].as_str().unwrap())
        .cloned()
        .collect();
    assert!(
        owners.is_subset(&got_facts),
        "Workspace Owners reach every source"
    );
    for r in &got {
        let t = r["resource"]["type"].as_str().unwrap();
        assert!(
            t == "workspace" || (t == "source" && r["resource"]["id"] == sid),
            "{r}"
        );
        if t == "workspace" {
            let role = r["role"]["name"].as_str().unwrap();
            assert!(
                role == "Workspace Owner" || role.starts_with("Source"),
                "{r}"
            );
        }
    }
}

#[test]
fn jq_matches_real_jq() {
    let emu = small();
    let json = stdout_of(bin(&emu.url(), OWNER).args(["list", "grants", "--json"]));
    for expr in [
        ".[] | select(.via != null) | .principal.email",
        "map(select(.role.name == \"Workspace Owner\")) | length",
        "[.[] | .resource.type] | unique",
        ".[0]",
    ] {
        let ours = stdout_of(bin(&emu.url(), OWNER).args(["list", "grants", "--jq", expr]));
        let real = std::process::Command::new("jq")
            .args(["-r", "-c", expr])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(json.as_bytes())?;
                child.wait_with_output()
            })
            .expect("jq is installed (scripts/test.sh installs it)");
        assert!(real.status.success());
        assert_eq!(ours, String::from_utf8(real.stdout).unwrap(), "--jq {expr}");
        assert!(!ours.is_empty());
    }
    // With NDJSON, the filter runs per record.
    let per_record = stdout_of(bin(&emu.url(), OWNER).args([
        "list",
        "grants",
        "--format",
        "ndjson",
        "--jq",
        ".principal.type",
    ]));
    let n = grants_ndjson(&emu, &[]).len();
    assert_eq!(per_record.lines().count(), n);
}

fn fails(c: &mut assert_cmd::Command, code: i32) -> String {
    let out = c.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "nothing on stdout when failing");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("error: "), "{err:?}");
    err
}

#[test]
fn bad_input_gets_one_clear_line_and_its_exit_code() {
    let emu = small();
    let url = emu.url();

    let e = fails(
        bin(&url, OWNER).args(["list", "grants", "--user", "nobody@nowhere.example"]),
        1,
    );
    assert!(
        e.contains("no user matches \"nobody@nowhere.example\""),
        "{e}"
    );
    let e = fails(
        bin(&url, OWNER).args(["list", "grants", "--user", "acme.example"]),
        1,
    );
    assert!(e.contains("did you mean"), "{e}");
    let e = fails(
        bin(&url, OWNER).args(["list", "grants", "--role", "Overlord"]),
        1,
    );
    assert!(e.contains("no role matches"), "{e}");
    let e = fails(
        bin(&url, OWNER).args(["list", "grants", "--resource", "source:nope"]),
        1,
    );
    assert!(e.contains("no source matches"), "{e}");
    let e = fails(
        bin(&url, OWNER).args(["list", "grants", "--resource", "bucket:x"]),
        2,
    );
    assert!(e.contains("unknown resource"), "{e}");
    let e = fails(
        bin(&url, OWNER).args(["list", "members", "No Such Group"]),
        1,
    );
    assert!(e.contains("no group matches"), "{e}");
    let e = fails(
        bin(&url, OWNER).args(["list", "grants", "--jq", ".[] |"]),
        2,
    );
    assert!(e.contains("invalid --jq expression"), "{e}");

    let e = fails(bin(&url, "not-a-real-token").args(["list", "users"]), 4);
    assert!(e.contains("401"), "{e}");
    let e = fails(bin(&url, MEMBER).args(["list", "grants"]), 4);
    assert!(e.contains("403") && e.contains("Workspace Owner"), "{e}");
    let e = fails(
        bin(&url, OWNER)
            .env_remove("SEGMENT_TOKEN")
            .args(["list", "users"]),
        4,
    );
    assert!(e.contains("SEGMENT_TOKEN"), "{e}");

    let e = fails(
        bin("http://api.example.com", OWNER).args(["list", "users"]),
        2,
    );
    assert!(e.contains("plain http"), "{e}");
    // Nothing listens on port 9 of loopback: refused at once.
    let e = fails(
        bin("http://127.0.0.1:9", OWNER).args(["--timeout", "2", "list", "users"]),
        1,
    );
    assert!(e.contains("cannot reach 127.0.0.1:9"), "{e}");

    let out = bin(&url, OWNER).args(["list", "bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn demo_mode_needs_no_token_and_shows_the_sample_workspace() {
    let emu = small();
    let live = stdout_of(bin(&emu.url(), OWNER).args(["list", "grants", "--format", "ndjson"]));
    let demo = stdout_of(
        bin("https://unused.example", "")
            .env_remove("SEGMENT_TOKEN")
            .env_remove("SEGMENT_API_URL")
            .args(["--demo", "list", "grants", "--format", "ndjson"]),
    );
    assert_eq!(demo, live, "--demo serves the same seeded workspace");
}

#[test]
fn token_never_appears_in_output_even_verbose() {
    let canary = "canary-token-5c1e-DO-NOT-PRINT";
    let emu = start(segment_access::emulator::EmulatorConfig {
        tokens: vec![segment_access::emulator::TokenSpec {
            token: canary.to_string(),
            level: segment_access::emulator::AccessLevel::Owner,
        }],
        ..Default::default()
    });
    for args in [
        vec!["-vv", "list", "grants"],
        vec!["-vv", "list", "grants", "--user", "nobody@x"],
        vec!["-vv", "list", "grants", "--jq", ".["],
    ] {
        let out = bin(&emu.url(), canary).args(&args).output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(canary), "{args:?} leaked the token");
        assert!(!all.contains("5c1e"), "{args:?} leaked part of the token");
    }
    // Rejected tokens and unreachable servers too.
    for (url, tok) in [
        (emu.url(), format!("{canary}-revoked")),
        ("http://127.0.0.1:9".to_string(), canary.to_string()),
    ] {
        let out = bin(&url, &tok)
            .args(["-vv", "--timeout", "2", "list", "users"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("5c1e"), "leaked: {all}");
    }
}
