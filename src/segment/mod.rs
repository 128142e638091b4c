//! Typed async client for the Segment Public API and the wire models it shares with the emulator.
//! Nothing here prints: callers decide what a person sees.

pub(crate) mod client;
pub(crate) mod error;
pub(crate) mod limiter;
pub(crate) mod models;
pub(crate) mod pages;
pub(crate) mod redact;
pub(crate) mod roles;
pub(crate) mod time;
pub mod tls;

pub(crate) use client::{Client, ClientConfig};
pub(crate) use error::Error;
pub use error::Token;
pub(crate) use limiter::Pacing;
