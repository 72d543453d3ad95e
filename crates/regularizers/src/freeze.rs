//! The "frozen layers" control (issue #19): no neurogenesis, and the parameters that the
//! published code's neurogenesis leaves untrained — hidden layer `layer`'s incoming weight and
//! bias and the next layer's weight (`fcs.1.weight`, `fcs.1.bias`, `fcs.2.weight` for the
//! default layer 1) — frozen at their initial values for the whole run.
//!
//! In the published code every neurogenesis event replaces the `nn.Parameter`s that Adam holds
//! (quirk (b), [`crate::neurogenesis`]), so after the first event, before the first optimiser
//! step, those three tensors are never trained. This group separates the two effects of the
//! published neurogenesis groups: turnover of units, and two layers that never learn.
use neurogen_model::{Phase, Regularizer, StepCx};
use serde::{Deserialize, Serialize};

use crate::error::RegError;

/// Settings of the frozen-layers control. `Default`: hidden layer 1 (the reference's
/// neurogenesis layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FreezeConfig {
    /// The hidden layer whose incoming weight and bias, and whose outgoing weight, are frozen.
    pub layer: usize,
}

impl Default for FreezeConfig {
    fn default() -> Self {
        Self::reference()
    }
}

impl FreezeConfig {
    /// The paper's neurogenesis layer, `fcs.1`.
    pub fn reference() -> Self {
        FreezeConfig { layer: 1 }
    }
}

/// Freezes the three parameters around hidden layer `layer` at their initial values.
///
/// ```
/// use neurogen_regularizers::{build, Regularizer, RegularizerSet};
/// let set = RegularizerSet::from_specs(["freeze:layer=1"], false)?;
/// assert_eq!(build(&set, 0)?.name(), "freeze");
/// # Ok::<(), neurogen_regularizers::RegError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Freeze {
    config: FreezeConfig,
}

impl Freeze {
    /// The control with `config`.
    pub fn new(config: FreezeConfig) -> Self {
        Freeze { config }
    }
}

impl Regularizer for Freeze {
    fn name(&self) -> String {
        "freeze".into()
    }

    fn on_step(&mut self, phase: Phase, cx: &mut StepCx) -> neurogen_model::Result<()> {
        if phase != Phase::Start {
            return Ok(());
        }
        if self.config.layer >= cx.num_hidden() {
            return Err(RegError::invalid(
                "freeze",
                format!(
                    "layer={} does not exist: the network has hidden layers 0..{}",
                    self.config.layer,
                    cx.num_hidden()
                ),
            )
            .into());
        }
        let (w, b, out) = cx.hidden_param_names(self.config.layer)?;
        for name in [w, b, out] {
            cx.set_frozen(&name, true)?;
        }
        Ok(())
    }
}
