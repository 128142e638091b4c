//! `segment-access auth logout`: delete stored tokens from the OS keyring.

use clap::Args;

use crate::auth::{Keyring, token_from_env};

use super::super::{CliError, Context, ExitCode};

pub(super) const HELP: &str = "\
Profile settings (region, API URL) stay in config.toml unless --forget; the token always leaves
the keyring. Forgetting the default profile leaves no default (`auth switch` picks another).

Examples:
  segment-access auth logout
  segment-access auth logout --profile eu-prod
  segment-access auth logout --profile old-workspace --forget
  segment-access auth logout --all";

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Every profile in the config, not only the active one.
    #[arg(long)]
    pub all: bool,
    /// Also delete the profiles from config.toml.
    #[arg(long)]
    pub forget: bool,
}

pub(super) fn run(args: LogoutArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    let mut config = ctx.settings.checked_config()?.clone();
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
    if args.forget {
        let mut forgotten = Vec::new();
        for name in &names {
            if config.profiles.remove(name).is_some() {
                forgotten.push(name.clone());
            }
        }
        let was_default = config
            .default_profile
            .as_ref()
            .is_some_and(|d| names.contains(d));
        if was_default {
            config.default_profile = None;
        }
        if forgotten.is_empty() && !was_default {
            ctx.note("No profile to forget in config.toml");
        } else {
            let path = config.save()?;
            for name in &forgotten {
                ctx.note(&format!(
                    "Forgot profile {name:?} (removed from {})",
                    path.display()
                ));
            }
            if was_default {
                let others: Vec<&String> = config.profiles.keys().collect();
                ctx.note(&match others.first() {
                    Some(o) => format!(
                        "there is no default profile now; choose one with `segment-access auth switch {o}`"
                    ),
                    None => "there is no profile left".to_string(),
                });
            }
        }
    }
    if token_from_env().is_some() {
        ctx.note("note: SEGMENT_TOKEN is still set in this environment and still works");
    }
    Ok(ExitCode::Ok)
}
