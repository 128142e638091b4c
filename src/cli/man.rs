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
            let mut cmd = root();
            cmd.build();
            let page = page(&cmd)
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
    // become the page names, and propagates the global flags to every command.
    cmd.build();
    let mut written = Vec::new();
    write_tree(&cmd, dir, &mut written)?;
    Ok(written)
}

fn write_tree(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<(), CliError> {
    let failed = |e: std::io::Error| {
        CliError::failure(format!(
            "cannot write a man page into {}: {e}",
            dir.display()
        ))
    };
    let path = dir.join(Man::new(cmd.clone()).get_filename());
    let text = page(cmd).map_err(failed)?;
    std::fs::write(&path, text).map_err(failed)?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_tree(sub, dir, written)?;
    }
    Ok(())
}

/// One page: clap_mangen's title, name, synopsis (ours: with argument names), description,
/// options (global ones in their own section) and commands; then the notes of the command's
/// help, its EXAMPLES as written (not reflowed), EXIT STATUS, ENVIRONMENT and SEE ALSO.
fn page(cmd: &clap::Command) -> std::io::Result<Vec<u8>> {
    let man = Man::new(cmd.clone().override_usage(synopsis(cmd)));
    let mut w = Vec::new();
    man.render_title(&mut w)?;
    man.render_name_section(&mut w)?;
    man.render_synopsis_section(&mut w)?;
    man.render_description_section(&mut w)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut w)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut w)?;
    }
    let after = cmd
        .get_after_long_help()
        .or(cmd.get_after_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let (notes, examples) = match after.split_once("Examples:\n") {
        Some((notes, examples)) => (notes.to_string(), examples.to_string()),
        None => (after.clone(), String::new()),
    };
    if !notes.trim().is_empty() {
        section(&mut w, "NOTES")?;
        for (i, para) in notes.trim().split("\n\n").enumerate() {
            if i > 0 {
                writeln!(w, ".PP")?;
            }
            for line in para.lines() {
                writeln!(w, "{}", text(line))?;
            }
        }
    }
    if !examples.trim().is_empty() {
        section(&mut w, "EXAMPLES")?;
        // Commands are copied as written: no filling, no adjusting.
        writeln!(w, ".nf")?;
        for line in examples.trim_end().lines() {
            writeln!(w, "{}", text(line))?;
        }
        writeln!(w, ".fi")?;
    }
    section(&mut w, "EXIT STATUS")?;
    for (code, meaning) in EXIT_STATUS {
        writeln!(w, ".TP\n{code}\n{}", text(meaning))?;
    }
    section(&mut w, "ENVIRONMENT")?;
    for (name, meaning) in environment::VARIABLES {
        let meaning = meaning.replace("(default below)", "(see segment-access-environment(1))");
        writeln!(w, ".TP\n\\fB{}\\fR\n{}", text(name), text(&meaning))?;
    }
    section(&mut w, "SEE ALSO")?;
    writeln!(w, "{}", text(&see_also(cmd).join(", ")))?;
    if cmd.get_version().is_some() || cmd.get_long_version().is_some() {
        man.render_version_section(&mut w)?;
    }
    Ok(w)
}

/// Exit codes (docs/exit-codes.md).
const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Success (diff: the two states are the same; check: no finding at or above --fail-on).",
    ),
    (
        "1",
        "Failure: an unknown name, a refused or failed change, an unreachable server (diff: they differ; check: findings).",
    ),
    (
        "2",
        "Usage error: a malformed command line, batch file or policy file. Nothing was changed.",
    ),
    (
        "3",
        "Partial failure in a batch: some records were applied, others failed (the report says which).",
    ),
    (
        "4",
        "Authentication problem: no token, a rejected token, or one without the access needed.",
    ),
    ("130", "Interrupted (Ctrl-C); 143 when terminated."),
];

fn section(w: &mut Vec<u8>, name: &str) -> std::io::Result<()> {
    writeln!(w, ".SH \"{name}\"")
}

/// A line of text as roff reads it: backslashes and hyphens escaped, a leading control
/// character neutralised, and characters some formatters lack spelled in ASCII.
fn text(line: &str) -> String {
    let escaped = line
        .replace('\\', "\\e")
        .replace('-', "\\-")
        .replace('\u{2026}', "...");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// The command line a page's synopsis shows: the command, then each of its own flags with its
/// value's name (`[--to PRINCIPAL]`, `[--on RESOURCE]...`), its arguments, and a place for the
/// global options or the commands below it.
fn synopsis(cmd: &clap::Command) -> String {
    let name = cmd
        .get_bin_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string();
    let mut parts = vec![name];
    let is_root = cmd.get_bin_name().is_none_or(|b| !b.contains(' '));
    if is_root {
        parts.push("[GLOBAL OPTIONS]".to_string());
    }
    let own: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| {
            !a.is_hide_set()
                && !a.is_global_set()
                && !matches!(a.get_id().as_str(), "help" | "version")
        })
        .collect();
    for a in own.iter().filter(|a| !a.is_positional()) {
        let flag = match (a.get_long(), a.get_short()) {
            (Some(l), _) => format!("--{l}"),
            (None, Some(s)) => format!("-{s}"),
            (None, None) => continue,
        };
        let takes_value = a.get_num_args().is_some_and(|n| n.takes_values())
            && !matches!(
                a.get_action(),
                clap::ArgAction::SetTrue | clap::ArgAction::SetFalse | clap::ArgAction::Count
            );
        let value = match (takes_value, a.get_value_names()) {
            (true, Some(names)) => format!(" {}", names.join(" ")),
            (true, None) => format!(" {}", a.get_id().as_str().to_uppercase()),
            (false, _) => String::new(),
        };
        let repeat = if matches!(
            a.get_action(),
            clap::ArgAction::Append | clap::ArgAction::Count
        ) {
            "..."
        } else {
            ""
        };
        let (open, close) = if a.is_required_set() {
            ("", "")
        } else {
            ("[", "]")
        };
        parts.push(format!("{open}{flag}{value}{close}{repeat}"));
    }
    for a in own.iter().filter(|a| a.is_positional()) {
        let value = a
            .get_value_names()
            .map(|n| n.join(" "))
            .unwrap_or_else(|| a.get_id().as_str().to_uppercase());
        let repeat = if matches!(a.get_action(), clap::ArgAction::Append) {
            "..."
        } else {
            ""
        };
        parts.push(if a.is_required_set() {
            format!("{value}{repeat}")
        } else {
            format!("[{value}]{repeat}")
        });
    }
    if cmd.has_subcommands() {
        parts.push("COMMAND".to_string());
    } else if !is_root {
        parts.push("[GLOBAL OPTIONS]".to_string());
    }
    parts.join(" ")
}

/// The pages next to this one: the one above, the ones below, and the environment topic.
fn see_also(cmd: &clap::Command) -> Vec<String> {
    let page = |name: &str| format!("{}(1)", name.replace(' ', "-"));
    let name = cmd.get_bin_name().unwrap_or_else(|| cmd.get_name());
    let mut out = Vec::new();
    if let Some((parent, _)) = name.rsplit_once(' ') {
        out.push(page(parent));
    }
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        out.push(page(sub.get_bin_name().unwrap_or_else(|| sub.get_name())));
    }
    if !name.ends_with("environment") {
        out.push("segment-access-environment(1)".to_string());
    }
    out
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
