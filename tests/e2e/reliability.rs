//! Nothing lost: a batch stopped by a signal journals every write that landed and `undo` puts
//! the workspace back exactly; a journal that cannot be written stops a change before it starts.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

/// Grant records for `people` users, three sources each, of a role none of them holds there:
/// 3 x people records, one permission write per person.
fn batch(st: &Value, people: usize) -> (String, Vec<String>) {
    let role = st["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Source Read-only")
        .expect("role")
        .clone();
    let sources: Vec<&Value> = st["sources"].as_array().unwrap().iter().take(3).collect();
    assert_eq!(sources.len(), 3);
    let users: Vec<&Value> = st["users"]
        .as_array()
        .unwrap()
        .iter()
        .take(people)
        .collect();
    assert_eq!(users.len(), people, "the seed has enough users");
    let mut lines = String::new();
    for u in &users {
        for s in &sources {
            let rec = json!({
                "principal": {"type": "user", "id": u["id"], "email": u["email"], "name": u["name"]},
                "role": {"id": role["id"], "name": role["name"]},
                "resource": {"type": "source", "id": s["id"], "name": s["name"]},
                "labels": [],
                "via": null
            });
            lines.push_str(&rec.to_string());
            lines.push('\n');
        }
    }
    let ids = users
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    (lines, ids)
}

fn users_by_id(st: &Value) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = st["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap().to_string(),
                u["permissions"].clone(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// A batch of 13 people (39 records), slowed down so a signal lands mid-way: the changes that
/// landed are journaled, the command exits 128 + signal, and undo restores the state exactly.
fn stopped_mid_batch_then_undone(signal: &str, code: i32) {
    let emu = small();
    let st = state(&emu);
    let (records, _) = batch(&st, 13);
    let dir = temp_dir("signal");
    let file = dir.path().join("batch.ndjson");
    std::fs::write(&file, records).unwrap();
    configure(&emu, json!({"latency": {"fixedMs": 150}}));
    let before = users_by_id(&st);
    let writes_before = write_requests(&emu);

    let child = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("SEGMENT_API_URL", emu.url())
        .env("SEGMENT_TOKEN", OWNER)
        .env("SEGMENT_ACCESS_STATE_DIR", dir.path())
        .env("NO_COLOR", "1")
        .args(["grant", "--from-file", file.to_str().unwrap(), "--yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(60), || write_requests(&emu)
            >= writes_before + 3),
        "three principals written"
    );
    let killed = Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(stderr.contains("stopped by a signal"), "{stderr}");
    assert!(stdout.contains("skipped"), "the rest is reported: {stdout}");

    // What landed is exactly what the journal holds, and not everything landed.
    let after = users_by_id(&state(&emu));
    let changed: Vec<&String> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b.1 != a.1)
        .map(|(b, _)| &b.0)
        .collect();
    assert!(changed.len() >= 3 && changed.len() < 13, "{changed:?}");
    let journal = std::fs::read_to_string(dir.path().join("journal.ndjson")).unwrap();
    let journaled: Vec<String> = journal
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|l| l["change"]["principal"]["id"].as_str().unwrap().to_string())
        .collect();
    let mut journaled_sorted = journaled.clone();
    journaled_sorted.sort();
    let mut changed_sorted: Vec<String> = changed.into_iter().cloned().collect();
    changed_sorted.sort();
    assert_eq!(journaled_sorted, changed_sorted, "every landed write, once");

    configure(&emu, json!({"latency": {"fixedMs": 0}}));
    let (code, _, err) = run(writer(&emu, dir.path()).args(["undo", "--yes"]));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        users_by_id(&state(&emu)),
        before,
        "undo restores the pre-batch state"
    );
}

#[test]
fn sigint_mid_batch_journals_what_landed_and_undo_restores_it() {
    stopped_mid_batch_then_undone("INT", 130);
}

#[test]
fn sigterm_mid_batch_journals_what_landed_and_undo_restores_it() {
    stopped_mid_batch_then_undone("TERM", 143);
}

#[test]
fn an_unwritable_journal_stops_the_change_before_any_write() {
    let emu = small();
    let st = state(&emu);
    for state_dir in ["/dev/null", "/dev/null/state"] {
        let (code, _, err) = run(bin(&emu.url(), OWNER)
            .env("SEGMENT_ACCESS_STATE_DIR", state_dir)
            .args([
                "grant",
                "--to",
                "alan.turing@acme.example",
                "--role",
                "Source Admin",
                "--on",
                "source:Website Dev",
                "--yes",
            ]));
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains("cannot journal changes, so none were made"),
            "{err}"
        );
        assert_eq!(write_requests(&emu), 0, "nothing was sent");
        assert_eq!(state(&emu)["users"], st["users"]);
    }
}

#[test]
fn a_torn_journal_line_is_set_aside_and_undo_still_works() {
    let emu = small();
    let dir = temp_dir("torn");
    let grant = |source: &str| {
        run(writer(&emu, dir.path()).args([
            "grant",
            "--to",
            "alan.turing@acme.example",
            "--role",
            "Source Read-only",
            "--on",
            source,
            "--yes",
        ]))
    };
    assert_eq!(grant("source:Website Dev").0, Some(0));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("journal.ndjson"))
        .unwrap();
    f.write_all(br#"{"entry":"1","time":"Fri, 27 Nov"#).unwrap();
    drop(f);
    let (code, _, err) = grant("source:ios-app");
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("was cut off"), "{err}");
    for _ in 0..2 {
        let (code, _, err) = run(writer(&emu, dir.path()).args(["undo", "--yes"]));
        assert_eq!(code, Some(0), "{err}");
    }
    let alan = user_by_email(&state(&emu), "alan.turing@acme.example").clone();
    assert!(source_ids(&alan, "Source Read-only").is_empty(), "{alan}");
}

/// Requests the emulator has answered, of any kind.
fn requests(emu: &segment_access::emulator::BlockingEmulator) -> u64 {
    stats(emu)["byRoute"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum()
}

#[cfg(unix)]
#[test]
fn files_the_tool_writes_are_private_at_umask_022() {
    use std::os::unix::fs::PermissionsExt;
    let emu = small();
    let dir = temp_dir("modes");
    let state_dir = dir.path().join("state");
    let snap = dir.path().join("snaps").join("a.db");
    std::fs::create_dir(dir.path().join("snaps")).unwrap();
    let script = format!(
        "umask 022 && '{BIN}' grant --to alan.turing@acme.example --role 'Source Read-only' --on 'source:Website Dev' --yes && '{BIN}' sync --out '{}'",
        snap.display()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("SEGMENT_API_URL", emu.url())
        .env("SEGMENT_TOKEN", OWNER)
        .env("SEGMENT_ACCESS_STATE_DIR", &state_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&state_dir), 0o700, "state directory");
    assert_eq!(mode(&state_dir.join("journal.ndjson")), 0o600, "journal");
    assert_eq!(mode(&snap), 0o600, "snapshot");
}

#[cfg(unix)]
#[test]
fn sync_refuses_a_fifo_a_device_and_a_directory_before_reading_anything() {
    let emu = small();
    let dir = temp_dir("sync-target");
    let fifo = dir.path().join("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for (target, why) in [
        (fifo.to_str().unwrap(), "not a regular file"),
        ("/dev/null", "not a regular file"),
        (dir.path().to_str().unwrap(), "is a directory"),
    ] {
        let (code, _, err) = run(bin(&emu.url(), OWNER).args(["sync", "--out", target]));
        assert_eq!(code, Some(2), "{target}: {err}");
        assert!(err.contains(why), "{target}: {err}");
        assert_eq!(requests(&emu), 0, "{target}: nothing was read first");
    }
    // /dev/null is still the device it was.
    assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
    let (code, _, err) = run(bin(&emu.url(), OWNER).args([
        "list",
        "users",
        "--snapshot",
        dir.path().to_str().unwrap(),
    ]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("is a directory"), "{err}");
}
