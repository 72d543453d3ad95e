//! The run store: one directory's `runs.csv`, one [`Row`] per run, keyed by (group, repeat)
//! and checked by the hash of the run's configuration.
//!
//! - [`row`]: what a row must tell the engine ([`Row`], [`RunStatus`]);
//! - [`csv`]: reading (refusing a damaged file or an unknown header) and atomic writing;
//! - [`hash`]: the configuration hash ([`config_hash`]) and file names ([`stem`], [`slug`]).
//!
//! Crash safety: a study saves what a run produced (atomically) before its row is added, and
//! [`RunStore::record`] rewrites `runs.csv` atomically once per batch, so a kill at any moment
//! leaves every recorded run complete; a run killed before its row was written is simply run
//! again. A rerun with a changed configuration stops with [`StoreError::ChangedConfig`]
//! instead of silently reusing old runs.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub mod csv;
pub mod hash;
pub mod row;

pub use self::csv::{read_rows, write_rows};
pub use hash::{config_hash, slug, stem};
pub use row::{Row, RunStatus};

use crate::study::RunSpec;

/// The file name of a store's rows in its directory.
pub const RUNS_FILE: &str = "runs.csv";

/// What can go wrong reading, writing or resuming a run store. Every variant that concerns a
/// file names it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file exists but cannot be opened.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: ::csv::Error,
    },
    /// The file is not one this row type reads: a wrong header or a damaged row. The file is
    /// left unchanged.
    #[error("{path}, line {line}: {problem}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// The line (1: the header).
        line: u64,
        /// What is wrong, and that the file was left unchanged.
        problem: String,
    },
    /// A row could not be serialised.
    #[error("writing {path}: {source}")]
    Write {
        /// The file that was to be written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: ::csv::Error,
    },
    /// A row type's serde fields are not its declared [`Row::COLUMNS`]; nothing was written.
    #[error(
        "writing {path}: the rows serialise with the columns {serialised:?} but declare \
         {declared:?} (Row::COLUMNS must list the struct's fields in order); nothing was written"
    )]
    Columns {
        /// The file that was to be written.
        path: PathBuf,
        /// The header serde wrote.
        serialised: Vec<String>,
        /// [`Row::COLUMNS`].
        declared: Vec<String>,
    },
    /// A recorded run has another configuration hash than its spec now.
    #[error(
        "{path} already holds run {group:?} repeat {repeat} with a different configuration \
         (hash {recorded} recorded, {now} now: a setting of the run changed); write to another \
         output directory, or delete that directory to start over"
    )]
    ChangedConfig {
        /// The store's file.
        path: PathBuf,
        /// The run's group.
        group: String,
        /// The run's repeat.
        repeat: usize,
        /// The hash in the file.
        recorded: String,
        /// The hash of the spec now.
        now: String,
    },
    /// A run spec could not be serialised to JSON for its hash.
    #[error("a run spec cannot be serialised for its configuration hash: {source}")]
    Spec {
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// The store's directory could not be created.
    #[error("cannot create {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Writing the file atomically, or taking the directory's lock, failed.
    #[error(transparent)]
    Io(#[from] neurogen_io::IoError),
}

/// The runs recorded in one directory (`DIR/runs.csv`), with its lock.
///
/// ```
/// use neurogen_lab::store::{RunStore, RunStatus, Row};
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Clone, Serialize, Deserialize)]
/// # struct R { group: String, repeat: usize, config_hash: String, status: RunStatus }
/// # impl Row for R {
/// #     const COLUMNS: &'static [&'static str] = &["group", "repeat", "config_hash", "status"];
/// #     fn group(&self) -> &str { &self.group }
/// #     fn repeat(&self) -> usize { self.repeat }
/// #     fn config_hash(&self) -> &str { &self.config_hash }
/// #     fn status(&self) -> RunStatus { self.status }
/// # }
/// let dir = tempfile::tempdir()?;
/// let store = RunStore::new(dir.path());
/// let _lock = store.lock("an example")?; // a second writer is refused until dropped
/// let mut rows: Vec<R> = store.read()?; // none yet
/// let run = R { group: "A".into(), repeat: 0, config_hash: "ab".into(), status: RunStatus::Ok };
/// store.record(&mut rows, vec![run])?; // one atomic write per batch
/// assert_eq!(store.read::<R>()?.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RunStore {
    dir: PathBuf,
    file: PathBuf,
}

impl RunStore {
    /// The store of `dir` (its rows in `dir/runs.csv`). Nothing is read or created yet.
    pub fn new(dir: &Path) -> RunStore {
        RunStore {
            dir: dir.to_path_buf(),
            file: dir.join(RUNS_FILE),
        }
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The store's `runs.csv`.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Creates the directory (and its parents) if needed.
    pub fn create_dir(&self) -> Result<(), StoreError> {
        std::fs::create_dir_all(&self.dir).map_err(|source| StoreError::CreateDir {
            path: self.dir.clone(),
            source,
        })
    }

    /// Locks the directory (which must exist) for `what` until the lock is dropped
    /// ([`neurogen_io::DirLock`]): a second writer, in this process or another, is refused
    /// with an error naming the holder.
    pub fn lock(&self, what: &str) -> Result<neurogen_io::DirLock, StoreError> {
        Ok(neurogen_io::DirLock::acquire(&self.dir, what)?)
    }

    /// Every recorded row ([`read_rows`]): none when there is no file yet.
    pub fn read<R: Row>(&self) -> Result<Vec<R>, StoreError> {
        read_rows(&self.file)
    }

    /// Replaces the file by `rows`, atomically ([`write_rows`]).
    pub fn write<R: Row>(&self, rows: &[R]) -> Result<(), StoreError> {
        write_rows(&self.file, rows)
    }

    /// Adds a batch's rows to `rows` (a row of the same group and repeat is replaced; new
    /// rows go last) and writes the file once, so that a kill leaves all of the batch or none.
    pub fn record<R: Row>(&self, rows: &mut Vec<R>, batch: Vec<R>) -> Result<(), StoreError> {
        for row in batch {
            rows.retain(|r| !(r.group() == row.group() && r.repeat() == row.repeat()));
            rows.push(row);
        }
        self.write(rows)
    }

    /// The runs of `specs` not yet in `rows` (read from this store), in the order of `specs`;
    /// see [`still_to_do`].
    pub fn still_to_do<S: RunSpec, R: Row>(
        &self,
        specs: &[S],
        rows: &[R],
    ) -> Result<Vec<S>, StoreError> {
        still_to_do(&self.file, specs, rows)
    }
}

/// The runs of `specs` not yet recorded in `rows` (read from `file`), in the order of `specs`.
/// A run counts as recorded when a row has its group and repeat, whatever its status; if that
/// row's configuration hash differs from the spec's, the whole resume is refused
/// ([`StoreError::ChangedConfig`]).
pub fn still_to_do<S: RunSpec, R: Row>(
    file: &Path,
    specs: &[S],
    rows: &[R],
) -> Result<Vec<S>, StoreError> {
    let done: BTreeMap<(&str, usize), &R> =
        rows.iter().map(|r| ((r.group(), r.repeat()), r)).collect();
    let mut todo = Vec::new();
    for s in specs {
        match done.get(&(s.group(), s.repeat())) {
            Some(r) => {
                let now = s.hash()?;
                if r.config_hash() != now {
                    return Err(StoreError::ChangedConfig {
                        path: file.to_path_buf(),
                        group: r.group().to_string(),
                        repeat: r.repeat(),
                        recorded: r.config_hash().to_string(),
                        now,
                    });
                }
            }
            None => todo.push(s.clone()),
        }
    }
    Ok(todo)
}

/// The rows of the runs of `specs` recorded so far in any of `files` (a study's `runs.csv` and
/// its shards', say), for a report on an unfinished study; writes nothing and takes no lock
/// (every file is replaced atomically, so a reader sees whole files).
///
/// Rows of other runs are left out. Each recorded run is checked against its spec as a resume
/// checks it ([`StoreError::ChangedConfig`]). A run recorded in several files counts once, as
/// in the first file that holds it; rows come file by file, each file's in its order.
pub fn recorded_rows<S: RunSpec, R: Row>(
    files: &[PathBuf],
    specs: &[S],
) -> Result<Vec<R>, StoreError> {
    let mut rows: Vec<R> = Vec::new();
    for f in files {
        let mine: Vec<R> = read_rows::<R>(f)?
            .into_iter()
            .filter(|r| {
                specs
                    .iter()
                    .any(|s| s.group() == r.group() && s.repeat() == r.repeat())
            })
            .collect();
        still_to_do(f, specs, &mine)?;
        for r in mine {
            if !rows
                .iter()
                .any(|x| x.group() == r.group() && x.repeat() == r.repeat())
            {
                rows.push(r);
            }
        }
    }
    Ok(rows)
}
