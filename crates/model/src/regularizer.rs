//! The regulariser plug-in trait: hooks into the forward pass, the loss, and the optimiser step.
//!
//! A training step runs, in this order (see `docs/ARCHITECTURE.md`):
//! 1. [`Regularizer::before_batch`] (may change parameters, e.g. the reference code's
//!    neurogenesis which fires before a minibatch);
//! 2. the forward pass: for every hidden fully connected layer `l`,
//!    `z = fcs[l](x)`, then [`Regularizer::pre_activation`] (e.g. multiplicative neural noise),
//!    `a = relu(z)`, then [`Regularizer::activation`] (e.g. excitability, dropout + max-norm,
//!    unit silencing);
//! 3. the loss: cross-entropy plus every [`Regularizer::loss_term`];
//! 4. backward and the Adam step (whose settings [`Regularizer::configure_optimizer`] may change,
//!    e.g. L2 weight decay);
//! 5. [`Regularizer::after_step`] (may change parameters and the optimiser's per-parameter
//!    state, e.g. neurogenesis turnover).
//!
//! At the end of each epoch, [`Regularizer::end_epoch`] runs.
//!
//! The trait is object-safe: training takes `&mut dyn Regularizer`, and `Box<dyn Regularizer>`
//! implements it too. Every method has a default that does nothing, so a regulariser overrides
//! only the hooks it needs.
//!
//! ```
//! use candle_core::Tensor;
//! use neurogen_model::{ForwardCtx, Regularizer, Result};
//!
//! /// Scales the activations of hidden layer 1 by 0.5 during training.
//! struct Halve;
//!
//! impl Regularizer for Halve {
//!     fn name(&self) -> String {
//!         "halve".into()
//!     }
//!     fn activation(&mut self, layer: usize, x: Tensor, ctx: &ForwardCtx) -> Result<Tensor> {
//!         if ctx.train && layer == 1 {
//!             Ok((x * 0.5)?)
//!         } else {
//!             Ok(x)
//!         }
//!     }
//! }
//! ```
use candle_core::Tensor;

use crate::adam::{Adam, AdamConfig};
use crate::error::Result;
pub use crate::hookplan::HookStep;
use crate::network::Cnn;

/// What a forward-pass hook knows about the pass it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardCtx {
    /// Training (true) or evaluation (false) mode.
    pub train: bool,
    /// Zero-based epoch (0 outside training).
    pub epoch: usize,
    /// Global optimiser step about to be taken (number of steps already taken).
    pub step: usize,
}

impl ForwardCtx {
    /// An evaluation-mode context.
    pub fn eval() -> Self {
        ForwardCtx {
            train: false,
            epoch: 0,
            step: 0,
        }
    }

    /// A training-mode context at `epoch` and global `step`.
    pub fn train(epoch: usize, step: usize) -> Self {
        ForwardCtx {
            train: true,
            epoch,
            step,
        }
    }
}

/// What a step hook knows about where training is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepCtx {
    /// Zero-based epoch.
    pub epoch: usize,
    /// Zero-based minibatch index within the epoch.
    pub batch: usize,
    /// Global optimiser steps taken so far (after the step, for `after_step`).
    pub step: usize,
    /// Minibatches per epoch.
    pub batches_per_epoch: usize,
}

/// The step hooks that may change the model or the optimiser (see
/// [`Regularizer::modifies_model`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepHook {
    /// [`Regularizer::before_batch`].
    BeforeBatch,
    /// [`Regularizer::after_step`].
    AfterStep,
}

/// A regulariser: any combination of forward-pass, loss and optimiser-step hooks.
pub trait Regularizer {
    /// A short name (used in errors, metadata and reports), e.g. `neurogenesis`.
    fn name(&self) -> String;

    /// The regulariser's settings as JSON, stored in checkpoint metadata and metrics.json.
    fn config(&self) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// Changes the optimiser's settings before training starts (e.g. weight decay).
    fn configure_optimizer(&self, _config: &mut AdamConfig) {}

    /// Called once before the first step, with the freshly built optimiser.
    fn start_training(&mut self, _model: &mut Cnn, _optimizer: &mut Adam) -> Result<()> {
        Ok(())
    }

    /// Whether `hook` may change the model or the optimiser's state at the step described by
    /// `ctx` (for [`StepHook::AfterStep`], `ctx.step` counts the step just taken, as in
    /// [`Regularizer::after_step`]).
    ///
    /// Replica training ([`crate::replica`]) keeps K networks in stacked tensors and hands a
    /// regulariser a separate [`Cnn`] and [`Adam`] only at the steps where this is true, so a
    /// regulariser that changes parameters must answer true at those steps. The default, true
    /// at every step, is always correct (only slower with replicas); override it to answer
    /// false where the hook does nothing to the model.
    fn modifies_model(&self, _hook: StepHook, _ctx: &StepCtx) -> bool {
        true
    }

    /// Called before each minibatch's forward pass (may change parameters).
    fn before_batch(
        &mut self,
        _model: &mut Cnn,
        _optimizer: &mut Adam,
        _ctx: &StepCtx,
    ) -> Result<()> {
        Ok(())
    }

    /// Hidden layer `layer`'s pre-activations `z = W x + b`, before the ReLU.
    fn pre_activation(&mut self, _layer: usize, z: Tensor, _ctx: &ForwardCtx) -> Result<Tensor> {
        Ok(z)
    }

    /// Hidden layer `layer`'s activations `relu(z)`, as passed on to the next layer.
    fn activation(&mut self, _layer: usize, a: Tensor, _ctx: &ForwardCtx) -> Result<Tensor> {
        Ok(a)
    }

    /// A term added to the minibatch loss (a scalar tensor), if any.
    fn loss_term(&mut self, _model: &Cnn, _ctx: &StepCtx) -> Result<Option<Tensor>> {
        Ok(None)
    }

    /// Called after each optimiser step; may change parameters and the optimiser's state.
    fn after_step(
        &mut self,
        _model: &mut Cnn,
        _optimizer: &mut Adam,
        _ctx: &StepCtx,
    ) -> Result<()> {
        Ok(())
    }

    /// Called after each epoch (zero-based `epoch` just finished).
    fn end_epoch(&mut self, _model: &mut Cnn, _optimizer: &mut Adam, _epoch: usize) -> Result<()> {
        Ok(())
    }

    /// A summary of what the regulariser did (event counts, ...), stored in metrics.json.
    fn report(&self) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// Whether [`Regularizer::plan_pre_activation`] and [`Regularizer::plan_activation`]
    /// describe this regulariser's training-mode forward hooks (default `false`: replica
    /// training then calls the hooks on each replica's slice, which is always correct but costs
    /// a few operations per replica and hook; see [`crate::hookplan`]).
    fn plans_hooks(&self) -> bool {
        false
    }

    /// What [`Regularizer::pre_activation`] would do in training mode (`ctx.train`) to
    /// activations of shape `dims` (`[batch, width]`), as steps, advancing any random state
    /// exactly as the hook would. Called instead of the hook (never both for one forward pass),
    /// only when [`Regularizer::plans_hooks`] is true. The default (no steps) suits regularisers
    /// without this hook.
    fn plan_pre_activation(
        &mut self,
        _layer: usize,
        _dims: (usize, usize),
        _ctx: &ForwardCtx,
    ) -> Result<Vec<HookStep>> {
        Ok(Vec::new())
    }

    /// As [`Regularizer::plan_pre_activation`], for [`Regularizer::activation`].
    fn plan_activation(
        &mut self,
        _layer: usize,
        _dims: (usize, usize),
        _ctx: &ForwardCtx,
    ) -> Result<Vec<HookStep>> {
        Ok(Vec::new())
    }
}

impl<R: Regularizer + ?Sized> Regularizer for Box<R> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn config(&self) -> serde_json::Value {
        (**self).config()
    }
    fn configure_optimizer(&self, config: &mut AdamConfig) {
        (**self).configure_optimizer(config)
    }
    fn start_training(&mut self, model: &mut Cnn, optimizer: &mut Adam) -> Result<()> {
        (**self).start_training(model, optimizer)
    }
    fn modifies_model(&self, hook: StepHook, ctx: &StepCtx) -> bool {
        (**self).modifies_model(hook, ctx)
    }
    fn before_batch(&mut self, model: &mut Cnn, optimizer: &mut Adam, ctx: &StepCtx) -> Result<()> {
        (**self).before_batch(model, optimizer, ctx)
    }
    fn pre_activation(&mut self, layer: usize, z: Tensor, ctx: &ForwardCtx) -> Result<Tensor> {
        (**self).pre_activation(layer, z, ctx)
    }
    fn activation(&mut self, layer: usize, a: Tensor, ctx: &ForwardCtx) -> Result<Tensor> {
        (**self).activation(layer, a, ctx)
    }
    fn loss_term(&mut self, model: &Cnn, ctx: &StepCtx) -> Result<Option<Tensor>> {
        (**self).loss_term(model, ctx)
    }
    fn after_step(&mut self, model: &mut Cnn, optimizer: &mut Adam, ctx: &StepCtx) -> Result<()> {
        (**self).after_step(model, optimizer, ctx)
    }
    fn end_epoch(&mut self, model: &mut Cnn, optimizer: &mut Adam, epoch: usize) -> Result<()> {
        (**self).end_epoch(model, optimizer, epoch)
    }
    fn report(&self) -> serde_json::Value {
        (**self).report()
    }
    fn plans_hooks(&self) -> bool {
        (**self).plans_hooks()
    }
    fn plan_pre_activation(
        &mut self,
        layer: usize,
        dims: (usize, usize),
        ctx: &ForwardCtx,
    ) -> Result<Vec<HookStep>> {
        (**self).plan_pre_activation(layer, dims, ctx)
    }
    fn plan_activation(
        &mut self,
        layer: usize,
        dims: (usize, usize),
        ctx: &ForwardCtx,
    ) -> Result<Vec<HookStep>> {
        (**self).plan_activation(layer, dims, ctx)
    }
}

/// The regulariser that does nothing: plain training (the paper's control group).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRegularizer;

impl Regularizer for NoRegularizer {
    fn name(&self) -> String {
        "none".into()
    }
    fn modifies_model(&self, _hook: StepHook, _ctx: &StepCtx) -> bool {
        false
    }
    fn plans_hooks(&self) -> bool {
        true
    }
}
