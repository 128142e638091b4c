//! The token's life in the real OS keyring: stored by one process, read back by another,
//! visible to the platform's own tool, gone after logout. Never keyring-core's mock store.
//!
//! Run inside a D-Bus session with an unlocked gnome-keyring (scripts/test.sh does) to test the
//! Secret Service; without a session bus, or with SEGMENT_ACCESS_NO_SECRET_SERVICE=1, the same
//! tests run against the Linux kernel keyutils store.

use std::path::Path;
use std::process::Command as StdCommand;

use segment_access::auth::{Backend, Keyring};
use segment_access::segment::Token;

use crate::support::{ConfigDir, have_tool, unique_profile};

fn keyring() -> Keyring {
    Keyring::open().expect("an OS keyring (run inside scripts/test.sh or on Linux with keyutils)")
}

/// The store these tests should land in, from how the session was set up.
fn expected_backend() -> Backend {
    let no_ss = std::env::var_os("SEGMENT_ACCESS_NO_SECRET_SERVICE").is_some_and(|v| !v.is_empty());
    if cfg!(target_os = "macos") {
        Backend::Keychain
    } else if cfg!(windows) {
        Backend::CredentialManager
    } else if !no_ss && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        Backend::SecretService
    } else {
        Backend::Keyutils
    }
}

/// What the platform's own tool finds for the profile, if it can be asked: not on macOS and
/// Windows, nor outside CI when the tool is missing (in CI a missing tool fails the test).
fn platform_lookup(backend: Backend, profile: &str) -> Option<Option<String>> {
    let out = match backend {
        Backend::SecretService if have_tool("secret-tool", "libsecret-tools") => {
            StdCommand::new("secret-tool")
                .args(["lookup", "service", "segment-access", "username", profile])
                .output()
                .ok()?
        }
        Backend::Keyutils if have_tool("keyctl", "keyutils") => StdCommand::new("sh")
            .args([
                "-c",
                &format!(
                    "id=$(keyctl search @u user 'keyring:{profile}@segment-access') && keyctl pipe \"$id\""
                ),
            ])
            .output()
            .ok()?,
        _ => return None,
    };
    Some(
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()),
    )
}

#[test]
fn the_session_uses_the_expected_store() {
    let k = keyring();
    eprintln!("keyring backends: {:?}", k.backends());
    assert_eq!(k.preferred(), expected_backend());
}

#[test]
fn a_stored_token_is_read_back_by_another_process() {
    let env = ConfigDir::new();
    let profile = unique_profile("readback");
    let secret = format!("tok-{profile}");
    let backend = keyring()
        .set(&profile, &Token::new(&secret))
        .expect("stores");
    assert_eq!(backend, expected_backend());

    let out = env
        .cmd()
        .args(["auth", "token", "--profile", &profile])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{secret}\n"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&secret));

    // SEGMENT_PROFILE selects the same entry.
    let out = env
        .cmd()
        .env("SEGMENT_PROFILE", &profile)
        .args(["auth", "token"])
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{secret}\n"));

    keyring().delete(&profile).expect("cleans up");
}

#[test]
fn the_platform_tool_sees_the_entry_and_logout_removes_it() {
    let env = ConfigDir::new();
    let profile = unique_profile("platform");
    let secret = format!("tok-{profile}");
    let backend = keyring()
        .set(&profile, &Token::new(&secret))
        .expect("stores");

    match platform_lookup(backend, &profile) {
        Some(found) => assert_eq!(found.as_deref(), Some(secret.as_str())),
        None => eprintln!("no platform tool for {backend:?}; skipped the outside look"),
    }

    let out = env
        .cmd()
        .args(["auth", "logout", "--profile", &profile])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Removed the token"), "{stderr}");
    assert!(!stderr.contains(&secret));

    assert!(keyring().get(&profile).expect("reads").is_none());
    if let Some(found) = platform_lookup(backend, &profile) {
        assert_eq!(found, None, "the platform tool still finds the token");
    }
    env.cmd()
        .args(["auth", "token", "--profile", &profile])
        .assert()
        .code(4)
        .stdout("");

    // A second logout has nothing to remove and says so.
    let out = env
        .cmd()
        .args(["auth", "logout", "--profile", &profile])
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("No stored token"));
}

#[test]
fn logout_all_removes_every_profile_of_the_config() {
    let env = ConfigDir::new();
    let a = unique_profile("all-a");
    let b = unique_profile("all-b");
    std::fs::write(
        env.path().join("config.toml"),
        format!("default_profile = \"{a}\"\n[profiles.{a}]\nregion = \"us\"\n[profiles.{b}]\nregion = \"eu\"\n"),
    )
    .expect("config");
    let k = keyring();
    k.set(&a, &Token::new("tok-a")).expect("stores a");
    k.set(&b, &Token::new("tok-b")).expect("stores b");

    env.cmd()
        .args(["auth", "logout", "--all"])
        .assert()
        .success();
    assert!(keyring().get(&a).expect("reads").is_none());
    assert!(keyring().get(&b).expect("reads").is_none());
    // Settings are not secrets: logout keeps them.
    assert!(env.config_text().contains(&b));
}

#[test]
fn lookup_order_is_stdin_then_env_then_keyring() {
    let env = ConfigDir::new();
    let profile = unique_profile("order");
    keyring()
        .set(&profile, &Token::new("from-keyring"))
        .expect("stores");

    env.cmd()
        .args(["auth", "token", "--profile", &profile])
        .assert()
        .success()
        .stdout("from-keyring\n");
    env.cmd()
        .env("SEGMENT_TOKEN", "from-env")
        .args(["auth", "token", "--profile", &profile])
        .assert()
        .success()
        .stdout("from-env\n");
    env.cmd()
        .env("SEGMENT_TOKEN", "from-env")
        .args(["--token-stdin", "auth", "token", "--profile", &profile])
        .write_stdin("from-stdin\n")
        .assert()
        .success()
        .stdout("from-stdin\n");

    keyring().delete(&profile).expect("cleans up");
}

#[test]
fn the_default_profile_of_the_config_is_used_without_a_flag() {
    let env = ConfigDir::new();
    let profile = unique_profile("dflt");
    std::fs::write(
        env.path().join("config.toml"),
        format!("default_profile = \"{profile}\"\n"),
    )
    .expect("config");
    keyring()
        .set(&profile, &Token::new("tok-default"))
        .expect("stores");
    env.cmd()
        .args(["auth", "token"])
        .assert()
        .success()
        .stdout("tok-default\n");
    keyring().delete(&profile).expect("cleans up");
}

#[test]
fn a_missing_token_is_an_auth_error_that_says_what_to_do() {
    let env = ConfigDir::new();
    let profile = unique_profile("missing");
    let out = env
        .cmd()
        .args(["auth", "token", "--profile", &profile])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("auth login --profile"), "{stderr}");
    assert!(stderr.contains("SEGMENT_TOKEN"), "{stderr}");

    env.cmd()
        .args(["list", "users", "--profile", &profile])
        .assert()
        .code(4);
}

#[test]
fn a_keyring_token_never_shows_in_verbose_output() {
    let env = ConfigDir::new();
    let profile = unique_profile("canary");
    let canary = format!("canary-7f3a9-DO-NOT-LEAK-{profile}");
    keyring()
        .set(&profile, &Token::new(&canary))
        .expect("stores");

    let runs: [&[&str]; 2] = [
        &[
            "-vv",
            "--timeout",
            "2",
            "--api-url",
            "http://127.0.0.1:9",
            "list",
            "users",
        ],
        &[
            "-vv",
            "--timeout",
            "2",
            "--api-url",
            "http://127.0.0.1:9",
            "auth",
            "status",
        ],
    ];
    for args in runs {
        let out = env
            .cmd()
            .args(["--profile", &profile])
            .args(args)
            .output()
            .expect("runs");
        assert!(
            !out.status.success(),
            "{args:?} should fail: nothing listens on port 9"
        );
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(&canary), "{args:?} leaked the token:\n{all}");
        assert!(
            !all.contains("DO-NOT-LEAK"),
            "{args:?} leaked part of the token"
        );
    }
    assert!(!env.config_text().contains("DO-NOT-LEAK"));
    keyring().delete(&profile).expect("cleans up");
}

#[test]
fn login_stores_nothing_when_the_token_cannot_be_checked() {
    let env = ConfigDir::new();
    let profile = unique_profile("unchecked");
    let canary = "canary-7f3a9-DO-NOT-LEAK";
    let out = env
        .cmd()
        .args([
            "--timeout",
            "2",
            "auth",
            "login",
            "--with-token",
            "--profile",
            &profile,
            "--api-url",
            "http://127.0.0.1:9",
        ])
        .write_stdin(format!("{canary}\n"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nothing was stored"), "{stderr}");
    assert!(!stderr.contains(canary) && !String::from_utf8_lossy(&out.stdout).contains(canary));
    assert!(keyring().get(&profile).expect("reads").is_none());
    assert!(!env.config_text().contains(canary));
    assert!(!Path::new(&env.path().join("config.toml")).exists());
}

#[test]
fn a_login_that_cannot_write_its_config_leaves_no_token_behind() {
    let emu = crate::support::small();
    let profile = unique_profile("no-config");
    // A config directory that reads (no config.toml yet) but takes no file, even for root.
    let out = assert_cmd::Command::new(crate::support::BIN)
        .env("SEGMENT_ACCESS_CONFIG_DIR", "/proc")
        .env_remove("SEGMENT_TOKEN")
        .env_remove("SEGMENT_PROFILE")
        .env_remove("SEGMENT_REGION")
        .args(["auth", "login", "--with-token", "--profile", &profile])
        .args(["--api-url", &emu.url()])
        .write_stdin(format!("{}\n", crate::support::OWNER))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the token was not stored"), "{stderr}");
    assert!(
        keyring().get(&profile).expect("reads").is_none(),
        "no usable token is left in the keyring"
    );
}
