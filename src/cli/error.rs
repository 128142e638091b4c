//! The one error type commands return: a message for people and the exit code scripts see.

use crate::access::resolve::ResolveError;
use crate::output::OutputError;
use crate::segment::Error as ApiError;

/// Documented exit codes (docs/exit-codes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    Failure = 1,
    Usage = 2,
    Partial = 3,
    Auth = 4,
}

#[derive(Debug)]
pub struct CliError {
    pub code: ExitCode,
    /// One line: what is wrong and what to do.
    pub message: String,
}

impl CliError {
    pub fn failure(message: impl Into<String>) -> CliError {
        CliError {
            code: ExitCode::Failure,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            code: ExitCode::Usage,
            message: message.into(),
        }
    }

    /// The reader of our output went away (`| head`): stop quietly, as a filter should.
    pub fn closed_pipe() -> CliError {
        CliError {
            code: ExitCode::Ok,
            message: String::new(),
        }
    }

    pub fn auth(message: impl Into<String>) -> CliError {
        CliError {
            code: ExitCode::Auth,
            message: message.into(),
        }
    }
}

impl From<ApiError> for CliError {
    fn from(e: ApiError) -> CliError {
        match &e {
            ApiError::Api {
                status: 401,
                message,
                ..
            } => CliError::auth(format!(
                "Segment rejected the token (401: {message}); it may be mistyped, revoked, or for another region (--region eu): check SEGMENT_TOKEN, --token-stdin or `segment-access auth login`"
            )),
            ApiError::Api {
                status: 403,
                message,
                ..
            } => CliError::auth(format!(
                "the token may not do this (403: {message}); access management needs a token with the Workspace Owner access level"
            )),
            ApiError::Config(m) => CliError::usage(m.clone()),
            ApiError::Network { .. } | ApiError::Timeout { .. } => CliError::failure(format!(
                "{e}; check the network and --api-url, then try again"
            )),
            _ => CliError::failure(e.to_string()),
        }
    }
}

impl From<ResolveError> for CliError {
    fn from(e: ResolveError) -> CliError {
        match e {
            ResolveError::Syntax(m) => CliError::usage(m),
            other => CliError::failure(other.to_string()),
        }
    }
}

impl From<crate::access::wants::BindingError> for CliError {
    fn from(e: crate::access::wants::BindingError) -> CliError {
        match e {
            crate::access::wants::BindingError::Resolve(r) => r.into(),
            crate::access::wants::BindingError::NotBindable(m) => CliError::usage(m),
        }
    }
}

impl From<OutputError> for CliError {
    fn from(e: OutputError) -> CliError {
        match e {
            OutputError::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe => {
                CliError::closed_pipe()
            }
            OutputError::Jq(crate::output::JqError::Io(io))
                if io.kind() == std::io::ErrorKind::BrokenPipe =>
            {
                CliError::closed_pipe()
            }
            OutputError::Jq(crate::output::JqError::Compile(m)) => CliError::usage(m),
            other => CliError::failure(other.to_string()),
        }
    }
}
