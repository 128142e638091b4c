//! The emulator's control endpoint (`/_emulator/...`), from synchronous tests: its state and
//! request counters read independently of the tool, and its knobs changed at run time.

use segment_access::emulator::BlockingEmulator;
use serde_json::Value;

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
    get_json(&format!("{}/_emulator/state", emu.url()))
}

/// The emulator's request counters (`/_emulator/stats`).
pub fn stats(emu: &BlockingEmulator) -> Value {
    get_json(&format!("{}/_emulator/stats", emu.url()))
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

/// Changes the emulator's knobs (latency, faults, limits) at run time.
pub fn configure(emu: &BlockingEmulator, body: Value) {
    http_json(
        reqwest::Method::PATCH,
        &format!("{}/_emulator/config", emu.url()),
        Some(body),
    );
}

pub fn get_json(url: &str) -> Value {
    http_json(reqwest::Method::GET, url, None)
}

pub fn post_json(url: &str, body: Value) -> Value {
    http_json(reqwest::Method::POST, url, Some(body))
}

pub fn put_json(url: &str, body: Value) -> Value {
    http_json(reqwest::Method::PUT, url, Some(body))
}
