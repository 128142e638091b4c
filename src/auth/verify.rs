//! Checking a token with Segment: which workspace it belongs to and whether it may manage access.

use std::time::Duration;

use crate::segment::models::Workspace;
use crate::segment::{Client, ClientConfig, Error, Token};

/// A token's access level, as far as one request can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Access {
    Owner,
    /// Reads the workspace, but IAM endpoints answer 403: grants and revokes will fail.
    Member,
    Unknown(String),
}

impl Access {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Access::Owner => "owner",
            Access::Member => "member",
            Access::Unknown(_) => "unknown",
        }
    }
}

/// What Segment said about a token.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    pub workspace: Workspace,
    pub access: Access,
}

/// Asks Segment for the token's workspace, then probes its access level. A check should answer
/// in seconds, not after minutes of retries: two attempts per request.
pub(crate) async fn verify(url: &str, token: Token, timeout: Duration) -> Result<Verified, Error> {
    let mut cfg = ClientConfig::new(url, token);
    cfg.timeout = timeout;
    cfg.max_attempts = 2;
    let client = Client::new(cfg)?;
    let workspace = client.workspace().await?;
    let access = match client.probe_users().await {
        Ok(()) => Access::Owner,
        Err(e) if e.status() == Some(403) => Access::Member,
        Err(e) => Access::Unknown(e.to_string()),
    };
    Ok(Verified { workspace, access })
}
