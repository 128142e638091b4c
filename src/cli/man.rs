//! `segment-access man [--out DIR]`: man pages generated from the same clap definitions as
//! `--help`, one page per command (`segment-access-list-grants.1`, ...).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory};
use clap_mangen::Man;

use super::{Cli, CliError, ExitCode, environment};
use crate::output::OutputError;

pub(crate) const AFTER_HELP: &str = "\
Without --out, prints the page of segment-access itself to standard output; with --out, writes
one page per command into DIR (created if missing) and lists the files on stderr.

Examples:
  segment-access man | man -l -
  segment-access man --out ~/.local/share/man/man1 && man segment-access-list-grants";

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory to write every page into, instead of printing the top-level page.
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub out: Option<PathBuf>,
}

pub(crate) fn run(args: ManArgs, quiet: bool) -> Result<ExitCode, CliError> {
    match args.out {
        None => {
            let mut page = Vec::new();
            Man::new(root())
                .render(&mut page)
                .map_err(|e| CliError::failure(format!("cannot render the man page: {e}")))?;
            let mut out = std::io::stdout().lock();
            out.write_all(&page)
                .and_then(|()| out.flush())
                .map_err(|e| CliError::from(OutputError::Io(e)))?;
        }
        Some(dir) => {
            for path in write_all(&dir)? {
                if !quiet {
                    eprintln!("wrote {}", path.display());
                }
            }
        }
    }
    Ok(ExitCode::Ok)
}

/// Writes a page for the tool and for every visible command under it; returns the paths.
pub(crate) fn write_all(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::failure(format!("cannot create {}: {e}", dir.display())))?;
    let mut cmd = root();
    // Building gives nested commands their full names (segment-access-list-grants), which
    // become the page names.
    cmd.build();
    let mut written = Vec::new();
    write_tree(&cmd, dir, &mut written)?;
    Ok(written)
}

fn write_tree(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<(), CliError> {
    let path = Man::new(cmd.clone()).generate_to(dir).map_err(|e| {
        CliError::failure(format!(
            "cannot write a man page into {}: {e}",
            dir.display()
        ))
    })?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_tree(sub, dir, written)?;
    }
    Ok(())
}

/// The command tree as pages show it: no `help` pseudo-command, and the environment page
/// describes paths per platform instead of the ones of the machine that rendered it.
fn root() -> clap::Command {
    Cli::command()
        .disable_help_subcommand(true)
        .mut_subcommand("environment", |c| {
            c.long_about(environment::text(&environment::Paths::portable()))
        })
}
