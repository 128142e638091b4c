//! `segment-access completions SHELL`: completion scripts generated from the same clap
//! definitions as `--help`, so they can never offer a flag the parser rejects.

use std::io::Write;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, CliError, ExitCode};
use crate::output::OutputError;

pub(crate) const AFTER_HELP: &str = "\
The scripts below complete subcommands, flags and fixed values (--format, --region, --color,
shells). To complete profile names too, let the shell ask the binary as you type instead:
  bash        echo 'source <(COMPLETE=bash segment-access)' >> ~/.bashrc
  zsh         echo 'source <(COMPLETE=zsh segment-access)' >> ~/.zshrc
  fish        echo 'COMPLETE=fish segment-access | source' > ~/.config/fish/completions/segment-access.fish
  elvish      echo 'eval (E:COMPLETE=elvish segment-access | slurp)' >> ~/.config/elvish/rc.elv
  powershell  $env:COMPLETE = \"powershell\"; segment-access | Out-String | Invoke-Expression; Remove-Item Env:\\COMPLETE

Static scripts:
  bash        segment-access completions bash > ~/.local/share/bash-completion/completions/segment-access
  zsh         segment-access completions zsh > ~/.zfunc/_segment-access
              (with `fpath+=~/.zfunc` before `compinit` in ~/.zshrc)
  fish        segment-access completions fish > ~/.config/fish/completions/segment-access.fish
  powershell  segment-access completions powershell | Out-String | Invoke-Expression
              (in $PROFILE)
  elvish      eval (segment-access completions elvish | slurp)
              (in ~/.config/elvish/rc.elv)

Open a new shell afterwards.";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Profile names from the config file, for `--profile` (dynamic completion only). A config
/// that cannot be read completes nothing rather than failing the shell.
pub(crate) fn profile_names() -> Vec<clap_complete::CompletionCandidate> {
    crate::auth::profiles::Config::load()
        .map(|(c, _)| {
            c.profiles
                .keys()
                .map(clap_complete::CompletionCandidate::new)
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn run(args: CompletionsArgs) -> Result<ExitCode, CliError> {
    let script = script(args.shell);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::from(OutputError::Io(e)))?;
    Ok(ExitCode::Ok)
}

/// The completion script, in memory: clap_complete panics when its writer fails, and a closed
/// pipe (`| head`) must end us quietly instead.
pub(crate) fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "segment-access", &mut buf);
    buf
}
