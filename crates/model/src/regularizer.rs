//! The regulariser plug-in trait: forward hooks as data, a loss term, optimiser settings, and
//! step hooks that edit their replica in place.
//!
//! The order of the hooks in a training step is stated once, in `docs/ARCHITECTURE.md` ("One
//! training step"). Every method has a default that does nothing and costs nothing, so a
//! regulariser written the obvious way is as fast with 20 replicas as the built-in ones:
//! forward hooks are data ([`HookStep`]s) that the network applies to all replicas in one
//! operation, and step hooks get a [`StepCx`], a view of their own replica inside the stacked
//! model.
//!
//! The trait is object-safe: training takes `&mut [R]` for any `R: Regularizer`, which
//! includes `Box<dyn Regularizer>` and `&mut dyn Regularizer`.
//!
//! ```
//! use neurogen_model::{HookSite, HookStep, Point, Regularizer, Result};
//!
//! /// Scales the activations of hidden layer 1 by 0.5 during training.
//! struct Halve;
//!
//! impl Regularizer for Halve {
//!     fn name(&self) -> String {
//!         "halve".into()
//!     }
//!     fn hook(&mut self, site: &HookSite) -> Result<Vec<HookStep>> {
//!         if site.ctx.train && site.is(1, Point::Activation) {
//!             Ok(vec![HookStep::ScaleUnits(vec![0.5; site.layer.width])])
//!         } else {
//!             Ok(Vec::new())
//!         }
//!     }
//! }
//! ```
use candle_core::{IndexOp, Tensor};

use crate::adam::AdamConfig;
use crate::error::Result;
use crate::hooks::{apply_all, ForwardCtx, HookSite, HookStep, Hooks, LayerInfo, LayerKind, Point};
use crate::net::Cnn;
pub use crate::slot::{StepCtx, StepCx};

/// When a step hook runs (see docs/ARCHITECTURE.md for the whole step).
///
/// More phases may come (`#[non_exhaustive]`): a `match` outside this crate needs a `_`
/// arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Once, before the first step, with the freshly built optimiser (check settings here).
    Start,
    /// Before each minibatch's forward pass (the reference code's neurogenesis fires here).
    BeforeBatch,
    /// After each minibatch's backward pass, before the optimiser step (`ctx.step` counts the
    /// steps taken before this one): the only phase in which [`StepCx::grad`] and
    /// [`StepCx::set_grad`] read and replace this replica's gradients, e.g. A-GEM's projection
    /// (`neurogen_learners::gem`), a sign projection, or a rule that hands the optimiser an
    /// update of its own as the gradient.
    AfterBackward,
    /// After each optimiser step (`ctx.step` counts the step just taken): neurogenesis
    /// turnover.
    AfterStep,
    /// After each epoch's last step (`ctx.epoch` is the epoch just finished), before the
    /// evaluation.
    EndEpoch,
}

/// What a loss term sees: its replica's live parameters and this step's activations.
pub struct LossCx<'a> {
    /// Where training is.
    pub ctx: StepCtx,
    replica: usize,
    net: &'a Cnn,
    hidden: &'a [Tensor],
}

impl<'a> LossCx<'a> {
    pub(crate) fn new(ctx: StepCtx, replica: usize, net: &'a Cnn, hidden: &'a [Tensor]) -> Self {
        LossCx {
            ctx,
            replica,
            net,
            hidden,
        }
    }

    /// Which replica this is.
    pub fn replica(&self) -> usize {
        self.replica
    }

    /// This replica's parameter `name` (PyTorch's shape), differentiable: a term computed from
    /// it reaches the parameter's gradient.
    pub fn param(&self, name: &str) -> Result<Tensor> {
        Ok(self.net.param(name)?.as_tensor().i(self.replica)?)
    }

    /// This replica's activations of hidden layer `layer` after all hooks, `[batch, width]`
    /// (differentiable).
    pub fn hidden(&self, layer: usize) -> Result<Tensor> {
        let h = self.hidden.get(layer).ok_or_else(|| {
            crate::ModelError::Config(format!(
                "hidden layer {layer} does not exist (the network has {})",
                self.hidden.len()
            ))
        })?;
        Ok(h.i(self.replica)?)
    }
}

/// A regulariser: any combination of forward hooks, a loss term, optimiser settings and step
/// hooks (the order in a training step: docs/ARCHITECTURE.md).
pub trait Regularizer {
    /// A short name (used in errors, metadata and reports), e.g. `neurogenesis`.
    fn name(&self) -> String;

    /// Changes the optimiser's settings before training starts (e.g. weight decay).
    fn configure_optimizer(&self, _config: &mut AdamConfig) {}

    /// The steps this regulariser takes at `site` of a forward pass (training or evaluation,
    /// see `site.ctx.train`), e.g. a dropout mask to multiply by. Random draws happen here, once
    /// per call.
    fn hook(&mut self, _site: &HookSite) -> Result<Vec<HookStep>> {
        Ok(Vec::new())
    }

    /// A term added to this replica's minibatch loss (a scalar tensor), if any.
    fn loss_term(&mut self, _cx: &LossCx) -> Result<Option<Tensor>> {
        Ok(None)
    }

    /// A step hook: may read and change this replica's parameters and optimiser state, and in
    /// [`Phase::AfterBackward`] its gradients.
    fn on_step(&mut self, _phase: Phase, _cx: &mut StepCx) -> Result<()> {
        Ok(())
    }

    /// A summary of what the regulariser did (event counts, ...), stored in metrics.json.
    fn report(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

impl<R: Regularizer + ?Sized> Regularizer for Box<R> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn configure_optimizer(&self, config: &mut AdamConfig) {
        (**self).configure_optimizer(config)
    }
    fn hook(&mut self, site: &HookSite) -> Result<Vec<HookStep>> {
        (**self).hook(site)
    }
    fn loss_term(&mut self, cx: &LossCx) -> Result<Option<Tensor>> {
        (**self).loss_term(cx)
    }
    fn on_step(&mut self, phase: Phase, cx: &mut StepCx) -> Result<()> {
        (**self).on_step(phase, cx)
    }
    fn report(&self) -> serde_json::Value {
        (**self).report()
    }
}

impl<R: Regularizer + ?Sized> Regularizer for &mut R {
    fn name(&self) -> String {
        (**self).name()
    }
    fn configure_optimizer(&self, config: &mut AdamConfig) {
        (**self).configure_optimizer(config)
    }
    fn hook(&mut self, site: &HookSite) -> Result<Vec<HookStep>> {
        (**self).hook(site)
    }
    fn loss_term(&mut self, cx: &LossCx) -> Result<Option<Tensor>> {
        (**self).loss_term(cx)
    }
    fn on_step(&mut self, phase: Phase, cx: &mut StepCx) -> Result<()> {
        (**self).on_step(phase, cx)
    }
    fn report(&self) -> serde_json::Value {
        (**self).report()
    }
}

/// One regulariser per replica, as the network's [`Hooks`].
pub struct PerReplica<'a, R>(pub &'a mut [R]);

impl<R: Regularizer> Hooks for PerReplica<'_, R> {
    fn steps(&mut self, replica: usize, site: &HookSite) -> Result<Vec<HookStep>> {
        match self.0.get_mut(replica) {
            Some(r) => r.hook(site),
            None => Err(crate::ModelError::Config(format!(
                "no regulariser for replica {replica} ({} given)",
                self.0.len()
            ))),
        }
    }
}

/// Applies `reg`'s forward hooks at `point` of hidden layer `layer` to that layer's
/// activations `x` (`[batch, width]`) in a forward pass of one's own, and returns the result:
/// dropout with max-norm, neural noise, excitability and k-WTA are each one call in a
/// `candle-nn` model's `forward`, as `candle_nn::Dropout` is. `ctx` says training
/// ([`ForwardCtx::train`]) or evaluation ([`ForwardCtx::eval`]); random draws happen here, as in
/// our network's forward pass, so the same seed gives the same masks.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use neurogen_model::{apply_hooks, ForwardCtx, HookSite, HookStep, Point, Regularizer, Result};
/// struct Halve;
/// impl Regularizer for Halve {
///     fn name(&self) -> String { "halve".into() }
///     fn hook(&mut self, site: &HookSite) -> Result<Vec<HookStep>> {
///         let on = site.ctx.train && site.is(0, Point::Activation);
///         Ok(if on { vec![HookStep::ScaleUnits(vec![0.5; site.layer.width])] } else { vec![] })
///     }
/// }
/// let h = Tensor::ones((2, 3), candle_core::DType::F32, &Device::Cpu)?;
/// let y = apply_hooks(&mut Halve, &h, 0, Point::Activation, ForwardCtx::train(0, 0))?;
/// assert_eq!(y.to_vec2::<f32>()?[1], vec![0.5; 3]);
/// let y = apply_hooks(&mut Halve, &h, 0, Point::Activation, ForwardCtx::eval())?;
/// assert_eq!(y.to_vec2::<f32>()?[1], vec![1.0; 3]);
/// # Ok::<(), neurogen_model::ModelError>(())
/// ```
pub fn apply_hooks<R: Regularizer + ?Sized>(
    reg: &mut R,
    x: &Tensor,
    layer: usize,
    point: Point,
    ctx: ForwardCtx,
) -> Result<Tensor> {
    let (batch, width) = x.dims2().map_err(|_| {
        crate::ModelError::Config(format!(
            "apply_hooks takes a hidden layer's [batch, width] activations, got shape {:?}",
            x.dims()
        ))
    })?;
    let site = HookSite {
        layer: LayerInfo {
            index: layer,
            kind: LayerKind::Hidden,
            width,
        },
        point,
        batch,
        ctx,
    };
    let steps = reg.hook(&site)?;
    if steps.is_empty() {
        return Ok(x.clone());
    }
    Ok(apply_all(&x.unsqueeze(0)?, &[steps])?.squeeze(0)?)
}

/// The regulariser that does nothing: plain training (the paper's control group).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRegularizer;

impl Regularizer for NoRegularizer {
    fn name(&self) -> String {
        "none".into()
    }
}
