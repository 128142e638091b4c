//! Tables for people: on a real terminal (tmux at 60, 80 and 200 columns) they fit its width,
//! never break a word, show every principal whole or cut with `…`, and keep headers over their
//! columns; piped, nothing is cut. A seed of long names (a 90-character email, 60-character
//! group and source names) makes every table too wide for the narrow terminals.

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Duration;

use segment_access::emulator::{BlockingEmulator, EmulatorConfig, Seed};
use serde_json::json;
use tempfile::TempDir;
use unicode_width::UnicodeWidthStr;

use crate::support::*;

/// 90 characters.
fn long_email() -> String {
    let local = "margaret.heafield.hamilton.apollo.guidance.computer.software.engineering";
    let email = format!("{local}.lead@acme.example");
    assert_eq!(email.len(), 90, "{email}");
    email
}

/// 60 characters.
const LONG_GROUP: &str = "Platform Reliability and Observability Engineering Guild Ops";
/// 60 characters.
const LONG_SOURCE: &str = "Customer Data Platform Production Website Tracking Pipelines";

/// A workspace of long names, as a seed file in `dir`.
fn long_seed(dir: &Path) -> PathBuf {
    assert_eq!(LONG_GROUP.len(), 60);
    assert_eq!(LONG_SOURCE.len(), 60);
    let email = long_email();
    let seed = json!({
        "workspace": {"name": "Wide Names Inc", "slug": "wide-names"},
        "labels": [{"key": "environment", "value": "prod"}],
        "sources": [
            {"name": LONG_SOURCE, "slug": "long-source", "type": "javascript",
             "labels": [{"key": "environment", "value": "prod"}]},
            {"name": "Web", "slug": "web", "type": "javascript"}
        ],
        "users": [
            {"name": "Margaret Hamilton", "email": email,
             "permissions": [
                {"role": "Source Admin", "resources": [{"type": "SOURCE", "name": LONG_SOURCE}]},
                {"role": "Workspace Owner"}
             ]},
            {"name": "Ann", "email": "ann@example.com",
             "permissions": [
                {"role": "Source Read-only", "resources": [{"type": "SOURCE", "name": "Web"}]}
             ]},
            {"name": "Bob Short", "email": "bob@example.com", "permissions": []}
        ],
        "groups": [
            {"name": LONG_GROUP, "members": [email, "ann@example.com", "invited@example.com"],
             "permissions": [
                {"role": "Source Admin", "resources": [{"type": "SOURCE", "name": LONG_SOURCE}]},
                {"role": "Source Read-only", "labels": [{"key": "environment", "value": "prod"}]}
             ]}
        ],
        "invites": [{"email": "invited@example.com"}]
    });
    let path = dir.join("long-names.json");
    std::fs::write(&path, serde_json::to_string_pretty(&seed).expect("json")).expect("seed");
    path
}

fn long_names(dir: &Path) -> BlockingEmulator {
    start(EmulatorConfig {
        seed: Seed::File(long_seed(dir)),
        ..EmulatorConfig::default()
    })
}

/// What `segment-access <args>` prints on a terminal `width` columns wide (tmux), stdout and
/// stderr together, each line as the terminal shows it (lines the terminal wrapped are joined
/// again, so a line too long shows as one). `None` when tmux is missing outside CI.
fn on_terminal(emu: &BlockingEmulator, width: u16, args: &[&str]) -> Option<String> {
    if !have_tool("tmux", "tmux") {
        return None;
    }
    let dir: TempDir = temp_dir("tables-tty");
    let script = dir.path().join("run.sh");
    let quoted: Vec<String> = args
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexport SEGMENT_API_URL='{url}' SEGMENT_TOKEN='{OWNER}' SEGMENT_ACCESS_STATE_DIR='{state}' HOME='{state}' NO_COLOR=1 TERM=xterm\n'{bin}' {args}\necho \"EXITED $?\"\n",
            url = emu.url(),
            state = dir.path().display(),
            bin = BIN,
            args = quoted.join(" "),
        ),
    )
    .expect("script");
    let config = dir.path().join("tmux.conf");
    std::fs::write(
        &config,
        "set-option -g remain-on-exit on\nset-option -g history-limit 10000\n",
    )
    .expect("tmux.conf");
    let socket = dir.path().join("tmux.sock");
    let tmux = || {
        let mut c = Process::new("tmux");
        c.arg("-S").arg(&socket).arg("-f").arg(&config);
        c
    };
    let status = tmux()
        .args(["new-session", "-d", "-x", &width.to_string(), "-y", "50"])
        .args(["-s", "t", "sh"])
        .arg(&script)
        .status()
        .expect("tmux runs");
    assert!(status.success(), "tmux session starts");
    let capture = || {
        let out = tmux()
            .args(["capture-pane", "-p", "-J", "-S", "-", "-t", "t"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let mut screen = String::new();
    let done = wait_until(Duration::from_secs(30), || {
        screen = capture();
        screen.contains("EXITED ")
    });
    let _ = tmux().args(["kill-server"]).status();
    assert!(done, "the command ends; screen:\n{screen}");
    let text: Vec<&str> = screen
        .lines()
        .map(str::trim_end)
        .take_while(|l| !l.starts_with("EXITED "))
        .collect();
    Some(text.join("\n"))
}

/// The checks every fitted table passes: no line wider than the terminal; every word whole
/// (a word of the piped table) or a prefix of one ended by `…`; every principal of `principals`
/// whole or cut with `…` at the start of its line; and each header starting where the cells
/// below it start.
fn assert_fits(screen: &str, width: usize, piped: &str, principals: &[String]) {
    let words: Vec<&str> = piped.split_whitespace().collect();
    for line in screen.lines() {
        assert!(
            line.width() <= width,
            "line of {} columns on a {width}-column terminal: {line:?}\n{screen}",
            line.width()
        );
        for w in line.split_whitespace() {
            let whole = words.contains(&w);
            let cut = w
                .strip_suffix('…')
                .is_some_and(|p| words.iter().any(|x| x.starts_with(p)));
            assert!(whole || cut, "{w:?} is a broken word in {line:?}\n{screen}");
        }
    }
    let rows: Vec<&str> = screen.lines().skip(1).collect();
    for p in principals {
        let shown = rows.iter().any(|l| {
            let first = l.split("  ").next().unwrap_or_default();
            first == p.as_str() || first.strip_suffix('…').is_some_and(|c| p.starts_with(c))
        });
        assert!(shown, "{p} is shown whole or cut with …\n{screen}");
    }
    let header = screen.lines().next().unwrap_or_default();
    let mut starts = cell_starts(header);
    // The first column may have an empty header (diff's +/- column).
    starts.push(0);
    for l in &rows {
        for s in cell_starts(l) {
            assert!(
                starts.contains(&s),
                "a cell at column {s} of {l:?} is under no header ({header:?})"
            );
        }
    }
}

/// The columns where the cells of a line start: after two or more spaces.
fn cell_starts(line: &str) -> Vec<usize> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut col = 0;
    for (i, c) in chars.iter().enumerate() {
        if *c != ' ' && (i == 0 || (i >= 2 && chars[i - 1] == ' ' && chars[i - 2] == ' ')) {
            out.push(col);
        }
        col += unicode_width::UnicodeWidthChar::width(*c).unwrap_or(0);
    }
    out
}

fn principals() -> Vec<String> {
    vec![
        long_email(),
        "ann@example.com".to_string(),
        "invite:invited@example.com".to_string(),
        format!("group:{LONG_GROUP}"),
    ]
}

#[test]
fn list_grants_fits_60_80_and_200_columns() {
    let dir = temp_dir("tables");
    let emu = long_names(dir.path());
    let piped = stdout_of(bin(&emu.url(), OWNER).args(["list", "grants"]));
    // Piped: whole values, one line per grant.
    assert!(piped.contains(&long_email()));
    assert!(piped.contains(&format!("group:{LONG_GROUP}")));
    assert!(piped.contains(&format!("source:{LONG_SOURCE}")));
    assert!(!piped.contains('…'));
    let rows = piped.lines().count();
    for width in [60, 80, 200] {
        let Some(screen) = on_terminal(&emu, width, &["list", "grants"]) else {
            return;
        };
        assert_eq!(
            screen.lines().count(),
            rows,
            "one line per grant:\n{screen}"
        );
        assert_fits(&screen, usize::from(width), &piped, &principals());
        assert!(screen.starts_with("PRINCIPAL "), "{screen}");
    }
    // At 200 columns the long email is whole, and the role names always are.
    let wide = on_terminal(&emu, 200, &["list", "grants"]).expect("tmux");
    assert!(wide.contains(&long_email()), "{wide}");
    // --wide, and -o wide, show everything even on a narrow terminal.
    for flags in [&["--wide"][..], &["-o", "wide"]] {
        let args: Vec<&str> = ["list", "grants"].iter().chain(flags).copied().collect();
        let screen = on_terminal(&emu, 60, &args).expect("tmux");
        assert!(screen.contains(&long_email()), "{screen}");
        assert!(screen.contains(LONG_SOURCE), "{screen}");
        assert!(!screen.contains('…'), "{screen}");
    }
}

#[test]
fn other_lists_fit_too() {
    let dir = temp_dir("tables");
    let emu = long_names(dir.path());
    for what in ["users", "groups", "resources", "roles", "members"] {
        let mut args = vec!["list", what];
        if what == "members" {
            args.push(LONG_GROUP);
        }
        let piped = stdout_of(bin(&emu.url(), OWNER).args(&args));
        for width in [60, 80] {
            let Some(screen) = on_terminal(&emu, width, &args) else {
                return;
            };
            assert_eq!(screen.lines().count(), piped.lines().count(), "{screen}");
            assert_fits(&screen, usize::from(width), &piped, &[]);
        }
    }
}

#[test]
fn no_headers_leaves_out_the_header_line() {
    let emu = small();
    let with = stdout_of(bin(&emu.url(), OWNER).args(["list", "users"]));
    let without = stdout_of(bin(&emu.url(), OWNER).args(["list", "users", "--no-headers"]));
    assert!(with.starts_with("ID "));
    assert_eq!(without.lines().count(), with.lines().count() - 1);
    assert!(with.ends_with(&without));
    let csv = stdout_of(bin(&emu.url(), OWNER).args([
        "list",
        "users",
        "--format",
        "csv",
        "--no-headers",
    ]));
    assert!(!csv.starts_with("id,"), "{csv}");
}

#[test]
fn csv_headers_are_lower_case_everywhere() {
    let emu = small();
    for what in [
        "users",
        "groups",
        "roles",
        "resources",
        "invites",
        "grants",
        "workspace",
    ] {
        let csv = stdout_of(bin(&emu.url(), OWNER).args(["list", what, "--format", "csv"]));
        let header = csv.lines().next().unwrap_or_default();
        assert_eq!(header, header.to_lowercase(), "list {what}: {header}");
        assert!(!header.contains(' '), "list {what}: {header}");
    }
}

#[test]
fn jq_with_a_format_that_is_not_json_is_a_usage_error() {
    let emu = small();
    for format in ["table", "wide", "csv", "md"] {
        let (code, out, err) = run(bin(&emu.url(), OWNER).args([
            "list",
            "users",
            "--format",
            format,
            "--jq",
            ".[].email",
        ]));
        assert_eq!(code, Some(2), "--format {format} --jq: {err}");
        assert!(out.is_empty());
        assert!(err.contains("--jq") && err.contains(format), "{err}");
    }
    // Alone, --jq implies JSON; with ndjson it runs per record.
    let emails = stdout_of(bin(&emu.url(), OWNER).args(["list", "users", "--jq", ".[].email"]));
    assert!(emails.lines().all(|l| l.contains('@')), "{emails}");
    let per_record = stdout_of(
        bin(&emu.url(), OWNER).args(["list", "users", "--format", "ndjson", "--jq", ".email"]),
    );
    assert_eq!(per_record, emails);
}

/// `report` on a terminal reads person by person: a line per person, then their roles,
/// indented, every line within the width; piped it stays one row per person.
#[test]
fn report_on_a_terminal_reads_person_by_person() {
    let dir = temp_dir("tables");
    let emu = long_names(dir.path());
    let db = dir.path().join("access.db");
    let db = db.to_str().expect("utf-8 path");
    stdout_of(bin(&emu.url(), OWNER).args(["sync", "--out", db]));
    let piped = stdout_of(bin(&emu.url(), OWNER).args(["report", db]));
    assert_eq!(
        piped.lines().count(),
        3 + 1 + 4,
        "a heading (two lines and a blank), a header and a row per person:\n{piped}"
    );
    assert!(piped.starts_with("Access report for "), "{piped}");
    assert!(piped.contains("own roles unknown"), "{piped}");
    for width in [60, 80, 200] {
        let Some(screen) = on_terminal(&emu, width, &["report", db]) else {
            return;
        };
        for l in screen.lines() {
            assert!(l.width() <= usize::from(width), "{l:?}\n{screen}");
        }
        assert!(screen.starts_with("Access report for "), "{screen}");
        let headings: Vec<&str> = screen
            .lines()
            .skip(3)
            .filter(|l| !l.starts_with(' '))
            .collect();
        assert_eq!(headings.len(), 4, "a line per person:\n{screen}");
        let email = long_email();
        let first = headings[0].split("  ").next().unwrap_or_default();
        assert!(
            first == "ann@example.com"
                || first == email
                || first
                    .strip_suffix('…')
                    .is_some_and(|c| email.starts_with(c)),
            "{screen}"
        );
        assert!(
            headings
                .iter()
                .any(|h| h.starts_with("invite:invited@example.com"))
        );
        // Each role on its own indented line; the invite's own roles are unknown, not none.
        assert!(
            screen.contains("\n  Source Admin  ") || screen.contains("\n  Source Admin…"),
            "{screen}"
        );
        assert!(screen.contains("  own roles unknown"), "{screen}");
        assert!(screen.lines().count() < 20, "{screen}");
    }
}

/// `diff` follows the same rules.
#[test]
fn diff_fits_the_terminal() {
    let dir = temp_dir("tables");
    let emu = long_names(dir.path());
    let db = dir.path().join("before.db");
    let db = db.to_str().expect("utf-8 path");
    stdout_of(bin(&emu.url(), OWNER).args(["sync", "--out", db]));
    let state_dir = temp_dir("tables-journal");
    stdout_of(writer(&emu, state_dir.path()).args([
        "grant",
        "--to",
        "bob@example.com",
        "--role",
        "Source Admin",
        "--on",
        "source:long-source",
        "--yes",
    ]));
    let (code, piped, _) = run(bin(&emu.url(), OWNER).args(["diff", db, "live"]));
    assert_eq!(code, Some(1), "they differ");
    assert!(piped.contains(LONG_SOURCE), "{piped}");
    for width in [60, 80] {
        let Some(screen) = on_terminal(&emu, width, &["diff", db, "live"]) else {
            return;
        };
        let table: String = screen
            .lines()
            .take(piped.lines().count())
            .collect::<Vec<_>>()
            .join("\n");
        assert_fits(&table, usize::from(width), &piped, &[]);
        assert!(table.contains("+  grant  bob@example.com  "), "{table}");
    }
}
