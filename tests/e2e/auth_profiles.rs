//! Profiles and the API URL they choose, `auth login` without a terminal, and the canary: a
//! recognisable token must never show in output, errors or the config file.
//! None of these store a token, so they need no keyring session.

use serde_json::Value;

use crate::support::ConfigDir;

const CANARY: &str = "canary-7f3a9-DO-NOT-LEAK";

/// The active profile's row of `auth status --format json`; SEGMENT_TOKEN points at a port
/// nothing listens on, so no keyring is asked and the check fails fast.
fn active_status(env: &ConfigDir, args: &[&str]) -> Value {
    let out = env
        .cmd()
        .env("SEGMENT_TOKEN", CANARY)
        .args(["--timeout", "2", "--format", "json"])
        .args(args)
        .args(["auth", "status"])
        .output()
        .expect("runs");
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "status printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    rows.as_array()
        .and_then(|r| r.iter().find(|row| row["active"] == true).cloned())
        .expect("an active row")
}

const EU: &str = "https://eu1.api.segmentapis.com";
const US: &str = "https://api.segmentapis.com";

#[test]
fn api_url_follows_flag_then_profile_url_then_region() {
    let env = ConfigDir::with_config(
        "default_profile = \"eu\"\n\
         [profiles.eu]\nregion = \"eu\"\n\
         [profiles.proxy]\nregion = \"eu\"\napi_url = \"http://127.0.0.1:9\"\n\
         [profiles.plain]\n",
    );
    // The default profile's region.
    assert_eq!(active_status(&env, &[])["api_url"], EU);
    assert_eq!(active_status(&env, &[])["profile"], "eu");
    // An explicit --region wins over the profile's region, even when it is the default value.
    assert_eq!(active_status(&env, &["--region", "us"])["api_url"], US);
    // A profile's own URL wins over its region and over --region.
    assert_eq!(
        active_status(&env, &["--profile", "proxy", "--region", "us"])["api_url"],
        "http://127.0.0.1:9"
    );
    // --api-url wins over everything.
    assert_eq!(
        active_status(
            &env,
            &["--profile", "proxy", "--api-url", "http://127.0.0.1:10"]
        )["api_url"],
        "http://127.0.0.1:10"
    );
    // A profile without settings, and no profile at all, mean the US.
    assert_eq!(active_status(&env, &["--profile", "plain"])["api_url"], US);
    assert_eq!(
        active_status(&env, &["--profile", "nowhere"])["api_url"],
        US
    );
}

#[test]
fn status_reports_the_env_token_and_an_unreachable_server_without_the_token() {
    let env = ConfigDir::new();
    let out = env
        .cmd()
        .env("SEGMENT_TOKEN", CANARY)
        .args([
            "-vv",
            "--timeout",
            "2",
            "--api-url",
            "http://127.0.0.1:9",
            "auth",
            "status",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "unreachable is a failure, not an auth problem"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("SEGMENT_TOKEN"), "{stdout}");
    assert!(stdout.contains("unreachable"), "{stdout}");
    assert!(
        !stdout.contains(CANARY) && !stderr.contains(CANARY),
        "{stdout}{stderr}"
    );
}

#[test]
fn the_canary_token_never_shows_anywhere() {
    let env = ConfigDir::with_config("[profiles.default]\nregion = \"eu\"\n");
    let runs: Vec<(Vec<&str>, Option<&str>)> = vec![
        // Every URL is loopback or refused before sending: the canary never leaves the machine.
        (
            vec!["--api-url", "http://127.0.0.1:9", "auth", "status"],
            None,
        ),
        (
            vec!["-vv", "--api-url", "http://127.0.0.1:9", "list", "users"],
            None,
        ),
        (
            vec!["-vv", "--api-url", "http://example.com", "list", "users"],
            None,
        ),
        (vec!["-vv", "--api-url", "not a url", "list", "users"], None),
        (
            vec!["-vv", "--api-url", "ftp://127.0.0.1/", "auth", "status"],
            None,
        ),
        (
            vec![
                "--token-stdin",
                "-vv",
                "--api-url",
                "http://127.0.0.1:9",
                "list",
                "users",
            ],
            Some("stdin"),
        ),
        (
            vec![
                "auth",
                "login",
                "--with-token",
                "--api-url",
                "http://127.0.0.1:9",
            ],
            Some("stdin"),
        ),
        (
            vec![
                "auth",
                "login",
                "--with-token",
                "--api-url",
                "http://example.com",
            ],
            Some("stdin"),
        ),
    ];
    for (args, via) in runs {
        let mut cmd = env.cmd();
        cmd.args(["--timeout", "2"]).args(&args);
        match via {
            Some(_) => {
                cmd.write_stdin(format!("{CANARY}\n"));
            }
            None => {
                cmd.env("SEGMENT_TOKEN", CANARY);
            }
        }
        let out = cmd.output().expect("runs");
        assert!(!out.status.success(), "{args:?} should fail");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !all.contains("DO-NOT-LEAK"),
            "{args:?} leaked the token:\n{all}"
        );
    }
    let config = env.config_text();
    assert!(
        config.contains("region"),
        "the config is still there: {config}"
    );
    assert!(!config.contains("DO-NOT-LEAK"));
    for entry in std::fs::read_dir(env.path()).expect("dir") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).unwrap_or_default();
        assert!(!text.contains("DO-NOT-LEAK"));
    }
}

#[test]
fn login_without_a_terminal_or_with_token_is_a_usage_error() {
    let env = ConfigDir::new();
    let started = std::time::Instant::now();
    let out = env
        .cmd()
        .args(["auth", "login", "--profile", "ci"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "it waited for input"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--with-token"));
    assert!(env.config_text().is_empty(), "nothing is written");
}

#[test]
fn login_rejects_bad_input_before_reading_a_token() {
    let env = ConfigDir::new();
    // An empty pipe.
    env.cmd()
        .args(["auth", "login", "--with-token"])
        .write_stdin("\n")
        .assert()
        .code(2);
    // Plain http to a remote host would send the token in the clear.
    env.cmd()
        .args([
            "auth",
            "login",
            "--with-token",
            "--api-url",
            "http://example.com",
        ])
        .write_stdin(format!("{CANARY}\n"))
        .assert()
        .code(2);
    // Profile names become keyring accounts and TOML keys.
    env.cmd()
        .args(["auth", "login", "--with-token", "--profile", "a b"])
        .write_stdin(format!("{CANARY}\n"))
        .assert()
        .code(2);
    assert!(env.config_text().is_empty());
}

#[test]
fn a_broken_config_file_is_reported_with_its_path() {
    let env = ConfigDir::with_config("profiles = 3\n");
    let out = env
        .cmd()
        .env("SEGMENT_TOKEN", CANARY)
        .args(["auth", "status"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("config.toml"), "{stderr}");
    assert!(!stderr.contains(CANARY));
}

#[test]
fn auth_refuses_demo_mode() {
    ConfigDir::new()
        .cmd()
        .args(["--demo", "auth", "status"])
        .assert()
        .code(2);
}

#[test]
fn unknown_config_keys_are_warned_about_with_the_nearest_key() {
    let env = ConfigDir::with_config("[profiles.default]\nregoin = \"eu\"\n");
    let out = env
        .cmd()
        .env("SEGMENT_TOKEN", CANARY)
        .args(["--timeout", "2", "auth", "status"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("profile \"default\" has an unknown key \"regoin\", which is ignored; did you mean \"region\"?"),
        "{err}"
    );
}

#[test]
fn a_mistyped_profile_is_an_error_even_with_a_token_in_the_environment() {
    let emu = crate::support::small();
    let env = ConfigDir::with_config(&format!(
        "default_profile = \"prod\"\n\
         [profiles.prod]\napi_url = \"{url}\"\n\
         [profiles.eu]\nregion = \"eu\"\n",
        url = emu.url()
    ));
    let out = env
        .cmd()
        .env("SEGMENT_TOKEN", crate::support::OWNER)
        .args(["--profile", "prdo", "list", "roles"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.contains("no profile \"prdo\" in the config (profiles: eu, prod); did you mean prod?"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        crate::support::stats(&emu)["totalRequests"],
        0,
        "nothing was sent with a mistyped profile"
    );
    // The same through SEGMENT_PROFILE; and the right name works.
    let out = env
        .cmd()
        .env("SEGMENT_TOKEN", crate::support::OWNER)
        .env("SEGMENT_PROFILE", "prdo")
        .args(["list", "roles"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let out = env
        .cmd()
        .env("SEGMENT_TOKEN", crate::support::OWNER)
        .args(["--profile", "prod", "list", "roles"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Workspace Owner"));
}
