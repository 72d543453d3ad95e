//! Our step hooks on a `candle-nn` model of one's own: [`VarAdam`], Adam over a list of
//! `candle_core::Var`s usable as a [`candle_nn::Optimizer`] whose moments can be read and
//! replaced, and [`VarMapStore`], a [`ParamStore`] over the model's [`candle_nn::VarMap`] and
//! that optimiser.
//!
//! A loop of one's own builds the model from a `VarMap` as usual, swaps `candle_nn::AdamW` for
//! [`VarAdam`] (same `Optimizer` calls; `AdamW` keeps its moments private, so neurogenesis
//! could not reset the new units' moments), and after each `opt.backward_step(&loss)` calls
//! the regulariser's step hook on a [`crate::StepCx::over`] the store:
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use candle_nn::{Module, Optimizer, VarBuilder, VarMap};
//! use neurogen_model::{HiddenLayer, Phase, StepCtx, VarAdam, VarMapStore};
//!
//! // A user's MLP: 4 inputs, a hidden layer of 8, 2 outputs.
//! let varmap = VarMap::new();
//! let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
//! let (fc1, out) = (candle_nn::linear(4, 8, vb.pp("fc1"))?, candle_nn::linear(8, 2, vb.pp("out"))?);
//! let mut opt = VarAdam::new(varmap.all_vars(), Default::default())?;
//! let mut reg = neurogen_model::NoRegularizer; // e.g. neurogen_regularizers::Neurogenesis
//! let x = Tensor::ones((3, 4), DType::F32, &Device::Cpu)?;
//! for step in 1..=2 {
//!     let loss = out.forward(&fc1.forward(&x)?.relu()?)?.sqr()?.mean_all()?;
//!     opt.backward_step(&loss)?;
//!     let ctx = StepCtx { epoch: 0, batch: step - 1, step, batches_per_epoch: 2 };
//!     let layers = HiddenLayer::chain(&["fc1", "out"]);
//!     VarMapStore::new(&varmap, &mut opt, layers)?.on_step(&mut reg, Phase::AfterStep, ctx)?;
//! }
//! assert_eq!(opt.state_of("fc1.weight", &varmap)?.unwrap().step, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`VarAdam`]'s update is [`crate::Adam`]'s (PyTorch's Adam, L2 weight decay, the same fused
//! kernel), so a parameter trained here and the same parameter of one replica of our network
//! get bit-identical updates from bit-identical gradients.
use std::collections::{BTreeMap, HashMap, HashSet};

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, TensorId, Var};
use candle_nn::VarMap;

use crate::adam::{adam_tensor_update, AdamConfig, ParamState};
use crate::error::{ModelError, Result};
use crate::kernels;
use crate::regularizer::{Phase, Regularizer};
use crate::slot::{StepCtx, StepCx};
use crate::store::{HiddenLayer, ParamStore};

/// Adam with PyTorch's semantics ([`crate::adam`]) over a list of `Var`s, as a
/// [`candle_nn::Optimizer`], with per-`Var` state (moments, step count) that can be read,
/// replaced and frozen: what a step hook needs from a `candle-nn` model's optimiser.
#[derive(Debug, Clone)]
pub struct VarAdam {
    config: AdamConfig,
    vars: Vec<Var>,
    state: HashMap<TensorId, ParamState>,
    frozen: HashSet<TensorId>,
}

impl VarAdam {
    /// An optimiser of `vars` (e.g. `varmap.all_vars()`) with `config`, no state yet.
    pub fn new(vars: Vec<Var>, config: AdamConfig) -> Result<Self> {
        config.validate()?;
        let vars = vars.into_iter().filter(|v| v.dtype().is_float()).collect();
        Ok(VarAdam {
            config,
            vars,
            state: HashMap::new(),
            frozen: HashSet::new(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// The state of `var` (a copy), if it has been updated at least once.
    pub fn state(&self, var: &Var) -> Option<ParamState> {
        self.state.get(&var.id()).cloned()
    }

    /// The state of the parameter named `name` in `varmap`.
    pub fn state_of(&self, name: &str, varmap: &VarMap) -> Result<Option<ParamState>> {
        Ok(self.state(&var_named(varmap, name)?))
    }

    /// Replaces (or creates) the state of `var`: the moments must have its shape.
    pub fn set_state(&mut self, var: &Var, state: ParamState) -> Result<()> {
        self.check_known(var)?;
        for (what, t) in [("m", &state.m), ("v", &state.v)] {
            if t.dims() != var.dims() {
                return Err(ModelError::Config(format!(
                    "optimiser state {what} has shape {:?} but the parameter has {:?}",
                    t.dims(),
                    var.dims()
                )));
            }
        }
        let state = ParamState {
            m: state.m.to_dtype(var.dtype())?.to_device(var.device())?,
            v: state.v.to_dtype(var.dtype())?.to_device(var.device())?,
            step: state.step,
        };
        self.state.insert(var.id(), state);
        Ok(())
    }

    /// Whether updates of `var` are stopped.
    pub fn is_frozen(&self, var: &Var) -> bool {
        self.frozen.contains(&var.id())
    }

    /// Stops (true) or resumes (false) updates of `var`; a frozen `Var` keeps its value and
    /// state.
    pub fn set_frozen(&mut self, var: &Var, frozen: bool) -> Result<()> {
        self.check_known(var)?;
        if frozen {
            self.frozen.insert(var.id());
        } else {
            self.frozen.remove(&var.id());
        }
        Ok(())
    }

    fn check_known(&self, var: &Var) -> Result<()> {
        if self.vars.iter().any(|v| v.id() == var.id()) {
            Ok(())
        } else {
            Err(ModelError::Config(format!(
                "a parameter of shape {:?} is not one of this optimiser's {} variables",
                var.dims(),
                self.vars.len()
            )))
        }
    }

    /// One update of every (unfrozen) `Var` that has a gradient in `grads`.
    pub fn update(&mut self, grads: &GradStore) -> Result<()> {
        let c = self.config;
        for var in &self.vars {
            if self.frozen.contains(&var.id()) {
                continue;
            }
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let p = var.as_detached_tensor();
            let st = self.state.entry(var.id()).or_insert(ParamState {
                m: p.zeros_like()?,
                v: p.zeros_like()?,
                step: 0,
            });
            st.step += 1;
            let coef = c.coefficients(st.step);
            if let Some((m, v)) = kernels::adam_update(var.as_tensor(), g, &st.m, &st.v, &coef)? {
                st.m = m;
                st.v = v;
                continue;
            }
            let (np, m, v) = adam_tensor_update(&p, g, &st.m, &st.v, &c, st.step)?;
            var.set(&np)?;
            st.m = m;
            st.v = v;
        }
        Ok(())
    }
}

impl candle_nn::Optimizer for VarAdam {
    type Config = AdamConfig;

    fn new(vars: Vec<Var>, config: AdamConfig) -> candle_core::Result<Self> {
        VarAdam::new(vars, config).map_err(candle_core::Error::wrap)
    }

    fn step(&mut self, grads: &GradStore) -> candle_core::Result<()> {
        self.update(grads).map_err(candle_core::Error::wrap)
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

/// The `Var` named `name` in `varmap`, or an error listing the names.
fn var_named(varmap: &VarMap, name: &str) -> Result<Var> {
    let data = varmap
        .data()
        .lock()
        .map_err(|_| ModelError::Config("the VarMap's lock is poisoned".into()))?;
    data.get(name).cloned().ok_or_else(|| {
        let mut names: Vec<&String> = data.keys().collect();
        names.sort();
        ModelError::Config(format!(
            "no parameter {name} in the VarMap (it has {names:?})"
        ))
    })
}

/// A [`ParamStore`] over a `candle-nn` model's [`VarMap`] and its [`VarAdam`]: what our step
/// hooks (neurogenesis, freezing, ...) read and change in a loop of one's own, through
/// [`crate::StepCx::over`].
///
/// Writes apply at once, in place (`Var::set`), so the model's layers, which hold the same
/// tensors, see them. A parameter cannot change shape (the model's layers would keep the old
/// one): additive growth is an error here. Build one per hook call (it borrows the optimiser).
pub struct VarMapStore<'a> {
    vars: BTreeMap<String, Var>,
    opt: &'a mut VarAdam,
    layers: Vec<HiddenLayer>,
    grads: Option<&'a mut GradStore>,
    dtype: DType,
    device: Device,
}

impl<'a> VarMapStore<'a> {
    /// The store of `varmap`'s parameters, trained by `opt`, whose hidden layers (for
    /// neurogenesis and the other per-unit hooks; hidden layer `l` is `layers[l]`) are
    /// `layers`. Every named parameter must exist and be one of `opt`'s variables.
    pub fn new(varmap: &VarMap, opt: &'a mut VarAdam, layers: Vec<HiddenLayer>) -> Result<Self> {
        let vars: BTreeMap<String, Var> = varmap
            .data()
            .lock()
            .map_err(|_| ModelError::Config("the VarMap's lock is poisoned".into()))?
            .iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        let Some(first) = vars.values().next() else {
            return Err(ModelError::Config("the VarMap holds no parameter".into()));
        };
        let (dtype, device) = (first.dtype(), first.device().clone());
        for l in &layers {
            for name in [&l.weight, &l.bias, &l.next_weight] {
                let var = vars.get(name).ok_or_else(|| {
                    ModelError::Config(format!(
                        "hidden layer parameter {name} is not in the VarMap (it has {:?})",
                        vars.keys().collect::<Vec<_>>()
                    ))
                })?;
                opt.check_known(var)?;
            }
        }
        Ok(VarMapStore {
            vars,
            opt,
            layers,
            grads: None,
            dtype,
            device,
        })
    }

    /// The same store with this step's gradients (between `loss.backward()` and
    /// `opt.step(&grads)`), for hooks that read or replace them.
    pub fn with_grads(mut self, grads: &'a mut GradStore) -> Self {
        self.grads = Some(grads);
        self
    }

    /// Runs `reg`'s step hook for `phase` at `ctx` on this store: the one line a loop of
    /// one's own writes per phase (`Start` once, `BeforeBatch` before each forward pass,
    /// `AfterStep` after each `opt.step`, `EndEpoch` after each epoch).
    pub fn on_step<R: Regularizer + ?Sized>(
        mut self,
        reg: &mut R,
        phase: Phase,
        ctx: StepCtx,
    ) -> Result<()> {
        reg.on_step(phase, &mut StepCx::over(&mut self, ctx))
    }

    fn var(&self, name: &str) -> Result<&Var> {
        self.vars.get(name).ok_or_else(|| {
            ModelError::Config(format!(
                "no parameter {name} in the VarMap (it has {:?})",
                self.vars.keys().collect::<Vec<_>>()
            ))
        })
    }
}

impl ParamStore for VarMapStore<'_> {
    fn dtype(&self) -> DType {
        self.dtype
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn param_names(&self) -> Vec<String> {
        self.vars.keys().cloned().collect()
    }

    fn param(&self, name: &str) -> Result<Tensor> {
        // A copy: `Var::set` refuses a value that shares the variable's storage.
        Ok(self.var(name)?.as_detached_tensor().copy()?)
    }

    fn set_param(&mut self, name: &str, value: &Tensor) -> Result<()> {
        let var = self.var(name)?;
        if value.dims() != var.dims() {
            return Err(ModelError::Config(format!(
                "{name} cannot change shape in a VarMap (from {:?} to {:?}): the model's layers hold the old tensor; additive growth needs our network",
                var.dims(),
                value.dims()
            )));
        }
        var.set(&value.to_dtype(var.dtype())?.to_device(var.device())?)?;
        Ok(())
    }

    fn optim_state(&self, name: &str) -> Result<Option<ParamState>> {
        Ok(self.opt.state(self.var(name)?))
    }

    fn set_optim_state(&mut self, name: &str, state: ParamState) -> Result<()> {
        let var = self.var(name)?.clone();
        self.opt.set_state(&var, state)
    }

    fn is_frozen(&self, name: &str) -> bool {
        self.vars.get(name).is_some_and(|v| self.opt.is_frozen(v))
    }

    fn set_frozen(&mut self, name: &str, frozen: bool) -> Result<()> {
        let var = self.var(name)?.clone();
        self.opt.set_frozen(&var, frozen)
    }

    fn num_hidden(&self) -> usize {
        self.layers.len()
    }

    fn hidden_param_names(&self, layer: usize) -> Result<(String, String, String)> {
        let l = self.layers.get(layer).ok_or_else(|| {
            ModelError::Config(format!(
                "hidden layer {layer} does not exist (the store was given {})",
                self.layers.len()
            ))
        })?;
        Ok((l.weight.clone(), l.bias.clone(), l.next_weight.clone()))
    }

    fn has_grads(&self) -> bool {
        self.grads.is_some()
    }

    fn grad(&self, name: &str) -> Result<Option<Tensor>> {
        let var = self.var(name)?;
        match &self.grads {
            Some(g) => Ok(g.get(var.as_tensor()).cloned()),
            None => Err(ModelError::Config(format!(
                "the gradient of {name} was asked for from a VarMapStore built without with_grads"
            ))),
        }
    }

    fn set_grad(&mut self, name: &str, grad: &Tensor) -> Result<()> {
        let var = self.var(name)?.clone();
        if grad.dims() != var.dims() {
            return Err(ModelError::Config(format!(
                "the gradient of {name} must have the parameter's shape {:?}, got {:?}",
                var.dims(),
                grad.dims()
            )));
        }
        let grad = grad.to_dtype(var.dtype())?.to_device(var.device())?;
        match &mut self.grads {
            Some(g) => {
                g.insert(var.as_tensor(), grad);
                Ok(())
            }
            None => Err(ModelError::Config(format!(
                "the gradient of {name} was replaced in a VarMapStore built without with_grads"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device, Tensor};
    use candle_nn::{Module, Optimizer, VarBuilder};

    use super::*;

    /// A hook in the style of `Phase::AfterBackward` zeroes one gradient through the store; the
    /// optimiser step then leaves that parameter alone and moves the others.
    #[test]
    fn replaced_gradients_reach_the_optimiser_step() {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let fc1 = candle_nn::linear(3, 4, vb.pp("fc1")).unwrap();
        let out = candle_nn::linear(4, 2, vb.pp("out")).unwrap();
        // Fixed weights, not the VarMap's unseeded random init: with random weights all four
        // hidden units could be dead on this input, leaving fc1.bias with a zero gradient.
        for (name, shape, value) in [
            ("fc1.weight", &[4usize, 3][..], 0.1f32),
            ("fc1.bias", &[4][..], 0.5),
            ("out.weight", &[2, 4][..], 0.2),
            ("out.bias", &[2][..], 0.0),
        ] {
            let fixed = Tensor::full(value, shape, &Device::Cpu).unwrap();
            var_named(&varmap, name).unwrap().set(&fixed).unwrap();
        }
        let mut opt = VarAdam::new(varmap.all_vars(), AdamConfig::default()).unwrap();
        let x = Tensor::ones((5, 3), DType::F32, &Device::Cpu).unwrap();
        let loss = out
            .forward(&fc1.forward(&x).unwrap().relu().unwrap())
            .unwrap()
            .sqr()
            .unwrap()
            .mean_all()
            .unwrap();
        let mut grads = loss.backward().unwrap();
        let before = |name: &str| {
            var_named(&varmap, name)
                .unwrap()
                .as_tensor()
                .copy()
                .unwrap()
        };
        let (w0, b0) = (before("fc1.weight"), before("fc1.bias"));
        {
            let mut store =
                VarMapStore::new(&varmap, &mut opt, HiddenLayer::chain(&["fc1", "out"]))
                    .unwrap()
                    .with_grads(&mut grads);
            assert!(store.has_grads());
            let g = store
                .grad("fc1.weight")
                .unwrap()
                .expect("fc1.weight has a gradient");
            store
                .set_grad("fc1.weight", &g.zeros_like().unwrap())
                .unwrap();
            let err = store.set_grad(
                "fc1.weight",
                &Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap(),
            );
            assert!(err.unwrap_err().to_string().contains("shape"));
        }
        opt.step(&grads).unwrap();
        let diff = |a: &Tensor, name: &str| {
            let b = var_named(&varmap, name).unwrap();
            (a - b.as_tensor())
                .unwrap()
                .abs()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        };
        // Adam moves a parameter with a zero gradient by 0 on its first step (m = 0).
        assert_eq!(diff(&w0, "fc1.weight"), 0.0);
        assert!(diff(&b0, "fc1.bias") > 0.0);
        assert_eq!(
            opt.state_of("fc1.weight", &varmap).unwrap().unwrap().step,
            1
        );
        // Without with_grads, gradients are an error naming the parameter.
        let store = VarMapStore::new(&varmap, &mut opt, Vec::new()).unwrap();
        assert!(store
            .grad("fc1.bias")
            .unwrap_err()
            .to_string()
            .contains("fc1.bias"));
    }
}
