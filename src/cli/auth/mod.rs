//! `segment-access auth login|status|logout|token`: tokens in the OS keyring, one per profile.

mod login;
mod logout;
mod status;
mod switch;
mod token;

use clap::{Args, Subcommand};

use super::{CliError, Context, ExitCode};

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
  segment-access auth switch eu-prod
  segment-access --profile eu-prod list users
  segment-access auth logout --profile old --forget
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
    #[command(after_help = login::HELP)]
    Login(login::LoginArgs),
    /// Per profile: workspace, API URL, where the token comes from, whether it works.
    #[command(after_help = status::HELP)]
    Status,
    /// Make a profile the default one (no token asked).
    #[command(after_help = switch::HELP)]
    Switch(switch::SwitchArgs),
    /// Delete stored tokens from the OS keyring (and with --forget, the profiles too).
    #[command(after_help = logout::HELP)]
    Logout(logout::LogoutArgs),
    /// Print the token in force on stdout, for piping into another tool. The only command that
    /// ever prints it.
    #[command(after_help = token::HELP)]
    Token,
}

pub(crate) async fn run(args: AuthArgs, ctx: &mut Context) -> Result<ExitCode, CliError> {
    if ctx.global.demo {
        return Err(CliError::usage(
            "auth manages real tokens; --demo needs none (drop --demo)",
        ));
    }
    match args.cmd {
        AuthCommand::Login(a) => login::run(a, ctx).await,
        AuthCommand::Status => status::run(ctx).await,
        AuthCommand::Switch(a) => switch::run(a, ctx),
        AuthCommand::Logout(a) => logout::run(a, ctx),
        AuthCommand::Token => token::run(ctx),
    }
}
