//! The module's error type: bad settings, data of the wrong kind, records of other runs, and
//! the underlying learner, data, store, claims and plot errors, each naming what was wrong.
use std::path::PathBuf;

/// Everything that can go wrong in [`crate::shen2021_flymodel`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlyError {
    /// A setting or argument is outside its allowed range, or data of the wrong kind.
    #[error("{0}")]
    InvalidArgument(String),
    /// A file of the study's directory holds something else than this study expects (other
    /// data, other features, a damaged record); the file is named and left unchanged.
    #[error("{path}: {problem}")]
    Record {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what to do.
        problem: String,
    },
    /// A learner or the harness failed.
    #[error(transparent)]
    Learner(#[from] neurogen_learners::LearnerError),
    /// Loading or sampling data failed.
    #[error(transparent)]
    Data(#[from] neurogen_data::DataError),
    /// Writing a file failed.
    #[error(transparent)]
    Io(#[from] neurogen_io::IoError),
    /// Reading or writing the run store failed.
    #[error(transparent)]
    Store(#[from] neurogen_lab::StoreError),
    /// A claim could not be declared or decided.
    #[error(transparent)]
    Claim(#[from] neurogen_lab::claims::ClaimError),
    /// A plot could not be saved.
    #[error(transparent)]
    Plot(#[from] neurogen_lab::plot::PlotError),
}

/// Shorthand for `Result<T, FlyError>`.
pub type Result<T> = std::result::Result<T, FlyError>;
