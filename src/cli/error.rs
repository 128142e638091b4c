//! The one error type commands return: what went wrong for people, an optional hint saying what
//! to do, the underlying cause for `-v`, and the exit code scripts see. The same failure maps to
//! the same code wherever it happens: every conversion from a library error lives here.

use std::fmt;

use crate::access::journal::JournalError;
use crate::access::resolve::ResolveError;
use crate::auth::settings::SettingsError;
use crate::auth::{ConfigError, StoreError};
use crate::output::OutputError;
use crate::segment::Error as ApiError;
use crate::snapshot::SnapshotError;

/// Documented exit codes (docs/exit-codes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitCode {
    Ok = 0,
    Failure = 1,
    Usage = 2,
    Partial = 3,
    Auth = 4,
    /// Stopped by SIGINT (Ctrl-C), as shells report it: 128 + 2.
    Interrupted = 130,
    /// Stopped by SIGTERM: 128 + 15.
    Terminated = 143,
}

/// What kind of failure, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    Failure,
    /// The command line (or a file it names) is wrong: fix it and run again.
    Usage,
    /// The token is missing, rejected, or may not do this; or the keyring failed.
    Auth,
    /// Ctrl-C at a prompt or during a command.
    Interrupted,
    /// SIGTERM while access was being changed.
    Terminated,
    /// The reader of our output went away (`| head`): stop quietly, as a filter should.
    ClosedPipe,
}

#[derive(Debug)]
pub(crate) struct CliError {
    pub kind: ErrorKind,
    /// One line: what is wrong (and, often, what to do).
    pub message: String,
    /// A second line for people: what to do next, when the message does not say it.
    pub hint: Option<String>,
    /// The underlying error, shown with -v.
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl CliError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> CliError {
        CliError {
            kind,
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    pub(crate) fn failure(message: impl Into<String>) -> CliError {
        CliError::new(ErrorKind::Failure, message)
    }

    pub(crate) fn usage(message: impl Into<String>) -> CliError {
        CliError::new(ErrorKind::Usage, message)
    }

    pub(crate) fn auth(message: impl Into<String>) -> CliError {
        CliError::new(ErrorKind::Auth, message)
    }

    pub(crate) fn closed_pipe() -> CliError {
        CliError::new(ErrorKind::ClosedPipe, "")
    }

    pub(crate) fn interrupted(message: impl Into<String>) -> CliError {
        CliError::new(ErrorKind::Interrupted, message)
    }

    pub(crate) fn with_source(
        mut self,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> CliError {
        self.source = Some(Box::new(e));
        self
    }

    /// The same error with its message prefixed (the kind, hint and cause stay).
    pub(crate) fn context(mut self, prefix: impl fmt::Display) -> CliError {
        self.message = format!("{prefix}: {}", self.message);
        self
    }

    pub(crate) fn code(&self) -> ExitCode {
        match self.kind {
            ErrorKind::Failure => ExitCode::Failure,
            ErrorKind::Usage => ExitCode::Usage,
            ErrorKind::Auth => ExitCode::Auth,
            ErrorKind::Interrupted => ExitCode::Interrupted,
            ErrorKind::Terminated => ExitCode::Terminated,
            ErrorKind::ClosedPipe => ExitCode::Ok,
        }
    }

    /// A failed write to stdout: quiet when the reader went away, else named as stdout's.
    pub(crate) fn stdout(e: std::io::Error) -> CliError {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return CliError::closed_pipe();
        }
        CliError::failure(format!("cannot write to standard output: {e}")).with_source(e)
    }
}

impl From<ApiError> for CliError {
    fn from(e: ApiError) -> CliError {
        let converted = match &e {
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
        };
        converted.with_source(e)
    }
}

impl From<crate::access::SourceError> for CliError {
    fn from(e: crate::access::SourceError) -> CliError {
        match e {
            crate::access::SourceError::Api(a) => a.into(),
            crate::access::SourceError::Resolve(r) => r.into(),
            crate::access::SourceError::Missing(m) => CliError::failure(m),
            crate::access::SourceError::AuditTrail(a) => audit_trail(a),
        }
    }
}

/// `GET /audit-events` refused. 404 is a workspace without the Business tier (exit 1); 403 is
/// a token that may not read the trail, or the tier again, and exits as an auth problem (4)
/// like every 403.
pub(crate) fn audit_trail(e: ApiError) -> CliError {
    let converted = match &e {
        ApiError::Api {
            status: 403,
            message,
            ..
        } => CliError::auth(format!(
            "the token may not read the audit trail (403: {message}); it needs the Workspace Owner access level, on a workspace with Segment's Business tier"
        )),
        ApiError::Api {
            status, message, ..
        } => CliError::failure(format!(
            "the audit trail is unavailable ({status}: {message}); Segment keeps it only for workspaces on the Business tier (without it, `sync --out` twice and `diff` show what changed)"
        )),
        _ => return CliError::from(e),
    };
    converted.with_source(e)
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
        if e.is_broken_pipe() {
            return CliError::closed_pipe();
        }
        match e {
            OutputError::Io(io) => CliError::stdout(io),
            OutputError::Jq(crate::output::JqError::Compile(m)) | OutputError::Usage(m) => {
                CliError::usage(m)
            }
            other => CliError::failure(other.to_string()),
        }
    }
}

impl From<SnapshotError> for CliError {
    fn from(e: SnapshotError) -> CliError {
        CliError::failure(e.to_string()).with_source(e)
    }
}

impl From<JournalError> for CliError {
    fn from(e: JournalError) -> CliError {
        CliError::failure(e.to_string()).with_source(e)
    }
}

/// Every keyring failure is an auth problem (4): the token cannot be had or kept.
impl From<StoreError> for CliError {
    fn from(e: StoreError) -> CliError {
        CliError::auth(e.to_string()).with_source(e)
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> CliError {
        let kind = match e {
            ConfigError::BadName(_) => ErrorKind::Usage,
            _ => ErrorKind::Failure,
        };
        CliError::new(kind, e.to_string()).with_source(e)
    }
}

impl From<SettingsError> for CliError {
    fn from(e: SettingsError) -> CliError {
        match e {
            SettingsError::Config(c) => c.into(),
            SettingsError::Format { .. }
            | SettingsError::UnknownProfile { .. }
            | SettingsError::CacheMaxAge { .. } => CliError::usage(e.to_string()),
            SettingsError::NoToken { .. }
            | SettingsError::EmptyStdin
            | SettingsError::Keyring { .. } => CliError::auth(e.to_string()),
            SettingsError::Stdin(_) => CliError::usage(e.to_string()),
        }
    }
}
