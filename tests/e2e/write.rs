//! End to end: grant, revoke, memberships and undo against a live emulator, with the emulator's
//! state (read through its control endpoint) as the judge.

use predicates::prelude::*;
use serde_json::{Value, json};

use crate::support::*;

const ALAN: &str = "alan.turing@acme.example";

#[test]
fn revoke_one_of_three_sources_is_exact_and_undo_restores_it() {
    let emu = small();
    let tmp = temp_dir("revoke");
    let dir = tmp.path();
    let before = state(&emu);
    let ios = source_id(&before, "iOS App");
    let alan_before = user_by_email(&before, ALAN).clone();
    assert_eq!(source_ids(&alan_before, "Source Admin").len(), 3);

    writer(&emu, dir)
        .args([
            "revoke",
            "--to",
            ALAN,
            "--role",
            "Source Admin",
            "--on",
            "source:iOS App",
            "--yes",
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("applied"));

    let after = state(&emu);
    let alan = user_by_email(&after, ALAN);
    let left = source_ids(alan, "Source Admin");
    assert_eq!(left.len(), 2);
    assert!(!left.contains(&ios));
    // Nobody else changed; groups untouched.
    for (u0, u1) in before["users"]
        .as_array()
        .unwrap()
        .iter()
        .zip(after["users"].as_array().unwrap())
    {
        if u0["email"] != ALAN {
            assert_eq!(u0, u1);
        }
    }
    assert_eq!(before["groups"], after["groups"]);

    writer(&emu, dir).args(["undo", "--yes"]).assert().success();
    let restored = state(&emu);
    assert_eq!(
        serde_json::to_string(&restored["users"]).unwrap(),
        serde_json::to_string(&before["users"]).unwrap(),
        "undo restores the users byte for byte"
    );
}

#[test]
fn revoke_keeps_labels_and_other_roles() {
    let emu = small();
    let tmp = temp_dir("labels");
    let dir = tmp.path();
    // Katherine holds Source Read-only on workspace narrowed by environment=prod; give her two more.
    writer(&emu, dir)
        .args([
            "grant",
            "--to",
            "katherine.johnson@acme.example",
            "--role",
            "Source Admin",
            "--on",
            "source:iOS App",
            "--on",
            "source:Android App",
            "--yes",
        ])
        .assert()
        .success();
    let before = state(&emu);
    writer(&emu, dir)
        .args([
            "revoke",
            "--to",
            "katherine.johnson@acme.example",
            "--role",
            "Source Admin",
            "--on",
            "source:Android App",
            "--yes",
        ])
        .assert()
        .success();
    let after = state(&emu);
    let k0 = user_by_email(&before, "katherine.johnson@acme.example");
    let k1 = user_by_email(&after, "katherine.johnson@acme.example");
    let ro = |u: &Value| {
        u["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["roleName"] == "Source Read-only")
            .cloned()
    };
    assert!(ro(k1).is_some());
    assert_eq!(ro(k0), ro(k1), "labelled binding untouched");
    assert_eq!(
        source_ids(k1, "Source Admin"),
        vec![source_id(&after, "iOS App")]
    );
}

#[test]
fn grant_twice_is_a_noop_the_second_time() {
    let emu = small();
    let tmp = temp_dir("idem");
    let dir = tmp.path();
    let args = [
        "grant",
        "--to",
        ALAN,
        "--role",
        "Warehouse Read-only",
        "--on",
        "workspace",
        "--yes",
        "--format",
        "json",
    ];
    let first: Value = serde_json::from_str(&stdout_of(writer(&emu, dir).args(args))).unwrap();
    assert_eq!(first[0]["status"], "applied");
    let s1 = state(&emu);
    let second: Value = serde_json::from_str(&stdout_of(writer(&emu, dir).args(args))).unwrap();
    assert_eq!(second[0]["status"], "noop");
    assert_eq!(s1["users"], state(&emu)["users"]);
    assert_eq!(
        stats(&emu)["byRoute"]["POST /users/{userId}/permissions"].as_u64(),
        Some(1),
        "the second grant wrote nothing"
    );
}

#[test]
fn revoking_what_comes_through_a_group_names_the_group() {
    let emu = small();
    let tmp = temp_dir("via");
    let dir = tmp.path();
    let out = writer(&emu, dir)
        .args([
            "revoke",
            "--to",
            ALAN,
            "--role",
            "Source Read-only",
            "--yes",
        ])
        .output()
        .unwrap();
    // The access is still there, so this is a failure (exit 1), explained once (the error
    // line; a table would only repeat it), and nothing written.
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text, "", "the error alone tells it");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("held through group Data Engineering"), "{err}");
    assert_eq!(err.matches("Data Engineering").count(), 2, "once: {err}");
    // Scripts asking for records still get the failed record.
    let (code, json, _) = run(writer(&emu, dir).args([
        "revoke",
        "--to",
        ALAN,
        "--role",
        "Source Read-only",
        "--yes",
        "--format",
        "json",
    ]));
    assert_eq!(code, Some(1));
    assert!(
        json.contains("\"failed\"") && json.contains("Data Engineering"),
        "{json}"
    );
    assert_eq!(write_requests(&emu), 0);
}

#[test]
fn memberships_add_and_remove_through_the_group_endpoints() {
    let emu = small();
    let tmp = temp_dir("members");
    let dir = tmp.path();
    let gid = |st: &Value, name: &str| {
        st["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == name)
            .unwrap()
            .clone()
    };
    let alan_id = user_by_email(&state(&emu), ALAN)["id"].clone();
    writer(&emu, dir)
        .args(["grant", "--to", ALAN, "--group", "Security", "--yes"])
        .assert()
        .success();
    assert!(
        gid(&state(&emu), "Security")["memberIds"]
            .as_array()
            .unwrap()
            .contains(&alan_id)
    );
    writer(&emu, dir)
        .args(["revoke", "--to", ALAN, "--group", "Security", "--yes"])
        .assert()
        .success();
    assert!(
        !gid(&state(&emu), "Security")["memberIds"]
            .as_array()
            .unwrap()
            .contains(&alan_id)
    );
    let s = stats(&emu);
    assert_eq!(
        s["byRoute"]["DELETE /group/{userGroupId}/users"].as_u64(),
        Some(1)
    );
    // Invites too.
    writer(&emu, dir)
        .args([
            "grant",
            "--to",
            "invite:intern@acme.example",
            "--group",
            "Security",
            "--yes",
        ])
        .assert()
        .success();
    let sec = gid(&state(&emu), "Security");
    assert!(
        sec["inviteEmails"]
            .as_array()
            .unwrap()
            .contains(&json!("intern@acme.example"))
    );
}

#[test]
fn without_a_terminal_or_yes_nothing_is_written() {
    let emu = small();
    let tmp = temp_dir("tty");
    let dir = tmp.path();
    writer(&emu, dir)
        .args([
            "revoke",
            "--to",
            ALAN,
            "--role",
            "Source Admin",
            "--on",
            "source:iOS App",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--yes").and(predicates::str::contains("--dry-run")));
    let out = stdout_of(writer(&emu, dir).args([
        "revoke",
        "--to",
        ALAN,
        "--role",
        "Source Admin",
        "--on",
        "source:iOS App",
        "--dry-run",
    ]));
    assert!(out.contains("planned"), "{out}");
    assert_eq!(write_requests(&emu), 0);
}

#[test]
fn bad_input_is_one_line_and_writes_nothing() {
    let emu = small();
    let tmp = temp_dir("bad");
    let dir = tmp.path();
    let cases: [(&[&str], i32, &str); 4] = [
        (
            &["grant", "--to", ALAN, "--role", "Chief Wizard", "--yes"],
            1,
            "no role matches",
        ),
        (
            &[
                "grant",
                "--to",
                ALAN,
                "--role",
                "Workspace Owner",
                "--on",
                "source:iOS App",
                "--yes",
            ],
            2,
            "cannot be bound to a source",
        ),
        (
            &[
                "grant",
                "--to",
                "nobody@nowhere.example",
                "--role",
                "Source Admin",
                "--yes",
            ],
            1,
            "no user matches",
        ),
        (
            &[
                "grant",
                "--to",
                ALAN,
                "--role",
                "Warehouse Admin",
                "--label",
                "environment=prod",
                "--yes",
            ],
            2,
            "does not support labels",
        ),
    ];
    for (args, code, msg) in cases {
        let out = writer(&emu, dir).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(msg),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    assert_eq!(write_requests(&emu), 0);
}

#[test]
fn a_change_between_read_and_write_is_kept() {
    let emu = small();
    let tmp = temp_dir("race");
    let dir = tmp.path();
    let st = state(&emu);
    let alan_id = user_by_email(&st, ALAN)["id"].as_str().unwrap().to_string();
    let role = st["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Warehouse Read-only")
        .unwrap()["id"]
        .clone();
    let ws = st["workspace"]["id"].clone();
    // After the tool's planning read of Alan, someone grants him Warehouse Read-only.
    post_json(
        &format!("{}/_emulator/hooks", emu.url()),
        json!({"userId": alan_id, "afterGets": 1,
               "addPermissions": [{"roleId": role, "resources": [{"id": ws, "type": "WORKSPACE"}]}]}),
    );
    writer(&emu, dir)
        .args([
            "revoke",
            "--to",
            ALAN,
            "--role",
            "Source Admin",
            "--on",
            "source:iOS App",
            "--yes",
        ])
        .assert()
        .success();
    let hooks: Value = get_json(&format!("{}/_emulator/hooks", emu.url()));
    assert_eq!(hooks, json!([]), "the hook fired");
    let after = state(&emu);
    let alan = user_by_email(&after, ALAN);
    assert_eq!(
        source_ids(alan, "Warehouse Read-only").len(),
        1,
        "the concurrent grant survived: {alan}"
    );
    assert_eq!(source_ids(alan, "Source Admin").len(), 2);
}

#[test]
fn revoking_without_the_labels_a_binding_has_names_them() {
    let emu = small();
    let tmp = temp_dir("labels-hint");
    let dir = tmp.path();
    let st = state(&emu);
    // Someone holding a label-narrowed workspace binding directly.
    let (user, role, labels) = st["users"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|u| {
            u["permissions"].as_array()?.iter().find_map(|p| {
                p["resources"].as_array()?.iter().find_map(|r| {
                    let ls = r["labels"].as_array()?;
                    (r["type"] == "WORKSPACE" && !ls.is_empty())
                        .then(|| (u.clone(), p["roleName"].clone(), ls.clone()))
                })
            })
        })
        .expect("the seed has a label-narrowed binding");
    let writes = write_requests(&emu);
    let out = writer(&emu, dir)
        .args([
            "revoke",
            "--to",
            user["email"].as_str().unwrap(),
            "--role",
            role.as_str().unwrap(),
            "--yes",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    let label = format!(
        "--label {}={}",
        labels[0]["key"].as_str().unwrap(),
        labels[0]["value"].as_str().unwrap()
    );
    assert!(stdout.contains(&label), "{stdout}");
    assert_eq!(write_requests(&emu), writes, "nothing written");
    assert_eq!(
        user_by_email(&state(&emu), user["email"].as_str().unwrap())["permissions"],
        user["permissions"]
    );
}

/// Without a terminal, a role that can be bound to single resources needs --on: leaving it out
/// never grants on every source.
#[test]
fn grant_of_a_resource_role_without_on_needs_on_workspace() {
    let emu = small();
    let tmp = temp_dir("no-on");
    let (code, out, err) = run(writer(&emu, tmp.path()).args([
        "grant",
        "--to",
        ALAN,
        "--role",
        "Warehouse Admin",
        "--yes",
    ]));
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty());
    assert!(err.contains("--on workspace"), "{err}");
    assert!(err.contains("--on warehouse:"), "{err}");
    assert_eq!(write_requests(&emu), 0);
    // Workspace-only roles keep working without it.
    let (code, _, err) = run(writer(&emu, tmp.path()).args([
        "grant",
        "--to",
        ALAN,
        "--role",
        "Tracking Plan Read-only",
        "--yes",
    ]));
    assert_eq!(code, Some(0), "{err}");
}
