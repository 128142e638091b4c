//! `segment-access emulator`: the emulator's own arguments and serve loop live with the
//! emulator (`src/emulator/cli.rs`); this file only adapts its result to the CLI's.

pub(crate) use crate::emulator::cli::EmulatorArgs;

use super::{CliError, ExitCode};

pub(crate) async fn run(args: EmulatorArgs) -> Result<ExitCode, CliError> {
    crate::emulator::cli::run(args)
        .await
        .map(|()| ExitCode::Ok)
        .map_err(|e| CliError::failure(e.to_string()))
}
