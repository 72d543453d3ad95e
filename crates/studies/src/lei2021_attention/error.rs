//! The study's typed error: every bad input (shapes, labels, settings, non-finite numbers) is
//! named in the message; no panic.
use thiserror::Error;

/// What went wrong in a scene, the attention network, its loss or its training.
#[derive(Debug, Error)]
pub enum AttentionError {
    /// A setting is out of range (e.g. no objects, a gating strength outside `[0, 1]`).
    #[error("invalid setting: {0}")]
    Config(String),
    /// A tensor or buffer has the wrong shape for what it is used as.
    #[error("bad shape: {0}")]
    Shape(String),
    /// A label is out of range, or labels and scenes disagree in number.
    #[error("bad labels: {0}")]
    Label(String),
    /// A pixel, loss or parameter is NaN or infinite.
    #[error("non-finite value: {0}")]
    NonFinite(String),
    /// An error from candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// An error from the model crate (the optimiser).
    #[error(transparent)]
    Model(#[from] neurogen_model::ModelError),
    /// An error from the data crate (reading IDX files, splitting).
    #[error(transparent)]
    Data(#[from] neurogen_data::DataError),
    /// An error writing a file.
    #[error(transparent)]
    Io(#[from] neurogen_io::IoError),
}

/// The study's result type.
pub type Result<T> = std::result::Result<T, AttentionError>;

/// A [`AttentionError::Config`] with `msg`.
pub(crate) fn config(msg: impl Into<String>) -> AttentionError {
    AttentionError::Config(msg.into())
}

/// A [`AttentionError::Shape`] with `msg`.
pub(crate) fn shape(msg: impl Into<String>) -> AttentionError {
    AttentionError::Shape(msg.into())
}
