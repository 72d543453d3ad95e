//! L2 weight decay as PyTorch's `torch.optim.Adam(weight_decay=λ)`: `λ·p` is added to every
//! parameter's gradient before Adam's moments are updated (the paper: λ = 1e-5). Implemented by
//! setting [`neurogen_model::AdamConfig::weight_decay`] in
//! [`Regularizer::configure_optimizer`].
use neurogen_model::{AdamConfig, Regularizer};
use serde::{Deserialize, Serialize};

use crate::error::RegError;

/// Weight-decay settings. `Default` is the paper's λ = 1e-5.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeightDecayConfig {
    /// The L2 coefficient λ (>= 0).
    pub lambda: f64,
}

impl Default for WeightDecayConfig {
    fn default() -> Self {
        WeightDecayConfig { lambda: 1e-5 }
    }
}

impl WeightDecayConfig {
    /// Checks the range.
    pub fn validate(&self) -> Result<(), RegError> {
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return Err(RegError::invalid(
                "weight-decay",
                format!("lambda must be a finite number >= 0, got {}", self.lambda),
            ));
        }
        Ok(())
    }
}

/// The weight-decay regulariser.
#[derive(Debug, Clone, Copy)]
pub struct WeightDecay {
    config: WeightDecayConfig,
}

impl WeightDecay {
    /// Weight decay with `config`.
    pub fn new(config: WeightDecayConfig) -> Result<Self, RegError> {
        config.validate()?;
        Ok(WeightDecay { config })
    }
}

impl Regularizer for WeightDecay {
    fn name(&self) -> String {
        "weight-decay".into()
    }

    fn configure_optimizer(&self, config: &mut AdamConfig) {
        config.weight_decay = self.config.lambda;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_adam_weight_decay() {
        let mut c = AdamConfig::default();
        WeightDecay::new(WeightDecayConfig::default())
            .unwrap()
            .configure_optimizer(&mut c);
        assert_eq!(c.weight_decay, 1e-5);
        assert!(WeightDecay::new(WeightDecayConfig { lambda: -1.0 }).is_err());
    }
}
