//! Unit tests of the review domain: item ids, the campaign file, the sheet round trip, the
//! verification and the evidence pack, without a server.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::campaign::{Campaign, Info, NewDecision, OutcomeStatus, SnapshotRef};
use super::items::{Flag, Item, Scope, item_id};
use super::pack;
use super::sheet::{self, Against, SheetRow};
use super::verify::{self, Live};
use super::{Decision, person_key, sha256_hex};
use crate::access::record::*;

fn user(id: &str, email: &str) -> Principal {
    Principal::User {
        id: id.into(),
        email: email.into(),
        name: format!("Name {id}"),
    }
}

fn grant(p: &Principal, role: &str, source: &str, via: Option<&str>) -> GrantRecord {
    GrantRecord {
        principal: p.clone(),
        role: Some(RoleRef {
            id: format!("r-{role}"),
            name: role.into(),
        }),
        resource: ResourceRef {
            kind: ResourceKind::Source,
            id: format!("s-{source}"),
            name: Some(source.into()),
        },
        labels: vec![],
        via: via.map(|g| Via {
            kind: ViaKind::Group,
            id: format!("g-{g}"),
            name: g.into(),
        }),
    }
}

fn member(p: &Principal, group: &str) -> GrantRecord {
    GrantRecord {
        principal: p.clone(),
        role: None,
        resource: ResourceRef {
            kind: ResourceKind::Group,
            id: format!("g-{group}"),
            name: Some(group.into()),
        },
        labels: vec![],
        via: None,
    }
}

/// Ann: a direct grant, a membership and what it gives; Bob: one direct grant.
pub(crate) fn sample_items() -> Vec<Item> {
    let ann = user("u1", "ann@x.com");
    let bob = user("u2", "bob@x.com");
    let records = vec![
        grant(&ann, "Source Admin", "web", None),
        member(&ann, "Analysts"),
        grant(&ann, "Source Read-only", "ios", Some("Analysts")),
        grant(&bob, "Source Admin", "web", None),
    ];
    records
        .into_iter()
        .enumerate()
        .map(|(i, record)| Item {
            id: item_id(&record),
            ord: i as i64,
            person: person_key(&record.principal),
            findings: if i == 3 {
                vec![Flag {
                    rule: "no_direct_grants".into(),
                    severity: "medium".into(),
                    message: "direct grant".into(),
                }]
            } else {
                vec![]
            },
            record,
        })
        .collect()
}

pub(crate) fn sample_info(snapshot: &Path) -> Info {
    let (sha256, bytes) = super::sha256_file(snapshot).expect("snapshot hashes");
    Info {
        id: "rv-000000000001".into(),
        created_at: "2026-01-31T09:00:00Z".into(),
        tool_version: "test".into(),
        snapshot: SnapshotRef {
            path: snapshot.display().to_string(),
            sha256,
            bytes,
            taken_at: "2026-01-31T08:00:00Z".into(),
            tool_version: "test".into(),
        },
        workspace_id: "w1".into(),
        workspace_name: "Acme".into(),
        workspace_slug: "acme".into(),
        api_url: "http://127.0.0.1:1".into(),
        scope: Scope::default(),
        policy: None,
        closed: None,
    }
}

/// A campaign over `sample_items` in a fresh directory (kept alive by the returned guard).
pub(crate) fn sample_campaign() -> (tempfile::TempDir, PathBuf, Campaign) {
    let dir = tempfile::tempdir().expect("temp dir");
    let snap = dir.path().join("snap.db");
    std::fs::write(&snap, b"a frozen snapshot").expect("snapshot written");
    let path = dir.path().join("r.db");
    let c = Campaign::create(&path, &sample_info(&snap), &sample_items()).expect("created");
    (dir, path, c)
}

fn decision(item: &str, d: Decision, comment: &str) -> NewDecision {
    NewDecision {
        item_id: item.into(),
        decision: d,
        reviewer: "ann@x.com".into(),
        comment: comment.into(),
        source: "terminal".into(),
    }
}

#[test]
fn item_ids_are_stable_and_name_only_what_identifies_a_grant() {
    let ann = user("u1", "ann@x.com");
    let g = grant(&ann, "Source Admin", "web", None);
    assert_eq!(item_id(&g), item_id(&g.clone()));
    assert_eq!(item_id(&g).len(), 16);
    // Names change; ids do not.
    let mut renamed = g.clone();
    renamed.resource.name = Some("web-renamed".into());
    renamed.role.as_mut().unwrap().name = "Source Boss".into();
    assert_eq!(item_id(&g), item_id(&renamed));
    // The group it comes through, labels and the resource are identity.
    let via = grant(&ann, "Source Admin", "web", Some("Analysts"));
    assert_ne!(item_id(&g), item_id(&via));
    let mut labelled = g.clone();
    labelled.labels.push(LabelRef {
        key: "env".into(),
        value: "prod".into(),
    });
    assert_ne!(item_id(&g), item_id(&labelled));
    assert_ne!(
        item_id(&g),
        item_id(&grant(&ann, "Source Admin", "ios", None))
    );
}

#[test]
fn scope_reads_back_as_the_flags_that_give_it() {
    assert_eq!(Scope::default().describe(), "all grants");
    let s = Scope {
        role: Some("Source Admin".into()),
        user: Some("ann@x.com".into()),
        direct_only: true,
        ..Scope::default()
    };
    assert_eq!(
        s.describe(),
        "--user ann@x.com --role 'Source Admin' --direct-only"
    );
}

#[test]
fn a_campaign_keeps_every_decision_across_processes_and_its_history() {
    let (_dir, path, mut c) = sample_campaign();
    let items = c.items().unwrap();
    assert_eq!(items, sample_items());
    c.decide(&decision(&items[0].id, Decision::Keep, ""))
        .unwrap();
    c.decide(&decision(&items[1].id, Decision::Flag, "ask IT"))
        .unwrap();
    c.decide(&decision(&items[0].id, Decision::Revoke, "changed my mind"))
        .unwrap();
    drop(c);
    // Another process opens it: every committed decision is there.
    let c = Campaign::open(&path).unwrap();
    assert_eq!(c.info, sample_info(Path::new(&c.info.snapshot.path)));
    let now = c.decisions().unwrap();
    assert_eq!(now.len(), 2);
    assert_eq!(now[&items[0].id].decision, Decision::Revoke);
    assert_eq!(now[&items[0].id].comment, "changed my mind");
    assert_eq!(now[&items[1].id].comment, "ask IT");
    assert_eq!(c.history().unwrap().len(), 3, "earlier decisions stay");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Never overwritten.
    let e = Campaign::create(&path, &c.info, &items).err().unwrap();
    assert!(e.to_string().contains("never overwritten"), "{e}");
}

#[test]
fn a_campaign_file_is_told_from_a_snapshot_and_from_junk() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not sqlite").unwrap();
    assert!(Campaign::open(&junk).is_err());
    let missing = Campaign::open(&dir.path().join("nope.db")).err().unwrap();
    assert!(
        missing.to_string().contains("no such campaign file"),
        "{missing}"
    );
    let snap = dir.path().join("snap.db");
    let conn = rusqlite::Connection::open(&snap).unwrap();
    conn.execute_batch(
        "CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('taken_at', 'x');",
    )
    .unwrap();
    drop(conn);
    let e = Campaign::open(&snap).err().unwrap();
    assert!(e.to_string().contains("is a snapshot"), "{e}");
}

#[test]
fn a_carried_out_revoke_stays_and_a_closed_campaign_is_read_only() {
    let (_dir, _path, mut c) = sample_campaign();
    let items = c.items().unwrap();
    c.decide(&decision(&items[0].id, Decision::Revoke, ""))
        .unwrap();
    c.record_outcome(
        std::slice::from_ref(&items[0].id),
        OutcomeStatus::Applied,
        Some("entry-1"),
        "",
    )
    .unwrap();
    let e = c
        .decide(&decision(&items[0].id, Decision::Keep, ""))
        .err()
        .unwrap();
    assert!(e.to_string().contains("journal entry entry-1"), "{e}");
    // A comment on it is still welcome.
    c.decide(&decision(&items[0].id, Decision::Revoke, "done in Q1"))
        .unwrap();
    assert_eq!(
        c.outcomes().unwrap()[&items[0].id].journal_entry.as_deref(),
        Some("entry-1")
    );
    // All or nothing: one bad decision records none.
    let bad = vec![
        decision(&items[1].id, Decision::Keep, ""),
        decision("no-such-item", Decision::Keep, ""),
    ];
    assert!(c.decide_all(&bad).is_err());
    assert!(!c.decisions().unwrap().contains_key(&items[1].id));
    c.close(&[], "/packs/q1", "abc", "2026-02-01T00:00:00Z")
        .unwrap();
    let e = c
        .decide(&decision(&items[1].id, Decision::Keep, ""))
        .err()
        .unwrap();
    assert!(e.to_string().contains("read-only"), "{e}");
    assert!(c.refuse_if_closed().is_err());
}

#[test]
fn a_changed_or_missing_snapshot_refuses_the_campaign() {
    let (dir, _path, c) = sample_campaign();
    let snap = dir.path().join("snap.db");
    assert!(super::campaign::check_snapshot(&c.info, None).is_ok());
    std::fs::write(&snap, b"a frozen snapshoT").unwrap();
    let e = super::campaign::check_snapshot(&c.info, None)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("changed since campaign"), "{e}");
    let moved = dir.path().join("moved.db");
    std::fs::write(&moved, b"a frozen snapshot").unwrap();
    std::fs::remove_file(&snap).unwrap();
    let e = super::campaign::check_snapshot(&c.info, None)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("--snapshot"), "{e}");
    assert_eq!(
        super::campaign::check_snapshot(&c.info, Some(&moved)).unwrap(),
        moved
    );
}

/// An exported sheet of the sample campaign, as CSV text, with `fill` applied to its rows.
fn sheet_text(c: &Campaign, fill: impl Fn(usize, &mut Vec<String>)) -> String {
    let items = c.items().unwrap();
    let decisions = c.decisions().unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(sheet::COLUMNS).unwrap();
    for (i, it) in items.iter().enumerate() {
        let mut row = SheetRow::new(&c.info, it, decisions.get(&it.id)).values();
        fill(i, &mut row);
        w.write_record(&row).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

fn against<'a>(
    c: &'a Campaign,
    items: &'a [Item],
    decisions: &'a HashMap<String, super::campaign::Decided>,
    outcomes: &'a HashMap<String, super::campaign::Outcome>,
) -> Against<'a> {
    Against {
        info: &c.info,
        items,
        decisions,
        outcomes,
        reviewer: Some("ann@x.com"),
        source: "import t.csv".into(),
    }
}

const DECISION: usize = 10;
const COMMENT: usize = 12;

#[test]
fn a_filled_sheet_imports_and_a_second_import_changes_nothing() {
    let (_dir, _path, mut c) = sample_campaign();
    let text = sheet_text(&c, |i, row| {
        row[DECISION] = ["keep", " Revoke ", "", "FLAG"][i].into();
        if i == 3 {
            row[COMMENT] = "ask the owner".into();
        }
    });
    let (items, decisions, outcomes) = (
        c.items().unwrap(),
        c.decisions().unwrap(),
        c.outcomes().unwrap(),
    );
    let got = sheet::read(&text, &against(&c, &items, &decisions, &outcomes)).unwrap();
    assert_eq!(got.decisions.len(), 3);
    assert_eq!(got.undecided, 1);
    assert_eq!(got.decisions[1].decision, Decision::Revoke);
    assert_eq!(got.decisions[2].comment, "ask the owner");
    c.decide_all(&got.decisions).unwrap();
    let decisions = c.decisions().unwrap();
    let again = sheet::read(&text, &against(&c, &items, &decisions, &outcomes)).unwrap();
    assert!(again.decisions.is_empty());
    assert_eq!(again.unchanged, 3);
    // A spreadsheet's byte-order mark is no problem.
    let bom = format!("\u{feff}{text}");
    assert!(sheet::read(&bom, &against(&c, &items, &decisions, &outcomes)).is_ok());
}

#[test]
fn a_sheet_with_a_wrong_row_is_refused_whole_naming_each_line() {
    let (_dir, _path, c) = sample_campaign();
    let text = sheet_text(&c, |i, row| {
        row[DECISION] = "keep".into();
        match i {
            0 => row[0] = "rv-0000000000ff".into(),  // another campaign
            1 => row[2] = "0123456789abcdef".into(), // a changed id
            2 => row[DECISION] = "maybe".into(),
            3 => row[3] = "eve@x.com".into(), // an edited item column
            _ => {}
        }
    });
    let (items, decisions, outcomes) = (
        c.items().unwrap(),
        c.decisions().unwrap(),
        c.outcomes().unwrap(),
    );
    let bad = sheet::read(&text, &against(&c, &items, &decisions, &outcomes))
        .err()
        .unwrap();
    let lines: Vec<u64> = bad.iter().map(|b| b.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5], "{bad:?}");
    assert!(bad[0].message.contains("from campaign"), "{bad:?}");
    assert!(bad[1].message.contains("was the id changed"), "{bad:?}");
    assert!(
        bad[2].message.contains("unknown decision \"maybe\""),
        "{bad:?}"
    );
    assert!(bad[3].message.contains("do not edit"), "{bad:?}");
    // A row repeated, and a file without the columns.
    let dup = {
        let t = sheet_text(&c, |_, row| row[DECISION] = "keep".into());
        let second = t.lines().nth(1).unwrap().to_string();
        format!("{t}{second}\n")
    };
    let bad = sheet::read(&dup, &against(&c, &items, &decisions, &outcomes))
        .err()
        .unwrap();
    assert!(
        bad[0].message.contains("appears again (first on line 2)"),
        "{bad:?}"
    );
    let bad = sheet::read("a,b\n1,2\n", &against(&c, &items, &decisions, &outcomes))
        .err()
        .unwrap();
    assert_eq!(bad[0].line, 1);
    assert!(bad[0].message.contains("campaign_id"), "{bad:?}");
}

#[test]
fn verification_follows_each_decision() {
    let (_dir, _path, mut c) = sample_campaign();
    let items = c.items().unwrap();
    c.decide(&decision(&items[0].id, Decision::Revoke, ""))
        .unwrap();
    c.decide(&decision(&items[1].id, Decision::Keep, ""))
        .unwrap();
    c.decide(&decision(&items[2].id, Decision::Keep, ""))
        .unwrap();
    c.record_outcome(
        std::slice::from_ref(&items[0].id),
        OutcomeStatus::Applied,
        Some("e1"),
        "",
    )
    .unwrap();
    // Item 0 revoked and gone; 1 kept and held; 2 kept but gone; 3 undecided and held.
    let live = Live {
        workspace_id: "w1".into(),
        present: [items[1].id.clone(), items[3].id.clone()]
            .into_iter()
            .collect(),
    };
    let v = verify::check(
        &items,
        &c.decisions().unwrap(),
        &c.outcomes().unwrap(),
        &live,
        "T",
    );
    let results: Vec<&str> = v.iter().map(|x| x.result.as_str()).collect();
    assert_eq!(results, ["removed", "held", "discrepancy", "undecided"]);
    assert!(v[0].detail.contains("journal entry e1"), "{:?}", v[0]);
    assert!(
        v[2].detail.contains("changed since the review"),
        "{:?}",
        v[2]
    );
    // A revoke still held is a discrepancy too.
    let live = Live {
        workspace_id: "w1".into(),
        present: [items[0].id.clone()].into_iter().collect(),
    };
    let v = verify::check(
        &items,
        &c.decisions().unwrap(),
        &c.outcomes().unwrap(),
        &live,
        "T",
    );
    assert_eq!(v[0].result, "discrepancy");
    assert!(v[0].detail.contains("still held"));
}

#[test]
fn a_pack_verifies_and_any_change_to_it_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pack");
    let files = vec![
        ("summary.md".to_string(), b"# summary\n".to_vec()),
        ("items.csv".to_string(), b"a,b\n1,2\n".to_vec()),
    ];
    let manifest_sha = pack::write(&out, &files).unwrap();
    let manifest = std::fs::read_to_string(out.join(pack::MANIFEST)).unwrap();
    assert_eq!(sha256_hex(manifest.as_bytes()), manifest_sha);
    // sha256sum's format, sorted by name.
    assert_eq!(
        manifest,
        format!(
            "{}  items.csv\n{}  summary.md\n",
            sha256_hex(b"a,b\n1,2\n"),
            sha256_hex(b"# summary\n")
        )
    );
    let (checks, sha) = pack::check(&out).unwrap();
    assert_eq!(sha, manifest_sha);
    assert!(checks.iter().all(|c| c.ok()), "{checks:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&out), 0o700);
        assert_eq!(mode(&out.join("items.csv")), 0o600);
        assert_eq!(mode(&out.join(pack::MANIFEST)), 0o600);
    }
    // Refused: a folder that is not empty.
    assert!(pack::write(&out, &files).is_err());
    // One byte changed, a file gone, a file added.
    std::fs::write(out.join("items.csv"), b"a,b\n1,3\n").unwrap();
    std::fs::remove_file(out.join("summary.md")).unwrap();
    std::fs::write(out.join("notes.txt"), b"hello").unwrap();
    let (checks, _) = pack::check(&out).unwrap();
    let got: Vec<(&str, &str)> = checks
        .iter()
        .map(|c| (c.file.as_str(), c.status.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("items.csv", "changed"),
            ("summary.md", "missing"),
            ("notes.txt", "extra")
        ]
    );
    // A manifest line that is not `<sha256>  <file>`, or that points outside the pack.
    std::fs::write(
        out.join(pack::MANIFEST),
        format!("nonsense\n{}  ../escape\n", "0".repeat(64)),
    )
    .unwrap();
    let (checks, _) = pack::check(&out).unwrap();
    assert_eq!(
        checks.iter().filter(|c| c.status == "malformed").count(),
        2,
        "{checks:?}"
    );
    // An empty folder takes a pack.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    pack::write(&empty, &files).unwrap();
}
