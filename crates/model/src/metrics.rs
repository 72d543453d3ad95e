//! What a training run measured: per-epoch curves and final numbers (written as metrics.json).
use serde::{Deserialize, Serialize};

/// Loss and accuracy of a model on one split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    /// Mean cross-entropy per example.
    pub loss: f64,
    /// Fraction of examples classified correctly, in [0, 1].
    pub accuracy: f64,
    /// Number of examples evaluated.
    pub n: usize,
}

/// One epoch of training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Zero-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch's minibatches (with regularisers active).
    pub train_loss: f64,
    /// Evaluation on the held-out split (validation or test) after the epoch, if run.
    pub eval: Option<EvalResult>,
    /// Seconds spent training in this epoch (excluding evaluation).
    pub train_seconds: f64,
    /// Training images per second in this epoch.
    pub images_per_second: f64,
}

/// Everything a run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainMetrics {
    /// Per-epoch curves.
    pub epochs: Vec<EpochMetrics>,
    /// Name of the held-out split that `eval` numbers refer to (`test` or `validation`).
    pub eval_split: String,
    /// Final evaluation on the training split (eval mode), if computed.
    pub final_train: Option<EvalResult>,
    /// Final evaluation on the held-out split.
    pub final_eval: Option<EvalResult>,
    /// Total optimiser steps.
    pub steps: usize,
    /// Wall time of the whole run in seconds.
    pub wall_seconds: f64,
    /// Mean training images per second over the run (training only).
    pub images_per_second: f64,
    /// Regularisers' own reports (events, counts).
    pub regularizer: serde_json::Value,
}
