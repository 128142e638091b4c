//! Outside tools some tests drive (tmux, secret-tool, keyctl). A missing one fails the test
//! in CI, where `CI` is set and scripts/test.sh installs them, so a green CI run never hides
//! a test that did not run; elsewhere the test skips and says so.

use std::path::Path;

/// Whether this is a CI run: `CI` is set to anything but empty, `0` or `false`.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

fn on_path(tool: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| is_executable(&dir.join(tool)))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// Whether `tool` is on PATH, for a test that cannot do its work without it. Missing: panics
/// in CI; elsewhere prints that the test skips (the caller then returns) and gives false.
/// `package` is what scripts/test.sh installs to provide it.
pub fn have_tool(tool: &str, package: &str) -> bool {
    if on_path(tool) {
        return true;
    }
    let missing = format!("{tool} is not installed (scripts/test.sh installs {package})");
    assert!(
        !in_ci(),
        "{missing}; CI is set, so this fails instead of skipping"
    );
    eprintln!("{missing}; skipping");
    false
}
