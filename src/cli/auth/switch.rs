//! `segment-access auth switch PROFILE`: make a profile the default, without asking for a token.

use clap::Args;

use crate::access::resolve::nearest;
use crate::auth::profiles::validate_profile_name;

use super::super::{CliError, Context, ExitCode};

pub(super) const HELP: &str = "\
The default profile is the one every command uses without --profile (SEGMENT_PROFILE still
wins). Only profiles that exist in config.toml can be chosen; create one with `auth login
--profile NAME`.

Examples:
  segment-access auth switch eu-prod
  segment-access auth status";

#[derive(Debug, Args)]
pub struct SwitchArgs {
    /// The profile to use by default.
    #[arg(value_name = "PROFILE", add = clap_complete::ArgValueCandidates::new(super::super::completions::profile_names))]
    pub profile: String,
}

pub(super) fn run(args: SwitchArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    let mut config = ctx.settings.checked_config()?.clone();
    let name = args.profile.trim().to_string();
    validate_profile_name(&name)?;
    let Some(p) = config.profiles.get(&name).cloned() else {
        let known: Vec<&str> = config.profiles.keys().map(String::as_str).collect();
        let mut e = CliError::failure(format!("no profile {name:?} in config.toml"));
        let near = nearest(&name, known.iter().copied());
        e.hint = Some(if let Some(n) = near.first() {
            format!("did you mean {n:?}? (profiles: {})", known.join(", "))
        } else if known.is_empty() {
            format!("there are no profiles yet: segment-access auth login --profile {name}")
        } else {
            format!(
                "profiles: {}; create one with `segment-access auth login --profile {name}`",
                known.join(", ")
            )
        });
        return Err(e);
    };
    config.default_profile = Some(name.clone());
    let path = config.save()?;
    let ws = match (&p.workspace_name, &p.workspace_slug) {
        (Some(n), Some(s)) => format!(" (workspace {n:?}, {s})"),
        _ => String::new(),
    };
    ctx.note(&format!(
        "{name:?} is now the default profile{ws}; settings in {}",
        path.display()
    ));
    if let Some(env) = std::env::var("SEGMENT_PROFILE")
        .ok()
        .filter(|v| !v.is_empty())
        && env != name
    {
        ctx.note(&format!(
            "note: SEGMENT_PROFILE={env} is set in this environment and still wins"
        ));
    }
    Ok(ExitCode::Ok)
}
