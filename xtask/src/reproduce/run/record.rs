//! Saving a finished run: its checkpoint and per-epoch curves (each written atomically) and its
//! `runs.csv` row; reading the curves back for plots.
use std::path::Path;

use anyhow::Context;
use neurogen_model::{device_name, evaluate_with, ModelError};
use serde::{Deserialize, Serialize};

use super::spec::stem;
use super::train::{Outcome, Prepared};
use super::{FigureData, RunOptions, RunRecord, RunSpec, RunStatus};
use crate::common::{write_json_atomic, EVAL_BATCH};
use crate::regs;

/// Per-run curves, saved beside the checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunCurves {
    /// Per-epoch mean training loss.
    pub train_loss: Vec<f64>,
    /// Per-epoch held-out loss.
    pub curve_loss: Vec<f64>,
    /// Per-epoch held-out accuracy.
    pub curve_accuracy: Vec<f64>,
    /// The regulariser's report.
    pub regularizer: serde_json::Value,
}

/// How a run was trained: the wall time of its batch and how many runs shared it.
#[derive(Debug, Clone, Copy)]
pub struct BatchTiming {
    /// Wall time of the whole batch, seconds.
    pub wall_seconds: f64,
    /// Runs trained together (1: alone).
    pub replicas: usize,
}

/// Saves one finished run (checkpoint and curves, atomically) and returns its row; a diverged
/// run becomes a `failed` row (and nothing is saved).
pub fn record(
    opts: &RunOptions,
    data: &FigureData,
    spec: &RunSpec,
    mut run: Prepared,
    outcome: Outcome,
    timing: BatchTiming,
) -> anyhow::Result<RunRecord> {
    let stem = spec.stem();
    let ck_rel = format!("checkpoints/{stem}.safetensors");
    let mut row = RunRecord {
        figure: spec.figure.clone(),
        group: spec.group.clone(),
        repeat: spec.repeat,
        seed: run.seed,
        config_hash: spec.hash(),
        regularizers: if spec.specs.is_empty() {
            "none".into()
        } else {
            spec.specs.join(" + ")
        },
        reference_quirks: spec.reference_quirks,
        epochs: spec.epochs,
        batch_size: spec.batch_size,
        lr: spec.lr,
        train_images: spec.train_images,
        test_images: spec.test_images,
        device: device_name(&opts.device),
        status: RunStatus::Ok,
        message: String::new(),
        train_accuracy: None,
        train_loss: None,
        test_accuracy: None,
        test_loss: None,
        neurogenesis_events: 0,
        wall_seconds: timing.wall_seconds,
        images_per_second: 0.0,
        checkpoint: String::new(),
        replicas: timing.replicas,
    };
    let metrics = match outcome {
        Ok(m) => m,
        Err(e @ ModelError::Diverged { .. }) => {
            row.status = RunStatus::Failed;
            row.message = e.to_string();
            opts.progress
                .println(format!("  {} r{}: FAILED: {e}", spec.group, spec.repeat))
                .ok();
            return Ok(row);
        }
        Err(e) => {
            return Err(e).with_context(|| format!("run {} repeat {}", spec.group, spec.repeat))
        }
    };
    let model = &run.model;
    let test = if data.curve_name == "test" {
        metrics.final_eval.expect("evaluated at the last epoch")
    } else {
        evaluate_with(model, &data.test, EVAL_BATCH, &mut run.reg)?
    };
    let train = metrics.final_train.expect("eval_train_at_end is set");
    row.train_accuracy = Some(100.0 * train.accuracy);
    row.train_loss = Some(train.loss);
    row.test_accuracy = Some(100.0 * test.accuracy);
    row.test_loss = Some(test.loss);
    row.neurogenesis_events = regs::event_count(&metrics.regularizer);
    row.images_per_second = metrics.images_per_second;
    row.checkpoint = ck_rel.clone();
    let curves = RunCurves {
        train_loss: metrics.epochs.iter().map(|e| e.train_loss).collect(),
        curve_loss: metrics
            .epochs
            .iter()
            .filter_map(|e| e.eval.map(|v| v.loss))
            .collect(),
        curve_accuracy: metrics
            .epochs
            .iter()
            .filter_map(|e| e.eval.map(|v| v.accuracy))
            .collect(),
        regularizer: metrics.regularizer.clone(),
    };
    let trained = neurogen_regularizers::TrainedRun {
        set: &run.set,
        metrics: &metrics,
        epochs: spec.epochs,
        seed: run.seed,
        dataset: &data.dataset,
    };
    neurogen_regularizers::save_trained(model, &trained, &opts.dir.join(&ck_rel))?;
    write_json_atomic(&opts.dir.join(format!("curves/{stem}.json")), &curves)?;
    Ok(row)
}

/// Reads the curves of a recorded run.
pub fn read_curves(dir: &Path, row: &RunRecord) -> anyhow::Result<RunCurves> {
    let path = dir.join(format!("curves/{}.json", stem(&row.group, row.repeat)));
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is damaged", path.display()))
}
