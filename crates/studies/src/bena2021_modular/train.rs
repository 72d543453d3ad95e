//! Training the community on `parity_digits` (`train_community` in
//! `community/common/training.py`): cross-entropy of the decision at the last step, Adam on
//! the agents (lr 1e-3, StepLR γ 0.9 per epoch), and on the interconnections a second Adam with
//! Deep-R's learning rate (γ 0.95 per epoch) wrapped in Deep-R's noise, shrinkage and rewiring
//! (see [`super::connections`]). The fixed-mask variant trains its masked weights with the same
//! second Adam, as the authors' code does. Batch 64, up to 15 epochs, early stop once the
//! best test accuracy reaches 0.9 after at least three epochs.
//!
//! The optimiser is the workspace's [`neurogen_model::Adam`] (PyTorch's semantics) with one
//! replica: it updates any candle `Var` from a `GradStore`, whatever its shape.
use candle_core::{DType, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use neurogen_model::{cross_entropy, Adam, AdamConfig};

use super::connections::{ConnectionScheme, DeepRConfig};
use super::data::DigitPairs;
use super::error::{invalid, Result};
use super::model::Community;
use super::task::{accuracy, max_decision};

/// Training settings. `Default` is the authors' (`scripts/main_funcspec.py`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Agents' Adam learning rate.
    pub lr: f64,
    /// Agents' learning-rate decay per epoch.
    pub gamma: f64,
    /// Pairs per batch.
    pub batch_size: usize,
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Stop once the best test accuracy is at least 0.9 after epoch index 2 (needs a test set).
    pub early_stop: bool,
    /// The interconnections' Deep-R settings (their `lr` and `gamma` also drive the
    /// fixed-mask weights' Adam).
    pub deep_r: DeepRConfig,
    /// Seed of batch order and Deep-R's noise and rewiring.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            lr: 1e-3,
            gamma: 0.9,
            batch_size: 64,
            epochs: 15,
            early_stop: true,
            deep_r: DeepRConfig::default(),
            seed: 0,
        }
    }
}

impl TrainConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        let lr_ok = self.lr > 0.0 && self.lr.is_finite();
        let gamma_ok = self.gamma > 0.0 && self.gamma <= 1.0;
        if !(lr_ok && gamma_ok) {
            return Err(invalid(format!(
                "agents' lr = {} must be positive and gamma = {} in (0, 1]",
                self.lr, self.gamma
            )));
        }
        if self.batch_size == 0 || self.epochs == 0 {
            return Err(invalid("batch_size and epochs must be at least 1"));
        }
        self.deep_r.validate()
    }
}

/// What one training step did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepStats {
    /// The batch's mean cross-entropy (before the update).
    pub loss: f64,
    /// The batch's accuracy (before the update).
    pub accuracy: f64,
    /// Connections rewired by Deep-R (0 for a fixed mask).
    pub rewired: usize,
}

/// Loss and accuracy of a community on a set of pairs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluation {
    /// Mean cross-entropy.
    pub loss: f64,
    /// Fraction of correct decisions.
    pub accuracy: f64,
    /// Fraction of inputs on which agent 1 decided.
    pub decided_by_agent1: f64,
}

/// One epoch of training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpochRecord {
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Mean training accuracy over the epoch's batches.
    pub train_accuracy: f64,
    /// Connections rewired during the epoch.
    pub rewired: usize,
    /// The test set's evaluation after the epoch, when there is one.
    pub test: Option<Evaluation>,
}

/// The record of a training run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    /// One record per epoch run.
    pub epochs: Vec<EpochRecord>,
    /// Whether the early-stopping rule ended the run.
    pub stopped_early: bool,
}

/// The optimisers and random state of one training run of a community.
#[derive(Debug)]
pub struct Trainer<'a> {
    community: &'a Community,
    cfg: TrainConfig,
    agents: Adam,
    connections: Adam,
    rng: ChaCha8Rng,
}

impl<'a> Trainer<'a> {
    /// A trainer for `community`.
    pub fn new(community: &'a Community, cfg: TrainConfig) -> Result<Trainer<'a>> {
        cfg.validate()?;
        let adam = |lr| AdamConfig {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        };
        Ok(Trainer {
            community,
            cfg,
            agents: Adam::new(adam(cfg.lr), 1)?,
            connections: Adam::new(adam(cfg.deep_r.lr), 1)?,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x006d_6f64_756c_6172),
        })
    }

    /// One step on a batch: forward, loss, backward, the agents' Adam, then the
    /// interconnections' update (Deep-R or masked Adam).
    pub fn step(&mut self, inputs: [&Tensor; 2], targets: &[u8]) -> Result<StepStats> {
        let (loss, acc) = batch_loss(self.community, inputs, targets)?;
        let grads = loss.backward()?;
        let named = self.community.named_params();
        let (conn, agent): (Vec<_>, Vec<_>) =
            named.iter().partition(|(name, _)| name.starts_with("conn"));
        self.agents
            .step(agent.iter().map(|(n, v)| (n.as_str(), *v)), &grads, &[true])?;
        let deep_r = self.community.config().scheme == ConnectionScheme::DeepR;
        // The random walk and the shrinkage use the level's base lr: the authors' `apply_grad`
        // reads it from `deepR_params_dict`, which their StepLR does not decay.
        let cfg = self.cfg.deep_r;
        let mut was_active = Vec::new();
        if deep_r {
            for c in self.community.connections() {
                was_active.push(c.deep_r_before(&cfg, &mut self.rng)?);
            }
        }
        self.connections
            .step(conn.iter().map(|(n, v)| (n.as_str(), *v)), &grads, &[true])?;
        let mut rewired = 0;
        if deep_r {
            for (c, was) in self.community.connections().iter().zip(&was_active) {
                rewired += c.deep_r_after(was, &mut self.rng)?;
            }
        }
        Ok(StepStats {
            loss: loss.to_scalar::<f32>()? as f64,
            accuracy: acc,
            rewired,
        })
    }

    /// The end of an epoch: both learning rates decay (StepLR).
    pub fn end_epoch(&mut self) {
        let lr = self.agents.config().lr * self.cfg.gamma;
        self.agents.set_lr(lr);
        let lr = self.connections.config().lr * self.cfg.deep_r.gamma;
        self.connections.set_lr(lr);
    }

    /// One epoch over `pairs` in an order shuffled by the trainer's random state.
    pub fn epoch(&mut self, pairs: &DigitPairs) -> Result<EpochRecord> {
        let device = self.community.agent(0).w_ih.device().clone();
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        order.shuffle(&mut self.rng);
        let (mut loss, mut acc, mut rewired, mut n) = (0.0, 0.0, 0, 0usize);
        for chunk in order.chunks(self.cfg.batch_size) {
            let ([x0, x1], targets) = pairs.batch(chunk, &device)?;
            let s = self.step([&x0, &x1], &targets)?;
            loss += s.loss;
            acc += s.accuracy;
            rewired += s.rewired;
            n += 1;
        }
        self.end_epoch();
        Ok(EpochRecord {
            train_loss: loss / n as f64,
            train_accuracy: acc / n as f64,
            rewired,
            test: None,
        })
    }
}

/// The decision's mean cross-entropy and accuracy on one batch (differentiable loss).
pub fn batch_loss(
    community: &Community,
    inputs: [&Tensor; 2],
    targets: &[u8],
) -> Result<(Tensor, f64)> {
    let out = community.forward(inputs)?;
    let last = out.outputs.last().expect("n_steps >= 1");
    let d = max_decision(last)?;
    let n_out = community.config().n_out;
    if let Some(&bad) = targets.iter().find(|&&t| t as usize >= n_out) {
        return Err(invalid(format!(
            "target {bad} is not a class in 0..{n_out}"
        )));
    }
    if targets.len() != d.logits.dim(0)? {
        return Err(invalid(format!(
            "{} targets for a batch of {}",
            targets.len(),
            d.logits.dim(0)?
        )));
    }
    let y: Vec<u32> = targets.iter().map(|&t| t as u32).collect();
    let y = Tensor::from_vec(y, (1, targets.len()), d.logits.device())?;
    let loss = cross_entropy(&d.logits.unsqueeze(0)?, &y)?.squeeze(0)?;
    let acc = accuracy(&d.logits, targets)?;
    Ok((loss, acc))
}

/// Loss, accuracy and the share of decisions by agent 1 on `pairs`, in batches of
/// `batch_size`.
pub fn evaluate(
    community: &Community,
    pairs: &DigitPairs,
    batch_size: usize,
) -> Result<Evaluation> {
    if batch_size == 0 {
        return Err(invalid("batch_size must be at least 1"));
    }
    let device = community.agent(0).w_ih.device().clone();
    let idx: Vec<usize> = (0..pairs.len()).collect();
    let (mut loss, mut hits, mut by1) = (0.0, 0.0, 0usize);
    for chunk in idx.chunks(batch_size) {
        let ([x0, x1], targets) = pairs.batch(chunk, &device)?;
        let out = community.forward([&x0, &x1])?;
        let d = max_decision(out.outputs.last().expect("n_steps >= 1"))?;
        let y: Vec<u32> = targets.iter().map(|&t| t as u32).collect();
        let y = Tensor::from_vec(y, (1, targets.len()), &device)?;
        let l = cross_entropy(&d.logits.unsqueeze(0)?, &y)?.to_dtype(DType::F64)?;
        loss += l.squeeze(0)?.to_scalar::<f64>()? * chunk.len() as f64;
        hits += accuracy(&d.logits, &targets)? * chunk.len() as f64;
        by1 += d.deciding.iter().filter(|&&a| a == 1).count();
    }
    let n = pairs.len() as f64;
    Ok(Evaluation {
        loss: loss / n,
        accuracy: hits / n,
        decided_by_agent1: by1 as f64 / n,
    })
}

/// Trains `community` on `train` for up to `cfg.epochs` epochs, evaluating on `test` after
/// each epoch when given (and stopping early by the authors' rule when `cfg.early_stop`).
pub fn train(
    community: &Community,
    train: &DigitPairs,
    test: Option<&DigitPairs>,
    cfg: TrainConfig,
) -> Result<TrainReport> {
    let mut trainer = Trainer::new(community, cfg)?;
    let mut epochs = Vec::with_capacity(cfg.epochs);
    let mut best = 0.0f64;
    for e in 0..cfg.epochs {
        let mut rec = trainer.epoch(train)?;
        if let Some(t) = test {
            let ev = evaluate(community, t, cfg.batch_size)?;
            best = best.max(ev.accuracy);
            rec.test = Some(ev);
        }
        epochs.push(rec);
        if cfg.early_stop && test.is_some() && stops_early(best, e) {
            return Ok(TrainReport {
                epochs,
                stopped_early: true,
            });
        }
    }
    Ok(TrainReport {
        epochs,
        stopped_early: false,
    })
}

/// The authors' early-stopping rule: stop after epoch index `epoch` (from 0) once the best test
/// accuracy so far is at least [`EARLY_STOP_ACCURACY`] and at least three epochs have run.
pub fn stops_early(best_accuracy: f64, epoch: usize) -> bool {
    best_accuracy >= EARLY_STOP_ACCURACY && epoch >= 2
}

/// The test accuracy at which the authors' training stops early (`stops_early`).
pub const EARLY_STOP_ACCURACY: f64 = 0.9;

/// Each agent's hidden state at the last step for every pair, `len × n_hidden` row-major
/// (the states the correlation metric reads).
pub fn final_states(
    community: &Community,
    pairs: &DigitPairs,
    batch_size: usize,
) -> Result<[Vec<f32>; 2]> {
    if batch_size == 0 {
        return Err(invalid("batch_size must be at least 1"));
    }
    let device = community.agent(0).w_ih.device().clone();
    let idx: Vec<usize> = (0..pairs.len()).collect();
    let mut states = [Vec::new(), Vec::new()];
    for chunk in idx.chunks(batch_size) {
        let (x, _) = pairs.batch(chunk, &device)?;
        let out = community.forward([&x[0], &x[1]])?;
        let last = out.states.last().expect("n_steps >= 1");
        for a in 0..2 {
            states[a].extend(last[a].flatten_all()?.to_vec1::<f32>()?);
        }
    }
    Ok(states)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_stopping_needs_the_accuracy_and_three_epochs() {
        assert!(!stops_early(0.95, 0), "never before the third epoch");
        assert!(!stops_early(0.95, 1));
        assert!(stops_early(0.95, 2));
        assert!(stops_early(EARLY_STOP_ACCURACY, 7), "0.9 itself stops");
        assert!(!stops_early(0.8999, 14));
    }
}
