//! Pagination walks and query parsing.

use std::collections::HashSet;

use segment_access::emulator::{EmulatorConfig, RateLimits, Seed};

use crate::support::api::*;

async fn walk_brackets(e: &Emu, path: &str, key: &str, count: usize) -> Vec<serde_json::Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}{path}", e.url);
        let mut q: Vec<(&str, String)> = vec![("pagination[count]", count.to_string())];
        if let Some(c) = &cursor {
            q.push(("pagination[cursor]", c.clone()));
        }
        url.push('?');
        url.push_str(&serde_urlencoded(&q));
        let r = e.client.get(&url).bearer_auth(OWNER).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().await.unwrap();
        items.extend(body["data"][key].as_array().unwrap().iter().cloned());
        match body["data"]["pagination"]["next"].as_str() {
            Some(n) => cursor = Some(n.to_string()),
            None => return items,
        }
    }
}

fn serde_urlencoded(pairs: &[(&str, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
        .finish()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_item_exactly_once_for_each_page_size() {
    let e = emu(EmulatorConfig {
        seed: Seed::Users(450),
        // Page size 1 walks take hundreds of requests; limits are tested elsewhere.
        limits: RateLimits {
            general: 100_000,
            ..RateLimits::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let st = e.state().await;
    for (path, key, state_key) in [
        ("/users", "users", "users"),
        ("/groups", "userGroups", "groups"),
        ("/sources", "sources", "sources"),
    ] {
        let expected: HashSet<String> = st[state_key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect();
        for count in [1, 7, 200] {
            let items = e.walk(path, key, count).await;
            let ids: Vec<String> = items
                .iter()
                .map(|x| x["id"].as_str().unwrap().to_string())
                .collect();
            let unique: HashSet<String> = ids.iter().cloned().collect();
            assert_eq!(ids.len(), unique.len(), "{path} count={count}: duplicates");
            assert_eq!(unique, expected, "{path} count={count}");
        }
        let bracket = walk_brackets(&e, path, key, 7).await;
        assert_eq!(
            bracket.len(),
            expected.len(),
            "{path} with pagination[count]"
        );
        let first = e.get(&format!("{path}?pagination.count=7")).await;
        assert_eq!(
            first.data()["pagination"]["totalEntries"].as_u64(),
            Some(expected.len() as u64)
        );
        assert!(first.data()["pagination"]["current"].is_string());
        assert!(first.data()["pagination"].get("previous").is_none());
    }
    // List items carry no permissions; the single-user read does.
    let page = e.get("/users?pagination.count=3").await;
    assert!(page.data()["users"][0].get("permissions").is_none());
    let id = page.data()["users"][0]["id"].as_str().unwrap().to_string();
    assert!(e.get(&format!("/users/{id}")).await.data()["user"]["permissions"].is_array());
}

#[tokio::test(flavor = "multi_thread")]
async fn last_page_has_no_next_and_second_page_has_previous() {
    let e = default_emu().await;
    let first = e.get("/users?pagination.count=10").await;
    let total = first.data()["pagination"]["totalEntries"].as_u64().unwrap();
    assert_eq!(total, 13);
    let next = first.data()["pagination"]["next"]
        .as_str()
        .unwrap()
        .to_string();
    let last = e
        .get(&format!(
            "/users?pagination.count=10&pagination.cursor={next}"
        ))
        .await;
    assert_eq!(last.data()["users"].as_array().unwrap().len(), 3);
    assert!(last.data()["pagination"].get("next").is_none());
    assert!(last.data()["pagination"]["previous"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_counts_and_cursors_are_422() {
    let e = default_emu().await;
    for q in [
        "pagination.count=0",
        "pagination.count=201",
        "pagination.count=abc",
        "pagination%5Bcount%5D=-3",
        "",
        "pagination.cursor=abc",
        "pagination.count=5&pagination.cursor=garbage",
        "pagination.count=5&pagination.cursor=MA%3D%3D",
    ] {
        let a = e.get(&format!("/users?{q}")).await;
        assert_eq!(a.status, 422, "{q}: {}", a.body);
        assert_eq!(a.error_type(), "ValidationFailure", "{q}");
        assert!(
            a.body["errors"][0]["field"]
                .as_str()
                .unwrap()
                .starts_with("pagination"),
            "{q}"
        );
    }
    // A cursor from one list is not valid on another.
    let users = e.get("/users?pagination.count=2").await;
    let next = users.data()["pagination"]["next"]
        .as_str()
        .unwrap()
        .to_string();
    let a = e
        .get(&format!(
            "/groups?pagination.count=2&pagination.cursor={next}"
        ))
        .await;
    assert_eq!(a.status, 422);
    // Unknown query keys are ignored.
    assert_eq!(e.get("/users?pagination.count=2&foo=bar").await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn user_id_array_forms() {
    let e = default_emu().await;
    let st = e.state().await;
    let ids: Vec<String> = st["users"]
        .as_array()
        .unwrap()
        .iter()
        .skip(4)
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    let forms = [
        format!("userIds.0={}&userIds.1={}", ids[0], ids[1]),
        format!("userIds%5B0%5D={}&userIds%5B1%5D={}", ids[2], ids[3]),
        format!("userIds={}&userIds={}", ids[4], ids[5]),
        format!("userIds={},{}", ids[6], ids[7]),
    ];
    let mut expected = st["users"].as_array().unwrap().len();
    for q in forms {
        let a = e.delete(&format!("/users?{q}")).await;
        assert_eq!(a.status, 200, "{q}: {}", a.body);
        expected -= 2;
        let total = e.get("/users?pagination.count=1").await.data()["pagination"]["totalEntries"]
            .as_u64()
            .unwrap();
        assert_eq!(total as usize, expected, "{q}");
    }
    assert_eq!(e.delete("/users").await.status, 422);
}
