//! Access reviews: a campaign over a frozen snapshot, decided item by item (on a terminal or
//! through a spreadsheet), carried out through the one write pipeline, verified against the live
//! workspace, and closed into an evidence pack an auditor can check.
//!
//! - [`campaign`]: the campaign file (SQLite, schema version 1, every decision committed as it
//!   is made);
//! - [`items`]: the population: the grant records of a scope, each with a stable id;
//! - [`sheet`]: the spreadsheet round trip (CSV export, import checked row by row);
//! - [`carry`]: revoke decisions as a change plan, recording which journal entry carried each;
//! - [`verify`]: the live re-read that checks every decision took (or kept) effect;
//! - [`pack`]: the evidence pack and its SHA-256 manifest.

pub(crate) mod campaign;
pub(crate) mod carry;
pub(crate) mod items;
pub(crate) mod pack;
pub(crate) mod sheet;
pub(crate) mod verify;

#[cfg(test)]
pub(crate) mod tests;

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::record::Principal;

pub(crate) use campaign::Campaign;

/// What a reviewer decided about one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Decision {
    /// The access stays.
    Keep,
    /// The access goes: `review apply` removes it.
    Revoke,
    /// Needs someone else's look; neither kept nor revoked.
    Flag,
}

impl Decision {
    pub(crate) const ALL: [Decision; 3] = [Decision::Keep, Decision::Revoke, Decision::Flag];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::Revoke => "revoke",
            Decision::Flag => "flag",
        }
    }

    /// `keep`, `revoke` or `flag`, in any case, surrounding blanks ignored.
    pub(crate) fn parse(s: &str) -> Option<Decision> {
        let s = s.trim();
        Decision::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s))
    }
}

/// Why a review command cannot go on.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReviewError {
    #[error("{path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file named on the command line is not what it should be (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The campaign's state forbids it: closed, carried out, its snapshot changed (exit 1).
    #[error("{0}")]
    Refused(String),
}

impl ReviewError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ReviewError {
        ReviewError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// How a principal is keyed inside a campaign: `user:<id>`, `invite:<email>` (lower case) or
/// `group:<id>`. One person's items share it.
pub(crate) fn person_key(p: &Principal) -> String {
    match p {
        Principal::User { id, .. } => format!("user:{id}"),
        Principal::Invite { email } => format!("invite:{}", email.to_lowercase()),
        Principal::Group { id, .. } => format!("group:{id}"),
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The SHA-256 of a file, read in blocks, and its length.
pub(crate) fn sha256_file(path: &Path) -> Result<(String, u64), ReviewError> {
    let mut f = std::fs::File::open(path).map_err(|e| ReviewError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| ReviewError::io(path, e))?;
        if n == 0 {
            break;
        }
        len += n as u64;
        h.update(&buf[..n]);
    }
    Ok((hex(&h.finalize()), len))
}

/// Now, as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub(crate) fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    crate::segment::time::format_rfc3339_secs(secs)
}

/// A new campaign id: `rv-` and twelve hex digits, random.
pub(crate) fn new_campaign_id() -> String {
    format!("rv-{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)
}
