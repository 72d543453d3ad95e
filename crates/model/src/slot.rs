//! A step hook's view of its own replica: read and replace one replica's parameters, optimiser
//! state and (in [`crate::Phase::AfterBackward`]) gradients inside the stacked model, in place,
//! with no copy of the other replicas.
//!
//! Step hooks ([`crate::Regularizer::on_step`]: neurogenesis events, freezing, growth) of all
//! K replicas run one after another, each on its [`StepCx`]. What they write is staged and
//! committed once when every replica's hook has run: each touched parameter (or moment) is
//! rebuilt as one stacked tensor, so a phase costs one copy per touched tensor, whatever K.
//! Within a phase a replica reads back what it staged. A change of shape (additive growth) must
//! be the same in every replica that is still training; replicas that stopped follow them.
//! Replaced gradients are staged the same way and land in the step's gradients before the
//! optimiser reads them.
use std::collections::BTreeMap;

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, IndexOp, Tensor, Var};

use crate::adam::{Adam, ParamState};
use crate::error::{ModelError, Result};
use crate::net::Cnn;
use crate::store::ParamStore;

/// Where training is when a step hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepCtx {
    /// Zero-based epoch.
    pub epoch: usize,
    /// Zero-based minibatch index within the epoch.
    pub batch: usize,
    /// Global optimiser steps taken so far (after the step, for [`crate::Phase::AfterStep`]).
    pub step: usize,
    /// Minibatches per epoch.
    pub batches_per_epoch: usize,
}

/// What replicas write during one phase, committed by [`Staging::commit`].
#[derive(Debug, Default)]
pub(crate) struct Staging {
    params: BTreeMap<String, Vec<Option<Tensor>>>,
    m: BTreeMap<String, Vec<Option<Tensor>>>,
    v: BTreeMap<String, Vec<Option<Tensor>>>,
    steps: BTreeMap<String, Vec<Option<u64>>>,
    frozen: Vec<(String, usize, bool)>,
    grads: BTreeMap<String, Vec<Option<Tensor>>>,
}

impl Staging {
    fn slot<'m, T: Clone>(
        map: &'m mut BTreeMap<String, Vec<Option<T>>>,
        name: &str,
        k: usize,
    ) -> &'m mut Vec<Option<T>> {
        map.entry(name.to_string()).or_insert_with(|| vec![None; k])
    }

    /// Whether nothing was written.
    pub(crate) fn is_empty(&self) -> bool {
        self.params.is_empty()
            && self.m.is_empty()
            && self.v.is_empty()
            && self.steps.is_empty()
            && self.frozen.is_empty()
    }

    /// Writes the staged gradients into `grads` (each touched gradient rebuilt once as a
    /// stacked tensor; replicas that staged nothing keep theirs, or zeros where the parameter
    /// had no gradient).
    pub(crate) fn commit_grads(&mut self, net: &Cnn, grads: &mut GradStore) -> Result<()> {
        let k = net.replicas();
        for (name, vals) in std::mem::take(&mut self.grads) {
            let var = net.param(&name)?;
            let old = grads.get(var.as_tensor()).cloned();
            let stacked = stack_over(
                &vals,
                |r| match &old {
                    Some(g) => Ok(g.i(r)?),
                    None => Ok(var.as_detached_tensor().i(r)?.zeros_like()?),
                },
                k,
                &name,
            )?;
            grads.insert(var.as_tensor(), stacked);
        }
        Ok(())
    }

    /// Writes everything staged into `net` and `opt`. Replicas marked in `stopped` that did not
    /// stage a value for a parameter whose shape changed take the first live replica's value
    /// (their values no longer matter, but the stacked tensor needs one shape).
    pub(crate) fn commit(self, net: &mut Cnn, opt: &mut Adam, stopped: &[bool]) -> Result<()> {
        let k = net.replicas();
        for (name, r, f) in &self.frozen {
            opt.set_frozen(name, *r, *f)?;
        }
        for (name, mut vals) in self.params {
            let var = net.param(&name)?.clone();
            fill_stopped(&mut vals, stopped, &var)?;
            let stacked = stack_over(&vals, |r| Ok(var.as_detached_tensor().i(r)?), k, &name)?;
            net.set_param(&name, &stacked)?;
        }
        net.check_shapes()?;
        let names: Vec<String> = self
            .m
            .keys()
            .chain(self.v.keys())
            .chain(self.steps.keys())
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let (mut m, mut v, mut steps) = (self.m, self.v, self.steps);
        for name in names {
            let mut ms = m.remove(&name).unwrap_or_else(|| vec![None; k]);
            let mut vs = v.remove(&name).unwrap_or_else(|| vec![None; k]);
            let st = steps.remove(&name).unwrap_or_else(|| vec![None; k]);
            // Replicas whose moments would keep an old shape after others changed it follow the
            // first replica that staged the change.
            let grown = |vals: &mut Vec<Option<Tensor>>| {
                let Some(first) = vals.iter().flatten().next().cloned() else {
                    return;
                };
                for (r, slot) in vals.iter_mut().enumerate() {
                    if slot.is_none() && stopped.get(r).copied().unwrap_or(false) {
                        *slot = Some(first.zeros_like().unwrap_or_else(|_| first.clone()));
                    }
                }
            };
            grown(&mut ms);
            grown(&mut vs);
            if ms.iter().all(Option::is_none) && vs.iter().all(Option::is_none) {
                // Only step counts changed: keep the moments.
                let current = (0..k)
                    .map(|r| opt.state(&name, r))
                    .collect::<Result<Vec<_>>>()?;
                if current.iter().all(Option::is_none) {
                    continue;
                }
                ms = current
                    .iter()
                    .map(|s| s.as_ref().map(|s| s.m.clone()))
                    .collect();
                vs = current
                    .iter()
                    .map(|s| s.as_ref().map(|s| s.v.clone()))
                    .collect();
            }
            opt.replace_state(&name, ms, vs, st)?;
        }
        Ok(())
    }
}

/// A stopped replica that staged nothing follows the first live replica's staged value when
/// the staged values change the parameter's shape.
fn fill_stopped(vals: &mut [Option<Tensor>], stopped: &[bool], var: &Var) -> Result<()> {
    let per = &var.dims()[1..];
    let Some(first) = vals.iter().flatten().next().cloned() else {
        return Ok(());
    };
    if first.dims() == per {
        return Ok(());
    }
    for (r, slot) in vals.iter_mut().enumerate() {
        if slot.is_none() && stopped.get(r).copied().unwrap_or(false) {
            *slot = Some(first.clone());
        }
    }
    Ok(())
}

/// The stacked tensor `[K, ...]` of `vals[r]` where given and `old(r)` elsewhere.
fn stack_over(
    vals: &[Option<Tensor>],
    old: impl Fn(usize) -> Result<Tensor>,
    k: usize,
    name: &str,
) -> Result<Tensor> {
    let mut ts = Vec::with_capacity(k);
    for (r, v) in vals.iter().enumerate() {
        ts.push(match v {
            Some(t) => t.clone(),
            None => old(r)?,
        });
    }
    let shape = ts[0].dims().to_vec();
    if let Some(r) = ts.iter().position(|t| t.dims() != shape.as_slice()) {
        return Err(ModelError::Config(format!(
            "{name} has shape {:?} in replica {r} but {shape:?} in replica 0: replicas must keep one shape (additive growth must add the same number of units to every replica)",
            ts[r].dims()
        )));
    }
    Ok(if ts.len() == 1 {
        ts[0].unsqueeze(0)?
    } else {
        Tensor::stack(&ts, 0)?
    })
}

/// One replica of our stacked model and its optimiser, as a [`ParamStore`]: reads return
/// this replica's values (what it staged, if anything), writes are staged (module docs).
pub(crate) struct ReplicaView<'a> {
    replica: usize,
    net: &'a Cnn,
    opt: &'a Adam,
    grads: Option<&'a GradStore>,
    staged: &'a mut Staging,
}

impl ReplicaView<'_> {
    fn grads_or_err(&self, name: &str) -> Result<&GradStore> {
        self.grads.ok_or_else(|| {
            ModelError::Config(format!(
                "the gradient of {name} was asked for outside Phase::AfterBackward (the only phase with gradients)"
            ))
        })
    }
}

impl ParamStore for ReplicaView<'_> {
    fn dtype(&self) -> DType {
        self.net.dtype()
    }

    fn device(&self) -> &Device {
        self.net.device()
    }

    fn replica(&self) -> usize {
        self.replica
    }

    fn param_names(&self) -> Vec<String> {
        self.net
            .named_params()
            .into_iter()
            .map(|(n, _)| n.to_string())
            .collect()
    }

    fn param(&self, name: &str) -> Result<Tensor> {
        if let Some(Some(t)) = self.staged.params.get(name).map(|v| &v[self.replica]) {
            return Ok(t.clone());
        }
        self.net.value(name, self.replica)
    }

    fn set_param(&mut self, name: &str, value: &Tensor) -> Result<()> {
        let var = self.net.param(name)?;
        if self.grads.is_some() && value.dims() != &var.dims()[1..] {
            return Err(ModelError::Config(format!(
                "{name} cannot change shape in Phase::AfterBackward (from {:?} to {:?}): the step's gradients have the old shape",
                &var.dims()[1..],
                value.dims()
            )));
        }
        let value = value
            .to_dtype(self.net.dtype())?
            .to_device(self.net.device())?
            .detach();
        let k = self.net.replicas();
        Staging::slot(&mut self.staged.params, name, k)[self.replica] = Some(value);
        Ok(())
    }

    fn optim_state(&self, name: &str) -> Result<Option<ParamState>> {
        let r = self.replica;
        let cur = self.opt.state(name, r)?;
        let staged =
            |map: &BTreeMap<String, Vec<Option<Tensor>>>| map.get(name).and_then(|v| v[r].clone());
        let (m, v) = (staged(&self.staged.m), staged(&self.staged.v));
        let step = self.staged.steps.get(name).and_then(|s| s[r]);
        match (cur, m, v) {
            (None, None, None) => Ok(None),
            (cur, m, v) => {
                let m = match m.or_else(|| cur.as_ref().map(|c| c.m.clone())) {
                    Some(m) => m,
                    None => return Ok(None),
                };
                let v = match v.or_else(|| cur.as_ref().map(|c| c.v.clone())) {
                    Some(v) => v,
                    None => return Ok(None),
                };
                Ok(Some(ParamState {
                    m,
                    v,
                    step: step.or(cur.map(|c| c.step)).unwrap_or(0),
                }))
            }
        }
    }

    fn set_optim_state(&mut self, name: &str, state: ParamState) -> Result<()> {
        self.net.param(name)?;
        let k = self.net.replicas();
        let r = self.replica;
        Staging::slot(&mut self.staged.m, name, k)[r] = Some(state.m);
        Staging::slot(&mut self.staged.v, name, k)[r] = Some(state.v);
        Staging::slot(&mut self.staged.steps, name, k)[r] = Some(state.step);
        Ok(())
    }

    fn is_frozen(&self, name: &str) -> bool {
        self.staged
            .frozen
            .iter()
            .rev()
            .find(|(n, r, _)| n == name && *r == self.replica)
            .map_or_else(|| self.opt.is_frozen(name, self.replica), |(_, _, f)| *f)
    }

    fn set_frozen(&mut self, name: &str, frozen: bool) -> Result<()> {
        self.net.param(name)?;
        self.staged
            .frozen
            .push((name.to_string(), self.replica, frozen));
        Ok(())
    }

    fn num_hidden(&self) -> usize {
        self.net.num_hidden()
    }

    fn hidden_param_names(&self, layer: usize) -> Result<(String, String, String)> {
        self.net.hidden_param_names(layer)
    }

    fn has_grads(&self) -> bool {
        self.grads.is_some()
    }

    fn grad(&self, name: &str) -> Result<Option<Tensor>> {
        let var = self.net.param(name)?;
        let grads = self.grads_or_err(name)?;
        if let Some(Some(t)) = self.staged.grads.get(name).map(|v| &v[self.replica]) {
            return Ok(Some(t.clone()));
        }
        Ok(match grads.get(var.as_tensor()) {
            Some(g) => Some(g.i(self.replica)?),
            None => None,
        })
    }

    fn set_grad(&mut self, name: &str, grad: &Tensor) -> Result<()> {
        let var = self.net.param(name)?;
        self.grads_or_err(name)?;
        if grad.dims() != &var.dims()[1..] {
            return Err(ModelError::Config(format!(
                "the gradient of {name} must have the parameter's shape {:?}, got {:?}",
                &var.dims()[1..],
                grad.dims()
            )));
        }
        let grad = grad
            .to_dtype(self.net.dtype())?
            .to_device(self.net.device())?
            .detach();
        let k = self.net.replicas();
        Staging::slot(&mut self.staged.grads, name, k)[self.replica] = Some(grad);
        Ok(())
    }
}

/// What a [`StepCx`] reads and writes through.
enum Backing<'a> {
    /// One replica of our stacked model (our training loop, [`edit_replica`]).
    Replica(ReplicaView<'a>),
    /// Any other store, e.g. a `candle-nn` model's [`crate::VarMapStore`].
    Store(&'a mut dyn ParamStore),
}

/// A step hook's view of the model and its optimiser: one replica of our network inside our
/// training loop, or any [`ParamStore`] (a `candle-nn` model's [`crate::VarMapStore`]) in a
/// loop of one's own ([`StepCx::over`]).
///
/// Reads return the values in PyTorch's shapes (`fcs.1.weight` is `[250, 250]`). In our loop,
/// writes are staged and land in the stacked model when the phase ends (module docs); a
/// `VarMapStore` applies them at once. Every method is also [`ParamStore`]'s, so code written
/// against the trait takes a `StepCx` too.
pub struct StepCx<'a> {
    /// Where training is.
    pub ctx: StepCtx,
    backing: Backing<'a>,
}

impl<'a> StepCx<'a> {
    pub(crate) fn new(
        ctx: StepCtx,
        replica: usize,
        net: &'a Cnn,
        opt: &'a Adam,
        grads: Option<&'a GradStore>,
        staged: &'a mut Staging,
    ) -> Self {
        StepCx {
            ctx,
            backing: Backing::Replica(ReplicaView {
                replica,
                net,
                opt,
                grads,
                staged,
            }),
        }
    }

    /// A step hook's view of `store` at `ctx`: how a training loop of one's own runs our step
    /// hooks (`reg.on_step(Phase::AfterStep, &mut StepCx::over(&mut store, ctx))`).
    ///
    /// ```
    /// use candle_core::{DType, Device};
    /// use candle_nn::{Optimizer, VarBuilder, VarMap};
    /// use neurogen_model::{HiddenLayer, StepCtx, StepCx, VarAdam, VarMapStore};
    /// let varmap = VarMap::new();
    /// let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    /// let _fc1 = candle_nn::linear(4, 8, vb.pp("fc1"))?;
    /// let _out = candle_nn::linear(8, 2, vb.pp("out"))?;
    /// let mut adam = VarAdam::new(varmap.all_vars(), Default::default())?;
    /// let mut store = VarMapStore::new(&varmap, &mut adam, HiddenLayer::chain(&["fc1", "out"]))?;
    /// let ctx = StepCtx { epoch: 0, batch: 0, step: 0, batches_per_epoch: 1 };
    /// let cx = StepCx::over(&mut store, ctx);
    /// assert_eq!(cx.hidden_width(0)?, 8);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn over(store: &'a mut dyn ParamStore, ctx: StepCtx) -> Self {
        StepCx {
            ctx,
            backing: Backing::Store(store),
        }
    }

    fn store(&self) -> &dyn ParamStore {
        match &self.backing {
            Backing::Replica(v) => v,
            Backing::Store(s) => &**s,
        }
    }

    fn store_mut(&mut self) -> &mut dyn ParamStore {
        match &mut self.backing {
            Backing::Replica(v) => v,
            Backing::Store(s) => &mut **s,
        }
    }

    /// Which replica this is (0 for a model of its own).
    pub fn replica(&self) -> usize {
        self.store().replica()
    }

    /// The parameters' floating-point type.
    pub fn dtype(&self) -> DType {
        self.store().dtype()
    }

    /// The parameters' device.
    pub fn device(&self) -> &Device {
        self.store().device()
    }

    /// Number of hidden layers.
    pub fn num_hidden(&self) -> usize {
        self.store().num_hidden()
    }

    /// Width of hidden layer `layer` (after what this replica staged).
    pub fn hidden_width(&self, layer: usize) -> Result<usize> {
        self.store().hidden_width(layer)
    }

    /// The names of every parameter, in the network's order (PyTorch's names, e.g.
    /// `fcs.0.weight`).
    pub fn param_names(&self) -> Vec<String> {
        self.store().param_names()
    }

    /// Names of hidden layer `layer`'s parameters: `(incoming weight, bias, outgoing weight)`.
    pub fn hidden_param_names(&self, layer: usize) -> Result<(String, String, String)> {
        self.store().hidden_param_names(layer)
    }

    /// This replica's value of parameter `name` (detached; what it staged, if anything).
    pub fn param(&self, name: &str) -> Result<Tensor> {
        self.store().param(name)
    }

    /// Replaces this replica's value of parameter `name` (PyTorch's shape). The shape may
    /// change only for hidden layers' parameters of our network, alike in every replica
    /// (additive growth).
    pub fn set_param(&mut self, name: &str, value: &Tensor) -> Result<()> {
        self.store_mut().set_param(name, value)
    }

    /// This replica's optimiser state of parameter `name` (what it staged, if anything);
    /// `None` before the parameter's first update.
    pub fn optim_state(&self, name: &str) -> Result<Option<ParamState>> {
        self.store().optim_state(name)
    }

    /// Replaces this replica's optimiser state of parameter `name`.
    pub fn set_optim_state(&mut self, name: &str, state: ParamState) -> Result<()> {
        self.store_mut().set_optim_state(name, state)
    }

    /// Whether this phase has gradients to read and replace: in our loop only
    /// [`crate::Phase::AfterBackward`] has.
    pub fn has_grads(&self) -> bool {
        self.store().has_grads()
    }

    /// This replica's gradient of parameter `name` in PyTorch's shape (what it staged, if
    /// anything), in [`crate::Phase::AfterBackward`]: the gradient of its minibatch loss (plus
    /// loss term), which the optimiser step that follows will use. `None` where the parameter
    /// has no gradient this step (it did not take part in the loss). Other phases have no
    /// gradients: an error.
    pub fn grad(&self, name: &str) -> Result<Option<Tensor>> {
        self.store().grad(name)
    }

    /// Replaces this replica's gradient of parameter `name` (PyTorch's shape) for the optimiser
    /// step that follows, in [`crate::Phase::AfterBackward`]: e.g. a projected gradient (A-GEM),
    /// its sign, or an update rule of the hook's own (a pseudo-gradient). Staged like every
    /// write; the other replicas' gradients are unchanged. A parameter without a gradient this
    /// step gets one (zeros in the other replicas).
    pub fn set_grad(&mut self, name: &str, grad: &Tensor) -> Result<()> {
        self.store_mut().set_grad(name, grad)
    }

    /// Whether the optimiser skips parameter `name` of this replica (after what it staged).
    pub fn is_frozen(&self, name: &str) -> bool {
        self.store().is_frozen(name)
    }

    /// Stops (true) or resumes (false) optimiser updates of parameter `name` of this replica.
    pub fn set_frozen(&mut self, name: &str, frozen: bool) -> Result<()> {
        self.store_mut().set_frozen(name, frozen)
    }
}

impl ParamStore for StepCx<'_> {
    fn dtype(&self) -> DType {
        StepCx::dtype(self)
    }
    fn device(&self) -> &Device {
        StepCx::device(self)
    }
    fn replica(&self) -> usize {
        StepCx::replica(self)
    }
    fn param_names(&self) -> Vec<String> {
        StepCx::param_names(self)
    }
    fn param(&self, name: &str) -> Result<Tensor> {
        StepCx::param(self, name)
    }
    fn set_param(&mut self, name: &str, value: &Tensor) -> Result<()> {
        StepCx::set_param(self, name, value)
    }
    fn optim_state(&self, name: &str) -> Result<Option<ParamState>> {
        StepCx::optim_state(self, name)
    }
    fn set_optim_state(&mut self, name: &str, state: ParamState) -> Result<()> {
        StepCx::set_optim_state(self, name, state)
    }
    fn is_frozen(&self, name: &str) -> bool {
        StepCx::is_frozen(self, name)
    }
    fn set_frozen(&mut self, name: &str, frozen: bool) -> Result<()> {
        StepCx::set_frozen(self, name, frozen)
    }
    fn num_hidden(&self) -> usize {
        StepCx::num_hidden(self)
    }
    fn hidden_param_names(&self, layer: usize) -> Result<(String, String, String)> {
        StepCx::hidden_param_names(self, layer)
    }
    fn hidden_width(&self, layer: usize) -> Result<usize> {
        StepCx::hidden_width(self, layer)
    }
    fn has_grads(&self) -> bool {
        StepCx::has_grads(self)
    }
    fn grad(&self, name: &str) -> Result<Option<Tensor>> {
        StepCx::grad(self, name)
    }
    fn set_grad(&mut self, name: &str, grad: &Tensor) -> Result<()> {
        StepCx::set_grad(self, name, grad)
    }
}

/// Runs `edit` on replica `replica` of `net` with optimiser `opt` (as a step hook would, at
/// `ctx`), then commits what it changed: e.g. a neurogenesis event after training.
///
/// ```
/// use candle_core::Device;
/// use neurogen_model::{edit_replica, Adam, AdamConfig, Cnn, ModelConfig, StepCtx};
/// let mut net = Cnn::new(&ModelConfig::fashion_mnist(), 0, &Device::Cpu)?;
/// let mut adam = Adam::new(AdamConfig::default(), 1)?;
/// let ctx = StepCtx { epoch: 0, batch: 0, step: 0, batches_per_epoch: 1 };
/// edit_replica(&mut net, &mut adam, 0, ctx, |cx| {
///     let w = cx.param("fc3.weight")?;
///     cx.set_param("fc3.weight", &w.zeros_like()?)
/// })?;
/// assert_eq!(net.value("fc3.weight", 0)?.abs()?.sum_all()?.to_scalar::<f32>()?, 0.0);
/// # Ok::<(), neurogen_model::ModelError>(())
/// ```
pub fn edit_replica<T>(
    net: &mut Cnn,
    opt: &mut Adam,
    replica: usize,
    ctx: StepCtx,
    edit: impl FnOnce(&mut StepCx) -> Result<T>,
) -> Result<T> {
    net.check_replica(replica)?;
    if opt.replicas() != net.replicas() {
        return Err(ModelError::Config(format!(
            "the optimiser has {} replicas, the model {}",
            opt.replicas(),
            net.replicas()
        )));
    }
    let mut staged = Staging::default();
    let out = {
        let mut cx = StepCx::new(ctx, replica, net, opt, None, &mut staged);
        edit(&mut cx)?
    };
    let stopped = vec![false; net.replicas()];
    staged.commit(net, opt, &stopped)?;
    Ok(out)
}
