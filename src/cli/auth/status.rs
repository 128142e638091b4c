//! `segment-access auth status`: every profile, where its token comes from, whether it works.

use serde::Serialize;

use crate::auth::Keyring;
use crate::auth::settings::{TokenSource, profile_flag};
use crate::auth::verify;
use crate::output::Tabular;
use crate::segment::{Error as ApiError, Token};

use super::super::{CliError, Context, ExitCode};

pub(super) const HELP: &str = "\
Exit status: 0 when the active profile's token works, 4 when it is missing or rejected, 1 when
Segment could not be reached. The token itself is never shown.

Examples:
  segment-access auth status
  segment-access auth status --format json | jq -r '.[] | select(.token != \"valid\") | .profile'";

#[derive(Debug, Serialize)]
struct StatusRow {
    profile: String,
    active: bool,
    default: bool,
    workspace: Option<String>,
    slug: Option<String>,
    api_url: String,
    token_source: Option<String>,
    /// valid, rejected, unreachable, missing, or an error.
    token: String,
    /// owner, member, or null when unknown.
    access: Option<String>,
}

impl Tabular for StatusRow {
    fn headers() -> Vec<&'static str> {
        vec![
            "PROFILE",
            "WORKSPACE",
            "API URL",
            "TOKEN FROM",
            "TOKEN",
            "ACCESS",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let mut name = self.profile.clone();
        if self.active {
            name.push_str(" *");
        }
        let ws = match (&self.workspace, &self.slug) {
            (Some(n), Some(s)) => format!("{n} ({s})"),
            (Some(n), None) => n.clone(),
            _ => String::new(),
        };
        vec![
            name,
            ws,
            self.api_url.clone(),
            self.token_source.clone().unwrap_or_else(|| "-".into()),
            self.token.clone(),
            self.access.clone().unwrap_or_else(|| "-".into()),
        ]
    }
    fn csv_headers() -> Vec<&'static str> {
        vec![
            "profile",
            "active",
            "default",
            "workspace",
            "slug",
            "api_url",
            "token_source",
            "token",
            "access",
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.profile.clone(),
            self.active.to_string(),
            self.default.to_string(),
            self.workspace.clone().unwrap_or_default(),
            self.slug.clone().unwrap_or_default(),
            self.api_url.clone(),
            self.token_source.clone().unwrap_or_default(),
            self.token.clone(),
            self.access.clone().unwrap_or_default(),
        ]
    }
}

enum Outcome {
    Valid,
    Missing,
    Rejected,
    Unreachable,
}

pub(super) async fn run(ctx: &mut Context) -> Result<ExitCode, CliError> {
    let config = ctx.settings.checked_config()?.clone();
    let active = ctx.settings.profile.clone();
    let mut names: Vec<String> = config.profiles.keys().cloned().collect();
    if !names.contains(&active) {
        names.push(active.clone());
    }
    names.sort_by_key(|n| (n != &active, n.clone()));

    let keyring = Keyring::open();
    let mut rows = Vec::new();
    let mut code = ExitCode::Ok;
    let mut active_source: Option<TokenSource> = None;
    let mut active_outcome = Outcome::Missing;
    for name in names {
        let settings = config.profiles.get(&name).cloned().unwrap_or_default();
        let is_active = name == active;
        let url = if is_active {
            ctx.settings.api_url.clone()
        } else {
            settings.api_url()
        };
        let found = ctx
            .settings
            .lookup(&name, &mut ctx.io.stdin, keyring.as_ref())
            .map_err(|e| e.to_string());
        let mut row = StatusRow {
            profile: name.clone(),
            active: is_active,
            default: config.is_default(&name),
            workspace: settings.workspace_name.clone(),
            slug: settings.workspace_slug.clone(),
            api_url: url.clone(),
            token_source: None,
            token: "missing".into(),
            access: None,
        };
        let outcome = match found {
            Err(e) => {
                row.token = e;
                Outcome::Missing
            }
            Ok(None) => Outcome::Missing,
            Ok(Some((token, source))) => {
                row.token_source = Some(source.describe());
                if is_active {
                    active_source = Some(source);
                }
                check(ctx, &url, token, &mut row).await
            }
        };
        if is_active {
            code = match outcome {
                Outcome::Valid => ExitCode::Ok,
                Outcome::Missing | Outcome::Rejected => ExitCode::Auth,
                Outcome::Unreachable => ExitCode::Failure,
            };
            active_outcome = outcome;
        }
        rows.push(row);
    }
    ctx.print_list(rows)?;
    if code != ExitCode::Ok {
        let advice = advice(ctx, &active, active_source, &active_outcome, &keyring).await;
        ctx.note(&advice);
    }
    Ok(code)
}

/// What to do about the active profile's token, addressed to the source that won: a rejected
/// SEGMENT_TOKEN is fixed by fixing (or unsetting) the variable, not by logging in again.
async fn advice(
    ctx: &Context,
    active: &str,
    source: Option<TokenSource>,
    outcome: &Outcome,
    keyring: &Result<Keyring, crate::auth::StoreError>,
) -> String {
    let login = format!("segment-access auth login{}", profile_flag(active));
    if matches!(outcome, Outcome::Unreachable) {
        return format!(
            "Segment could not be reached at {} with the active profile {active:?}: check the network, the API URL (--api-url, the profile's region) and try again",
            ctx.settings.api_url
        );
    }
    match source {
        Some(TokenSource::Env) | Some(TokenSource::Stdin) => {
            let what = if source == Some(TokenSource::Env) {
                "SEGMENT_TOKEN is set, wins over the keyring, and Segment rejected it: fix or unset SEGMENT_TOKEN"
            } else {
                "the token piped to --token-stdin was rejected: pipe the right one, or drop --token-stdin"
            };
            // Would the keyring's token do? Then that is the way out.
            let stored = keyring
                .as_ref()
                .ok()
                .and_then(|k| k.get(active).ok().flatten());
            let timeout = std::time::Duration::from_secs(ctx.global.timeout);
            let kept = match stored {
                None => format!("; profile {active:?} has no stored token either ({login})"),
                Some((t, _)) => match verify::verify(&ctx.settings.api_url, t, timeout).await {
                    Ok(_) => format!(
                        "; the token stored for profile {active:?} works and is used once the variable is unset"
                    ),
                    Err(_) => format!(
                        "; the token stored for profile {active:?} does not work either ({login})"
                    ),
                },
            };
            format!("{what}{kept}")
        }
        Some(TokenSource::Keyring(_)) => format!(
            "the token stored for the active profile {active:?} was rejected (revoked, or for another region?): run `{login}`"
        ),
        None => format!(
            "the active profile {active:?} has no token: run `{login}`, set SEGMENT_TOKEN, or pipe one to --token-stdin"
        ),
    }
}

async fn check(ctx: &Context, url: &str, token: Token, row: &mut StatusRow) -> Outcome {
    let timeout = std::time::Duration::from_secs(ctx.global.timeout);
    match verify::verify(url, token, timeout).await {
        Ok(v) => {
            row.token = "valid".into();
            row.workspace = Some(v.workspace.name);
            row.slug = Some(v.workspace.slug);
            row.access = Some(v.access.as_str().into());
            Outcome::Valid
        }
        Err(e) if e.status() == Some(401) => {
            row.token = "rejected (401)".into();
            Outcome::Rejected
        }
        Err(e @ ApiError::Config(_)) => {
            row.token = format!("unusable: {e}");
            Outcome::Unreachable
        }
        Err(e @ ApiError::Api { .. }) => {
            row.token = format!("error: {e}");
            Outcome::Unreachable
        }
        Err(e) => {
            row.token = format!("unreachable: {e}");
            Outcome::Unreachable
        }
    }
}
