//! Shared helpers for end-to-end tests: a live emulator on loopback, the built binary pointed
//! at it, and an independent reading of the emulator's state through its control endpoint.
#![allow(dead_code)]

use std::collections::BTreeSet;

use assert_cmd::Command;
use segment_access::emulator::{self, BlockingEmulator, EmulatorConfig};
use serde_json::Value;

pub const OWNER: &str = emulator::DEFAULT_OWNER_TOKEN;
pub const MEMBER: &str = emulator::DEFAULT_MEMBER_TOKEN;

pub fn start(config: EmulatorConfig) -> BlockingEmulator {
    emulator::spawn_blocking(config).expect("emulator starts")
}

pub fn small() -> BlockingEmulator {
    start(EmulatorConfig::default())
}

/// The binary, pointed at `url` with `token`, isolated from the caller's environment.
pub fn bin(url: &str, token: &str) -> Command {
    let mut c = Command::cargo_bin("segment-access").expect("binary built");
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("SEGMENT_API_URL", url)
        .env("SEGMENT_TOKEN", token)
        .env("NO_COLOR", "1");
    c
}

fn http_json(method: reqwest::Method, url: &str, body: Option<Value>) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        segment_access::segment::tls::install_provider();
        let c = reqwest::Client::new();
        let mut req = c.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("control endpoint answers");
        assert!(
            resp.status().is_success(),
            "control endpoint: {}",
            resp.status()
        );
        resp.json::<Value>().await.expect("control endpoint JSON")
    })
}

/// The emulator's whole state, read through its control endpoint (not through our client).
pub fn state(emu: &BlockingEmulator) -> Value {
    http_json(
        reqwest::Method::GET,
        &format!("{}/_emulator/state", emu.url()),
        None,
    )
}

pub fn stats(emu: &BlockingEmulator) -> Value {
    http_json(
        reqwest::Method::GET,
        &format!("{}/_emulator/stats", emu.url()),
        None,
    )
}

pub fn stdout_of(c: &mut Command) -> String {
    let out = c.output().expect("runs");
    assert!(
        out.status.success(),
        "command failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

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

/// The binary for a write command: its journal in `state_dir`, nothing on a terminal.
pub fn writer(emu: &BlockingEmulator, state_dir: &std::path::Path) -> Command {
    let mut c = bin(&emu.url(), OWNER);
    c.env("SEGMENT_ACCESS_STATE_DIR", state_dir);
    c
}

/// A fresh directory under the system temp dir for one test's journal.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "sa-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
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

/// Requests that change something, from `/_emulator/stats`.
pub fn write_requests(emu: &BlockingEmulator) -> u64 {
    stats(emu)["byRoute"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.starts_with("GET "))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum()
}

pub fn post_json(url: &str, body: Value) -> Value {
    http_json(reqwest::Method::POST, url, Some(body))
}

/// Changes the emulator's knobs (latency, faults, limits) at run time.
pub fn configure(emu: &BlockingEmulator, body: Value) {
    http_json(
        reqwest::Method::PATCH,
        &format!("{}/_emulator/config", emu.url()),
        Some(body),
    );
}

pub fn put_json(url: &str, body: Value) -> Value {
    http_json(reqwest::Method::PUT, url, Some(body))
}

/// The id of the newest journal entry in `state_dir`.
pub fn last_entry_id(state_dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(state_dir.join("journal.ndjson")).expect("journal");
    let last: Value = serde_json::from_str(text.lines().last().expect("an entry")).expect("json");
    last["id"].as_str().expect("id").to_string()
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
