//! `segment-access auth login|status|logout|token`: tokens in the OS keyring, one per profile.

use std::io::{IsTerminal, Read, Write};

use clap::{Args, Subcommand};
use futures::StreamExt;
use serde::Serialize;

use crate::auth::profiles::{self, DEFAULT_PROFILE};
use crate::auth::{self as core, Config, Keyring, TokenSource};
use crate::output::Tabular;
use crate::segment::client::validate_base_url;
use crate::segment::pages;
use crate::segment::{Client, ClientConfig, Error as ApiError, Token};

use super::{CliError, Context, ExitCode, GlobalArgs, Region};
use crate::output::Format;

const AUTH_HELP: &str = "\
The token is a Workspace Owner secret. It is kept in the operating system's keyring (macOS
Keychain, Windows Credential Manager, the Secret Service on Linux, or the kernel keyutils
keyring when no Secret Service runs), never in a file. Non-secret profile settings live in
config.toml in the config directory (override it with SEGMENT_ACCESS_CONFIG_DIR).

Token lookup order for every command: --token-stdin, SEGMENT_TOKEN, the profile's keyring entry.

Examples:
  segment-access auth login
  segment-access auth login --profile eu-prod --region eu
  segment-access auth login --profile ci --with-token < token.txt
  segment-access auth status
  segment-access --profile eu-prod list users
  segment-access auth logout --all";

#[derive(Debug, Args)]
#[command(after_help = AUTH_HELP)]
pub struct AuthArgs {
    #[command(subcommand)]
    pub cmd: AuthCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Check a token with Segment and store it in the OS keyring for a profile.
    #[command(after_help = LOGIN_HELP)]
    Login(LoginArgs),
    /// Per profile: workspace, API URL, where the token comes from, whether it works.
    #[command(after_help = STATUS_HELP)]
    Status,
    /// Delete stored tokens from the OS keyring (profile settings stay).
    #[command(after_help = LOGOUT_HELP)]
    Logout(LogoutArgs),
    /// Print the token in force on stdout, for piping into another tool. The only command that
    /// ever prints it.
    #[command(after_help = TOKEN_HELP)]
    Token,
}

const LOGIN_HELP: &str = "\
On a terminal the token is asked for without echo. Scripts and CI pipe it with --with-token.
The token is checked with Segment before it is stored; a token without the Workspace Owner
access level is stored with a warning, since grants and revokes will fail with it.

Examples:
  segment-access auth login
  segment-access auth login --profile eu-prod --region eu
  segment-access auth login --profile staging --api-url https://proxy.example.com
  printf '%s\\n' \"$TOKEN\" | segment-access auth login --profile ci --with-token";

const STATUS_HELP: &str = "\
Exit status: 0 when the active profile's token works, 4 when it is missing or rejected, 1 when
Segment could not be reached. The token itself is never shown.

Examples:
  segment-access auth status
  segment-access auth status --format json | jq -r '.[] | select(.token != \"valid\") | .profile'";

const LOGOUT_HELP: &str = "\
Profile settings (region, API URL) stay in config.toml; only the token leaves the keyring.

Examples:
  segment-access auth logout
  segment-access auth logout --profile eu-prod
  segment-access auth logout --all";

const TOKEN_HELP: &str = "\
For tools that need the token themselves; keep it out of terminals and logs.

Examples:
  curl -H \"Authorization: Bearer $(segment-access auth token)\" https://api.segmentapis.com/
  segment-access --profile eu-prod auth token | other-tool --token-stdin";

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Read the token from the first line of standard input instead of prompting.
    #[arg(long)]
    pub with_token: bool,
    /// Make this profile the default one (used without --profile).
    #[arg(long)]
    pub set_default: bool,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Every profile in the config, not only the active one.
    #[arg(long)]
    pub all: bool,
}

pub async fn run(args: AuthArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    if ctx.global.demo {
        return Err(CliError::usage(
            "auth manages real tokens; --demo needs none (drop --demo)",
        ));
    }
    match args.cmd {
        AuthCommand::Login(a) => login(a, ctx).await,
        AuthCommand::Status => status(ctx).await,
        AuthCommand::Logout(a) => logout(a, ctx),
        AuthCommand::Token => print_token(ctx),
    }
}

// ---- lookups shared with Context ---------------------------------------------------------------

/// A token and where it came from.
pub struct FoundToken {
    pub token: Token,
    pub source: TokenSource,
    pub profile: String,
}

fn config_error(e: profiles::ConfigError) -> CliError {
    match e {
        profiles::ConfigError::BadName(_) => CliError::usage(e.to_string()),
        other => CliError::failure(other.to_string()),
    }
}

/// The config and the name of the profile in force, checked.
pub fn active_profile(global: &GlobalArgs) -> Result<(Config, String), CliError> {
    let config = Config::load().map_err(config_error)?;
    let name = config.active_name(global.profile.as_deref());
    profiles::validate_profile_name(&name).map_err(config_error)?;
    Ok((config, name))
}

/// The token in force: --token-stdin, SEGMENT_TOKEN, then the profile's keyring entry.
/// The active profile's default output format, if it sets one. A profile naming a format that
/// does not exist is an error rather than a silent table.
pub fn profile_format(global: &GlobalArgs) -> Result<Option<Format>, CliError> {
    // A config that cannot be read is reported by the command that needs it (token lookup);
    // choosing an output format is not the place to fail for it.
    let Ok((mut config, name)) = active_profile(global) else {
        return Ok(None);
    };
    let Some(raw) = config.profiles.remove(&name).and_then(|p| p.format) else {
        return Ok(None);
    };
    <Format as clap::ValueEnum>::from_str(&raw, true)
        .map(Some)
        .map_err(|_| {
            CliError::usage(format!(
                "profile {name:?} sets format = {raw:?}; use table, json, ndjson or csv"
            ))
        })
}

pub fn lookup_token(global: &GlobalArgs, stdin: &mut dyn Read) -> Result<FoundToken, CliError> {
    let (_, profile) = active_profile(global)?;
    if global.token_stdin {
        let token = core::read_token(stdin)
            .map_err(|e| CliError::usage(format!("cannot read the token from stdin: {e}")))?
            .ok_or_else(|| CliError::auth("--token-stdin: standard input held no token"))?;
        return Ok(FoundToken {
            token,
            source: TokenSource::Stdin,
            profile,
        });
    }
    if let Some(token) = core::token_from_env() {
        return Ok(FoundToken {
            token,
            source: TokenSource::Env,
            profile,
        });
    }
    let flag = profile_flag(&profile);
    let keyring = Keyring::open().map_err(|e| {
        CliError::auth(format!("no Segment API token for profile {profile:?}: {e}"))
    })?;
    match keyring.get(&profile) {
        Ok(Some((token, backend))) => Ok(FoundToken {
            token,
            source: TokenSource::Keyring(backend),
            profile,
        }),
        Ok(None) => Err(CliError::auth(format!(
            "no Segment API token for profile {profile:?}: run `segment-access auth login{flag}`, set SEGMENT_TOKEN, or pipe one to --token-stdin (or try --demo for a sample workspace)"
        ))),
        Err(e) => Err(CliError::auth(format!(
            "cannot read the token of profile {profile:?} from the keyring: {e}; set SEGMENT_TOKEN or pipe the token to --token-stdin instead"
        ))),
    }
}

fn profile_flag(profile: &str) -> String {
    if profile == DEFAULT_PROFILE {
        String::new()
    } else {
        format!(" --profile {profile}")
    }
}

/// What decides the API URL, highest first: --api-url / SEGMENT_API_URL, the profile's
/// api_url, --region / SEGMENT_REGION when given, the profile's region, the US.
pub enum Endpoint {
    Url(String),
    Region(Region),
}

pub fn endpoint(global: &GlobalArgs) -> Endpoint {
    if let Some(u) = &global.api_url {
        return Endpoint::Url(u.clone());
    }
    // An unreadable config is reported by the token lookup, which runs first.
    let profile = active_profile(global)
        .ok()
        .and_then(|(mut c, name)| c.profiles.remove(&name));
    if let Some(u) = profile.as_ref().and_then(|p| p.api_url.clone()) {
        return Endpoint::Url(u);
    }
    if let Some(r) = global.region {
        return Endpoint::Region(r);
    }
    match profile.and_then(|p| p.region) {
        Some(profiles::Region::Eu) => Endpoint::Region(Region::Eu),
        _ => Endpoint::Region(Region::Us),
    }
}

fn endpoint_url(e: Endpoint) -> String {
    match e {
        Endpoint::Url(u) => u,
        Endpoint::Region(r) => to_profile_region(r).api_url().to_string(),
    }
}

fn to_profile_region(r: Region) -> profiles::Region {
    match r {
        Region::Us => profiles::Region::Us,
        Region::Eu => profiles::Region::Eu,
    }
}

// ---- login -----------------------------------------------------------------------------------

async fn login(args: LoginArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    let (mut config, profile) = active_profile(&ctx.global)?;
    let mut settings = config.profiles.get(&profile).cloned().unwrap_or_default();
    if let Some(u) = &ctx.global.api_url {
        validate_base_url(u).map_err(|e| CliError::usage(e.to_string()))?;
        settings.api_url = Some(u.trim().to_string());
    }
    if let Some(r) = ctx.global.region {
        settings.region = Some(to_profile_region(r));
        if ctx.global.api_url.is_none() {
            // Choosing a region replaces a custom URL the profile had.
            settings.api_url = None;
        }
    }
    if settings.region.is_none() && settings.api_url.is_none() {
        settings.region = Some(profiles::Region::Us);
    }
    let url = settings.api_url();

    let from_stdin = args.with_token || ctx.global.token_stdin;
    let token = if from_stdin {
        core::read_token(&mut std::io::stdin().lock())
            .map_err(|e| CliError::usage(format!("cannot read the token from stdin: {e}")))?
            .ok_or_else(|| CliError::usage("--with-token: standard input held no token"))?
    } else if std::io::stdin().is_terminal() && ctx.stderr_tty {
        prompt_token()?
    } else {
        return Err(CliError::usage(
            "no terminal to ask for the token on: pipe it with --with-token (segment-access auth login --with-token < token.txt)",
        ));
    };

    let client = make_client(ctx, &url, token.clone())?;
    let workspace = client.workspace().await.map_err(|e| match e.status() {
        Some(401) => CliError::auth(format!(
            "Segment rejected this token at {url} (401); nothing was stored. Check it was copied whole, is not revoked, and belongs to this region (--region eu for EU workspaces)"
        )),
        Some(403) => CliError::auth(format!(
            "this token may not read its workspace at {url} (403); nothing was stored"
        )),
        _ => {
            let e = CliError::from(e);
            CliError {
                code: e.code,
                message: format!("cannot check the token: {}; nothing was stored", e.message),
            }
        }
    })?;
    let access = probe_access(ctx, &url, &token).await;

    let keyring = Keyring::open().map_err(|e| CliError::failure(e.to_string()))?;
    let backend = keyring.set(&profile, &token).map_err(|e| {
        CliError::failure(format!(
            "cannot store the token: {e}; set SEGMENT_TOKEN or pipe the token to --token-stdin instead"
        ))
    })?;

    settings.workspace_name = Some(workspace.name.clone());
    settings.workspace_slug = Some(workspace.slug.clone());
    settings.workspace_id = Some(workspace.id.clone());
    let first = config.profiles.is_empty();
    config.profiles.insert(profile.clone(), settings);
    if args.set_default || (first && profile != DEFAULT_PROFILE) {
        config.default_profile = Some(profile.clone());
    }
    let path = config.save().map_err(config_error)?;

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
    match access {
        Access::Owner => {}
        Access::Member => ctx.note(
            "warning: this token has the Workspace Member access level: listing works in part, but grants, revokes and invites will fail. Create a Workspace Owner token for access management.",
        ),
        Access::Unknown(why) => ctx.note(&format!(
            "warning: could not check the token's access level ({why})"
        )),
    }
    if core::token_from_env().is_some() {
        ctx.note("note: SEGMENT_TOKEN is set in this environment and wins over the stored token");
    }
    Ok(ExitCode::Ok)
}

fn prompt_token() -> Result<Token, CliError> {
    let t = dialoguer::Password::new()
        .with_prompt("Segment API token (Workspace Owner)")
        .interact()
        .map_err(|e| CliError::failure(format!("cannot read the token: {e}")))?;
    let t = t.trim();
    if t.is_empty() {
        return Err(CliError::usage("no token entered"));
    }
    Ok(Token::new(t))
}

fn make_client(ctx: &Context, url: &str, token: Token) -> Result<Client, CliError> {
    let mut cfg = ClientConfig::new(url, token);
    cfg.timeout = std::time::Duration::from_secs(ctx.global.timeout);
    // A status check should answer in seconds, not after minutes of retries.
    cfg.max_attempts = 2;
    cfg.page_size = 1;
    Client::new(cfg).map_err(CliError::from)
}

enum Access {
    Owner,
    Member,
    Unknown(String),
}

/// Reads one user: IAM endpoints answer 403 to tokens without the Workspace Owner level.
async fn probe_access(ctx: &Context, url: &str, token: &Token) -> Access {
    let client = match make_client(ctx, url, token.clone()) {
        Ok(c) => c,
        Err(e) => return Access::Unknown(e.message),
    };
    let first = std::pin::pin!(client.pages::<pages::Users>(&["users"], &[]))
        .next()
        .await;
    match first {
        None | Some(Ok(_)) => Access::Owner,
        Some(Err(e)) if e.status() == Some(403) => Access::Member,
        Some(Err(e)) => Access::Unknown(e.to_string()),
    }
}

// ---- status ----------------------------------------------------------------------------------

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

/// The profile's token for `auth status`: the flag and the environment apply to the active
/// profile only; every other profile shows what its keyring entry holds.
fn token_for_status(
    global: &GlobalArgs,
    name: &str,
    is_active: bool,
    keyring: &Result<Keyring, core::StoreError>,
) -> Result<Option<(Token, TokenSource)>, String> {
    if is_active && global.token_stdin {
        return match core::read_token(&mut std::io::stdin().lock()) {
            Ok(Some(t)) => Ok(Some((t, TokenSource::Stdin))),
            Ok(None) => Err("--token-stdin: standard input held no token".into()),
            Err(e) => Err(format!("cannot read stdin: {e}")),
        };
    }
    if is_active && let Some(t) = core::token_from_env() {
        return Ok(Some((t, TokenSource::Env)));
    }
    match keyring {
        Ok(k) => k
            .get(name)
            .map(|o| o.map(|(t, b)| (t, TokenSource::Keyring(b))))
            .map_err(|e| format!("keyring error: {e}")),
        Err(e) => Err(e.to_string()),
    }
}

async fn status(ctx: &mut Context) -> Result<ExitCode, CliError> {
    let (config, active) = active_profile(&ctx.global)?;
    let mut names: Vec<String> = config.profiles.keys().cloned().collect();
    if !names.contains(&active) {
        names.push(active.clone());
    }
    names.sort_by_key(|n| (n != &active, n.clone()));

    let keyring = Keyring::open();
    let mut rows = Vec::new();
    let mut code = ExitCode::Ok;
    for name in names {
        let settings = config.profiles.get(&name).cloned().unwrap_or_default();
        let is_active = name == active;
        let url = if is_active {
            endpoint_url(endpoint(&ctx.global))
        } else {
            settings.api_url()
        };
        let found = token_for_status(&ctx.global, &name, is_active, &keyring);
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
                check(ctx, &url, token, &mut row).await
            }
        };
        if is_active {
            code = match outcome {
                Outcome::Valid => ExitCode::Ok,
                Outcome::Missing | Outcome::Rejected => ExitCode::Auth,
                Outcome::Unreachable => ExitCode::Failure,
            };
        }
        rows.push(row);
    }
    let mut stdout = std::io::stdout().lock();
    ctx.renderer.list(&mut stdout, rows)?;
    stdout
        .flush()
        .map_err(|e| CliError::failure(format!("cannot write the output: {e}")))?;
    if code != ExitCode::Ok {
        ctx.note(&format!(
            "the active profile {active:?} has no working token: run `segment-access auth login{}`",
            profile_flag(&active)
        ));
    }
    Ok(code)
}

enum Outcome {
    Valid,
    Missing,
    Rejected,
    Unreachable,
}

async fn check(ctx: &Context, url: &str, token: Token, row: &mut StatusRow) -> Outcome {
    let client = match make_client(ctx, url, token.clone()) {
        Ok(c) => c,
        Err(e) => {
            row.token = format!("unusable: {}", e.message);
            return Outcome::Unreachable;
        }
    };
    match client.workspace().await {
        Ok(w) => {
            row.token = "valid".into();
            row.workspace = Some(w.name);
            row.slug = Some(w.slug);
            row.access = Some(
                match probe_access(ctx, url, &token).await {
                    Access::Owner => "owner",
                    Access::Member => "member",
                    Access::Unknown(_) => "unknown",
                }
                .into(),
            );
            Outcome::Valid
        }
        Err(e) if e.status() == Some(401) => {
            row.token = "rejected (401)".into();
            Outcome::Rejected
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

// ---- logout and token ------------------------------------------------------------------------

fn logout(args: LogoutArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    let (config, active) = active_profile(&ctx.global)?;
    let mut names = vec![active];
    if args.all {
        names.extend(config.profiles.keys().cloned());
        names.sort();
        names.dedup();
    }
    let keyring = Keyring::open().map_err(|e| CliError::failure(e.to_string()))?;
    for name in &names {
        let removed = keyring
            .delete(name)
            .map_err(|e| CliError::failure(format!("cannot remove the token of {name:?}: {e}")))?;
        if removed.is_empty() {
            ctx.note(&format!("No stored token for profile {name:?}"));
        } else {
            for b in removed {
                ctx.note(&format!("Removed the token of profile {name:?} from {b}"));
            }
        }
    }
    if core::token_from_env().is_some() {
        ctx.note("note: SEGMENT_TOKEN is still set in this environment and still works");
    }
    Ok(ExitCode::Ok)
}

fn print_token(ctx: &mut Context) -> Result<ExitCode, CliError> {
    let found = lookup_token(&ctx.global, &mut std::io::stdin().lock())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", found.token.expose())
        .and_then(|()| out.flush())
        .map_err(|e| CliError::failure(format!("cannot write the token: {e}")))?;
    Ok(ExitCode::Ok)
}
