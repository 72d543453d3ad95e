//! One row of a run store ([`Row`]): the columns of `runs.csv` and what the engine reads from
//! them, and how a run ended ([`RunStatus`]).
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// How a run ended; written to `runs.csv` as `ok` or `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// The run finished; what it saved is on disk.
    Ok,
    /// The run failed (e.g. diverged); the row's message says why.
    Failed,
}

/// One line of a study's `runs.csv`: one run, whatever the study measures.
///
/// The struct's serde fields, in order, are the file's columns, and they must equal
/// [`Row::COLUMNS`] (the store refuses to write a row whose header differs, so that it never
/// writes a file it would then refuse to read). The engine reads only the run's identity and
/// outcome through the accessors; every other column is the study's own.
///
/// ```
/// use neurogen_lab::store::{Row, RunStatus};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Clone, Serialize, Deserialize)]
/// struct Measured {
///     group: String,
///     repeat: usize,
///     config_hash: String,
///     status: RunStatus,
///     score: Option<f64>,
/// }
///
/// impl Row for Measured {
///     const COLUMNS: &'static [&'static str] =
///         &["group", "repeat", "config_hash", "status", "score"];
///     fn group(&self) -> &str { &self.group }
///     fn repeat(&self) -> usize { self.repeat }
///     fn config_hash(&self) -> &str { &self.config_hash }
///     fn status(&self) -> RunStatus { self.status }
/// }
/// ```
pub trait Row: Serialize + DeserializeOwned + Clone {
    /// The columns of `runs.csv`, in order (the struct's serde field names).
    const COLUMNS: &'static [&'static str];

    /// What writes these files, for the message that refuses a file with another header
    /// (`not a runs.csv written by WRITTEN_BY`).
    const WRITTEN_BY: &'static str = "this study";

    /// Headers of files written by older versions that still read (their missing columns need
    /// `#[serde(default)]`). None by default.
    fn older_columns() -> Vec<&'static [&'static str]> {
        Vec::new()
    }

    /// The columns that may differ between two recordings of the same run on the same kind of
    /// machine (its timing, the device's name, how many runs it was batched with): left out
    /// when a merge of shards ([`crate::shard::merge()`]) decides whether two recordings of a
    /// run agree. Every other column must be equal. None by default.
    const VOLATILE_COLUMNS: &'static [&'static str] = &[];

    /// The files a run saved that the study reads back (paths relative to the study's
    /// directory, e.g. a checkpoint): a merge of shards refuses a run whose files are not
    /// there (a shard that wrote to another file system). None by default.
    fn saved_files(&self) -> Vec<String> {
        Vec::new()
    }

    /// The run's group: the display name of its arm (the resume key, with [`Row::repeat`]).
    fn group(&self) -> &str;

    /// The run's repeat index.
    fn repeat(&self) -> usize;

    /// The hash of the configuration the run was recorded with
    /// ([`crate::study::RunSpec::hash`]).
    fn config_hash(&self) -> &str;

    /// How the run ended.
    fn status(&self) -> RunStatus;

    /// The run in a few words for a progress line (`Control r3: ok`); studies say what they
    /// measured.
    fn summary(&self) -> String {
        let outcome = match self.status() {
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
        };
        format!("{} r{}: {outcome}", self.group(), self.repeat())
    }
}

/// The four identity accessors of [`Row`] (`group`, `repeat`, `config_hash`, `status`) for a
/// row struct whose fields have those names and types (`String`, `usize`, `String`,
/// [`RunStatus`]); written inside the `impl Row` block.
///
/// ```
/// use neurogen_lab::store::{Row, RunStatus};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Clone, Serialize, Deserialize)]
/// struct Measured {
///     group: String,
///     repeat: usize,
///     config_hash: String,
///     status: RunStatus,
///     score: Option<f64>,
/// }
///
/// impl Row for Measured {
///     const COLUMNS: &'static [&'static str] =
///         &["group", "repeat", "config_hash", "status", "score"];
///     neurogen_lab::row_identity!();
/// }
/// let m = Measured { group: "a".into(), repeat: 2, config_hash: "h".into(), status: RunStatus::Ok, score: None };
/// assert_eq!((m.group(), m.repeat(), m.config_hash(), m.status()), ("a", 2, "h", RunStatus::Ok));
/// ```
#[macro_export]
macro_rules! row_identity {
    () => {
        fn group(&self) -> &str {
            &self.group
        }
        fn repeat(&self) -> usize {
            self.repeat
        }
        fn config_hash(&self) -> &str {
            &self.config_hash
        }
        fn status(&self) -> $crate::store::RunStatus {
            self.status
        }
    };
}
