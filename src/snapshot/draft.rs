//! A snapshot on its way to its file: the temporary file next to the target, the earlier
//! snapshot a refresh starts from, and the commit that writes and renames it.

use std::path::{Path, PathBuf};

use crate::access::directory::Directory;

use super::SnapshotError;
use super::read::Snapshot;
use super::schema::SCHEMA_VERSION;
use super::write::{Counts, Meta, ReadKind, check_target, tmp_path, update_to, write_to};

/// Writes `dir` to `path`, every row.
#[cfg(test)]
pub(crate) fn write(path: &Path, dir: &Directory, meta: &Meta) -> Result<Counts, SnapshotError> {
    Draft::new(path)?
        .commit(dir, meta)
        .map(|(counts, _)| counts)
}

/// How a snapshot was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// Every row, into an empty file.
    Whole,
    /// Only what changed, into a copy of the snapshot it was refreshed from.
    Changes,
}

/// A snapshot on its way to `target`: its private temporary file next to the target and, for a
/// refresh, the earlier snapshot, read from a copy of its file made in that temporary file.
///
/// Reading the copy rather than the original means the copy's rows are exactly those the
/// earlier directory was read from, even if another process replaces the original meanwhile
/// (two cached answers at once). A refresh then writes only the rows that changed, a few
/// hundred of 57,000 grants on 2,000 users, instead of all of them. A draft dropped before
/// its commit removes its temporary file.
pub(crate) struct Draft {
    target: PathBuf,
    tmp: PathBuf,
    base: Option<Snapshot>,
    committed: bool,
}

impl Draft {
    /// Checks that a snapshot can be written to `target` (see [`check_target`]), before
    /// minutes of reading rather than after.
    pub(crate) fn new(target: &Path) -> Result<Draft, SnapshotError> {
        check_target(target)?;
        Ok(Draft {
            target: target.to_path_buf(),
            tmp: tmp_path(target),
            base: None,
            committed: false,
        })
    }

    /// Reads the earlier snapshot at `path` (the target itself for `--update`) through a copy
    /// in the temporary file. Errors name `path`, as [`super::read`]'s do.
    pub(crate) fn read_base(&mut self, path: &Path) -> Result<&Snapshot, SnapshotError> {
        self.base = None;
        super::read::check_file(path)?;
        let shown = path.display().to_string();
        copy_into(path, &self.tmp).map_err(|source| SnapshotError::Io {
            path: shown.clone(),
            source,
        })?;
        let snapshot = super::read::open(&self.tmp, &shown)?;
        Ok(self.base.insert(snapshot))
    }

    /// The earlier snapshot, when [`Draft::read_base`] read one.
    pub(crate) fn base(&self) -> Option<&Snapshot> {
        self.base.as_ref()
    }

    /// Writes `dir` and renames the file over the target: only the changes when `meta` says
    /// it was refreshed from the base and this build wrote the base, every row otherwise.
    pub(crate) fn commit(
        mut self,
        dir: &Directory,
        meta: &Meta,
    ) -> Result<(Counts, Written), SnapshotError> {
        let shown = self.target.display().to_string();
        let sqlite = |source| SnapshotError::Sqlite {
            path: shown.clone(),
            source,
        };
        let io = |source| SnapshotError::Io {
            path: shown.clone(),
            source,
        };
        let base = self
            .base
            .take()
            .filter(|b| meta.read.kind == ReadKind::Refresh && same_writer(b, meta));
        let (counts, written) = match base {
            Some(base) => (
                update_to(&self.tmp, &base.dir, dir, meta).map_err(sqlite)?,
                Written::Changes,
            ),
            None => {
                // Empty again: it may hold a copy of the base.
                crate::files::private_options()
                    .write(true)
                    .truncate(true)
                    .open(&self.tmp)
                    .map_err(io)?;
                (
                    write_to(&self.tmp, dir, meta).map_err(sqlite)?,
                    Written::Whole,
                )
            }
        };
        std::fs::File::open(&self.tmp)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
        std::fs::rename(&self.tmp, &self.target).map_err(io)?;
        self.committed = true;
        Ok((counts, written))
    }
}

impl Drop for Draft {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Whether the base's grant rows are what this build derives from its directory: written by
/// the same version into the same schema. Another version may derive grants differently, and
/// its rows are then rewritten in full rather than patched.
fn same_writer(base: &Snapshot, meta: &Meta) -> bool {
    base.meta.get("tool_version") == Some(&meta.tool_version)
        && base.meta.get("schema_version") == Some(&SCHEMA_VERSION.to_string())
}

/// Copies `from` into the existing private file `to` (a kernel copy on Linux).
fn copy_into(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut src = std::fs::File::open(from)?;
    let mut dst = crate::files::private_options()
        .write(true)
        .truncate(true)
        .open(to)?;
    std::io::copy(&mut src, &mut dst)?;
    Ok(())
}
