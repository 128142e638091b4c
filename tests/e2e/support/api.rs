//! For the tests that speak HTTP to the emulator themselves (async): a running emulator and a
//! thin client that returns status, headers and the decoded JSON body.

use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use segment_access::emulator::{EmulatorConfig, RunningEmulator, start};
use serde_json::Value;

pub use super::{MEMBER, OWNER};

pub struct Emu {
    /// Held, not read: the emulator serves for as long as the `Emu` lives.
    _running: RunningEmulator,
    pub url: String,
    pub client: Client,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn error_type(&self) -> &str {
        self.body["errors"][0]["type"].as_str().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn emu(config: EmulatorConfig) -> Emu {
    let running = start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("emulator starts");
    let url = running.url();
    Emu {
        _running: running,
        url,
        client: {
            segment_access::segment::tls::install_provider();
            Client::builder().build().unwrap()
        },
    }
}

pub async fn default_emu() -> Emu {
    emu(EmulatorConfig::default()).await
}

impl Emu {
    pub async fn call(
        &self,
        token: Option<&str>,
        method: Method,
        path_and_query: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.url, path_and_query))
            .header("Accept", "application/vnd.segment.v1+json");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/vnd.segment.v1+json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("request reaches the emulator");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Some(OWNER), Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Some(OWNER), Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Some(OWNER), Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Some(OWNER), Method::DELETE, path, None).await
    }

    /// `GET /_emulator/state`
    pub async fn state(&self) -> Value {
        self.client
            .get(format!("{}/_emulator/state", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        self.client
            .request(method, format!("{}{}", self.url, path))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Every item of a paginated list, walking `next` cursors.
    pub async fn walk(&self, path: &str, key: &str, count: usize) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10_000 {
            let mut url = format!("{path}{sep}pagination.count={count}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&pagination.cursor={c}"));
            }
            let a = self.get(&url).await;
            assert_eq!(a.status, 200, "{url}: {}", a.body);
            let page = a.data()[key].as_array().unwrap().clone();
            assert!(page.len() <= count);
            items.extend(page);
            match a.data()["pagination"]["next"].as_str() {
                Some(n) => cursor = Some(n.to_string()),
                None => return items,
            }
        }
        panic!("pagination did not end");
    }

    /// Looks up a user in the control state by email.
    pub async fn user_by_email(&self, email: &str) -> Value {
        let st = self.state().await;
        st["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .cloned()
            .unwrap_or_else(|| panic!("no user {email}"))
    }

    pub async fn group_by_name(&self, name: &str) -> Value {
        let st = self.state().await;
        st["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no group {name}"))
    }

    pub async fn role_id(&self, name: &str) -> String {
        let st = self.state().await;
        st["roles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .and_then(|r| r["id"].as_str())
            .unwrap_or_else(|| panic!("no role {name}"))
            .to_string()
    }

    pub async fn source_id(&self, name: &str) -> String {
        let st = self.state().await;
        st["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .and_then(|r| r["id"].as_str())
            .unwrap_or_else(|| panic!("no source {name}"))
            .to_string()
    }
}
