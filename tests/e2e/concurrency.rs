//! Concurrent changes are never lost silently: processes on one machine take turns per
//! workspace, and a change someone makes between the tool's read and its replace is reported
//! (the audit trail shows it), with the command failing instead of claiming plain success.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::*;

const ALAN: &str = "alan.turing@acme.example";

/// Sets the emulator's one-shot hook: after the `after`-th read of the user, someone grants
/// them Warehouse Read-only on the workspace.
fn hook(emu: &segment_access::emulator::BlockingEmulator, user_id: &Value, after: u64) {
    let st = state(emu);
    let role = st["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Warehouse Read-only")
        .unwrap()["id"]
        .clone();
    let ws = st["workspace"]["id"].clone();
    post_json(
        &format!("{}/_emulator/hooks", emu.url()),
        json!({"userId": user_id, "afterGets": after,
               "addPermissions": [{"roleId": role, "resources": [{"id": ws, "type": "WORKSPACE"}]}]}),
    );
}

#[test]
fn a_change_between_revokes_read_and_its_write_is_reported() {
    let emu = small();
    let tmp = temp_dir("race-revoke");
    let alan_id = user_by_email(&state(&emu), ALAN)["id"].clone();
    // The first read plans; the second, right before the write, is where the hook strikes.
    hook(&emu, &alan_id, 2);
    let (code, out, err) = run(writer(&emu, tmp.path()).args([
        "revoke",
        "--to",
        ALAN,
        "--role",
        "Source Admin",
        "--on",
        "source:iOS App",
        "--yes",
    ]));
    assert_eq!(code, Some(1), "not plain success: {err}");
    assert!(err.contains("audit trail shows"), "{err}");
    assert!(err.contains("may have been overwritten"), "{err}");
    assert!(out.contains("failed"), "{out}");
    assert_eq!(
        get_json(&format!("{}/_emulator/hooks", emu.url())),
        json!([]),
        "the hook fired"
    );
    // The revoke landed and is journaled, so it can be undone.
    assert_eq!(
        source_ids(user_by_email(&state(&emu), ALAN), "Source Admin").len(),
        2
    );
    assert_eq!(journal_lines(tmp.path()), 1);
}

#[test]
fn a_change_between_undos_read_and_its_write_is_reported() {
    let emu = small();
    let tmp = temp_dir("race-undo");
    let (code, _, err) = run(writer(&emu, tmp.path()).args([
        "revoke",
        "--to",
        ALAN,
        "--role",
        "Source Admin",
        "--on",
        "source:iOS App",
        "--yes",
    ]));
    assert_eq!(code, Some(0), "{err}");
    let alan_id = user_by_email(&state(&emu), ALAN)["id"].clone();
    hook(&emu, &alan_id, 1);
    let (code, _, err) = run(writer(&emu, tmp.path()).args(["undo", "--yes"]));
    assert_eq!(code, Some(1), "not plain success: {err}");
    assert!(err.contains("audit trail shows"), "{err}");
    assert_eq!(
        source_ids(user_by_email(&state(&emu), ALAN), "Source Admin").len(),
        3,
        "the undo itself landed"
    );
}

#[test]
fn parallel_revokes_of_one_user_both_take_effect() {
    let emu = small();
    // Slow enough that two unserialised processes would read before either writes.
    configure(
        &emu,
        json!({"latency": {"fixedMs": 5}, "limits": {"general": 100000, "write": 100000}}),
    );
    let tmp = temp_dir("race-parallel");
    let spawn = |source: &str| {
        Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", tmp.path())
            .env("SEGMENT_API_URL", emu.url())
            .env("SEGMENT_TOKEN", OWNER)
            .env("SEGMENT_ACCESS_STATE_DIR", tmp.path())
            .args(["revoke", "--to", ALAN, "--role", "Source Admin", "--on"])
            .arg(source)
            .arg("--yes")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let grant_back = [
        "grant",
        "--to",
        ALAN,
        "--role",
        "Source Admin",
        "--on",
        "source:Website Prod",
        "--on",
        "source:iOS App",
        "--yes",
    ];
    for round in 0..20 {
        let a = spawn("source:Website Prod");
        let b = spawn("source:iOS App");
        for child in [a, b] {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let alan = user_by_email(&state(&emu), ALAN).clone();
        let left = source_ids(&alan, "Source Admin");
        assert_eq!(
            left.len(),
            1,
            "round {round}: both revokes in effect: {alan}"
        );
        let (code, _, err) = run(writer(&emu, tmp.path()).args(grant_back));
        assert_eq!(code, Some(0), "{err}");
    }
}
