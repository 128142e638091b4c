//! Typed async client for the Segment Public API and the wire models it shares with the emulator.
//! Nothing here prints: callers decide what a person sees.

pub mod client;
pub mod error;
pub mod limiter;
pub mod models;
pub mod pages;
pub mod roles;

pub use client::{Client, ClientConfig};
pub use error::{Error, Token};
