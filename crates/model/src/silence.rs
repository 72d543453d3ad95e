//! Silencing chosen units of a hidden layer (for ablation, Morcos et al. 2018; paper Fig. 5B):
//! their activations are set to zero, in training and evaluation alike.
use candle_core::Tensor;

use crate::error::{ModelError, Result};
use crate::regularizer::{ForwardCtx, Regularizer};

/// A hook that zeroes units `units` of hidden layer `layer`.
///
/// ```
/// use candle_core::Device;
/// use neurogen_model::{Cnn, ForwardCtx, ModelConfig, Silence};
/// let model = Cnn::new(&ModelConfig::fashion_mnist(), 0, &Device::Cpu)?;
/// let x = candle_core::Tensor::ones((1, 1, 28, 28), candle_core::DType::F32, &Device::Cpu)?;
/// let mut silence = Silence::new(1, (0..250).collect());
/// let out = model.forward(&x, &mut silence, &ForwardCtx::eval())?;
/// assert_eq!(out.hidden[1].sum_all()?.to_scalar::<f32>()?, 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Silence {
    layer: usize,
    units: Vec<usize>,
    mask: Option<Tensor>,
}

impl Silence {
    /// Silences `units` of hidden layer `layer`.
    pub fn new(layer: usize, units: Vec<usize>) -> Self {
        Silence {
            layer,
            units,
            mask: None,
        }
    }

    /// The silenced units.
    pub fn units(&self) -> &[usize] {
        &self.units
    }
}

impl Regularizer for Silence {
    fn name(&self) -> String {
        "silence".into()
    }

    fn modifies_model(&self, _hook: crate::StepHook, _ctx: &crate::StepCtx) -> bool {
        false
    }

    fn activation(&mut self, layer: usize, a: Tensor, _ctx: &ForwardCtx) -> Result<Tensor> {
        if layer != self.layer || self.units.is_empty() {
            return Ok(a);
        }
        let width = a.dim(1)?;
        let rebuild = match &self.mask {
            Some(m) => m.dim(1)? != width || m.device().location() != a.device().location(),
            None => true,
        };
        if rebuild {
            let mut m = vec![1f32; width];
            for &u in &self.units {
                if u >= width {
                    return Err(ModelError::Config(format!(
                        "cannot silence unit {u}: hidden layer {layer} has {width} units"
                    )));
                }
                m[u] = 0.0;
            }
            self.mask = Some(Tensor::from_vec(m, (1, width), a.device())?.to_dtype(a.dtype())?);
        }
        let mask = self.mask.as_ref().expect("mask built above");
        Ok(a.broadcast_mul(mask)?)
    }
}
