//! End to end: access-review campaigns against the emulator. A quarterly review on the large
//! seed decided on a real terminal (tmux) and through a CSV round trip, applied, changed behind
//! the tool's back, closed into an evidence pack that verifies (and stops verifying when one
//! byte changes); sheets that must be refused whole; a session killed mid-way; apply run twice.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use segment_access::emulator::{BlockingEmulator, EmulatorConfig, RateLimits, Seed};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::*;

const REVIEWER: &str = "ann.auditor@example.com";

/// Limits no test run comes near: a full sync of the large seed is thousands of reads.
fn fast(seed: Seed) -> BlockingEmulator {
    start(EmulatorConfig {
        seed,
        limits: RateLimits {
            window_ms: 1_000,
            general: 100_000,
            write: 10_000,
        },
        ..EmulatorConfig::default()
    })
}

/// One review's files: the journal's state dir, the snapshot, the campaign.
struct Review {
    tmp: TempDir,
}

impl Review {
    fn new(name: &str) -> Review {
        Review {
            tmp: temp_dir(name),
        }
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn s(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// The binary against `emu`, journaling into this review's state dir.
    fn cmd(&self, emu: &BlockingEmulator) -> assert_cmd::Command {
        let mut c = writer(emu, &self.path("state"));
        c.env("HOME", self.dir());
        c
    }

    fn sync(&self, emu: &BlockingEmulator) {
        let (code, _, err) = run(self.cmd(emu).args(["sync", "--out", &self.s("snap.db")]));
        assert_eq!(code, Some(0), "{err}");
    }

    /// `review start` with these scope flags; the campaign id.
    fn start(&self, emu: &BlockingEmulator, campaign: &str, scope: &[&str]) -> String {
        let (code, out, err) = run(self
            .cmd(emu)
            .args([
                "review",
                "start",
                "--snapshot",
                &self.s("snap.db"),
                "--out",
                &self.s(campaign),
                "--format",
                "json",
            ])
            .args(scope));
        assert_eq!(code, Some(0), "{err}");
        let v: Value = serde_json::from_str(&out).expect("json");
        v["campaignId"].as_str().expect("campaign id").to_string()
    }

    /// `review status --format json`: (decision, reviewer) -> items.
    fn status(&self, emu: &BlockingEmulator, campaign: &str) -> Vec<(String, String, u64)> {
        let out = stdout_of(self.cmd(emu).args([
            "review",
            "status",
            &self.s(campaign),
            "--format",
            "json",
        ]));
        let rows: Vec<Value> = serde_json::from_str(&out).expect("json");
        rows.iter()
            .map(|r| {
                (
                    r["decision"].as_str().unwrap().to_string(),
                    r["reviewer"].as_str().unwrap_or("").to_string(),
                    r["items"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    fn decided(&self, emu: &BlockingEmulator, campaign: &str) -> u64 {
        self.status(emu, campaign)
            .iter()
            .filter(|(d, _, _)| d != "undecided")
            .map(|(_, _, n)| n)
            .sum()
    }

    /// The exported sheet as rows of (column -> value), in order.
    fn export(&self, emu: &BlockingEmulator, campaign: &str) -> Vec<csv::StringRecord> {
        let out = stdout_of(self.cmd(emu).args(["review", "export", &self.s(campaign)]));
        let mut r = csv::Reader::from_reader(out.as_bytes());
        assert_eq!(
            r.headers().unwrap().iter().collect::<Vec<_>>(),
            SHEET_COLUMNS,
            "the documented columns"
        );
        r.records().map(|x| x.unwrap()).collect()
    }
}

const SHEET_COLUMNS: [&str; 14] = [
    "campaign_id",
    "snapshot_sha256",
    "item_id",
    "principal",
    "principal_name",
    "role",
    "resource",
    "labels",
    "via",
    "policy",
    "decision",
    "reviewer",
    "comment",
    "decided_at",
];
const ID: usize = 2;
const PRINCIPAL: usize = 3;
const ROLE: usize = 5;
const DECISION: usize = 10;
const COMMENT: usize = 12;

fn write_sheet(path: &Path, rows: &[Vec<String>]) {
    let mut w = csv::Writer::from_path(path).expect("sheet file");
    w.write_record(SHEET_COLUMNS).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
}

fn owned(r: &csv::StringRecord) -> Vec<String> {
    r.iter().map(str::to_string).collect()
}

/// The binary on a terminal wide enough for every value; the first line it prints is `PID <n>`
/// (for the kill test).
fn screen(emu: &BlockingEmulator, state: &Path, args: &str) -> Option<Screen> {
    Screen::start_with(
        emu,
        &Spec {
            width: 200,
            state: Some(state),
            pid: true,
            ..Spec::new("review-screen", args)
        },
    )
}

/// A group of the large seed by name, from the emulator's state.
fn group<'a>(st: &'a Value, name: &str) -> &'a Value {
    st["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no group {name}"))
}

fn email_of(st: &Value, user_id: &str) -> String {
    st["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user_id)
        .and_then(|u| u["email"].as_str())
        .unwrap_or_else(|| panic!("no user {user_id}"))
        .to_string()
}

/// The issue's check, on the large seed: a quarterly review of one group's access (its own
/// grant, every membership and what each member holds through it), decided partly on a real
/// terminal and partly in a spreadsheet, applied, one kept grant changed behind the tool's back,
/// closed: the pack lists the revokes as done and the changed item as a discrepancy, its
/// manifest verifies (with `sha256sum -c` too), and one byte changed in the pack fails it.
#[test]
fn a_quarterly_review_from_snapshot_to_verified_evidence() {
    const GROUP: &str = "Checkout Analysts";
    let emu = fast(Seed::Large);
    let r = Review::new("review-large");
    r.sync(&emu);
    let before = state(&emu);
    let g = group(&before, GROUP);
    let members: Vec<String> = g["memberIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    assert!(members.len() >= 6, "a group worth reviewing: {g}");
    let id = r.start(&emu, "q1.db", &["--group", GROUP]);

    // The population is exactly what `list grants` says the snapshot holds for the scope.
    let listed = stdout_of(r.cmd(&emu).args([
        "list",
        "grants",
        "--snapshot",
        &r.s("snap.db"),
        "--group",
        GROUP,
        "--format",
        "ndjson",
    ]));
    let sheet = r.export(&emu, "q1.db");
    assert_eq!(sheet.len(), listed.lines().count());
    assert!(sheet.iter().all(|row| &row[0] == id.as_str()));
    assert!(
        sheet.iter().all(|row| row[DECISION].is_empty()),
        "nothing decided yet"
    );

    // On a terminal: the first person's membership and what it gives are revoked (with a
    // comment), the second person's kept and flagged; then quit.
    let Some(s) = screen(
        &emu,
        &r.path("state"),
        &format!("review '{}' --reviewer {REVIEWER}", r.s("q1.db")),
    ) else {
        return;
    };
    let first = s.wait_for("[1/2] member of group:Checkout Analysts: undecided >");
    assert!(
        first.contains(&format!("Review {id} of Globex Corporation")),
        "{first}"
    );
    assert!(
        first.contains("ROLE"),
        "the person's access as a table: {first}"
    );
    s.type_text("c");
    s.wait_for("comment:");
    s.type_text("moved to payments");
    s.keys(&["Enter"]);
    s.press(
        "comment \"moved to payments\" >",
        "r",
        "revoke, saved (1 of",
    );
    let screen = s.press("[2/2]", "r", "revoke, saved (2 of");
    assert!(
        screen.contains("`review apply` removes the membership of group:Checkout Analysts"),
        "{screen}"
    );
    s.press("(2 of ", "k", "keep, saved (3 of");
    s.press("keep, saved (3 of", "f", "flag, saved (4 of");
    s.type_text("q");
    let screen = s.wait_for("EXITED 0");
    assert!(screen.contains("every decision is saved"), "{screen}");
    drop(s);
    assert_eq!(r.decided(&emu, "q1.db"), 4);

    // In a spreadsheet: everything else. Keep, but the fifth person leaves the group (both
    // their items revoked), and the group's own grant is flagged for its owner.
    let sheet = r.export(&emu, "q1.db");
    let people: Vec<String> = {
        let mut v: Vec<String> = sheet
            .iter()
            .map(|row| row[PRINCIPAL].to_string())
            .filter(|p| !p.starts_with("group:"))
            .collect();
        v.dedup();
        v
    };
    let leaver = people[4].clone();
    let changed = people[5].clone();
    let rows: Vec<Vec<String>> = sheet
        .iter()
        .map(|row| {
            let mut row = owned(row);
            if row[DECISION].is_empty() {
                row[DECISION] = if row[PRINCIPAL] == leaver {
                    "revoke"
                } else if row[PRINCIPAL].starts_with("group:") {
                    "flag"
                } else {
                    "keep"
                }
                .to_string();
                if row[PRINCIPAL] == leaver {
                    row[COMMENT] = "left the company".to_string();
                }
            }
            row
        })
        .collect();
    write_sheet(&r.path("filled.csv"), &rows);
    let (code, _, err) = run(r.cmd(&emu).args([
        "review",
        "import",
        &r.s("q1.db"),
        &r.s("filled.csv"),
        "--reviewer",
        "bob.owner@example.com",
    ]));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("4 rows unchanged"), "{err}");
    let status = r.status(&emu, "q1.db");
    assert!(
        status.contains(&("undecided".into(), String::new(), 0)),
        "{status:?}"
    );
    assert!(
        status.contains(&("revoke".into(), REVIEWER.into(), 2))
            && status.contains(&("revoke".into(), "bob.owner@example.com".into(), 2)),
        "{status:?}"
    );

    // Apply: two membership removals, each carrying two revoke decisions.
    let (code, out, err) = run(r
        .cmd(&emu)
        .args(["review", "apply", &r.s("q1.db"), "--yes"]));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.matches("remove-member").count(), 2, "{out}");
    assert!(err.contains("4 carried out by journal entry"), "{err}");
    let entry = last_entry_id(&r.path("state"));
    let after = state(&emu);
    let still: Vec<String> = group(&after, GROUP)["memberIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| email_of(&after, m.as_str().unwrap()))
        .collect();
    assert_eq!(still.len(), members.len() - 2);
    assert!(!still.contains(&people[0]) && !still.contains(&leaver));

    // Behind the tool's back: a kept member leaves the group.
    let gid = group(&after, GROUP)["id"].as_str().unwrap().to_string();
    let keep: Vec<&String> = still.iter().filter(|e| **e != changed).collect();
    put_json(
        &format!("{}/_emulator/group/{gid}/users", emu.url()),
        json!({ "emails": keep }),
    );

    let (code, out, err) = run(r.cmd(&emu).args([
        "review",
        "close",
        &r.s("q1.db"),
        "--out",
        &r.s("evidence"),
        "--format",
        "json",
    ]));
    assert_eq!(code, Some(1), "a discrepancy exits 1: {err}");
    let attention: Vec<Value> = serde_json::from_str(&out).expect("json");
    assert_eq!(attention.len(), 2, "{out}");
    assert!(
        attention
            .iter()
            .all(|a| a["principal"] == changed.as_str() && a["decision"] == "keep"),
        "{out}"
    );

    // The pack: every item, the revokes done by the journal entry, the changed one flagged.
    let pack = r.path("evidence");
    let mut items = csv::Reader::from_path(pack.join("items.csv")).expect("items.csv");
    let head: Vec<String> = items.headers().unwrap().iter().map(String::from).collect();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let rows: Vec<csv::StringRecord> = items.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), sheet.len());
    for row in &rows {
        let who = &row[col("principal_email")];
        let (decision, verification) = (&row[col("decision")], &row[col("verification")]);
        if decision == "revoke" {
            assert_eq!(verification, "removed", "{row:?}");
            assert_eq!(&row[col("change_id")], entry.as_str(), "{row:?}");
            assert_eq!(&row[col("change_status")], "applied");
        } else if who == changed {
            assert_eq!(verification, "discrepancy", "{row:?}");
            assert!(row[col("verification_detail")].contains("changed since the review"));
        } else if decision == "keep" {
            assert_eq!(verification, "held", "{row:?}");
        } else {
            assert_eq!((decision, verification), ("flag", "flagged"), "{row:?}");
        }
        assert!(!row[col("reviewer")].is_empty() && !row[col("decided_at")].is_empty());
    }
    let summary = std::fs::read_to_string(pack.join("summary.md")).unwrap();
    assert!(summary.contains("Globex Corporation"), "{summary}");
    assert!(summary.contains(&format!("--group '{GROUP}'")), "{summary}");
    assert!(summary.contains(REVIEWER) && summary.contains("bob.owner@example.com"));
    assert!(
        summary.contains(&format!("journal entry `{entry}`")),
        "{summary}"
    );
    let journal = std::fs::read_to_string(pack.join("journal.ndjson")).unwrap();
    assert_eq!(journal.lines().count(), 1);
    assert!(journal.contains(&entry));
    assert_eq!(
        std::fs::read(pack.join("snapshot.db")).unwrap(),
        std::fs::read(r.path("snap.db")).unwrap()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&pack), 0o700);
        for e in std::fs::read_dir(&pack).unwrap() {
            assert_eq!(mode(&e.unwrap().path()), 0o600);
        }
    }

    // The manifest verifies, with the tool and with sha256sum; the campaign is read-only.
    let (code, out, err) = run(r.cmd(&emu).args([
        "review",
        "verify",
        &r.s("evidence"),
        "--campaign",
        &r.s("q1.db"),
    ]));
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out.matches(" ok ").count(), 6, "{out}");
    if have_tool("sha256sum", "coreutils") {
        let ok = Process::new("sha256sum")
            .args(["-c", "--quiet", "manifest.sha256"])
            .current_dir(&pack)
            .status()
            .expect("sha256sum runs")
            .success();
        assert!(ok, "sha256sum -c accepts the manifest");
    }
    let (code, _, err) = run(r.cmd(&emu).args([
        "review",
        "import",
        &r.s("q1.db"),
        &r.s("filled.csv"),
        "--reviewer",
        REVIEWER,
    ]));
    assert_eq!(code, Some(1));
    assert!(err.contains("read-only"), "{err}");

    // One byte changed in the pack: verify fails and names the file.
    let md = pack.join("items.md");
    let mut bytes = std::fs::read(&md).unwrap();
    let at = bytes.iter().position(|b| *b == b'k').unwrap();
    bytes[at] = b'K';
    std::fs::write(&md, bytes).unwrap();
    let (code, out, err) = run(r.cmd(&emu).args(["review", "verify", &r.s("evidence")]));
    assert_eq!(code, Some(1), "{out}");
    assert!(err.contains("items.md changed"), "{err}");
    assert_eq!(out.matches(" ok ").count(), 5, "{out}");
}

/// A small-seed campaign over everything Alan and the Mobile Team hold.
fn small_campaign(emu: &BlockingEmulator, r: &Review, name: &str) -> String {
    r.start(emu, name, &["--group", "Mobile Team"])
}

#[test]
fn a_sheet_with_a_row_from_another_campaign_a_changed_id_or_an_unknown_decision_is_refused_whole() {
    let emu = fast(Seed::Small);
    let r = Review::new("review-sheet");
    r.sync(&emu);
    small_campaign(&emu, &r, "a.db");
    small_campaign(&emu, &r, "b.db");
    let a = r.export(&emu, "a.db");
    let b = r.export(&emu, "b.db");
    let keep_all = |rows: &[csv::StringRecord]| -> Vec<Vec<String>> {
        rows.iter()
            .map(|x| {
                let mut x = owned(x);
                x[DECISION] = "keep".into();
                x
            })
            .collect()
    };
    let cases: Vec<(&str, Vec<Vec<String>>, &str)> = vec![
        (
            "another campaign",
            {
                let mut rows = keep_all(&a);
                rows[1] = keep_all(&b)[1].clone();
                rows
            },
            "line 3: the row is from campaign",
        ),
        (
            "a changed id",
            {
                let mut rows = keep_all(&a);
                rows[2][ID] = "00000000deadbeef".into();
                rows
            },
            "line 4: no item \"00000000deadbeef\"",
        ),
        (
            "an unknown decision",
            {
                let mut rows = keep_all(&a);
                rows[0][DECISION] = "approve".into();
                rows
            },
            "line 2: unknown decision \"approve\"",
        ),
        (
            "an edited item column",
            {
                let mut rows = keep_all(&a);
                rows[0][ROLE] = "Workspace Owner".into();
                rows
            },
            "line 2: role says \"Workspace Owner\"",
        ),
    ];
    for (what, rows, said) in cases {
        write_sheet(&r.path("bad.csv"), &rows);
        let (code, _, err) = run(r.cmd(&emu).args([
            "review",
            "import",
            &r.s("a.db"),
            &r.s("bad.csv"),
            "--reviewer",
            REVIEWER,
        ]));
        assert_eq!(code, Some(2), "{what}: {err}");
        assert!(err.contains(said), "{what}: {err}");
        assert!(err.contains("nothing was imported"), "{what}: {err}");
        assert_eq!(r.decided(&emu, "a.db"), 0, "{what}: nothing recorded");
    }
    // The same sheet, right, goes in whole; from standard input too.
    let text = {
        write_sheet(&r.path("good.csv"), &keep_all(&a));
        std::fs::read_to_string(r.path("good.csv")).unwrap()
    };
    let (code, _, err) = run(r
        .cmd(&emu)
        .args([
            "review",
            "import",
            &r.s("a.db"),
            "-",
            "--reviewer",
            REVIEWER,
        ])
        .write_stdin(text));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(r.decided(&emu, "a.db"), a.len() as u64);
    // Without a reviewer, decisions are refused before anything is recorded.
    let (code, _, err) =
        run(r
            .cmd(&emu)
            .args(["review", "import", &r.s("b.db"), &r.s("good.csv")]));
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(r.decided(&emu, "b.db"), 0);
}

#[test]
fn killing_a_session_loses_no_decided_item() {
    let emu = fast(Seed::Small);
    let r = Review::new("review-kill");
    r.sync(&emu);
    small_campaign(&emu, &r, "k.db");
    let Some(s) = screen(
        &emu,
        &r.path("state"),
        &format!("review '{}' --reviewer {REVIEWER}", r.s("k.db")),
    ) else {
        return;
    };
    let pid = s.pid();
    s.press("[1/3]", "k", "saved (1 of");
    s.press("[2/3]", "r", "saved (2 of");
    s.press("[3/3]", "f", "saved (3 of");
    s.wait_for("[1/3]");
    // Mid-session, with a comment being typed: killed outright.
    s.type_text("c");
    s.wait_for("comment:");
    s.type_text("half a thoug");
    let killed = Process::new("kill")
        .args(["-9", &pid])
        .status()
        .expect("kill runs")
        .success();
    assert!(killed);
    s.wait_for("EXITED 137");
    drop(s);
    assert_eq!(r.decided(&emu, "k.db"), 3, "every decided item is kept");
    let conn = rusqlite::Connection::open(r.path("k.db")).expect("campaign opens");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    // Resumed, it starts at the first item left.
    let Some(s) = screen(
        &emu,
        &r.path("state"),
        &format!("review '{}' --reviewer {REVIEWER}", r.s("k.db")),
    ) else {
        return;
    };
    let screen = s.wait_for("undecided >");
    assert!(screen.contains("3 decided, 5 left"), "{screen}");
    s.keys(&["C-c"]);
    s.wait_for("EXITED 130");
    assert_eq!(r.decided(&emu, "k.db"), 3);
}

#[test]
fn apply_carries_out_each_revoke_once_and_a_membership_once_for_all_it_gives() {
    let emu = fast(Seed::Small);
    let r = Review::new("review-apply");
    r.sync(&emu);
    r.start(&emu, "a.db", &["--user", "alan.turing@acme.example"]);
    let sheet = r.export(&emu, "a.db");
    // Revoke one direct grant, and one grant Alan holds through Mobile Team; keep the rest.
    let rows: Vec<Vec<String>> = sheet
        .iter()
        .map(|x| {
            let mut x = owned(x);
            let direct_ios = x[8] == "direct" && x[6] == "source:iOS App";
            let via_mobile = x[8] == "group:Mobile Team" && x[6] == "source:Android App";
            x[DECISION] = if direct_ios || via_mobile {
                "revoke"
            } else {
                "keep"
            }
            .into();
            x
        })
        .collect();
    let revokes = rows.iter().filter(|x| x[DECISION] == "revoke").count();
    assert_eq!(revokes, 2, "{rows:?}");
    write_sheet(&r.path("s.csv"), &rows);
    let (code, _, err) = run(r.cmd(&emu).args([
        "review",
        "import",
        &r.s("a.db"),
        &r.s("s.csv"),
        "--reviewer",
        REVIEWER,
    ]));
    assert_eq!(code, Some(0), "{err}");

    // The plan: the direct grant, and the membership with what else goes with it.
    let (code, out, err) = run(r
        .cmd(&emu)
        .args(["review", "apply", &r.s("a.db"), "--dry-run"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("- Source Admin on source:iOS App"), "{err}");
    assert!(err.contains("- member of group:Mobile Team"), "{err}");
    assert!(
        err.contains("2 revoke decision(s), carried out by 2 change(s)"),
        "{err}"
    );
    assert!(
        err.contains("cannot be taken from one member: the membership goes instead"),
        "{err}"
    );
    assert!(
        err.contains("with the membership alan.turing@acme.example also loses: Source Admin on source:iOS App"),
        "{err}"
    );
    assert!(
        err.contains("note: decided keep in this review, but goes with the membership: member of group:Mobile Team; Source Admin on source:iOS App (via group:Mobile Team)"),
        "{err}"
    );
    assert_eq!(out.matches("planned").count(), 2, "{out}");
    assert_eq!(write_requests(&emu), 0);

    let (code, _, err) = run(r.cmd(&emu).args(["review", "apply", &r.s("a.db"), "--yes"]));
    assert_eq!(code, Some(0), "{err}");
    let writes = write_requests(&emu);
    let lines = journal_lines(&r.path("state"));
    assert_eq!(lines, 2, "one journal line per change");
    let after = state(&emu);
    let alan = user_by_email(&after, "alan.turing@acme.example");
    assert!(!source_ids(alan, "Source Admin").contains(&source_id(&after, "iOS App")));

    // Again: nothing is applied twice, and the plan says why.
    let (code, _, err) = run(r.cmd(&emu).args(["review", "apply", &r.s("a.db"), "--yes"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("2 revoke decision(s) already carried out (journal entry"),
        "{err}"
    );
    assert!(err.contains("nothing to change"), "{err}");
    assert_eq!(write_requests(&emu), writes, "no write the second time");
    assert_eq!(journal_lines(&r.path("state")), lines);
    // And the changes are an ordinary journal entry: `undo` would put them back.
    let entry = last_entry_id(&r.path("state"));
    let (code, _, err) = run(r.cmd(&emu).args(["undo", "--id", &entry, "--dry-run"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("Mobile Team"), "{err}");
}

#[test]
fn a_campaign_is_refused_when_its_snapshot_changes_and_the_walk_needs_a_terminal() {
    let emu = fast(Seed::Small);
    let r = Review::new("review-refusals");
    r.sync(&emu);
    small_campaign(&emu, &r, "c.db");
    // Not on a terminal: the walk is a usage error that points at the spreadsheet.
    let (code, _, err) = run(r.cmd(&emu).args(["review", &r.s("c.db")]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("review export"), "{err}");
    // Unfinished: close says what is left, and writes nothing.
    let (code, _, err) =
        run(r
            .cmd(&emu)
            .args(["review", "close", &r.s("c.db"), "--out", &r.s("pack")]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("8 items undecided"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert!(!r.path("pack").exists());
    // The workspace changes and the snapshot is synced again over the same file: the campaign
    // refuses to go on.
    let st = state(&emu);
    let alan = user_by_email(&st, "alan.turing@acme.example");
    put_json(
        &format!(
            "{}/_emulator/users/{}/permissions",
            emu.url(),
            alan["id"].as_str().unwrap()
        ),
        json!({"permissions": []}),
    );
    r.sync(&emu);
    for args in [
        vec!["review", "status"],
        vec!["review", "export"],
        vec!["review", "apply", "--dry-run"],
    ] {
        let (code, _, err) = run(r.cmd(&emu).args(&args).arg(r.s("c.db")));
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert!(err.contains("changed since campaign"), "{args:?}: {err}");
    }
    // Not a campaign at all.
    let (code, _, err) = run(r.cmd(&emu).args(["review", "status", &r.s("snap.db")]));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("is a snapshot, not a review campaign"),
        "{err}"
    );
}

#[test]
fn status_and_export_speak_every_format_and_a_policy_preflags() {
    let emu = fast(Seed::Small);
    let r = Review::new("review-formats");
    r.sync(&emu);
    std::fs::write(
        r.path("policy.toml"),
        "version = 1\n\n[rules.no_direct_grants]\nexcept_roles = [\"Workspace Owner\"]\n",
    )
    .unwrap();
    r.start(
        &emu,
        "p.db",
        &[
            "--user",
            "alan.turing@acme.example",
            "--policy",
            &r.s("policy.toml"),
        ],
    );
    let rows: Vec<Value> = parse_ndjson(&stdout_of(r.cmd(&emu).args([
        "review",
        "export",
        &r.s("p.db"),
        "--format",
        "ndjson",
    ])));
    let flagged: Vec<&Value> = rows
        .iter()
        .filter(|x| {
            x["policy"]
                .as_str()
                .unwrap_or("")
                .contains("no_direct_grants")
        })
        .collect();
    assert!(!flagged.is_empty(), "{rows:?}");
    assert!(flagged.iter().all(|x| x["via"] == "direct"), "{flagged:?}");
    let md = stdout_of(
        r.cmd(&emu)
            .args(["review", "status", &r.s("p.db"), "--format", "md"]),
    );
    assert!(md.starts_with("| DECISION | REVIEWER | ITEMS |"), "{md}");
    let csv = stdout_of(
        r.cmd(&emu)
            .args(["review", "status", &r.s("p.db"), "--format", "csv"]),
    );
    assert!(csv.starts_with("decision,reviewer,items\n"), "{csv}");
    assert!(csv.contains(&format!("undecided,,{}", rows.len())), "{csv}");
    // --out writes a private file.
    let (code, _, err) =
        run(r
            .cmd(&emu)
            .args(["review", "export", &r.s("p.db"), "--out", &r.s("sheet.csv")]));
    assert_eq!(code, Some(0), "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(r.path("sheet.csv"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn the_walk_fits_an_80_column_terminal() {
    let emu = fast(Seed::Large);
    let r = Review::new("review-narrow");
    r.sync(&emu);
    r.start(&emu, "n.db", &[]);
    let Some(s) = Screen::start_with(
        &emu,
        &Spec {
            width: 80,
            height: 24,
            state: Some(&r.path("state")),
            ..Spec::new(
                "review-narrow-screen",
                &format!("review '{}' --reviewer {REVIEWER}", r.s("n.db")),
            )
        },
    ) else {
        return;
    };
    s.wait_for("undecided >");
    let screen = s.visible();
    let lines: Vec<&str> = screen.lines().filter(|l| !l.trim().is_empty()).collect();
    for l in &lines {
        assert!(
            l.chars().count() <= 80,
            "a line wider than the terminal: {l:?}\n{screen}"
        );
    }
    // Cut cells end in an ellipsis (the large seed's names do not fit whole) and the prompt
    // is one line that ends where the answer is typed.
    assert!(screen.contains('…'), "{screen}");
    let prompt = lines.last().expect("a prompt");
    assert!(
        prompt.trim_start().starts_with("[1/") && prompt.ends_with(" >"),
        "{screen}"
    );
    s.type_text("q");
    s.wait_for("EXITED 0");
}
