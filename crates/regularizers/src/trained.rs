//! One way to save, load and evaluate a trained network: a checkpoint that records its
//! regularisers, and an evaluation "as trained".
//!
//! A network trained with regularisers is evaluated *as trained* when the regularisers'
//! evaluation-mode hooks act: the reference's dropout max-norm renormalises hidden activations
//! in evaluation too (in blocks of 4 examples, [`crate::dropout`]), and k-WTA keeps the `k`
//! largest. Our training loop's evaluations (each epoch's, and `final_eval` in
//! [`TrainMetrics`]) are made that way. Without those hooks (`neurogen_model::evaluate`, the
//! plain network) the accuracy is a different number.
//!
//! So a checkpoint records, under `regularizer` in its metadata, a [`RegularizerRecord`]: the
//! [`RegularizerSet`] (to rebuild the hooks), a one-line description and the run's report.
//! [`save_trained`] writes it (with the run's metrics, epoch count, seed and dataset);
//! [`load_trained`] reads it back; [`Trained::evaluate`] evaluates as trained. `cargo xtask`
//! writes and reads checkpoints through these, and the Python package (`python/neurogen`)
//! reads the same record, warning when a checkpoint lacks it.
//!
//! | function | hooks | gives |
//! |---|---|---|
//! | [`evaluate_as_trained`], [`Trained::evaluate`] | the set's, in evaluation mode | the run's own `final_eval` |
//! | `neurogen_model::evaluate_with(model, split, batch, reg)` | `reg`'s, in evaluation mode | the same, given the run's regulariser |
//! | `neurogen_model::evaluate(model, split, batch)` | none (the plain network) | differs where a hook acts in evaluation |
use std::path::Path;

use candle_core::Device;
use neurogen_data::Split;
use neurogen_model::checkpoint::{self, CheckpointMeta};
use neurogen_model::{evaluate_with, Cnn, EvalResult, TrainMetrics, EVAL_BATCH};
use serde::{Deserialize, Serialize};

use crate::error::{RegError, Result};
use crate::spec::{build, RegularizerSet};

/// What a checkpoint records of its regularisers (its metadata's `regularizer` object):
/// enough to rebuild their evaluation hooks, and what they did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegularizerRecord {
    /// A one-line description, e.g. `neurogenesis:n=8,... + dropout:p=0.2`
    /// ([`RegularizerSet::describe`]).
    pub spec: String,
    /// The regularisers and their settings (an empty set for a run without regulariser).
    pub config: RegularizerSet,
    /// The run's `Regularizer::report` (event counts, ...; `null` before training).
    pub report: serde_json::Value,
}

impl RegularizerRecord {
    /// The record of a run with `set` whose regularisers reported `report`.
    pub fn new(set: &RegularizerSet, report: serde_json::Value) -> Self {
        RegularizerRecord {
            spec: set.describe(),
            config: set.clone(),
            report,
        }
    }

    /// As JSON (what [`CheckpointMeta::regularizer`] holds).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "spec": self.spec, "config": self.config, "report": self.report })
    }

    /// Reads a record from a checkpoint's `regularizer` metadata: `None` where the checkpoint
    /// records none (`null`, or no `config`), an error where `config` is not a regulariser set.
    pub fn from_json(meta: &serde_json::Value) -> Result<Option<Self>> {
        let Some(config) = meta.get("config").filter(|c| !c.is_null()) else {
            return Ok(None);
        };
        let config: RegularizerSet =
            serde_json::from_value(config.clone()).map_err(|e| RegError::Parse {
                spec: config.to_string(),
                message: format!(
                    "the checkpoint's regularizer.config is not a regulariser set: {e}"
                ),
            })?;
        config.validate()?;
        Ok(Some(RegularizerRecord {
            spec: meta
                .get("spec")
                .and_then(|s| s.as_str())
                .map_or_else(|| config.describe(), str::to_string),
            report: meta.get("report").cloned().unwrap_or_default(),
            config,
        }))
    }
}

/// What [`save_trained`] records besides the weights and the regularisers.
#[derive(Debug, Clone, Copy)]
pub struct TrainedRun<'a> {
    /// The regularisers the network was trained with (an empty set for none).
    pub set: &'a RegularizerSet,
    /// What training returned (its `regularizer` report is recorded too).
    pub metrics: &'a TrainMetrics,
    /// Epochs trained.
    pub epochs: usize,
    /// Seed of the initial weights.
    pub seed: u64,
    /// Dataset name, e.g. `cifar10`.
    pub dataset: &'a str,
}

impl TrainedRun<'_> {
    /// The checkpoint metadata of this run for `model`.
    pub fn meta(&self, model: &Cnn) -> Result<CheckpointMeta> {
        Ok(CheckpointMeta {
            regularizer: RegularizerRecord::new(self.set, self.metrics.regularizer.clone())
                .to_json(),
            epoch: self.epochs,
            seed: self.seed,
            dataset: self.dataset.to_string(),
            metrics: serde_json::to_value(self.metrics)
                .map_err(|e| RegError::invalid("checkpoint", format!("metrics: {e}")))?,
            ..CheckpointMeta::for_model(model)
        })
    }
}

/// Saves `model` trained as `run` says to `path` (safetensors, atomically), with metadata that
/// records its regularisers, their report and the run's metrics: the checkpoint evaluates as
/// trained with [`load_trained`] + [`Trained::evaluate`], `cargo xtask eval` and the Python
/// package. Returns the metadata written.
///
/// ```
/// use candle_core::Device;
/// use neurogen_model::{Cnn, ModelConfig, TrainMetrics};
/// use neurogen_regularizers::{load_trained, save_trained, RegularizerSet, TrainedRun};
/// let model = Cnn::new(&ModelConfig::fashion_mnist(), 0, &Device::Cpu)?;
/// let set = RegularizerSet::from_specs(["dropout"], false)?;
/// # let metrics: TrainMetrics = serde_json::from_str(r#"{"epochs": [], "eval_split": "test",
/// #   "final_train": null, "final_eval": null, "steps": 0, "wall_seconds": 0.0,
/// #   "images_per_second": 0.0, "regularizer": null}"#)?;
/// // `metrics`: what `neurogen_model::train` returned.
/// let run = TrainedRun { set: &set, metrics: &metrics, epochs: 1, seed: 0, dataset: "fashion-mnist" };
/// let path = std::env::temp_dir().join("neurogen-doc-save-trained.safetensors");
/// save_trained(&model, &run, &path)?;
/// let back = load_trained(&path, &Device::Cpu)?;
/// assert_eq!(back.regularizers.unwrap().config, set);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn save_trained(model: &Cnn, run: &TrainedRun, path: &Path) -> Result<CheckpointMeta> {
    let meta = run.meta(model)?;
    checkpoint::save(model, &meta, path)?;
    Ok(meta)
}

/// A loaded checkpoint with its regularisers.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The network.
    pub model: Cnn,
    /// All of its metadata.
    pub meta: CheckpointMeta,
    /// Its regularisers; `None` where the checkpoint does not record them (written by
    /// `neurogen_model::checkpoint::save` with other metadata).
    pub regularizers: Option<RegularizerRecord>,
    path: std::path::PathBuf,
}

/// Loads a checkpoint and the regularisers it records (see [`save_trained`]).
pub fn load_trained(path: &Path, device: &Device) -> Result<Trained> {
    let ck = checkpoint::load(path, device)?;
    let regularizers =
        RegularizerRecord::from_json(&ck.meta.regularizer).map_err(|e| RegError::Checkpoint {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(Trained {
        model: ck.model,
        meta: ck.meta,
        regularizers,
        path: path.to_path_buf(),
    })
}

impl Trained {
    /// Evaluates the network as trained (its regularisers' evaluation hooks, batches of
    /// [`EVAL_BATCH`]): on the run's evaluation images this is the run's own `final_eval`.
    /// An error ([`RegError::Checkpoint`]) where the checkpoint does not record its
    /// regularisers: use `neurogen_model::evaluate` for the plain network, knowingly.
    pub fn evaluate(&self, split: &Split) -> Result<EvalResult> {
        let record = self.regularizers.as_ref().ok_or_else(|| RegError::Checkpoint {
            path: self.path.clone(),
            message: "it does not record its regularisers (metadata regularizer.config), so it \
                      cannot be evaluated as trained; save with neurogen_regularizers::save_trained, \
                      or evaluate the plain network with neurogen_model::evaluate"
                .into(),
        })?;
        evaluate_as_trained(&self.model, &record.config, split)
    }
}

/// Evaluates `model` (one network) on `split` as trained with `set`: the set's regularisers
/// rebuilt (their evaluation hooks depend on their settings only) and applied in evaluation
/// mode, in batches of [`EVAL_BATCH`], as our training loop evaluates.
pub fn evaluate_as_trained(model: &Cnn, set: &RegularizerSet, split: &Split) -> Result<EvalResult> {
    let mut stack = build(set, 0)?;
    Ok(evaluate_with(model, split, EVAL_BATCH, &mut stack)?)
}
