//! Secrets stay secret against a hostile server: one that echoes the request's Authorization
//! header in every error it sends (as a misconfigured proxy in front of Segment can), and one that
//! redirects elsewhere.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use base64::Engine;

use crate::support::*;

/// A loopback HTTP server answering every request with what `answer` makes of its
/// Authorization header; its base URL.
fn server(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut auth = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line
                    .strip_prefix("authorization: ")
                    .or_else(|| line.strip_prefix("Authorization: "))
                {
                    auth = v.trim().to_string();
                }
            }
            let mut stream = stream;
            let _ = stream.write_all(answer(&auth).as_bytes());
        }
    });
    url
}

fn response(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn echo_json(status: &'static str) -> impl Fn(&str) -> String {
    move |auth| {
        let b64 = base64::engine::general_purpose::STANDARD.encode(auth);
        let body = serde_json::json!({"errors": [{
            "type": "Echo",
            "message": format!("request had {auth} (base64 {b64})"),
            "field": auth,
        }]});
        response(status, "application/json", &body.to_string())
    }
}

/// What a hostile server answers, given the request's Authorization header.
type Answer = fn(&str) -> String;

const CANARY: &str = "sgp_canary0123456789abcdefSECRET";

fn assert_clean(what: &str, stdout: &str, stderr: &str) {
    let forms = [
        CANARY.to_string(),
        base64::engine::general_purpose::STANDARD.encode(CANARY),
        base64::engine::general_purpose::STANDARD.encode(format!("Bearer {CANARY}")),
    ];
    for f in &forms {
        assert!(
            !stdout.contains(f.as_str()),
            "{what}: stdout has the token: {stdout}"
        );
        assert!(
            !stderr.contains(f.as_str()),
            "{what}: stderr has the token: {stderr}"
        );
    }
}

fn try_at_every_verbosity(url: &str, what: &str) -> Vec<String> {
    let mut errs = Vec::new();
    for v in [None, Some("-v"), Some("-vv")] {
        let mut c = bin(url, CANARY);
        c.args(["list", "users", "--timeout", "5"]);
        if let Some(v) = v {
            c.arg(v);
        }
        let (code, out, err) = run(&mut c);
        assert_ne!(code, Some(0), "{what}: an error is an error");
        assert_clean(&format!("{what} {v:?}"), &out, &err);
        errs.push(err);
    }
    errs
}

#[test]
fn an_echoed_token_is_redacted_in_every_error_at_every_verbosity() {
    let cases: [(&str, Answer); 5] = [
        ("400 Bad Request", |a| echo_json("400 Bad Request")(a)),
        ("403 Forbidden", |a| echo_json("403 Forbidden")(a)),
        ("404 Not Found", |a| echo_json("404 Not Found")(a)),
        ("422 Unprocessable Entity", |a| {
            echo_json("422 Unprocessable Entity")(a)
        }),
        ("401 Unauthorized (HTML)", |a| {
            response(
                "401 Unauthorized",
                "text/html",
                &format!("<html><body><h1>401</h1><pre>Authorization: {a}</pre></body></html>"),
            )
        }),
    ];
    for (what, answer) in cases {
        let url = server(answer);
        let errs = try_at_every_verbosity(&url, what);
        assert!(
            errs[0].contains("<redacted>"),
            "{what}: the message is kept, the token replaced: {}",
            errs[0]
        );
    }
}

#[test]
fn an_echoed_token_is_redacted_in_retry_logs() {
    let url = server(|a| echo_json("500 Internal Server Error")(a));
    let mut c = bin(&url, CANARY);
    c.args(["list", "users", "-vv"]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("retrying"), "the retries are logged: {err}");
    assert_clean("500 -vv", &out, &err);
}

#[test]
fn a_redirect_to_another_host_is_refused_not_followed() {
    let elsewhere = server(|_| {
        response(
            "200 OK",
            "application/json",
            r#"{"data":{"workspace":{"id":"evil","name":"Not yours","slug":"evil"}}}"#,
        )
    });
    // The redirecting server's handler is a plain function; it finds the target here.
    static TARGET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TARGET.set(elsewhere).unwrap();
    let url = server(|_| {
        format!(
            "HTTP/1.1 302 Found\r\nlocation: {}/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            TARGET.get().unwrap()
        )
    });
    let (code, out, err) = run(bin(&url, CANARY).args(["list", "workspace"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("refused a redirect"), "{err}");
    assert!(!out.contains("Not yours"), "{out}");
    assert_clean("redirect", &out, &err);
}
