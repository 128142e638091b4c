//! The local journal: one NDJSON line per applied command, holding the exact permissions and
//! memberships each change replaced, so `undo` can put them back.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::segment::models::{MinimalUserGroup, Permission};

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

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Entry {
    pub id: String,
    /// RFC 7231 date of when the change was applied.
    pub time: String,
    /// The command line's verb: grant, revoke, invite, revoke-invite, remove-user, undo.
    pub command: String,
    /// The workspace the change was made in; undo refuses to act on another.
    pub workspace_id: String,
    /// Set on the entry `undo` writes: the id of the entry it undid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<String>,
    pub changes: Vec<Change>,
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

    /// Appends one entry as one line, flushed before returning.
    pub(crate) fn append(&self, entry: &Entry) -> Result<(), JournalError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        }
        let mut line = serde_json::to_vec(entry).map_err(|e| self.io(e.into()))?;
        line.push(b'\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| self.io(e))?;
        f.write_all(&line).map_err(|e| self.io(e))?;
        f.sync_data().map_err(|e| self.io(e))
    }

    /// Every entry, oldest first. A missing journal is an empty one.
    pub(crate) fn entries(&self) -> Result<Vec<Entry>, JournalError> {
        let f = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(e)),
        };
        let mut out = Vec::new();
        for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line = line.map_err(|e| self.io(e))?;
            if line.trim().is_empty() {
                continue;
            }
            let entry = serde_json::from_str(&line).map_err(|e| JournalError::Corrupt {
                path: self.path.display().to_string(),
                line: i + 1,
                message: e.to_string(),
            })?;
            out.push(entry);
        }
        Ok(out)
    }
}

/// The entries `undo` may still undo, newest first: not undo entries, not undone already.
pub(crate) fn undoable(entries: &[Entry]) -> Vec<&Entry> {
    let undone: Vec<&str> = entries.iter().filter_map(|e| e.undoes.as_deref()).collect();
    entries
        .iter()
        .rev()
        .filter(|e| e.undoes.is_none() && !undone.contains(&e.id.as_str()))
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

pub(crate) fn now() -> String {
    httpdate::fmt_http_date(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, undoes: Option<&str>) -> Entry {
        Entry {
            id: id.into(),
            time: now(),
            command: "grant".into(),
            workspace_id: "w".into(),
            undoes: undoes.map(String::from),
            changes: vec![Change::Invite {
                email: "a@x.com".into(),
                created: true,
                groups: vec![],
            }],
        }
    }

    #[test]
    fn round_trips_and_skips_what_was_undone() {
        let dir = std::env::temp_dir().join(format!("sa-journal-{}", new_id()));
        let j = Journal::at(&dir);
        assert!(j.entries().unwrap().is_empty());
        j.append(&entry("a", None)).unwrap();
        j.append(&entry("b", None)).unwrap();
        j.append(&entry("c", Some("b"))).unwrap();
        let all = j.entries().unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0], entry_with_time(&all[0], "a", None));
        let ids: Vec<&str> = undoable(&all).iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["a"]);
        let _ = std::fs::remove_dir_all(dir);
    }

    fn entry_with_time(e: &Entry, id: &str, undoes: Option<&str>) -> Entry {
        Entry {
            time: e.time.clone(),
            ..entry(id, undoes)
        }
    }
}
