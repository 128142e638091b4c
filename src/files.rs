//! Files the tool writes say who has access to what (journal, snapshots, config, reviews): they
//! are created readable by their owner only (0600) in directories only their owner can enter
//! (0700), whatever the umask.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

/// Creates `dir` and its missing parents, each new one 0700. Directories that already exist are
/// left as they are: they may be the user's own (a home, a shared folder).
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    b.mode(0o700);
    b.create(dir)
}

/// Options that create a file 0600 (an existing file keeps its mode until `make_private`).
pub(crate) fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    o.mode(0o600);
    o
}

/// Makes an open file 0600, for files an earlier version created with the umask's mode.
pub(crate) fn make_private(f: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        let mode = f.metadata()?.permissions().mode() & 0o777;
        if mode != 0o600 {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = f;
    Ok(())
}

/// Writes `bytes` to `path` through a private temporary file in the same directory and a
/// rename, so a crash never leaves half a file and the result is 0600.
pub(crate) fn write_private_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let tmp = tmp_path(path);
    let result = (|| {
        let mut f = private_options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        make_private(&f)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// An exclusive lock on a file, held until dropped (the OS releases it if the process dies).
pub(crate) struct Lock(#[allow(dead_code)] File);

/// Takes the lock at `path` (a private file, created if missing) without waiting; `Ok(None)`
/// when another process holds it.
pub(crate) fn try_lock(path: &Path) -> io::Result<Option<Lock>> {
    let f = lock_file(path)?;
    match f.try_lock() {
        Ok(()) => Ok(Some(Lock(f))),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Takes the lock at `path`, waiting for whoever holds it.
pub(crate) fn lock(path: &Path) -> io::Result<Lock> {
    let f = lock_file(path)?;
    f.lock()?;
    Ok(Lock(f))
}

fn lock_file(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let f = private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    make_private(&f)?;
    Ok(f)
}

/// `name.tmp-<pid>` next to `path`: unique per process, so two writers never share one.
pub(crate) fn tmp_path(path: &Path) -> std::path::PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn files_and_new_directories_are_private_whatever_the_umask() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_private_dir(&dir).unwrap();
        for d in [root.path().join("a"), dir.clone()] {
            let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", d.display());
        }
        let f = dir.join("x.toml");
        std::fs::write(&f, b"old").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private_atomic(&f, b"new").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"new");
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!tmp_path(&f).exists());
    }
}
