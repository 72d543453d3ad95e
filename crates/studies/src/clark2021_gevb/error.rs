//! The study's typed error: every bad input (shapes, labels, settings, non-finite numbers) is
//! named in the message; no panic.
use thiserror::Error;

/// What went wrong in a GEVB model, rule or measurement.
#[derive(Debug, Error)]
pub enum GevbError {
    /// A network or rule setting is out of range (e.g. an odd hidden width, no classes).
    #[error("invalid setting: {0}")]
    Config(String),
    /// A tensor has the wrong shape or dtype for what it is used as.
    #[error("bad shape: {0}")]
    Shape(String),
    /// A label is out of range, or labels and inputs disagree in number.
    #[error("bad labels: {0}")]
    Label(String),
    /// A loss, update or parameter is NaN or infinite.
    #[error("non-finite value: {0}")]
    NonFinite(String),
    /// An error from candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// An error from the model crate (the optimiser).
    #[error(transparent)]
    Model(#[from] neurogen_model::ModelError),
    /// An error writing a file.
    #[error(transparent)]
    Io(#[from] neurogen_io::IoError),
    /// A record that could not be serialised.
    #[error("serialising {what}: {source}")]
    Json {
        /// What was being serialised.
        what: String,
        /// The serializer's error.
        source: serde_json::Error,
    },
    /// A saved file that cannot be read or holds something else than expected.
    #[error("cannot use {0}")]
    File(String),
    /// An error from the data crate.
    #[error(transparent)]
    Data(#[from] neurogen_data::DataError),
}

/// The study's result type.
pub type Result<T> = std::result::Result<T, GevbError>;
