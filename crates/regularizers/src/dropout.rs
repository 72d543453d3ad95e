//! Dropout followed by max-norm renormalisation, after every hidden fully connected layer, as in
//! the reference code (`NgnCnn.forward`, `neurodl/cnn.py`):
//!
//! ```text
//! x = F.dropout(x, p=self.dropout, training=self.training)
//! x = torch.renorm(x, 1, 1, 3)  # max norm
//! ```
//!
//! - **Dropout** (training only): each activation is kept with probability `1 − p` and scaled
//!   by `1 / (1 − p)` (inverted dropout, PyTorch's `F.dropout`), so its expectation is
//!   unchanged; in evaluation dropout is the identity. Masks are drawn on the CPU from the
//!   regulariser's own seeded generator, then moved to the activations' device.
//! - **Max-norm** ([`crate::renorm_l1`], as [`HookStep::RenormL1`]): every unit whose activations across the minibatch
//!   have an L1 norm above `max_norm` (3) is rescaled to norm `max_norm`. The reference calls
//!   `torch.renorm` unconditionally after `F.dropout`, so **it also runs in evaluation**, where
//!   its effect depends on the evaluation minibatch size (the reference's test loader uses 4);
//!   we renormalise consecutive blocks of [`REFERENCE_EVAL_BATCH`] = 4 examples, so results
//!   match the reference's and do not depend on our evaluation batch size.
//!   `eval_renorm = false` turns it off in evaluation; `max_norm = 0` turns it off entirely.
use neurogen_model::{HookSite, HookStep, LayerKind, Point, Regularizer};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::RegError;

/// Minibatch size of the reference's evaluation loader: in evaluation, max-norm
/// renormalisation acts on consecutive blocks of this many examples.
pub const REFERENCE_EVAL_BATCH: usize = 4;

/// Dropout settings. `Default` is the paper's: p = 0.2, max-norm 3, renorm also in evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DropoutConfig {
    /// Probability of dropping an activation, in [0, 1).
    pub p: f64,
    /// Maximum L1 norm of a unit's activations across the minibatch (0 = no renormalisation).
    pub max_norm: f64,
    /// Renormalise in evaluation too (the reference's behaviour).
    pub eval_renorm: bool,
}

impl Default for DropoutConfig {
    fn default() -> Self {
        DropoutConfig {
            p: 0.2,
            max_norm: 3.0,
            eval_renorm: true,
        }
    }
}

impl DropoutConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), RegError> {
        if !(self.p.is_finite() && (0.0..1.0).contains(&self.p)) {
            return Err(RegError::invalid(
                "dropout",
                format!("p must be in [0, 1), got {}", self.p),
            ));
        }
        if !(self.max_norm.is_finite() && self.max_norm >= 0.0) {
            return Err(RegError::invalid(
                "dropout",
                format!(
                    "max_norm must be a finite number >= 0 (0 turns max-norm off), got {}",
                    self.max_norm
                ),
            ));
        }
        Ok(())
    }
}

/// The dropout + max-norm regulariser.
#[derive(Debug, Clone)]
pub struct Dropout {
    config: DropoutConfig,
    rng: ChaCha8Rng,
}

impl Dropout {
    /// Dropout drawing its masks from `rng`.
    pub fn new(config: DropoutConfig, rng: ChaCha8Rng) -> Result<Self, RegError> {
        config.validate()?;
        Ok(Dropout { config, rng })
    }

    /// The settings.
    pub fn settings(&self) -> &DropoutConfig {
        &self.config
    }

    /// The next `n` mask values (one draw of the generator each).
    fn mask_values(&mut self, n: usize) -> Vec<f32> {
        let keep = 1.0 - self.config.p;
        let scale = (1.0 / keep) as f32;
        (0..n)
            .map(|_| {
                if self.rng.random_bool(keep) {
                    scale
                } else {
                    0.0
                }
            })
            .collect()
    }
}

impl Regularizer for Dropout {
    fn name(&self) -> String {
        "dropout".into()
    }

    fn hook(&mut self, site: &HookSite) -> neurogen_model::Result<Vec<HookStep>> {
        // Every hidden layer's activations; never a convolution's feature maps.
        if site.point != Point::Activation || site.layer.kind != LayerKind::Hidden {
            return Ok(Vec::new());
        }
        let c = self.config;
        let mut steps = Vec::new();
        if site.ctx.train {
            if c.p > 0.0 {
                steps.push(HookStep::Multiply(
                    self.mask_values(site.batch * site.layer.width),
                ));
            }
            if c.max_norm > 0.0 {
                steps.push(HookStep::RenormL1 {
                    max_norm: c.max_norm,
                    block: None,
                });
            }
        } else if c.max_norm > 0.0 && c.eval_renorm {
            // The reference evaluates in minibatches of 4; renormalise each block of
            // REFERENCE_EVAL_BATCH examples on its own so results do not depend on our (larger)
            // evaluation batch size.
            steps.push(HookStep::RenormL1 {
                max_norm: c.max_norm,
                block: Some(REFERENCE_EVAL_BATCH),
            });
        }
        Ok(steps)
    }
}
