//! State changes through Segment's endpoints, read back through Segment's endpoints.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::api::*;

fn perms_of(user: &Value) -> Vec<Value> {
    user["permissions"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn post_permissions_is_additive_and_idempotent() {
    let e = default_emu().await;
    let alan = e.user_by_email("alan.turing@acme.example").await;
    let id = alan["id"].as_str().unwrap();
    let admin = e.role_id("Source Admin").await;
    let dev = e.source_id("Website Dev").await;

    let before = e.get(&format!("/users/{id}")).await;
    assert_eq!(before.status, 200);
    let before_sources = perms_of(&before.data()["user"])
        .iter()
        .find(|p| p["roleId"] == admin.as_str())
        .map(|p| p["resources"].as_array().unwrap().len())
        .unwrap();
    assert_eq!(before_sources, 3);

    let body =
        json!({"permissions": [{"roleId": admin, "resources": [{"id": dev, "type": "SOURCE"}]}]});
    for _ in 0..2 {
        let a = e
            .post(&format!("/users/{id}/permissions"), body.clone())
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.data()["permissions"][0]["roleName"], "Source Admin");
    }
    let after = e.get(&format!("/users/{id}")).await;
    let perms = perms_of(&after.data()["user"]);
    let admin_perms: Vec<&Value> = perms
        .iter()
        .filter(|p| p["roleId"] == admin.as_str())
        .collect();
    assert_eq!(admin_perms.len(), 1, "merged into one permission per role");
    let resources = admin_perms[0]["resources"].as_array().unwrap();
    assert_eq!(
        resources.len(),
        4,
        "union of old and new, no duplicate: {resources:?}"
    );
    assert!(
        resources.iter().all(|r| r["labels"].is_array()),
        "labels always present"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn put_permissions_replaces_and_empty_removes_all() {
    let e = default_emu().await;
    let id = e.user_by_email("linus.torvalds@acme.example").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ro = e.role_id("Source Read-only").await;
    let ws = e.state().await["workspace"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = e
        .put(
            &format!("/users/{id}/permissions"),
            json!({"permissions": [{"roleId": ro, "resources": [{"id": ws, "type": "WORKSPACE",
                "labels": [{"key": "environment", "value": "prod"}]}]}]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let user = e.get(&format!("/users/{id}")).await.data()["user"].clone();
    let perms = perms_of(&user);
    assert_eq!(perms.len(), 1);
    assert_eq!(perms[0]["roleName"], "Source Read-only");
    assert_eq!(perms[0]["resources"][0]["labels"][0]["value"], "prod");

    let a = e
        .put(
            &format!("/users/{id}/permissions"),
            json!({"permissions": []}),
        )
        .await;
    assert_eq!(a.status, 200);
    let user = e.get(&format!("/users/{id}")).await.data()["user"].clone();
    assert!(perms_of(&user).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn group_membership_add_remove_replace_via_singular_path() {
    let e = default_emu().await;
    let g = e.group_by_name("Mobile Team").await;
    let gid = g["id"].as_str().unwrap();
    assert_eq!(g["memberIds"].as_array().unwrap().len(), 2);

    // A user becomes a member; an unknown email becomes an invite and an invite member.
    let a = e
        .post(
            &format!("/groups/{gid}/users"),
            json!({"emails": ["ada.lovelace@acme.example", "stranger@elsewhere.example"]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["userGroup"]["memberCount"], 4);
    let users = e.walk(&format!("/groups/{gid}/users"), "users", 10).await;
    assert!(
        users
            .iter()
            .any(|u| u["email"] == "ada.lovelace@acme.example")
    );
    let invites = e
        .walk(&format!("/groups/{gid}/invites"), "emails", 10)
        .await;
    assert_eq!(invites, vec![json!("stranger@elsewhere.example")]);
    let all_invites = e.walk("/invites", "invites", 50).await;
    assert!(all_invites.contains(&json!("stranger@elsewhere.example")));

    // The plural path is not Segment's remove endpoint.
    let wrong = e
        .delete(&format!(
            "/groups/{gid}/users?emails.0=ada.lovelace@acme.example"
        ))
        .await;
    assert_eq!(wrong.status, 404);

    let a = e
        .delete(&format!(
            "/group/{gid}/users?emails.0=ada.lovelace%40acme.example&emails.1=stranger%40elsewhere.example"
        ))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["status"], "SUCCESS");
    let users = e.walk(&format!("/groups/{gid}/users"), "users", 10).await;
    assert_eq!(users.len(), 2);
    assert!(
        e.walk(&format!("/groups/{gid}/invites"), "emails", 10)
            .await
            .is_empty()
    );

    let a = e
        .put(
            &format!("/group/{gid}/users"),
            json!({"emails": ["grace.hopper@acme.example"]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["userGroup"]["memberCount"], 1);
    let users = e.walk(&format!("/groups/{gid}/users"), "users", 10).await;
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["email"], "grace.hopper@acme.example");
}

#[tokio::test(flavor = "multi_thread")]
async fn email_array_forms_are_all_understood() {
    let e = default_emu().await;
    let g = e.group_by_name("Data Engineering").await;
    let gid = g["id"].as_str().unwrap().to_string();
    let forms = [
        "emails.0={a}&emails.1={b}",
        "emails%5B0%5D={a}&emails%5B1%5D={b}",
        "emails={a}&emails={b}",
        "emails={a},{b}",
    ];
    for form in forms {
        let put = e
            .put(
                &format!("/group/{gid}/users"),
                json!({"emails": ["alan.turing@acme.example", "hedy.lamarr@acme.example", "ken.thompson@acme.example"]}),
            )
            .await;
        assert_eq!(put.status, 200);
        let q = form
            .replace("{a}", "alan.turing%40acme.example")
            .replace("{b}", "hedy.lamarr%40acme.example");
        let a = e.delete(&format!("/group/{gid}/users?{q}")).await;
        assert_eq!(a.status, 200, "{form}: {}", a.body);
        let users = e.walk(&format!("/groups/{gid}/users"), "users", 10).await;
        assert_eq!(users.len(), 1, "{form}");
        assert_eq!(users[0]["email"], "ken.thompson@acme.example", "{form}");
    }
    let a = e.delete(&format!("/group/{gid}/users")).await;
    assert_eq!(a.status, 422);
    assert_eq!(a.body["errors"][0]["field"], "emails");
}

#[tokio::test(flavor = "multi_thread")]
async fn invites_create_and_delete_and_leave_groups() {
    let e = default_emu().await;
    let ro = e.role_id("Source Read-only").await;
    let a = e
        .post(
            "/invites",
            json!({"invites": [{"email": "new.hire@acme.example",
                "permissions": [{"roleId": ro, "labels": [{"key": "environment", "value": "dev"}]}]}]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["emails"], json!(["new.hire@acme.example"]));
    let st = e.state().await;
    let inv = st["invites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "new.hire@acme.example")
        .unwrap()
        .clone();
    assert_eq!(
        inv["permissions"][0]["resources"][0]["labels"][0]["value"],
        "dev"
    );

    // An invite that is also a group member disappears from the group when deleted.
    let g = e.group_by_name("Marketing Analysts").await;
    let gid = g["id"].as_str().unwrap();
    assert_eq!(g["inviteEmails"], json!(["new.analyst@acme.example"]));
    let a = e
        .delete("/invites?emails.0=new.analyst%40acme.example&emails.1=new.hire%40acme.example")
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.data()["status"], "SUCCESS");
    let left = e.walk("/invites", "invites", 200).await;
    assert!(!left.contains(&json!("new.analyst@acme.example")));
    assert!(!left.contains(&json!("new.hire@acme.example")));
    assert!(
        e.walk(&format!("/groups/{gid}/invites"), "emails", 10)
            .await
            .is_empty()
    );

    // Inviting someone who already is a user is refused.
    let a = e
        .post(
            "/invites",
            json!({"invites": [{"email": "ada.lovelace@acme.example"}]}),
        )
        .await;
    assert_eq!(a.status, 422);
    let a = e.delete("/invites?emails.0=nobody%40acme.example").await;
    assert_eq!(a.status, 404);
    assert_eq!(a.error_type(), "NotFound");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_users_removes_them_from_groups_and_is_audited() {
    let e = default_emu().await;
    let alan = e.user_by_email("alan.turing@acme.example").await;
    let dennis = e.user_by_email("dennis.ritchie@acme.example").await;
    let (a_id, d_id) = (alan["id"].as_str().unwrap(), dennis["id"].as_str().unwrap());
    assert_eq!(alan["groupIds"].as_array().unwrap().len(), 2);

    let r = e
        .delete(&format!("/users?userIds[0]={a_id}&userIds[1]={d_id}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["status"], "SUCCESS");
    assert_eq!(e.get(&format!("/users/{a_id}")).await.status, 404);
    let st = e.state().await;
    for g in st["groups"].as_array().unwrap() {
        let members = g["memberIds"].as_array().unwrap();
        assert!(!members.contains(&json!(a_id)) && !members.contains(&json!(d_id)));
    }
    let mobile = e.group_by_name("Mobile Team").await;
    let a = e
        .get(&format!("/groups/{}", mobile["id"].as_str().unwrap()))
        .await;
    assert_eq!(a.data()["userGroup"]["memberCount"], 0);

    let events = e.walk("/audit-events", "events", 50).await;
    assert!(events.len() >= 2);
    assert_eq!(events[0]["type"], "User Removed", "newest first");
    let filtered = e
        .walk(&format!("/audit-events?resourceId={a_id}"), "events", 50)
        .await;
    assert!(filtered.iter().all(|ev| ev["resourceId"] == a_id));
    // The seed's history may hold older events about Alan; his removal is the newest.
    assert_eq!(filtered[0]["type"], "User Removed");
    assert_eq!(filtered[0]["resourceType"], "user");
    let future = e
        .walk("/audit-events?startTime=2999-01-01T00:00:00Z", "events", 50)
        .await;
    assert!(future.is_empty());
    let bad = e
        .get("/audit-events?pagination.count=5&startTime=yesterday")
        .await;
    assert_eq!(bad.status, 422);

    // Deleting again: the ids are gone.
    let r = e.delete(&format!("/users?userIds.0={a_id}")).await;
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn group_lifecycle_and_group_permissions() {
    let e = default_emu().await;
    let a = e.post("/groups", json!({"name": "Auditors"})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let gid = a.data()["userGroup"]["id"].as_str().unwrap().to_string();
    assert_eq!(a.data()["userGroup"]["memberCount"], 0);
    assert_eq!(
        e.post("/groups", json!({"name": "Auditors"})).await.status,
        422
    );

    let tp = e.role_id("Tracking Plan Read-only").await;
    let ws = e.state().await["workspace"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body =
        json!({"permissions": [{"roleId": tp, "resources": [{"id": ws, "type": "WORKSPACE"}]}]});
    assert_eq!(
        e.post(&format!("/groups/{gid}/permissions"), body.clone())
            .await
            .status,
        200
    );
    assert_eq!(
        e.post(&format!("/groups/{gid}/permissions"), body)
            .await
            .status,
        200
    );
    let groups = e.walk("/groups", "userGroups", 200).await;
    let mine = groups.iter().find(|g| g["id"] == gid.as_str()).unwrap();
    assert_eq!(mine["permissions"].as_array().unwrap().len(), 1);
    assert_eq!(
        mine["permissions"][0]["resources"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(groups.iter().all(|g| g["memberCount"].is_number()));

    let r = e
        .call(
            Some(OWNER),
            Method::PATCH,
            &format!("/groups/{gid}"),
            Some(json!({"name": "Auditors 2"})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["userGroup"]["name"], "Auditors 2");
    assert_eq!(
        e.delete(&format!("/groups/{gid}")).await.data()["status"],
        "SUCCESS"
    );
    assert_eq!(e.get(&format!("/groups/{gid}")).await.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn validation_failures() {
    let e = default_emu().await;
    let id = e.user_by_email("dennis.ritchie@acme.example").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ws = e.state().await["workspace"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let owner = e.role_id("Workspace Owner").await;
    let admin = e.role_id("Source Admin").await;
    let engage = e.role_id("Engage Admin").await;
    let src = e.source_id("Website Prod").await;
    let path = format!("/users/{id}/permissions");
    let prod = json!([{"key": "environment", "value": "prod"}]);

    let cases = [
        (
            "unknown role",
            json!({"permissions": [{"roleId": "nope", "resources": [{"id": ws, "type": "WORKSPACE"}]}]}),
            "permissions.0.roleId",
        ),
        (
            "role/type mismatch",
            json!({"permissions": [{"roleId": engage, "resources": [{"id": src, "type": "SOURCE"}]}]}),
            "permissions.0.resources.0.type",
        ),
        (
            "owner on a source",
            json!({"permissions": [{"roleId": owner, "resources": [{"id": src, "type": "SOURCE"}]}]}),
            "permissions.0.resources.0.type",
        ),
        (
            "nonexistent source",
            json!({"permissions": [{"roleId": admin, "resources": [{"id": "doesNotExist", "type": "SOURCE"}]}]}),
            "permissions.0.resources.0.id",
        ),
        (
            "wrong workspace id",
            json!({"permissions": [{"roleId": admin, "resources": [{"id": "otherWorkspace", "type": "WORKSPACE"}]}]}),
            "permissions.0.resources.0.id",
        ),
        (
            "labels not allowed on role",
            json!({"permissions": [{"roleId": owner, "resources": [{"id": ws, "type": "WORKSPACE", "labels": prod}]}]}),
            "permissions.0.resources.0.labels",
        ),
        (
            "labels on a source",
            json!({"permissions": [{"roleId": admin, "resources": [{"id": src, "type": "SOURCE", "labels": prod}]}]}),
            "permissions.0.resources.0.labels",
        ),
        (
            "unknown label",
            json!({"permissions": [{"roleId": admin, "resources": [{"id": ws, "type": "WORKSPACE", "labels": [{"key": "environment", "value": "mars"}]}]}]}),
            "permissions.0.resources.0.labels.0",
        ),
        (
            "missing roleId",
            json!({"permissions": [{"resources": [{"id": ws, "type": "WORKSPACE"}]}]}),
            "permissions.0.roleId",
        ),
        ("missing permissions", json!({}), "permissions"),
        (
            "bad type",
            json!({"permissions": [{"roleId": admin, "resources": [{"id": ws, "type": "PLANET"}]}]}),
            "permissions.0.resources.0.type",
        ),
    ];
    for (name, body, field) in cases {
        let a = e.post(&path, body).await;
        assert_eq!(a.status, 422, "{name}: {}", a.body);
        assert_eq!(a.error_type(), "ValidationFailure", "{name}");
        assert_eq!(a.body["errors"][0]["field"], field, "{name}");
        assert_eq!(a.header("content-type"), Some("application/json"), "{name}");
    }
    // Nothing was changed by the refused requests.
    let user = e.get(&format!("/users/{id}")).await.data()["user"].clone();
    assert_eq!(perms_of(&user).len(), 1);

    // Malformed JSON is a 422 too (the document declares no 400 for these operations).
    let r = e
        .client
        .post(format!("{}{path}", e.url))
        .bearer_auth(OWNER)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    let a = e
        .post("/users/noSuchUser/permissions", json!({"permissions": []}))
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.error_type(), "NotFound");
    assert_eq!(e.get("/users/noSuchUser").await.status, 404);
    assert_eq!(
        e.get("/groups/noSuchGroup/users?pagination.count=5")
            .await
            .status,
        404
    );
    let f = e.get("/functions?pagination.count=5").await;
    assert_eq!(f.status, 422);
    assert_eq!(f.body["errors"][0]["field"], "resourceType");
}

#[tokio::test(flavor = "multi_thread")]
async fn spaces_need_the_alpha_accept_header() {
    let e = default_emu().await;
    let a = e.get("/spaces").await;
    assert_eq!(a.status, 415);
    let r = e
        .client
        .get(format!("{}/spaces", e.url))
        .bearer_auth(OWNER)
        .header("Accept", "application/vnd.segment.v1alpha+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.segment.v1alpha+json"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"]["spaces"].as_array().unwrap().len(), 2);
    // GA endpoints take every Accept a client might send, or none.
    for accept in [
        None,
        Some("application/json"),
        Some("*/*"),
        Some("application/vnd.segment.v1beta+json"),
    ] {
        let mut req = e.client.get(format!("{}/", e.url)).bearer_auth(OWNER);
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200, "{accept:?}");
        assert_eq!(
            r.headers()["content-type"],
            "application/vnd.segment.v1+json"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn control_hook_changes_permissions_behind_the_clients_back() {
    let e = default_emu().await;
    let id = e.user_by_email("ken.thompson@acme.example").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let wro = e.role_id("Warehouse Read-only").await;
    let ws = e.state().await["workspace"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = e
        .control(
            Method::PUT,
            &format!("/_emulator/users/{id}/permissions"),
            json!({"permissions": [{"roleId": wro, "resources": [{"id": ws, "type": "WORKSPACE"}]}]}),
        )
        .await;
    assert_eq!(
        out["data"]["permissions"][0]["roleName"],
        "Warehouse Read-only"
    );
    let user = e.get(&format!("/users/{id}")).await.data()["user"].clone();
    let perms = perms_of(&user);
    assert_eq!(perms.len(), 1);
    assert_eq!(perms[0]["roleName"], "Warehouse Read-only");
}
