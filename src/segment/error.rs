//! Errors of the Segment client. They keep Segment's own error type and message, and they never
//! carry the token: requests are described by method and path only.

use std::fmt;

/// An API token. Its `Debug` and `Display` never show the value, so it cannot leak through
/// `{:?}` in a log line, an error or a panic message.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Token {
        Token(value.into())
    }

    /// The secret itself. Only the HTTP layer and `auth token` should ever call this.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Segment answered with an error envelope (or at least an error status).
    #[error("{method} {path}: {status} {error_type}: {message}")]
    Api {
        method: String,
        path: String,
        status: u16,
        error_type: String,
        message: String,
        field: Option<String>,
    },
    /// Could not reach the server, or the connection broke, after all retries.
    #[error("cannot reach {host}: {message}")]
    Network { host: String, message: String },
    /// No answer within the request timeout, after all retries.
    #[error("{method} {path}: no answer from {host} within {secs}s")]
    Timeout {
        method: String,
        path: String,
        host: String,
        secs: u64,
    },
    /// A 2xx answer whose body is not what the API document promises.
    #[error("{method} {path}: unexpected response from Segment: {message}")]
    Decode {
        method: String,
        path: String,
        message: String,
    },
    /// The client was configured wrongly (bad URL, insecure scheme, ...).
    #[error("{0}")]
    Config(String),
}

impl Error {
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A failure after which a write may or may not have happened: the server failed (5xx),
    /// the connection broke, or no answer came.
    pub(crate) fn is_ambiguous(&self) -> bool {
        match self {
            Error::Network { .. } | Error::Timeout { .. } => true,
            Error::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }

    pub(crate) fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

pub(crate) type Result<T> = std::result::Result<T, Error>;
