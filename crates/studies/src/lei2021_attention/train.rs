//! Training and evaluation of the gated network and of the feed-forward control.
//!
//! The gated network's step is `Runner.train`'s: per minibatch, the objects are attended one
//! after another; each pass (its iterations unrolled, backpropagation through time) gets its
//! own loss ([`object_loss`]), its own backward pass and its own Adam step, and hands its IOR
//! mask to the next pass. The control gets one Adam step per minibatch on the summed
//! cross-entropy of its per-position heads.
//!
//! Evaluation (`Runner.test` and `analysis/graphs.py:inhibition_plot`): accuracy over every
//! object of every scene; *inhibition* — the mean input mask `m1` the last iteration gated
//! with — over the attended object's pixels and over the rest of the canvas. A pixel belongs
//! to the attended object when `((x − t + 10⁻⁶)/(x + 10⁻⁶))/s ≤ 0.5`, `t` the object's gating
//! target (i.e. the object supplies at least half of the pixel); a scene's value is the mean
//! over its passes. *Modulation* per layer (ours, for the paper's "strongest in deeper
//! layers"): `Σ|a_gated − a_ungated| / Σ|a_ungated|` over the input, conv1's and conv2's
//! outputs, the last iteration against the first (ungated) one.
use std::time::Instant;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use neurogen_model::{Adam, AdamConfig};

use super::data::{Items, SceneBatch, SceneConfig, Scenes, CLASSES};
use super::error::{config, AttentionError, Result};
use super::loss::{gating_targets, object_loss, scalar, PAPER_PENALTY};
use super::model::{argmax_rows, AttentionNet, FeedForwardNet};

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Adam's learning rate (1e-3).
    pub lr: f64,
    /// Scenes per minibatch (64).
    pub batch: usize,
    /// Reconstruction penalty of the gated network's loss (1e3).
    pub penalty: f64,
    /// Passes over the training items (the paper: 10–30; `train_mnist.py`: 10).
    pub epochs: usize,
    /// Stop after this many minibatches in all, if set (a time-boxed run).
    pub max_steps: Option<usize>,
    /// Seed of the minibatch order and of the scenes composed for them.
    pub seed: u64,
}

impl TrainConfig {
    /// The authors' setting: Adam 1e-3, batch 64, penalty 1e3, 10 epochs.
    pub fn paper(seed: u64) -> Self {
        TrainConfig {
            lr: 1e-3,
            batch: 64,
            penalty: PAPER_PENALTY,
            epochs: 10,
            max_steps: None,
            seed,
        }
    }

    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(config(format!(
                "learning rate must be > 0, got {}",
                self.lr
            )));
        }
        if self.batch == 0 {
            return Err(config("the minibatch size is 0"));
        }
        if !(self.penalty.is_finite() && self.penalty >= 0.0) {
            return Err(config(format!(
                "penalty must be >= 0, got {}",
                self.penalty
            )));
        }
        if self.epochs == 0 {
            return Err(config("training needs at least one epoch"));
        }
        Ok(())
    }

    fn adam(&self) -> AdamConfig {
        AdamConfig {
            lr: self.lr,
            ..AdamConfig::default()
        }
    }
}

/// What one training step measured (before its updates).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepStats {
    /// Mean total loss over the step's passes.
    pub loss: f32,
    /// Mean cross-entropy.
    pub class_loss: f32,
    /// Mean reconstruction error (before the penalty; 0 for the control).
    pub mask_loss: f32,
    /// Fraction of objects reported correctly.
    pub accuracy: f64,
}

/// Accuracy and, for the gated network, inhibition and modulation on a scene set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Fraction of all objects of all scenes reported correctly.
    pub accuracy: f64,
    /// Number of scenes.
    pub scenes: usize,
    /// Mean input mask on the attended objects' pixels (the paper: 0.113), gated net only.
    pub inhibition_attended: Option<f64>,
    /// Mean input mask on the other pixels (the paper: 0.907), gated net only.
    pub inhibition_unattended: Option<f64>,
    /// Scenes left out of the inhibition means because a pass's attended or unattended
    /// region was empty (the authors' mean would be NaN there).
    pub inhibition_skipped: usize,
    /// Relative modulation of the input, conv1 and conv2 (see the module docs), gated net
    /// only.
    pub modulation: Option<[f64; 3]>,
}

/// A network with its optimiser that learns from scene minibatches.
pub trait SceneLearner {
    /// One training step on a minibatch.
    fn train_step(&mut self, batch: &SceneBatch) -> Result<StepStats>;
    /// Evaluation on `scenes` in minibatches of `batch`.
    fn evaluate(&self, scenes: &Scenes, batch: usize) -> Result<Evaluation>;
}

fn finite(what: &str, v: f32) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(AttentionError::NonFinite(format!(
            "{what} is {v} (training diverged)"
        )))
    }
}

fn check_objects(batch_objects: usize, net_objects: usize) -> Result<()> {
    if batch_objects != net_objects {
        return Err(config(format!(
            "scenes of {batch_objects} objects for a network of {net_objects}"
        )));
    }
    Ok(())
}

/// The gated network with Adam and its loss's penalty.
///
/// ```
/// use candle_core::Device;
/// use neurogen_studies::lei2021_attention::*;
/// let scenes_cfg = SceneConfig::paper();
/// let items = Items::new(vec![0.5; 4 * 28 * 28], vec![0, 1, 2, 3])?;
/// let scenes = Scenes::compose(&items, &scenes_cfg, 7)?;
/// let net = AttentionNet::new(AttentionConfig::paper(&scenes_cfg), 0, &Device::Cpu)?;
/// let mut t = AttentionTrainer::new(net, &TrainConfig::paper(0))?;
/// let stats = t.train_step(&scenes.batch(&[0, 1], &Device::Cpu)?)?;
/// assert!(stats.loss.is_finite());
/// # Ok::<(), neurogen_studies::lei2021_attention::AttentionError>(())
/// ```
#[derive(Debug)]
pub struct AttentionTrainer {
    net: AttentionNet,
    opt: Adam,
    penalty: f64,
}

impl AttentionTrainer {
    /// A trainer of `net` with a fresh Adam of `cfg`'s learning rate and `cfg`'s penalty.
    pub fn new(net: AttentionNet, cfg: &TrainConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(AttentionTrainer {
            net,
            opt: Adam::new(cfg.adam(), 1)?,
            penalty: cfg.penalty,
        })
    }

    /// The network.
    pub fn net(&self) -> &AttentionNet {
        &self.net
    }

    /// The network, giving up the optimiser.
    pub fn into_net(self) -> AttentionNet {
        self.net
    }
}

impl SceneLearner for AttentionTrainer {
    fn train_step(&mut self, batch: &SceneBatch) -> Result<StepStats> {
        let n = batch.per_scene();
        let b = batch.len();
        let targets = gating_targets(batch, self.net.config().strength);
        let mut reported = vec![false; b * n];
        let mut ior = self.net.empty_ior(b)?;
        let params = self.net.named_params();
        let (mut loss, mut class, mut mask, mut right) = (0f32, 0f32, 0f32, 0usize);
        for _ in 0..n {
            let pass = self.net.attend(batch.x(), &ior)?;
            let l = object_loss(
                &pass.logits,
                &pass.gated,
                batch,
                &targets,
                &mut reported,
                self.penalty,
            )?;
            let total = scalar(&l.loss)?;
            finite("the training loss", total)?;
            let grads = l.loss.backward()?;
            self.opt
                .step(params.iter().map(|(k, v)| (k.as_str(), v)), &grads, &[true])?;
            loss += total;
            class += l.class_loss;
            mask += l.mask_loss;
            right += l.correct;
            ior = pass.ior;
        }
        Ok(StepStats {
            loss: loss / n as f32,
            class_loss: class / n as f32,
            mask_loss: mask / n as f32,
            accuracy: right as f64 / (b * n) as f64,
        })
    }

    fn evaluate(&self, scenes: &Scenes, batch: usize) -> Result<Evaluation> {
        evaluate_attention(&self.net, scenes, batch)
    }
}

/// Sums for the inhibition and modulation measures.
#[derive(Default)]
struct Tally {
    right: usize,
    objects: usize,
    att: f64,
    unatt: f64,
    counted: usize,
    skipped: usize,
    diff: [f64; 3],
    base: [f64; 3],
}

fn abs_sums(gated: &Tensor, ungated: &Tensor) -> Result<(f64, f64)> {
    let d = gated
        .detach()
        .sub(ungated)?
        .abs()?
        .sum_all()?
        .to_scalar::<f32>()?;
    let b = ungated.abs()?.sum_all()?.to_scalar::<f32>()?;
    Ok((d as f64, b as f64))
}

/// Accuracy, inhibition and modulation of the gated network on `scenes` (module docs), in
/// minibatches of `batch`.
pub fn evaluate_attention(net: &AttentionNet, scenes: &Scenes, batch: usize) -> Result<Evaluation> {
    if batch == 0 {
        return Err(config("evaluation batch size is 0"));
    }
    let sc = scenes.config();
    let (n, p) = (sc.objects, sc.pixels());
    let s = net.config().strength as f32;
    let device = net.device().clone();
    let mut t = Tally::default();
    let all: Vec<usize> = (0..scenes.len()).collect();
    for idx in all.chunks(batch) {
        let bt = scenes.batch(idx, &device)?;
        let b = bt.len();
        let targets = gating_targets(&bt, s as f64);
        let mut reported = vec![false; b * n];
        let mut ior = net.empty_ior(b)?;
        let mut att = vec![0f64; b];
        let mut unatt = vec![0f64; b];
        let mut ok = vec![true; b];
        let x = bt.x().to_dtype(net.dtype())?;
        for _ in 0..n {
            let pass = net.attend(&x, &ior)?;
            let l = object_loss(&pass.logits, &pass.gated, &bt, &targets, &mut reported, 0.0)?;
            t.right += l.correct;
            t.objects += b;
            let m1 = pass
                .m1
                .flatten_all()?
                .to_dtype(candle_core::DType::F32)?
                .to_vec1::<f32>()?;
            for (i, &k) in l.selected.iter().enumerate() {
                let x = &bt.scenes()[i * p..(i + 1) * p];
                let tk = &targets[(i * n + k) * p..(i * n + k + 1) * p];
                let m = &m1[i * p..(i + 1) * p];
                let (mut sa, mut na, mut su, mut nu) = (0f64, 0usize, 0f64, 0usize);
                for j in 0..p {
                    let r = ((x[j] - tk[j] + 1e-6) / (x[j] + 1e-6)) / s;
                    if r > 0.5 {
                        su += m[j] as f64;
                        nu += 1;
                    } else {
                        sa += m[j] as f64;
                        na += 1;
                    }
                }
                if na == 0 || nu == 0 {
                    ok[i] = false;
                } else {
                    att[i] += sa / na as f64 / n as f64;
                    unatt[i] += su / nu as f64 / n as f64;
                }
            }
            for (l, (g, u)) in [
                (&pass.gated, &x),
                (&pass.conv1, &pass.conv1_ungated),
                (&pass.conv2, &pass.conv2_ungated),
            ]
            .into_iter()
            .enumerate()
            {
                let (d, base) = abs_sums(g, u)?;
                t.diff[l] += d;
                t.base[l] += base;
            }
            ior = pass.ior;
        }
        for i in 0..b {
            if ok[i] {
                t.att += att[i];
                t.unatt += unatt[i];
                t.counted += 1;
            } else {
                t.skipped += 1;
            }
        }
    }
    let mean = |v: f64| (t.counted > 0).then(|| v / t.counted as f64);
    let ratio = |l: usize| {
        if t.base[l] > 0.0 {
            t.diff[l] / t.base[l]
        } else {
            0.0
        }
    };
    Ok(Evaluation {
        accuracy: t.right as f64 / t.objects as f64,
        scenes: scenes.len(),
        inhibition_attended: mean(t.att),
        inhibition_unattended: mean(t.unatt),
        inhibition_skipped: t.skipped,
        modulation: Some([ratio(0), ratio(1), ratio(2)]),
    })
}

/// The feed-forward control with Adam.
#[derive(Debug)]
pub struct ControlTrainer {
    net: FeedForwardNet,
    opt: Adam,
}

impl ControlTrainer {
    /// A trainer of `net` with a fresh Adam of `cfg`'s learning rate.
    pub fn new(net: FeedForwardNet, cfg: &TrainConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(ControlTrainer {
            net,
            opt: Adam::new(cfg.adam(), 1)?,
        })
    }

    /// The network.
    pub fn net(&self) -> &FeedForwardNet {
        &self.net
    }

    fn loss(&self, batch: &SceneBatch) -> Result<(Tensor, usize)> {
        check_objects(batch.per_scene(), self.net.objects())?;
        let b = batch.len();
        let n = self.net.objects();
        let logits = self.net.logits(batch.x())?.reshape((b * n, CLASSES))?;
        let y: Vec<u32> = batch.labels().iter().map(|&l| l as u32).collect();
        let pred = argmax_rows(&logits.detach())?;
        let right = pred.iter().zip(&y).filter(|(a, b)| a == b).count();
        let y = Tensor::from_vec(y, b * n, logits.device())?;
        Ok((candle_nn::loss::cross_entropy(&logits, &y)?, right))
    }
}

impl SceneLearner for ControlTrainer {
    fn train_step(&mut self, batch: &SceneBatch) -> Result<StepStats> {
        let (loss, right) = self.loss(batch)?;
        let l = scalar(&loss)?;
        finite("the control's loss", l)?;
        let grads = loss.backward()?;
        let params = self.net.named_params();
        self.opt
            .step(params.iter().map(|(k, v)| (k.as_str(), v)), &grads, &[true])?;
        Ok(StepStats {
            loss: l,
            class_loss: l,
            mask_loss: 0.0,
            accuracy: right as f64 / batch.labels().len() as f64,
        })
    }

    fn evaluate(&self, scenes: &Scenes, batch: usize) -> Result<Evaluation> {
        if batch == 0 {
            return Err(config("evaluation batch size is 0"));
        }
        let device = self.net_device();
        let (mut right, mut total) = (0usize, 0usize);
        let all: Vec<usize> = (0..scenes.len()).collect();
        for idx in all.chunks(batch) {
            let bt = scenes.batch(idx, &device)?;
            let (_, r) = self.loss(&bt)?;
            right += r;
            total += bt.labels().len();
        }
        Ok(Evaluation {
            accuracy: right as f64 / total as f64,
            scenes: scenes.len(),
            inhibition_attended: None,
            inhibition_unattended: None,
            inhibition_skipped: 0,
            modulation: None,
        })
    }
}

impl ControlTrainer {
    fn net_device(&self) -> Device {
        self.net
            .named_params()
            .first()
            .map(|(_, v)| v.device().clone())
            .unwrap_or(Device::Cpu)
    }
}

/// Where a training run stands, handed to the progress callback after every step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Epoch (from 0).
    pub epoch: usize,
    /// Minibatches done in all.
    pub step: usize,
    /// Minibatches this run will do in all.
    pub total_steps: usize,
    /// The step's measurements.
    pub stats: StepStats,
    /// Seconds since the run started.
    pub seconds: f64,
}

/// What a training run did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    /// Minibatches done.
    pub steps: usize,
    /// Wall seconds.
    pub seconds: f64,
    /// The last step's measurements.
    pub last: StepStats,
}

impl TrainSummary {
    /// Mean wall seconds per minibatch.
    pub fn seconds_per_step(&self) -> f64 {
        self.seconds / self.steps.max(1) as f64
    }
}

/// Seed of minibatch `batch` of `epoch` (SplitMix64 of the three).
fn batch_seed(seed: u64, epoch: usize, batch: usize) -> u64 {
    let mut z = seed
        ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (batch as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Trains `learner` on scenes composed from `items`: per epoch a seeded shuffle of the items
/// cut into minibatches, each minibatch's scenes composed afresh ([`Scenes::compose_for`]),
/// until `cfg.epochs` or `cfg.max_steps`; `progress` sees every step.
pub fn train<L: SceneLearner>(
    learner: &mut L,
    items: &Items,
    scenes: &SceneConfig,
    cfg: &TrainConfig,
    device: &Device,
    mut progress: impl FnMut(&Progress),
) -> Result<TrainSummary> {
    cfg.validate()?;
    scenes.validate()?;
    let per_epoch = items.len().div_ceil(cfg.batch);
    let total = (per_epoch * cfg.epochs).min(cfg.max_steps.unwrap_or(usize::MAX));
    if total == 0 {
        return Err(config("max_steps is 0: nothing to train"));
    }
    let t0 = Instant::now();
    let mut step = 0;
    let mut last = None;
    'epochs: for epoch in 0..cfg.epochs {
        for (bi, idx) in neurogen_data::epoch_batches(items.len(), cfg.batch, cfg.seed, epoch)
            .iter()
            .enumerate()
        {
            if step == total {
                break 'epochs;
            }
            let set = Scenes::compose_for(items, idx, scenes, batch_seed(cfg.seed, epoch, bi))?;
            let all: Vec<usize> = (0..set.len()).collect();
            let stats = learner.train_step(&set.batch(&all, device)?)?;
            step += 1;
            last = Some(stats);
            progress(&Progress {
                epoch,
                step,
                total_steps: total,
                stats,
                seconds: t0.elapsed().as_secs_f64(),
            });
        }
    }
    let last = last.ok_or_else(|| config("no training step ran"))?;
    Ok(TrainSummary {
        steps: step,
        seconds: t0.elapsed().as_secs_f64(),
        last,
    })
}
