//! The data crate's error type: every failure names the file (or archive member) and what is
//! wrong with it, so bad input is reported, never panicked on and never silently shortened.
use std::path::PathBuf;

/// Errors of `neurogen-data`. Messages name the offending file and the rule it breaks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file or directory could not be read or written.
    #[error("{path}: {cause}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying I/O error.
        cause: std::io::Error,
    },
    /// A file's bytes break its format: truncated record, wrong magic number, bad header, ...
    #[error("{path}: {msg}")]
    Format {
        /// The file (for archive members: `archive:member`).
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// A label outside `0..num_classes`.
    #[error("{path}: label {label} out of range ({what}; allowed 0..={max})")]
    LabelOutOfRange {
        /// The file holding the label.
        path: PathBuf,
        /// The label found.
        label: i64,
        /// Largest allowed label.
        max: usize,
        /// Where in the file (record or row number).
        what: String,
    },
    /// An image that cannot be decoded or has the wrong size or colour type.
    #[error("{path}: {msg}")]
    Image {
        /// The image file (for archive members: `archive:member`).
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// A class folder whose name is not a class of any supported dataset.
    #[error("{path}: unknown class folder '{name}' (expected one of: {expected})")]
    UnknownClass {
        /// The folder.
        path: PathBuf,
        /// The folder's name.
        name: String,
        /// The allowed class names.
        expected: String,
    },
    /// A required split or class has no images, or a required file is missing.
    #[error("{path}: {msg}")]
    Missing {
        /// The dataset location.
        path: PathBuf,
        /// What is missing.
        msg: String,
    },
    /// A `.tar` / `.tar.gz` archive that cannot be read.
    #[error("{path}: unreadable archive: {msg}")]
    Archive {
        /// The archive.
        path: PathBuf,
        /// Why it cannot be read.
        msg: String,
    },
    /// A path that holds none of the supported dataset forms.
    #[error("{path}: not a recognised dataset: {msg}")]
    Unrecognised {
        /// The path given.
        path: PathBuf,
        /// What was found, and what is supported.
        msg: String,
    },
    /// A parquet file that cannot be read or lacks the expected columns.
    #[error("{path}: parquet: {msg}")]
    Parquet {
        /// The parquet file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// The Hugging Face Hub could not provide the dataset.
    #[error("Hugging Face Hub: {0}")]
    Hub(String),
    /// An invalid argument (split size, batch index, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A candle error while building tensors.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

impl DataError {
    /// Shorthand for [`DataError::Format`].
    pub(crate) fn format(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        DataError::Format {
            path: path.into(),
            msg: msg.into(),
        }
    }

    /// Shorthand for [`DataError::Io`].
    pub(crate) fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            cause,
        }
    }

    /// Shorthand for [`DataError::Missing`].
    pub(crate) fn missing(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        DataError::Missing {
            path: path.into(),
            msg: msg.into(),
        }
    }
}
