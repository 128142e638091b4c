//! What people read, pinned: the built binary's real output against the emulator's small seed,
//! compared with reviewed snapshots in `tests/e2e/snapshots/` (insta). The seed's ids come
//! from a fixed RNG seed, so they are the same on every run and stay in the snapshots.
//!
//! A change to any of these texts fails here until its snapshot is reviewed and accepted:
//! `INSTA_UPDATE=always cargo test --test e2e snapshots::`, then read the `.snap` diff.

use crate::support::*;

/// The text of one run: exit code, stdout and stderr, each labelled.
fn transcript(c: &mut assert_cmd::Command) -> String {
    let (code, out, err) = run(c);
    let code = code.expect("exited, not killed by a signal");
    format!("exit code: {code}\n--- stdout\n{out}--- stderr\n{err}")
}

/// A table, piped (not a terminal): whole values, no colour, nothing cut to a width.
fn list(what: &str) -> String {
    let emu = small();
    stdout_of(bin(&emu.url(), OWNER).args(["list", what]))
}

/// A change's plan (stderr) and result table (stdout), for one user, with `--dry-run`: the
/// emulator must not see a single write.
fn dry_run(args: &[&str]) -> String {
    let emu = small();
    let before = state(&emu);
    let tmp = temp_dir("snapshots-dry-run");
    let text = transcript(writer(&emu, tmp.path()).args(args).arg("--dry-run"));
    assert_eq!(write_requests(&emu), 0, "a dry run writes nothing");
    assert_eq!(state(&emu), before);
    text
}

/// A help text, from a clean environment (clap would show the values of the variables it
/// reads) and not on a terminal, so at clap's default width.
fn help(args: &[&str]) -> String {
    stdout_of(clean_bin().args(args).arg("--help"))
}

#[test]
fn list_grants() {
    insta::assert_snapshot!(list("grants"));
}

#[test]
fn list_users() {
    insta::assert_snapshot!(list("users"));
}

#[test]
fn list_groups() {
    insta::assert_snapshot!(list("groups"));
}

#[test]
fn list_roles() {
    insta::assert_snapshot!(list("roles"));
}

#[test]
fn list_resources() {
    insta::assert_snapshot!(list("resources"));
}

#[test]
fn revoke_dry_run() {
    insta::assert_snapshot!(dry_run(&[
        "revoke",
        "--to",
        "alan.turing@acme.example",
        "--role",
        "Source Admin",
        "--on",
        "source:ios-app",
    ]));
}

#[test]
fn grant_dry_run() {
    insta::assert_snapshot!(dry_run(&[
        "grant",
        "--to",
        "alan.turing@acme.example",
        "--role",
        "Source Admin",
        "--on",
        "source:website-dev",
    ]));
}

/// Held only through a group: the plan is empty, the error says why (once: a table would only
/// repeat it), and the exit code is 1.
#[test]
fn revoke_dry_run_of_a_grant_held_through_a_group() {
    insta::assert_snapshot!(dry_run(&[
        "revoke",
        "--to",
        "hedy.lamarr@acme.example",
        "--role",
        "Warehouse Admin",
    ]));
}

/// Held, but on other resources than the one named (the workspace, by default): a no-op
/// that says where the role is held.
#[test]
fn revoke_dry_run_of_a_role_held_on_other_resources() {
    insta::assert_snapshot!(dry_run(&[
        "revoke",
        "--to",
        "alan.turing@acme.example",
        "--role",
        "Source Admin",
    ]));
}

#[test]
fn help_top() {
    insta::assert_snapshot!(help(&[]));
}

#[test]
fn help_list_grants() {
    insta::assert_snapshot!(help(&["list", "grants"]));
}

#[test]
fn help_grant() {
    insta::assert_snapshot!(help(&["grant"]));
}

#[test]
fn help_revoke() {
    insta::assert_snapshot!(help(&["revoke"]));
}
