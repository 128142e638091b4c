//! End to end: invite, revoke-invite and remove-user against a live emulator, checked against
//! the emulator's state.

use serde_json::Value;

use crate::support::*;

fn run_ok(c: &mut assert_cmd::Command) -> (String, String) {
    let out = c.output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "failed: {stderr}");
    (String::from_utf8(out.stdout).expect("utf-8"), stderr)
}

fn invite_of<'a>(st: &'a Value, email: &str) -> Option<&'a Value> {
    st["invites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == email)
}

#[test]
fn invite_with_a_role_then_undo_withdraws_it() {
    let emu = small();
    let tmp = temp_dir("invite");
    let dir = tmp.path();
    let st = state(&emu);
    let src = &st["sources"].as_array().unwrap()[0];
    let (out, _) = run_ok(writer(&emu, dir).args([
        "invite",
        "dana@newco.example",
        "--role",
        "Source Read-only",
        "--on",
        &format!("source:{}", src["slug"].as_str().unwrap()),
        "--yes",
        "--format",
        "json",
    ]));
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "applied");

    let st = state(&emu);
    let inv = invite_of(&st, "dana@newco.example").expect("invite created");
    let perms = inv["permissions"].as_array().unwrap();
    assert_eq!(perms.len(), 1);
    let role = st["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Source Read-only")
        .unwrap();
    assert_eq!(perms[0]["roleId"], role["id"]);
    assert_eq!(perms[0]["resources"][0]["id"], src["id"]);
    assert_eq!(perms[0]["resources"][0]["type"], "SOURCE");

    // Inviting again, or inviting a member, changes nothing.
    let member = st["users"][0]["email"].as_str().unwrap().to_string();
    let before = write_requests(&emu);
    let (out, _) = run_ok(writer(&emu, dir).args([
        "invite",
        "dana@newco.example",
        &member,
        "--yes",
        "--format",
        "ndjson",
    ]));
    let rows = parse_ndjson(&out);
    assert!(rows.iter().all(|r| r["status"] == "noop"), "{out}");
    assert!(
        rows[1]["message"]
            .as_str()
            .unwrap()
            .contains("already a member")
    );
    assert_eq!(write_requests(&emu), before, "no write for no-ops");

    run_ok(writer(&emu, dir).args(["undo", "--yes"]));
    assert!(invite_of(&state(&emu), "dana@newco.example").is_none());
}

#[test]
fn revoke_invite_leaves_groups_and_undo_restores_them() {
    let emu = small();
    let tmp = temp_dir("revoke-invite");
    let dir = tmp.path();
    let st = state(&emu);
    let g = st["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| !g["inviteEmails"].as_array().unwrap().is_empty())
        .expect("a group holding an invite")
        .clone();
    let email = g["inviteEmails"][0].as_str().unwrap().to_string();

    let (_, err) = run_ok(writer(&emu, dir).args(["revoke-invite", &email, "--dry-run"]));
    assert!(
        err.contains(&format!("leave group:{}", g["name"].as_str().unwrap())),
        "{err}"
    );
    assert!(
        invite_of(&state(&emu), &email).is_some(),
        "dry run changed nothing"
    );

    run_ok(writer(&emu, dir).args(["revoke-invite", &email, "--yes"]));
    let after = state(&emu);
    assert!(invite_of(&after, &email).is_none());
    let g_after = after["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == g["id"])
        .unwrap();
    assert!(
        !g_after["inviteEmails"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == email.as_str())
    );

    run_ok(writer(&emu, dir).args(["undo", "--yes"]));
    let restored = state(&emu);
    assert!(invite_of(&restored, &email).is_some());
    let g_restored = restored["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == g["id"])
        .unwrap();
    assert!(
        g_restored["inviteEmails"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == email.as_str())
    );

    // A user's email (an invite accepted since) has nothing to withdraw: a no-op.
    let (out, _) = run_ok(writer(&emu, dir).args([
        "revoke-invite",
        "alan.turing@acme.example",
        "--yes",
        "--format",
        "json",
    ]));
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows[0]["status"], "noop");
    // An email nobody has is a mistake: an error naming the nearest invite, nothing written.
    let writes = write_requests(&emu);
    let mistyped = email.replacen('@', "x@", 1);
    let (code, out, err) = run(writer(&emu, dir).args(["revoke-invite", &mistyped, "--yes"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains(&format!("did you mean {email}?")), "{err}");
    assert_eq!(write_requests(&emu), writes);
}

#[test]
fn remove_user_shows_what_they_lose_and_removes_exactly_them() {
    let emu = small();
    let tmp = temp_dir("remove-user");
    let dir = tmp.path();
    let st = state(&emu);
    // Someone in a group and with direct grants, so the preview has all kinds of loss.
    let expected = expected_facts(&st);
    let u = st["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| {
            let p = format!("user:{}", u["id"].as_str().unwrap());
            expected
                .iter()
                .any(|f| f.principal == p && !f.via.is_empty())
                && expected
                    .iter()
                    .any(|f| f.principal == p && f.via.is_empty() && !f.role.is_empty())
        })
        .unwrap()
        .clone();
    let email = u["email"].as_str().unwrap();
    let losses = expected
        .iter()
        .filter(|f| f.principal == format!("user:{}", u["id"].as_str().unwrap()))
        .count();

    let before = write_requests(&emu);
    let (_, err) = run_ok(writer(&emu, dir).args(["remove-user", email, "--dry-run"]));
    assert!(err.contains(&format!("- remove {email}")), "{err}");
    let shown = err.lines().filter(|l| l.starts_with("    ")).count();
    assert_eq!(shown, losses, "every lost grant is shown: {err}");
    assert!(err.contains("(through group:"), "{err}");
    assert_eq!(write_requests(&emu), before);

    // Without a terminal and without --yes, nothing happens.
    let out = writer(&emu, dir)
        .args(["remove-user", email])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(write_requests(&emu), before);

    run_ok(writer(&emu, dir).args(["remove-user", email, "--yes"]));
    let after = state(&emu);
    assert_eq!(
        after["users"].as_array().unwrap().len(),
        st["users"].as_array().unwrap().len() - 1
    );
    assert!(
        !after["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == u["id"])
    );
    for g in after["groups"].as_array().unwrap() {
        assert!(
            !g["memberIds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == &u["id"])
        );
    }

    // The journal keeps what they held; undo says plainly it cannot bring them back.
    let journal = std::fs::read_to_string(dir.join("journal.ndjson")).unwrap();
    assert!(journal.contains("userRemoved"), "{journal}");
    let out = writer(&emu, dir).args(["undo", "--yes"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be restored"));
}

#[test]
fn account_commands_refuse_bad_input_before_writing() {
    let emu = small();
    let tmp = temp_dir("accounts-bad");
    let dir = tmp.path();
    let before = write_requests(&emu);
    for (args, code, needle) in [
        (
            vec!["invite", "not-an-email", "--yes"],
            2,
            "is not an email address",
        ),
        (
            vec!["invite", "x@y.example", "--role", "Overlord", "--yes"],
            1,
            "no role matches",
        ),
        (
            vec![
                "invite",
                "x@y.example",
                "--role",
                "Workspace Owner",
                "--on",
                "source:ios-app",
                "--yes",
            ],
            2,
            "Workspace Owner",
        ),
        (
            vec!["remove-user", "nobody@nowhere.example", "--yes"],
            1,
            "no user matches",
        ),
        (
            vec!["remove-user", "invite:x@y.example", "--yes"],
            2,
            "revoke-invite",
        ),
    ] {
        let out = writer(&emu, dir).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
    }
    assert_eq!(write_requests(&emu), before, "nothing was written");
}

#[test]
fn a_failed_remove_is_reported_as_failed_and_leaves_no_journal_entry() {
    let emu = small();
    let tmp = temp_dir("remove-fault");
    let dir = tmp.path();
    let st = state(&emu);
    let email = st["users"][1]["email"].as_str().unwrap().to_string();
    // Every write fails before Segment acts on it; reads still work, so the tool can check.
    configure(
        &emu,
        serde_json::json!({"faults": {"rate": 1.0, "kinds": ["503"], "scope": "writes"}}),
    );
    let out = writer(&emu, dir)
        .args(["remove-user", &email, "--yes"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("still in the workspace"), "{err}");
    let rows = String::from_utf8_lossy(&out.stdout);
    assert!(rows.contains("failed"), "the report is shown: {rows}");
    assert_eq!(state(&emu)["users"], st["users"], "nothing changed");
    assert_eq!(journal_lines(dir), 0, "nothing applied, nothing journaled");
}
