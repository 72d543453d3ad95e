//! The training loop: seeded minibatches, cross-entropy, Adam, regulariser hooks, evaluation.
//!
//! One step (see [`crate::regularizer`] for the hooks): `before_batch`, forward with hooks,
//! `loss = cross_entropy(logits, labels) + Σ loss_terms`, backward, Adam, `after_step`. A
//! non-finite loss stops the run with [`ModelError::Diverged`]. The minibatch order of epoch `e`
//! is `neurogen_data::epoch_batches(n, batch_size, seed, e)`; like the reference code's
//! `DataLoader(drop_last=True)`, a last partial minibatch is dropped when at least one full one
//! exists. Evaluation runs the regulariser's hooks in evaluation mode (`ForwardCtx::train` is
//! false), so a regulariser that acts at test time too (the reference's dropout max-norm) is
//! evaluated as it was trained.
use std::time::Instant;

use candle_core::{Device, Tensor};
use neurogen_data::{epoch_batches, Split};
use serde::{Deserialize, Serialize};

use crate::adam::{Adam, AdamConfig};
use crate::error::{ModelError, Result};
use crate::metrics::{EpochMetrics, EvalResult, TrainMetrics};
use crate::network::Cnn;
use crate::regularizer::{ForwardCtx, NoRegularizer, Regularizer, StepCtx};

/// Settings of a training run. `Default` is the paper's protocol: 14 epochs, batch 4, Adam
/// with lr 2e-4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Number of epochs (paper: 14).
    pub epochs: usize,
    /// Minibatch size (paper: 4).
    pub batch_size: usize,
    /// Adam settings (paper: lr 2e-4, no weight decay).
    pub adam: AdamConfig,
    /// Seed of the minibatch order.
    pub seed: u64,
    /// Evaluate on the held-out split after every epoch (otherwise only at the end).
    pub eval_every_epoch: bool,
    /// Also evaluate on the whole training split at the end (eval mode).
    pub eval_train_at_end: bool,
    /// Minibatch size used for evaluation (does not change results).
    pub eval_batch_size: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 14,
            batch_size: 4,
            adam: AdamConfig::default(),
            seed: 0,
            eval_every_epoch: true,
            eval_train_at_end: true,
            eval_batch_size: 500,
        }
    }
}

impl TrainConfig {
    /// Checks every setting, naming what is out of range.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(ModelError::Config("epochs must be at least 1".into()));
        }
        if self.batch_size == 0 {
            return Err(ModelError::Config("batch size must be at least 1".into()));
        }
        if self.eval_batch_size == 0 {
            return Err(ModelError::Config(
                "evaluation batch size must be at least 1".into(),
            ));
        }
        self.adam.validate()
    }
}

/// Receives progress while training (for progress bars and logs). All methods default to no-ops.
pub trait TrainObserver {
    /// After each optimiser step: epoch, batch within epoch, batches per epoch, minibatch loss.
    fn on_step(&mut self, _epoch: usize, _batch: usize, _batches: usize, _loss: f64) {}
    /// After each epoch (and its evaluation).
    fn on_epoch(&mut self, _metrics: &EpochMetrics) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;
impl TrainObserver for Silent {}

/// The batches of one epoch, dropping a last partial batch when a full one exists.
pub fn training_batches(n: usize, batch_size: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
    let mut b = epoch_batches(n, batch_size, seed, epoch);
    if b.len() > 1 && b.last().is_some_and(|l| l.len() < batch_size) {
        b.pop();
    }
    b
}

/// Trains `model` on `train`, evaluating on `eval` (named `eval_name`, e.g. `test`).
///
/// The optimiser is built from `config.adam` after [`Regularizer::configure_optimizer`]; the
/// regulariser's hooks run at every step. Returns the run's metrics; the trained weights are in
/// `model`, and the optimiser is returned for inspection.
pub fn train(
    model: &mut Cnn,
    train: &Split,
    eval: Option<(&str, &Split)>,
    config: &TrainConfig,
    reg: &mut dyn Regularizer,
    observer: &mut dyn TrainObserver,
) -> Result<(TrainMetrics, Adam)> {
    config.validate()?;
    if train.is_empty() {
        return Err(ModelError::Config("the training split is empty".into()));
    }
    let mut adam_cfg = config.adam;
    reg.configure_optimizer(&mut adam_cfg);
    let mut opt = Adam::new(adam_cfg)?;
    reg.start_training(model, &mut opt)?;
    let device = model.device().clone();
    let start = Instant::now();
    let mut epochs = Vec::with_capacity(config.epochs);
    let mut step = 0usize;
    let mut train_images = 0usize;
    let mut train_secs = 0.0;
    for epoch in 0..config.epochs {
        let t0 = Instant::now();
        let batches = training_batches(train.len(), config.batch_size, config.seed, epoch);
        let nb = batches.len();
        let mut loss_sum = 0.0;
        let mut images = 0usize;
        for (bi, idx) in batches.iter().enumerate() {
            let ctx = StepCtx {
                epoch,
                batch: bi,
                step,
                batches_per_epoch: nb,
            };
            reg.before_batch(model, &mut opt, &ctx)?;
            let (x, y) = train.batch(idx, &device)?;
            let out = model.forward(&x, reg, &ForwardCtx::train(epoch, step))?;
            let mut loss = candle_nn::loss::cross_entropy(&out.logits, &y)?;
            if let Some(term) = reg.loss_term(model, &ctx)? {
                loss = (loss + term)?;
            }
            let lv = loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
            if !lv.is_finite() {
                return Err(ModelError::Diverged {
                    epoch,
                    step,
                    what: format!("loss is {lv}"),
                });
            }
            let grads = {
                let _cache = crate::kernels::cuda_param_cache(&device);
                loss.backward()?
            };
            opt.step(model, &grads)?;
            step += 1;
            reg.after_step(model, &mut opt, &StepCtx { step, ..ctx })?;
            loss_sum += lv;
            images += idx.len();
            observer.on_step(epoch, bi, nb, lv);
        }
        reg.end_epoch(model, &mut opt, epoch)?;
        check_finite_weights(model, epoch, step)?;
        let secs = t0.elapsed().as_secs_f64();
        train_secs += secs;
        train_images += images;
        let eval_res = match eval {
            Some((_, split)) if config.eval_every_epoch || epoch + 1 == config.epochs => {
                Some(evaluate_with(model, split, config.eval_batch_size, reg)?)
            }
            _ => None,
        };
        let m = EpochMetrics {
            epoch,
            train_loss: loss_sum / nb.max(1) as f64,
            eval: eval_res,
            train_seconds: secs,
            images_per_second: images as f64 / secs.max(1e-9),
        };
        observer.on_epoch(&m);
        epochs.push(m);
    }
    let final_eval = epochs.last().and_then(|e| e.eval);
    let final_train = if config.eval_train_at_end {
        Some(evaluate_with(model, train, config.eval_batch_size, reg)?)
    } else {
        None
    };
    let metrics = TrainMetrics {
        epochs,
        eval_split: eval.map(|(n, _)| n.to_string()).unwrap_or_default(),
        final_train,
        final_eval,
        steps: step,
        wall_seconds: start.elapsed().as_secs_f64(),
        images_per_second: train_images as f64 / train_secs.max(1e-9),
        regularizer: reg.report(),
    };
    Ok((metrics, opt))
}

/// Fails with [`ModelError::Diverged`] if any parameter holds a NaN or infinity.
pub fn check_finite_weights(model: &Cnn, epoch: usize, step: usize) -> Result<()> {
    for (name, v) in model.named_params() {
        let s = v
            .as_tensor()
            .abs()?
            .max_all()?
            .to_dtype(candle_core::DType::F64)?
            .to_scalar::<f64>()?;
        if !s.is_finite() {
            return Err(ModelError::Diverged {
                epoch,
                step,
                what: format!("parameter {name} holds a non-finite value"),
            });
        }
    }
    Ok(())
}

/// Evaluates `model` (eval mode, no regulariser) on `split`: mean loss and accuracy.
pub fn evaluate(model: &Cnn, split: &Split, batch_size: usize) -> Result<EvalResult> {
    evaluate_with(model, split, batch_size, &mut NoRegularizer)
}

/// Evaluates with a hook in eval mode (e.g. silencing units for ablation).
pub fn evaluate_with(
    model: &Cnn,
    split: &Split,
    batch_size: usize,
    hook: &mut dyn Regularizer,
) -> Result<EvalResult> {
    if split.is_empty() {
        return Err(ModelError::Config(
            "cannot evaluate on an empty split".into(),
        ));
    }
    let device: Device = model.device().clone();
    let bs = batch_size.max(1);
    let mut loss_sum = 0.0;
    let mut correct = 0usize;
    let all: Vec<usize> = (0..split.len()).collect();
    for idx in all.chunks(bs) {
        let (x, y) = split.batch(idx, &device)?;
        let logits = model.forward(&x, hook, &ForwardCtx::eval())?.logits;
        let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
        loss_sum += loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()? * idx.len() as f64;
        let pred = logits.argmax(candle_core::D::Minus1)?;
        let eq: Tensor = pred.eq(&y)?.to_dtype(candle_core::DType::U32)?;
        correct += eq.sum_all()?.to_scalar::<u32>()? as usize;
    }
    Ok(EvalResult {
        loss: loss_sum / split.len() as f64,
        accuracy: correct as f64 / split.len() as f64,
        n: split.len(),
    })
}

/// Hidden layer `layer`'s activations on every example of `split` (eval mode), as a row-major
/// `[n, width]` matrix (for class selectivity).
pub fn hidden_activations(
    model: &Cnn,
    split: &Split,
    layer: usize,
    batch_size: usize,
) -> Result<Vec<f32>> {
    model.hidden_width(layer)?;
    let device = model.device().clone();
    let all: Vec<usize> = (0..split.len()).collect();
    let mut out = Vec::new();
    for idx in all.chunks(batch_size.max(1)) {
        let (x, _) = split.batch(idx, &device)?;
        let h = model
            .forward(&x, &mut NoRegularizer, &ForwardCtx::eval())?
            .hidden[layer]
            .to_dtype(candle_core::DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        out.extend(h);
    }
    Ok(out)
}
