//! Silencing chosen units of a hidden layer, or feature maps of a convolution (for ablation,
//! Morcos et al. 2018; paper Fig. 5B): their activations are set to zero after the ReLU, in
//! training and evaluation alike.
use crate::error::{ModelError, Result};
use crate::hooks::{HookSite, HookStep, LayerKind, Point};
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
    kind: LayerKind,
    units: Vec<usize>,
}

impl Silence {
    /// Silences `units` of hidden layer `layer`.
    pub fn new(layer: usize, units: Vec<usize>) -> Self {
        Silence {
            layer,
            kind: LayerKind::Hidden,
            units,
        }
    }

    /// Silences feature maps `maps` of convolution `layer` (each map clamped to 0 after its
    /// ReLU, so the max-pool after it passes 0 on too).
    ///
    /// ```
    /// use candle_core::{Device, IndexOp};
    /// use neurogen_model::{Cnn, ModelConfig, NoHooks, PerReplica, Silence};
    /// let model = Cnn::new(&ModelConfig::cifar10(), 0, &Device::Cpu)?;
    /// let x = candle_core::Tensor::ones((2, 3, 32, 32), candle_core::DType::F32, &Device::Cpu)?;
    /// let mut silence = [Silence::feature_maps(5, vec![0, 3])];
    /// let means = model.feature_map_means(&x, &mut PerReplica(&mut silence))?;
    /// // Convolution 5's maps 0 and 3 read 0 for both images.
    /// assert_eq!(means[5].i((0, .., 0))?.to_vec1::<f32>()?, vec![0.0, 0.0]);
    /// assert_eq!(means[5].i((0, .., 3))?.to_vec1::<f32>()?, vec![0.0, 0.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn feature_maps(layer: usize, maps: Vec<usize>) -> Self {
        Silence {
            layer,
            kind: LayerKind::Conv,
            units: maps,
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

    fn hook(&mut self, site: &HookSite) -> Result<Vec<HookStep>> {
        let here = match self.kind {
            LayerKind::Hidden => site.is(self.layer, Point::Activation),
            LayerKind::Conv => site.is_conv(self.layer),
        };
        if !here || self.units.is_empty() {
            return Ok(Vec::new());
        }
        let width = site.layer.width;
        let mut m = vec![1f32; width];
        for &u in &self.units {
            if u >= width {
                return Err(ModelError::Config(match self.kind {
                    LayerKind::Hidden => format!(
                        "cannot silence unit {u}: hidden layer {} has {width} units",
                        self.layer
                    ),
                    LayerKind::Conv => format!(
                        "cannot silence feature map {u}: convolution {} has {width} maps",
                        self.layer
                    ),
                }));
            }
            m[u] = 0.0;
        }
        Ok(vec![HookStep::ScaleUnits(m)])
    }
}
