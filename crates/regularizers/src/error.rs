//! The regularisers crate's error type: parse and validation messages that say what is allowed.
use std::path::PathBuf;

use neurogen_model::ModelError;

/// Everything that can go wrong while parsing, validating or building regularisers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegError {
    /// A `--regularizer` specification could not be parsed.
    #[error("invalid regulariser `{spec}`: {message}")]
    Parse {
        /// The specification as given.
        spec: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A setting is out of its allowed range.
    #[error("invalid {name} setting: {message}")]
    Invalid {
        /// The regulariser (`neurogenesis`, `dropout`, ...).
        name: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A TOML configuration could not be parsed.
    #[error("regulariser configuration {source_name}: {message}")]
    Toml {
        /// The file (or `<string>`).
        source_name: String,
        /// The parser's message (line, column, unknown key, ...).
        message: String,
    },
    /// A configuration file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A checkpoint lacks what evaluating it as trained needs (its regularisers), or records
    /// them in a form this version cannot read.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is missing or wrong, and what to do.
        message: String,
    },
    /// An error from the model crate (shapes, unknown parameters, ...).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
}

impl RegError {
    /// A range error of regulariser `name`.
    pub fn invalid(name: &str, message: impl Into<String>) -> Self {
        RegError::Invalid {
            name: name.to_string(),
            message: message.into(),
        }
    }
}

/// Errors raised inside training hooks travel as [`ModelError::Regularizer`].
impl From<RegError> for ModelError {
    fn from(e: RegError) -> Self {
        match e {
            RegError::Model(m) => m,
            RegError::Candle(c) => ModelError::Candle(c),
            RegError::Invalid { name, message } => ModelError::Regularizer { name, message },
            other => ModelError::Regularizer {
                name: "regularizers".into(),
                message: other.to_string(),
            },
        }
    }
}

/// Shorthand for results in this crate.
pub type Result<T> = std::result::Result<T, RegError>;
