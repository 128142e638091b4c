//! `segment-access environment` (also `segment-access help environment`): every environment
//! variable the tool reads and every file it writes, with this machine's paths.
//!
//! A real command rather than a help topic because clap owns `help`: `help environment` works
//! for free by printing this command's long help, which is the same text the command prints.

use std::io::Write;

use clap::Args;

use super::{CliError, ExitCode};
use crate::output::OutputError;

/// Every variable the tool reads. tests/e2e/ecosystem.rs checks the sources name no others.
pub(crate) const VARIABLES: &[(&str, &str)] = &[
    (
        "SEGMENT_TOKEN",
        "API token, unless --token-stdin (never printed)",
    ),
    ("SEGMENT_PROFILE", "profile to use (--profile)"),
    ("SEGMENT_API_URL", "API base URL (--api-url)"),
    ("SEGMENT_REGION", "us or eu (--region)"),
    (
        "SEGMENT_ACCESS_CONFIG_DIR",
        "directory of config.toml (default below)",
    ),
    (
        "SEGMENT_ACCESS_STATE_DIR",
        "directory of the change journal (default below)",
    ),
    (
        "SEGMENT_ACCESS_CACHE_DIR",
        "directory of the per-profile caches of --cached (default: the platform cache directory)",
    ),
    (
        "SEGMENT_ACCESS_REVIEWER",
        "reviewer email recorded with review decisions (--reviewer)",
    ),
    (
        "SEGMENT_ACCESS_NO_SECRET_SERVICE",
        "non-empty: skip the Secret Service, use the kernel keyring (Linux)",
    ),
    ("NO_COLOR", "non-empty: no colour (--color wins)"),
    (
        "CLICOLOR_FORCE",
        "non-empty, not 0: colour into pipes (NO_COLOR wins)",
    ),
    (
        "USER",
        "who made a change, as the journal records it (user@host)",
    ),
    ("LOGNAME", "the same, when USER is not set"),
    ("USERNAME", "the same, when neither is set (Windows)"),
    (
        "HOSTNAME",
        "the host in user@host, when /proc does not name it",
    ),
    ("COMPUTERNAME", "the same, on Windows"),
];

pub(crate) const ABOUT: &str = "Environment variables the tool reads and files it writes";

#[derive(Debug, Args)]
pub struct EnvironmentArgs {}

/// Where files go, as shown to the reader.
pub(crate) struct Paths {
    pub config: String,
    pub state: String,
}

impl Paths {
    /// This machine's paths, honouring SEGMENT_ACCESS_CONFIG_DIR and SEGMENT_ACCESS_STATE_DIR.
    pub(crate) fn here() -> Paths {
        let config_dir = crate::auth::profiles::config_dir().ok();
        let unknown = "(no home directory: set SEGMENT_ACCESS_CONFIG_DIR)".to_string();
        Paths {
            config: config_dir
                .map(|d| d.join("config.toml").display().to_string())
                .unwrap_or_else(|| unknown.clone()),
            // The journal's own lookup, so this never disagrees with where it is written.
            state: crate::access::journal::default_dir()
                .map(|d| {
                    crate::access::journal::Journal::at(&d)
                        .path()
                        .display()
                        .to_string()
                })
                .unwrap_or(unknown),
        }
    }

    /// Every platform's paths, for pages rendered on one machine and read on another.
    pub(crate) fn portable() -> Paths {
        Paths {
            config: "Linux: $XDG_CONFIG_HOME/segment-access/config.toml (default ~/.config/...); \
                     macOS: ~/Library/Application Support/segment-access/config.toml; \
                     Windows: %APPDATA%\\segment-access\\config\\config.toml"
                .to_string(),
            state: "Linux: $XDG_STATE_HOME/segment-access/journal.ndjson (default ~/.local/state/...); \
                    macOS: ~/Library/Application Support/segment-access/journal.ndjson; \
                    Windows: %LOCALAPPDATA%\\segment-access\\data\\journal.ndjson"
                .to_string(),
        }
    }
}

/// The whole topic, for both the command's output and its long help.
pub(crate) fn text(paths: &Paths) -> String {
    let width = VARIABLES.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut s = String::from("Environment variables:\n");
    for (name, meaning) in VARIABLES {
        s.push_str(&format!("  {name:<width$}  {meaning}\n"));
    }
    s.push_str(&format!(
        "\n\
         Files:\n  \
         Profiles (settings, never tokens):\n    {}\n  \
         Change journal, one line per change made (`undo` reads it; 0600):\n    {}\n  \
         Workspace locks, next to the journal in locks/ (one writer per workspace at a time).\n  \
         Snapshots: wherever `sync --out` says (SQLite files, never the token).\n\
         \n\
         Flags win over variables; --help of each command shows which flag reads which variable.\n\
         On Linux the directories follow XDG_CONFIG_HOME and XDG_STATE_HOME.",
        paths.config, paths.state
    ));
    s
}

pub(crate) fn long_about() -> String {
    format!("{ABOUT}.\n\n{}", text(&Paths::here()))
}

pub(crate) fn run(_args: EnvironmentArgs) -> Result<ExitCode, CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", text(&Paths::here()))
        .and_then(|()| out.flush())
        .map_err(|e| CliError::from(OutputError::Io(e)))?;
    Ok(ExitCode::Ok)
}
