//! The network's shape: input size, convolution channels, hidden widths, class count.
//!
//! Defaults follow Tran et al. (PNAS 2022) and the reference code (`NgnCnn` in
//! `neurodl/cnn.py`): six 3x3 convolutions with 16, 16, 32, 32, 64, 64 channels and padding 1,
//! a 2x2 max-pool after every second one, three hidden fully connected layers of 250 units and
//! a 10-way output layer without bias.
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// Shape of the network. Public fields, `Default` = the paper's CIFAR-10 network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Input channels (3 for CIFAR-10, 1 for Fashion-MNIST).
    pub in_channels: usize,
    /// Input height in pixels.
    pub in_height: usize,
    /// Input width in pixels.
    pub in_width: usize,
    /// Output channels of the convolutions (the paper: six; a max-pool follows every second
    /// one; none makes a multilayer perceptron, see [`ModelConfig::mlp`]).
    pub conv_channels: Vec<usize>,
    /// Widths of the hidden fully connected layers (`fcs.0`, `fcs.1`, ...).
    pub hidden_sizes: Vec<usize>,
    /// Number of classes (output units of `fc3`, which has no bias).
    pub num_classes: usize,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self::cifar10()
    }
}

impl ModelConfig {
    /// The paper's CIFAR-10 network: 3x32x32 input, hidden width 250.
    pub fn cifar10() -> Self {
        ModelConfig {
            in_channels: 3,
            in_height: 32,
            in_width: 32,
            conv_channels: vec![16, 16, 32, 32, 64, 64],
            hidden_sizes: vec![250, 250, 250],
            num_classes: 10,
        }
    }

    /// The reference code's 1-channel variant for Fashion-MNIST (28x28, flattening 64x3x3).
    pub fn fashion_mnist() -> Self {
        ModelConfig {
            in_channels: 1,
            in_height: 28,
            in_width: 28,
            ..Self::cifar10()
        }
    }

    /// The network for a dataset's image shape and class count, with the paper's layers.
    pub fn for_input(channels: usize, height: usize, width: usize, num_classes: usize) -> Self {
        ModelConfig {
            in_channels: channels,
            in_height: height,
            in_width: width,
            num_classes,
            ..Self::cifar10()
        }
    }

    /// A multilayer perceptron on `inputs`-dimensional feature vectors: no convolution, the
    /// input seen as `1 x 1 x inputs`, hidden layers of `hidden` widths, `num_classes` outputs.
    ///
    /// ```
    /// use neurogen_model::ModelConfig;
    /// let cfg = ModelConfig::mlp(784, &[100, 100], 10);
    /// cfg.validate()?;
    /// assert_eq!(cfg.flatten_dim(), 784);
    /// # Ok::<(), neurogen_model::ModelError>(())
    /// ```
    pub fn mlp(inputs: usize, hidden: &[usize], num_classes: usize) -> Self {
        ModelConfig {
            in_channels: 1,
            in_height: 1,
            in_width: inputs,
            conv_channels: Vec::new(),
            hidden_sizes: hidden.to_vec(),
            num_classes,
        }
    }

    /// Sets every hidden layer's width to `width`.
    pub fn with_hidden_width(mut self, width: usize) -> Self {
        for h in &mut self.hidden_sizes {
            *h = width;
        }
        self
    }

    /// Spatial size (height, width) after the convolution stack (floor-halved per pool).
    pub fn conv_output_hw(&self) -> (usize, usize) {
        let pools = self.conv_channels.len() / 2;
        let (mut h, mut w) = (self.in_height, self.in_width);
        for _ in 0..pools {
            h /= 2;
            w /= 2;
        }
        (h, w)
    }

    /// Number of features entering `fcs.0` (64x4x4 = 1024 for CIFAR-10, 64x3x3 = 576 for 28x28).
    pub fn flatten_dim(&self) -> usize {
        let (h, w) = self.conv_output_hw();
        self.conv_channels
            .last()
            .copied()
            .unwrap_or(self.in_channels)
            * h
            * w
    }

    /// Checks that every size is usable and says which is not.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ModelError::Config(m));
        if self.in_channels == 0 {
            return bad("in_channels must be at least 1".into());
        }
        if self.conv_channels.len() % 2 != 0 {
            return bad(format!(
                "conv_channels must hold an even number of layers (a pool follows every second; none makes an MLP), got {:?}",
                self.conv_channels
            ));
        }
        if self.conv_channels.contains(&0) {
            return bad(format!(
                "conv_channels must all be >= 1, got {:?}",
                self.conv_channels
            ));
        }
        let (h, w) = self.conv_output_hw();
        if h == 0 || w == 0 {
            return bad(format!(
                "input {}x{} is too small for {} max-pools",
                self.in_height,
                self.in_width,
                self.conv_channels.len() / 2
            ));
        }
        if self.hidden_sizes.is_empty() || self.hidden_sizes.contains(&0) {
            return bad(format!(
                "hidden_sizes must be non-empty with every width >= 1, got {:?}",
                self.hidden_sizes
            ));
        }
        if self.num_classes < 2 {
            return bad(format!(
                "num_classes must be at least 2, got {}",
                self.num_classes
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_dims_match_reference() {
        assert_eq!(ModelConfig::cifar10().flatten_dim(), 1024);
        assert_eq!(ModelConfig::fashion_mnist().flatten_dim(), 576);
    }

    #[test]
    fn validate_rejects_bad_shapes() {
        let mut c = ModelConfig::cifar10();
        c.hidden_sizes = vec![250, 0];
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("hidden_sizes"));
        let mut c = ModelConfig::cifar10();
        c.in_height = 4;
        assert!(c.validate().unwrap_err().to_string().contains("too small"));
        assert!(ModelConfig::fashion_mnist().validate().is_ok());
        let mut c = ModelConfig::cifar10();
        c.conv_channels = vec![16, 16, 32];
        assert!(c.validate().unwrap_err().to_string().contains("even"));
        assert!(ModelConfig::mlp(10, &[5], 2).validate().is_ok());
        assert!(ModelConfig::mlp(10, &[], 2).validate().is_err());
    }
}
