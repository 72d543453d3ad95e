//! Random-direction perturbation (Morcos et al. 2018): Gaussian noise added to every unit of a
//! hidden layer after its ReLU, with a standard deviation per unit, drawn from a seeded
//! ChaCha8 stream (Box–Muller), so the same seed gives the same noise.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{ModelError, Result};
use crate::hooks::{HookSite, HookStep, Point};
use crate::regularizer::Regularizer;

/// A hook that adds `N(0, sd_u²)` noise to unit `u` of hidden layer `layer`, independently for
/// every example and every forward pass (training and evaluation alike; an analysis uses it in
/// evaluation). Units with SD 0 are left as they are.
///
/// ```
/// use candle_core::Device;
/// use neurogen_model::{AddNoise, Cnn, ForwardCtx, ModelConfig, NoRegularizer, PerReplica};
/// let model = Cnn::new(&ModelConfig::mlp(4, &[3], 2), 0, &Device::Cpu)?;
/// let x = candle_core::Tensor::ones((2, 1, 1, 4), candle_core::DType::F32, &Device::Cpu)?;
/// let plain = model.forward(&x, &mut PerReplica(&mut [NoRegularizer]), &ForwardCtx::eval())?;
/// let mut noise = [AddNoise::new(0, vec![1.0, 0.0, 1.0], 7)?];
/// let noisy = model.forward(&x, &mut PerReplica(&mut noise), &ForwardCtx::eval())?;
/// let (a, b) = (plain.hidden[0].to_vec3::<f32>()?, noisy.hidden[0].to_vec3::<f32>()?);
/// assert_eq!(a[0][0][1], b[0][0][1]); // SD 0: unchanged
/// assert_ne!(a[0][0][0], b[0][0][0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct AddNoise {
    layer: usize,
    sd: Vec<f32>,
    rng: ChaCha8Rng,
}

impl AddNoise {
    /// Noise of SD `sd[u]` for unit `u` of hidden layer `layer`, drawn from the stream `seed`;
    /// every SD must be finite and >= 0.
    pub fn new(layer: usize, sd: Vec<f32>, seed: u64) -> Result<Self> {
        if let Some((u, s)) = sd
            .iter()
            .enumerate()
            .find(|(_, s)| !(s.is_finite() && **s >= 0.0))
        {
            return Err(ModelError::Config(format!(
                "noise SD of unit {u} must be finite and >= 0, got {s}"
            )));
        }
        Ok(AddNoise {
            layer,
            sd,
            rng: ChaCha8Rng::seed_from_u64(seed),
        })
    }

    /// One standard normal draw (Box–Muller on two uniforms in (0, 1]).
    fn normal(&mut self) -> f64 {
        let u1: f64 = 1.0 - self.rng.random::<f64>();
        let u2: f64 = self.rng.random::<f64>();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

impl Regularizer for AddNoise {
    fn name(&self) -> String {
        "add-noise".into()
    }

    fn hook(&mut self, site: &HookSite) -> Result<Vec<HookStep>> {
        if !site.is(self.layer, Point::Activation) {
            return Ok(Vec::new());
        }
        let width = site.layer.width;
        if self.sd.len() != width {
            return Err(ModelError::Config(format!(
                "{} noise SDs for hidden layer {} of {width} units",
                self.sd.len(),
                self.layer
            )));
        }
        let mut v = Vec::with_capacity(site.batch * width);
        for _ in 0..site.batch {
            for u in 0..width {
                let sd = self.sd[u];
                v.push(if sd == 0.0 {
                    0.0
                } else {
                    (self.normal() * sd as f64) as f32
                });
            }
        }
        Ok(vec![HookStep::Add(v)])
    }
}
