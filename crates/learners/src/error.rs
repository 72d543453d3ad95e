//! The learners crate's error type.
use neurogen_model::ModelError;

/// Everything that can go wrong while building, training or evaluating a learner.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LearnerError {
    /// A setting or an input is out of its allowed range; the message says what is allowed.
    #[error("{0}")]
    Config(String),
    /// The network or its training loop failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A regulariser could not be built.
    #[error(transparent)]
    Regularizer(#[from] neurogen_regularizers::RegError),
    /// A cache or checkpoint file cannot be used (unreadable, damaged, or of other settings).
    #[error("{}: {reason}", path.display())]
    Cache {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Data could not be read or assembled.
    #[error(transparent)]
    Data(#[from] neurogen_data::DataError),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Result with [`LearnerError`].
pub type Result<T> = std::result::Result<T, LearnerError>;

/// A [`LearnerError::Config`] with this message.
pub(crate) fn config<T>(msg: impl Into<String>) -> Result<T> {
    Err(LearnerError::Config(msg.into()))
}
