use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use segment_access::cli::{self, Cli};

fn main() -> ExitCode {
    // `COMPLETE=$SHELL segment-access` is the shell asking for completions (profile names
    // included); this answers and exits, and is a single environment lookup otherwise.
    clap_complete::CompleteEnv::with_factory(<Cli as clap::CommandFactory>::command).complete();
    // clap answers --help and --version before any runtime or TLS set-up exists.
    let cli = Cli::parse();
    let ansi = cli::color::decide(cli.global.color_choice()).stderr;
    init_tracing(cli.global.verbose, cli.global.quiet, ansi);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(cli::run(cli));
    // Pending requests of a failed command must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            if !e.message.is_empty() {
                let _ = writeln!(std::io::stderr(), "error: {}", e.message);
            }
            ExitCode::from(e.code as u8)
        }
    }
}

fn init_tracing(verbose: u8, quiet: bool, ansi: bool) {
    let filter = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "warn,segment_access=debug",
        _ => "debug,segment_access=trace",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .try_init();
}
