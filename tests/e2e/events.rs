//! `list events`: the audit trail as people and scripts read it. What it shows must be what
//! the emulator recorded for the changes a test makes, through the tool and behind its back,
//! with names resolved; a trail that cannot be read is a clear error with its exit code.

use segment_access::emulator::{AuditTrail, EmulatorConfig};
use serde_json::{Value, json};

use crate::support::*;

const ALAN: &str = "alan.turing@acme.example";
const GRACE: &str = "grace.hopper@acme.example";

/// The emulator's own record of the trail, oldest first.
fn recorded(emu: &segment_access::emulator::BlockingEmulator) -> Vec<Value> {
    get_json(&format!("{}/_emulator/audit-events", emu.url()))["events"]
        .as_array()
        .unwrap()
        .clone()
}

fn events(emu: &segment_access::emulator::BlockingEmulator, extra: &[&str]) -> Vec<Value> {
    let mut c = bin(&emu.url(), OWNER);
    c.args(["list", "events", "--format", "ndjson"]).args(extra);
    parse_ndjson(&stdout_of(&mut c))
}

#[test]
fn list_events_shows_who_changed_what_as_the_emulator_recorded_it() {
    let emu = small();
    let tmp = temp_dir("events");
    let before = recorded(&emu).len();
    let st = state(&emu);
    let alan = user_by_email(&st, ALAN).clone();
    let grace = user_by_email(&st, GRACE).clone();

    // Through the tool: a role and a membership for Alan.
    stdout_of(writer(&emu, tmp.path()).args([
        "grant",
        "--to",
        ALAN,
        "--role",
        "Source Admin",
        "--on",
        "source:Android App",
        "--yes",
    ]));
    stdout_of(
        writer(&emu, tmp.path()).args(["grant", "--to", ALAN, "--group", "Security", "--yes"]),
    );
    // Behind its back, as someone in Segment's app: Grace loses every role.
    put_json(
        &format!(
            "{}/_emulator/users/{}/permissions",
            emu.url(),
            grace["id"].as_str().unwrap()
        ),
        json!({"permissions": []}),
    );

    let mut ours: Vec<Value> = recorded(&emu)[before..].to_vec();
    ours.reverse();
    assert!(
        ours.len() >= 3,
        "the emulator recorded the changes: {ours:?}"
    );
    let first = ours.last().unwrap()["timestamp"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = events(&emu, &["--since", &first]);
    assert_eq!(shown.len(), ours.len(), "{shown:#?}\nvs\n{ours:#?}");
    for (s, r) in shown.iter().zip(&ours) {
        assert_eq!(s["id"], r["id"]);
        assert_eq!(s["time"], r["timestamp"]);
        assert_eq!(s["type"], r["type"]);
        assert_eq!(s["actor"]["id"], r["actor"]);
        assert_eq!(s["resource"]["type"], r["resourceType"]);
        assert_eq!(s["resource"]["id"], r["resourceId"]);
    }
    // Names resolved: Alan's policy change names him by email, as a grant record would.
    let policy = shown
        .iter()
        .find(|e| e["type"] == "User Policy Updated" && e["resource"]["id"] == alan["id"])
        .expect("Alan's policy event");
    assert_eq!(policy["resource"]["name"], ALAN);
    assert_eq!(policy["principal"]["type"], "user");
    assert_eq!(policy["principal"]["email"], ALAN);
    assert!(
        policy["actor"]["id"]
            .as_str()
            .unwrap()
            .starts_with("public-api-token/")
    );
    let joined = shown
        .iter()
        .find(|e| e["type"] == "User Added To User Group")
        .expect("the membership event");
    assert_eq!(joined["principal"]["name"], "Security");
    let behind = &shown[0];
    assert_eq!(behind["resource"]["name"], GRACE);
    assert_eq!(behind["actor"]["email"], "control@emulator.invalid");

    // Filters: one principal, one actor, one type.
    let alans = events(&emu, &["--since", &first, "--principal", ALAN]);
    assert_eq!(alans.len(), 1, "{alans:#?}");
    assert_eq!(alans[0]["id"], policy["id"]);
    let group = events(&emu, &["--since", &first, "--principal", "group:Security"]);
    assert!(group.iter().all(|e| e["resource"]["name"] == "Security"));
    assert!(!group.is_empty());
    let by_control = events(
        &emu,
        &["--since", &first, "--actor", "control@emulator.invalid"],
    );
    assert_eq!(by_control.len(), 1);
    assert_eq!(by_control[0]["resource"]["id"], grace["id"]);
    let typed = events(
        &emu,
        &["--since", &first, "--type", "user added to user group"],
    );
    assert_eq!(typed.len(), 1);
    assert!(events(&emu, &["--until", "2000-01-01"]).is_empty());
    let (code, _, err) =
        run(bin(&emu.url(), OWNER).args(["list", "events", "--since", "1d", "--until", "2d"]));
    assert_eq!(code, Some(2), "{err}");

    // The table names the actor, the type and who it was about.
    let table = stdout_of(bin(&emu.url(), OWNER).args(["list", "events", "--since", &first]));
    let head = table.lines().next().unwrap();
    for col in ["TIME", "ACTOR", "TYPE", "ABOUT"] {
        assert!(head.contains(col), "{table}");
    }
    assert!(table.contains("group:Security"), "{table}");
    assert!(table.contains(GRACE), "{table}");
    let csv = stdout_of(
        bin(&emu.url(), OWNER).args(["list", "events", "--since", &first, "--format", "csv"]),
    );
    assert!(
        csv.starts_with("id,time,type,actor_id,actor_email,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), ours.len() + 1);
}

#[test]
fn a_removed_user_is_still_found_in_history() {
    let emu = small();
    let tmp = temp_dir("events-gone");
    let id = user_by_email(&state(&emu), GRACE)["id"]
        .as_str()
        .unwrap()
        .to_string();
    stdout_of(writer(&emu, tmp.path()).args(["remove-user", GRACE, "--yes"]));
    let gone = events(&emu, &["--principal", &id]);
    assert!(
        gone.iter().any(|e| e["type"] == "User Removed"),
        "{gone:#?}"
    );
    let (code, _, err) = run(bin(&emu.url(), OWNER).args([
        "list",
        "events",
        "--principal",
        "nobody.at.all@acme.example",
    ]));
    assert_eq!(code, Some(1));
    assert!(err.starts_with("error: "), "{err}");
}

#[test]
fn an_unavailable_trail_is_one_clear_line_with_its_exit_code() {
    for (status, code, says) in [
        (404u16, 1, "Business tier"),
        (403u16, 4, "may not read the audit trail"),
    ] {
        let emu = start(EmulatorConfig {
            audit: AuditTrail {
                enabled: false,
                unavailable_status: status,
                ..AuditTrail::default()
            },
            ..EmulatorConfig::default()
        });
        let (got, out, err) = run(bin(&emu.url(), OWNER).args(["list", "events"]));
        assert_eq!(got, Some(code), "{status}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{status}: {err}");
        assert!(!err.contains(OWNER));
    }
    let emu = small();
    let (got, _, err) = run(bin(&emu.url(), MEMBER).args(["list", "events"]));
    assert_eq!(got, Some(4), "{err}");
    assert!(err.contains("Workspace Owner"), "{err}");
    let (got, _, err) = run(bin(&emu.url(), OWNER).args(["list", "events", "--since", "soon"]));
    assert_eq!(got, Some(2), "{err}");
    assert!(err.contains("--since"), "{err}");
}

#[test]
fn events_validate_against_the_published_json_schema() {
    let emu = small();
    let tmp = temp_dir("events-schema");
    // History of every kind: the seed's, a change through the tool, a removal.
    stdout_of(writer(&emu, tmp.path()).args(["remove-user", GRACE, "--yes"]));
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/event-record.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let printed = events(&emu, &[]);
    assert!(printed.len() > 3, "{printed:?}");
    assert!(printed.iter().any(|e| e["principal"].is_null()));
    assert!(printed.iter().any(|e| e["principal"].is_object()));
    for r in &printed {
        let errors: Vec<String> = validator.iter_errors(r).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{r}: {errors:?}");
    }
    let mut bad = printed[0].clone();
    bad["actor"] = Value::from("someone");
    assert!(!validator.is_valid(&bad));
}
