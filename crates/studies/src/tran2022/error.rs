//! The figures' error type: a group whose regulariser specs do not parse, a figure whose keys,
//! names or claims do not fit together, the engine's claims and plot errors, the CNN runner's
//! errors, fig. 5's analyses of trained networks, and those of the program running the figure.
use neurogen_lab::claims::ClaimError;
use neurogen_lab::plot::PlotError;
use neurogen_lab::study::BoxError;
use neurogen_regularizers::RegError;

use std::path::PathBuf;

use neurogen_model::ModelError;

use crate::cache::CacheError;
use crate::cnn::CnnError;

/// Everything that can go wrong in [`crate::tran2022`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TranError {
    /// A group's regulariser specs do not parse.
    #[error("group {key:?}")]
    Group {
        /// The group's key.
        key: String,
        /// The parser's message.
        source: RegError,
    },
    /// A figure's groups or claims do not fit together (duplicate keys, names or file names,
    /// a claim on a missing group), named with the figure's title.
    #[error("{0}")]
    Figure(String),
    /// Deciding or tabulating a claim failed.
    #[error(transparent)]
    Claims(#[from] ClaimError),
    /// Saving a plot failed.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// Reading a run's curves (or another step of the CNN runner) failed.
    #[error(transparent)]
    Cnn(#[from] CnnError),
    /// An analysis of a trained network failed (fig. 5's ablation curve, class selectivity).
    #[error(transparent)]
    Analysis(#[from] neurogen_analysis::AnalysisError),
    /// Sampling the images a figure's analyses use failed.
    #[error(transparent)]
    Data(#[from] neurogen_data::DataError),
    /// A run's checkpoint could not be loaded for its analyses (fig. 5).
    #[error("loading {} (to analyse {group} r{repeat})", path.display())]
    Checkpoint {
        /// The checkpoint.
        path: PathBuf,
        /// The run's group.
        group: String,
        /// The run's repeat.
        repeat: usize,
        /// What stopped it.
        #[source]
        source: Box<ModelError>,
    },
    /// A saved analysis (fig. 5's `analysis/STEM.json`) does not parse, or cannot be written.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The program running the figure failed ([`super::context::FigureContext`]: training,
    /// merging, writing the report), with its own message.
    #[error(transparent)]
    Context(BoxError),
}

impl From<ModelError> for TranError {
    fn from(e: ModelError) -> TranError {
        TranError::Cnn(CnnError::from(e))
    }
}

impl TranError {
    /// An error of the program running the figure, kept as it is (message and causes).
    pub fn context(e: impl Into<BoxError>) -> TranError {
        TranError::Context(e.into())
    }
}
