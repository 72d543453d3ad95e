//! The schedule: every run of a study listed repeat-major, those still to do put in batches
//! that may train together, each batch trained and then recorded at once, with progress as
//! [`Event`]s and an ETA.
//!
//! The order is part of the results: runs that train together as one model are stacked in
//! batch order, so [`repeat_major`] and [`batches`] must not change their order.
use std::path::Path;
use std::time::Instant;

use crate::events::{Event, Observer};
use crate::shard::ShardError;
use crate::store::{Row, RunStore, StoreError};
use crate::study::{Arm, BoxError, RunCx, RunSpec, Study};

mod recorded;
mod sharded;

pub use recorded::{recorded_runs, Recorded};
pub use sharded::{batch_cost, merge_study, recording_order, run_shard};

/// What can go wrong running a study's schedule.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Reading, resuming or writing the run store, or its lock.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Starting a shard, or folding or merging the shards' runs, was refused.
    #[error(transparent)]
    Shard(#[from] ShardError),
    /// The study's arms are inconsistent (a spec's group or repeat is not its arm's, or two
    /// arms share a key or a name).
    #[error("study {study}: {problem}")]
    Arms {
        /// The study.
        study: String,
        /// What is wrong.
        problem: String,
    },
    /// The study could not say which batch a run belongs in.
    #[error("group {group:?}: the study could not give its batch class")]
    BatchClass {
        /// The run's group.
        group: String,
        /// The study's error.
        #[source]
        source: BoxError,
    },
    /// Training a batch failed; none of its runs was recorded.
    #[error("training {label} failed")]
    Batch {
        /// The batch ([`batch_label`]).
        label: String,
        /// The study's error.
        #[source]
        source: BoxError,
    },
    /// A batch returned rows that are not one per run, in order, with the run's group, repeat
    /// and configuration hash; nothing of it was recorded.
    #[error("{label}: the study returned rows that do not match its runs: {problem}")]
    Rows {
        /// The batch ([`batch_label`]).
        label: String,
        /// What does not match.
        problem: String,
    },
}

/// How a study's runs are batched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// At most this many runs per batch (0 is taken as 1).
    pub max_batch: usize,
}

impl Default for Options {
    /// One run per batch.
    fn default() -> Options {
        Options { max_batch: 1 }
    }
}

/// Every spec of `arms`, repeat-major: repeat 0 of every arm (in arm order), then repeat 1, …
/// An arm with fewer repeats is skipped at the repeats it lacks.
pub fn repeat_major<S: Clone>(arms: &[Arm<S>]) -> Vec<S> {
    let repeats = arms.iter().map(|a| a.specs.len()).max().unwrap_or(0);
    (0..repeats)
        .flat_map(|r| arms.iter().filter_map(move |a| a.specs.get(r).cloned()))
        .collect()
}

/// `todo` as batches of at most `max` runs (0 is taken as 1): groups in the order of `groups`
/// (display names; runs of other groups are left out), repeats in the order of `todo`.
///
/// A group's class is `class` of its first run still to do; the runs of the groups of one class
/// are joined in group order and then cut into batches, so that with one class per group a
/// batch holds repeats of one group, and with one class for every group one batch can be a
/// whole study.
pub fn batches<S: RunSpec, E>(
    todo: &[S],
    groups: &[&str],
    max: usize,
    mut class: impl FnMut(&S) -> Result<String, E>,
) -> Result<Vec<Vec<S>>, E> {
    // Runs of each class, classes in order of first appearance.
    let mut classes: Vec<(String, Vec<S>)> = Vec::new();
    for g in groups {
        let mine: Vec<S> = todo.iter().filter(|s| s.group() == *g).cloned().collect();
        let Some(first) = mine.first() else { continue };
        let key = class(first)?;
        match classes.iter_mut().find(|(c, _)| *c == key) {
            Some((_, runs)) => runs.extend(mine),
            None => classes.push((key, mine)),
        }
    }
    Ok(classes
        .iter()
        .flat_map(|(_, runs)| runs.chunks(max.max(1)).map(<[S]>::to_vec))
        .collect())
}

/// `Neurogenesis r0`, `Neurogenesis r0-r3`, or for runs of several groups
/// `12 runs: Control r0 … Frozen layers r1`.
pub fn batch_label<S: RunSpec>(batch: &[S]) -> String {
    match (batch.first(), batch.last()) {
        (Some(a), Some(b)) if a.group() != b.group() => format!(
            "{} runs: {} r{} … {} r{}",
            batch.len(),
            a.group(),
            a.repeat(),
            b.group(),
            b.repeat()
        ),
        (Some(a), Some(b)) if batch.len() > 1 => {
            format!("{} r{}-r{}", a.group(), a.repeat(), b.repeat())
        }
        (Some(a), _) => format!("{} r{}", a.group(), a.repeat()),
        _ => String::new(),
    }
}

/// Trains `batches` one after the other with `run` and records each batch's rows in `store`
/// at once ([`RunStore::record`], starting from `rows`, the store's rows read before);
/// returns every row of the store. `total` is the number of runs of the whole schedule (those
/// recorded before included), for progress. Sends [`Event::Started`], then per batch
/// [`Event::BatchStarted`] and [`Event::BatchRecorded`] (with an ETA), then
/// [`Event::Finished`].
///
/// `run` must return one row per run of its batch, in order, with the run's group, repeat and
/// configuration hash ([`RunError::Rows`] otherwise, and nothing of the batch is recorded).
pub fn run_batches<S, R, F>(
    store: &RunStore,
    mut rows: Vec<R>,
    batches: Vec<Vec<S>>,
    total: usize,
    observer: &mut dyn Observer,
    mut run: F,
) -> Result<Vec<R>, RunError>
where
    S: RunSpec,
    R: Row,
    F: FnMut(&[S], &mut dyn Observer) -> Result<Vec<R>, BoxError>,
{
    let todo: usize = batches.iter().map(Vec::len).sum();
    let before = total.saturating_sub(todo);
    observer.event(&Event::Started {
        file: store.file().to_path_buf(),
        total,
        recorded: before,
    });
    let mut todo_time = 0.0;
    let mut finished = 0usize;
    for batch in batches {
        let label = batch_label(&batch);
        observer.event(&Event::BatchStarted {
            label: label.clone(),
            runs: batch.len(),
        });
        let t0 = Instant::now();
        let new_rows = run(&batch, observer).map_err(|source| RunError::Batch {
            label: label.clone(),
            source,
        })?;
        todo_time += t0.elapsed().as_secs_f64();
        check_rows(&batch, &new_rows).map_err(|problem| RunError::Rows {
            label: label.clone(),
            problem,
        })?;
        let summaries: Vec<String> = new_rows.iter().map(Row::summary).collect();
        // One atomic write per batch: a kill leaves either all of its runs or none.
        store.record(&mut rows, new_rows)?;
        finished += batch.len();
        let left = todo - finished;
        observer.event(&Event::BatchRecorded {
            runs: batch.len(),
            recorded: before + finished,
            total,
            seconds_left: (left > 0).then(|| todo_time / finished as f64 * left as f64),
            summaries,
        });
    }
    observer.event(&Event::Finished { total });
    Ok(rows)
}

/// Whether `rows` are one per run of `batch`, in order, with its group, repeat and hash.
fn check_rows<S: RunSpec, R: Row>(batch: &[S], rows: &[R]) -> Result<(), String> {
    if rows.len() != batch.len() {
        return Err(format!("{} rows for {} runs", rows.len(), batch.len()));
    }
    for (s, r) in batch.iter().zip(rows) {
        if (s.group(), s.repeat()) != (r.group(), r.repeat()) {
            return Err(format!(
                "run {} r{} got the row of {} r{}",
                s.group(),
                s.repeat(),
                r.group(),
                r.repeat()
            ));
        }
        let hash = s.hash().map_err(|e| e.to_string())?;
        if r.config_hash() != hash {
            return Err(format!(
                "run {} r{} has the configuration hash {hash}, its row {}",
                s.group(),
                s.repeat(),
                r.config_hash()
            ));
        }
    }
    Ok(())
}

/// Runs every run of `study` not yet recorded in `dir/runs.csv` and returns the rows of all its
/// runs (in the file's order). Creates and locks `dir` for the whole call; when `dir` holds
/// shards ([`run_shard`]), first folds the runs they recorded into `dir/runs.csv`
/// ([`crate::shard::fold`]: refusing another configuration hash or a run recorded twice with
/// different results), so that a run on one machine goes on where the shards left off (and
/// once it has trained the rest, writes every row in the order one machine records them); lists the runs repeat-major ([`repeat_major`]), refuses
/// a recorded run whose configuration changed, batches the rest by [`Study::batch_class`] with
/// at most [`Options::max_batch`] runs ([`batches`]), and trains and records batch after batch
/// ([`run_batches`]). Rows of runs the study no longer has stay in the file but are not
/// returned. See [`Study`] for an example.
pub fn run_study<St: Study>(
    study: &St,
    dir: &Path,
    opts: &Options,
    observer: &mut dyn Observer,
) -> Result<Vec<St::Row>, RunError> {
    let arms = study.arms();
    check_arms(study.id(), &arms)?;
    let store = RunStore::new(dir);
    store.create_dir()?;
    let _lock = store.lock(&format!("study {}", study.id()))?;
    let sharded = sharded::fold_shards(study, dir, opts)?;
    let specs = repeat_major(&arms);
    let rows: Vec<St::Row> = store.read()?;
    let todo = store.still_to_do(&specs, &rows)?;
    let names: Vec<&str> = arms.iter().map(|a| a.name.as_str()).collect();
    let planned = batches(&todo, &names, opts.max_batch, |s| {
        sharded::class_of(study, s)
    })?;
    let rows = run_batches(
        &store,
        rows,
        planned,
        specs.len(),
        observer,
        |batch, obs| {
            let mut cx = RunCx { dir, observer: obs };
            study.run_batch(&mut cx, batch)
        },
    )?;
    // With shards, the runs trained here went last: in one machine's order again.
    let rows = if sharded {
        sharded::fold_shards(study, dir, opts)?;
        store.read()?
    } else {
        rows
    };
    Ok(rows
        .into_iter()
        .filter(|r| {
            specs
                .iter()
                .any(|s| s.group() == r.group() && s.repeat() == r.repeat())
        })
        .collect())
}

/// Arms with distinct keys and names whose specs carry their arm's name and repeat.
fn check_arms<S: RunSpec>(study: &str, arms: &[Arm<S>]) -> Result<(), RunError> {
    let bad = |problem: String| RunError::Arms {
        study: study.to_string(),
        problem,
    };
    for (i, a) in arms.iter().enumerate() {
        if arms[..i].iter().any(|b| b.key == a.key || b.name == a.name) {
            return Err(bad(format!(
                "two arms share the key {:?} or the name {:?}",
                a.key, a.name
            )));
        }
        // Runs' files (checkpoints, curves, analyses) are named after the group's slug.
        let slug = crate::store::slug(&a.name);
        if let Some(b) = arms[..i]
            .iter()
            .find(|b| crate::store::slug(&b.name) == slug)
        {
            return Err(bad(format!(
                "the arm names {:?} and {:?} give the same file names ({slug}-rNN): rename one",
                b.name, a.name
            )));
        }
        for (r, s) in a.specs.iter().enumerate() {
            if s.group() != a.name || s.repeat() != r {
                return Err(bad(format!(
                    "arm {:?}'s spec {r} is group {:?} repeat {} (expected {:?} repeat {r})",
                    a.key,
                    s.group(),
                    s.repeat(),
                    a.name
                )));
            }
        }
    }
    Ok(())
}
