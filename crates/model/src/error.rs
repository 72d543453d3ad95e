//! The model crate's error type.
use std::path::PathBuf;

/// Everything that can go wrong while building, training, evaluating or (de)serialising a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// A checkpoint holds a NaN or infinite weight (saved from a diverged run, or damaged):
    /// loading it would only hide the divergence.
    #[error(
        "checkpoint {path}: tensor {tensor} holds {count} non-finite value(s) (first {value} at \
         flat index {index}); refusing to load it"
    )]
    NonFiniteWeights {
        /// The checkpoint file.
        path: PathBuf,
        /// The tensor's name (`fcs.1.weight`, ...), the first in parameter order found.
        tensor: String,
        /// How many of its values are NaN or infinite.
        count: usize,
        /// Flat (row-major) index of the first one.
        index: usize,
        /// That value (NaN, inf or -inf).
        value: f32,
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

impl From<neurogen_io::IoError> for ModelError {
    /// A failed write becomes [`ModelError::Io`] naming the file; a path that names no file,
    /// [`ModelError::Config`].
    fn from(e: neurogen_io::IoError) -> Self {
        match e {
            neurogen_io::IoError::Write { path, source }
            | neurogen_io::IoError::Lock { path, source } => ModelError::Io { path, source },
            other => ModelError::Config(other.to_string()),
        }
    }
}

impl ModelError {
    /// Builds a [`ModelError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io {
            path: path.into(),
            source,
        }
    }
}
