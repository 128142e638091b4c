//! The emulator's audit trail: one event per accepted change with Segment's event names, who
//! made it, newest first with stable pages, 90 days kept, and the knobs of a workspace without
//! the Business tier.

use reqwest::Method;
use segment_access::emulator::{AuditTrail, EmulatorConfig, Seed};
use serde_json::{Value, json};

use crate::support::api::*;

/// Events recorded since the trail held `before` events (the control endpoint's whole trail,
/// oldest first).
async fn new_events(e: &Emu, before: usize) -> Vec<Value> {
    let all = e
        .client
        .get(format!("{}/_emulator/audit-events", e.url))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    all["events"].as_array().unwrap()[before..].to_vec()
}

async fn trail_len(e: &Emu) -> usize {
    e.state().await["auditEventCount"].as_u64().unwrap() as usize
}

/// A request and the (type, resourceType) of the events it must record.
type Case = (
    Method,
    String,
    Option<Value>,
    Vec<(&'static str, &'static str)>,
);

fn kinds(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|ev| {
            (
                ev["type"].as_str().unwrap().to_string(),
                ev["resourceType"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_accepted_change_records_segments_event_names() {
    let e = default_emu().await;
    let alan = e.user_by_email("alan.turing@acme.example").await;
    let alan_id = alan["id"].as_str().unwrap().to_string();
    let mobile = e.group_by_name("Mobile Team").await;
    let mobile_id = mobile["id"].as_str().unwrap().to_string();
    let ws = e.state().await["workspace"]["id"].clone();
    let role = e.role_id("Warehouse Read-only").await;
    let perm =
        json!({"permissions": [{"roleId": role, "resources": [{"id": ws, "type": "WORKSPACE"}]}]});

    let n = trail_len(&e).await;
    let cases: Vec<Case> = vec![
        (
            Method::POST,
            format!("/users/{alan_id}/permissions"),
            Some(perm.clone()),
            vec![("User Policy Updated", "user")],
        ),
        (
            Method::PUT,
            format!("/users/{alan_id}/permissions"),
            Some(perm.clone()),
            vec![("User Policy Updated", "user")],
        ),
        (
            Method::POST,
            format!("/groups/{mobile_id}/permissions"),
            Some(perm.clone()),
            vec![("User Group Policy Updated", "user_group")],
        ),
        (
            Method::PUT,
            format!("/groups/{mobile_id}/permissions"),
            Some(json!({"permissions": []})),
            vec![("User Group Policy Updated", "user_group")],
        ),
        (
            Method::POST,
            format!("/groups/{mobile_id}/users"),
            Some(json!({"emails": ["ken.thompson@acme.example", "fresh@outside.example"]})),
            vec![
                ("New User Invited to Workspace", "invite"),
                ("User Added To User Group", "user_group"),
                ("User Added To User Group", "user_group"),
            ],
        ),
        (
            Method::DELETE,
            format!("/group/{mobile_id}/users?emails.0=ken.thompson%40acme.example"),
            None,
            vec![("User Removed From User Group", "user_group")],
        ),
        (
            Method::PUT,
            format!("/group/{mobile_id}/users"),
            Some(json!({"emails": ["alan.turing@acme.example", "grace.hopper@acme.example"]})),
            vec![
                ("User Removed From User Group", "user_group"),
                ("User Removed From User Group", "user_group"),
                ("User Added To User Group", "user_group"),
            ],
        ),
        (
            Method::POST,
            "/invites".into(),
            Some(json!({"invites": [{"email": "new.person@acme.example"}]})),
            vec![("New User Invited to Workspace", "invite")],
        ),
        (
            Method::DELETE,
            "/invites?emails.0=new.person%40acme.example".into(),
            None,
            vec![("Invite Deleted", "invite")],
        ),
        (
            Method::POST,
            "/groups".into(),
            Some(json!({"name": "Auditors"})),
            vec![("User Group Created", "user_group")],
        ),
        (
            Method::POST,
            "/labels".into(),
            Some(json!({"label": {"key": "tier", "value": "gold"}})),
            vec![("Label Created", "label")],
        ),
        (
            Method::DELETE,
            "/labels/tier/gold".into(),
            None,
            vec![("Label Deleted", "label")],
        ),
        (
            Method::DELETE,
            format!("/users?userIds.0={alan_id}"),
            None,
            vec![("User Removed", "user")],
        ),
    ];
    let mut seen = n;
    for (method, path, body, expected) in cases {
        let a = e.call(Some(OWNER), method.clone(), &path, body).await;
        assert_eq!(a.status, 200, "{method} {path}: {}", a.body);
        let events = new_events(&e, seen).await;
        seen += events.len();
        let want: Vec<(String, String)> = expected
            .iter()
            .map(|(t, r)| (t.to_string(), r.to_string()))
            .collect();
        assert_eq!(kinds(&events), want, "{method} {path}");
        for ev in &events {
            assert!(
                ev["actor"]
                    .as_str()
                    .unwrap()
                    .starts_with("public-api-token/"),
                "{ev}"
            );
            assert!(ev.get("actorEmail").is_none(), "a token has no email: {ev}");
            assert!(ev["id"].as_str().unwrap().starts_with("events/"));
        }
        if method == Method::POST && path.ends_with("/permissions") && path.starts_with("/users") {
            assert_eq!(events[0]["resourceId"], alan_id.as_str());
            assert_eq!(events[0]["resourceName"], "alan.turing@acme.example");
        }
    }
    // The group's rename and deletion, last.
    let auditors = e.group_by_name("Auditors").await;
    let gid = auditors["id"].as_str().unwrap();
    let a = e
        .call(
            Some(OWNER),
            Method::PATCH,
            &format!("/groups/{gid}"),
            Some(json!({"name": "Auditors 2"})),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(e.delete(&format!("/groups/{gid}")).await.status, 200);
    let events = new_events(&e, seen).await;
    assert_eq!(
        kinds(&events),
        vec![
            ("User Group Updated".to_string(), "user_group".to_string()),
            ("User Group Deleted".to_string(), "user_group".to_string()),
        ]
    );
    assert_eq!(events[0]["resourceName"], "Auditors 2");
    assert_eq!(events[1]["resourceId"], gid);

    // A refused change records nothing; repeating an add of a member records nothing new.
    let before = trail_len(&e).await;
    let bad = e
        .post(&format!("/users/{}/permissions", "nobody"), perm.clone())
        .await;
    assert_eq!(bad.status, 404);
    assert_eq!(trail_len(&e).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_behind_the_tools_back_are_recorded_as_someone_in_the_app() {
    let e = default_emu().await;
    let alan = e.user_by_email("alan.turing@acme.example").await;
    let alan_id = alan["id"].as_str().unwrap();
    // Replacing the whole workspace is recorded too, under a name no client knows (the dump
    // is taken before the source went, which permissions still name).
    let dump = e.state().await;
    let before = trail_len(&e).await;
    let r = e
        .client
        .post(format!("{}/_emulator/state", e.url))
        .json(&dump)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let events = new_events(&e, before).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "Emulator Workspace Replaced");
    assert_eq!(events[0]["resourceType"], "workspace");
    let before = trail_len(&e).await;
    e.control(
        Method::PUT,
        &format!("/_emulator/users/{alan_id}/permissions"),
        json!({"permissions": []}),
    )
    .await;
    let source = e.source_id("iOS App").await;
    let r = e
        .client
        .delete(format!("{}/_emulator/resources/source/{source}", e.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let events = new_events(&e, before).await;
    assert_eq!(
        kinds(&events),
        vec![
            ("User Policy Updated".to_string(), "user".to_string()),
            ("Source Deleted".to_string(), "source".to_string()),
        ]
    );
    for ev in &events {
        assert_eq!(ev["actor"], "user/emulator-control");
        assert_eq!(ev["actorEmail"], "control@emulator.invalid");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn newest_first_filtered_paged_stably_and_ninety_days_kept() {
    let e = default_emu().await;
    // An event 100 days old and one 10 days old, put into the trail directly.
    let old = e
        .control(
            Method::POST,
            "/_emulator/audit-events",
            json!({"type": "User Policy Updated", "resourceType": "user", "resourceId": "u-old",
                   "timestamp": days_ago(100)}),
        )
        .await;
    assert_eq!(old["event"]["resourceId"], "u-old");
    e.control(
        Method::POST,
        "/_emulator/audit-events",
        json!({"type": "User Policy Updated", "resourceType": "user", "resourceId": "u-recent",
               "timestamp": days_ago(10)}),
    )
    .await;
    let all = e.walk("/audit-events", "events", 7).await;
    assert!(
        all.iter().all(|ev| ev["resourceId"] != "u-old"),
        "older than 90 days"
    );
    assert!(all.iter().any(|ev| ev["resourceId"] == "u-recent"));
    let stamps: Vec<&str> = all
        .iter()
        .map(|ev| ev["timestamp"].as_str().unwrap())
        .collect();
    let mut sorted = stamps.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(stamps, sorted, "newest first");
    // The whole control trail still holds it.
    let raw = new_events(&e, 0).await;
    assert!(raw.iter().any(|ev| ev["resourceId"] == "u-old"));

    let only = e
        .walk(
            "/audit-events?resourceType=USER&resourceId=u-recent",
            "events",
            5,
        )
        .await;
    assert_eq!(only.len(), 1);
    let window = e
        .walk(
            &format!(
                "/audit-events?startTime={}&endTime={}",
                days_ago(11),
                days_ago(9)
            ),
            "events",
            5,
        )
        .await;
    assert!(window.iter().any(|ev| ev["resourceId"] == "u-recent"));
    assert!(
        window
            .iter()
            .all(|ev| ev["timestamp"].as_str().unwrap() >= days_ago(11).as_str())
    );

    // A page walk is cut from the list as it stood at the first page: events recorded in
    // between appear on none of its pages, and none repeats.
    let first = e.get("/audit-events?pagination.count=3").await;
    let next = first.data()["pagination"]["next"]
        .as_str()
        .unwrap()
        .to_string();
    let ids: Vec<Value> = first.data()["events"].as_array().unwrap().clone();
    e.post("/groups", json!({"name": "Late"})).await;
    let second = e
        .get(&format!(
            "/audit-events?pagination.count=3&pagination.cursor={next}"
        ))
        .await;
    assert_eq!(second.status, 200);
    for ev in second.data()["events"].as_array().unwrap() {
        assert!(!ids.contains(ev), "repeated {ev}");
        assert_ne!(ev["resourceName"], "Late");
    }
    let bad = e
        .get("/audit-events?pagination.count=3&pagination.cursor=bm9wZQ")
        .await;
    assert_eq!(bad.status, 422);
}

fn days_ago(days: i64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - days * 86_400;
    // civil-from-days, as the tool's own snapshot code does it.
    let (d, s) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = d + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workspace_without_the_trail_answers_404_or_403_and_members_403() {
    let e = emu(EmulatorConfig {
        audit: AuditTrail {
            enabled: false,
            ..AuditTrail::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let a = e.get("/audit-events?pagination.count=5").await;
    assert_eq!(a.status, 404);
    assert_eq!(a.error_type(), "NotFound");
    e.control(
        Method::PATCH,
        "/_emulator/config",
        json!({"audit": {"unavailableStatus": 403}}),
    )
    .await;
    let a = e.get("/audit-events?pagination.count=5").await;
    assert_eq!(a.status, 403);
    // Changes are still recorded; turning the trail on shows them.
    let before = trail_len(&e).await;
    e.post("/groups", json!({"name": "Quiet"})).await;
    assert_eq!(trail_len(&e).await, before + 1);
    e.control(
        Method::PATCH,
        "/_emulator/config",
        json!({"audit": {"enabled": true}}),
    )
    .await;
    let a = e.get("/audit-events?pagination.count=1").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.data()["events"][0]["resourceName"], "Quiet");
    let m = e
        .call(
            Some(MEMBER),
            Method::GET,
            "/audit-events?pagination.count=1",
            None,
        )
        .await;
    assert_eq!(m.status, 403);
    // With recording off, changes leave no trace.
    e.control(
        Method::PATCH,
        "/_emulator/config",
        json!({"audit": {"record": false}}),
    )
    .await;
    let before = trail_len(&e).await;
    e.post("/groups", json!({"name": "Unrecorded"})).await;
    assert_eq!(trail_len(&e).await, before);
    let bad = e
        .client
        .patch(format!("{}/_emulator/config", e.url))
        .json(&json!({"audit": {"unavailableStatus": 500}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}

#[tokio::test(flavor = "multi_thread")]
async fn labels_are_created_and_deleted_unless_in_use() {
    let e = default_emu().await;
    let a = e
        .post(
            "/labels",
            json!({"label": {"key": "tier", "value": "gold", "description": "Top"}}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["label"]["key"], "tier");
    assert_eq!(
        e.post(
            "/labels",
            json!({"label": {"key": "tier", "value": "gold"}})
        )
        .await
        .status,
        422
    );
    assert_eq!(
        e.post("/labels", json!({"label": {"key": "tier"}}))
            .await
            .status,
        422
    );
    // environment:prod narrows a source and some permissions.
    assert_eq!(e.delete("/labels/environment/prod").await.status, 422);
    assert_eq!(e.delete("/labels/tier/silver").await.status, 404);
    assert_eq!(e.delete("/labels/tier/gold").await.status, 200);
    let m = e
        .call(
            Some(MEMBER),
            Method::POST,
            "/labels",
            Some(json!({"label": {"key": "a", "value": "b"}})),
        )
        .await;
    assert_eq!(m.status, 403);
}

#[test]
fn the_large_seed_carries_ninety_days_of_history() {
    let emu = crate::support::start(EmulatorConfig {
        seed: Seed::Large,
        ..EmulatorConfig::default()
    });
    let raw = crate::support::get_json(&format!("{}/_emulator/audit-events", emu.url()));
    let events = raw["events"].as_array().unwrap();
    assert_eq!(events.len(), 800);
    let served = crate::support::get_json(&format!("{}/_emulator/state", emu.url()));
    assert_eq!(served["auditEventCount"], 800);
    let types: std::collections::BTreeSet<&str> =
        events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for t in [
        "User Policy Updated",
        "User Group Policy Updated",
        "User Added To User Group",
        "New User Invited to Workspace",
        "Source Modified",
    ] {
        assert!(types.contains(t), "{t}: {types:?}");
    }
    assert!(events.iter().any(|e| e["actorEmail"].is_string()));
    assert!(events.iter().any(|e| {
        e["actor"]
            .as_str()
            .unwrap()
            .starts_with("public-api-token/")
    }));
}
