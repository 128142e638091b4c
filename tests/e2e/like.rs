//! "Give the new hire what Alan has": `grant --like` and `invite --like` copy a colleague's direct
//! roles (resources and labels included) and group memberships exactly; `invite` takes several
//! `--role`/`--on` pairs.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::*;

const ALAN: &str = "alan.turing@acme.example";
const KEN: &str = "ken.thompson@acme.example";

/// (role id, type:id, labels) of every binding in a permission list.
fn bindings(perms: &Value) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for p in perms.as_array().into_iter().flatten() {
        for r in p["resources"].as_array().into_iter().flatten() {
            let mut labels: Vec<String> = r["labels"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| {
                    format!(
                        "{}={}",
                        l["key"].as_str().unwrap(),
                        l["value"].as_str().unwrap()
                    )
                })
                .collect();
            labels.sort();
            out.insert((
                p["roleId"].as_str().unwrap().to_string(),
                format!(
                    "{}:{}",
                    r["type"].as_str().unwrap(),
                    r["id"].as_str().unwrap()
                ),
                labels.join(","),
            ));
        }
    }
    out
}

/// Ids of the groups that have `member` (a user id) or `invite` (an email) in them.
fn groups_of(st: &Value, member: Option<&str>, invite: Option<&str>) -> BTreeSet<String> {
    st["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| {
            member.is_some_and(|m| g["memberIds"].as_array().unwrap().iter().any(|x| x == m))
                || invite
                    .is_some_and(|e| g["inviteEmails"].as_array().unwrap().iter().any(|x| x == e))
        })
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn grant_like_copies_direct_roles_and_memberships_exactly() {
    let emu = small();
    let tmp = temp_dir("like-grant");
    let before = state(&emu);
    let alan = user_by_email(&before, ALAN).clone();
    let ken = user_by_email(&before, KEN).clone();
    let alan_groups = groups_of(&before, alan["id"].as_str(), None);
    assert!(
        !alan_groups.is_empty(),
        "Alan is in a group in the small seed"
    );

    let (code, _, err) =
        run(writer(&emu, tmp.path()).args(["grant", "--to", KEN, "--like", ALAN, "--dry-run"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("+ Source Admin on source:iOS App"),
        "the plan shows it: {err}"
    );
    assert_eq!(
        state(&emu)["users"],
        before["users"],
        "a dry run changes nothing"
    );

    let (code, out, err) =
        run(writer(&emu, tmp.path()).args(["grant", "--to", KEN, "--like", ALAN, "--yes"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("add-member"), "{out}");
    let after = state(&emu);
    let ken_after = user_by_email(&after, KEN);
    let expected: BTreeSet<_> = bindings(&ken["permissions"])
        .union(&bindings(&alan["permissions"]))
        .cloned()
        .collect();
    assert_eq!(bindings(&ken_after["permissions"]), expected);
    let ken_groups: BTreeSet<String> = groups_of(&after, ken["id"].as_str(), None);
    let expected_groups: BTreeSet<String> = groups_of(&before, ken["id"].as_str(), None)
        .union(&alan_groups)
        .cloned()
        .collect();
    assert_eq!(ken_groups, expected_groups);
    // Alan himself is untouched, and the copy undoes in one step.
    assert_eq!(user_by_email(&after, ALAN), &alan);
    let (code, _, err) = run(writer(&emu, tmp.path()).args(["undo", "--yes"]));
    assert_eq!(code, Some(0), "{err}");
    let undone = state(&emu);
    assert_eq!(user_by_email(&undone, KEN), &ken);
    assert_eq!(
        groups_of(&undone, ken["id"].as_str(), None),
        groups_of(&before, ken["id"].as_str(), None)
    );
}

#[test]
fn invite_like_carries_the_colleagues_roles_and_groups_in_one_invitation() {
    let emu = small();
    let tmp = temp_dir("like-invite");
    let before = state(&emu);
    let alan = user_by_email(&before, ALAN).clone();
    let alan_groups = groups_of(&before, alan["id"].as_str(), None);
    let hire = "new.hire@acme.example";
    let (code, _, err) =
        run(writer(&emu, tmp.path()).args(["invite", hire, "--like", ALAN, "--yes"]));
    assert_eq!(code, Some(0), "{err}");
    let after = state(&emu);
    let invite = after["invites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == hire)
        .expect("invited");
    assert_eq!(
        bindings(&invite["permissions"]),
        bindings(&alan["permissions"])
    );
    assert_eq!(groups_of(&after, None, Some(hire)), alan_groups);
    let writes = stats(&emu)["byRoute"]["POST /invites"].as_u64().unwrap();
    assert_eq!(writes, 1, "one invitation");
}

#[test]
fn invite_takes_several_role_and_resource_pairs() {
    let emu = small();
    let tmp = temp_dir("invite-pairs");
    let st = state(&emu);
    let hire = "pairs@acme.example";
    let (code, _, err) = run(writer(&emu, tmp.path()).args([
        "invite",
        hire,
        "--role",
        "Source Admin",
        "--on",
        "source:Website Dev",
        "--on",
        "source:ios-app",
        "--role",
        "Warehouse Read-only",
        "--on",
        "warehouse:Analytics Snowflake",
        "--yes",
    ]));
    assert_eq!(code, Some(0), "{err}");
    let after = state(&emu);
    let invite = after["invites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == hire)
        .expect("invited");
    let got = bindings(&invite["permissions"]);
    let role = |name: &str| {
        st["roles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let wh = st["warehouses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w.to_string().contains("Analytics Snowflake"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let expected: BTreeSet<_> = [
        (
            role("Source Admin"),
            format!("SOURCE:{}", source_id(&st, "Website Dev")),
            String::new(),
        ),
        (
            role("Source Admin"),
            format!("SOURCE:{}", source_id(&st, "iOS App")),
            String::new(),
        ),
        (
            role("Warehouse Read-only"),
            format!("WAREHOUSE:{wh}"),
            String::new(),
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, expected);
    // An --on before any --role is a usage error.
    let (code, _, _) = run(writer(&emu, tmp.path()).args([
        "invite",
        "x@acme.example",
        "--on",
        "workspace",
        "--role",
        "Source Admin",
        "--dry-run",
    ]));
    assert_eq!(code, Some(2));
}
