//! Commands run in-process with a scripted prompter and captured streams, against the emulator
//! on loopback: the write pipeline's confirm, decline, Esc and Ctrl-C, the same for every
//! command that changes access.

use clap::Parser;
use serde_json::Value;

use super::context::Context;
use super::error::{CliError, ErrorKind, ExitCode};
use super::prompt::{Scripted, ScriptedPrompter};
use super::terminal::{Captured, Streams, Terminal};
use super::{Cli, dispatch};
use crate::auth::profiles::Config;
use crate::auth::settings::{Flags, Settings};
use crate::emulator::{self, EmulatorConfig, RunningEmulator};

struct Run {
    result: Result<ExitCode, CliError>,
    out: Captured,
    err: Captured,
    asked: Vec<String>,
}

/// A terminal on stdin and stderr, stdout piped: what a person running a command sees.
const TERMINAL: Terminal = Terminal {
    stdin: true,
    stdout: false,
    stderr: true,
    width: None,
    err_width: None,
};

async fn run(
    emu: &RunningEmulator,
    state_dir: &std::path::Path,
    argv: &[&str],
    answers: Vec<Scripted>,
) -> Run {
    let cli = Cli::try_parse_from(std::iter::once("segment-access").chain(argv.iter().copied()))
        .expect("valid command line");
    let flags = Flags {
        api_url: Some(emu.url()),
        token_stdin: true,
        ..Flags::default()
    };
    let settings = Settings::with_config(flags, Config::default(), None).expect("settings");
    let (streams, out, err) = Streams::capture(&format!("{}\n", emulator::DEFAULT_OWNER_TOKEN));
    let prompter = ScriptedPrompter::new(answers);
    let asked = prompter.asked.clone();
    let mut ctx = Context::with(
        cli.global,
        settings,
        TERMINAL,
        streams,
        Box::new(prompter),
        false,
        Some(state_dir.to_path_buf()),
    )
    .expect("context");
    let result = dispatch(cli.command, &mut ctx).await;
    let asked = asked.lock().map(|a| a.clone()).unwrap_or_default();
    Run {
        result,
        out,
        err,
        asked,
    }
}

/// Users, groups and invites as the emulator holds them, read through its control endpoint.
async fn workspace_state(emu: &RunningEmulator) -> Value {
    crate::segment::tls::install_provider();
    let st: Value = reqwest::get(format!("{}/_emulator/state", emu.url()))
        .await
        .expect("control endpoint")
        .json()
        .await
        .expect("state JSON");
    serde_json::json!({"users": st["users"], "groups": st["groups"], "invites": st["invites"]})
}

fn journal_entries(dir: &std::path::Path) -> usize {
    crate::access::journal::Journal::at(dir)
        .read()
        .expect("journal reads")
        .entries
        .len()
}

/// A command that changes access, with whatever must run first (an applied grant, for undo to
/// undo).
struct Case {
    name: &'static str,
    setup: Vec<&'static [&'static str]>,
    argv: &'static [&'static str],
}

fn commands() -> Vec<Case> {
    const GRANT: &[&str] = &[
        "grant",
        "--to",
        "alan.turing@acme.example",
        "--role",
        "Source Admin",
        "--on",
        "source:Website Dev",
    ];
    vec![
        Case {
            name: "grant",
            setup: vec![],
            argv: GRANT,
        },
        Case {
            name: "revoke",
            setup: vec![],
            argv: &[
                "revoke",
                "--to",
                "alan.turing@acme.example",
                "--role",
                "Source Admin",
                "--on",
                "source:ios-app",
            ],
        },
        Case {
            name: "undo",
            setup: vec![GRANT],
            argv: &["undo"],
        },
        Case {
            name: "remove-user",
            setup: vec![],
            argv: &["remove-user", "hedy.lamarr@acme.example"],
        },
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn confirm_decline_esc_and_ctrl_c_end_the_same_way_for_every_command() {
    let answers = [
        (Scripted::Yes, None),
        (
            Scripted::No,
            Some((ErrorKind::Failure, "cancelled; nothing was changed")),
        ),
        (
            Scripted::Esc,
            Some((ErrorKind::Failure, "cancelled; nothing was changed")),
        ),
        (
            Scripted::CtrlC,
            Some((ErrorKind::Interrupted, "interrupted; nothing was changed")),
        ),
    ];
    for Case { name, setup, argv } in commands() {
        for (answer, refusal) in &answers {
            let emu = emulator::start(EmulatorConfig::default(), "127.0.0.1:0".parse().unwrap())
                .await
                .expect("emulator starts");
            let dir = tempfile::tempdir().expect("temp dir");
            for step in &setup {
                let mut with_yes = step.to_vec();
                with_yes.push("--yes");
                let r = run(&emu, dir.path(), &with_yes, vec![]).await;
                assert!(r.result.is_ok(), "{name}: set-up failed: {}", r.err.text());
            }
            let state_before = workspace_state(&emu).await;
            let journal_before = journal_entries(dir.path());
            let r = run(&emu, dir.path(), argv, vec![answer.clone()]).await;
            let case = format!("{name} answered {answer:?}");
            assert_eq!(r.asked.len(), 1, "{case}: one question, got {:?}", r.asked);
            assert!(
                r.err.text().contains("plan"),
                "{case}: the plan is shown first"
            );
            let state_after = workspace_state(&emu).await;
            match refusal {
                None => {
                    assert_eq!(r.result.as_ref().ok(), Some(&ExitCode::Ok), "{case}");
                    assert_ne!(state_after, state_before, "{case}: the change landed");
                    assert_eq!(journal_entries(dir.path()), journal_before + 1, "{case}");
                    assert!(r.out.text().contains("applied"), "{case}: {}", r.out.text());
                }
                Some((kind, message)) => {
                    let e = r.result.as_ref().expect_err(&case);
                    assert_eq!(e.kind, *kind, "{case}");
                    assert_eq!(e.message, *message, "{case}");
                    assert_eq!(state_after, state_before, "{case}: nothing changed");
                    assert_eq!(journal_entries(dir.path()), journal_before, "{case}");
                    assert_eq!(r.out.text(), "", "{case}: no report of changes");
                }
            }
            emu.shutdown().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn yes_skips_the_question_and_dry_run_asks_nothing() {
    let emu = emulator::start(EmulatorConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("emulator starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let argv = [
        "revoke",
        "--to",
        "alan.turing@acme.example",
        "--role",
        "Source Admin",
    ];
    let before = workspace_state(&emu).await;
    let dry = run(
        &emu,
        dir.path(),
        &[&argv[..], &["--on", "source:ios-app", "--dry-run"]].concat(),
        vec![],
    )
    .await;
    assert!(dry.asked.is_empty());
    assert_eq!(dry.result.ok(), Some(ExitCode::Ok));
    assert!(dry.out.text().contains("planned"), "{}", dry.out.text());
    assert_eq!(workspace_state(&emu).await, before);
    let yes = run(
        &emu,
        dir.path(),
        &[&argv[..], &["--on", "source:ios-app", "--yes"]].concat(),
        vec![],
    )
    .await;
    assert!(yes.asked.is_empty());
    assert_eq!(yes.result.ok(), Some(ExitCode::Ok));
    assert_ne!(workspace_state(&emu).await, before);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn grant_asks_on_a_terminal_for_what_the_command_line_left_out() {
    let emu = emulator::start(EmulatorConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("emulator starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let answers = vec![
        // Who, what (a role), which role, where, then the confirmation.
        Scripted::PickText("grace.hopper@acme.example".into()),
        Scripted::Pick(0),
        Scripted::PickText("Source Read-only".into()),
        Scripted::Picks(vec![1]),
        Scripted::Yes,
    ];
    let r = run(&emu, dir.path(), &["grant"], answers).await;
    assert_eq!(
        r.result.as_ref().ok(),
        Some(&ExitCode::Ok),
        "{}",
        r.err.text()
    );
    assert_eq!(r.asked.len(), 5, "{:?}", r.asked);
    assert!(
        r.asked[3].starts_with("Resources for Source Read-only"),
        "{:?}",
        r.asked
    );
    let st = workspace_state(&emu).await;
    let grace = st["users"]
        .as_array()
        .and_then(|us| {
            us.iter()
                .find(|u| u["email"] == "grace.hopper@acme.example")
        })
        .expect("grace");
    let holds = grace["permissions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["roleName"] == "Source Read-only");
    assert!(holds, "granted: {grace}");
    let out = r.out.text();
    assert!(
        out.contains("grace.hopper@acme.example") && out.contains("applied"),
        "{out}"
    );
    emu.shutdown().await;
}

/// `grant --role R` without --on, for a role that can also be bound to single resources: asked
/// on a terminal (the answer decides where), a usage error without one; a role bound only to
/// the workspace needs no --on.
#[tokio::test(flavor = "multi_thread")]
async fn grant_without_on_asks_where_for_roles_that_bind_to_single_resources() {
    let emu = emulator::start(EmulatorConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("emulator starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let argv = [
        "grant",
        "--to",
        "grace.hopper@acme.example",
        "--role",
        "Source Admin",
        "--dry-run",
    ];
    let asked = run(&emu, dir.path(), &argv, vec![Scripted::Picks(vec![1])]).await;
    assert_eq!(
        asked.result.as_ref().ok(),
        Some(&ExitCode::Ok),
        "{}",
        asked.err.text()
    );
    assert_eq!(asked.asked.len(), 1, "{:?}", asked.asked);
    assert!(asked.asked[0].starts_with("Resources for Source Admin"));
    let out = asked.out.text();
    assert!(
        out.contains("source:") && !out.contains("workspace"),
        "{out}"
    );

    // Backing out changes nothing.
    let esc = run(&emu, dir.path(), &argv, vec![Scripted::Esc]).await;
    let e = esc.result.expect_err("cancelled");
    assert_eq!(e.message, "cancelled; nothing was changed");

    // Workspace-only roles, and an explicit --on workspace, ask nothing.
    for extra in [
        &["--role", "Workspace Owner"][..],
        &["--role", "Source Admin", "--on", "workspace"],
    ] {
        let argv: Vec<&str> = ["grant", "--to", "grace.hopper@acme.example", "--dry-run"]
            .into_iter()
            .chain(extra.iter().copied())
            .collect();
        let r = run(&emu, dir.path(), &argv, vec![]).await;
        assert!(r.asked.is_empty(), "{argv:?}: {:?}", r.asked);
        assert_eq!(r.result.ok(), Some(ExitCode::Ok), "{argv:?}");
    }
    emu.shutdown().await;
}
