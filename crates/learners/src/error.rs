//! The learners crate's error type.
use neurogen_model::ModelError;

/// Everything that can go wrong while building, training or evaluating a learner.
#[derive(Debug, thiserror::Error)]
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
