//! The bottleneck metric (`community/funcspec/bottleneck.py`): freeze the trained community,
//! put a narrow linear bottleneck and a new readout on one agent's last-step hidden state, and
//! train them to report one sub-task's label (agent 0's or agent 1's input). An agent that
//! specialises on its own input reports its own label well through 5 units and the other
//! agent's badly.
//!
//! Ours follows the issue and the paper's text: a fresh `n_hidden → 5 → n_classes` linear map
//! (`nn.Linear` then `nn.Linear`, no nonlinearity between, PyTorch's default init) per agent
//! and sub-task, trained with Adam (lr 1e-3, StepLR γ 0.9, batch 64, 5 epochs, the authors'
//! `readout_retrain` settings); the community's states are computed once since it is frozen.
//! (The authors' code at dbca3d3 runs without the bottleneck, `use_bottleneck: False`, and
//! retrains only a 100 → 10 readout.) The score of agent `n` is the authors' `norm_diff`:
//! the normalised difference, on sub-task `n`, between agent `n`'s accuracy and the other
//! agent's; their figure takes it on test losses and negates it, ours on test accuracies.
use candle_core::{Device, Tensor, Var};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use neurogen_analysis::modularity::normalised_difference;
use neurogen_model::{cross_entropy, Adam, AdamConfig};

use super::data::DigitPairs;
use super::error::{invalid, Result};
use super::model::Community;
use super::task::accuracy;
use super::train::final_states;

/// Settings of the bottleneck retraining. `Default`: 5 units, Adam 1e-3, γ 0.9, 5 epochs,
/// batch 64.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BottleneckConfig {
    /// Width of the bottleneck.
    pub n_bottleneck: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Learning-rate decay per epoch.
    pub gamma: f64,
    /// Epochs.
    pub epochs: usize,
    /// Examples per batch.
    pub batch_size: usize,
    /// Seed of the init and the batch order.
    pub seed: u64,
}

impl Default for BottleneckConfig {
    fn default() -> Self {
        BottleneckConfig {
            n_bottleneck: 5,
            lr: 1e-3,
            gamma: 0.9,
            epochs: 5,
            batch_size: 64,
            seed: 0,
        }
    }
}

/// The bottleneck metric of a community.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BottleneckMetric {
    /// `accuracy[t][a]`: test accuracy of agent `a`'s bottleneck at reporting agent `t`'s label.
    pub accuracy: [[f64; 2]; 2],
    /// Agent `n`'s specialization: `normalised_difference(accuracy[n][n], accuracy[n][1 − n])`.
    pub specialization: [f64; 2],
}

fn linear_init(
    rng: &mut impl Rng,
    n_in: usize,
    n_out: usize,
    device: &Device,
) -> Result<(Var, Var)> {
    // nn.Linear: weight and bias U(−1/√n_in, 1/√n_in).
    let b = 1.0 / (n_in as f32).sqrt();
    let w: Vec<f32> = (0..n_in * n_out).map(|_| rng.random_range(-b..b)).collect();
    let c: Vec<f32> = (0..n_out).map(|_| rng.random_range(-b..b)).collect();
    Ok((
        Var::from_tensor(&Tensor::from_vec(w, (n_in, n_out), device)?)?,
        Var::from_tensor(&Tensor::from_vec(c, n_out, device)?)?,
    ))
}

/// Trains a fresh `n_units → n_bottleneck → n_classes` linear readout on fixed features
/// (`train_x`, `len × n_units` row-major, with `train_y` labels) and returns its accuracy on
/// (`test_x`, `test_y`).
pub fn retrain_readout(
    train_x: &[f32],
    train_y: &[u8],
    test_x: &[f32],
    test_y: &[u8],
    n_units: usize,
    n_classes: usize,
    cfg: &BottleneckConfig,
) -> Result<f64> {
    if n_units == 0 || n_classes < 2 || cfg.n_bottleneck == 0 {
        return Err(invalid(format!(
            "bottleneck readout needs n_units >= 1, n_classes >= 2, n_bottleneck >= 1 (got {n_units}, {n_classes}, {})",
            cfg.n_bottleneck
        )));
    }
    if cfg.epochs == 0 || cfg.batch_size == 0 || cfg.lr.is_nan() || cfg.lr <= 0.0 {
        return Err(invalid(
            "bottleneck training needs epochs, batch_size and lr > 0",
        ));
    }
    for (what, x, y) in [("train", train_x, train_y), ("test", test_x, test_y)] {
        if y.is_empty() || x.len() != y.len() * n_units {
            return Err(invalid(format!(
                "{what} features: {} values for {} labels × {n_units} units",
                x.len(),
                y.len()
            )));
        }
        if let Some(&bad) = y.iter().find(|&&l| l as usize >= n_classes) {
            return Err(invalid(format!(
                "{what} label {bad} is not in 0..{n_classes}"
            )));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(invalid(format!("{what} feature {i} is not finite")));
        }
    }
    let device = Device::Cpu;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let (w1, b1) = linear_init(&mut rng, n_units, cfg.n_bottleneck, &device)?;
    let (w2, b2) = linear_init(&mut rng, cfg.n_bottleneck, n_classes, &device)?;
    let forward = |x: &Tensor| -> Result<Tensor> {
        let z = x.matmul(w1.as_tensor())?.broadcast_add(b1.as_tensor())?;
        Ok(z.matmul(w2.as_tensor())?.broadcast_add(b2.as_tensor())?)
    };
    let rows = |x: &[f32], idx: &[usize]| -> Result<Tensor> {
        let mut v = Vec::with_capacity(idx.len() * n_units);
        for &i in idx {
            v.extend_from_slice(&x[i * n_units..(i + 1) * n_units]);
        }
        Ok(Tensor::from_vec(v, (idx.len(), n_units), &device)?)
    };
    let mut adam = Adam::new(
        AdamConfig {
            lr: cfg.lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        },
        1,
    )?;
    let mut order: Vec<usize> = (0..train_y.len()).collect();
    for _ in 0..cfg.epochs {
        order.shuffle(&mut rng);
        for chunk in order.chunks(cfg.batch_size) {
            let x = rows(train_x, chunk)?;
            let y: Vec<u32> = chunk.iter().map(|&i| train_y[i] as u32).collect();
            let y = Tensor::from_vec(y, (1, chunk.len()), &device)?;
            let loss = cross_entropy(&forward(&x)?.unsqueeze(0)?, &y)?;
            let grads = loss.backward()?;
            let params = [("w1", &w1), ("b1", &b1), ("w2", &w2), ("b2", &b2)];
            adam.step(params, &grads, &[true])?;
        }
        let lr = adam.config().lr * cfg.gamma;
        adam.set_lr(lr);
    }
    let all: Vec<usize> = (0..test_y.len()).collect();
    let logits = forward(&rows(test_x, &all)?)?;
    accuracy(&logits, test_y)
}

/// The bottleneck metric of a frozen `community`: for each sub-task `t` and agent `a`, a
/// bottleneck readout on agent `a`'s last-step states is trained on `train` to report agent
/// `t`'s label and tested on `test`.
pub fn bottleneck_metric(
    community: &Community,
    train: &DigitPairs,
    test: &DigitPairs,
    cfg: &BottleneckConfig,
) -> Result<BottleneckMetric> {
    let h = community.config().n_hidden;
    let n_classes = community.config().n_out;
    let s_train = final_states(community, train, 256)?;
    let s_test = final_states(community, test, 256)?;
    let mut acc = [[0.0; 2]; 2];
    for (t, row) in acc.iter_mut().enumerate() {
        for (a, cell) in row.iter_mut().enumerate() {
            let c = BottleneckConfig {
                seed: cfg.seed.wrapping_add((2 * t + a) as u64),
                ..*cfg
            };
            *cell = retrain_readout(
                &s_train[a],
                train.labels(t),
                &s_test[a],
                test.labels(t),
                h,
                n_classes,
                &c,
            )?;
        }
    }
    let spec = |n: usize| normalised_difference(acc[n][n], acc[n][1 - n]);
    Ok(BottleneckMetric {
        accuracy: acc,
        specialization: [spec(0)?, spec(1)?],
    })
}
