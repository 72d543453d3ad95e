//! Neural noise (Tran et al. 2022; reference `NgnCnn.forward` with `neural_noise=(mean, std)`):
//! in training only, the first hidden fully connected layer's pre-activations are multiplied
//! element-wise by log-normal noise, `z · exp(N(mean, std²))` (PyTorch's `log_normal_(mean,
//! std)`), before the ReLU. The paper's setting is mean −0.2, std 0.5. The noise is drawn on
//! the CPU from the regulariser's own seeded generator, then moved to the model's device.
use neurogen_model::{HookSite, HookStep, Phase, Point, Regularizer, StepCx};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use serde::{Deserialize, Serialize};

use crate::error::RegError;

/// Neural-noise settings. `Default` is the paper's: mean −0.2, std 0.5, on hidden layer 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NeuralNoiseConfig {
    /// Mean of the underlying normal distribution.
    pub mean: f64,
    /// Standard deviation of the underlying normal distribution (>= 0).
    pub std: f64,
    /// The hidden layer whose pre-activations get noise (the reference: 0).
    pub layer: usize,
}

impl Default for NeuralNoiseConfig {
    fn default() -> Self {
        NeuralNoiseConfig {
            mean: -0.2,
            std: 0.5,
            layer: 0,
        }
    }
}

impl NeuralNoiseConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), RegError> {
        if !self.mean.is_finite() {
            return Err(RegError::invalid(
                "noise",
                format!("mean must be finite, got {}", self.mean),
            ));
        }
        if !(self.std.is_finite() && self.std >= 0.0) {
            return Err(RegError::invalid(
                "noise",
                format!("std must be a finite number >= 0, got {}", self.std),
            ));
        }
        Ok(())
    }
}

/// The neural-noise regulariser.
#[derive(Debug, Clone)]
pub struct NeuralNoise {
    config: NeuralNoiseConfig,
    dist: LogNormal<f64>,
    rng: ChaCha8Rng,
}

impl NeuralNoise {
    /// Neural noise drawn from `rng`.
    pub fn new(config: NeuralNoiseConfig, rng: ChaCha8Rng) -> Result<Self, RegError> {
        config.validate()?;
        let dist = LogNormal::new(config.mean, config.std)
            .map_err(|e| RegError::invalid("noise", e.to_string()))?;
        Ok(NeuralNoise { config, dist, rng })
    }

    /// The settings.
    pub fn settings(&self) -> &NeuralNoiseConfig {
        &self.config
    }
}

impl NeuralNoise {
    /// The next `n` noise factors (one draw of the distribution each).
    fn noise_values(&mut self, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| self.dist.sample(&mut self.rng) as f32)
            .collect()
    }
}

impl Regularizer for NeuralNoise {
    fn name(&self) -> String {
        "noise".into()
    }

    fn on_step(&mut self, phase: Phase, cx: &mut StepCx) -> neurogen_model::Result<()> {
        if phase == Phase::Start && self.config.layer >= cx.num_hidden() {
            return Err(RegError::invalid(
                "noise",
                format!(
                    "layer={} does not exist: the network has hidden layers 0..{}",
                    self.config.layer,
                    cx.num_hidden()
                ),
            )
            .into());
        }
        Ok(())
    }

    fn hook(&mut self, site: &HookSite) -> neurogen_model::Result<Vec<HookStep>> {
        if !site.ctx.train || !site.is(self.config.layer, Point::PreActivation) {
            return Ok(Vec::new());
        }
        Ok(vec![HookStep::Multiply(
            self.noise_values(site.batch * site.layer.width),
        )])
    }
}
