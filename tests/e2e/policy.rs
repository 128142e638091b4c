//! End to end: `check` against the emulator. A policy naming every rule once finds exactly the
//! records the emulator's state implies; fixing the workspace with the tool makes `check` exit 0;
//! the documented pipelines into `revoke --from-file -` remove exactly the redundant grants; a
//! wrong policy file exits 2 naming its line; `check --init` pins today's owners.

use crate::support::*;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use segment_access::emulator::{BlockingEmulator, EmulatorConfig, RateLimits};
use serde_json::{Value, json};

/// The small seed with limits no test run comes near.
fn fast() -> BlockingEmulator {
    start(EmulatorConfig {
        limits: RateLimits {
            window_ms: 1_000,
            general: 1_000,
            write: 200,
        },
        ..EmulatorConfig::default()
    })
}

/// A policy naming every rule once. Line numbers matter: findings report them.
const EVERY_RULE: &str = r#"version = 1

[[rules.role_holders]]
role = "Workspace Owner"
allow = ["ada.lovelace@acme.example"]
max = 1

[rules.no_direct_grants]
except_roles = ["Workspace Owner", "Minimal Workspace Access", "Source Admin", "Source Read-only", "Warehouse Admin", "Warehouse Read-only", "Functions Admin", "Functions Read-only", "Tracking Plan Admin", "Tracking Plan Read-only", "Engage Admin", "Engage User", "Engage Read-only"]

[rules.email_domains]
allow = ["acme.example"]

[[rules.label_scoped]]
role = "Source Admin"
label = "environment=prod"

[rules.redundant_grants]
[rules.empty_groups]
[rules.ungrouped_users]
[rules.pending_invites]
max = 2
[rules.dangling_grants]
"#;

/// A directory of its own for one test, removed when dropped.
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn write(dir: impl AsRef<Path>, name: &str, text: &str) -> PathBuf {
    let p = dir.as_ref().join(name);
    std::fs::write(&p, text).expect("policy written");
    p
}

/// Exit code, stdout, stderr of the binary.
fn run(c: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = c.output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}

fn check(emu: &BlockingEmulator, policy: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut c = bin(&emu.url(), OWNER);
    c.args(["check", "--policy", policy.to_str().unwrap()])
        .args(extra);
    run(&mut c)
}

fn delete(url: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        segment_access::segment::tls::install_provider();
        let resp = reqwest::Client::new()
            .delete(url)
            .send()
            .await
            .expect("control endpoint answers");
        assert!(
            resp.status().is_success(),
            "DELETE {url}: {}",
            resp.status()
        );
    });
}

fn id_of(list: &Value, key: &str, value: &str) -> String {
    list.as_array()
        .unwrap()
        .iter()
        .find(|x| x[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The small seed plus an empty group; the state then.
fn with_empty_group(emu: &BlockingEmulator) -> Value {
    let mut st = state(emu);
    st["groups"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "Contractors"}));
    post_json(&format!("{}/_emulator/state", emu.url()), st);
    state(emu)
}

/// The small seed, plus an empty group, minus the source "Backend Node" (Alan Turing's direct
/// Source Admin on it stays, pointing at nothing). The state before the source went.
fn setup(emu: &BlockingEmulator) -> Value {
    let st = with_empty_group(emu);
    let backend = source_id(&st, "Backend Node");
    delete(&format!(
        "{}/_emulator/resources/source/{backend}",
        emu.url()
    ));
    st
}

/// A finding reduced to what identifies it: rule, severity, principal, role, the grant's facts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    rule: String,
    severity: String,
    principal: String,
    role: String,
    grant: Option<Fact>,
    line: u64,
}

fn principal_key(p: &Value) -> String {
    match p["type"].as_str() {
        Some("user") => format!("user:{}", p["id"].as_str().unwrap()),
        Some("invite") => format!("invite:{}", p["email"].as_str().unwrap()),
        Some("group") => format!("group:{}", p["id"].as_str().unwrap()),
        _ => String::new(),
    }
}

fn seen(f: &Value) -> Seen {
    Seen {
        rule: f["rule"].as_str().unwrap().to_string(),
        severity: f["severity"].as_str().unwrap().to_string(),
        principal: principal_key(&f["principal"]),
        role: f["role"]["id"].as_str().unwrap_or_default().to_string(),
        grant: (!f["grant"].is_null()).then(|| fact_of(&f["grant"])),
        line: f["line"].as_u64().unwrap(),
    }
}

/// What the policy must find, computed from the emulator's state (ids), not from the tool.
fn expected(st: &Value) -> BTreeSet<Seen> {
    let ws = st["workspace"]["id"].as_str().unwrap().to_string();
    let role = |name: &str| id_of(&st["roles"], "name", name);
    let user = |email: &str| format!("user:{}", user_by_email(st, email)["id"].as_str().unwrap());
    let group = |name: &str| format!("group:{}", id_of(&st["groups"], "name", name));
    let source = |name: &str| format!("source:{}", source_id(st, name));
    let space = |name: &str| format!("space:{}", id_of(&st["spaces"], "name", name));
    let grant = |principal: String, role_name: &str, resource: String, labels: &str| Fact {
        principal,
        role: role(role_name),
        resource,
        labels: labels.to_string(),
        via: String::new(),
    };
    let f = |rule: &str, severity: &str, line: u64, principal: String, role_id: String, g| Seen {
        rule: rule.into(),
        severity: severity.into(),
        principal,
        role: role_id,
        grant: g,
        line,
    };
    let with_grant = |rule: &str, severity: &str, line: u64, g: Fact| {
        f(
            rule,
            severity,
            line,
            g.principal.clone(),
            g.role.clone(),
            Some(g),
        )
    };
    let about = |rule: &str, severity: &str, line: u64, principal: String| {
        f(rule, severity, line, principal, String::new(), None)
    };
    let wso = "Workspace Owner";
    let sa = "Source Admin";
    let alan = user("alan.turing@acme.example");
    let mobile = group("Mobile Team");
    [
        // Grace is not on the allow list; Ada and Grace are two owners, at most one allowed.
        with_grant(
            "role_holders",
            "critical",
            3,
            grant(
                user("grace.hopper@acme.example"),
                wso,
                format!("workspace:{ws}"),
                "",
            ),
        ),
        f(
            "role_holders",
            "critical",
            3,
            String::new(),
            role(wso),
            None,
        ),
        with_grant(
            "no_direct_grants",
            "medium",
            8,
            grant(
                user("ken.thompson@acme.example"),
                "Identity Admin",
                format!("workspace:{ws}"),
                "",
            ),
        ),
        about(
            "email_domains",
            "high",
            11,
            "invite:contractor@agency.example".into(),
        ),
        // Direct bindings on prod sources; Backend Node is gone, so its binding reaches nothing.
        with_grant(
            "label_scoped",
            "high",
            14,
            grant(alan.clone(), sa, source("Website Prod"), ""),
        ),
        with_grant(
            "label_scoped",
            "high",
            14,
            grant(alan.clone(), sa, source("iOS App"), ""),
        ),
        with_grant(
            "label_scoped",
            "high",
            14,
            grant(mobile.clone(), sa, source("iOS App"), ""),
        ),
        with_grant(
            "label_scoped",
            "high",
            14,
            grant(mobile, sa, source("Android App"), ""),
        ),
        with_grant(
            "redundant_grants",
            "low",
            18,
            grant(alan.clone(), sa, source("iOS App"), ""),
        ),
        with_grant(
            "redundant_grants",
            "low",
            18,
            grant(
                user("frances.allen@acme.example"),
                "Engage Read-only",
                space("Production Space"),
                "",
            ),
        ),
        with_grant(
            "redundant_grants",
            "low",
            18,
            grant(
                user("katherine.johnson@acme.example"),
                "Source Read-only",
                format!("workspace:{ws}"),
                "environment=prod",
            ),
        ),
        about("empty_groups", "low", 19, group("Contractors")),
        about(
            "ungrouped_users",
            "low",
            20,
            user("ada.lovelace@acme.example"),
        ),
        about(
            "ungrouped_users",
            "low",
            20,
            user("donald.knuth@acme.example"),
        ),
        about(
            "ungrouped_users",
            "low",
            20,
            user("margaret.hamilton@acme.example"),
        ),
        about(
            "ungrouped_users",
            "low",
            20,
            user("radia.perlman@acme.example"),
        ),
        about(
            "pending_invites",
            "low",
            21,
            "invite:contractor@agency.example".into(),
        ),
        about(
            "pending_invites",
            "low",
            21,
            "invite:intern@acme.example".into(),
        ),
        about(
            "pending_invites",
            "low",
            21,
            "invite:new.analyst@acme.example".into(),
        ),
        with_grant(
            "dangling_grants",
            "medium",
            23,
            grant(alan, sa, source("Backend Node"), ""),
        ),
    ]
    .into_iter()
    .collect()
}

fn schema_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/grant-record.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("schema compiles")
}

#[test]
fn every_rule_finds_its_records_and_fixing_the_workspace_makes_check_pass() {
    let emu = fast();
    let tmp = scratch();
    let st = setup(&emu);
    let policy = write(&tmp, "policy.toml", EVERY_RULE);

    let (code, out, err) = check(&emu, &policy, &["--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let found: Vec<Value> = serde_json::from_str(&out).expect("a JSON array");
    let got: Vec<Seen> = found.iter().map(seen).collect();
    let got_set: BTreeSet<Seen> = got.iter().cloned().collect();
    assert_eq!(got.len(), got_set.len(), "no finding twice: {out}");
    let want = expected(&st);
    assert_eq!(
        got_set.difference(&want).collect::<Vec<_>>(),
        Vec::<&Seen>::new(),
        "unexpected findings"
    );
    assert_eq!(
        want.difference(&got_set).collect::<Vec<_>>(),
        Vec::<&Seen>::new(),
        "missing findings"
    );
    // Most severe first.
    let rank = |s: &str| {
        ["critical", "high", "medium", "low"]
            .iter()
            .position(|x| *x == s)
    };
    let ranks: Vec<_> = got.iter().map(|s| rank(&s.severity)).collect();
    assert!(ranks.is_sorted(), "{ranks:?}");
    // Every grant is a grant record, valid against its published schema, held directly.
    let validator = schema_validator();
    for f in &found {
        assert!(f["message"].as_str().is_some_and(|m| !m.is_empty()), "{f}");
        if !f["grant"].is_null() {
            let errors: Vec<String> = validator
                .iter_errors(&f["grant"])
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{f}: {errors:?}");
            assert!(f["grant"]["via"].is_null(), "{f}");
            assert_eq!(f["principal"], f["grant"]["principal"], "{f}");
        }
    }
    let dangling = found
        .iter()
        .find(|f| f["rule"] == "dangling_grants")
        .unwrap();
    assert_eq!(dangling["grant"]["resource"]["name"], Value::Null);

    // The same findings in every format.
    let (_, ndjson, _) = check(&emu, &policy, &["--format", "ndjson"]);
    assert_eq!(parse_ndjson(&ndjson), found);
    let (_, csv, _) = check(&emu, &policy, &["--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("severity,rule,principal,role,resource,labels,message,line")
    );
    assert_eq!(lines.count(), found.len());
    let (code, table, err) = check(&emu, &policy, &[]);
    assert_eq!(code, 1);
    assert!(table.starts_with("SEVERITY  RULE"), "{table}");
    assert_eq!(
        table.lines().count(),
        found.len() + 1,
        "piped rows are never wrapped"
    );
    assert!(
        table.contains("Source Admin on source:iOS App: also through group:Mobile Team"),
        "{table}"
    );
    assert!(
        err.contains(&format!(
            "{} findings (2 critical, 5 high, 2 medium, 11 low) against",
            found.len()
        )),
        "{err}"
    );
    let (_, md, _) = check(&emu, &policy, &["--format", "md"]);
    assert!(
        md.starts_with("| SEVERITY | RULE | PRINCIPAL | FINDING |"),
        "{md}"
    );

    // Fix it with the tool: revoke every grant the findings name...
    let dir = scratch();
    let (_, grants, _) = check(&emu, &policy, &["--grants", "--format", "ndjson"]);
    let records = parse_ndjson(&grants);
    assert_eq!(records.len(), 9, "each grant once: {grants}");
    let (code, out, err) = run(writer(&emu, dir.path())
        .args(["revoke", "--from-file", "-", "--yes", "--format", "ndjson"])
        .write_stdin(grants));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        parse_ndjson(&out).iter().all(|r| r["status"] == "applied"),
        "{out}"
    );
    // ...withdraw the invite from outside the domain (two pending remain, as allowed)...
    let (code, _, err) =
        run(writer(&emu, dir.path()).args(["revoke-invite", "contractor@agency.example", "--yes"]));
    assert_eq!(code, 0, "{err}");
    // ...and put everyone in no group into the empty one.
    for who in [
        "ada.lovelace@acme.example",
        "donald.knuth@acme.example",
        "margaret.hamilton@acme.example",
        "radia.perlman@acme.example",
    ] {
        let (code, _, err) = run(writer(&emu, dir.path()).args([
            "grant",
            "--to",
            who,
            "--group",
            "Contractors",
            "--yes",
        ]));
        assert_eq!(code, 0, "{who}: {err}");
    }
    let (code, out, err) = check(&emu, &policy, &[]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(
        err.contains("no findings: the workspace meets") && err.contains("(9 rules)"),
        "{err}"
    );
}

/// A documented pipeline, as a person types it in the directory holding the default policy:
/// the real shell, the real binary twice (and jq when the pipeline has it).
fn pipeline(emu: &BlockingEmulator, cwd: &Path, state_dir: &Path, script: &str) -> (i32, String) {
    let bin_dir = assert_cmd::cargo::cargo_bin("segment-access")
        .parent()
        .unwrap()
        .to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let out = std::process::Command::new("bash")
        .args(["-c", script])
        .current_dir(cwd)
        .env_clear()
        .env("PATH", path)
        .env("SEGMENT_API_URL", emu.url())
        .env("SEGMENT_TOKEN", OWNER)
        .env("SEGMENT_ACCESS_STATE_DIR", state_dir)
        .env("HOME", std::env::temp_dir())
        .env("NO_COLOR", "1")
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("command not found"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &stderr,
    )
}

/// The redundant direct grants of the small seed, as facts: what the pipelines must remove.
fn redundant(st: &Value) -> BTreeSet<Fact> {
    expected(st)
        .into_iter()
        .filter(|s| s.rule == "redundant_grants")
        .filter_map(|s| s.grant)
        .collect()
}

fn assert_exactly_removed(before: &Value, after: &Value, removed: &BTreeSet<Fact>) {
    let before = expected_facts(before);
    let after = expected_facts(after);
    let gone: BTreeSet<Fact> = before.difference(&after).cloned().collect();
    assert_eq!(&gone, removed, "exactly the redundant grants went");
    assert!(after.is_subset(&before), "nothing was added");
}

#[test]
fn redundant_findings_through_jq_into_revoke_remove_exactly_those_grants() {
    if !have_tool("jq", "jq") {
        return;
    }
    let emu = fast();
    let cwd = scratch();
    write(&cwd, "segment-access-policy.toml", EVERY_RULE);
    let removed = redundant(&with_empty_group(&emu));
    let before = state(&emu);
    assert_eq!(removed.len(), 3);
    // Exactly as docs/policy.md gives it.
    let (code, out) = pipeline(
        &emu,
        cwd.path(),
        scratch().path(),
        "segment-access check --format ndjson \\\n  | jq -c 'select(.rule == \"redundant_grants\") | .grant' \\\n  | segment-access revoke --from-file - --yes",
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("applied").count(), 3, "{out}");
    assert_exactly_removed(&before, &state(&emu), &removed);
    // And now the rule is clean.
    let (code, _, err) =
        run(bin(&emu.url(), OWNER)
            .current_dir(&cwd)
            .args(["check", "--rule", "redundant_grants"]));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn check_grants_into_revoke_removes_exactly_the_redundant_grants() {
    let emu = fast();
    let cwd = scratch();
    write(&cwd, "segment-access-policy.toml", EVERY_RULE);
    let removed = redundant(&with_empty_group(&emu));
    let before = state(&emu);
    let (code, out) = pipeline(
        &emu,
        cwd.path(),
        scratch().path(),
        "segment-access check --rule redundant_grants --grants --format ndjson \\\n  | segment-access revoke --from-file - --yes",
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("applied").count(), 3, "{out}");
    assert_exactly_removed(&before, &state(&emu), &removed);
}

#[test]
fn a_wrong_policy_exits_2_naming_line_and_field_with_a_suggestion() {
    let emu = fast();
    let tmp = scratch();
    let cases: [(&str, &str, &str); 5] = [
        (
            "version = 1\n\n[rules.redundant_grant]\n",
            "typo.toml:3:8: rules.redundant_grant: unknown rule `redundant_grant`; did you mean `redundant_grants`?",
            "hint: rules of [rules]: role_holders, no_direct_grants,",
        ),
        (
            "version = 1\n[rules.pending_invites]\nmax = \"three\"\n",
            "typo.toml:3:7: rules.pending_invites.max: expected a whole number (0 or more), found string \"three\"",
            "",
        ),
        (
            "version = 1\n[[rules.role_holders]]\nrole = \"Workspace Owner\"\nalow = [\"a@acme.example\"]\n",
            "typo.toml:4:1: rules.role_holders[0].alow: unknown field `alow`; did you mean `allow`?",
            "",
        ),
        (
            "version = 1\n[rules.empty_groups]\nseverity = \"hgih\"\n",
            "typo.toml:3:12: rules.empty_groups.severity: unknown severity `hgih`; expected one of low, medium, high, critical; did you mean `high`?",
            "",
        ),
        (
            "[rules.empty_groups]\n",
            "typo.toml:1:1: version: missing: the policy must start with `version = 1`",
            "",
        ),
    ];
    for (text, message, hint) in cases {
        write(&tmp, "typo.toml", text);
        let mut c = bin(&emu.url(), OWNER);
        c.current_dir(&tmp).args(["check", "--policy", "typo.toml"]);
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 2, "{text}: {err}");
        assert_eq!(out, "");
        assert_eq!(
            err.lines().next(),
            Some(format!("error: {message}").as_str()),
            "{err}"
        );
        assert!(err.contains(hint), "{err}");
    }
    // A file that does not parse costs no request.
    assert_eq!(stats(&emu)["totalRequests"], 0);

    // A name the workspace does not know is named at its line, with the nearest name.
    let p = write(
        &tmp,
        "names.toml",
        "version = 1\n[[rules.label_scoped]]\nrole = \"Source Admn\"\nlabel = \"environment=prod\"\n",
    );
    let (code, _, err) = check(&emu, &p, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(":3:8: rules.label_scoped[0].role: no role matches \"Source Admn\"; did you mean Source Admin?"),
        "{err}"
    );
    let p = write(
        &tmp,
        "names.toml",
        "version = 1\n[[rules.label_scoped]]\nrole = \"Source Admin\"\nlabel = \"environment=prd\"\n",
    );
    let (code, _, err) = check(&emu, &p, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(":4:9: rules.label_scoped[0].label: no label environment=prd in this workspace; did you mean environment=prod?"), "{err}");

    // No policy: say how to make one.
    let empty = scratch();
    let (code, _, err) = run(bin(&emu.url(), OWNER).current_dir(&empty).arg("check"));
    assert_eq!(code, 2);
    assert!(
        err.contains("segment-access-policy.toml is not in the current directory"),
        "{err}"
    );
    assert!(
        err.contains(
            "hint: write a starter policy from this workspace with `segment-access check --init`"
        ),
        "{err}"
    );
    let (code, _, err) = check(&emu, &empty.path().join("missing.toml"), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read the policy"), "{err}");
    // --rule names a rule the policy has.
    let p = write(&tmp, "one.toml", "version = 1\n[rules.empty_groups]\n");
    let (code, _, err) = check(&emu, &p, &["--rule", "dangling_grants"]);
    assert_eq!(code, 2);
    assert!(err.contains("has no `dangling_grants` rule"), "{err}");
    let (code, _, err) = check(&emu, &p, &["--rule", "empty_group"]);
    assert_eq!(code, 2);
    assert!(err.contains("empty_groups"), "{err}");
}

#[test]
fn fail_on_decides_the_exit_code() {
    let emu = fast();
    let tmp = scratch();
    // Four low findings (users in no group) and nothing else.
    let p = write(&tmp, "p.toml", "version = 1\n[rules.ungrouped_users]\n");
    assert_eq!(check(&emu, &p, &[]).0, 1);
    assert_eq!(check(&emu, &p, &["--fail-on", "low"]).0, 1);
    let (code, out, err) = check(&emu, &p, &["--fail-on", "medium"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 5, "findings are still printed: {out}");
    assert!(err.contains("none at or above --fail-on medium"), "{err}");
    assert_eq!(check(&emu, &p, &["--fail-on", "never"]).0, 0);
    let p = write(
        &tmp,
        "p.toml",
        "version = 1\n[rules.ungrouped_users]\nseverity = \"critical\"\n",
    );
    assert_eq!(check(&emu, &p, &["--fail-on", "critical"]).0, 1);
}

#[test]
fn init_pins_todays_owners_so_a_new_owner_is_a_finding() {
    let emu = fast();
    let tmp = scratch();
    let journal = scratch();
    let (code, out, err) = run(bin(&emu.url(), OWNER)
        .current_dir(&tmp)
        .args(["check", "--init"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "");
    assert!(
        err.starts_with("wrote segment-access-policy.toml (5 on, 4 off)\n"),
        "{err}"
    );
    assert!(
        err.contains("\n  on   role_holders: 2 Workspace Owners pinned\n"),
        "{err}"
    );
    assert!(
        err.contains("\n  off  redundant_grants: 3 findings today\n"),
        "{err}"
    );
    assert!(err.lines().all(|l| l.len() <= 80), "{err}");
    assert!(err.contains("next: segment-access check"), "{err}");
    let path = tmp.path().join("segment-access-policy.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        text.contains(
            "allow = [\"ada.lovelace@acme.example\", \"grace.hopper@acme.example\"]\nmax = 2\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("allow = [\"acme.example\", \"agency.example\"]"),
        "{text}"
    );
    // `--out -` prints the same policy.
    let (_, printed, _) = run(bin(&emu.url(), OWNER).args(["check", "--init", "--out", "-"]));
    assert_eq!(printed, text);

    // The workspace it was drawn from passes it.
    let (code, out, err) = run(bin(&emu.url(), OWNER).current_dir(&tmp).arg("check"));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");

    // It is not overwritten by accident.
    std::fs::write(&path, "version = 1\n# edited\n").unwrap();
    let (code, _, err) = run(bin(&emu.url(), OWNER)
        .current_dir(&tmp)
        .args(["check", "--init"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("segment-access-policy.toml already exists"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "version = 1\n# edited\n"
    );
    let (code, _, err) = run(bin(&emu.url(), OWNER)
        .current_dir(&tmp)
        .args(["check", "--init", "--force"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A new owner is a finding: the grant that made them one, and the count.
    let (code, _, err) = run(writer(&emu, journal.path()).args([
        "grant",
        "--to",
        "linus.torvalds@acme.example",
        "--role",
        "Workspace Owner",
        "--yes",
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(bin(&emu.url(), OWNER)
        .current_dir(&tmp)
        .args(["check", "--format", "ndjson"]));
    assert_eq!(code, 1, "{err}");
    let found = parse_ndjson(&out);
    assert_eq!(found.len(), 2, "{out}");
    assert!(
        found
            .iter()
            .all(|f| f["rule"] == "role_holders" && f["severity"] == "critical")
    );
    assert_eq!(found[0]["message"], "3 people hold it; at most 2 may");
    assert_eq!(found[0]["grant"], Value::Null);
    assert_eq!(found[0]["role"]["name"], "Workspace Owner");
    let g = &found[1]["grant"];
    assert_eq!(g["principal"]["email"], "linus.torvalds@acme.example");
    assert_eq!(g["role"]["name"], "Workspace Owner");
    assert_eq!(g["resource"]["type"], "workspace");
    assert_eq!(found[1]["message"], "not on the allow list");
}

#[test]
fn a_snapshot_answers_as_the_live_workspace_did() {
    let emu = fast();
    let tmp = scratch();
    setup(&emu);
    let policy = write(&tmp, "policy.toml", EVERY_RULE);
    let db = tmp.path().join("acme.db");
    let (code, _, err) = run(bin(&emu.url(), OWNER).args(["sync", "--out", db.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    let (live_code, live, _) = check(&emu, &policy, &["--format", "json"]);
    // Offline: no token, no API.
    let mut c = bin("http://127.0.0.1:9", "");
    c.env_remove("SEGMENT_TOKEN").args([
        "check",
        "--policy",
        policy.to_str().unwrap(),
        "--snapshot",
        db.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let (code, offline, err) = run(&mut c);
    assert_eq!((code, live_code), (1, 1), "{err}");
    assert_eq!(offline, live);
    // --init draws from a snapshot too.
    let mut c = bin("http://127.0.0.1:9", "");
    c.env_remove("SEGMENT_TOKEN").args([
        "check",
        "--init",
        "--out",
        "-",
        "--snapshot",
        db.to_str().unwrap(),
    ]);
    let (code, text, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    assert!(text.starts_with("# segment-access policy"), "{text}");
}

#[test]
fn live_reads_only_what_the_rules_need() {
    let emu = fast();
    let tmp = scratch();
    let p = write(
        &tmp,
        "p.toml",
        "version = 1\n[rules.email_domains]\nallow = [\"acme.example\"]\n[rules.pending_invites]\nmax = 5\n",
    );
    let (code, out, err) = check(&emu, &p, &["--format", "ndjson"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(parse_ndjson(&out).len(), 1, "{out}");
    let by_route = stats(&emu)["byRoute"].clone();
    assert!(by_route.get("GET /users/{userId}").is_none(), "{by_route}");
    assert!(
        by_route.get("GET /groups/{userGroupId}/users").is_none(),
        "{by_route}"
    );
}
