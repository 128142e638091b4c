//! The shared timestamp arithmetic (`segment::time`), under the emulator's own name.

pub(super) use crate::segment::time::{format_rfc3339, now_millis, parse_rfc3339};
