//! The model crate's error type.
use std::path::PathBuf;

/// Everything that can go wrong while building, training, evaluating or (de)serialising a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// An error from candle (shape mismatch, device error, ...).
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// An error from the data crate.
    #[error(transparent)]
    Data(#[from] neurogen_data::DataError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A configuration value is out of its allowed range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Training diverged (a non-finite loss or weight).
    #[error("training diverged at epoch {epoch}, step {step}: {what}")]
    Diverged {
        /// Zero-based epoch at which it happened.
        epoch: usize,
        /// Global optimiser step at which it happened.
        step: usize,
        /// What was found (for example `loss is NaN`).
        what: String,
    },
    /// A checkpoint file is not a valid neurogen checkpoint.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The requested device is not available in this build or on this machine.
    #[error("device: {0}")]
    Device(String),
    /// An error raised by a regulariser (including third-party ones).
    #[error("regulariser {name}: {message}")]
    Regularizer {
        /// The regulariser's name.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// A parameter name that the model does not have.
    #[error("unknown parameter {0}")]
    UnknownParam(String),
}

/// Shorthand for results in this crate.
pub type Result<T> = std::result::Result<T, ModelError>;

impl ModelError {
    /// Builds a [`ModelError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io {
            path: path.into(),
            source,
        }
    }
}
