//! What can go wrong parsing a shard ([`ParseShardError`]) and reading, writing or merging
//! shards ([`ShardError`]).
use std::path::PathBuf;

use super::{Shard, SETTINGS_FILE};
use crate::store::StoreError;

/// The form every [`ParseShardError`] asks for.
const FORM: &str = "expected I/N, shard I of N shards, with 1 <= I <= N (e.g. 1/4)";

/// A shard that is not `I/N` with `1 <= I <= N`; each message names the text and the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseShardError {
    /// Not two numbers separated by `/`.
    #[error("--shard {text}: {FORM}")]
    Form {
        /// The text given.
        text: String,
    },
    /// `I` or `N` is not a whole number.
    #[error("--shard {text}: {what} {value:?} is not a whole number; {FORM}")]
    NotANumber {
        /// The text given.
        text: String,
        /// `I` or `N`.
        what: &'static str,
        /// The part that is not a number.
        value: String,
    },
    /// `N` is 0.
    #[error("--shard {text}: N must be at least 1; {FORM}")]
    NoShards {
        /// The text given.
        text: String,
    },
    /// `I` is 0.
    #[error("--shard {text}: shards are numbered from 1 (1/{count} ... {count}/{count})")]
    FromZero {
        /// The text given.
        text: String,
        /// `N`.
        count: usize,
    },
    /// `I` > `N`.
    #[error(
        "--shard {text}: there is no shard {index} of {count} (1/{count} ... {count}/{count})"
    )]
    Beyond {
        /// The text given.
        text: String,
        /// `I`.
        index: usize,
        /// `N`.
        count: usize,
    },
}

/// What can go wrong with a study's shards. Every variant that concerns a file names it; a
/// refused merge names the runs concerned (at most [`super::merge::MAX_LISTED`], then a count)
/// and writes nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShardError {
    /// A file or directory could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A plan or settings file does not parse.
    #[error("{path} is damaged{}", what.as_ref().map(|w| format!(" ({w})")).unwrap_or_default())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What the file holds, if worth saying.
        what: Option<String>,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// A plan or the settings could not be serialised.
    #[error("writing {path}: {source}")]
    Serialise {
        /// The file that was to be written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// Two shards recorded different settings.
    #[error(
        "{dir}: shards {first} and {second} ran with different settings (see their \
         {SETTINGS_FILE}): a figure's shards must run with the same flags; rerun the wrong one"
    )]
    SettingsDiffer {
        /// The study's directory.
        dir: PathBuf,
        /// The first shard.
        first: Shard,
        /// The shard whose settings differ from the first's.
        second: Shard,
    },
    /// A shard was asked for with another count than the shards already in the study's
    /// directory: every shard of a study must split it the same way.
    #[error(
        "{dir}: shard {asked} was asked for, but shard {found} is there already: a study's \
         shards must all be split into the same N (keep N = {found_count}, or merge those \
         shards and then delete {dir}/shards to split anew)",
        found_count = .found.count
    )]
    OtherCount {
        /// The study's directory.
        dir: PathBuf,
        /// The shard asked for.
        asked: Shard,
        /// A shard already there, split into another count.
        found: Shard,
    },
    /// A shard's directory holds a plan (or settings) other than those it would run with now:
    /// it was started with other settings.
    #[error(
        "{path}: shard {shard} was started with other settings (its {what} differs from this \
         run's): rerun it with the same flags, or delete {dir} to start it anew"
    )]
    Changed {
        /// The plan or settings file that differs.
        path: PathBuf,
        /// The shard's directory.
        dir: PathBuf,
        /// The shard.
        shard: Shard,
        /// What differs (`plan: the runs and their configuration hashes`).
        what: String,
    },
    /// A shard still holds its lock: it is training, and would add runs after the merge.
    #[error("{study}: shard {shard} is still running, merge once it has finished ({lock})")]
    Running {
        /// The study.
        study: String,
        /// The shard.
        shard: Shard,
        /// The refused lock, naming its holder.
        lock: neurogen_io::IoError,
    },
    /// A merge was refused; nothing was written.
    #[error("{study}: cannot merge {dir}: {problem}; nothing was written:{listing}")]
    Refused {
        /// Why.
        why: Refusal,
        /// The study.
        study: String,
        /// The study's directory.
        dir: PathBuf,
        /// What is wrong, with how many runs and what to do.
        problem: String,
        /// The runs concerned, one per line.
        listing: String,
    },
    /// A run store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing a file atomically failed.
    #[error(transparent)]
    Io(#[from] neurogen_io::IoError),
}

/// Why a merge was refused ([`ShardError::Refused`]), in the order the merge checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// Recorded runs have another configuration hash than their specs.
    ChangedConfig,
    /// Runs are recorded twice with different results.
    DifferentResults,
    /// Runs are recorded nowhere.
    Missing,
    /// Successful runs' saved files are not in the study's directory.
    LostFiles,
}
