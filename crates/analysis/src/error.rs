//! The crate's single error type: every analysis function reports bad input (too few
//! observations, NaNs, zero variance, mismatched lengths, missing CSV columns, ...) as a typed
//! [`AnalysisError`] instead of panicking.
use std::path::PathBuf;

/// Everything that can go wrong in `neurogen-analysis`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// A group or sample has fewer observations than the statistic needs.
    #[error("{what}: need at least {min} observations, got {got}")]
    TooFewObservations {
        /// Which input (e.g. "group 2", "sample a").
        what: String,
        /// Minimum required.
        min: usize,
        /// Number supplied.
        got: usize,
    },
    /// A value is NaN or infinite.
    #[error("{what}: value at index {index} is not finite ({value})")]
    NonFinite {
        /// Which input.
        what: String,
        /// Position of the offending value.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// The statistic is undefined because the data have no variance.
    #[error("{what}: zero variance, the statistic is undefined")]
    ZeroVariance {
        /// Which input or term.
        what: String,
    },
    /// Two inputs that must have matching lengths do not.
    #[error("{what}: expected length {expected}, got {got}")]
    LengthMismatch {
        /// Which input.
        what: String,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// A value lies outside the support of the distribution being fitted (e.g. a non-positive
    /// weight given to a log-normal fit).
    #[error("{what}: value at index {index} is {value}, outside the support {support}")]
    OutsideSupport {
        /// Which input and fit.
        what: String,
        /// Position of the offending value.
        index: usize,
        /// The value itself.
        value: f64,
        /// The support the distribution needs (e.g. "x > 0").
        support: String,
    },
    /// An argument is outside its allowed range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The caller's evaluation closure (ablation, importance) failed.
    #[error("evaluation failed: {0}")]
    Eval(Box<dyn std::error::Error + Send + Sync>),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A CSV file could not be parsed.
    #[error("{path}: malformed CSV: {source}")]
    Csv {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: csv::Error,
    },
    /// A requested CSV column does not exist.
    #[error("{path}: no column named {column:?}; available columns: {available:?}")]
    MissingColumn {
        /// The file concerned.
        path: PathBuf,
        /// The missing column name.
        column: String,
        /// The columns the file has.
        available: Vec<String>,
    },
    /// A CSV cell that must hold a number does not.
    #[error(
        "{path}: row {row} (line {line}), column {column:?}: {value:?} is not a finite number"
    )]
    NonNumeric {
        /// The file concerned.
        path: PathBuf,
        /// 1-based data row (header excluded).
        row: usize,
        /// 1-based line number in the file.
        line: u64,
        /// Column name.
        column: String,
        /// The offending cell.
        value: String,
    },
    /// Rendering a plot failed.
    #[error("plot: {0}")]
    Plot(String),
    /// Encoding a PNG failed.
    #[error("png encoding: {0}")]
    Image(#[from] image::ImageError),
}

/// Shorthand for `Result<T, AnalysisError>`.
pub type Result<T> = std::result::Result<T, AnalysisError>;

/// Checks that every value is finite.
pub(crate) fn check_finite(what: &str, xs: &[f64]) -> Result<()> {
    match xs.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(AnalysisError::NonFinite {
            what: what.to_string(),
            index,
            value: xs[index],
        }),
        None => Ok(()),
    }
}

/// Checks that there are at least `min` values and all are finite.
pub(crate) fn check_sample(what: &str, xs: &[f64], min: usize) -> Result<()> {
    if xs.len() < min {
        return Err(AnalysisError::TooFewObservations {
            what: what.to_string(),
            min,
            got: xs.len(),
        });
    }
    check_finite(what, xs)
}
