//! `sync --update`: a snapshot refreshed from the cheap lists and the audit trail equals a full
//! read, whatever changed in between and however it was changed; and when a refresh cannot be
//! sure, it reads everything and says why.

use std::path::Path;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use segment_access::emulator::{AuditTrail, BlockingEmulator, EmulatorConfig};
use serde_json::{Value, json};

use crate::support::*;

/// Every table of a snapshot but `meta`, as sorted rows of text: the data, whatever order the
/// rows were written in (the `ord` columns keep Segment's order as data).
fn data(path: &Path) -> Vec<(String, Vec<String>)> {
    let conn = rusqlite::Connection::open(path).expect("snapshot opens");
    let tables = [
        "workspace",
        "users",
        "invites",
        "groups",
        "group_members",
        "group_invites",
        "roles",
        "resources",
        "labels",
        "permissions",
        "grants",
    ];
    tables
        .iter()
        .map(|t| {
            let mut stmt = conn.prepare(&format!("SELECT * FROM {t}")).unwrap();
            let n = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |r| {
                    Ok((0..n)
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect::<Vec<_>>()
                        .join("|"))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            rows.sort();
            (t.to_string(), rows)
        })
        .collect()
}

fn meta(path: &Path, key: &str) -> String {
    let conn = rusqlite::Connection::open(path).expect("snapshot opens");
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .unwrap_or_default()
}

/// Asserts two snapshots hold the same data, naming the first table that differs.
fn assert_same_data(refreshed: &Path, full: &Path, context: &str) {
    let (a, b) = (data(refreshed), data(full));
    for ((t, ra), (_, rb)) in a.iter().zip(&b) {
        let only_a: Vec<&String> = ra.iter().filter(|r| !rb.contains(r)).collect();
        let only_b: Vec<&String> = rb.iter().filter(|r| !ra.contains(r)).collect();
        assert!(
            ra == rb,
            "{context}: table {t} differs\nonly refreshed: {only_a:#?}\nonly full: {only_b:#?}"
        );
    }
}

fn sync(emu: &BlockingEmulator, args: &[&str]) -> String {
    let (code, _, err) = run(bin(&emu.url(), OWNER).arg("sync").args(args));
    assert_eq!(code, Some(0), "sync {args:?}: {err}");
    err
}

/// A call to the emulator's public API with the owner token, as another script would make it;
/// refusals are fine (a random change may not apply).
fn api(emu: &BlockingEmulator, method: reqwest::Method, path: &str, body: Option<Value>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        segment_access::segment::tls::install_provider();
        let mut req = reqwest::Client::new()
            .request(method, format!("{}{path}", emu.url()))
            .bearer_auth(OWNER)
            .header("content-type", "application/vnd.segment.v1+json")
            .header("accept", "application/vnd.segment.v1+json");
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let _ = req.send().await.expect("the emulator answers");
    });
}

fn ids(v: &Value, key: &str) -> Vec<Value> {
    v[key].as_array().cloned().unwrap_or_default()
}

fn role_id(st: &Value, name: &str) -> String {
    ids(st, "roles").iter().find(|r| r["name"] == name).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// One random change, through the tool or straight through the emulator; what it was.
fn random_change(emu: &BlockingEmulator, state_dir: &Path, rng: &mut StdRng, n: usize) -> String {
    let st = state(emu);
    let users = ids(&st, "users");
    // Owners stay, so the tool always has someone who may change access.
    let people: Vec<&Value> = users
        .iter()
        .filter(|u| !u["email"].as_str().unwrap().starts_with("ada."))
        .collect();
    let groups = ids(&st, "groups");
    let sources = ids(&st, "sources");
    let invites = ids(&st, "invites");
    let ws = st["workspace"]["id"].clone();
    let u = people.choose(rng).unwrap();
    let email = u["email"].as_str().unwrap().to_string();
    let uid = u["id"].as_str().unwrap().to_string();
    let g = groups.choose(rng).cloned();
    let gname = g.as_ref().map(|g| g["name"].as_str().unwrap().to_string());
    let gid = g.as_ref().map(|g| g["id"].as_str().unwrap().to_string());
    let s = sources.choose(rng).unwrap()["name"]
        .as_str()
        .unwrap()
        .to_string();
    let role = ["Source Admin", "Source Read-only"].choose(rng).unwrap();
    let tool = |args: &[&str]| {
        let _ = run(writer(emu, state_dir).args(args).arg("--yes"));
    };
    let on = format!("source:{s}");
    match rng.random_range(0..14) {
        0 => tool(&["grant", "--to", &email, "--role", role, "--on", &on]),
        1 => tool(&["revoke", "--to", &email, "--role", role, "--on", &on]),
        2 if gname.is_some() => tool(&[
            "grant",
            "--to",
            &email,
            "--group",
            gname.as_deref().unwrap(),
        ]),
        3 if gname.is_some() => tool(&[
            "revoke",
            "--to",
            &email,
            "--group",
            gname.as_deref().unwrap(),
        ]),
        4 => tool(&[
            "invite",
            &format!("new{n}.{}@acme.example", rng.random::<u16>()),
        ]),
        5 if !invites.is_empty() => {
            let e = invites.choose(rng).unwrap()["email"]
                .as_str()
                .unwrap()
                .to_string();
            tool(&["revoke-invite", &e]);
        }
        6 if users.len() > 8 => tool(&["remove-user", &email]),
        7 => api(
            emu,
            reqwest::Method::POST,
            &format!("/users/{uid}/permissions"),
            Some(
                json!({"permissions": [{"roleId": role_id(&st, "Warehouse Read-only"),
                "resources": [{"id": ws, "type": "WORKSPACE"}]}]}),
            ),
        ),
        8 if gid.is_some() => api(
            emu,
            reqwest::Method::POST,
            &format!("/groups/{}/users", gid.as_deref().unwrap()),
            Some(json!({"emails": [email]})),
        ),
        9 if gid.is_some() => {
            // Users and pending invites: a group's invite members are read apart.
            let keep: Vec<&str> = users
                .iter()
                .chain(invites.iter())
                .filter(|_| rng.random_bool(0.3))
                .map(|u| u["email"].as_str().unwrap())
                .collect();
            put_json(
                &format!(
                    "{}/_emulator/group/{}/users",
                    emu.url(),
                    gid.as_deref().unwrap()
                ),
                json!({ "emails": keep }),
            );
        }
        10 => {
            put_json(
                &format!("{}/_emulator/users/{uid}/permissions", emu.url()),
                json!({"permissions": []}),
            );
        }
        11 if gid.is_some() => api(
            emu,
            reqwest::Method::PUT,
            &format!("/groups/{}/permissions", gid.as_deref().unwrap()),
            Some(
                json!({"permissions": [{"roleId": role_id(&st, "Source Read-only"),
                "resources": [{"id": ws, "type": "WORKSPACE"}]}]}),
            ),
        ),
        12 => api(
            emu,
            reqwest::Method::POST,
            "/groups",
            Some(json!({"name": format!("Team {n}")})),
        ),
        _ if gid.is_some() && groups.len() > 2 => {
            if rng.random_bool(0.5) {
                api(
                    emu,
                    reqwest::Method::DELETE,
                    &format!("/groups/{}", gid.as_deref().unwrap()),
                    None,
                );
            } else {
                api(
                    emu,
                    reqwest::Method::PATCH,
                    &format!("/groups/{}", gid.as_deref().unwrap()),
                    Some(json!({"name": format!("Renamed {n}")})),
                );
            }
        }
        _ => return "nothing".into(),
    }
    format!("change {n}")
}

#[test]
fn a_refresh_equals_a_full_read_after_random_changes() {
    let seed: u64 = std::env::var("REFRESH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    let emu = small();
    let tmp = temp_dir("refresh-prop");
    let cur = tmp.path().join("cur.db");
    let full = tmp.path().join("full.db");
    let cur_s = cur.to_str().unwrap();
    let full_s = full.to_str().unwrap();
    sync(&emu, &["--out", cur_s]);
    let first_read = meta(&cur, "taken_at");
    let mut n = 0;
    for round in 0..6 {
        for _ in 0..rng.random_range(0..6) {
            n += 1;
            random_change(&emu, tmp.path(), &mut rng, n);
        }
        let err = sync(&emu, &["--update", cur_s]);
        sync(&emu, &["--out", full_s]);
        let context = format!("REFRESH_SEED={seed}, round {round}");
        assert_eq!(meta(&cur, "read"), "refresh", "{context}: {err}");
        assert!(err.contains("refreshed from"), "{context}: {err}");
        assert_same_data(&cur, &full, &context);
    }
    // Refreshed six times, it still knows when it was last read in full.
    assert_eq!(meta(&cur, "last_full_read_at"), first_read);
}

/// A refresh that must fall back: it reads everything, says why on stderr (one line), records
/// why, and the file equals a full read.
fn assert_falls_back(emu: &BlockingEmulator, cur: &Path, says: &str) {
    let tmp = temp_dir("refresh-fallback-full");
    let full = tmp.path().join("full.db");
    let err = sync(emu, &["--update", cur.to_str().unwrap()]);
    let line: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("note: read everything: "))
        .collect();
    assert_eq!(line.len(), 1, "{err}");
    assert!(line[0].contains(says), "{says:?} in {err}");
    assert_eq!(meta(cur, "read"), "full");
    assert!(meta(cur, "full_read_reason").contains(says));
    assert_eq!(meta(cur, "last_full_read_at"), meta(cur, "taken_at"));
    sync(emu, &["--out", full.to_str().unwrap()]);
    assert_same_data(cur, &full, says);
}

fn alan(emu: &BlockingEmulator) -> String {
    user_by_email(&state(emu), "alan.turing@acme.example")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn without_the_audit_trail_it_reads_everything() {
    let emu = start(EmulatorConfig {
        audit: AuditTrail {
            enabled: false,
            ..AuditTrail::default()
        },
        ..EmulatorConfig::default()
    });
    let tmp = temp_dir("refresh-no-trail");
    let cur = tmp.path().join("cur.db");
    sync(&emu, &["--out", cur.to_str().unwrap()]);
    assert_eq!(meta(&cur, "read"), "full");
    put_json(
        &format!("{}/_emulator/users/{}/permissions", emu.url(), alan(&emu)),
        json!({"permissions": []}),
    );
    assert_falls_back(&emu, &cur, "the audit trail is unavailable");
}

#[test]
fn a_snapshot_older_than_the_trail_is_read_again() {
    let emu = small();
    let tmp = temp_dir("refresh-old");
    let cur = tmp.path().join("cur.db");
    sync(&emu, &["--out", cur.to_str().unwrap()]);
    let conn = rusqlite::Connection::open(&cur).unwrap();
    conn.execute_batch(
        "UPDATE meta SET value = '2020-01-01T00:00:00Z'
         WHERE key IN ('taken_at', 'server_taken_at', 'last_full_read_at')",
    )
    .unwrap();
    drop(conn);
    assert_falls_back(&emu, &cur, "the audit trail keeps 90");
}

#[test]
fn an_event_it_does_not_know_about_a_user_means_a_full_read() {
    let emu = small();
    let tmp = temp_dir("refresh-unknown");
    let cur = tmp.path().join("cur.db");
    sync(&emu, &["--out", cur.to_str().unwrap()]);
    post_json(
        &format!("{}/_emulator/audit-events", emu.url()),
        json!({"type": "User Renamed", "resourceType": "user", "resourceId": alan(&emu)}),
    );
    assert_falls_back(&emu, &cur, "\"User Renamed\"");
}

#[test]
fn lists_that_changed_without_an_event_mean_a_full_read() {
    let emu = small();
    let tmp = temp_dir("refresh-unexplained");
    let cur = tmp.path().join("cur.db");
    sync(&emu, &["--out", cur.to_str().unwrap()]);
    // A trail that misses changes: someone leaves, and nothing records it.
    configure(&emu, json!({"audit": {"record": false}}));
    let (code, _, err) =
        run(writer(&emu, tmp.path()).args(["remove-user", "hedy.lamarr@acme.example", "--yes"]));
    assert_eq!(code, Some(0), "{err}");
    assert_falls_back(
        &emu,
        &cur,
        "user hedy.lamarr@acme.example is gone from the user list",
    );
    // Members moved without an event: the group's count disagrees with the snapshot.
    let gid = state(&emu)["groups"][0]["id"].as_str().unwrap().to_string();
    put_json(
        &format!("{}/_emulator/group/{gid}/users", emu.url()),
        json!({"emails": []}),
    );
    assert_falls_back(&emu, &cur, "and no event says why");
}

/// Ctrl-C while a refresh reads: the copy of the old snapshot it works in is removed, the old
/// snapshot is untouched, and the command exits 130.
#[test]
fn an_interrupted_refresh_leaves_the_old_snapshot_and_no_copy() {
    let emu = small();
    let tmp = temp_dir("refresh-interrupted");
    let cur = tmp.path().join("cur.db");
    sync(&emu, &["--out", cur.to_str().unwrap()]);
    let before = std::fs::read(&cur).unwrap();
    configure(&emu, json!({"latency": {"fixedMs": 1000}}));
    let requests = || stats(&emu)["totalRequests"].as_u64().unwrap_or(0);
    let sent = requests();
    let child = std::process::Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", tmp.path())
        .env("SEGMENT_API_URL", emu.url())
        .env("SEGMENT_TOKEN", OWNER)
        .args(["sync", "--update", cur.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let copy = tmp.path().join(format!("cur.db.tmp-{}", child.id()));
    // The copy is made and read before the first request; a request means the refresh reads.
    assert!(
        wait_until(Duration::from_secs(60), || requests() > sent),
        "the refresh reads"
    );
    assert_eq!(std::fs::metadata(&copy).unwrap().len(), before.len() as u64);
    let killed = std::process::Command::new("kill")
        .args(["-s", "INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(!copy.exists(), "the copy is removed");
    assert_eq!(
        std::fs::read(&cur).unwrap(),
        before,
        "the old snapshot is untouched"
    );
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("cur.db"))
        .collect();
    assert_eq!(left, vec!["cur.db".to_string()]);
}
