//! Undo when the workspace moved on: memberships already back as they were are no-ops, and an
//! undo that could not restore everything leaves its entry open for another try.

use serde_json::{Value, json};

use crate::support::*;

fn member_ids(st: &Value, group_id: &str) -> Vec<String> {
    st["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == group_id)
        .unwrap()["memberIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn undoing_a_membership_that_is_already_back_is_a_noop() {
    let emu = small();
    let tmp = temp_dir("undo-member");
    let dir = tmp.path();
    let st = state(&emu);
    let g = &st["groups"].as_array().unwrap()[0];
    let gid = g["id"].as_str().unwrap().to_string();
    let outsider = st["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| !member_ids(&st, &gid).contains(&u["id"].as_str().unwrap().to_string()))
        .unwrap()
        .clone();
    let email = outsider["email"].as_str().unwrap();
    let group = format!("group:{}", g["name"].as_str().unwrap());

    let (code, _, err) =
        run(writer(&emu, dir).args(["grant", "--to", email, "--group", &group, "--yes"]));
    assert_eq!(code, Some(0), "{err}");
    let added = last_entry_id(dir);
    let (code, _, err) =
        run(writer(&emu, dir).args(["revoke", "--to", email, "--group", &group, "--yes"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        !member_ids(&state(&emu), &gid).contains(&outsider["id"].as_str().unwrap().to_string())
    );

    // Undoing the add finds the membership already gone: nothing to do, nothing written.
    let writes = write_requests(&emu);
    let (code, out, err) =
        run(writer(&emu, dir).args(["undo", "--id", &added, "--yes", "--format", "json"]));
    assert_eq!(code, Some(0), "{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "noop", "{out}");
    assert_eq!(
        write_requests(&emu),
        writes,
        "no write for a membership already as before"
    );
}

#[test]
fn a_partly_failed_undo_keeps_its_entry_open() {
    let emu = small();
    let tmp = temp_dir("undo-partial");
    let dir = tmp.path();
    let st = state(&emu);
    let owner_role = st["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Tracking Plan Read-only")
        .unwrap()["id"]
        .clone();
    let ws = st["workspace"]["id"].clone();
    let a = st["users"][3].clone();
    let b = st["users"][4].clone();
    // One batch grants the same role to two people: one entry, two changes.
    let records: String = [&a, &b]
        .iter()
        .map(|u| {
            json!({
                "principal": {"type": "user", "id": u["id"], "email": u["email"], "name": u["name"]},
                "role": {"id": owner_role, "name": "Tracking Plan Read-only"},
                "resource": {"type": "workspace", "id": ws, "name": st["workspace"]["name"]},
                "labels": [], "via": null
            })
            .to_string()
                + "\n"
        })
        .collect();
    let (code, _, err) = run(writer(&emu, dir)
        .args(["grant", "--from-file", "-", "--yes"])
        .write_stdin(records));
    assert_eq!(code, Some(0), "{err}");
    let entry = last_entry_id(dir);
    let before_b = user_by_email(&state(&emu), b["email"].as_str().unwrap())["permissions"].clone();

    // Someone else changes B afterwards: undo must leave B alone and say so.
    put_json(
        &format!(
            "{}/_emulator/users/{}/permissions",
            emu.url(),
            b["id"].as_str().unwrap()
        ),
        json!({"permissions": []}),
    );
    let (code, _, err) = run(writer(&emu, dir).args(["undo", "--yes"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&format!("entry {entry} stays open")), "{err}");
    let now = state(&emu);
    assert_eq!(
        user_by_email(&now, a["email"].as_str().unwrap())["permissions"],
        a["permissions"],
        "A is restored exactly"
    );
    assert_eq!(
        user_by_email(&now, b["email"].as_str().unwrap())["permissions"],
        json!([])
    );

    // The entry is still there to finish, with --force for the changed principal.
    let (code, _, err) = run(writer(&emu, dir).args(["undo", "--id", &entry, "--force", "--yes"]));
    assert_eq!(code, Some(0), "{err}");
    let done = state(&emu);
    assert_eq!(
        user_by_email(&done, b["email"].as_str().unwrap())["permissions"],
        b["permissions"],
        "B is back to what it held before the batch"
    );
    assert_ne!(before_b, b["permissions"], "the batch had changed B");
}

#[test]
fn undo_list_shows_the_last_changes_and_undo_id_restores_the_middle_one() {
    let emu = small();
    let tmp = temp_dir("undo-list");
    let dir = tmp.path();
    let before = state(&emu);
    let steps: [&[&str]; 3] = [
        &[
            "grant",
            "--to",
            "alan.turing@acme.example",
            "--role",
            "Source Read-only",
            "--on",
            "source:Website Dev",
        ],
        &[
            "revoke",
            "--to",
            "alan.turing@acme.example",
            "--role",
            "Source Admin",
            "--on",
            "source:ios-app",
        ],
        &[
            "grant",
            "--to",
            "grace.hopper@acme.example",
            "--group",
            "Data Engineering",
        ],
    ];
    for s in steps {
        let (code, _, err) = run(writer(&emu, dir).args(s).arg("--yes"));
        assert_eq!(code, Some(0), "{err}");
    }
    let listed = parse_ndjson(&stdout_of(
        writer(&emu, dir).args(["undo", "--list", "--format", "ndjson"]),
    ));
    assert_eq!(listed.len(), 3);
    let commands: Vec<&str> = listed
        .iter()
        .map(|r| r["command"].as_str().unwrap())
        .collect();
    assert_eq!(commands, ["grant", "revoke", "grant"], "newest first");
    assert_eq!(
        listed[1]["changes"],
        json!(["alan.turing@acme.example: - Source Admin on source:iOS App"]),
        "in words, with names"
    );
    assert!(listed.iter().all(|r| r["state"] == "open"));
    assert!(
        listed[0]["by"].as_str().is_some_and(|b| !b.is_empty()),
        "who ran it"
    );
    let table = stdout_of(writer(&emu, dir).args(["undo", "--list"]));
    assert!(
        table.contains("+ member of group:Data Engineering"),
        "{table}"
    );

    // Undo the middle one by its id: Source Admin on iOS App comes back; the others stay.
    let middle = listed[1]["id"].as_str().unwrap();
    let (code, _, err) = run(writer(&emu, dir).args(["undo", middle, "--yes"]));
    assert_eq!(code, Some(0), "{err}");
    let after = state(&emu);
    let alan = user_by_email(&after, "alan.turing@acme.example");
    assert_eq!(
        source_ids(alan, "Source Admin"),
        source_ids(
            user_by_email(&before, "alan.turing@acme.example"),
            "Source Admin"
        )
    );
    assert_eq!(
        source_ids(alan, "Source Read-only").len(),
        1,
        "the first change stays"
    );
    let listed = parse_ndjson(&stdout_of(
        writer(&emu, dir).args(["undo", "--list", "--format", "ndjson"]),
    ));
    assert_eq!(listed[0]["state"], "undo");
    assert_eq!(listed[0]["undoes"], middle);
    assert_eq!(listed[2]["state"], "undone");
    assert_eq!(listed[1]["state"], "open");
    // An id that is not there is named, with the nearest one.
    let typo = format!("{}0", &middle[..middle.len() - 1]);
    let (code, _, err) = run(writer(&emu, dir).args(["undo", &typo, "--yes"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("undo --list"), "{err}");
}
