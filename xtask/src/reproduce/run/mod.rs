//! Running a figure's training runs: one row per run in `runs.csv`, recorded atomically,
//! resumable, with progress bars.
//!
//! - [`spec`], [`csv`], [`mod@train`], [`mod@record`]: the paper's CNN runner, a library module
//!   ([`neurogen_studies::cnn`]): what determines a run ([`RunSpec`]), its row of `runs.csv`
//!   ([`RunRecord`]), training a batch and saving a finished run;
//! - [`schedule`]: the figure's runs and replica batches on the engine's schedule (resuming,
//!   one atomic write per batch), its progress events drawn as bars;
//! - [`shard`]: the figure's batch cost and words for the engine's shards
//!   ([`neurogen_lab::shard`]: splitting a figure's runs (`--shard I/N`) and merging them).
//!
//! Crash safety: a run's checkpoint and curves are written (atomically) before its row is added
//! to `runs.csv` (rewritten atomically), so a kill at any moment leaves every recorded run
//! complete; a run killed before its row was written is simply run again. Each row carries a
//! hash of the run's full configuration; a rerun with a changed configuration stops with an
//! error instead of silently reusing old runs.
use std::path::PathBuf;

use indicatif::MultiProgress;

pub mod schedule;
pub mod shard;

pub use neurogen_studies::cnn::{csv, record, spec, train, FigureData};

pub use csv::{RunRecord, RunStatus};
pub use schedule::{merge_groups, recorded_groups, run_groups};
pub use shard::Shard;
pub use spec::RunSpec;

/// Settings shared by all runs of an invocation.
pub struct RunOptions<'a> {
    /// The figure's directory (`OUT/figN`).
    pub dir: PathBuf,
    /// Figure name.
    pub figure: String,
    /// Compute device.
    pub device: candle_core::Device,
    /// Reproduce the published code's quirks.
    pub reference_quirks: bool,
    /// Minibatch size.
    pub batch_size: usize,
    /// Learning rate.
    pub lr: f64,
    /// Repeats of a group trained together as replicas (1: one run at a time).
    pub replicas: usize,
    /// Batch runs of different groups together when they can train as one model
    /// (`--mix-groups`; same epochs and optimiser settings): a figure in one batch.
    pub mix_groups: bool,
    /// Progress display (hidden in tests).
    pub progress: &'a MultiProgress,
    /// Whether to show bars.
    pub quiet: bool,
    /// Only this shard's runs, recorded in its own directory (`--shard I/N`); None: all.
    pub shard: Option<Shard>,
}
