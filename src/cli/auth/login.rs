//! `segment-access auth login`: check a token with Segment, then keep it in the OS keyring.

use clap::Args;

use crate::auth::profiles::DEFAULT_PROFILE;
use crate::auth::verify::{self, Access};
use crate::auth::{Keyring, Region, read_token, token_from_env};
use crate::segment::Token;
use crate::segment::client::validate_base_url;

use super::super::{CliError, Context, ExitCode};

pub(super) const HELP: &str = "\
On a terminal the token is asked for without echo. Scripts and CI pipe it with --with-token.
The token is checked with Segment before it is stored; a token without the Workspace Owner
access level is stored with a warning, since grants and revokes will fail with it.

Examples:
  segment-access auth login
  segment-access auth login --profile eu-prod --region eu
  segment-access auth login --profile staging --api-url https://proxy.example.com
  printf '%s\\n' \"$TOKEN\" | segment-access auth login --profile ci --with-token";

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Read the token from the first line of standard input instead of prompting.
    #[arg(long)]
    pub with_token: bool,
    /// Make this profile the default one (used without --profile).
    #[arg(long)]
    pub set_default: bool,
}

pub(super) async fn run(args: LoginArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    let mut config = ctx.settings.checked_config()?.clone();
    let profile = ctx.settings.profile.clone();
    let mut settings = ctx.settings.profile_settings();
    if let Some(u) = &ctx.global.api_url {
        validate_base_url(u).map_err(|e| CliError::usage(e.to_string()))?;
        settings.api_url = Some(u.trim().to_string());
    }
    if let Some(r) = ctx.global.region {
        settings.region = Some(r);
        if ctx.global.api_url.is_none() {
            // Choosing a region replaces a custom URL the profile had.
            settings.api_url = None;
        }
    }
    if settings.region.is_none() && settings.api_url.is_none() {
        settings.region = Some(Region::Us);
    }
    let url = settings.api_url();

    let token = if args.with_token || ctx.global.token_stdin {
        read_token(&mut ctx.io.stdin)
            .map_err(|e| CliError::usage(format!("cannot read the token from stdin: {e}")))?
            .ok_or_else(|| CliError::usage("--with-token: standard input held no token"))?
    } else if ctx.prompter.available() {
        let t = ctx
            .prompter
            .password("Segment API token (Workspace Owner)")?;
        let t = t.trim();
        if t.is_empty() {
            return Err(CliError::usage("no token entered"));
        }
        Token::new(t)
    } else {
        return Err(CliError::usage(
            "no terminal to ask for the token on: pipe it with --with-token (segment-access auth login --with-token < token.txt)",
        ));
    };

    let timeout = std::time::Duration::from_secs(ctx.global.timeout);
    let verified = verify::verify(&url, token.clone(), timeout)
        .await
        .map_err(|e| match e.status() {
            Some(401) => CliError::auth(format!(
                "Segment rejected this token at {url} (401); nothing was stored. Check it was copied whole, is not revoked, and belongs to this region (--region eu for EU workspaces)"
            )),
            Some(403) => CliError::auth(format!(
                "this token may not read its workspace at {url} (403); nothing was stored"
            )),
            _ => {
                let e = CliError::from(e);
                CliError::new(
                    e.kind,
                    format!("cannot check the token: {}; nothing was stored", e.message),
                )
            }
        })?;

    // The token is stored last, once everything else is written, and the config is put back
    // if storing it fails: a failed login leaves neither a usable token nor a half profile.
    let keyring = Keyring::open()?;
    let previous = config.clone();
    let workspace = verified.workspace;
    settings.workspace_name = Some(workspace.name.clone());
    settings.workspace_slug = Some(workspace.slug.clone());
    settings.workspace_id = Some(workspace.id.clone());
    let first = config.profiles.is_empty();
    config.profiles.insert(profile.clone(), settings);
    if args.set_default || (first && profile != DEFAULT_PROFILE) {
        config.default_profile = Some(profile.clone());
    }
    let path = config.save().map_err(|e| {
        let e = CliError::from(e);
        CliError::new(e.kind, format!("{}; the token was not stored", e.message))
    })?;
    let backend = match keyring.set(&profile, &token) {
        Ok(b) => b,
        Err(e) => {
            let restored = previous.save();
            let mut err = CliError::auth(format!(
                "cannot store the token: {e}; set SEGMENT_TOKEN or pipe the token to --token-stdin instead"
            ));
            if let Err(r) = restored {
                err = err.context(format!("could not put config.toml back either ({r})"));
            }
            return Err(err);
        }
    };

    ctx.note(&format!(
        "Logged in to workspace {:?} ({}) at {url}",
        workspace.name, workspace.slug
    ));
    ctx.note(&format!(
        "Token of profile {profile:?} stored in {backend}; settings in {}",
        path.display()
    ));
    if config.is_default(&profile) {
        ctx.note(&format!("{profile:?} is the default profile"));
    }
    match verified.access {
        Access::Owner => {}
        Access::Member => ctx.note(
            "warning: this token has the Workspace Member access level: listing works in part, but grants, revokes and invites will fail. Create a Workspace Owner token for access management.",
        ),
        Access::Unknown(why) => ctx.note(&format!(
            "warning: could not check the token's access level ({why})"
        )),
    }
    if token_from_env().is_some() {
        ctx.note("note: SEGMENT_TOKEN is set in this environment and wins over the stored token");
    }
    Ok(ExitCode::Ok)
}
