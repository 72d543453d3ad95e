//! Adam with PyTorch's semantics (`torch.optim.Adam`, `amsgrad=False`), with per-parameter state
//! that regularisers can read and reset.
//!
//! For each parameter `p` with gradient `g`, at its own step count `t` (starting at 1):
//! ```text
//! g = g + weight_decay · p                  (L2 penalty, PyTorch's `weight_decay`)
//! m = β1 · m + (1 − β1) · g
//! v = β2 · v + (1 − β2) · g²
//! p = p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + ε)
//! ```
//! Unlike `candle_nn::AdamW`, the default weight decay is 0, the decay is L2 (added to the
//! gradient, not decoupled), and the moments are public so that neurogenesis can reset exactly
//! the rows and columns of new units. Parameters without a gradient are skipped, as in PyTorch.
use std::collections::{BTreeMap, BTreeSet};

use candle_core::backprop::GradStore;
use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::network::Cnn;

/// Adam's settings. `Default` is the paper's: lr 2e-4, betas (0.9, 0.999), eps 1e-8, no decay.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to the denominator for stability.
    pub eps: f64,
    /// L2 penalty added to the gradient (PyTorch's `weight_decay`).
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 2e-4,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

impl AdamConfig {
    /// Checks the ranges PyTorch checks, naming the value that is out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ModelError::Config(m));
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!(
                "learning rate must be a finite number > 0, got {}",
                self.lr
            ));
        }
        for (n, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return bad(format!("{n} must be in [0, 1), got {b}"));
            }
        }
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return bad(format!("eps must be >= 0, got {}", self.eps));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(format!(
                "weight_decay must be >= 0, got {}",
                self.weight_decay
            ));
        }
        Ok(())
    }
}

/// One parameter's optimiser state (PyTorch's `exp_avg`, `exp_avg_sq`, `step`).
#[derive(Debug, Clone)]
pub struct ParamState {
    /// First moment (same shape as the parameter).
    pub m: Tensor,
    /// Second moment (same shape as the parameter).
    pub v: Tensor,
    /// Number of updates applied to this parameter.
    pub step: u64,
}

/// The optimiser.
#[derive(Debug, Clone)]
pub struct Adam {
    config: AdamConfig,
    state: BTreeMap<String, ParamState>,
    frozen: BTreeSet<String>,
}

impl Adam {
    /// A new optimiser with empty state (state is created on a parameter's first update).
    pub fn new(config: AdamConfig) -> Result<Self> {
        config.validate()?;
        Ok(Adam {
            config,
            state: BTreeMap::new(),
            frozen: BTreeSet::new(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// Changes the learning rate.
    pub fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    /// The state of parameter `name`, if it has been updated at least once.
    pub fn state(&self, name: &str) -> Option<&ParamState> {
        self.state.get(name)
    }

    /// Mutable state of parameter `name` (to reset moments of chosen rows or columns).
    pub fn state_mut(&mut self, name: &str) -> Option<&mut ParamState> {
        self.state.get_mut(name)
    }

    /// Replaces (or creates) the state of parameter `name`.
    pub fn set_state(&mut self, name: &str, state: ParamState) {
        self.state.insert(name.to_string(), state);
    }

    /// Names of the parameters that have state, sorted.
    pub fn state_names(&self) -> Vec<String> {
        self.state.keys().cloned().collect()
    }

    /// Stops (true) or resumes (false) updating parameter `name`. A frozen parameter keeps its
    /// value and state; this reproduces optimisers that lost track of a parameter.
    pub fn set_frozen(&mut self, name: &str, frozen: bool) {
        if frozen {
            self.frozen.insert(name.to_string());
        } else {
            self.frozen.remove(name);
        }
    }

    /// Whether parameter `name` is frozen.
    pub fn is_frozen(&self, name: &str) -> bool {
        self.frozen.contains(name)
    }

    /// Applies one update to every parameter of `model` that has a gradient in `grads`.
    pub fn step(&mut self, model: &Cnn, grads: &GradStore) -> Result<()> {
        let c = self.config;
        for (name, var) in model.named_params() {
            if self.frozen.contains(&name) {
                continue;
            }
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let p = var.as_detached_tensor();
            let st = match self.state.get_mut(&name) {
                Some(st) => {
                    if st.m.shape() != p.shape() || st.v.shape() != p.shape() {
                        return Err(ModelError::Config(format!(
                            "optimiser state for {name} has shape {:?} but the parameter has {:?}; resize the state when a layer grows",
                            st.m.dims(),
                            p.dims()
                        )));
                    }
                    st
                }
                None => self.state.entry(name.clone()).or_insert(ParamState {
                    m: p.zeros_like()?,
                    v: p.zeros_like()?,
                    step: 0,
                }),
            };
            st.step += 1;
            // The fused kernel applies the L2 penalty itself: it takes the raw gradient.
            let coef = crate::kernels::AdamCoefficients::new(&c, st.step);
            if let Some((m, v)) =
                crate::kernels::adam_update(var.as_tensor(), g, &st.m, &st.v, &coef)?
            {
                st.m = m;
                st.v = v;
                continue;
            }
            let (np, m, v) = adam_tensor_update(&p, g, &st.m, &st.v, &c, st.step)?;
            st.m = m;
            st.v = v;
            var.set(&np)?;
        }
        Ok(())
    }
}

/// One Adam update of parameter `p` from its raw gradient `g` (the L2 penalty is added here)
/// and moments `m`, `v` at update number `step` (from 1), with tensor ops on any device:
/// returns the new parameter and moments.
pub(crate) fn adam_tensor_update(
    p: &Tensor,
    g: &Tensor,
    m: &Tensor,
    v: &Tensor,
    c: &AdamConfig,
    step: u64,
) -> Result<(Tensor, Tensor, Tensor)> {
    let g = if c.weight_decay != 0.0 {
        (g + (p * c.weight_decay)?)?
    } else {
        g.clone()
    };
    let m = ((m * c.beta1)? + (&g * (1.0 - c.beta1))?)?;
    let v = ((v * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
    let t = step.min(i32::MAX as u64) as i32;
    let bc1 = 1.0 - c.beta1.powi(t);
    let bc2_sqrt = (1.0 - c.beta2.powi(t)).sqrt();
    let denom = ((v.sqrt()? / bc2_sqrt)? + c.eps)?;
    let update = ((&m / &denom)? * (c.lr / bc1))?;
    Ok(((p - update)?, m, v))
}
