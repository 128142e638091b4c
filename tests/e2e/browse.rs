//! End to end: `browse` and the prompts of `grant`, driven in a real pseudo-terminal (tmux)
//! against a live emulator, with the emulator's state as the judge.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const ALAN: &str = "alan.turing@acme.example";

/// Browse -> people -> "alan.tur" -> Alan's grants on screen.
fn open_alan(s: &Screen) -> String {
    s.wait_for("Browse");
    s.keys(&["Enter"]);
    s.wait_for("Person");
    s.type_text("alan.tur");
    s.wait_for("> alan.turing@acme.example");
    s.keys(&["Enter"]);
    s.wait_for("Action")
}

#[test]
fn browse_finds_a_person_shows_group_grants_and_revokes_one_direct_grant() {
    let emu = small();
    let before = state(&emu);
    let Some(s) = Screen::start(&emu, "revoke", "browse") else {
        return;
    };
    let screen = open_alan(&s);
    assert!(
        screen.contains("alan.turing@acme.example (Alan Turing): access"),
        "{screen}"
    );
    // Direct grants and group-derived ones, each naming the group.
    assert!(screen.contains("group:Mobile Team"), "{screen}");
    assert!(screen.contains("group:Data Engineering"), "{screen}");
    assert!(screen.contains("Warehouse Admin"), "{screen}");
    assert!(screen.contains("direct"), "{screen}");

    // The first action is revoke.
    s.keys(&["Enter"]);
    s.wait_for("Revoke which");
    s.type_text("iOS App  (direct");
    s.wait_for("> alan.turing@acme.example  Source Admin on source:iOS App  (direct)");
    s.keys(&["Enter"]);
    let plan = s.wait_for("Apply 1 change(s)?");
    assert!(plan.contains("plan (- removed"), "{plan}");
    let actions = s.count("Action");
    s.type_text("y");
    let done = s.wait_for_more("Action", actions);
    assert!(done.contains("applied"), "{done}");

    let after = state(&emu);
    let ios = source_id(&before, "iOS App");
    let alan = user_by_email(&after, ALAN);
    let left = source_ids(alan, "Source Admin");
    assert_eq!(left.len(), 2, "exactly one binding left Alan: {alan}");
    assert!(!left.contains(&ios));
    for (u0, u1) in before["users"]
        .as_array()
        .unwrap()
        .iter()
        .zip(after["users"].as_array().unwrap())
    {
        if u0["email"] != ALAN {
            assert_eq!(u0, u1, "nobody else changed");
        }
    }
    assert_eq!(before["groups"], after["groups"], "groups untouched");
    // Journaled like `revoke`.
    let journal = std::fs::read_to_string(s.state_dir().join("journal.ndjson")).expect("journal");
    assert_eq!(journal.lines().count(), 1);
    assert!(journal.contains("\"revoke\""), "{journal}");

    // Esc backs out of the view, then out of browse.
    s.keys(&["Escape"]);
    s.wait_for_more("Browse", 1);
    s.keys(&["Escape"]);
    s.wait_for("EXITED 0");
}

/// On a narrow terminal the grant table fits: no line wider than the terminal, headers over
/// their columns, long cells cut with `…` rather than wrapped by the terminal.
#[test]
fn browse_tables_fit_a_narrow_terminal() {
    let emu = small();
    let Some(s) = Screen::start_sized(&emu, "narrow", "browse", 60) else {
        return;
    };
    let screen = open_alan(&s);
    let table: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("PRINCIPAL"))
        .take_while(|l| !l.contains("Action"))
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(table.len() > 5, "{screen}");
    for l in &table {
        assert!(
            l.chars().count() <= 60,
            "{l:?} is wider than 60 columns\n{screen}"
        );
        assert!(l.starts_with("  "), "{l:?}");
    }
    assert!(table[1].trim_start().starts_with("alan.turing"), "{screen}");
    assert!(table.iter().any(|l| l.contains('…')), "{screen}");
    s.keys(&["Escape"]);
    s.wait_for_more("Browse", 1);
    s.keys(&["Escape"]);
    s.wait_for("EXITED 0");
}

#[test]
fn esc_at_any_prompt_changes_nothing() {
    let emu = small();
    let before = state(&emu);
    let Some(s) = Screen::start(&emu, "esc", "browse") else {
        return;
    };
    open_alan(&s);
    s.keys(&["Enter"]);
    s.wait_for("Revoke which");
    s.type_text("iOS App  (direct");
    s.wait_for("> alan.turing@acme.example  Source Admin on source:iOS App  (direct)");
    s.keys(&["Enter"]);
    s.wait_for("Apply 1 change(s)?");
    let actions = s.count("Action");
    s.keys(&["Escape"]);
    s.wait_for("cancelled; nothing was changed");
    // Back on the same view; Esc in the picker comes back to it too.
    s.wait_for_more("Action", actions);
    s.keys(&["Enter"]);
    s.wait_for_more("Revoke which", 1);
    let actions = s.count("Action");
    s.keys(&["Escape"]);
    s.wait_for_more("Action", actions);
    // Esc on the view goes back to the lenses, Esc there leaves browse.
    s.keys(&["Escape"]);
    s.wait_for_more("Browse", 1);
    s.keys(&["Escape"]);
    s.wait_for("EXITED 0");
    assert_eq!(write_requests(&emu), 0, "no write request was sent");
    assert_eq!(before, state(&emu));
}

#[test]
fn grant_without_arguments_prompts_on_a_terminal() {
    let emu = small();
    let before = state(&emu);
    let Some(s) = Screen::start(&emu, "grant", "grant") else {
        return;
    };
    s.wait_for("Who");
    s.type_text("dennis");
    s.wait_for("> dennis.ritchie@acme.example");
    s.keys(&["Enter"]);
    s.wait_for("What");
    s.keys(&["Enter"]); // a role
    s.wait_for("Role");
    s.type_text("Warehouse Admin");
    s.wait_for("> Warehouse Admin");
    s.keys(&["Enter"]);
    // Only what Warehouse Admin can be bound to: the workspace and warehouses, no sources.
    let screen = s.wait_for("Resources for Warehouse Admin");
    assert!(screen.contains("warehouse:"), "{screen}");
    assert!(!screen.contains("source:"), "{screen}");
    s.keys(&["Down", "Space", "Enter"]);
    s.wait_for("Apply 1 change(s)?");
    s.type_text("y");
    s.wait_for("EXITED 0");

    let after = state(&emu);
    let dennis = user_by_email(&after, "dennis.ritchie@acme.example");
    let was = user_by_email(&before, "dennis.ritchie@acme.example");
    assert_eq!(
        source_ids(dennis, "Warehouse Admin").len(),
        1,
        "one warehouse granted: {dennis}"
    );
    assert_eq!(
        dennis["permissions"].as_array().unwrap().len(),
        was["permissions"].as_array().unwrap().len() + 1
    );
    assert_eq!(before["groups"], after["groups"]);
}

#[test]
fn browse_without_a_terminal_is_a_usage_error() {
    let emu = small();
    let tmp = temp_dir("browse-notty");
    let dir = tmp.path();
    writer(&emu, dir)
        .arg("browse")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("list grants"));
    assert_eq!(write_requests(&emu), 0);
}

#[test]
fn missing_arguments_without_a_terminal_are_usage_errors_not_prompts() {
    let emu = small();
    let tmp = temp_dir("grant-notty");
    let dir = tmp.path();
    for args in [
        vec!["grant", "--role", "Source Admin", "--yes"],
        vec!["grant", "--yes"],
        vec!["revoke", "--to", ALAN, "--yes"],
        vec!["revoke", "--dry-run"],
    ] {
        writer(&emu, dir)
            .args(&args)
            .timeout(Duration::from_secs(30))
            .assert()
            .code(2);
    }
    assert_eq!(write_requests(&emu), 0);
}

#[test]
fn resource_lens_shows_who_reaches_it_and_opens_the_group_to_remove_a_member() {
    let emu = small();
    let before = state(&emu);
    let Some(s) = Screen::start(&emu, "resource", "browse") else {
        return;
    };
    s.wait_for("Browse");
    s.keys(&["Down", "Down", "Down", "Enter"]);
    s.wait_for("Resource");
    s.type_text("iOS");
    s.wait_for("> source:iOS App");
    s.keys(&["Enter"]);
    let screen = s.wait_for("Action");
    assert!(
        screen.contains("source:iOS App: every principal and role that reaches it"),
        "{screen}"
    );
    // Bound to it directly, through a group, and from workspace level (Workspace Owner).
    assert!(screen.contains("group:Mobile Team"), "{screen}");
    assert!(screen.contains("dennis.ritchie@acme.example"), "{screen}");
    assert!(screen.contains("Workspace Owner"), "{screen}");

    // Open the group the grants come through, then revoke Dennis's membership.
    s.keys(&["Down", "Enter"]);
    s.wait_for("Open");
    s.type_text("group:Mobile");
    s.wait_for("> group:Mobile Team");
    s.keys(&["Enter"]);
    s.wait_for("group:Mobile Team: its grants");
    s.wait_for_more("Action", 1);
    s.keys(&["Enter"]);
    s.wait_for("Revoke which");
    s.type_text("dennis member");
    s.wait_for("> dennis.ritchie@acme.example  (member) on group:Mobile Team");
    s.keys(&["Enter"]);
    s.wait_for("- member of group:Mobile Team");
    s.wait_for("Apply 1 change(s)?");
    s.type_text("y");
    s.wait_for("remove-member");

    let after = state(&emu);
    let dennis = user_by_email(&after, "dennis.ritchie@acme.example")["id"].clone();
    let team = |st: &Value| {
        st["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == "Mobile Team")
            .unwrap()
            .clone()
    };
    let (t0, t1) = (team(&before), team(&after));
    assert!(t0["memberIds"].as_array().unwrap().contains(&dennis));
    assert!(!t1["memberIds"].as_array().unwrap().contains(&dennis));
    assert_eq!(
        t0["memberIds"].as_array().unwrap().len(),
        t1["memberIds"].as_array().unwrap().len() + 1
    );
    assert_eq!(t0["permissions"], t1["permissions"]);
    let perms = |st: &Value| -> Vec<Value> {
        st["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["permissions"].clone())
            .collect()
    };
    assert_eq!(
        perms(&before),
        perms(&after),
        "no user's own permissions changed"
    );
}

#[test]
fn esc_in_a_grant_prompt_cancels_with_nothing_changed() {
    let emu = small();
    let Some(s) = Screen::start(&emu, "grant-esc", "grant --to alan.turing@acme.example") else {
        return;
    };
    s.wait_for("What");
    s.keys(&["Enter"]);
    s.wait_for("Role");
    s.keys(&["Escape"]);
    let screen = s.wait_for("EXITED 1");
    assert!(
        screen.contains("cancelled; nothing was changed"),
        "{screen}"
    );
    assert_eq!(write_requests(&emu), 0);
}

#[test]
fn ctrl_c_leaves_browse_with_nothing_changed() {
    let emu = small();
    let Some(s) = Screen::start(&emu, "ctrl-c", "browse") else {
        return;
    };
    open_alan(&s);
    s.keys(&["Enter"]);
    s.wait_for("Revoke which");
    s.keys(&["C-c"]);
    // The prompt library re-raises SIGINT: the process ends as any interrupted command does.
    s.wait_for("EXITED 130");
    assert_eq!(write_requests(&emu), 0);
}

#[test]
fn browse_grants_a_role_to_a_group_on_the_resources_marked() {
    let emu = small();
    let before = state(&emu);
    let Some(s) = Screen::start(&emu, "group-grant", "browse") else {
        return;
    };
    s.wait_for("Browse");
    s.keys(&["Down", "Enter"]);
    s.wait_for("Group");
    s.type_text("Security");
    s.wait_for("> Security");
    s.keys(&["Enter"]);
    s.wait_for("group:Security: its grants");
    s.wait_for("Action");
    s.keys(&["Down", "Enter"]); // grant a role
    s.wait_for("Role");
    s.type_text("Source Admin");
    s.wait_for("> Source Admin");
    s.keys(&["Enter"]);
    s.wait_for("Resources for Source Admin");
    s.wait_for("source:iOS App");
    // The first row is the workspace; mark the second and third (two sources).
    s.keys(&["Down", "Space", "Down", "Space", "Enter"]);
    let plan = s.wait_for("Apply 2 change(s)?");
    assert!(plan.contains("+ Source Admin on source:"), "{plan}");
    s.type_text("y");
    s.wait_for("applied");

    let after = state(&emu);
    let security = |st: &Value| {
        st["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == "Security")
            .unwrap()
            .clone()
    };
    let (g0, g1) = (security(&before), security(&after));
    assert_eq!(source_ids(&g0, "Source Admin").len(), 0);
    assert_eq!(source_ids(&g1, "Source Admin").len(), 2);
    assert_eq!(g0["memberIds"], g1["memberIds"]);
    assert_eq!(before["users"], after["users"]);
}

/// `list grants ... | segment-access revoke --from-file -` typed at a terminal: stdin is the
/// pipe, yet the confirmation is asked on the terminal, and the answer is obeyed.
#[test]
fn a_piped_revoke_asks_on_the_terminal_and_obeys_the_answer() {
    for (answer, applied) in [("n", false), ("y", true)] {
        let emu = small();
        let pipeline = format!(
            "list grants --user {ALAN} --direct-only --format ndjson | grep 'iOS App' | '{BIN}' revoke --from-file -"
        );
        let Some(s) = Screen::start(&emu, "piped-confirm", &pipeline) else {
            return;
        };
        s.wait_for("Apply 1 change(s)?");
        s.type_text(answer);
        let screen = s.wait_for("EXITED");
        let alan = user_by_email(&state(&emu), ALAN).clone();
        let ios_held = source_ids(&alan, "Source Admin").len() == 3;
        if applied {
            assert!(screen.contains("EXITED 0"), "{screen}");
            assert!(!ios_held, "revoked: {alan}");
        } else {
            assert!(
                screen.contains("cancelled; nothing was changed"),
                "{screen}"
            );
            assert!(screen.contains("EXITED 1"), "{screen}");
            assert!(ios_held, "nothing changed: {alan}");
        }
    }
}
