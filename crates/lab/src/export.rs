//! Exporting a study's results: the files its command reads back to write its report, in the
//! form a repository commits (`docs/results/<name>/`), or, for a study that has not finished,
//! the runs recorded so far with a note on how to continue ([`export_partial`]).
//!
//! Everything in the study's directory is copied except what is not a result: the
//! [`CHECKPOINTS_DIR`] (hundreds of MB), the shards ([`crate::shard::SHARDS_DIR`]), an interim
//! report ([`crate::shard::INTERIM_DIR`]: carried by a partial export only while it is
//! current; a study on the engine's [`crate::interim::INTERIM_REPORT_FILE`]: never), the directories a study adds to [`ExportRules::skip_dirs`], and every
//! directory's lock file. A study may rewrite the JSON files of a directory on the way
//! ([`ExportRules::rewrite_json`], e.g. to drop logs no report reads).
//!
//! ```
//! use neurogen_lab::export::{export, ExportRules};
//!
//! let dir = tempfile::tempdir()?;
//! let study = dir.path().join("toy");
//! std::fs::create_dir_all(study.join("checkpoints"))?;
//! std::fs::write(study.join("runs.csv"), "group,repeat\n")?;
//! std::fs::write(study.join("report.md"), "# Toy\n")?;
//! std::fs::write(study.join("checkpoints/a.bin"), "weights")?;
//! let to = dir.path().join("results/toy");
//! let done = export(&study, &to, "toy --scale quick", &ExportRules::default())?;
//! assert_eq!(done.files, 3); // runs.csv, report.md, command.txt
//! assert!(!to.join("checkpoints").exists());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
use std::path::{Path, PathBuf};

use crate::interim::INTERIM_REPORT_FILE;
use crate::shard::{INTERIM_DIR, SHARDS_DIR};
use crate::store::{read_rows, Row, StoreError, RUNS_FILE};

/// The directory of a study that holds what its runs saved to resume or analyse them; never
/// exported.
pub const CHECKPOINTS_DIR: &str = "checkpoints";

/// The report a finished study writes in its directory.
pub const REPORT_FILE: &str = "report.md";

/// The file an export writes: the command that rewrites the report from the exported files.
pub const COMMAND_FILE: &str = "command.txt";

/// The file a partial export writes instead of [`COMMAND_FILE`]: how to continue.
pub const RESUME_FILE: &str = "RESUME.md";

/// What can go wrong exporting; every variant names the directory or file concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The destination is inside the study's directory.
    #[error("{to} is inside {from}: export to a directory outside the study's")]
    Inside {
        /// The study's directory.
        from: PathBuf,
        /// The destination.
        to: PathBuf,
    },
    /// The destination exists and holds files.
    #[error("{to} exists and is not empty: export writes a fresh directory (remove it first)")]
    NotEmpty {
        /// The destination.
        to: PathBuf,
    },
    /// A full export of a study that has not finished (it lacks `missing`).
    #[error(
        "{dir} has no {missing}: export a study's directory once it has finished, or export \
         it as partial to carry an unfinished one"
    )]
    Unfinished {
        /// The study's directory.
        dir: PathBuf,
        /// The file it lacks ([`RUNS_FILE`] or [`REPORT_FILE`]).
        missing: &'static str,
    },
    /// A partial export of a study with no `runs.csv`.
    #[error(
        "{dir} has no runs.csv: no run of this study has finished yet, there is nothing to carry"
    )]
    NothingRecorded {
        /// The study's directory.
        dir: PathBuf,
    },
    /// A file or directory could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A directory could not be created.
    #[error("cannot create {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file to rewrite ([`ExportRules::rewrite_json`]) does not parse.
    #[error("{path} is damaged")]
    DamagedJson {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// The study's `runs.csv` is damaged (a partial export reads it before copying anything).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing a file atomically failed.
    #[error(transparent)]
    Io(#[from] neurogen_io::IoError),
}

/// A rewrite of a JSON value on its way to the export: returns how many items it dropped.
pub type JsonRewrite = fn(&mut serde_json::Value) -> usize;

/// What a study leaves out of its export or changes on the way, besides what is never
/// exported (see the module documentation). The default copies everything else as it is.
#[derive(Debug, Clone, Default)]
pub struct ExportRules {
    /// More top-level directories not to export.
    pub skip_dirs: Vec<String>,
    /// Top-level directories whose files are JSON to rewrite, each with its rewrite (every
    /// file is parsed, rewritten and written back pretty-printed).
    pub rewrite_json: Vec<(String, JsonRewrite)>,
}

/// What an interim report became in a partial export.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum InterimReport {
    /// There is none (or the export is a full one: never carried).
    #[default]
    None,
    /// Carried: written after the last recorded run, it describes exactly the carried runs.
    Carried,
    /// Not carried: older than `runs.csv` (the report named here).
    Stale(PathBuf),
}

/// What an export wrote.
#[derive(Debug, Default, PartialEq)]
pub struct Exported {
    /// Files written ([`COMMAND_FILE`] or [`RESUME_FILE`] included).
    pub files: usize,
    /// Their size in bytes.
    pub bytes: u64,
    /// Items the rewrites dropped ([`ExportRules::rewrite_json`]).
    pub dropped: usize,
    /// Runs recorded in the exported `runs.csv` (counted by a partial export only).
    pub runs: usize,
    /// What became of the interim report (a partial export only).
    pub interim: InterimReport,
}

/// Copies the results of the finished study directory `from` into `to` (see the module
/// documentation) and writes `command` to `to/command.txt` (trimmed, with a newline).
///
/// Refuses a study without its `runs.csv` or its [`REPORT_FILE`] ([`ExportError::Unfinished`]),
/// a `to` inside `from`, and a `to` that exists and is not empty.
pub fn export(
    from: &Path,
    to: &Path,
    command: &str,
    rules: &ExportRules,
) -> Result<Exported, ExportError> {
    for missing in [RUNS_FILE, REPORT_FILE] {
        if !from.join(missing).is_file() {
            return Err(ExportError::Unfinished {
                dir: from.to_path_buf(),
                missing,
            });
        }
    }
    let mut done = copy_results(from, to, rules)?;
    let text = format!("{}\n", command.trim());
    write(&to.join(COMMAND_FILE), text.as_bytes(), &mut done)?;
    Ok(done)
}

/// Copies the runs recorded so far in the unfinished study directory `from` into `to` (as
/// [`export`] does, without needing a report) and writes `to/RESUME.md` with the text
/// `resume(runs, interim_carried)` gives (how many runs it holds, and how to continue).
///
/// `runs.csv` is read as rows of `R` first, so that a damaged one is refused before anything
/// is copied. An interim report ([`INTERIM_DIR`]) is carried when it was written after
/// `runs.csv` (so it describes exactly the carried runs); [`Exported::interim`] says what
/// became of it.
pub fn export_partial<R: Row>(
    from: &Path,
    to: &Path,
    rules: &ExportRules,
    resume: impl FnOnce(usize, bool) -> String,
) -> Result<Exported, ExportError> {
    let runs_csv = from.join(RUNS_FILE);
    if !runs_csv.is_file() {
        return Err(ExportError::NothingRecorded {
            dir: from.to_path_buf(),
        });
    }
    let runs = read_rows::<R>(&runs_csv)?.len();
    let mut done = copy_results(from, to, rules)?;
    done.runs = runs;
    let interim = from.join(INTERIM_DIR);
    let report = interim.join(REPORT_FILE);
    if report.is_file() {
        let modified = |p: &Path| {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .map_err(|source| ExportError::Read {
                    path: p.to_path_buf(),
                    source,
                })
        };
        if modified(&report)? >= modified(&runs_csv)? {
            copy_dir(&interim, &to.join(INTERIM_DIR), None, &mut done)?;
            done.interim = InterimReport::Carried;
        } else {
            done.interim = InterimReport::Stale(report);
        }
    }
    let text = resume(runs, done.interim == InterimReport::Carried);
    write(&to.join(RESUME_FILE), text.as_bytes(), &mut done)?;
    Ok(done)
}

/// Checks that `to` is outside `from` and empty, then copies `from`'s results into it.
fn copy_results(from: &Path, to: &Path, rules: &ExportRules) -> Result<Exported, ExportError> {
    let inside = match (from.canonicalize(), to.parent().map(Path::canonicalize)) {
        (Ok(f), Some(Ok(p))) => p.starts_with(&f),
        _ => false,
    };
    if inside {
        return Err(ExportError::Inside {
            from: from.to_path_buf(),
            to: to.to_path_buf(),
        });
    }
    if to.exists() {
        let mut entries = std::fs::read_dir(to).map_err(|source| ExportError::Read {
            path: to.to_path_buf(),
            source,
        })?;
        if entries.next().is_some() {
            return Err(ExportError::NotEmpty {
                to: to.to_path_buf(),
            });
        }
    }
    let mut done = Exported::default();
    copy_dir(from, to, Some(rules), &mut done)?;
    Ok(done)
}

/// Writes `bytes` to `path` atomically and counts it.
fn write(path: &Path, bytes: &[u8], done: &mut Exported) -> Result<(), ExportError> {
    neurogen_io::write_atomic(path, bytes)?;
    done.files += 1;
    done.bytes += bytes.len() as u64;
    Ok(())
}

/// The entries of `dir`, sorted by name.
fn entries(dir: &Path) -> Result<Vec<std::fs::DirEntry>, ExportError> {
    let read_err = |source| ExportError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .collect::<Result<_, _>>()
        .map_err(read_err)?;
    entries.sort_by_key(|e| e.file_name());
    Ok(entries)
}

fn create_dir(path: &Path) -> Result<(), ExportError> {
    std::fs::create_dir_all(path).map_err(|source| ExportError::CreateDir {
        path: path.to_path_buf(),
        source,
    })
}

/// Copies `from` into `to`, without lock files; at the top (`rules` given) without the
/// directories never exported, without an interim report of a study on the engine
/// ([`INTERIM_REPORT_FILE`]) and with the study's rewrites.
fn copy_dir(
    from: &Path,
    to: &Path,
    rules: Option<&ExportRules>,
    done: &mut Exported,
) -> Result<(), ExportError> {
    create_dir(to)?;
    for e in entries(from)? {
        let name = e.file_name();
        let name_str = name.to_string_lossy();
        let (src, dst) = (e.path(), to.join(&name));
        let is_dir = e
            .file_type()
            .map_err(|source| ExportError::Read {
                path: src.clone(),
                source,
            })?
            .is_dir();
        if is_dir {
            if let Some(rules) = rules {
                let never = [CHECKPOINTS_DIR, SHARDS_DIR, INTERIM_DIR].contains(&name_str.as_ref());
                if never || rules.skip_dirs.iter().any(|d| *d == name_str) {
                    continue;
                }
                if let Some((_, rewrite)) = rules.rewrite_json.iter().find(|(d, _)| *d == name_str)
                {
                    copy_json(&src, &dst, *rewrite, done)?;
                    continue;
                }
            }
            copy_dir(&src, &dst, None, done)?;
        } else if name_str != neurogen_io::LOCK_FILE
            && !(rules.is_some() && name_str == INTERIM_REPORT_FILE)
        {
            let bytes = std::fs::read(&src).map_err(|source| ExportError::Read {
                path: src.clone(),
                source,
            })?;
            write(&dst, &bytes, done)?;
        }
    }
    Ok(())
}

/// Copies the JSON files of `from` into `to`, each rewritten by `rewrite`.
fn copy_json(
    from: &Path,
    to: &Path,
    rewrite: JsonRewrite,
    done: &mut Exported,
) -> Result<(), ExportError> {
    create_dir(to)?;
    for e in entries(from)? {
        let src = e.path();
        let text = std::fs::read_to_string(&src).map_err(|source| ExportError::Read {
            path: src.clone(),
            source,
        })?;
        let mut value: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| ExportError::DamagedJson {
                path: src.clone(),
                source,
            })?;
        done.dropped += rewrite(&mut value);
        let text =
            serde_json::to_string_pretty(&value).map_err(|source| ExportError::DamagedJson {
                path: src.clone(),
                source,
            })?;
        write(&to.join(e.file_name()), text.as_bytes(), done)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
