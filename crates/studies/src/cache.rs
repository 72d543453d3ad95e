//! A JSON file that caches a computation ([`cached_json`]): the studies' per-network analyses
//! (fig. 5's and single directions' `analysis/STEM.json`) are saved beside their runs, so a
//! rerun analyses nothing it has and a committed result re-derives its report without the
//! checkpoints.
//!
//! ```
//! use neurogen_studies::cache::{cached_json, CacheError};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("analysis").join("control_r0.json");
//! // Nothing saved yet: computed, written and read back.
//! let a: Vec<f64> = cached_json(&path, |_: &Vec<f64>| true, || Ok::<_, CacheError>(vec![0.5]))
//!     .unwrap();
//! // Saved and current: read, the computation does not run.
//! let b: Vec<f64> = cached_json(&path, |_: &Vec<f64>| true, || -> Result<_, CacheError> {
//!     unreachable!("the saved value is current")
//! })
//! .unwrap();
//! assert_eq!(a, b);
//! ```
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// What can go wrong reading or writing a cached value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The saved file does not parse (as the value it caches).
    #[error("{} is damaged: delete it to redo the analysis", path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        #[source]
        source: serde_json::Error,
    },
    /// The file's folder could not be created.
    #[error("cannot create {}", path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// What stopped it.
        #[source]
        source: std::io::Error,
    },
    /// The value could not be written as JSON.
    #[error("cannot write {} as JSON", path.display())]
    Encode {
        /// The file.
        path: PathBuf,
        /// The serialiser's message.
        #[source]
        source: serde_json::Error,
    },
    /// Writing the file failed ([`neurogen_io::write_atomic`]).
    #[error(transparent)]
    Write(#[from] neurogen_io::IoError),
    /// The file just written could not be read back.
    #[error("reading back {}", path.display())]
    ReadBack {
        /// The file.
        path: PathBuf,
        /// What stopped it.
        #[source]
        source: std::io::Error,
    },
}

/// A JSON file that caches a computation: `path` is read when it holds a value that
/// `is_current` accepts (e.g. made for the same run and settings); otherwise `compute` runs, its
/// value is written atomically (creating the folder) and read back, so that the caller uses
/// exactly what a later run will read. A file that does not parse is an error that names it
/// ([`CacheError::Damaged`]), and nothing is computed. The caller's error type `E` carries
/// both `compute`'s errors and the cache's.
pub fn cached_json<T, E>(
    path: &Path,
    is_current: impl Fn(&T) -> bool,
    compute: impl FnOnce() -> Result<T, E>,
) -> Result<T, E>
where
    T: Serialize + DeserializeOwned,
    E: From<CacheError>,
{
    let damaged = |source| CacheError::Damaged {
        path: path.to_path_buf(),
        source,
    };
    if let Ok(text) = std::fs::read_to_string(path) {
        let value: T = serde_json::from_str(&text).map_err(damaged)?;
        if is_current(&value) {
            return Ok(value);
        }
    }
    let value = compute()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| CacheError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let text = serde_json::to_string_pretty(&value).map_err(|source| CacheError::Encode {
        path: path.to_path_buf(),
        source,
    })?;
    neurogen_io::write_atomic(path, text.as_bytes()).map_err(CacheError::from)?;
    let text = std::fs::read_to_string(path).map_err(|source| CacheError::ReadBack {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(serde_json::from_str(&text).map_err(damaged)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_analysis_is_reused_when_current_redone_when_stale_and_named_when_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("analysis").join("control_r0.json");
        let computed = std::cell::Cell::new(0);
        let compute = |v: f64| {
            computed.set(computed.get() + 1);
            Ok::<_, CacheError>(vec![v, 0.1 + 0.2])
        };
        // Computed, written (creating the folder) and read back.
        let a: Vec<f64> = cached_json(&path, |_: &Vec<f64>| false, || compute(1.0)).unwrap();
        assert_eq!(a, vec![1.0, 0.1 + 0.2]);
        assert_eq!(computed.get(), 1);
        // Current: read, not computed.
        let b: Vec<f64> = cached_json(&path, |v: &Vec<f64>| v[0] == 1.0, || compute(2.0)).unwrap();
        assert_eq!((b, computed.get()), (a, 1));
        // Stale: computed again and replaced.
        let c: Vec<f64> = cached_json(&path, |v: &Vec<f64>| v[0] == 2.0, || compute(2.0)).unwrap();
        assert_eq!((c[0], computed.get()), (2.0, 2));
        // Damaged: an error naming the file, nothing computed.
        std::fs::write(&path, "{not json").unwrap();
        let e = cached_json(&path, |_: &Vec<f64>| true, || compute(3.0)).unwrap_err();
        assert!(matches!(e, CacheError::Damaged { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("control_r0.json") && msg.contains("delete it"),
            "{msg}"
        );
        assert_eq!(computed.get(), 2);
    }

    #[test]
    fn the_computation_s_error_is_the_caller_s_and_nothing_is_written() {
        #[derive(Debug)]
        enum Mine {
            Failed,
            Cache(CacheError),
        }
        impl From<CacheError> for Mine {
            fn from(e: CacheError) -> Mine {
                Mine::Cache(e)
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        let e = cached_json(&path, |_: &f64| true, || Err::<f64, _>(Mine::Failed)).unwrap_err();
        assert!(matches!(e, Mine::Failed), "{e:?}");
        assert!(!path.exists());
        std::fs::write(&path, "[").unwrap();
        let e = cached_json(&path, |_: &f64| true, || Ok::<f64, Mine>(1.0)).unwrap_err();
        assert!(
            matches!(e, Mine::Cache(CacheError::Damaged { .. })),
            "{e:?}"
        );
    }
}
