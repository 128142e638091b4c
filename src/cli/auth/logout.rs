//! `segment-access auth logout`: delete stored tokens from the OS keyring.

use clap::Args;

use crate::auth::{Keyring, token_from_env};

use super::super::{CliError, Context, ExitCode};

pub(super) const HELP: &str = "\
Profile settings (region, API URL) stay in config.toml; only the token leaves the keyring.

Examples:
  segment-access auth logout
  segment-access auth logout --profile eu-prod
  segment-access auth logout --all";

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Every profile in the config, not only the active one.
    #[arg(long)]
    pub all: bool,
}

pub(super) fn run(args: LogoutArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    let config = ctx.settings.checked_config()?;
    let mut names = vec![ctx.settings.profile.clone()];
    if args.all {
        names.extend(config.profiles.keys().cloned());
        names.sort();
        names.dedup();
    }
    let keyring = Keyring::open()?;
    for name in &names {
        let removed = keyring.delete(name).map_err(|e| {
            CliError::from(e).context(format!("cannot remove the token of {name:?}"))
        })?;
        if removed.is_empty() {
            ctx.note(&format!("No stored token for profile {name:?}"));
        } else {
            for b in removed {
                ctx.note(&format!("Removed the token of profile {name:?} from {b}"));
            }
        }
    }
    if token_from_env().is_some() {
        ctx.note("note: SEGMENT_TOKEN is still set in this environment and still works");
    }
    Ok(ExitCode::Ok)
}
