//! The module's error type: bad settings, shapes and labels are reported, never panicked on.

/// Everything that can go wrong in [`crate::bena2021_modular`].
#[derive(Debug, thiserror::Error)]
pub enum ModularError {
    /// A setting or an input is outside what is allowed (the message names it).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A tensor operation failed.
    #[error("tensor: {0}")]
    Candle(#[from] candle_core::Error),
    /// The optimiser or the loss failed.
    #[error("model: {0}")]
    Model(#[from] neurogen_model::ModelError),
    /// Loading a dataset failed.
    #[error("data: {0}")]
    Data(#[from] neurogen_data::DataError),
    /// A metric failed.
    #[error("analysis: {0}")]
    Analysis(#[from] neurogen_analysis::AnalysisError),
}

/// Shorthand for `Result<T, ModularError>`.
pub type Result<T> = std::result::Result<T, ModularError>;

/// `ModularError::InvalidArgument` from a formatted message.
pub(crate) fn invalid(msg: impl Into<String>) -> ModularError {
    ModularError::InvalidArgument(msg.into())
}
