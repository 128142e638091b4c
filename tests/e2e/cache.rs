//! The cache of a profile (`--cached`, `cached = true`): answers equal to a live read, after a
//! refresh that reads only what changed; a full read when the last one is too old; a note on
//! stderr for every cached answer; `--live` and writes read Segment itself.

use std::path::Path;

use serde_json::json;

use crate::support::*;

const ALAN: &str = "alan.turing@acme.example";

fn cached(
    emu: &segment_access::emulator::BlockingEmulator,
    cache: &Path,
    args: &[&str],
) -> (String, String) {
    let mut c = bin(&emu.url(), OWNER);
    c.env("SEGMENT_ACCESS_CACHE_DIR", cache)
        .env("SEGMENT_ACCESS_STATE_DIR", cache)
        .arg("--cached")
        .args(args);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    (out, err)
}

fn user_reads(emu: &segment_access::emulator::BlockingEmulator) -> u64 {
    stats(emu)["byRoute"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("GET /users/{"))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum()
}

fn reset(emu: &segment_access::emulator::BlockingEmulator) {
    post_json(&format!("{}/_emulator/stats/reset", emu.url()), json!({}));
}

#[test]
fn cached_answers_equal_live_ones_and_read_only_what_changed() {
    let emu = small();
    let tmp = temp_dir("cache");
    let grants = ["list", "grants", "--format", "ndjson"];
    let live = || stdout_of(bin(&emu.url(), OWNER).args(grants));

    // No cache yet: a full read, written to the cache directory, and said so.
    let (out, err) = cached(&emu, tmp.path(), &grants);
    assert_eq!(out, live());
    assert!(
        err.contains("note: answered from the cache of default, read in full in ")
            && err.contains("no cache yet"),
        "{err}"
    );
    assert!(tmp.path().join("default.db").is_file());
    // It says who has access to what: a new cache directory and the file are its owner's only.
    {
        use std::os::unix::fs::PermissionsExt;
        let nested = tmp.path().join("nested").join("cache");
        let mut c = bin(&emu.url(), OWNER);
        c.env("SEGMENT_ACCESS_CACHE_DIR", &nested)
            .args(["--cached", "list", "roles"]);
        assert_eq!(run(&mut c).0, Some(0));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&nested), 0o700, "cache directory");
        assert_eq!(mode(&nested.join("default.db")), 0o600, "cache file");
    }

    // A change through the tool, one behind its back: the refresh reads those two users only.
    stdout_of(writer(&emu, tmp.path()).args([
        "grant",
        "--to",
        ALAN,
        "--role",
        "Source Read-only",
        "--on",
        "source:Website Dev",
        "--yes",
    ]));
    let grace = user_by_email(&state(&emu), "grace.hopper@acme.example")["id"].clone();
    put_json(
        &format!(
            "{}/_emulator/users/{}/permissions",
            emu.url(),
            grace.as_str().unwrap()
        ),
        json!({"permissions": []}),
    );
    reset(&emu);
    let (out, err) = cached(&emu, tmp.path(), &grants);
    assert_eq!(user_reads(&emu), 2, "only the two changed users are read");
    assert_eq!(out, live());
    let note: Vec<&str> = err.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(note.len(), 1, "{err}");
    assert!(
        note[0].starts_with("note: answered from the cache of default, refreshed in ")
            && note[0].contains("(2 changes since its full read "),
        "{err}"
    );

    // Every list answers from it; --live reads Segment and says nothing of a cache.
    let (users, err) = cached(&emu, tmp.path(), &["list", "users", "--format", "ndjson"]);
    assert!(err.contains("answered from the cache"), "{err}");
    assert_eq!(
        users,
        stdout_of(bin(&emu.url(), OWNER).args(["list", "users", "--format", "ndjson"]))
    );
    let mut c = bin(&emu.url(), OWNER);
    c.env("SEGMENT_ACCESS_CACHE_DIR", tmp.path())
        .args(["--live", "list", "users"]);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, Some(0));
    assert!(!err.contains("cache"), "{err}");

    // Writes plan from a live read: Alan loses his roles behind the cache's back, and a
    // revoke of one of them is a no-op even with --cached.
    put_json(
        &format!(
            "{}/_emulator/users/{}/permissions",
            emu.url(),
            user_by_email(&state(&emu), ALAN)["id"].as_str().unwrap()
        ),
        json!({"permissions": []}),
    );
    let mut c = writer(&emu, tmp.path());
    c.env("SEGMENT_ACCESS_CACHE_DIR", tmp.path()).args([
        "--cached",
        "revoke",
        "--to",
        ALAN,
        "--role",
        "Source Admin",
        "--on",
        "source:Website Prod",
        "--dry-run",
    ]);
    let (_, out, err) = run(&mut c);
    assert!(
        err.contains("nothing to change") && !out.contains("- Source Admin"),
        "{out}{err}"
    );
}

#[test]
fn the_profile_setting_caches_and_an_old_full_read_is_read_again() {
    let emu = small();
    let tmp = temp_dir("cache-profile");
    let config =
        ConfigDir::with_config("[profiles.default]\ncached = true\ncache_max_age = \"2s\"\n");
    let run_args = |args: &[&str]| {
        let mut c = config.cmd();
        c.env("SEGMENT_API_URL", emu.url())
            .env("SEGMENT_TOKEN", OWNER)
            .env("SEGMENT_ACCESS_CACHE_DIR", tmp.path())
            .args(args);
        let (code, _, err) = run(&mut c);
        assert_eq!(code, Some(0), "{err}");
        err
    };
    // The setting is for questions that need everyone's permissions.
    let run_list = || run_args(&["list", "grants", "--role", "Workspace Owner"]);
    assert!(run_list().contains("no cache yet"));
    assert!(
        run_list().contains("refreshed"),
        "within the age: a refresh"
    );
    // A list, one user's grants or one group's: fewer requests live than a refresh costs, so
    // they read live; `--cached` sends them to the cache all the same.
    let before = stats(&emu)["totalRequests"].as_u64().unwrap();
    for narrow in [
        &["list", "groups"][..],
        &["list", "grants", "--user", "alan.turing@acme.example"],
    ] {
        let err = run_args(narrow);
        assert!(
            !err.contains("answered from the cache"),
            "{narrow:?}: {err}"
        );
    }
    let live = stats(&emu)["totalRequests"].as_u64().unwrap() - before;
    let before = stats(&emu)["totalRequests"].as_u64().unwrap();
    assert!(run_args(&["list", "grants"]).contains("answered from the cache"));
    let refresh = stats(&emu)["totalRequests"].as_u64().unwrap() - before;
    assert!(
        live < 2 * refresh,
        "two narrow live reads: {live}, one refresh: {refresh}"
    );
    assert!(run_args(&["--cached", "list", "groups"]).contains("answered from the cache"));
    std::thread::sleep(std::time::Duration::from_millis(3100));
    let err = run_list();
    assert!(
        err.contains("read in full") && err.contains("more than cache_max_age (2 s)"),
        "{err}"
    );
    // A bad age is a usage error naming the key.
    let bad = ConfigDir::with_config("[profiles.default]\ncache_max_age = \"soon\"\n");
    let mut c = bad.cmd();
    c.env("SEGMENT_API_URL", emu.url())
        .env("SEGMENT_TOKEN", OWNER)
        .args(["list", "groups"]);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cache_max_age"), "{err}");
}
