//! `segment-access auth token`: print the token in force, for another tool.

use std::io::Write;

use super::super::{CliError, Context, ExitCode};

pub(super) const HELP: &str = "\
For tools that need the token themselves; keep it out of terminals and logs.

Examples:
  curl -H \"Authorization: Bearer $(segment-access auth token)\" https://api.segmentapis.com/
  segment-access --profile eu-prod auth token | other-tool --token-stdin";

pub(super) fn run(ctx: &mut Context) -> Result<ExitCode, CliError> {
    let token = ctx.settings.token(&mut ctx.io.stdin)?;
    // The one place the token is printed on purpose: straight to stdout, past the redaction
    // every other output goes through.
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", token.expose())
        .and_then(|()| out.flush())
        .map_err(CliError::stdout)?;
    Ok(ExitCode::Ok)
}
