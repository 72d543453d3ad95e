//! Neural noise (Tran et al. 2022; reference `NgnCnn.forward` with `neural_noise=(mean, std)`):
//! in training only, the first hidden fully connected layer's pre-activations are multiplied
//! element-wise by log-normal noise, `z · exp(N(mean, std²))` (PyTorch's `log_normal_(mean,
//! std)`), before the ReLU. The paper's setting is mean −0.2, std 0.5. The noise is drawn on
//! the CPU from the regulariser's own seeded generator, then moved to the model's device.
use candle_core::{Device, Tensor};
use neurogen_model::{Adam, Cnn, ForwardCtx, HookStep, Regularizer, StepCtx, StepHook};
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

    fn config(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self.config).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("kind".into(), "noise".into());
        }
        v
    }

    fn start_training(&mut self, model: &mut Cnn, _o: &mut Adam) -> neurogen_model::Result<()> {
        if self.config.layer >= model.num_hidden() {
            return Err(RegError::invalid(
                "noise",
                format!(
                    "layer={} does not exist: the network has hidden layers 0..{}",
                    self.config.layer,
                    model.num_hidden()
                ),
            )
            .into());
        }
        Ok(())
    }

    fn modifies_model(&self, _hook: StepHook, _ctx: &StepCtx) -> bool {
        false
    }

    fn plans_hooks(&self) -> bool {
        true
    }

    fn plan_pre_activation(
        &mut self,
        layer: usize,
        (batch, width): (usize, usize),
        ctx: &ForwardCtx,
    ) -> neurogen_model::Result<Vec<HookStep>> {
        if !ctx.train || layer != self.config.layer {
            return Ok(Vec::new());
        }
        Ok(vec![HookStep::Multiply(self.noise_values(batch * width))])
    }

    fn pre_activation(
        &mut self,
        layer: usize,
        z: Tensor,
        ctx: &ForwardCtx,
    ) -> neurogen_model::Result<Tensor> {
        if !ctx.train || layer != self.config.layer {
            return Ok(z);
        }
        let noise = self.noise_values(z.elem_count());
        let noise = Tensor::from_vec(noise, z.dims(), &Device::Cpu)?
            .to_dtype(z.dtype())?
            .to_device(z.device())?;
        Ok((z * noise)?)
    }
}
