//! The domain: grants, name resolution and effective access, computed from what the Segment
//! client reads; change plans and the journal. Nothing here prints or parses command lines.

pub(crate) mod accounts;
pub(crate) mod apply;
pub(crate) mod batch;
pub(crate) mod change;
pub(crate) mod copy;
pub(crate) mod directory;
pub(crate) mod events;
pub(crate) mod grants;
pub(crate) mod journal;
pub(crate) mod plan;
pub(crate) mod policy;
pub(crate) mod record;
pub(crate) mod resolve;
pub(crate) mod review;
pub(crate) mod source;
pub(crate) mod trail;
pub(crate) mod undo;
pub(crate) mod views;
pub(crate) mod wants;

pub(crate) use directory::{Directory, Need, Progress, Quiet};
pub(crate) use record::GrantRecord;
pub(crate) use source::{GrantQuery, Source, SourceError};
