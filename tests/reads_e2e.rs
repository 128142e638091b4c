//! What the tool reads: integer counts on the wire and in output, and how many requests a
//! narrow question costs, counted by the emulator.

mod common;
use common::*;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{Value, json};

/// GETs a Segment path on the emulator with the owner token, as any client would.
fn api_get(url: &str, path: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        segment_access::segment::tls::install_provider();
        let resp = reqwest::Client::new()
            .get(format!("{url}{path}"))
            .bearer_auth(OWNER)
            .send()
            .await
            .expect("emulator answers");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.text().await.expect("body")
    })
}

/// What a strictly typed client (Segment's Go connector decodes into int64) expects: serde
/// refuses `3.0` for an integer field.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypedGroup {
    member_count: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypedPagination {
    total_entries: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypedGroups {
    user_groups: Vec<TypedGroup>,
    pagination: TypedPagination,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypedGroupData {
    user_group: TypedGroup,
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[test]
fn counts_are_integers_on_the_wire_and_in_output() {
    let emu = small();
    let url = emu.url();
    let st = state(&emu);

    let body = api_get(&url, "/groups?pagination.count=200");
    let groups: Envelope<TypedGroups> =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("typed decode: {e}: {body}"));
    let expected: Vec<u64> = st["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (g["memberIds"].as_array().unwrap().len() + g["inviteEmails"].as_array().unwrap().len())
                as u64
        })
        .collect();
    let got: Vec<u64> = groups
        .data
        .user_groups
        .iter()
        .map(|g| g.member_count)
        .collect();
    assert_eq!(got, expected);
    assert_eq!(groups.data.pagination.total_entries, expected.len() as u64);

    let gid = st["groups"][0]["id"].as_str().unwrap();
    let body = api_get(&url, &format!("/groups/{gid}"));
    let one: Envelope<TypedGroupData> =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("typed decode: {e}: {body}"));
    assert_eq!(one.data.user_group.member_count, expected[0]);

    let body = api_get(&url, "/users?pagination.count=2");
    #[derive(Deserialize)]
    struct Page {
        pagination: TypedPagination,
    }
    let users: Envelope<Page> =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("typed decode: {e}: {body}"));
    assert_eq!(
        users.data.pagination.total_entries,
        st["users"].as_array().unwrap().len() as u64
    );

    // The tool prints them as integers too.
    let out = stdout_of(bin(&url, OWNER).args(["list", "groups", "--format", "json"]));
    assert!(!out.contains(".0,") && !out.contains(".0\n"), "{out}");
    let printed: Value = serde_json::from_str(&out).unwrap();
    for g in printed.as_array().unwrap() {
        assert!(g["memberCount"].is_u64(), "{g}");
    }
}

/// Runs `list grants` with `args` and returns the printed facts and the requests it made, by
/// route, counted by the emulator.
fn grants_and_requests(
    emu: &segment_access::emulator::BlockingEmulator,
    args: &[&str],
) -> (BTreeSet<Fact>, BTreeMap<String, u64>) {
    post_json(&format!("{}/_emulator/stats/reset", emu.url()), json!({}));
    let mut all = vec!["list", "grants", "--format", "ndjson"];
    all.extend_from_slice(args);
    let out = stdout_of(bin(&emu.url(), OWNER).args(&all));
    let facts = parse_ndjson(&out).iter().map(fact_of).collect();
    let by_route = stats(emu)["byRoute"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    (facts, by_route)
}

fn count(by_route: &BTreeMap<String, u64>, route: &str) -> u64 {
    by_route.get(route).copied().unwrap_or(0)
}

/// A full audit's grants (checked against the emulator's state) and its group-invite reads.
fn audit_invite_reads(emu: &segment_access::emulator::BlockingEmulator) -> u64 {
    let (facts, r) = grants_and_requests(emu, &[]);
    assert_eq!(
        facts,
        expected_facts(&state(emu)),
        "the full audit stays exact"
    );
    count(&r, "GET /groups/{userGroupId}/invites")
}

#[test]
fn group_invites_are_read_where_member_counts_leave_room_for_them() {
    let emu = small();
    let url = emu.url();
    let st = state(&emu);
    let groups = st["groups"].as_array().unwrap();
    let holding = groups
        .iter()
        .filter(|g| !g["inviteEmails"].as_array().unwrap().is_empty())
        .count() as u64;
    assert!(holding > 0 && holding < groups.len() as u64);

    // memberCount is more than the users found only where a group holds invites: those are
    // read, and one of them shows that the count includes invites, so the others are not.
    assert_eq!(audit_invite_reads(&emu), holding);

    // Pending invites, but in no group: nothing confirms what memberCount counts, so every
    // group's invites are read.
    let mut changed = st.clone();
    for g in changed["groups"].as_array_mut().unwrap() {
        g["inviteEmails"] = json!([]);
    }
    post_json(&format!("{url}/_emulator/state"), changed.clone());
    assert_eq!(audit_invite_reads(&emu), groups.len() as u64);

    // No pending invites anywhere: no group can hold one.
    changed["invites"] = json!([]);
    post_json(&format!("{url}/_emulator/state"), changed);
    assert_eq!(audit_invite_reads(&emu), 0);
}
