//! Silencing chosen units of a hidden layer (for ablation, Morcos et al. 2018; paper Fig. 5B):
//! their activations are set to zero, in training and evaluation alike.
use crate::error::{ModelError, Result};
use crate::hooks::{HookSite, HookStep, Point};
use crate::regularizer::Regularizer;

/// A hook that zeroes units `units` of hidden layer `layer` (after its ReLU and the other
/// hooks before it).
///
/// ```
/// use candle_core::Device;
/// use neurogen_model::{Cnn, ForwardCtx, ModelConfig, PerReplica, Silence};
/// let model = Cnn::new(&ModelConfig::fashion_mnist(), 0, &Device::Cpu)?;
/// let x = candle_core::Tensor::ones((1, 1, 28, 28), candle_core::DType::F32, &Device::Cpu)?;
/// let mut silence = [Silence::new(1, (0..250).collect())];
/// let out = model.forward(&x, &mut PerReplica(&mut silence), &ForwardCtx::eval())?;
/// assert_eq!(out.hidden[1].sum_all()?.to_scalar::<f32>()?, 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Silence {
    layer: usize,
    units: Vec<usize>,
}

impl Silence {
    /// Silences `units` of hidden layer `layer`.
    pub fn new(layer: usize, units: Vec<usize>) -> Self {
        Silence { layer, units }
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

    fn hook(&mut self, site: &HookSite) -> Result<Vec<HookStep>> {
        if !site.is(self.layer, Point::Activation) || self.units.is_empty() {
            return Ok(Vec::new());
        }
        let width = site.layer.width;
        let mut m = vec![1f32; width];
        for &u in &self.units {
            if u >= width {
                return Err(ModelError::Config(format!(
                    "cannot silence unit {u}: hidden layer {} has {width} units",
                    self.layer
                )));
            }
            m[u] = 0.0;
        }
        Ok(vec![HookStep::ScaleUnits(m)])
    }
}
