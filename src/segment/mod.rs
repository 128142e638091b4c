//! Typed async client for the Segment Public API and the wire models it shares with the emulator.

pub mod models;
pub mod roles;
