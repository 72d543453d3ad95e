//! The single-directions study's error type: settings or data it cannot run on, a run-store
//! group that does not build, the CNN runner's and the model's errors, an analysis of a trained
//! network (naming the network), its saved analyses, the claims, plots and report, and the
//! program running the study.
use std::path::PathBuf;

use neurogen_lab::claims::ClaimError;
use neurogen_lab::plot::PlotError;
use neurogen_lab::study::BoxError;
use neurogen_model::ModelError;

use crate::cache::CacheError;
use crate::cnn::CnnError;
use crate::tran2022::TranError;

/// Everything that can go wrong in [`crate::morcos2018`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdError {
    /// The settings cannot make the study (e.g. fewer than 2 repeats per setting).
    #[error("{0}")]
    Settings(String),
    /// A data set is not the kind its network trains on.
    #[error("the {net} trains on {want}, but the data given holds {got}")]
    WrongData {
        /// The network (`CNN`, `MLP`).
        net: &'static str,
        /// The data set it needs.
        want: neurogen_data::DatasetKind,
        /// The data set it was given.
        got: neurogen_data::DatasetKind,
    },
    /// An arm's group of the run store does not build.
    #[error(transparent)]
    Group(Box<TranError>),
    /// Sampling, corrupting or reshaping the images failed.
    #[error(transparent)]
    Data(#[from] neurogen_data::DataError),
    /// The model crate failed (loading features, evaluating a network).
    #[error(transparent)]
    Model(Box<ModelError>),
    /// A curve, selectivity or importance analysis failed.
    #[error(transparent)]
    Analysis(#[from] neurogen_analysis::AnalysisError),
    /// The CNN runner failed (a checkpoint's regularisers).
    #[error(transparent)]
    Cnn(#[from] CnnError),
    /// A run's checkpoint could not be loaded for its analyses.
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
    /// Analysing one network failed.
    #[error("analysing {group} r{repeat}")]
    Analyse {
        /// The run's group.
        group: String,
        /// The run's repeat.
        repeat: usize,
        /// What stopped it.
        #[source]
        source: Box<SdError>,
    },
    /// A saved analysis (`analysis/STEM.json`) does not parse, or cannot be written.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// Deciding a claim failed.
    #[error(transparent)]
    Claims(#[from] ClaimError),
    /// Saving a plot failed.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// A folder of the study's directory could not be created.
    #[error("cannot create {}", path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// What stopped it.
        #[source]
        source: std::io::Error,
    },
    /// Writing the report failed.
    #[error(transparent)]
    Write(#[from] neurogen_io::IoError),
    /// The program running the study failed ([`super::SdContext`]: training), with its own
    /// message.
    #[error(transparent)]
    Context(BoxError),
}

impl From<ModelError> for SdError {
    fn from(e: ModelError) -> SdError {
        SdError::Model(Box::new(e))
    }
}

impl From<TranError> for SdError {
    fn from(e: TranError) -> SdError {
        SdError::Group(Box::new(e))
    }
}

impl SdError {
    /// An error of the program running the study, kept as it is (message and causes).
    pub fn context(e: impl Into<BoxError>) -> SdError {
        SdError::Context(e.into())
    }
}
