//! End to end: batches of grant records, the list | filter | revoke pipeline, malformed input,
//! and faults in the middle of a batch.

use segment_access::emulator::{EmulatorConfig, RateLimits};
use serde_json::{Value, json};

use crate::support::*;

fn fast() -> segment_access::emulator::BlockingEmulator {
    start(EmulatorConfig {
        limits: RateLimits {
            window_ms: 1_000,
            general: 1_000,
            write: 200,
        },
        ..EmulatorConfig::default()
    })
}

#[test]
fn list_filter_revoke_pipeline() {
    let emu = fast();
    let tmp = temp_dir("pipe");
    let dir = tmp.path();
    // Every Source Admin record of Alan, direct and through Mobile Team.
    let recs = stdout_of(bin(&emu.url(), OWNER).args([
        "list",
        "grants",
        "--user",
        "alan.turing@acme.example",
        "--format",
        "ndjson",
        "--jq",
        "select(.role.name == \"Source Admin\")",
    ]));
    let n = recs.lines().count();
    assert!(n >= 4, "{recs}");
    let out = writer(&emu, dir)
        .args(["revoke", "--from-file", "-", "--yes", "--format", "json"])
        .write_stdin(recs)
        .output()
        .unwrap();
    // Inherited records cannot be revoked on the user: partial, exit 3, each explained.
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), n);
    let failed: Vec<&Value> = rows.iter().filter(|r| r["status"] == "failed").collect();
    assert!(!failed.is_empty());
    assert!(
        failed
            .iter()
            .all(|r| r["message"].as_str().unwrap().contains("Mobile Team"))
    );
    assert!(rows.iter().any(|r| r["status"] == "applied"));
    let st = state(&emu);
    let alan = user_by_email(&st, "alan.turing@acme.example");
    assert!(
        alan["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["roleName"] != "Source Admin")
    );
    // One write for the principal, not one per record.
    assert_eq!(
        stats(&emu)["byRoute"]["PUT /users/{userId}/permissions"].as_u64(),
        Some(1)
    );
}

#[test]
fn malformed_line_seven_rejects_the_whole_batch() {
    let emu = fast();
    let tmp = temp_dir("bad7");
    let dir = tmp.path();
    let good = stdout_of(bin(&emu.url(), OWNER).args([
        "list",
        "grants",
        "--format",
        "ndjson",
        "--direct-only",
    ]));
    let mut lines: Vec<&str> = good.lines().take(9).collect();
    lines[6] = "{\"principal\": {\"type\": \"user\"}}";
    let out = writer(&emu, dir)
        .args(["revoke", "--from-file", "-", "--yes"])
        .write_stdin(lines.join("\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("line 7"),
        "{err}"
    );
    assert_eq!(write_requests(&emu), 0);
}

/// Grant records giving every user Warehouse Read-only on the workspace.
fn grant_batch(st: &Value) -> String {
    grant_records(st, st["users"].as_array().unwrap())
}

#[test]
fn faults_mid_batch_are_reported_and_a_rerun_converges() {
    let emu = fast();
    let tmp = temp_dir("faults");
    let dir = tmp.path();
    let st = state(&emu);
    let batch = grant_batch(&st);
    let file = dir.join("batch.ndjson");
    std::fs::write(&file, &batch).unwrap();
    configure(
        &emu,
        json!({"faults": {"rate": 0.6, "kinds": ["500", "reset"], "scope": "writes"}, "rngSeed": 3}),
    );
    let out = writer(&emu, dir)
        .args([
            "grant",
            "--from-file",
            file.to_str().unwrap(),
            "--yes",
            "--format",
            "json",
        ])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let after = state(&emu);
    // The report is exact: "applied" rows hold in the emulator; others reported as failed or noop.
    for r in &rows {
        let u = user_by_email(&after, r["principal"].as_str().unwrap());
        let holds = u["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["roleName"] == "Warehouse Read-only");
        if r["status"] == "applied" || r["status"] == "noop" {
            assert!(holds, "{r}");
        }
    }
    let injected: u64 = stats(&emu)["faults"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(injected > 0, "faults were injected on writes");
    assert_eq!(rows.len(), batch.lines().count(), "one result per record");
    configure(&emu, json!({"faults": {"rate": 0.0}}));
    writer(&emu, dir)
        .args(["grant", "--from-file", file.to_str().unwrap(), "--yes"])
        .assert()
        .success();
    for u in state(&emu)["users"].as_array().unwrap() {
        let wro: Vec<&Value> = u["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["roleName"] == "Warehouse Read-only")
            .collect();
        assert_eq!(wro.len(), 1, "{u}");
        let res = wro[0]["resources"].as_array().unwrap();
        let ws_bindings = res.iter().filter(|r| r["type"] == "WORKSPACE").count();
        assert_eq!(ws_bindings, 1, "no duplicate grants: {u}");
    }
}

/// The pipeline as a person types it: the real shell, the real jq, the real binary twice.
#[test]
fn shell_pipeline_through_real_jq_revokes_exactly_the_selected_records() {
    let emu = fast();
    let tmp = temp_dir("pipe-jq");
    let dir = tmp.path();
    let st = state(&emu);
    let alan = user_by_email(&st, "alan.turing@acme.example").clone();
    let script = format!(
        "{bin} list grants --format ndjson \
         | jq -c 'select(.principal.email == \"alan.turing@acme.example\" and .role.name == \"Source Admin\" and .via == null)' \
         | {bin} revoke --from-file - --yes --format ndjson",
        bin = BIN
    );
    let out = std::process::Command::new("bash")
        .args(["-o", "pipefail", "-c", &script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SEGMENT_API_URL", emu.url())
        .env("SEGMENT_TOKEN", OWNER)
        .env("SEGMENT_ACCESS_STATE_DIR", dir)
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("bash and jq are installed (scripts/test.sh installs jq)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let rows = parse_ndjson(&String::from_utf8_lossy(&out.stdout));
    let direct_source_admin = alan["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["roleName"] == "Source Admin")
        .map(|p| p["resources"].as_array().unwrap().len())
        .sum::<usize>();
    assert_eq!(
        rows.len(),
        direct_source_admin,
        "one row per selected record"
    );
    assert!(rows.iter().all(|r| r["status"] == "applied"), "{rows:?}");

    let after = state(&emu);
    let alan_after = user_by_email(&after, "alan.turing@acme.example");
    assert!(
        !alan_after["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["roleName"] == "Source Admin"),
        "{alan_after}"
    );
    // Everything else Alan held directly, and everyone else, is untouched.
    let others = |v: &Value| -> Vec<Value> {
        v["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["roleName"] != "Source Admin")
            .cloned()
            .collect()
    };
    assert_eq!(others(alan_after), others(&alan));
    for u in st["users"].as_array().unwrap() {
        if u["id"] != alan["id"] {
            assert_eq!(user_by_email(&after, u["email"].as_str().unwrap()), u);
        }
    }
}
