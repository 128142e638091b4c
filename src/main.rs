//! The segment-access binary: everything lives in the library, so its tests see what ships.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    segment_access::cli::main()
}
