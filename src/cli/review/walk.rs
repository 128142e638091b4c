//! `segment-access review REVIEW.db`: a campaign decided on a terminal, person by person, one key
//! per decision. Every decision is committed to the campaign file before the next item is shown,
//! so quitting, Ctrl-C or a kill loses nothing decided; running it again resumes at the first
//! undecided item.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::access::review::campaign::{Decided, NewDecision};
use crate::access::review::items::{Item, describe, whom};
use crate::access::review::sheet::person_display;
use crate::access::review::{Campaign, Decision, ReviewError};

use super::{CampaignArg, CliError, Context, ExitCode, ReviewerArg, open, reviewer, shown};
use crate::output::table;

/// Tables and prompts are indented under the person's heading.
const INDENT: &str = "  ";

#[derive(Debug, Args)]
pub struct WalkArgs {
    /// Decide this campaign on a terminal, person by person (keys: k keep, r revoke, f flag,
    /// c comment, n next, b back, q quit, ? help).
    #[arg(value_name = "REVIEW.db", required = true)]
    pub campaign: Option<PathBuf>,
    /// The campaign's snapshot, when it has moved since `review start` (its SHA-256 must match).
    #[arg(long, value_name = "FILE.db")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub reviewer: ReviewerArg,
}

/// A key the walk understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Char(char),
    Enter,
    Escape,
    CtrlC,
    Up,
    Down,
    Other,
}

/// Where keys come from: the terminal, or a script in tests.
pub(crate) trait Keys {
    /// One key press, without echo.
    fn key(&mut self) -> std::io::Result<Key>;
    /// A line of text, echoed as it is typed.
    fn line(&mut self) -> std::io::Result<String>;
}

/// Keys from the terminal (stdin, or /dev/tty when stdin is a pipe).
struct TermKeys(console::Term);

impl Keys for TermKeys {
    fn key(&mut self) -> std::io::Result<Key> {
        Ok(match self.0.read_key_raw()? {
            console::Key::Char(c) => Key::Char(c),
            console::Key::Enter => Key::Enter,
            console::Key::Escape => Key::Escape,
            console::Key::CtrlC => Key::CtrlC,
            console::Key::ArrowUp | console::Key::ArrowLeft => Key::Up,
            console::Key::ArrowDown | console::Key::ArrowRight => Key::Down,
            _ => Key::Other,
        })
    }

    fn line(&mut self) -> std::io::Result<String> {
        self.0.read_line()
    }
}

const KEYS: &str = "k keep  r revoke  f flag  c comment  n next  b back  q quit  ? help";

const KEY_HELP: &str = concat!(
    "  k         keep: the access stays\n",
    "  r         revoke: `review apply` removes it (held through a group: the membership)\n",
    "  f         flag: someone else should look; neither kept nor revoked\n",
    "  c         comment on this item (recorded with its decision)\n",
    "  K         keep every undecided item of this person\n",
    "  n, Down   next item            b, Up   previous item\n",
    "  N         next person          B       previous person\n",
    "  q, Esc    quit: every decision is already saved (so is Ctrl-C)"
);

pub(super) fn run(args: WalkArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    let Some(file) = args.campaign else {
        return Err(CliError::usage(
            "name a campaign file: segment-access review REVIEW.db",
        ));
    };
    if !ctx.prompter.available() {
        return Err(CliError::usage(format!(
            "deciding item by item needs a terminal; in scripts use a spreadsheet: `segment-access review export {f} --out review.csv`, then `segment-access review import {f} review.csv`",
            f = shown(&file)
        )));
    }
    let arg = CampaignArg {
        campaign: file,
        snapshot: args.snapshot,
    };
    let (mut campaign, _) = open(&arg)?;
    campaign.refuse_if_closed()?;
    let mut keys = TermKeys(console::Term::stderr());
    let who = match reviewer(&args.reviewer, ctx)? {
        Some(r) => r,
        None => ask_reviewer(&mut *ctx.io.err, &mut keys)?,
    };
    let wide = ctx.global.wide || ctx.global.format == Some(crate::output::Format::Wide);
    let width = if wide { None } else { ctx.term.err_width };
    session(&mut campaign, &who, width, &mut *ctx.io.err, &mut keys)
}

/// Asks once per session who is reviewing.
fn ask_reviewer(out: &mut dyn Write, keys: &mut dyn Keys) -> Result<String, CliError> {
    for _ in 0..3 {
        let _ = write!(out, "Reviewer (your email, recorded with every decision): ");
        let _ = out.flush();
        let line = keys
            .line()
            .map_err(|e| CliError::failure(format!("cannot read from the terminal: {e}")))?;
        if line.trim().is_empty() {
            return Err(super::no_reviewer());
        }
        match crate::access::accounts::check_email(&line) {
            Ok(e) => return Ok(e),
            Err(m) => {
                let _ = writeln!(out, "{m}");
            }
        }
    }
    Err(super::no_reviewer())
}

/// Where the walk is and what it knows.
struct Walk<'a> {
    campaign: &'a mut Campaign,
    reviewer: &'a str,
    /// The terminal's width: tables and prompts fit it (`None`: values whole).
    width: Option<usize>,
    items: Vec<Item>,
    decisions: std::collections::HashMap<String, Decided>,
    /// Per item, the index of its person in `people`.
    person_of: Vec<usize>,
    /// Per person, the indexes of their items.
    people: Vec<Vec<usize>>,
    cur: usize,
    shown: Option<usize>,
    comment: Option<String>,
}

impl Walk<'_> {
    fn undecided(&self) -> usize {
        self.items.len() - self.decisions.len()
    }

    fn decided(&self, i: usize) -> Option<&Decided> {
        self.decisions.get(&self.items[i].id)
    }

    /// The next undecided item after `from`, wrapping around.
    fn next_undecided(&self, from: usize) -> Option<usize> {
        let n = self.items.len();
        (1..=n)
            .map(|k| (from + k) % n)
            .find(|&i| self.decided(i).is_none())
    }

    fn table(&self, out: &mut dyn Write, person: usize) {
        let idx = &self.people[person];
        let first = &self.items[idx[0]];
        let done = idx.iter().filter(|&&i| self.decided(i).is_some()).count();
        let _ = writeln!(
            out,
            "\n{} ({} of {}): {} of {} decided",
            person_display(first),
            person + 1,
            self.people.len(),
            done,
            idx.len()
        );
        let head = ["#", "ROLE", "RESOURCE", "LABELS", "VIA", "DECISION"];
        let rows: Vec<Vec<String>> = idx
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let r = &self.items[i].record;
                let mut decision = self
                    .decided(i)
                    .map(|d| d.decision.as_str().to_string())
                    .unwrap_or_default();
                if !self.items[i].findings.is_empty() {
                    decision.push_str(if decision.is_empty() {
                        "(policy)"
                    } else {
                        " (policy)"
                    });
                }
                vec![
                    (k + 1).to_string(),
                    r.role
                        .as_ref()
                        .map(|x| x.name.clone())
                        .unwrap_or_else(|| "(member)".into()),
                    r.resource.display(),
                    r.labels_display(),
                    r.via
                        .as_ref()
                        .map(|v| format!("group:{}", v.name))
                        .unwrap_or_else(|| "direct".into()),
                    decision,
                ]
            })
            .collect();
        let give = [
            table::CUT_LAST,
            table::CUT_LAST,
            table::CUT_NAMES,
            table::CUT_LISTS,
            table::CUT_NAMES,
            table::CUT_LAST,
        ];
        let style = table::Style {
            width: self.width.map(|w| w.saturating_sub(INDENT.len())),
            headers: true,
            bold: false,
        };
        for line in table::render(&head, &rows, &give, style) {
            let _ = writeln!(out, "{INDENT}{line}");
        }
    }

    fn prompt(&self, out: &mut dyn Write) {
        let p = self.person_of[self.cur];
        let idx = &self.people[p];
        let pos = idx.iter().position(|&i| i == self.cur).unwrap_or(0) + 1;
        let it = &self.items[self.cur];
        for f in &it.findings {
            let _ = writeln!(
                out,
                "{}",
                self.fit(format!("        policy: {}", f.display()))
            );
        }
        let state = match self.decided(self.cur) {
            Some(d) if d.comment.is_empty() => format!("{} by {}", d.decision.as_str(), d.reviewer),
            Some(d) => format!(
                "{} by {} ({:?})",
                d.decision.as_str(),
                d.reviewer,
                d.comment
            ),
            None => "undecided".to_string(),
        };
        let comment = self
            .comment
            .as_ref()
            .map(|c| format!(", comment {c:?}"))
            .unwrap_or_default();
        // The prompt stays on one line, so the answer is typed where the eye expects it.
        let line = format!(
            "{INDENT}[{pos}/{}] {}: {state}{comment}",
            idx.len(),
            describe(&it.record)
        );
        let _ = write!(out, "{} > ", self.fit_within(line, 3));
        let _ = out.flush();
    }

    /// Records a decision for the current item (now, committed) and says so.
    fn decide(&mut self, out: &mut dyn Write, d: Decision) -> Result<(), ReviewError> {
        let it = &self.items[self.cur];
        // A new decision without a new comment keeps the comment already recorded.
        let comment = self
            .comment
            .take()
            .or_else(|| self.decided(self.cur).map(|x| x.comment.clone()))
            .unwrap_or_default();
        let recorded = self.campaign.decide(&NewDecision {
            item_id: it.id.clone(),
            decision: d,
            reviewer: self.reviewer.to_string(),
            comment,
            source: "terminal".to_string(),
        })?;
        let hint = match (d, &it.record.via) {
            (Decision::Revoke, Some(v)) => format!(
                "; `review apply` removes the membership of group:{}",
                v.name
            ),
            _ => String::new(),
        };
        self.decisions.insert(it.id.clone(), recorded);
        let _ = writeln!(
            out,
            "{}, saved ({} of {} decided){hint}",
            d.as_str(),
            self.decisions.len(),
            self.items.len()
        );
        Ok(())
    }

    /// A line cut to the terminal's width, if there is one.
    fn fit(&self, line: String) -> String {
        self.fit_within(line, 0)
    }

    /// A line cut to leave `keep` columns of the terminal free.
    fn fit_within(&self, line: String, keep: usize) -> String {
        table::fit_line(&line, self.width.map(|w| w.saturating_sub(keep).max(20)))
    }

    fn go(&mut self, to: usize) {
        if to != self.cur {
            self.comment = None;
        }
        self.cur = to;
    }
}

/// The walk itself: keys in, decisions committed, text out.
pub(crate) fn session(
    campaign: &mut Campaign,
    reviewer: &str,
    width: Option<usize>,
    out: &mut dyn Write,
    keys: &mut dyn Keys,
) -> Result<ExitCode, CliError> {
    let items = campaign.items()?;
    let decisions = campaign.decisions()?;
    let mut people: Vec<Vec<usize>> = Vec::new();
    let mut person_of = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        match people.last_mut() {
            Some(v) if items[v[0]].person == it.person => v.push(i),
            _ => people.push(vec![i]),
        }
        person_of.push(people.len() - 1);
    }
    let info = campaign.info.clone();
    let path = shown(campaign.path());
    let mut w = Walk {
        campaign,
        reviewer,
        width,
        items,
        decisions,
        person_of,
        people,
        cur: 0,
        shown: None,
        comment: None,
    };
    let _ = writeln!(
        out,
        "Review {} of {}, population as of {} ({}); reviewer {reviewer}",
        info.id,
        info.workspace(),
        info.snapshot.taken_at,
        info.scope.describe()
    );
    let _ = writeln!(
        out,
        "{}, {}: {} decided, {} left. Every decision is saved as it is made.",
        whom(&w.items),
        super::count(w.items.len(), "item"),
        w.decisions.len(),
        w.undecided()
    );
    let _ = writeln!(out, "keys: {KEYS}");
    match w.next_undecided(w.items.len() - 1) {
        Some(i) => w.cur = i,
        None => {
            let _ = writeln!(
                out,
                "Every item has a decision; n and b revisit them, q quits."
            );
        }
    }
    loop {
        let p = w.person_of[w.cur];
        if w.shown != Some(p) {
            w.table(out, p);
            w.shown = Some(p);
        }
        w.prompt(out);
        let key = keys
            .key()
            .map_err(|e| CliError::failure(format!("cannot read from the terminal: {e}")))?;
        let decision = match key {
            Key::Char('k') => Some(Decision::Keep),
            Key::Char('r') => Some(Decision::Revoke),
            Key::Char('f') => Some(Decision::Flag),
            _ => None,
        };
        if let Some(d) = decision {
            let before = w.undecided();
            if let Err(e) = w.decide(out, d) {
                let _ = writeln!(out, "not saved: {e}");
                continue;
            }
            if before > 0 && w.undecided() == 0 {
                let _ = writeln!(
                    out,
                    "\nEvery item of campaign {} has a decision. Next: segment-access review apply {path}",
                    info.id
                );
                return Ok(ExitCode::Ok);
            }
            let next = w
                .next_undecided(w.cur)
                .unwrap_or((w.cur + 1).min(w.items.len() - 1));
            w.go(next);
            continue;
        }
        match key {
            Key::Char('K') => {
                let open: Vec<NewDecision> = w.people[p]
                    .iter()
                    .filter(|&&i| w.decided(i).is_none())
                    .map(|&i| NewDecision {
                        item_id: w.items[i].id.clone(),
                        decision: Decision::Keep,
                        reviewer: reviewer.to_string(),
                        comment: String::new(),
                        source: "terminal".to_string(),
                    })
                    .collect();
                let before = w.undecided();
                match w.campaign.decide_all(&open) {
                    Ok(done) => {
                        let n = done.len();
                        for d in done {
                            w.decisions.insert(d.item_id.clone(), d);
                        }
                        let _ = writeln!(
                            out,
                            "keep all: {n} item(s) kept, saved ({} of {} decided)",
                            w.decisions.len(),
                            w.items.len()
                        );
                    }
                    Err(e) => {
                        let _ = writeln!(out, "not saved: {e}");
                        continue;
                    }
                }
                if before > 0 && w.undecided() == 0 {
                    let _ = writeln!(
                        out,
                        "\nEvery item of campaign {} has a decision. Next: segment-access review apply {path}",
                        info.id
                    );
                    return Ok(ExitCode::Ok);
                }
                let last = *w.people[p].last().unwrap_or(&w.cur);
                if let Some(i) = w.next_undecided(last) {
                    w.go(i);
                }
            }
            Key::Char('c') => {
                let _ = write!(out, "\n    comment: ");
                let _ = out.flush();
                let text = keys.line().map_err(|e| {
                    CliError::failure(format!("cannot read from the terminal: {e}"))
                })?;
                let text = text.trim().to_string();
                match w.decided(w.cur).map(|d| d.decision) {
                    // Decided already: the comment is recorded with the same decision.
                    Some(d) if !text.is_empty() => {
                        w.comment = Some(text);
                        if let Err(e) = w.decide(out, d) {
                            let _ = writeln!(out, "not saved: {e}");
                        }
                    }
                    _ => w.comment = (!text.is_empty()).then_some(text),
                }
            }
            Key::Char('n') | Key::Down | Key::Enter => {
                if w.cur + 1 < w.items.len() {
                    let _ = writeln!(out, "next");
                    w.go(w.cur + 1);
                } else {
                    let _ = writeln!(out, "(the last item; b goes back, q quits)");
                }
            }
            Key::Char('b') | Key::Up => {
                if w.cur > 0 {
                    let _ = writeln!(out, "back");
                    w.go(w.cur - 1);
                } else {
                    let _ = writeln!(out, "(the first item)");
                }
            }
            Key::Char('N') => match w.people.get(p + 1) {
                Some(v) => {
                    let _ = writeln!(out, "next person");
                    w.go(v[0]);
                }
                None => {
                    let _ = writeln!(out, "(the last person)");
                }
            },
            Key::Char('B') => {
                if p > 0 {
                    let _ = writeln!(out, "previous person");
                    w.go(w.people[p - 1][0]);
                } else {
                    let _ = writeln!(out, "(the first person)");
                }
            }
            Key::Char('?') | Key::Char('h') => {
                let _ = writeln!(out, "\n{KEY_HELP}");
            }
            Key::Char('q') | Key::Escape => {
                let _ = writeln!(
                    out,
                    "quit\n{} of {} decided, {} left; every decision is saved. Resume with: segment-access review {path}",
                    w.decisions.len(),
                    w.items.len(),
                    w.undecided()
                );
                return Ok(ExitCode::Ok);
            }
            Key::CtrlC => {
                let _ = writeln!(out);
                return Err(CliError::interrupted(format!(
                    "interrupted; {} of {} decided, every decision saved (resume with: segment-access review {path})",
                    w.decisions.len(),
                    w.items.len()
                )));
            }
            _ => {
                let _ = writeln!(out, "\n  keys: {KEYS}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::access::review::tests::sample_campaign;

    /// Keys from a script; running out is an error, as a closed terminal would be.
    struct Scripted {
        keys: VecDeque<Key>,
        lines: VecDeque<String>,
    }

    impl Scripted {
        fn new(keys: &str, lines: &[&str]) -> Scripted {
            Scripted {
                keys: keys
                    .chars()
                    .map(|c| match c {
                        '^' => Key::CtrlC,
                        '~' => Key::Escape,
                        c => Key::Char(c),
                    })
                    .collect(),
                lines: lines.iter().map(|l| l.to_string()).collect(),
            }
        }
    }

    impl Keys for Scripted {
        fn key(&mut self) -> std::io::Result<Key> {
            self.keys
                .pop_front()
                .ok_or_else(|| std::io::Error::other("no key left"))
        }

        fn line(&mut self) -> std::io::Result<String> {
            self.lines
                .pop_front()
                .ok_or_else(|| std::io::Error::other("no line left"))
        }
    }

    fn decisions(c: &Campaign) -> Vec<(String, String)> {
        let items = c.items().unwrap();
        let d = c.decisions().unwrap();
        items
            .iter()
            .map(|i| {
                let x = d.get(&i.id);
                (
                    x.map(|x| x.decision.as_str().to_string())
                        .unwrap_or_default(),
                    x.map(|x| x.comment.clone()).unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn keys_decide_comment_and_move_and_every_decision_is_saved() {
        let (_dir, path, mut c) = sample_campaign();
        let mut out = Vec::new();
        // keep; comment then revoke; back to the kept one and flag it; quit.
        let mut keys = Scripted::new("kcrbbfq", &["left the team"]);
        let code = session(&mut c, "ann@x.com", None, &mut out, &mut keys).unwrap();
        assert_eq!(code, ExitCode::Ok);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("ann@x.com (Name u1) (1 of 2)"), "{text}");
        assert!(
            text.contains("member of group:Analysts: undecided, comment \"left the team\" > revoke, saved (2 of 4 decided)"),
            "{text}"
        );
        let reopened = Campaign::open(&path).unwrap();
        assert_eq!(
            decisions(&reopened),
            vec![
                ("flag".into(), String::new()),
                ("revoke".into(), "left the team".into()),
                (String::new(), String::new()),
                (String::new(), String::new()),
            ]
        );
        // Resumes at the first undecided item; K keeps what is left of a person and the
        // last decision ends the walk.
        let mut out = Vec::new();
        let mut keys = Scripted::new("Kr", &[]);
        session(&mut c, "ann@x.com", None, &mut out, &mut keys).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("2 decided, 2 left"), "{text}");
        assert!(
            text.contains("[3/3] Source Read-only on source:ios"),
            "{text}"
        );
        assert!(text.contains("Every item of campaign"), "{text}");
        assert_eq!(decisions(&c)[2].0, "keep");
        assert_eq!(decisions(&c)[3].0, "revoke");
    }

    #[test]
    fn ctrl_c_ends_the_walk_keeping_what_was_decided() {
        let (_dir, path, mut c) = sample_campaign();
        let mut out = Vec::new();
        let mut keys = Scripted::new("kk^", &[]);
        let e = session(&mut c, "ann@x.com", None, &mut out, &mut keys)
            .err()
            .unwrap();
        assert_eq!(e.code(), ExitCode::Interrupted);
        assert!(e.message.contains("2 of 4 decided"), "{}", e.message);
        assert_eq!(Campaign::open(&path).unwrap().decisions().unwrap().len(), 2);
    }

    #[test]
    fn a_closed_terminal_ends_the_walk_with_decisions_kept() {
        let (_dir, _path, mut c) = sample_campaign();
        let mut out = Vec::new();
        let mut keys = Scripted::new("k", &[]);
        assert!(session(&mut c, "ann@x.com", None, &mut out, &mut keys).is_err());
        assert_eq!(c.decisions().unwrap().len(), 1);
    }
}
