//! segment-access: audit and change who has access to a Segment workspace.
//!
//! Data flows one way: `cli` -> `access` -> `segment` -> HTTP; `output` renders what `access`
//! returns. The `emulator` depends only on the shared models in `segment::models`.
//!
//! Everything is crate-private but what the binary, the integration tests and the benchmark
//! use: the command tree and `cli::main`, the emulator, the keyring, the token type, the TLS
//! set-up and the snapshot schema version.
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]

pub(crate) mod access;
pub mod auth;
pub mod cli;
pub mod emulator;
mod files;
pub(crate) mod output;
pub mod segment;
pub mod snapshot;
