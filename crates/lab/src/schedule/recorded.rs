//! The runs of a study recorded so far, in its `runs.csv` and its shards' ([`recorded_runs`]),
//! for an interim report ([`crate::interim`]): nothing trained, nothing written, no lock.
use std::path::Path;

use super::{sharded::recording_order, Options, RunError};
use crate::shard;
use crate::store::Row;
use crate::study::{RunSpec, Study};

/// What [`recorded_runs`] found.
#[derive(Debug, Clone)]
pub struct Recorded<R> {
    /// The rows recorded so far, each run once, in the order one machine records them.
    pub rows: Vec<R>,
    /// Runs of the whole study.
    pub total: usize,
    /// The runs not recorded: each group's missing repeats, in the study's arm order (groups
    /// with none missing left out).
    pub missing: Vec<(String, Vec<usize>)>,
}

/// The rows of the runs of `study` recorded so far in `dir` (its `runs.csv` and its shards',
/// [`crate::shard::interim_rows`]: a study still training, on one machine or in shards, or
/// carried unfinished), with what is still missing. Writes nothing and takes no lock; a run
/// recorded with another configuration hash than its spec's is refused, as a run would
/// refuse it; a run recorded in several places counts once.
pub fn recorded_runs<St: Study>(
    study: &St,
    dir: &Path,
    opts: &Options,
) -> Result<Recorded<St::Row>, RunError> {
    let order = recording_order(study, opts)?;
    let mut rows: Vec<St::Row> = shard::interim_rows(dir, &order)?;
    let position = |g: &str, r: usize| {
        order
            .iter()
            .position(|s| s.group() == g && s.repeat() == r)
            .unwrap_or(usize::MAX)
    };
    rows.sort_by_key(|r| position(r.group(), r.repeat()));
    let mut missing: Vec<(String, Vec<usize>)> = Vec::new();
    for arm in study.arms() {
        let left: Vec<usize> = arm
            .specs
            .iter()
            .filter(|s| {
                !rows
                    .iter()
                    .any(|r| r.group() == s.group() && r.repeat() == s.repeat())
            })
            .map(|s| s.repeat())
            .collect();
        if !left.is_empty() {
            missing.push((arm.key.clone(), left));
        }
    }
    Ok(Recorded {
        rows,
        total: order.len(),
        missing,
    })
}
