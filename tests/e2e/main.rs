//! The integration tests, as one binary: each module is one area, run against the built binary
//! (and the emulator on loopback), sharing the helpers of `support`.
//!
//! `cargo test --test e2e` runs them all; a module path filters, e.g.
//! `cargo test --test e2e auth_keyring::`.

mod support;

mod accounts;
mod auth;
mod auth_keyring;
mod auth_profiles;
mod batch;
mod browse;
mod cache;
mod concurrency;
mod ecosystem;
mod emulator_audit;
mod emulator_faults;
mod emulator_limits;
mod emulator_pagination;
mod emulator_state;
mod events;
mod faults;
mod like;
mod list;
mod messages;
mod names;
mod policy;
mod progress;
mod reads;
mod refresh;
mod reliability;
mod review;
mod secrets;
mod snapshot;
mod snapshots;
mod tables;
mod undo;
mod write;
