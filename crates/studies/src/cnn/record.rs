//! Saving a finished run: its checkpoint and per-epoch curves (each written atomically) and its
//! `runs.csv` row; reading the curves back for plots.
use std::path::Path;

use neurogen_model::{device_name, evaluate_with, ModelError, EVAL_BATCH};
use serde::{Deserialize, Serialize};

use super::spec::stem;
use super::train::{Outcome, Prepared};
use super::{CnnError, FigureData, RunRecord, RunSpec, RunStatus};

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

/// Saves one finished run (checkpoint and curves, atomically, under the figure's directory
/// `dir`) and returns its row; a diverged run becomes a `failed` row with the reason in its
/// `message` (and nothing is saved). `device` is the one the run trained on (its name is
/// recorded).
pub fn record(
    dir: &Path,
    device: &candle_core::Device,
    data: &FigureData,
    spec: &RunSpec,
    mut run: Prepared,
    outcome: Outcome,
    timing: BatchTiming,
) -> Result<RunRecord, CnnError> {
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
        device: device_name(device),
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
            return Ok(row);
        }
        Err(source) => {
            return Err(CnnError::Run {
                group: spec.group.clone(),
                repeat: spec.repeat,
                source: Box::new(source),
            })
        }
    };
    let not_evaluated = |missing| CnnError::NotEvaluated {
        group: spec.group.clone(),
        repeat: spec.repeat,
        missing,
    };
    let model = &run.model;
    let test = if data.curve_name == "test" {
        metrics
            .final_eval
            .ok_or_else(|| not_evaluated("no evaluation of the curve split at the last epoch"))?
    } else {
        evaluate_with(model, &data.test, EVAL_BATCH, &mut run.reg)?
    };
    let train = metrics
        .final_train
        .ok_or_else(|| not_evaluated("no evaluation of the training split at the end"))?;
    row.train_accuracy = Some(100.0 * train.accuracy);
    row.train_loss = Some(train.loss);
    row.test_accuracy = Some(100.0 * test.accuracy);
    row.test_loss = Some(test.loss);
    row.neurogenesis_events = event_count(&metrics.regularizer);
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
    neurogen_regularizers::save_trained(model, &trained, &dir.join(&ck_rel))?;
    let text = serde_json::to_string_pretty(&curves)?;
    neurogen_io::write_atomic(&dir.join(format!("curves/{stem}.json")), text.as_bytes())?;
    Ok(row)
}

/// Reads the curves of a recorded run.
pub fn read_curves(dir: &Path, row: &RunRecord) -> Result<RunCurves, CnnError> {
    let path = dir.join(format!("curves/{}.json", stem(&row.group, row.repeat)));
    let text = std::fs::read_to_string(&path).map_err(|source| CnnError::Read {
        path: path.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| CnnError::Damaged { path, source })
}

/// Number of neurogenesis events in a regulariser report (0 if none): the length of every
/// `events` array, or the value of every `events`/`event_count` number, found anywhere in it.
///
/// ```
/// use neurogen_studies::cnn::event_count;
///
/// let report = serde_json::json!({"stack": [{"events": [1, 2, 3]}, {"event_count": 2}]});
/// assert_eq!(event_count(&report), 5);
/// assert_eq!(event_count(&serde_json::json!({"loss": 1.0})), 0);
/// ```
pub fn event_count(report: &serde_json::Value) -> u64 {
    use serde_json::Value;
    match report {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| match (k.as_str(), v) {
                ("events" | "event_count", Value::Number(n)) => n.as_u64().unwrap_or(0),
                ("events", Value::Array(a)) => a.len() as u64,
                _ => event_count(v),
            })
            .sum(),
        Value::Array(a) => a.iter().map(event_count).sum(),
        _ => 0,
    }
}
