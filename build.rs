//! Records the git commit the binary is built from, for `--version`.
//!
//! `SEGMENT_ACCESS_GIT_COMMIT` is the 12-character commit, `-dirty` when tracked files differ
//! from it, or `unknown` when git or the repository is missing (a crates.io tarball, a vendored
//! copy): a build must never fail for want of version decoration.

use std::path::Path;
use std::process::Command;

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]);
    let version = match &commit {
        Some(c) => {
            // Tracked files only: untracked scratch files do not make a build "dirty".
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some();
            if dirty {
                format!("{c}-dirty")
            } else {
                c.clone()
            }
        }
        None => "unknown".to_string(),
    };
    println!("cargo:rustc-env=SEGMENT_ACCESS_GIT_COMMIT={version}");

    if commit.is_some() {
        // Paths come from git itself because in a worktree `.git` is a file and the refs live
        // in the main repository's directory.
        for p in ["HEAD", "packed-refs", "index"] {
            watch_git_path(p);
        }
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch_git_path(&r);
        }
    }
    // Edits to the sources change the dirty flag without touching .git, and once any
    // rerun-if-changed is printed cargo stops rerunning on them by itself. Docs and tests are
    // left out on purpose: editing them would recompile the crate for a flag alone.
    for p in ["src", "Cargo.toml", "Cargo.lock", "build.rs"] {
        println!("cargo:rerun-if-changed={p}");
    }
}

fn watch_git_path(name: &str) {
    if let Some(p) = git(&["rev-parse", "--path-format=absolute", "--git-path", name])
        && Path::new(&p).exists()
    {
        println!("cargo:rerun-if-changed={p}");
    }
}

fn git(args: &[&str]) -> Option<String> {
    // `git status` rewrites the index it refreshes (in a fresh clone, every time), and the
    // index is watched above: the next cargo run would rerun this script and rebuild the crate
    // for nothing (10 s of every fresh test run). Optional locks off: git reads, never writes.
    let out = Command::new("git")
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}
