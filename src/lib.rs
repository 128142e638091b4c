//! segment-access: audit and change who has access to a Segment workspace.
//!
//! Data flows one way: `cli` -> `access` -> `segment` -> HTTP; `output` renders what `access`
//! returns. The `emulator` depends only on the shared models in `segment::models`.

pub mod access;
pub mod auth;
pub mod cli;
pub mod emulator;
pub mod output;
pub mod segment;
pub mod snapshot;
