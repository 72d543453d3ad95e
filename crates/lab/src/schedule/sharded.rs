//! A study's runs split over several machines ([`run_shard`]: shard `I` of `N` trains its
//! share, recorded in `DIR/shards/I-of-N/`) and combined again ([`merge_study`], and
//! [`super::run_study`], which folds what the shards recorded before it trains the rest), on
//! the engine's shards ([`crate::shard`]).
//!
//! The split is made from every run of the study, batched as one machine batches them
//! ([`super::batches`] with [`Options::max_batch`]), each batch costing its number of runs
//! ([`crate::shard::assign`]): so every shard computes the same split on its own, whatever the
//! others have recorded, and a merged `runs.csv` lists the runs in the order one machine
//! records them.
use std::path::Path;

use serde::Serialize;

use super::{batches, check_arms, repeat_major, run_batches, Options, RunError};
use crate::events::Observer;
use crate::shard::{self, MergeHints, Plan, Shard};
use crate::store::{Row, RunStore};
use crate::study::{RunCx, RunSpec, Study};

/// What a batch of runs costs when a study is split into shards: its number of runs.
pub fn batch_cost<S>(batch: &[S]) -> u64 {
    batch.len() as u64
}

/// Every run of `study` batched as one machine batches them with `opts` (in the order in
/// which it records them).
fn all_batches<St: Study>(study: &St, opts: &Options) -> Result<Vec<Vec<St::Spec>>, RunError> {
    let arms = study.arms();
    check_arms(study.id(), &arms)?;
    let specs = repeat_major(&arms);
    let names: Vec<&str> = arms.iter().map(|a| a.name.as_str()).collect();
    batches(&specs, &names, opts.max_batch, |s| class_of(study, s))
}

/// [`Study::batch_class`], its error as the engine's.
pub(super) fn class_of<St: Study>(study: &St, s: &St::Spec) -> Result<String, RunError> {
    study.batch_class(s).map_err(|source| RunError::BatchClass {
        group: s.group().to_string(),
        source,
    })
}

/// Every run of `study` in the order one machine records them with `opts`.
pub fn recording_order<St: Study>(study: &St, opts: &Options) -> Result<Vec<St::Spec>, RunError> {
    Ok(all_batches(study, opts)?.into_iter().flatten().collect())
}

/// Trains shard `shard`'s share of the runs of `study` not yet recorded in its own store,
/// `dir/shards/I-of-N/runs.csv`, and returns the rows of the shard's runs; writes no report.
///
/// The shard's share is a deterministic function of the study's runs and `opts`
/// ([`crate::shard::select`] of every run's batches by [`batch_cost`]). Creates and locks the
/// shard's directory (not the study's: shards run side by side); writes its
/// [`crate::shard::PLAN_FILE`] and `settings` (what the caller ran it with, e.g. its flags,
/// so that a merge needs none repeated: [`crate::shard::recorded_settings`]) into
/// [`crate::shard::SETTINGS_FILE`], and refuses ([`crate::shard::start`]) a count other than
/// the shards already there, or a shard directory started with another plan or other
/// settings. What the runs save goes into `dir` ([`RunCx::dir`]), as without shards.
///
/// ```
/// use neurogen_lab::events::Silent;
/// use neurogen_lab::schedule::{merge_study, run_shard, run_study, Options};
/// use neurogen_lab::shard::{MergeHints, Shard};
/// # use neurogen_lab::store::{Row, RunStatus};
/// # use neurogen_lab::study::{Arm, BoxError, RunCx, RunSpec, Study};
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Clone, Serialize)]
/// # struct Spec { group: String, repeat: usize }
/// # impl RunSpec for Spec {
/// #     fn group(&self) -> &str { &self.group }
/// #     fn repeat(&self) -> usize { self.repeat }
/// # }
/// # #[derive(Clone, Serialize, Deserialize)]
/// # struct Run { group: String, repeat: usize, config_hash: String, status: RunStatus }
/// # impl Row for Run {
/// #     const COLUMNS: &'static [&'static str] = &["group", "repeat", "config_hash", "status"];
/// #     neurogen_lab::row_identity!();
/// # }
/// # struct Toy;
/// # impl Study for Toy {
/// #     type Spec = Spec;
/// #     type Row = Run;
/// #     fn id(&self) -> &str { "toy" }
/// #     fn arms(&self) -> Vec<Arm<Spec>> {
/// #         ["A", "B"].iter().map(|g| Arm::new(g, g, 3, |repeat| Spec { group: g.to_string(), repeat })).collect()
/// #     }
/// #     fn run_batch(&self, _cx: &mut RunCx<'_>, batch: &[Spec]) -> Result<Vec<Run>, BoxError> {
/// #         batch.iter().map(|s| Ok(Run {
/// #             group: s.group.clone(), repeat: s.repeat, config_hash: s.hash()?, status: RunStatus::Ok,
/// #         })).collect()
/// #     }
/// # }
/// // `Toy` is a study of two arms × 3 repeats, as in the example of `Study`.
/// let dir = tempfile::tempdir()?;
/// let opts = Options::default();
/// for shard in ["1/2", "2/2"] {
///     // On each machine (its own process, or a copy of the directory).
///     let shard: Shard = shard.parse()?;
///     let mine = run_shard(&Toy, dir.path(), &opts, shard, &"the flags", &mut Silent)?;
///     assert_eq!(mine.len(), 3);
/// }
/// let rows = merge_study(&Toy, dir.path(), &opts, &MergeHints::new("toy"))?;
/// assert_eq!(rows.len(), 6);
/// // Every run is recorded: the study trains nothing more (and would write its report).
/// assert_eq!(run_study(&Toy, dir.path(), &opts, &mut Silent)?.len(), 6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_shard<St: Study, T: Serialize>(
    study: &St,
    dir: &Path,
    opts: &Options,
    shard: Shard,
    settings: &T,
    observer: &mut dyn Observer,
) -> Result<Vec<St::Row>, RunError> {
    let arms = study.arms();
    let names: Vec<&str> = arms.iter().map(|a| a.name.as_str()).collect();
    let mine = shard::select(all_batches(study, opts)?, shard, batch_cost);
    // Before the shard's directory exists: a refused shard leaves none behind.
    shard::check_count(dir, shard)?;
    let sdir = shard.dir(dir);
    let store = RunStore::new(&sdir);
    store.create_dir()?;
    let _lock = store.lock(&format!("study {} shard {shard}", study.id()))?;
    let plan = Plan::new(study.id(), shard, opts.max_batch.max(1), &mine)?;
    shard::start(dir, shard, &plan, settings)?;
    let planned: Vec<St::Spec> = mine.into_iter().flatten().collect();
    let rows: Vec<St::Row> = store.read()?;
    let todo = store.still_to_do(&planned, &rows)?;
    let todo = batches(&todo, &names, opts.max_batch, |s| class_of(study, s))?;
    let rows = run_batches(&store, rows, todo, planned.len(), observer, |batch, obs| {
        let mut cx = RunCx { dir, observer: obs };
        study.run_batch(&mut cx, batch)
    })?;
    Ok(rows
        .into_iter()
        .filter(|r| {
            planned
                .iter()
                .any(|s| s.group() == r.group() && s.repeat() == r.repeat())
        })
        .collect())
}

/// Merges the shards of `study` in `dir` into `dir/runs.csv` ([`crate::shard::merge()`]: every
/// run must be recorded somewhere, consistently; `hints` word the refusals) and returns every
/// run's row, in the order one machine records them; trains nothing and writes no report
/// (a [`super::run_study`] after it finds every run recorded). Locks `dir` for the call.
pub fn merge_study<St: Study>(
    study: &St,
    dir: &Path,
    opts: &Options,
    hints: &MergeHints,
) -> Result<Vec<St::Row>, RunError> {
    let all = all_batches(study, opts)?;
    let order: Vec<St::Spec> = all.iter().flatten().cloned().collect();
    let store = RunStore::new(dir);
    store.create_dir()?;
    let _lock = store.lock(&hints.holder)?;
    Ok(shard::merge(
        dir,
        study.id(),
        &order,
        |n| shard::owners(&order, &all, n, batch_cost),
        hints,
    )?)
}

/// Folds what the shards of `study` in `dir` recorded into `dir/runs.csv`
/// ([`crate::shard::fold`]), when there are shards (returned: whether there are); the caller
/// holds the study's lock.
pub(super) fn fold_shards<St: Study>(
    study: &St,
    dir: &Path,
    opts: &Options,
) -> Result<bool, RunError> {
    if shard::find_shards(dir)?.is_empty() {
        return Ok(false);
    }
    let order = recording_order(study, opts)?;
    shard::fold::<_, St::Row>(dir, study.id(), &order, &MergeHints::new(study.id()))?;
    Ok(true)
}
