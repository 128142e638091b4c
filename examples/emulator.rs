//! Runs the Segment API emulator standalone, with the same flags as `segment-access emulator`
//! (used by `scripts/conformance.sh` until the binary wires the subcommand in).

use clap::Parser;
use segment_access::emulator::cli::{EmulatorArgs, run};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: EmulatorArgs,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli.args).await {
        eprintln!("emulator: {e}");
        std::process::exit(1);
    }
}
