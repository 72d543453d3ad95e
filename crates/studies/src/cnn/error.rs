//! The CNN runner's error type: what stopped a run's preparation, training or recording, naming
//! the run or the file.
use std::path::PathBuf;

use neurogen_model::ModelError;

/// Everything that can go wrong in [`crate::cnn`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CnnError {
    /// The model crate failed (building the network, evaluating it).
    #[error(transparent)]
    Model(Box<ModelError>),
    /// Parsing, building or saving the regularisers (or the checkpoint) failed.
    #[error(transparent)]
    Regularizer(#[from] neurogen_regularizers::RegError),
    /// Training a batch of runs failed (other than a run diverging, which is recorded).
    #[error("training {label}")]
    Training {
        /// The batch's runs, in words.
        label: String,
        /// What stopped it.
        #[source]
        source: Box<ModelError>,
    },
    /// A run stopped with an error other than diverging.
    #[error("run {group} repeat {repeat}")]
    Run {
        /// The run's group.
        group: String,
        /// The run's repeat.
        repeat: usize,
        /// What stopped it.
        #[source]
        source: Box<ModelError>,
    },
    /// A run's training settings lack an evaluation its row needs.
    #[error("run {group} repeat {repeat}: {missing} (the run's TrainConfig must evaluate every epoch and the training split at the end)")]
    NotEvaluated {
        /// The run's group.
        group: String,
        /// The run's repeat.
        repeat: usize,
        /// What is missing.
        missing: &'static str,
    },
    /// A file could not be read.
    #[error("reading {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file does not parse.
    #[error("{path} is damaged")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        #[source]
        source: serde_json::Error,
    },
    /// Encoding a file as JSON failed.
    #[error("JSON encoding: {0}")]
    Json(#[from] serde_json::Error),
    /// Writing a file failed.
    #[error(transparent)]
    Io(#[from] neurogen_io::IoError),
}

impl From<ModelError> for CnnError {
    fn from(e: ModelError) -> CnnError {
        CnnError::Model(Box::new(e))
    }
}
