//! The local journal: one NDJSON line per change that reached Segment, written and synced before
//! the next write is sent, holding the exact permissions and memberships each change replaced,
//! so `undo` can put them back.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::segment::models::{MinimalUserGroup, Permission, ResourceType};

use super::directory::ResourceNames;

use super::plan::GroupRef;
use super::record::Principal;

/// Overrides where the journal lives (tests, and people who want it elsewhere).
pub(crate) const STATE_DIR_ENV: &str = "SEGMENT_ACCESS_STATE_DIR";
const FILE: &str = "journal.ndjson";

/// One change as it was applied.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub(crate) enum Change {
    /// A user's or group's whole permission list before and after.
    Permissions {
        principal: Principal,
        before: Vec<Permission>,
        after: Vec<Permission>,
        /// Display names of the resources the lists point at (`type:id` -> name), so the
        /// journal reads in words without asking Segment.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        names: BTreeMap<String, String>,
    },
    /// A user or invite joined (`added`) or left a group.
    Membership {
        principal: Principal,
        group: GroupRef,
        added: bool,
    },
    /// An invite was created (`created`) or deleted.
    Invite {
        email: String,
        created: bool,
        #[serde(default)]
        groups: Vec<GroupRef>,
    },
    /// A user was removed from the workspace, with everything they held directly.
    UserRemoved {
        principal: Principal,
        permissions: Vec<Permission>,
        groups: Vec<MinimalUserGroup>,
    },
}

/// One journaled command: every change it made, in the order they landed.
impl Change {
    /// A permission change without resource names yet.
    pub(crate) fn permissions(
        principal: &Principal,
        before: Vec<Permission>,
        after: Vec<Permission>,
    ) -> Change {
        Change::Permissions {
            principal: principal.clone(),
            before,
            after,
            names: BTreeMap::new(),
        }
    }

    /// The same change, with the names of the resources it touches.
    pub(crate) fn named(mut self, known: &ResourceNames) -> Change {
        if let Change::Permissions {
            before,
            after,
            names,
            ..
        } = &mut self
        {
            for p in before.iter().chain(after.iter()) {
                for r in &p.resources {
                    if let Some(n) = known.get(r.resource_type, &r.id) {
                        names.insert(format!("{}:{}", r.resource_type.as_cli_str(), r.id), n);
                    }
                }
            }
        }
        self
    }

    /// What the change did, in words, one line each.
    pub(crate) fn describe(&self) -> Vec<String> {
        match self {
            Change::Permissions {
                principal,
                before,
                after,
                names,
            } => {
                let name = |t: ResourceType, id: &str| {
                    names.get(&format!("{}:{id}", t.as_cli_str())).cloned()
                };
                let changed: Vec<String> = super::plan::diff_lines(before, after, &name)
                    .into_iter()
                    .filter(|l| !l.starts_with(' '))
                    .collect();
                if changed.is_empty() {
                    vec![format!(
                        "{}: permissions rewritten, unchanged",
                        principal.display()
                    )]
                } else {
                    changed
                        .into_iter()
                        .map(|l| format!("{}: {l}", principal.display()))
                        .collect()
                }
            }
            Change::Membership {
                principal,
                group,
                added,
            } => vec![format!(
                "{}: {} member of group:{}",
                principal.display(),
                if *added { '+' } else { '-' },
                group.name
            )],
            Change::Invite { email, created, .. } => vec![format!(
                "{} invite {email}",
                if *created { '+' } else { '-' }
            )],
            Change::UserRemoved { principal, .. } => {
                vec![format!(
                    "- user {} removed from the workspace",
                    principal.display()
                )]
            }
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Entry {
    pub(crate) id: String,
    /// RFC 7231 date of when the first change landed.
    pub(crate) time: String,
    /// The command line's verb: grant, revoke, invite, revoke-invite, remove-user, undo.
    pub(crate) command: String,
    /// The workspace the change was made in; undo refuses to act on another.
    pub(crate) workspace_id: String,
    /// Set on the entry `undo` writes: the id of the entry it undid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) undoes: Option<String>,
    /// Who ran the command: `user@host` (absent in journals of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) by: Option<String>,
    pub(crate) changes: Vec<Change>,
}

/// What a journal line says about its entry.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct Head {
    entry: String,
    time: String,
    command: String,
    workspace_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    by: Option<String>,
}

/// One line of the journal. Each change is its own line, written (and synced) as it lands, so
/// a command stopped half-way leaves a journal that says exactly what it did.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(untagged)]
enum Line {
    Landed {
        #[serde(flatten)]
        head: Head,
        change: Change,
    },
    /// The last line of an undo that undid all of its entry.
    Closed {
        #[serde(flatten)]
        head: Head,
        undoes: String,
    },
    /// A whole entry on one line, as journals were written before changes were recorded one by
    /// one.
    Whole(Entry),
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum JournalError {
    #[error("no place for the journal: set {STATE_DIR_ENV} to a writable directory")]
    NoDir,
    #[error("journal {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("journal {path} line {line}: {message}")]
    Corrupt {
        path: String,
        line: usize,
        message: String,
    },
}

pub(crate) struct Journal {
    path: PathBuf,
}

/// Where the journal lives: `SEGMENT_ACCESS_STATE_DIR`, else the platform state directory
/// (Linux), else the local data directory (macOS, Windows have no state directory); `None` when
/// there is no home to put it in.
pub(crate) fn default_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(STATE_DIR_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let dirs = directories::ProjectDirs::from("", "", "segment-access")?;
    Some(
        dirs.state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .to_path_buf(),
    )
}

/// The journal as read: its entries, oldest first, and a warning when its last line was cut off.
#[derive(Debug, Default)]
pub(crate) struct Contents {
    pub(crate) entries: Vec<Entry>,
    pub(crate) torn: Option<String>,
}

impl Journal {
    /// The journal in `dir`, or the error that says how to give it one.
    pub(crate) fn open(dir: Option<&Path>) -> Result<Journal, JournalError> {
        dir.map(Journal::at).ok_or(JournalError::NoDir)
    }

    pub(crate) fn at(dir: &Path) -> Journal {
        Journal {
            path: dir.join(FILE),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> JournalError {
        JournalError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Opens the journal for one command's changes, before the first of them is sent: the
    /// directory and file are created (private) and opened for appending, so a journal that
    /// cannot be written stops the command before it changes anything. A last line cut off by a
    /// crash or a full disk is moved aside first (the warning says where), so it can never run
    /// into the next entry.
    pub(crate) fn writer(
        &self,
        command: &str,
        workspace_id: &str,
    ) -> Result<(Writer, Option<String>), JournalError> {
        if let Some(dir) = self.path.parent() {
            crate::files::create_private_dir(dir).map_err(|e| self.io(e))?;
        }
        let mut file = crate::files::private_options()
            .read(true)
            .append(true)
            .create(true)
            .open(&self.path)
            .map_err(|e| self.io(e))?;
        crate::files::make_private(&file).map_err(|e| self.io(e))?;
        let warning = self.set_aside_torn_tail(&mut file)?;
        let writer = Writer {
            file,
            path: self.path.clone(),
            head: Head {
                entry: new_id(),
                time: now(),
                command: command.to_string(),
                workspace_id: workspace_id.to_string(),
                by: who(),
            },
            written: 0,
        };
        Ok((writer, warning))
    }

    /// Moves a last line without its newline into `journal.ndjson.torn-<time>` and truncates the
    /// journal to its last whole line.
    fn set_aside_torn_tail(&self, file: &mut File) -> Result<Option<String>, JournalError> {
        let len = file.metadata().map_err(|e| self.io(e))?.len();
        if len == 0 {
            return Ok(None);
        }
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1))
            .map_err(|e| self.io(e))?;
        file.read_exact(&mut last).map_err(|e| self.io(e))?;
        if last[0] == b'\n' {
            return Ok(None);
        }
        let mut all = Vec::new();
        file.seek(SeekFrom::Start(0)).map_err(|e| self.io(e))?;
        file.read_to_end(&mut all).map_err(|e| self.io(e))?;
        let keep = all.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let mut name = self
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(format!(".torn-{}", new_id()));
        let aside = self.path.with_file_name(name);
        crate::files::write_private_atomic(&aside, &all[keep..]).map_err(|e| self.io(e))?;
        file.set_len(keep as u64).map_err(|e| self.io(e))?;
        file.sync_all().map_err(|e| self.io(e))?;
        Ok(Some(format!(
            "warning: the last line of the journal {} was cut off (a crash or a full disk while it was written); it was moved to {}",
            self.path.display(),
            aside.display()
        )))
    }

    /// Every entry, oldest first. A missing journal is an empty one. A cut-off last line is
    /// left out with a warning; any other unreadable line is an error.
    pub(crate) fn read(&self) -> Result<Contents, JournalError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Contents::default()),
            Err(e) => return Err(self.io(e)),
        };
        let text = String::from_utf8_lossy(&bytes);
        let complete = text.ends_with('\n');
        let lines: Vec<&str> = text.lines().collect();
        let mut out = Contents::default();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        for (i, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let parsed: Line = match serde_json::from_str(line) {
                Ok(l) => l,
                Err(e) if i + 1 == lines.len() && !complete => {
                    out.torn = Some(format!(
                        "warning: the last line of the journal {} was cut off ({e}); it is left out",
                        self.path.display()
                    ));
                    continue;
                }
                Err(e) => {
                    return Err(JournalError::Corrupt {
                        path: self.path.display().to_string(),
                        line: i + 1,
                        message: e.to_string(),
                    });
                }
            };
            let (head, change, undoes) = match parsed {
                Line::Whole(entry) => {
                    index.insert(entry.id.clone(), out.entries.len());
                    out.entries.push(entry);
                    continue;
                }
                Line::Landed { head, change } => (head, Some(change), None),
                Line::Closed { head, undoes } => (head, None, Some(undoes)),
            };
            let at = *index.entry(head.entry.clone()).or_insert_with(|| {
                out.entries.push(Entry {
                    id: head.entry.clone(),
                    time: head.time.clone(),
                    command: head.command.clone(),
                    workspace_id: head.workspace_id.clone(),
                    undoes: None,
                    by: head.by.clone(),
                    changes: Vec::new(),
                });
                out.entries.len() - 1
            });
            let entry = &mut out.entries[at];
            entry.changes.extend(change);
            if undoes.is_some() {
                entry.undoes = undoes;
            }
        }
        Ok(out)
    }
}

/// Appends one command's changes to the journal, each synced to disk before the next write is
/// sent to Segment.
pub(crate) struct Writer {
    file: File,
    path: PathBuf,
    head: Head,
    written: usize,
}

impl Writer {
    pub(crate) fn id(&self) -> &str {
        &self.head.entry
    }

    /// Changes recorded so far.
    pub(crate) fn written(&self) -> usize {
        self.written
    }

    fn append(&mut self, line: &Line) -> Result<(), JournalError> {
        let io = |source| JournalError::Io {
            path: self.path.display().to_string(),
            source,
        };
        let mut bytes = serde_json::to_vec(line).map_err(|e| io(e.into()))?;
        bytes.push(b'\n');
        self.file.write_all(&bytes).map_err(io)?;
        self.file.sync_data().map_err(io)
    }

    /// Records one change that landed.
    pub(crate) fn record(&mut self, change: &Change) -> Result<(), JournalError> {
        if self.written == 0 {
            // The entry's time is when its first change landed.
            self.head.time = now();
        }
        let line = Line::Landed {
            head: self.head.clone(),
            change: change.clone(),
        };
        self.append(&line)?;
        self.written += 1;
        Ok(())
    }

    /// Marks an undo entry as having undone `undoes` entirely.
    pub(crate) fn close(&mut self, undoes: &str) -> Result<(), JournalError> {
        let line = Line::Closed {
            head: self.head.clone(),
            undoes: undoes.to_string(),
        };
        self.append(&line)
    }
}

/// The entries `undo` may still undo, newest first: not undo entries, not undone already.
pub(crate) fn undoable(entries: &[Entry]) -> Vec<&Entry> {
    let undone: Vec<&str> = entries.iter().filter_map(|e| e.undoes.as_deref()).collect();
    entries
        .iter()
        .rev()
        .filter(|e| e.undoes.is_none() && !undone.contains(&e.id.as_str()))
        .filter(|e| !e.changes.is_empty())
        .collect()
}

/// A new entry id: the time in milliseconds and a random suffix, sortable and unique enough
/// for one person's journal.
pub(crate) fn new_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    format!("{ms:x}-{:04x}", rand::random::<u16>())
}

/// `user@host` of this process, as far as the environment tells.
fn who() -> Option<String> {
    let user = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .or_else(user_of_this_process)?;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty());
    Some(match host {
        Some(h) => format!("{user}@{h}"),
        None => user,
    })
}

/// The login name of this process's user from /etc/passwd, when the environment names none
/// (services, cron, containers).
#[cfg(unix)]
fn user_of_this_process() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    std::fs::read_to_string("/etc/passwd")
        .ok()?
        .lines()
        .find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id = f.nth(1)?;
            (id.parse::<u32>().ok()? == uid).then(|| name.to_string())
        })
}

#[cfg(not(unix))]
fn user_of_this_process() -> Option<String> {
    None
}

pub(crate) fn now() -> String {
    httpdate::fmt_http_date(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;

    use super::*;

    fn invite(email: &str) -> Change {
        Change::Invite {
            email: email.into(),
            created: true,
            groups: vec![],
        }
    }

    #[test]
    fn each_change_is_a_line_and_entries_are_rebuilt_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(dir.path());
        assert!(j.read().unwrap().entries.is_empty());
        let (mut a, warning) = j.writer("invite", "w").unwrap();
        assert!(warning.is_none());
        a.record(&invite("a@x.com")).unwrap();
        a.record(&invite("b@x.com")).unwrap();
        let (mut b, _) = j.writer("invite", "w").unwrap();
        b.record(&invite("c@x.com")).unwrap();
        let (mut u, _) = j.writer("undo", "w").unwrap();
        u.record(&invite("c@x.com")).unwrap();
        u.close(b.id()).unwrap();
        let text = std::fs::read_to_string(j.path()).unwrap();
        assert_eq!(text.lines().count(), 5, "{text}");
        let all = j.read().unwrap().entries;
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].changes, vec![invite("a@x.com"), invite("b@x.com")]);
        assert_eq!(all[2].undoes.as_deref(), Some(b.id()));
        let ids: Vec<&str> = undoable(&all).iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, [a.id()]);
    }

    #[test]
    fn old_whole_entry_lines_are_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(dir.path());
        let old = Entry {
            id: "old-1".into(),
            time: now(),
            command: "grant".into(),
            workspace_id: "w".into(),
            undoes: None,
            by: None,
            changes: vec![invite("a@x.com")],
        };
        std::fs::write(
            j.path(),
            format!("{}\n", serde_json::to_string(&old).unwrap()),
        )
        .unwrap();
        let (mut w, _) = j.writer("invite", "w").unwrap();
        w.record(&invite("b@x.com")).unwrap();
        let all = j.read().unwrap().entries;
        assert_eq!(all[0], old);
        assert_eq!(all[1].changes, vec![invite("b@x.com")]);
    }

    #[test]
    fn a_torn_last_line_is_set_aside_and_never_joins_the_next_entry() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(dir.path());
        let (mut w, _) = j.writer("invite", "w").unwrap();
        w.record(&invite("a@x.com")).unwrap();
        let mut f = OpenOptions::new().append(true).open(j.path()).unwrap();
        f.write_all(br#"{"entry":"x","time":"T","comm"#).unwrap();
        drop(f);
        let read = j.read().unwrap();
        assert_eq!(read.entries.len(), 1);
        assert!(read.torn.is_some());
        let (mut next, warning) = j.writer("invite", "w").unwrap();
        let warning = warning.expect("a warning names the torn line");
        assert!(warning.contains("cut off"), "{warning}");
        next.record(&invite("b@x.com")).unwrap();
        let read = j.read().unwrap();
        assert!(read.torn.is_none());
        assert_eq!(read.entries.len(), 2);
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".torn-"))
            .collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(
            std::fs::read(aside[0].path()).unwrap(),
            br#"{"entry":"x","time":"T","comm"#
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_journal_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(&dir.path().join("state"));
        let (mut w, _) = j.writer("invite", "w").unwrap();
        w.record(&invite("a@x.com")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(j.path()), 0o600);
        assert_eq!(mode(&dir.path().join("state")), 0o700);
    }

    #[test]
    fn an_unwritable_place_fails_before_anything() {
        let j = Journal::at(Path::new("/dev/null/state"));
        assert!(j.writer("grant", "w").is_err());
    }
}
