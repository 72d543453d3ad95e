//! Shards: one study's runs split over several machines, each recording its share in a
//! directory of its own, and merged into the study's `runs.csv` once all are done.
//!
//! A study's runs are trained in batches (see [`crate::schedule`]); [`assign`] gives every
//! batch to one of `N` shards, costliest batches first, each to the shard with the least work
//! so far, so that shards take about the same time and a shard keeps the speed of batching. The
//! split depends only on the batches and their costs, so every shard computes the same one on
//! its own ([`select`], [`owners`]).
//!
//! Shard `I` of `N` records its runs in `DIR/shards/I-of-N/` ([`Shard::dir`]): its `runs.csv`,
//! its [`PLAN_FILE`] (the runs it is to record), its [`SETTINGS_FILE`] (the settings it ran
//! with, so that a merge needs none repeated) and the lock that stops the same shard from
//! running twice; what the runs save goes beside the study's own `runs.csv`, under the run's
//! own name, as without shards. [`merge()`] combines every shard's rows (and those of an
//! existing `DIR/runs.csv`); [`interim_rows`] reads the runs recorded so far, for a report on
//! an unfinished study.
//!
//! ```
//! use neurogen_lab::shard::{assign, Shard};
//!
//! let shard: Shard = "2/3".parse()?;
//! assert_eq!(shard.dir_name(), "2-of-3");
//! // Five batches, costs 5, 3, 3, 2, 1, over two shards: the costliest first, each to the
//! // least-loaded shard.
//! assert_eq!(assign(&[5, 3, 3, 2, 1], 2), vec![0, 1, 1, 0, 1]);
//! # Ok::<(), neurogen_lab::shard::ParseShardError>(())
//! ```
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::store::{recorded_rows, Row, RUNS_FILE};
use crate::study::RunSpec;

mod error;
pub mod merge;

pub use error::{ParseShardError, Refusal, ShardError};
pub use merge::{fold, merge, MergeHints};

/// The directory of a study that holds the shard directories.
pub const SHARDS_DIR: &str = "shards";

/// The file in a shard's directory that lists the runs the shard is to record ([`Plan`]).
pub const PLAN_FILE: &str = "plan.json";

/// The file in a shard's directory that records the settings the shard ran with, so that a
/// merge and an interim report need none repeated ([`write_settings`], [`recorded_settings`]).
pub const SETTINGS_FILE: &str = "settings.json";

/// The directory, inside a study's, that an interim report (of the runs recorded so far) is
/// written to.
pub const INTERIM_DIR: &str = "interim";

/// Shard `index` of `count` (both from 1: `2/3` is the second of three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shard {
    /// Which shard, 1 ..= `count`.
    pub index: usize,
    /// How many shards the study is split into (>= 1).
    pub count: usize,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ParseShardError;

    /// Parses `I/N` with `1 <= I <= N`.
    fn from_str(s: &str) -> Result<Shard, ParseShardError> {
        let text = s.to_string();
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| ParseShardError::Form { text: text.clone() })?;
        let num = |x: &str, what: &'static str| {
            x.trim()
                .parse::<usize>()
                .map_err(|_| ParseShardError::NotANumber {
                    text: text.clone(),
                    what,
                    value: x.to_string(),
                })
        };
        let (index, count) = (num(i, "I")?, num(n, "N")?);
        if count == 0 {
            return Err(ParseShardError::NoShards { text });
        }
        if index == 0 {
            return Err(ParseShardError::FromZero { text, count });
        }
        if index > count {
            return Err(ParseShardError::Beyond { text, index, count });
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The shard's directory name (`2-of-3`).
    pub fn dir_name(&self) -> String {
        format!("{}-of-{}", self.index, self.count)
    }

    /// The shard's directory in the study directory `dir` (`dir/shards/2-of-3`).
    pub fn dir(&self, dir: &Path) -> PathBuf {
        dir.join(SHARDS_DIR).join(self.dir_name())
    }

    /// Reads a directory name written by [`Shard::dir_name`]; None for any other name.
    pub fn from_dir_name(name: &str) -> Option<Shard> {
        let (i, n) = name.split_once("-of-")?;
        format!("{i}/{n}").parse().ok()
    }
}

/// Gives each of the items of `costs` to one of `count` shards (returned: the 0-based shard of
/// each item): the costliest item first (ties: in order), each to the shard with the least
/// cost so far (ties: the lowest). Deterministic. A `count` of 0 counts as 1.
pub fn assign(costs: &[u64], count: usize) -> Vec<usize> {
    let count = count.max(1);
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(costs[i]));
    let mut load = vec![0u64; count];
    let mut out = vec![0; costs.len()];
    for i in order {
        let mut s = 0;
        for t in 1..count {
            if load[t] < load[s] {
                s = t;
            }
        }
        out[i] = s;
        load[s] += costs[i];
    }
    out
}

/// The batches of `batches` that belong to `shard`, in their order, when each batch costs
/// `cost(batch)` ([`assign`]).
pub fn select<S>(batches: Vec<Vec<S>>, shard: Shard, cost: impl Fn(&[S]) -> u64) -> Vec<Vec<S>> {
    let costs: Vec<u64> = batches.iter().map(|b| cost(b)).collect();
    let owner = assign(&costs, shard.count);
    batches
        .into_iter()
        .zip(owner)
        .filter(|(_, o)| *o + 1 == shard.index)
        .map(|(b, _)| b)
        .collect()
}

/// The shard (1-based) that records each of `specs` when `batches` (every run, batched as the
/// shards batch them) are split into `count` shards; 0 for a spec no batch holds.
pub fn owners<S: RunSpec>(
    specs: &[S],
    batches: &[Vec<S>],
    count: usize,
    cost: impl Fn(&[S]) -> u64,
) -> Vec<usize> {
    let costs: Vec<u64> = batches.iter().map(|b| cost(b)).collect();
    let of_batch = assign(&costs, count);
    specs
        .iter()
        .map(|s| {
            batches
                .iter()
                .position(|b| {
                    b.iter()
                        .any(|x| x.group() == s.group() && x.repeat() == s.repeat())
                })
                .map_or(0, |i| of_batch[i] + 1)
        })
        .collect()
}

/// One run in a [`Plan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedRun {
    /// The run's group ([`RunSpec::group`]).
    pub group: String,
    /// The run's repeat.
    pub repeat: usize,
    /// The configuration hash the shard computed.
    pub config_hash: String,
}

/// What a shard is to record ([`PLAN_FILE`]), written when it starts, read by [`merge()`] to
/// name the shard of a missing run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The study (`figure` in the file, as the paper's figures first wrote it).
    pub figure: String,
    /// `I/N`.
    pub shard: String,
    /// Runs per batch the split was made with.
    pub replicas: usize,
    /// The shard's runs.
    pub runs: Vec<PlannedRun>,
}

/// Writes `value` to `path` as pretty JSON, atomically.
fn write_json(path: &Path, value: &impl Serialize) -> Result<(), ShardError> {
    let text = serde_json::to_string_pretty(value).map_err(|source| ShardError::Serialise {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(neurogen_io::write_atomic(path, text.as_bytes())?)
}

/// Writes `shard`'s plan (the runs of `batches`, split with `replicas` runs per batch) into its
/// directory `shard_dir` ([`PLAN_FILE`], atomically).
pub fn write_plan<S: RunSpec>(
    shard_dir: &Path,
    study: &str,
    shard: Shard,
    replicas: usize,
    batches: &[Vec<S>],
) -> Result<(), ShardError> {
    let plan = Plan::new(study, shard, replicas, batches)?;
    write_json(&shard_dir.join(PLAN_FILE), &plan)
}

impl Plan {
    /// The plan of `shard` of `study`: the runs of `batches`, split with `replicas` runs per
    /// batch.
    pub fn new<S: RunSpec>(
        study: &str,
        shard: Shard,
        replicas: usize,
        batches: &[Vec<S>],
    ) -> Result<Plan, ShardError> {
        let runs = batches
            .iter()
            .flatten()
            .map(|s| {
                Ok(PlannedRun {
                    group: s.group().to_string(),
                    repeat: s.repeat(),
                    config_hash: s.hash()?,
                })
            })
            .collect::<Result<_, ShardError>>()?;
        Ok(Plan {
            figure: study.to_string(),
            shard: shard.to_string(),
            replicas,
            runs,
        })
    }
}

/// Starts shard `shard` of the study in `dir`: refuses it when a shard split into another
/// count is there already ([`ShardError::OtherCount`]), or when its directory holds a plan
/// other than `plan` or settings other than `settings` (it was started with other settings:
/// [`ShardError::Changed`]), or when another shard recorded other settings
/// ([`ShardError::SettingsDiffer`]); otherwise writes its [`PLAN_FILE`] and [`SETTINGS_FILE`]
/// (atomically) into `shard.dir(dir)`, which must exist.
pub fn start<T: Serialize>(
    dir: &Path,
    shard: Shard,
    plan: &Plan,
    settings: &T,
) -> Result<(), ShardError> {
    check_count(dir, shard)?;
    let sdir = shard.dir(dir);
    let changed = |path: PathBuf, what: &str| ShardError::Changed {
        path,
        dir: sdir.clone(),
        shard,
        what: what.to_string(),
    };
    if let Some(old) = read_plan(&sdir)? {
        if old != *plan {
            return Err(changed(
                sdir.join(PLAN_FILE),
                "plan: the runs it is to record and their configuration hashes",
            ));
        }
    }
    let path = sdir.join(SETTINGS_FILE);
    let ours = serde_json::to_value(settings).map_err(|source| ShardError::Serialise {
        path: path.clone(),
        source,
    })?;
    for (other, other_dir) in find_shards(dir)? {
        let file = other_dir.join(SETTINGS_FILE);
        let Some(theirs) = read_json::<serde_json::Value>(&file, other)? else {
            continue;
        };
        if theirs != ours {
            return Err(if other == shard {
                changed(file, "settings")
            } else {
                ShardError::SettingsDiffer {
                    dir: dir.to_path_buf(),
                    first: other,
                    second: shard,
                }
            });
        }
    }
    write_json(&sdir.join(PLAN_FILE), plan)?;
    write_json(&path, &ours)
}

/// Refuses `shard` when the study in `dir` holds a shard split into another count
/// ([`ShardError::OtherCount`]); call it before creating the shard's directory.
pub fn check_count(dir: &Path, shard: Shard) -> Result<(), ShardError> {
    match find_shards(dir)?
        .into_iter()
        .find(|(s, _)| s.count != shard.count)
    {
        Some((found, _)) => Err(ShardError::OtherCount {
            dir: dir.to_path_buf(),
            asked: shard,
            found,
        }),
        None => Ok(()),
    }
}

/// The JSON file `path` of shard `shard`'s directory; None when there is none.
fn read_json<T: DeserializeOwned>(path: &Path, shard: Shard) -> Result<Option<T>, ShardError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ShardError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| ShardError::Damaged {
            path: path.to_path_buf(),
            what: Some(format!("the settings shard {shard} ran with")),
            source,
        })
}

/// Reads the plan of a shard's directory; None when it has none.
pub fn read_plan(shard_dir: &Path) -> Result<Option<Plan>, ShardError> {
    let path = shard_dir.join(PLAN_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ShardError::Read { path, source }),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| ShardError::Damaged {
            path,
            what: None,
            source,
        })
}

/// Writes the settings a shard runs with into its directory `shard_dir` ([`SETTINGS_FILE`],
/// atomically).
pub fn write_settings<T: Serialize>(shard_dir: &Path, settings: &T) -> Result<(), ShardError> {
    write_json(&shard_dir.join(SETTINGS_FILE), settings)
}

/// The settings the shards of the study in `dir` ran with ([`write_settings`]); None when no
/// shard recorded any. Fails, naming the files, when one does not parse or two shards ran with
/// different settings.
pub fn recorded_settings<T: DeserializeOwned + PartialEq>(
    dir: &Path,
) -> Result<Option<T>, ShardError> {
    let mut first: Option<(Shard, T)> = None;
    for (s, shard_dir) in find_shards(dir)? {
        let Some(settings) = read_json::<T>(&shard_dir.join(SETTINGS_FILE), s)? else {
            continue;
        };
        match &first {
            None => first = Some((s, settings)),
            Some((f, theirs)) if *theirs != settings => {
                return Err(ShardError::SettingsDiffer {
                    dir: dir.to_path_buf(),
                    first: *f,
                    second: s,
                })
            }
            Some(_) => {}
        }
    }
    Ok(first.map(|(_, t)| t))
}

/// The shard directories under `dir/shards`, in order (none when there is no such directory).
pub fn find_shards(dir: &Path) -> Result<Vec<(Shard, PathBuf)>, ShardError> {
    let root = dir.join(SHARDS_DIR);
    if !root.is_dir() {
        return Ok(Vec::new());
    }
    let read_err = |source| ShardError::Read {
        path: root.clone(),
        source,
    };
    let mut out = Vec::new();
    for e in std::fs::read_dir(&root).map_err(read_err)? {
        let e = e.map_err(read_err)?;
        if let Some(s) = e.file_name().to_str().and_then(Shard::from_dir_name) {
            if e.path().is_dir() {
                out.push((s, e.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The `runs.csv` files of the study in `dir`: its own, then each shard's, in order.
pub fn run_files(dir: &Path) -> Result<Vec<PathBuf>, ShardError> {
    let mut files = vec![dir.join(RUNS_FILE)];
    files.extend(
        find_shards(dir)?
            .into_iter()
            .map(|(_, d)| d.join(RUNS_FILE)),
    );
    Ok(files)
}

/// The rows of the runs of `specs` recorded so far in the study directory `dir`, in its
/// `runs.csv` and in its shards' (a study still training, or carried unfinished), for an
/// interim report ([`crate::store::recorded_rows`]): writes nothing and takes no lock; a run
/// recorded with another configuration hash than its spec's is refused; a run recorded in
/// several places counts once.
pub fn interim_rows<S: RunSpec, R: Row>(dir: &Path, specs: &[S]) -> Result<Vec<R>, ShardError> {
    Ok(recorded_rows(&run_files(dir)?, specs)?)
}

#[cfg(test)]
mod tests;
