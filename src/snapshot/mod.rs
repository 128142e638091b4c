//! SQLite snapshots of a workspace's access: written by `sync`, read back into the same
//! `Directory` live commands use (so offline answers run the live code paths), and compared
//! by `diff`.

pub mod diff;
pub mod read;
pub mod schema;
pub mod write;

pub use read::{Snapshot, read};
pub use schema::SCHEMA_VERSION;
pub use write::{Meta, write};

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
