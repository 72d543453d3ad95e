//! k-winner-take-all on hidden layers (the fly model's sparse coding, as a regulariser for the
//! CNN and the MLP): at every forward pass, training and evaluation alike, each example keeps
//! only its `k` most active units of each chosen hidden layer ([`HookStep::TopK`], after the
//! ReLU); the others are set to 0. `k` is a count or a fraction of the layer's width.
//!
//! k-WTA is part of the network's computation rather than noise, so it acts at test time too;
//! in a [`crate::Stack`] built by [`crate::build`] it runs after the other regularisers' hooks.
use neurogen_model::{HookSite, HookStep, LayerKind, Point, Regularizer};
use serde::{Deserialize, Serialize};

use crate::error::RegError;
use crate::units::UnitCount;

/// Settings of [`Kwta`]. `Default`: the top 5 % of every hidden layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KwtaConfig {
    /// Winners per example: a count, or a fraction of the width in (0, 1) (rounded down, at
    /// least 1).
    pub k: UnitCount,
    /// The hidden layer it acts on; None: every hidden layer.
    pub layer: Option<usize>,
}

impl Default for KwtaConfig {
    fn default() -> Self {
        KwtaConfig {
            k: UnitCount::Fraction(0.05),
            layer: None,
        }
    }
}

impl KwtaConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), RegError> {
        self.k.validate("kwta", "k")
    }

    /// Winners in a layer of `width` units.
    pub fn winners(&self, width: usize) -> usize {
        self.k.resolve(width).clamp(1, width.max(1))
    }
}

/// The k-WTA regulariser.
///
/// ```
/// use neurogen_regularizers::{build, Regularizer, RegularizerSet};
/// let set = RegularizerSet::from_specs(["kwta:k=0.05"], false)?;
/// assert_eq!(build(&set, 0)?.name(), "kwta");
/// # Ok::<(), neurogen_regularizers::RegError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Kwta {
    config: KwtaConfig,
}

impl Kwta {
    /// k-WTA with `config` (validated).
    pub fn new(config: KwtaConfig) -> Result<Self, RegError> {
        config.validate()?;
        Ok(Kwta { config })
    }
}

impl Regularizer for Kwta {
    fn name(&self) -> String {
        "kwta".into()
    }

    fn hook(&mut self, site: &HookSite) -> neurogen_model::Result<Vec<HookStep>> {
        // Hidden layers only, never a convolution's feature maps.
        let here = site.point == Point::Activation
            && site.layer.kind == LayerKind::Hidden
            && self
                .config
                .layer
                .is_none_or(|l| site.is(l, Point::Activation));
        Ok(if here {
            vec![HookStep::TopK(self.config.winners(site.layer.width))]
        } else {
            Vec::new()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};
    use neurogen_data::{ImageShape, Split};
    use neurogen_model::{train, Cnn, ForwardCtx, ModelConfig, PerReplica, Silent, TrainConfig};

    fn nonzeros_per_row(t: &Tensor) -> Vec<usize> {
        t.squeeze(0)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap()
            .iter()
            .map(|r| r.iter().filter(|&&v| v != 0.0).count())
            .collect()
    }

    #[test]
    fn cnn_with_kwta_keeps_k_units_and_trains() {
        let cfg = ModelConfig::fashion_mnist().with_hidden_width(40);
        let mut net = Cnn::new(&cfg, 0, &Device::Cpu).unwrap();
        let shape = ImageShape {
            channels: 1,
            height: 28,
            width: 28,
        };
        let images: Vec<u8> = (0..16 * 784).map(|i| (i * 7 % 251) as u8).collect();
        let labels: Vec<u8> = (0..16).map(|i| (i % 10) as u8).collect();
        let split = Split::new(shape, images, labels).unwrap();
        let mut reg = Kwta::new(KwtaConfig {
            k: UnitCount::Fraction(0.1),
            layer: None,
        })
        .unwrap();
        let (x, _) = split.batch(&[0, 1, 2, 3], &Device::Cpu).unwrap();
        let mut regs = [reg];
        let out = net
            .forward(&x, &mut PerReplica(&mut regs), &ForwardCtx::eval())
            .unwrap();
        for h in &out.hidden {
            // 10 % of 40 = 4 winners per example (fewer only if a winner is 0 after the ReLU).
            assert!(nonzeros_per_row(h).iter().all(|&n| n <= 4), "{h}");
            assert!(nonzeros_per_row(h).contains(&4));
        }
        let plain = net
            .forward(&x, &mut neurogen_model::NoHooks, &ForwardCtx::eval())
            .unwrap();
        assert!(nonzeros_per_row(&plain.hidden[0]).iter().any(|&n| n > 4));
        let tc = TrainConfig {
            epochs: 1,
            ..TrainConfig::default()
        };
        let (m, _) = train(
            &mut net,
            &split,
            Some(("train", &split)),
            &tc,
            &mut reg,
            &mut Silent,
        )
        .unwrap();
        assert_eq!(m.steps, 4);
        assert!(m.final_eval.unwrap().loss.is_finite());
        // Only one layer when asked.
        let mut one = Kwta::new(KwtaConfig {
            k: UnitCount::Count(3),
            layer: Some(2),
        })
        .unwrap();
        let out = net
            .forward(
                &x,
                &mut PerReplica(std::slice::from_mut(&mut one)),
                &ForwardCtx::eval(),
            )
            .unwrap();
        assert!(nonzeros_per_row(&out.hidden[2]).iter().all(|&n| n <= 3));
        assert!(Kwta::new(KwtaConfig {
            k: UnitCount::Count(0),
            layer: None
        })
        .is_err());
    }
}
