//! What the tool reads: integer counts on the wire and in output, and how many requests a
//! narrow question costs, counted by the emulator.

use crate::support::*;

use std::collections::{BTreeMap, BTreeSet};

use segment_access::emulator::{EmulatorConfig, Seed};
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

fn total(by_route: &BTreeMap<String, u64>) -> u64 {
    by_route.values().sum()
}

/// What any narrow question reads besides its subject: the workspace, the group list (one
/// page: groups come with their permissions) and the resource lists that name what a
/// permission points at (sources, warehouses, four kinds of functions, spaces).
const CONTEXT: u64 = 1 + 1 + 1 + 1 + 4 + 1;

fn expected_for(st: &Value, principal: &str) -> BTreeSet<Fact> {
    expected_facts(st)
        .into_iter()
        .filter(|f| f.principal == principal)
        .collect()
}

#[test]
fn narrow_questions_read_only_what_they_need_on_20000_users() {
    let emu = start(EmulatorConfig {
        seed: Seed::Users(20_000),
        ..EmulatorConfig::default()
    });
    let st = state(&emu);
    let users = st["users"].as_array().unwrap();
    assert_eq!(users.len(), 20_000);
    // A user on the first page of `GET /users`, who is in at least one group.
    let in_a_group = |u: &Value| {
        let id = u["id"].as_str().unwrap();
        st["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["memberIds"].as_array().unwrap().iter().any(|m| m == id))
    };
    let u = users
        .iter()
        .take(200)
        .find(|u| in_a_group(u))
        .expect("a member on page one");
    let id = u["id"].as_str().unwrap();
    let principal = format!("user:{id}");
    let expected = expected_for(&st, &principal);
    assert!(expected.iter().any(|f| !f.via.is_empty()));

    // By id: that user and their groups, nothing of the user list.
    let (facts, r) = grants_and_requests(&emu, &["--user", id]);
    assert_eq!(facts, expected, "--user ID");
    eprintln!("--user ID: {} requests: {r:?}", total(&r));
    assert_eq!(count(&r, "GET /users"), 0, "{r:?}");
    assert_eq!(count(&r, "GET /users/{userId}"), 1, "{r:?}");
    assert_eq!(count(&r, "GET /users/{userId}/groups"), 1, "{r:?}");
    assert_eq!(count(&r, "GET /groups/{userGroupId}/users"), 0, "{r:?}");
    assert_eq!(total(&r), 2 + CONTEXT, "{r:?}");

    // By email, on the first page: one page of the list, then that user.
    let email = u["email"].as_str().unwrap().to_uppercase();
    let (facts, r) = grants_and_requests(&emu, &["--user", &email]);
    assert_eq!(facts, expected, "--user EMAIL");
    eprintln!("--user EMAIL (page 1): {} requests: {r:?}", total(&r));
    assert_eq!(count(&r, "GET /users"), 1, "{r:?}");
    assert_eq!(count(&r, "GET /users/{userId}"), 1, "{r:?}");
    assert_eq!(count(&r, "GET /users/{userId}/groups"), 1, "{r:?}");
    assert_eq!(total(&r), 3 + CONTEXT, "{r:?}");

    // An email on the third page: paging stops there.
    let later = users[450]["email"].as_str().unwrap();
    let (_, r) = grants_and_requests(&emu, &["--user", later]);
    eprintln!("--user EMAIL (page 3): {} requests", total(&r));
    assert_eq!(count(&r, "GET /users"), 3, "{r:?}");

    // By group: the group's members and invites, nobody's permissions.
    let g = st["groups"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|g| g["memberIds"].as_array().unwrap().len())
        .unwrap();
    let gid = g["id"].as_str().unwrap();
    let members = g["memberIds"].as_array().unwrap().len() as u64;
    let (facts, r) = grants_and_requests(&emu, &["--group", gid]);
    assert!(facts.iter().any(|f| f.via == gid));
    eprintln!("--group ({members} members): {} requests: {r:?}", total(&r));
    assert_eq!(count(&r, "GET /users"), 0, "{r:?}");
    assert_eq!(count(&r, "GET /users/{userId}"), 0, "{r:?}");
    let pages = members.div_ceil(200);
    assert_eq!(count(&r, "GET /groups/{userGroupId}/users"), pages, "{r:?}");
    assert_eq!(count(&r, "GET /groups/{userGroupId}/invites"), 1, "{r:?}");
    assert_eq!(total(&r), pages + 1 + CONTEXT, "{r:?}");
}

#[test]
fn names_still_resolve_exactly() {
    let emu = small();
    let url = emu.url();
    // A one-word name looks like an id; two people share another name.
    let mut st = state(&emu);
    let users = st["users"].as_array_mut().unwrap();
    users[0]["name"] = json!("Madonna");
    users[1]["name"] = json!("Twin");
    users[2]["name"] = json!("twin");
    post_json(&format!("{url}/_emulator/state"), st.clone());
    let st = state(&emu);
    let madonna = &st["users"][0];
    let principal = format!("user:{}", madonna["id"].as_str().unwrap());

    let (facts, r) = grants_and_requests(&emu, &["--user", "madonna"]);
    assert_eq!(facts, expected_for(&st, &principal));
    // Tried as an id (404), then found by name in the whole list. The id's two reads run
    // together and the first 404 ends the try, so the other may never be sent: the try shows
    // as one or two requests beside the final two.
    let by_id = count(&r, "GET /users/{userId}") + count(&r, "GET /users/{userId}/groups");
    assert!((3..=4).contains(&by_id), "{r:?}");
    assert_eq!(count(&r, "GET /users"), 1, "{r:?}");

    let out = bin(&url, OWNER)
        .args(["list", "grants", "--user", "Twin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"Twin\" matches 2 users"), "{err}");

    let out = bin(&url, OWNER)
        .args(["list", "grants", "--user", "nobody@acme.example"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no user matches"), "{err}");
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

#[test]
fn a_batch_reads_its_principals_concurrently() {
    let emu = small();
    configure(&emu, json!({"latency": {"fixedMs": 150}}));
    let st = state(&emu);
    let users = st["users"].as_array().unwrap().clone();
    assert!(users.len() >= 12);
    let dir = temp_dir("batch-prepare");
    let dry_run = |records: String| {
        post_json(&format!("{}/_emulator/stats/reset", emu.url()), json!({}));
        let t0 = std::time::Instant::now();
        writer(&emu, dir.path())
            .args(["grant", "--from-file", "-", "--dry-run"])
            .write_stdin(records)
            .assert()
            .success();
        let wall = t0.elapsed();
        let s = stats(&emu);
        // The emulator's span: first request to last answer, within the command's wall time.
        let span = std::time::Duration::from_millis(s["spanMs"].as_u64().unwrap());
        assert!(
            span >= std::time::Duration::from_millis(150) && span <= wall,
            "{s}"
        );
        let reads = s["byRoute"]["GET /users/{userId}"].as_u64().unwrap_or(0);
        (wall, reads)
    };
    let (one, reads) = dry_run(grant_records(&st, &users[..1]));
    assert_eq!(reads, 1);
    let (all, reads) = dry_run(grant_records(&st, &users));
    assert_eq!(reads, users.len() as u64, "each principal read once");
    // One after another, the other principals would add 150 ms each.
    let sequential = std::time::Duration::from_millis(150) * (users.len() as u32 - 1);
    assert!(
        all < one + sequential / 2,
        "{} principals took {all:?}, one took {one:?}",
        users.len()
    );
}
