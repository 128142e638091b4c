//! `segment-access emulator`: the emulator's own arguments and loop live with the emulator.

use super::{CliError, ExitCode};

#[derive(Debug, clap::Args)]
pub struct EmulatorArgs {}

pub async fn run(_args: EmulatorArgs) -> Result<ExitCode, CliError> {
    Err(CliError::failure("the emulator is not built yet"))
}
