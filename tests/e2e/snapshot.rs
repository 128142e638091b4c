//! End to end: snapshots written by the built binary from a live emulator on loopback, read
//! back offline, compared and reported. Expected answers come from the live output and from the
//! emulator's own state (its control endpoint), computed independently of the tool.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::support::*;

fn sync(emu: &segment_access::emulator::BlockingEmulator, out: &Path) {
    let o = bin(&emu.url(), OWNER)
        .args(["sync", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A binary pointed at an address where nothing listens, with no valid token: anything it
/// prints came from the snapshot.
fn offline() -> assert_cmd::Command {
    bin("http://127.0.0.1:9", "not-a-token")
}

#[test]
fn every_list_from_a_snapshot_equals_live() {
    let emu = small();
    let tmp = temp_dir("snap-list");
    let dir = tmp.path();
    let db = dir.join("a.db");
    // Fifty-odd live reads of the whole workspace would otherwise wait on the rate limit.
    configure(&emu, json!({"limits": {"general": 100000}}));
    sync(&emu, &db);
    let st = state(&emu);
    let group = st["groups"][0]["name"].as_str().unwrap().to_string();
    let email = st["users"][1]["email"].as_str().unwrap().to_string();
    let source = st["sources"][0]["name"].as_str().unwrap().to_string();
    let commands: Vec<Vec<String>> = vec![
        vec!["workspace".into()],
        vec!["users".into()],
        vec!["invites".into()],
        vec!["groups".into()],
        vec!["roles".into()],
        vec!["resources".into()],
        vec!["members".into(), group.clone()],
        vec!["grants".into()],
        vec!["grants".into(), "--user".into(), email],
        vec!["grants".into(), "--group".into(), group],
        vec!["grants".into(), "--role".into(), "Source Admin".into()],
        vec![
            "grants".into(),
            "--resource".into(),
            format!("source:{source}"),
        ],
        vec!["grants".into(), "--direct-only".into()],
    ];
    for cmd in &commands {
        for format in ["ndjson", "json", "csv", "table"] {
            let mut live_args = vec!["list".to_string()];
            live_args.extend(cmd.iter().cloned());
            live_args.extend(["--format".into(), format.into()]);
            let live = stdout_of(bin(&emu.url(), OWNER).args(&live_args));
            let mut snap_args = live_args.clone();
            snap_args.extend(["--snapshot".into(), db.to_str().unwrap().into()]);
            let snap = stdout_of(offline().args(&snap_args));
            assert_eq!(snap, live, "list {cmd:?} --format {format}");
            if format == "ndjson" && cmd.len() > 1 && cmd[0] == "grants" {
                assert!(!live.is_empty(), "filter {cmd:?} selects something");
            }
        }
    }
    // The snapshot's grants are exactly the emulator's grant set.
    let printed = parse_ndjson(&stdout_of(offline().args([
        "list",
        "grants",
        "--format",
        "ndjson",
        "--snapshot",
        db.to_str().unwrap(),
    ])));
    let facts: BTreeSet<Fact> = printed.iter().map(fact_of).collect();
    assert_eq!(facts, expected_facts(&st));
}

#[test]
fn snapshot_records_schema_meta_and_grants_but_never_the_token() {
    let emu = small();
    let tmp = temp_dir("snap-meta");
    let dir = tmp.path();
    let db = dir.join("a.db");
    sync(&emu, &db);
    let st = state(&emu);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let meta: BTreeMap<String, String> = conn
        .prepare("SELECT key, value FROM meta")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        meta["schema_version"],
        segment_access::snapshot::SCHEMA_VERSION.to_string()
    );
    assert_eq!(
        meta["workspace_id"],
        st["workspace"]["id"].as_str().unwrap()
    );
    assert!(meta["tool_version"].starts_with(env!("CARGO_PKG_VERSION")));
    assert!(meta["duration_ms"].parse::<u64>().is_ok());
    assert!(meta["taken_at"].ends_with('Z') && meta["taken_at"].len() == 20);
    let n: i64 = conn
        .query_row("SELECT count(*) FROM grants", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n as usize, expected_facts(&st).len());
    let users: i64 = conn
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(users as usize, st["users"].as_array().unwrap().len());
    // Every direct user binding is in the raw permissions table.
    let direct: i64 = conn
        .query_row(
            "SELECT count(*) FROM permissions WHERE principal_type = 'user' AND resource_id IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let expected_direct = expected_facts(&st)
        .iter()
        .filter(|f| f.principal.starts_with("user:") && f.via.is_empty() && !f.role.is_empty())
        .count();
    assert_eq!(direct as usize, expected_direct);
    let bytes = std::fs::read(&db).unwrap();
    assert!(
        !bytes.windows(OWNER.len()).any(|w| w == OWNER.as_bytes()),
        "token in the snapshot"
    );
    // Not a snapshot: refused with a message, not answered.
    let junk = dir.join("junk.db");
    std::fs::write(&junk, b"hello").unwrap();
    let (code, out, err) =
        run(offline().args(["list", "users", "--snapshot", junk.to_str().unwrap()]));
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty());
    assert!(err.contains("junk.db"), "{err}");
}

fn change_facts(out: &str, change: &str) -> BTreeSet<Fact> {
    parse_ndjson(out)
        .iter()
        .filter(|r| r["change"] == change && (r["kind"] == "grant" || r["kind"] == "membership"))
        .map(fact_of)
        .collect()
}

#[test]
fn diff_shows_exactly_the_changes_and_exits_1() {
    let emu = small();
    let tmp = temp_dir("snap-diff");
    let dir = tmp.path();
    let a = dir.join("a.db");
    let b = dir.join("b.db");
    sync(&emu, &a);
    let before = state(&emu);

    // One change through the tool, one straight into the emulator.
    let users = before["users"].as_array().unwrap();
    let joiner = users
        .iter()
        .find(|u| {
            let id = u["id"].as_str().unwrap();
            !before["groups"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["memberIds"].as_array().unwrap().iter().any(|m| m == id))
        })
        .or_else(|| users.last())
        .unwrap();
    let group = before["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| {
            !g["memberIds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == &joiner["id"])
        })
        .unwrap();
    let state_tmp = temp_dir("snap-diff-journal");
    let state_dir = state_tmp.path();
    let (code, _, err) = run(writer(&emu, state_dir).args([
        "grant",
        "--to",
        joiner["email"].as_str().unwrap(),
        "--group",
        group["name"].as_str().unwrap(),
        "--yes",
    ]));
    assert_eq!(code, Some(0), "{err}");
    let stripped = users
        .iter()
        .find(|u| {
            u["permissions"].as_array().is_some_and(|p| !p.is_empty()) && u["id"] != joiner["id"]
        })
        .unwrap();
    put_json(
        &format!(
            "{}/_emulator/users/{}/permissions",
            emu.url(),
            stripped["id"].as_str().unwrap()
        ),
        json!({"permissions": []}),
    );
    let after = state(&emu);
    sync(&emu, &b);

    let old = expected_facts(&before);
    let new = expected_facts(&after);
    let added: BTreeSet<Fact> = new.difference(&old).cloned().collect();
    let removed: BTreeSet<Fact> = old.difference(&new).cloned().collect();
    assert!(!added.is_empty() && !removed.is_empty());

    let (code, out, err) = run(offline().args([
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--format",
        "ndjson",
    ]));
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(change_facts(&out, "added"), added);
    assert_eq!(change_facts(&out, "removed"), removed);
    // Nobody joined or left, no role changed: only grants and memberships.
    let rows = parse_ndjson(&out);
    assert_eq!(rows.len(), added.len() + removed.len());
    assert!(
        rows.iter()
            .any(|r| r["kind"] == "membership" && r["change"] == "added")
    );

    // Same against the live workspace, which is now what b.db holds.
    let (code, live_out, err) = run(bin(&emu.url(), OWNER).args([
        "diff",
        a.to_str().unwrap(),
        "live",
        "--format",
        "ndjson",
    ]));
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(live_out, out);

    // Table rows say + and -.
    let (code, table, _) = run(offline().args(["diff", a.to_str().unwrap(), b.to_str().unwrap()]));
    assert_eq!(code, Some(1));
    let signs: Vec<&str> = table.lines().skip(1).map(|l| &l[..1]).collect();
    assert_eq!(signs.iter().filter(|s| **s == "+").count(), added.len());
    assert_eq!(signs.iter().filter(|s| **s == "-").count(), removed.len());

    // Equal inputs: exit 0, nothing printed.
    for (x, y) in [(&a, &a), (&b, &b)] {
        let (code, out, err) = run(offline().args([
            "diff",
            x.to_str().unwrap(),
            y.to_str().unwrap(),
            "--format",
            "ndjson",
        ]));
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(out, "");
    }
    let (code, out, err) = run(bin(&emu.url(), OWNER).args([
        "diff",
        b.to_str().unwrap(),
        "live",
        "--format",
        "ndjson",
    ]));
    assert_eq!((code, out.as_str()), (Some(0), ""), "{err}");

    // A missing file is an error, told apart from "different" by its message.
    let (code, _, err) = run(offline().args(["diff", a.to_str().unwrap(), "/nonexistent/x.db"]));
    assert_eq!(code, Some(1));
    assert!(err.starts_with("error:"), "{err}");
}

#[test]
fn a_killed_sync_leaves_no_snapshot_and_the_old_one_untouched() {
    let emu = small();
    let tmp = temp_dir("snap-kill");
    let dir = tmp.path();
    let old = dir.join("old.db");
    sync(&emu, &old);
    let old_bytes = std::fs::read(&old).unwrap();
    let fresh = dir.join("fresh.db");
    configure(&emu, json!({"latency": {"fixedMs": 1000}}));
    let spawn = |out: &Path| {
        std::process::Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::temp_dir())
            .env("SEGMENT_API_URL", emu.url())
            .env("SEGMENT_TOKEN", OWNER)
            .args(["sync", "--out", out.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // A sync reads the group list, then the members of each group that has any, then the
    // invites of each group: three dependent round trips of 1 s each. One sync asks once for
    // the members of each such group (no faults, far below the rate limit: no retries), so
    // more member reads than such groups means both syncs have their group list, and each
    // still has at least two round trips (2 s) to go.
    let groups_with_members = state(&emu)["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| !g["memberIds"].as_array().unwrap().is_empty())
        .count() as u64;
    assert!(groups_with_members > 0);
    let member_reads = || {
        stats(&emu)["byRoute"]["GET /groups/{userGroupId}/users"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = member_reads();
    let mut over_old = spawn(&old);
    let mut new_file = spawn(&fresh);
    let both_past_the_group_list = || member_reads() - before > groups_with_members;
    assert!(
        wait_until(Duration::from_secs(60), both_past_the_group_list),
        "both syncs reach the member reads: {}",
        stats(&emu)
    );
    // Both are still reading: the kill lands midway.
    assert!(over_old.try_wait().unwrap().is_none());
    assert!(new_file.try_wait().unwrap().is_none());
    over_old.kill().unwrap();
    new_file.kill().unwrap();
    over_old.wait().unwrap();
    new_file.wait().unwrap();
    assert_eq!(
        std::fs::read(&old).unwrap(),
        old_bytes,
        "old snapshot untouched"
    );
    assert!(!fresh.exists(), "no snapshot from an interrupted sync");
    // What is left in the directory is the old snapshot and, at most, temporary files that
    // never pass for a snapshot.
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(name == "old.db" || name.contains(".tmp-"), "{name}");
    }
    // The old snapshot still reads.
    let (code, _, err) =
        run(offline().args(["list", "users", "--snapshot", old.to_str().unwrap()]));
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn report_lists_every_person_with_effective_roles_and_their_source() {
    let emu = small();
    let tmp = temp_dir("snap-report");
    let dir = tmp.path();
    let db = dir.join("a.db");
    sync(&emu, &db);
    let st = state(&emu);
    let role_name: BTreeMap<&str, &str> = st["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["name"].as_str().unwrap()))
        .collect();
    let group_name: BTreeMap<&str, &str> = st["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["id"].as_str().unwrap(), g["name"].as_str().unwrap()))
        .collect();
    // Oracle: (role name, source) of every non-membership fact, per person.
    let mut expected: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for u in st["users"].as_array().unwrap() {
        expected
            .entry(format!("user:{}", u["id"].as_str().unwrap()))
            .or_default();
    }
    for f in expected_facts(&st) {
        if f.principal.starts_with("group:") || f.role.is_empty() {
            continue;
        }
        let source = if f.via.is_empty() {
            "direct".to_string()
        } else {
            format!("group:{}", group_name[f.via.as_str()])
        };
        expected
            .entry(f.principal.clone())
            .or_default()
            .push((role_name[f.role.as_str()].to_string(), source));
    }
    let rows = parse_ndjson(&stdout_of(offline().args([
        "report",
        db.to_str().unwrap(),
        "--format",
        "ndjson",
    ])));
    let mut got: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for r in &rows {
        let key = match r["type"].as_str().unwrap() {
            "user" => format!("user:{}", r["id"].as_str().unwrap()),
            _ => format!("invite:{}", r["email"].as_str().unwrap()),
        };
        let holdings = r["access"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["role"].as_str().unwrap().to_string(),
                    h["source"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert!(got.insert(key, holdings).is_none(), "one row per person");
    }
    for (who, mut want) in expected {
        let mut have = got.remove(&who).unwrap_or_else(|| panic!("{who} missing"));
        want.sort();
        have.sort();
        assert_eq!(have, want, "{who}");
    }
    // What is left are invites with no access: still listed for the reviewer.
    for k in got.keys() {
        assert!(k.starts_with("invite:"), "{k}");
    }
    // Every format that has room says what the report is of: the workspace, when the
    // snapshot was taken, and by what.
    let ws = &st["workspace"];
    let (ws_name, ws_slug) = (ws["name"].as_str().unwrap(), ws["slug"].as_str().unwrap());
    let version = stdout_of(clean_bin().arg("--version"));
    let version = version.trim().strip_prefix("segment-access ").unwrap();
    let table = stdout_of(offline().args(["report", db.to_str().unwrap()]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        format!("Access report for {ws_name} ({ws_slug})"),
        "{table}"
    );
    let taken = lines[1]
        .strip_prefix("Snapshot taken ")
        .and_then(|l| l.split_once(' '))
        .map(|(t, _)| t.to_string())
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        taken.len() == 20 && taken.starts_with("20") && taken.ends_with('Z'),
        "{taken}"
    );
    assert!(
        lines[1].ends_with(&format!(
            "by segment-access {version}; report by segment-access {version}"
        )),
        "{table}"
    );
    assert_eq!(lines[2], "");
    assert!(lines[3].starts_with("TYPE "), "{table}");
    let bare = stdout_of(offline().args(["report", db.to_str().unwrap(), "--no-headers"]));
    assert!(!bare.contains("Access report"), "{bare}");
    assert_eq!(bare.lines().count(), rows.len());
    // Markdown: a title and a list, then a header, a rule, one row per person.
    let md = stdout_of(offline().args(["report", db.to_str().unwrap(), "--format", "md"]));
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines[0], format!("# Access report: {ws_name}"), "{md}");
    assert!(
        lines[2].starts_with(&format!("- Workspace: {ws_name} (`{ws_slug}`, id `")),
        "{md}"
    );
    assert_eq!(
        lines[3],
        format!("- Snapshot taken: {taken} (segment-access {version})")
    );
    assert_eq!(
        lines[4],
        format!("- Report made by: segment-access {version}")
    );
    assert!(lines[6].starts_with("| TYPE | EMAIL |"), "{md}");
    assert!(lines[7].starts_with("| --- |"));
    assert_eq!(lines.len(), rows.len() + 8);
    // CSV: the workspace and the snapshot's time lead every record.
    let csv_text = stdout_of(offline().args(["report", db.to_str().unwrap(), "--format", "csv"]));
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(
        &headers.iter().take(3).collect::<Vec<_>>(),
        &["workspace", "snapshot_taken_at", "type"]
    );
    assert_eq!(headers.get(7), Some("access"));
    let records: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), rows.len());
    for r in &records {
        assert_eq!((r.get(0), r.get(1)), (Some(ws_slug), Some(taken.as_str())));
    }
}

#[test]
fn sync_refuses_a_missing_directory_before_reading_anything() {
    let emu = small();
    let tmp = temp_dir("snap-nodir");
    let dir = tmp.path();
    let target = dir.join("no").join("such").join("a.db");
    let (code, out, err) =
        run(bin(&emu.url(), OWNER).args(["sync", "--out", target.to_str().unwrap()]));
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty());
    assert!(err.contains("does not exist"), "{err}");
    assert!(!target.exists());
    let reads: u64 = stats(&emu)["byRoute"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(reads, 0, "nothing read for a sync that cannot be written");
}
