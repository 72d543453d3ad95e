//! The rule through the workspace's learner seam: [`KrotovLearner`] applies the local rule for
//! a fixed number of minibatches, then trains the read-out on the frozen hidden layer.
use candle_core::{Device, Tensor};
use neurogen_learners::Learner;
use serde::{Deserialize, Serialize};

use super::error::{check_batch, LocalRuleError, Result};
use super::readout::PowerReadout;
use super::rule::KrotovLayer;

/// The rule's and the read-out's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KrotovConfig {
    /// Input width (784 for 28×28 images, pixels in `[0, 1]`).
    pub n_input: usize,
    /// Hidden units (notebook 100, paper's MNIST network 2,000).
    pub hidden: usize,
    /// Classes of the read-out.
    pub classes: usize,
    /// Lebesgue norm `p` (notebook 2).
    pub p: f64,
    /// Rank of the anti-Hebbian unit, `>= 2` (notebook 2).
    pub k: usize,
    /// Anti-Hebbian strength `Δ` (notebook 0.4).
    pub delta: f64,
    /// Initial learning rate `ε₀`, annealed linearly to 0 over `unsupervised_epochs`
    /// (notebook 0.02).
    pub eps0: f64,
    /// Floor of `max|ds|` (notebook 1e-30).
    pub precision: f64,
    /// Initial weights `N(mean, std²)` (notebook `(0, 1)`).
    pub init: (f64, f64),
    /// Epochs of the unsupervised stage (notebook 200).
    pub unsupervised_epochs: usize,
    /// Minibatches per epoch (the notebook: 60,000 / 100 = 600).
    pub batches_per_epoch: usize,
    /// Power `n` of the read-out's hidden activations (paper, MNIST: 4.5).
    pub power: f64,
    /// Loss power `m` (paper, MNIST: 6).
    pub loss_power: f64,
    /// `β` of `tanh(β·h·S)` (ours).
    pub beta: f64,
    /// Adam's learning rate for the read-out (ours).
    pub readout_lr: f64,
    /// Seed of the initial weights.
    pub seed: u64,
}

impl KrotovConfig {
    /// The notebook's rule (`p = 2`, `k = 2`, `Δ = 0.4`, `ε₀ = 0.02`, `N(0, 1)`, 100 hidden
    /// units, 200 epochs of 600 minibatches) with the paper's read-out powers (`n = 4.5`,
    /// `m = 6`) and our `β = 0.01`, read-out learning rate 0.01.
    pub fn notebook(n_input: usize, classes: usize) -> Self {
        KrotovConfig {
            n_input,
            hidden: 100,
            classes,
            p: 2.0,
            k: 2,
            delta: 0.4,
            eps0: 0.02,
            precision: 1e-30,
            init: (0.0, 1.0),
            unsupervised_epochs: 200,
            batches_per_epoch: 600,
            power: 4.5,
            loss_power: 6.0,
            beta: 0.01,
            readout_lr: 0.01,
            seed: 0,
        }
    }
}

/// Krotov & Hopfield's network as a [`Learner`]: the local rule, then the read-out.
#[derive(Debug)]
pub struct KrotovLearner {
    config: KrotovConfig,
    layer: KrotovLayer,
    readout: PowerReadout,
    steps: usize,
}

impl KrotovLearner {
    /// A fresh network (`W ~ N(init)`, zero read-out) on `device`.
    ///
    /// ```
    /// use candle_core::{Device, Tensor};
    /// use neurogen_learners::Learner;
    /// use neurogen_studies::krotov2019_local::{KrotovConfig, KrotovLearner};
    /// let cfg = KrotovConfig { hidden: 4, unsupervised_epochs: 1, batches_per_epoch: 1,
    ///                          ..KrotovConfig::notebook(3, 2) };
    /// let mut net = KrotovLearner::new(&cfg, &Device::Cpu)?;
    /// let x = Tensor::from_slice(&[1f32, 0., 0., 0., 0., 1.], (2, 3), &Device::Cpu)?;
    /// let y = Tensor::from_slice(&[0u32, 1], 2, &Device::Cpu)?;
    /// net.learn(&x, &y)?; // the local rule (labels unused)
    /// assert!(!net.in_unsupervised_stage());
    /// net.learn(&x, &y)?; // the read-out
    /// assert_eq!(net.scores(&x)?.dims(), &[2, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(config: &KrotovConfig, device: &Device) -> Result<Self> {
        let c = config;
        if c.batches_per_epoch == 0 || !(c.eps0.is_finite() && c.eps0 > 0.0) {
            return Err(LocalRuleError::InvalidArgument(format!(
                "need batches_per_epoch >= 1 and a finite eps0 > 0 (got {}, {})",
                c.batches_per_epoch, c.eps0
            )));
        }
        if !(c.power.is_finite() && c.power >= 1.0) {
            return Err(LocalRuleError::InvalidArgument(format!(
                "the activation power must be finite and >= 1 (got {})",
                c.power
            )));
        }
        let layer = KrotovLayer::new(
            c.n_input,
            c.hidden,
            c.init,
            c.p,
            c.k,
            c.delta,
            c.precision,
            c.seed,
            device,
        )?;
        let readout = PowerReadout::new(
            c.hidden,
            c.classes,
            c.beta,
            c.loss_power,
            c.readout_lr,
            device,
        )?;
        Ok(KrotovLearner {
            config: c.clone(),
            layer,
            readout,
            steps: 0,
        })
    }

    /// The settings.
    pub fn config(&self) -> &KrotovConfig {
        &self.config
    }

    /// The hidden layer.
    pub fn layer(&self) -> &KrotovLayer {
        &self.layer
    }

    /// The read-out.
    pub fn readout(&self) -> &PowerReadout {
        &self.readout
    }

    /// Minibatches learnt so far (both stages).
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Whether the next `learn` applies the local rule (otherwise it trains the read-out).
    pub fn in_unsupervised_stage(&self) -> bool {
        self.steps < self.config.unsupervised_epochs * self.config.batches_per_epoch
    }

    /// The learning rate of the local rule at the current step:
    /// `ε₀·(1 − epoch/unsupervised_epochs)`, the notebook's per-epoch linear annealing.
    pub fn current_eps(&self) -> f64 {
        let epoch = self.steps / self.config.batches_per_epoch;
        self.config.eps0 * (1.0 - epoch as f64 / self.config.unsupervised_epochs as f64)
    }

    /// The hidden activations `max(0, x·Wᵀ)^n` the read-out sees (`[batch, hidden]`).
    pub fn features(&self, x: &Tensor) -> Result<Tensor> {
        self.layer.features(x, self.config.power)
    }

    /// One minibatch of the current stage; returns `max|ds|` (local rule) or the read-out's
    /// loss before its step.
    pub fn step(&mut self, x: &Tensor, y: &Tensor) -> Result<f64> {
        let b = check_batch("inputs", x, self.config.n_input)?;
        if y.dims() != [b] {
            return Err(LocalRuleError::Shape {
                what: "labels".into(),
                expected: format!("[{b}]"),
                got: y.dims().to_vec(),
            });
        }
        let labels: Vec<u32> = y.to_dtype(candle_core::DType::U32)?.to_vec1()?;
        if let Some(&l) = labels.iter().find(|&&l| l as usize >= self.config.classes) {
            return Err(LocalRuleError::InvalidArgument(format!(
                "label {l} is out of range: this learner has {} classes",
                self.config.classes
            )));
        }
        let out = if self.in_unsupervised_stage() {
            let eps = self.current_eps();
            self.layer.learn(x, eps)?
        } else {
            let h = self.features(x)?;
            self.readout.step(&h, y)? as f64
        };
        self.steps += 1;
        Ok(out)
    }
}

impl Learner for KrotovLearner {
    fn name(&self) -> String {
        "krotov2019".into()
    }

    fn classes(&self) -> usize {
        self.config.classes
    }

    fn learn(&mut self, x: &Tensor, y: &Tensor) -> neurogen_learners::Result<()> {
        self.step(x, y)?;
        Ok(())
    }

    fn scores(&self, x: &Tensor) -> neurogen_learners::Result<Tensor> {
        let h = self.features(x)?;
        Ok(self.readout.outputs(&h)?)
    }
}
