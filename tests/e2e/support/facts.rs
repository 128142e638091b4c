//! The grant set, computed from the emulator's state independently of the tool, and the
//! printed records reduced to the same facts so the two can be compared.

use std::collections::BTreeSet;

use serde_json::Value;

/// One grant, reduced to the facts that identify it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fact {
    /// `user:<id>`, `invite:<email>` or `group:<id>`.
    pub principal: String,
    /// Role id, or empty for a membership.
    pub role: String,
    /// `<type>:<id>`.
    pub resource: String,
    /// `k=v` sorted, comma-joined.
    pub labels: String,
    /// Group id, or empty when direct.
    pub via: String,
}

fn labels_of(v: &Value) -> String {
    let mut ls: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            format!(
                "{}={}",
                l["key"].as_str().unwrap(),
                l["value"].as_str().unwrap()
            )
        })
        .collect();
    ls.sort();
    ls.dedup();
    ls.join(",")
}

/// Expands a list of Segment permissions into (role, resource, labels) triples.
fn bindings(perms: &Value) -> Vec<(String, String, String)> {
    let mut v = Vec::new();
    for p in perms.as_array().into_iter().flatten() {
        for r in p["resources"].as_array().into_iter().flatten() {
            v.push((
                p["roleId"].as_str().unwrap().to_string(),
                format!(
                    "{}:{}",
                    r["type"].as_str().unwrap().to_lowercase(),
                    r["id"].as_str().unwrap()
                ),
                labels_of(&r["labels"]),
            ));
        }
    }
    v
}

/// The grant set the emulator's state implies, computed here independently of the tool.
pub fn expected_facts(st: &Value) -> BTreeSet<Fact> {
    let mut out = BTreeSet::new();
    for u in st["users"].as_array().unwrap() {
        let p = format!("user:{}", u["id"].as_str().unwrap());
        for (role, resource, labels) in bindings(&u["permissions"]) {
            out.insert(Fact {
                principal: p.clone(),
                role,
                resource,
                labels,
                via: String::new(),
            });
        }
    }
    for g in st["groups"].as_array().unwrap() {
        let gid = g["id"].as_str().unwrap().to_string();
        let group_bindings = bindings(&g["permissions"]);
        for (role, resource, labels) in &group_bindings {
            out.insert(Fact {
                principal: format!("group:{gid}"),
                role: role.clone(),
                resource: resource.clone(),
                labels: labels.clone(),
                via: String::new(),
            });
        }
        let members = g["memberIds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| format!("user:{}", m.as_str().unwrap()))
            .chain(
                g["inviteEmails"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| format!("invite:{}", e.as_str().unwrap())),
            );
        for m in members {
            out.insert(Fact {
                principal: m.clone(),
                role: String::new(),
                resource: format!("group:{gid}"),
                labels: String::new(),
                via: String::new(),
            });
            for (role, resource, labels) in &group_bindings {
                out.insert(Fact {
                    principal: m.clone(),
                    role: role.clone(),
                    resource: resource.clone(),
                    labels: labels.clone(),
                    via: gid.clone(),
                });
            }
        }
    }
    out
}

/// Reduces one printed grant record to a fact.
pub fn fact_of(rec: &Value) -> Fact {
    let p = &rec["principal"];
    let principal = match p["type"].as_str().unwrap() {
        "user" => format!("user:{}", p["id"].as_str().unwrap()),
        "invite" => format!("invite:{}", p["email"].as_str().unwrap()),
        "group" => format!("group:{}", p["id"].as_str().unwrap()),
        other => panic!("unknown principal type {other}"),
    };
    Fact {
        principal,
        role: rec["role"]["id"].as_str().unwrap_or_default().to_string(),
        resource: format!(
            "{}:{}",
            rec["resource"]["type"].as_str().unwrap(),
            rec["resource"]["id"].as_str().unwrap()
        ),
        labels: labels_of(&rec["labels"]),
        via: rec["via"]["id"].as_str().unwrap_or_default().to_string(),
    }
}

pub fn parse_ndjson(s: &str) -> Vec<Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

/// A user from the emulator's state, by email.
pub fn user_by_email<'a>(st: &'a Value, email: &str) -> &'a Value {
    st["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("no user {email}"))
}

/// Ids of the resources a user's permissions of `role_name` are bound to.
pub fn source_ids(user: &Value, role_name: &str) -> Vec<String> {
    user["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["roleName"] == role_name)
        .flat_map(|p| p["resources"].as_array().unwrap().iter())
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// The id of the source named `name`.
pub fn source_id(st: &Value, name: &str) -> String {
    st["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// NDJSON grant records giving `users` Warehouse Read-only on the workspace.
pub fn grant_records(st: &Value, users: &[Value]) -> String {
    let role = st["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Warehouse Read-only")
        .unwrap();
    let ws = &st["workspace"];
    users
        .iter()
        .map(|u| {
            serde_json::json!({
                "principal": {"type": "user", "id": u["id"], "email": u["email"], "name": u["name"]},
                "role": {"id": role["id"], "name": role["name"]},
                "resource": {"type": "workspace", "id": ws["id"], "name": ws["name"]},
                "labels": [], "via": null
            })
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
