//! Mistakes get a clear message and the documented exit code: malformed principals are usage
//! errors, a name typed without its prefix says which prefix, `diff` of two workspaces is refused,
//! a full stdout is named, and the emulator never advertises a token it does not accept.

use segment_access::emulator::{EmulatorConfig, Seed};

use crate::support::*;

#[test]
fn malformed_principals_are_usage_errors() {
    let emu = small();
    for (to, says) in [
        ("group:", "needs a group name or id"),
        ("invite:", "is not invite:<email>"),
        ("invite:notanemail", "is not invite:<email>"),
        (
            "Data Engineering",
            "is a group, not a user: write group:Data Engineering",
        ),
        (
            "new.analyst@acme.example",
            "write invite:new.analyst@acme.example",
        ),
    ] {
        let (code, _, err) = run(bin(&emu.url(), OWNER).args([
            "grant",
            "--to",
            to,
            "--role",
            "Source Admin",
            "--on",
            "source:Website Dev",
            "--dry-run",
        ]));
        assert_eq!(code, Some(2), "{to}: {err}");
        assert!(err.contains(says), "{to}: {err}");
    }
    // A mistyped invite is answered with the nearest pending one.
    let (code, _, err) = run(bin(&emu.url(), OWNER).args([
        "grant",
        "--to",
        "invite:new.analyts@acme.example",
        "--group",
        "Data Engineering",
        "--dry-run",
    ]));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("did you mean new.analyst@acme.example?"),
        "{err}"
    );
}

#[test]
fn diff_of_two_workspaces_is_refused_unless_asked_for() {
    let dir = temp_dir("two-workspaces");
    let seed = dir.path().join("other.json");
    std::fs::write(
        &seed,
        r#"{"workspace": {"id": "otherWorkspace1", "name": "Other Co", "slug": "other-co"}}"#,
    )
    .unwrap();
    let acme = small();
    let other = start(EmulatorConfig {
        seed: Seed::File(seed),
        ..EmulatorConfig::default()
    });
    let a = dir.path().join("acme.db");
    let b = dir.path().join("other.db");
    for (emu, out) in [(&acme, &a), (&other, &b)] {
        let (code, _, err) =
            run(bin(&emu.url(), OWNER).args(["sync", "--out", out.to_str().unwrap()]));
        assert_eq!(code, Some(0), "{err}");
    }
    let (code, out, err) =
        run(bin(&acme.url(), OWNER).args(["diff", a.to_str().unwrap(), b.to_str().unwrap()]));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("acme-analytics") && err.contains("other-co"),
        "{err}"
    );
    assert!(err.contains("--allow-different-workspaces"), "{err}");
    assert_eq!(out, "", "no list of 'changes'");
    let (code, _, err) = run(bin(&acme.url(), OWNER).args([
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--allow-different-workspaces",
    ]));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("warning: comparing two different workspaces"),
        "{err}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_stdout_is_named_as_stdout() {
    let emu = small();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SEGMENT_API_URL", emu.url())
        .env("SEGMENT_TOKEN", OWNER)
        .args(["list", "users"])
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot write to standard output: No space left on device"),
        "{err}"
    );
}

#[test]
fn an_emulator_with_its_own_tokens_advertises_none_of_the_defaults() {
    let mut child = std::process::Command::new(BIN)
        .args([
            "emulator",
            "--addr",
            "127.0.0.1:0",
            "--token",
            "owner:mine-only-123",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut banner = String::new();
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(stdout).lines();
    while let Some(Ok(line)) = lines.next() {
        banner.push_str(&line);
        banner.push('\n');
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(banner.contains("Try: curl"), "{banner}");
    assert!(!banner.contains("emulator-owner-token"), "{banner}");
    assert!(
        !banner.contains("mine-only-123"),
        "tokens given are not printed: {banner}"
    );
}

#[test]
fn a_closed_stdout_is_quiet_and_exit_0_in_every_format() {
    let emu = small();
    for format in ["table", "json", "ndjson", "csv", "md"] {
        let mut child = std::process::Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SEGMENT_API_URL", emu.url())
            .env("SEGMENT_TOKEN", OWNER)
            .args(["list", "grants", "--format", format])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the first row is written.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{format}: {err}");
        assert_eq!(err, "", "{format}: quiet");
    }
}
