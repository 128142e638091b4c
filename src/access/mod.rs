//! The domain: grants, name resolution and effective access, computed from what the Segment
//! client reads. Nothing here prints or parses command lines.

pub mod accounts;
pub mod apply;
pub mod batch;
pub mod directory;
pub mod grants;
pub mod journal;
pub mod plan;
pub mod record;
pub mod resolve;
pub mod undo;
pub mod views;
pub mod wants;

pub use directory::{Directory, Need, Progress, Quiet};
pub use grants::{GrantFilter, ResourceMatch};
pub use record::GrantRecord;
