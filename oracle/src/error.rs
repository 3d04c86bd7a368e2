//! What can go wrong in the oracle's own work (not a backend's: those are outcomes,
//! [`BackendError`](evmdiff_core::BackendError)): bad input that names its file or flag, and
//! files that cannot be written.

use std::path::PathBuf;

/// An error of the oracle crate.
#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    /// Bad input: the message names the file or the flag and the problem.
    #[error("{0}")]
    Input(String),
    /// A file or folder could not be read or written.
    #[error("{}: {what}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done (`cannot read`, `cannot create folder`, ...).
        what: &'static str,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A value could not be serialized as JSON.
    #[error("cannot serialize: {0}")]
    Json(#[from] serde_json::Error),
}

impl OracleError {
    /// Bad input described by `message`.
    pub fn input(message: impl Into<String>) -> OracleError {
        OracleError::Input(message.into())
    }

    /// An I/O failure on `path` while doing `what`.
    pub fn io(
        path: impl Into<PathBuf>,
        what: &'static str,
    ) -> impl FnOnce(std::io::Error) -> OracleError {
        let path = path.into();
        move |source| OracleError::Io { path, what, source }
    }
}

/// The oracle crate's result.
pub type Result<T> = std::result::Result<T, OracleError>;
