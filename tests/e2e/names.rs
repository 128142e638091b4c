//! Every name a person types, mistyped by one or two edits, gets the right suggestion; a mistake
//! is an error (exit 1; 2 for malformed input), never a silent no-op, and nothing is written.

use serde_json::Value;

use crate::support::*;

/// Runs `args` against a fresh small emulator; asserts the exit code, that stderr suggests
/// `meant`, and that nothing was written.
fn suggests(args: &[&str], code: i32, meant: &str) {
    let emu = small();
    let tmp = temp_dir("names");
    let (got, out, err) = run(writer(&emu, tmp.path()).args(args));
    assert_eq!(got, Some(code), "{args:?}: {err}");
    assert!(out.is_empty(), "{args:?}: nothing on stdout: {out}");
    assert!(err.starts_with("error: "), "{args:?}: {err}");
    assert!(
        err.contains(meant),
        "{args:?} should suggest {meant:?}: {err}"
    );
    assert_eq!(write_requests(&emu), 0, "{args:?}: nothing written");
}

const ALAN: &str = "alan.turing@acme.example";

#[test]
fn user_emails_and_names() {
    // A transposition (1 edit) and a dropped letter plus a swap (2).
    suggests(
        &["list", "grants", "--user", "alan.turnig@acme.example"],
        1,
        "did you mean alan.turing@acme.example",
    );
    suggests(
        &["list", "grants", "--user", "Aln Turnig"],
        1,
        "did you mean alan.turing@acme.example",
    );
    suggests(
        &[
            "grant",
            "--to",
            "alan.turin@acme.example",
            "--group",
            "Security",
            "--yes",
        ],
        1,
        "did you mean alan.turing@acme.example",
    );
    suggests(
        &["remove-user", "grace.hoper@acme.example", "--yes"],
        1,
        "did you mean grace.hopper@acme.example",
    );
}

#[test]
fn roles() {
    suggests(
        &["grant", "--to", ALAN, "--role", "Workspace Onwer", "--yes"],
        1,
        "did you mean Workspace Owner?",
    );
    suggests(
        &["list", "grants", "--role", "Sorce Admn"],
        1,
        "did you mean Source Admin",
    );
}

#[test]
fn groups() {
    suggests(
        &["grant", "--to", ALAN, "--group", "Data Enginering", "--yes"],
        1,
        "did you mean Data Engineering",
    );
    suggests(&["list", "members", "Securty"], 1, "did you mean Security");
    suggests(
        &[
            "grant",
            "--to",
            "group:Mobile Taem",
            "--role",
            "Workspace Owner",
            "--yes",
        ],
        1,
        "did you mean Mobile Team",
    );
    // A group's name typed as a principal without its prefix: exact, or mistyped.
    suggests(
        &[
            "grant",
            "--to",
            "Data Engineering",
            "--role",
            "Workspace Owner",
            "--yes",
        ],
        2,
        "write group:Data Engineering",
    );
    suggests(
        &[
            "grant",
            "--to",
            "Data Enginering",
            "--role",
            "Workspace Owner",
            "--yes",
        ],
        1,
        "did you mean group:Data Engineering?",
    );
}

#[test]
fn invites() {
    suggests(
        &[
            "grant",
            "--to",
            "new.analyst@acme.example",
            "--group",
            "Security",
            "--yes",
        ],
        2,
        "write invite:new.analyst@acme.example",
    );
    suggests(
        &[
            "grant",
            "--to",
            "new.analyst@acme.exampel",
            "--group",
            "Security",
            "--yes",
        ],
        1,
        "did you mean invite:new.analyst@acme.example?",
    );
    suggests(
        &[
            "grant",
            "--to",
            "invite:new.anlyst@acme.example",
            "--group",
            "Security",
            "--yes",
        ],
        1,
        "did you mean new.analyst@acme.example?",
    );
    suggests(
        &["revoke-invite", "intern@acme.exmple", "--yes"],
        1,
        "did you mean intern@acme.example?",
    );
}

#[test]
fn resources_of_every_kind() {
    let cases: [(&str, &str); 7] = [
        ("source:Websit Prod", "website-prod"),
        ("source:websiet-prod", "website-prod"),
        ("warehouse:Analytics Snowflak", "Analytics Snowflake"),
        ("function:Enrich Lead", "Enrich Leads"),
        ("space:Prodution Space", "Production Space"),
        ("workspace:acme-analytic", "acme-analytics"),
        ("space:sandbx", "Sandbox Space"),
    ];
    for (resource, meant) in cases {
        suggests(&["list", "grants", "--resource", resource], 1, meant);
    }
    suggests(
        &[
            "grant",
            "--to",
            ALAN,
            "--role",
            "Source Admin",
            "--on",
            "source:ios-ap",
            "--yes",
        ],
        1,
        "did you mean ios-app",
    );
    // The kind itself mistyped is malformed input (2), with the fix.
    suggests(
        &["list", "grants", "--resource", "sorce:website-prod"],
        2,
        "did you mean source:website-prod?",
    );
}

/// An unknown label fails before any request that writes, on a dry run too.
#[test]
fn labels() {
    for extra in [&["--yes"][..], &["--dry-run"]] {
        let args: Vec<&str> = [
            "grant",
            "--to",
            ALAN,
            "--role",
            "Source Read-only",
            "--label",
            "environment=prd",
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
        suggests(&args, 1, "did you mean environment=prod");
    }
    let emu = small();
    let labels = stdout_of(bin(&emu.url(), OWNER).args(["list", "labels"]));
    assert!(labels.starts_with("KEY "), "{labels}");
    assert!(labels.contains("environment  prod"), "{labels}");
}

#[test]
fn profiles() {
    let config = ConfigDir::with_config(
        "[profiles.production]\nregion = \"us\"\n[profiles.staging]\nregion = \"eu\"\n",
    );
    let out = config
        .cmd()
        .env("SEGMENT_ACCESS_NO_SECRET_SERVICE", "1")
        .args(["--profile", "prodution", "list", "users"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("did you mean production?"), "{err}");
}

/// In a batch each record with a name the workspace lacks is refused on its own, with the
/// suggestion, and the others go through.
#[test]
fn batch_records_get_suggestions_per_record() {
    let emu = small();
    let tmp = temp_dir("names-batch");
    let st = state(&emu);
    let alan = user_by_email(&st, ALAN);
    let records = [
        serde_json::json!({
            "principal": {"type": "user", "id": "nonexistent0000000000", "email": "alan.turing@acme.exampel", "name": "Alan Turing"},
            "role": null,
            "resource": {"type": "group", "id": "nope", "name": "Security"},
            "labels": [], "via": null
        }),
        serde_json::json!({
            "principal": {"type": "user", "id": alan["id"], "email": ALAN, "name": "Alan Turing"},
            "role": {"id": "no-such-role", "name": "Workspace Onwer"},
            "resource": {"type": "workspace", "id": st["workspace"]["id"], "name": "Acme Analytics"},
            "labels": [], "via": null
        }),
        serde_json::json!({
            "principal": {"type": "invite", "email": "intern@acme.exmple"},
            "role": null,
            "resource": {"type": "group", "id": "nope", "name": "Security"},
            "labels": [], "via": null
        }),
    ];
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    let file = tmp.path().join("batch.ndjson");
    std::fs::write(&file, text).expect("batch");
    let (code, out, err) = run(writer(&emu, tmp.path()).args([
        "grant",
        "--from-file",
        file.to_str().expect("utf-8"),
        "--yes",
        "--format",
        "json",
    ]));
    assert_eq!(code, Some(1), "every record failed: {err}");
    let rows: Vec<Value> = serde_json::from_str(&out).expect("json report");
    let messages: Vec<&str> = rows
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert!(
        messages[0].contains("did you mean alan.turing@acme.example"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("did you mean Workspace Owner"),
        "{messages:?}"
    );
    assert!(
        messages[2].contains("did you mean intern@acme.example?"),
        "{messages:?}"
    );
    assert_eq!(write_requests(&emu), 0);
}
