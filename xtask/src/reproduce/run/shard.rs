//! Shards (`reproduce figN --shard I/N`) and merging them (`reproduce merge figN`) for the
//! paper's CNN figures, on the engine's shards ([`neurogen_lab::shard`]: the split, the shard
//! directory layout with its plan and settings files, and the merge).
//!
//! A figure's runs are split into replica batches (one group's repeats trained together, see
//! [`super::schedule`]), each costing its epochs × runs ([`batch_cost`]); shard `I` of `N`
//! records its runs in `figN/shards/I-of-N/`, its checkpoints and curves in the figure's
//! `checkpoints/` and `curves/` under the run's own name. This module adds the figure's cost,
//! its plan and the command line's words for a refused merge.
use std::path::Path;

pub use neurogen_lab::shard::{
    find_shards, recorded_settings, write_settings, Shard, SETTINGS_FILE,
};
use neurogen_lab::shard::{MergeHints, ShardError};

use super::{RunRecord, RunSpec};

/// The cost of training a replica batch: epochs × runs.
pub fn batch_cost(batch: &[RunSpec]) -> u64 {
    batch.iter().map(|s| s.epochs as u64).sum()
}

/// The batches of `batches` that belong to `shard` ([`neurogen_lab::shard::select`] by
/// [`batch_cost`]).
pub fn select(batches: Vec<Vec<RunSpec>>, shard: Shard) -> Vec<Vec<RunSpec>> {
    neurogen_lab::shard::select(batches, shard, batch_cost)
}

/// The shard (1-based) that records each of `specs` when the figure's `batches` are split
/// into `count` shards.
pub fn owners(specs: &[RunSpec], batches: &[Vec<RunSpec>], count: usize) -> Vec<usize> {
    neurogen_lab::shard::owners(specs, batches, count, batch_cost)
}

/// Writes `shard`'s plan (the runs of `batches`) into its directory (atomically).
pub fn write_plan(
    dir: &Path,
    figure: &str,
    shard: Shard,
    replicas: usize,
    batches: &[Vec<RunSpec>],
) -> Result<(), ShardError> {
    neurogen_lab::shard::write_plan(dir, figure, shard, replicas, batches)
}

/// Merges the shards of the figure in `fig_dir` (and its `runs.csv`, if any) into
/// `fig_dir/runs.csv` and returns the rows of `specs`, in `specs`' order
/// ([`neurogen_lab::shard::merge()`], its refusals worded for `reproduce`: the flags to keep and
/// the shard to rerun). The caller holds the figure's lock.
pub fn merge(
    fig_dir: &Path,
    figure: &str,
    specs: &[RunSpec],
    owners_for: impl Fn(usize) -> Vec<usize>,
) -> Result<Vec<RunRecord>, ShardError> {
    let hints = MergeHints {
        holder: format!("reproduce merge {figure}"),
        run_shard: format!("reproduce {figure} --shard I/N"),
        shard_flag: "--shard".into(),
        same_settings: "the shards and the merge must use the same --scale, --data, --repeats, \
                        --epochs, --lr, --reference-quirks and --compare-reference: leave them \
                        out, and merge reads the shards' own"
            .into(),
        saved: "checkpoint".into(),
    };
    neurogen_lab::shard::merge(fig_dir, figure, specs, owners_for, &hints)
}
