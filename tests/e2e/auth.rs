//! End to end against the project's emulator: `auth login` verifies and stores the token, and a
//! separate process of the binary reads it back from the OS keyring and lists users.
//! Run inside a keyring session (scripts/test.sh).

use segment_access::auth::Keyring;
use segment_access::emulator;

use crate::support::{ConfigDir, small, unique_profile};

#[test]
fn login_then_another_process_lists_users_with_the_stored_token() {
    let emu = small();
    let env = ConfigDir::new();
    let profile = unique_profile("e2e-login");

    let out = env
        .cmd()
        .args([
            "auth",
            "login",
            "--with-token",
            "--profile",
            &profile,
            "--api-url",
            &emu.url(),
        ])
        .write_stdin(format!("{}\n", emulator::DEFAULT_OWNER_TOKEN))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("Logged in to workspace"), "{stderr}");
    assert!(
        !stderr.contains("Workspace Member"),
        "an owner token got the member warning"
    );
    assert!(!stderr.contains(emulator::DEFAULT_OWNER_TOKEN));

    // The profile remembered the URL, so no --api-url is needed from here on.
    let config = std::fs::read_to_string(env.path().join("config.toml")).expect("config written");
    assert!(config.contains(&emu.url()), "{config}");
    assert!(!config.contains(emulator::DEFAULT_OWNER_TOKEN));

    let out = env
        .cmd()
        .args(["--profile", &profile, "--format", "json", "list", "users"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let users: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(users.as_array().is_some_and(|u| !u.is_empty()), "{users}");

    let out = env
        .cmd()
        .args(["--profile", &profile, "--format", "json", "auth", "status"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let row = rows
        .as_array()
        .and_then(|r| r.iter().find(|r| r["profile"] == profile.as_str()))
        .expect("row");
    assert_eq!(row["token"], "valid");
    assert_eq!(row["access"], "owner");
    assert!(
        row["token_source"]
            .as_str()
            .is_some_and(|s| s.starts_with("keyring"))
    );

    env.cmd()
        .args(["auth", "logout", "--profile", &profile])
        .assert()
        .success();
    assert!(
        Keyring::open()
            .expect("keyring")
            .get(&profile)
            .expect("reads")
            .is_none()
    );
    env.cmd()
        .args(["--profile", &profile, "list", "users"])
        .assert()
        .code(4);
}

#[test]
fn a_member_token_is_stored_with_a_warning() {
    let emu = small();
    let env = ConfigDir::new();
    let profile = unique_profile("e2e-member");
    let out = env
        .cmd()
        .args([
            "auth",
            "login",
            "--with-token",
            "--profile",
            &profile,
            "--api-url",
            &emu.url(),
        ])
        .write_stdin(format!("{}\n", emulator::DEFAULT_MEMBER_TOKEN))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("Workspace Member"), "{stderr}");
    assert!(!stderr.contains(emulator::DEFAULT_MEMBER_TOKEN));
    let _ = Keyring::open().expect("keyring").delete(&profile);
}

#[test]
fn a_rejected_token_is_not_stored() {
    let emu = small();
    let env = ConfigDir::new();
    let profile = unique_profile("e2e-rejected");
    let canary = "canary-7f3a9-DO-NOT-LEAK";
    let out = env
        .cmd()
        .args([
            "-vv",
            "auth",
            "login",
            "--with-token",
            "--profile",
            &profile,
            "--api-url",
            &emu.url(),
        ])
        .write_stdin(format!("{canary}\n"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(4));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("nothing was stored"), "{all}");
    assert!(!all.contains(canary), "{all}");
    assert!(
        Keyring::open()
            .expect("keyring")
            .get(&profile)
            .expect("reads")
            .is_none()
    );
    assert!(!env.path().join("config.toml").exists());
}

#[test]
fn a_profiles_format_is_the_default_and_flags_override_it() {
    let emu = small();
    let env = ConfigDir::new();
    std::fs::write(
        env.path().join("config.toml"),
        format!(
            "default_profile = \"fmt\"\n\n[profiles.fmt]\napi_url = \"{}\"\nformat = \"ndjson\"\n",
            emu.url()
        ),
    )
    .expect("config written");
    let run = |args: &[&str]| {
        let out = env
            .cmd()
            .env("SEGMENT_TOKEN", emulator::DEFAULT_OWNER_TOKEN)
            .args(args)
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let nd = run(&["list", "roles"]);
    assert!(nd.lines().count() > 5);
    for line in nd.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("the profile's ndjson");
        assert!(v["id"].is_string());
    }
    let table = run(&["list", "roles", "--format", "table"]);
    assert!(table.starts_with("ID"), "{table}");
    let json = run(&["list", "roles", "--json"]);
    assert!(serde_json::from_str::<Vec<serde_json::Value>>(&json).is_ok());

    std::fs::write(
        env.path().join("config.toml"),
        "default_profile = \"fmt\"\n\n[profiles.fmt]\nformat = \"yaml\"\n",
    )
    .expect("config written");
    let out = env
        .cmd()
        .env("SEGMENT_TOKEN", emulator::DEFAULT_OWNER_TOKEN)
        .args(["--demo", "list", "roles"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("format = \"yaml\""));
}

/// `auth login` of `profile` against `emu` with the owner token, in `env`.
fn login(env: &ConfigDir, emu: &segment_access::emulator::BlockingEmulator, profile: &str) {
    let out = env
        .cmd()
        .args(["auth", "login", "--with-token", "--profile", profile])
        .args(["--api-url", &emu.url()])
        .write_stdin(format!("{}\n", emulator::DEFAULT_OWNER_TOKEN))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn switch_and_forget_profiles_across_processes() {
    let emu = small();
    let env = ConfigDir::new();
    let us = unique_profile("sw-us");
    let eu = unique_profile("sw-eu");
    login(&env, &emu, &us);
    login(&env, &emu, &eu);
    // The first login made `us` the default; switching needs no token.
    let out = env.cmd().args(["auth", "switch", &eu]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("is now the default profile"), "{err}");
    assert!(
        env.config_text()
            .contains(&format!("default_profile = \"{eu}\""))
    );
    // Another process uses it without --profile.
    env.cmd().args(["list", "workspace"]).assert().success();
    // A mistyped profile is named with the nearest one.
    let typo = format!("{}x", &eu);
    let out = env.cmd().args(["auth", "switch", &typo]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("did you mean {eu:?}?")), "{err}");

    // Forgetting the default profile removes token and settings, and leaves no default.
    let out = env
        .cmd()
        .args(["auth", "logout", "--profile", &eu, "--forget"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("auth switch {us}")), "{err}");
    let config = env.config_text();
    assert!(!config.contains(&eu), "{config}");
    assert!(!config.contains("default_profile"), "{config}");
    assert!(Keyring::open().unwrap().get(&eu).unwrap().is_none());
    // The other profile is untouched.
    env.cmd()
        .args(["--profile", &us, "list", "workspace"])
        .assert()
        .success();
    env.cmd()
        .args(["auth", "logout", "--profile", &us, "--forget"])
        .assert()
        .success();
}

#[test]
fn status_advises_about_the_source_that_wins() {
    let emu = small();
    let env = ConfigDir::new();
    let profile = unique_profile("advice");
    login(&env, &emu, &profile);
    let out = env
        .cmd()
        .env("SEGMENT_TOKEN", "not-the-right-token")
        .args(["--profile", &profile, "auth", "status"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("SEGMENT_TOKEN is set, wins over the keyring"),
        "{err}"
    );
    assert!(
        err.contains("works and is used once the variable is unset"),
        "{err}"
    );
    assert!(!err.contains("run `segment-access auth login"), "{err}");
    env.cmd()
        .args(["auth", "logout", "--profile", &profile, "--forget"])
        .assert()
        .success();
}
