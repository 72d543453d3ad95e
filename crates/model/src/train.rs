//! The training loop, one for any number of replicas K ≥ 1 (a single network is K = 1):
//! seeded minibatches, cross-entropy, Adam, regulariser hooks, evaluation.
//!
//! The order of one step is stated once, in docs/ARCHITECTURE.md ("One training step"). The
//! minibatch order of epoch `e` for replica `r` is `neurogen_data::epoch_batches(n,
//! batch_size, seed_r, e)`; like the reference code's `DataLoader(drop_last=True)`, a last
//! partial minibatch is dropped when at least one full one exists. Each replica's loss is its
//! own mean cross-entropy (plus its regulariser's loss term), and the loss that is
//! backpropagated is their sum, so each replica's gradient is exactly its own run's. A replica
//! whose loss or weights become non-finite, or whose hooks fail, stops with its error while the
//! others train on. The losses are read back to the host every
//! [`TrainConfig::loss_readback`] steps (every step on the CPU, every [`GPU_LOSS_READBACK`] on a
//! GPU, where each readback waits for the device); the interval changes no result. Evaluation runs the regulariser's hooks in evaluation mode, so a
//! regulariser that acts at test time too (the reference's dropout max-norm) is evaluated as it
//! was trained.
use std::time::Instant;

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor};
use neurogen_data::{epoch_batches, Split};
use serde::{Deserialize, Serialize};

use crate::adam::{Adam, AdamConfig};
use crate::error::{ModelError, Result};
use crate::eval::{check_finite_weights, evaluate_with};
use crate::hooks::{ForwardCtx, HookSite, HookStep, Hooks};
use crate::loss::cross_entropy;
use crate::metrics::{EpochMetrics, EvalResult, TrainMetrics};
use crate::net::Cnn;
use crate::regularizer::{LossCx, PerReplica, Phase, Regularizer};
use crate::runtime;
use crate::slot::{Staging, StepCtx, StepCx};

/// Minibatch size of every evaluation pass (it does not change results: evaluation-mode hooks
/// that depend on the minibatch, such as dropout's max-norm, act per block of examples of their
/// own).
pub const EVAL_BATCH: usize = 500;

/// Settings of a training run. `Default` is the published scripts' default: 14 epochs, batch
/// 4, Adam with lr 2e-4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Number of epochs (the published scripts' default: 14).
    pub epochs: usize,
    /// Minibatch size (paper: 4).
    pub batch_size: usize,
    /// Adam settings (paper: lr 2e-4, no weight decay).
    pub adam: AdamConfig,
    /// Seed of the minibatch order.
    pub seed: u64,
    /// Evaluate on the held-out split after every epoch (otherwise only at the end).
    pub eval_every_epoch: bool,
    /// Also evaluate on the whole training split at the end (eval mode).
    pub eval_train_at_end: bool,
    /// Minibatch size used for evaluation (does not change results).
    pub eval_batch_size: usize,
    /// Steps between readbacks of the training losses (`None`: [`default_loss_readback`] of
    /// the device, 1 on the CPU). Results do not depend on it; above 1 the losses stay on the
    /// device for that many steps ([`Trainer::step_deferred`]), which saves a host round trip
    /// per step on a GPU, and a replica that diverges is stopped when they are read (its error
    /// names the step where it diverged, as with 1).
    #[serde(default)]
    pub loss_readback: Option<usize>,
}

/// Steps between loss readbacks on a GPU when [`TrainConfig::loss_readback`] is `None`.
pub const GPU_LOSS_READBACK: usize = 50;

/// How many steps [`train_replicas`] runs between readbacks of the losses on `device` by
/// default: 1 on the CPU (reading a loss costs nothing there, and a diverging replica stops
/// before Adam updates it), [`GPU_LOSS_READBACK`] on a GPU.
pub fn default_loss_readback(device: &Device) -> usize {
    if device.is_cpu() {
        1
    } else {
        GPU_LOSS_READBACK
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 14,
            batch_size: 4,
            adam: AdamConfig::default(),
            seed: 0,
            eval_every_epoch: true,
            eval_train_at_end: true,
            eval_batch_size: EVAL_BATCH,
            loss_readback: None,
        }
    }
}

impl TrainConfig {
    /// Checks every setting, naming what is out of range.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(ModelError::Config("epochs must be at least 1".into()));
        }
        if self.batch_size == 0 {
            return Err(ModelError::Config("batch size must be at least 1".into()));
        }
        if self.eval_batch_size == 0 {
            return Err(ModelError::Config(
                "evaluation batch size must be at least 1".into(),
            ));
        }
        if self.loss_readback == Some(0) {
            return Err(ModelError::Config(
                "loss readback must be every 1 or more steps".into(),
            ));
        }
        self.adam.validate()
    }
}

/// Receives progress while training (for progress bars and logs). All methods default to no-ops.
pub trait TrainObserver {
    /// After each optimiser step: epoch, batch within epoch, batches per epoch, mean minibatch
    /// loss of the replicas still training.
    fn on_step(&mut self, _epoch: usize, _batch: usize, _batches: usize, _loss: f64) {}
    /// After each epoch (and its evaluation): the live replicas' mean metrics, with the
    /// throughput of all replicas together.
    fn on_epoch(&mut self, _metrics: &EpochMetrics) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;
impl TrainObserver for Silent {}

/// The batches of one epoch, dropping a last partial batch when a full one exists.
pub fn training_batches(n: usize, batch_size: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
    let mut b = epoch_batches(n, batch_size, seed, epoch);
    if b.len() > 1 && b.last().is_some_and(|l| l.len() < batch_size) {
        b.pop();
    }
    b
}

/// The minibatches of all replicas as one upload: replica `r` gets the images `picks[r]` of
/// `split` (every replica the same number). Returns images `[K, batch, C, H, W]` and labels
/// `[K, batch]` (u32), as [`Split::batch`] builds them for one run.
pub fn replica_batch(
    split: &Split,
    picks: &[&[usize]],
    device: &Device,
) -> Result<(Tensor, Tensor)> {
    let k = picks.len();
    let b = picks.first().map_or(0, |p| p.len());
    if k == 0 || picks.iter().any(|p| p.len() != b) {
        return Err(ModelError::Config(format!(
            "replica minibatches must all have one size, got {:?}",
            picks.iter().map(|p| p.len()).collect::<Vec<_>>()
        )));
    }
    let all: Vec<usize> = picks.iter().flat_map(|p| p.iter().copied()).collect();
    let (x, y) = split.batch(&all, device)?;
    let (_, c, h, w) = x.dims4()?;
    Ok((x.reshape((k, b, c, h, w))?, y.reshape((k, b))?))
}

/// One replica's result: its metrics, or the error that stopped it (e.g.
/// [`ModelError::Diverged`]).
pub type ReplicaResult = std::result::Result<TrainMetrics, ModelError>;

/// Trains one network (`model` has K = 1) and returns its metrics and optimiser: the one loop
/// ([`train_replicas`]) for a single replica. A run that diverges or whose regulariser fails
/// returns that error.
///
/// ```
/// use candle_core::Device;
/// use neurogen_data::{ImageShape, Split};
/// use neurogen_model::{train, Cnn, ModelConfig, NoRegularizer, Silent, TrainConfig};
/// // 16 tiny 1x28x28 images (a real run loads CIFAR-10 or Fashion-MNIST with neurogen_data).
/// let shape = ImageShape { channels: 1, height: 28, width: 28 };
/// let images: Vec<u8> = (0..16 * 784).map(|i| (i * 7 % 251) as u8).collect();
/// let labels: Vec<u8> = (0..16).map(|i| (i % 10) as u8).collect();
/// let split = Split::new(shape, images, labels)?;
/// let mut model = Cnn::new(&ModelConfig::fashion_mnist().with_hidden_width(16), 0, &Device::Cpu)?;
/// let cfg = TrainConfig { epochs: 1, ..TrainConfig::default() };
/// let (metrics, _adam) = train(&mut model, &split, Some(("train", &split)), &cfg, &mut NoRegularizer, &mut Silent)?;
/// assert_eq!(metrics.steps, 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn train(
    model: &mut Cnn,
    train: &Split,
    eval: Option<(&str, &Split)>,
    config: &TrainConfig,
    reg: &mut dyn Regularizer,
    observer: &mut dyn TrainObserver,
) -> Result<(TrainMetrics, Adam)> {
    if model.replicas() != 1 {
        return Err(ModelError::Config(format!(
            "train takes one network, this model has {} replicas: use train_replicas",
            model.replicas()
        )));
    }
    let (mut runs, adam) = train_replicas(
        model,
        train,
        eval,
        std::slice::from_ref(config),
        std::slice::from_mut(&mut &mut *reg),
        observer,
    )?;
    Ok((runs.remove(0)?, adam))
}

/// One training step of K replicas at a time, as [`train_replicas`] runs it (the benchmarks
/// time exactly this): step hooks before the batch, forward with hooks, loss, backward, step
/// hooks on the gradients, Adam, step hooks after the step. A replica whose loss is non-finite or whose hook fails is stopped
/// (see [`Trainer::failures`]); the others go on.
pub struct Trainer<'a, R> {
    net: &'a mut Cnn,
    opt: Adam,
    regs: &'a mut [R],
    failed: Vec<Option<ModelError>>,
}

impl<'a, R: Regularizer> Trainer<'a, R> {
    /// A trainer of `net`'s replicas with Adam `config` (after the regularisers'
    /// [`Regularizer::configure_optimizer`], which the caller applies) and one regulariser per
    /// replica; runs the [`Phase::Start`] hooks.
    pub fn new(net: &'a mut Cnn, config: AdamConfig, regs: &'a mut [R]) -> Result<Self> {
        let k = net.replicas();
        if regs.len() != k {
            return Err(ModelError::Config(format!(
                "{} regularisers given for {k} replicas",
                regs.len()
            )));
        }
        let mut t = Trainer {
            net,
            opt: Adam::new(config, k)?,
            regs,
            failed: (0..k).map(|_| None).collect(),
        };
        t.phase(
            Phase::Start,
            StepCtx {
                epoch: 0,
                batch: 0,
                step: 0,
                batches_per_epoch: 0,
            },
        )?;
        Ok(t)
    }

    /// A trainer that goes on with an optimiser of an earlier trainer (its moments and step
    /// counts, see [`Trainer::into_optimizer`]), without running the [`Phase::Start`] hooks
    /// again: for learners that take one step at a time between other work (the
    /// class-incremental harness of `neurogen-learners`).
    pub fn resume(net: &'a mut Cnn, opt: Adam, regs: &'a mut [R]) -> Result<Self> {
        let k = net.replicas();
        if regs.len() != k || opt.replicas() != k {
            return Err(ModelError::Config(format!(
                "{} regularisers and an optimiser of {} replicas given for {k} replicas",
                regs.len(),
                opt.replicas()
            )));
        }
        Ok(Trainer {
            net,
            opt,
            regs,
            failed: (0..k).map(|_| None).collect(),
        })
    }

    /// The optimiser, to resume with later ([`Trainer::resume`]).
    pub fn into_optimizer(self) -> Adam {
        self.opt
    }

    /// Which replicas are still training.
    pub fn live(&self) -> Vec<bool> {
        self.failed.iter().map(|f| f.is_none()).collect()
    }

    /// What stopped each replica (None: still training).
    pub fn failures(&self) -> &[Option<ModelError>] {
        &self.failed
    }

    fn fail(&mut self, r: usize, e: ModelError) {
        if self.failed[r].is_none() {
            self.failed[r] = Some(e);
        }
    }

    /// Runs every live replica's step hook of `phase`, then commits what they changed.
    /// [`Phase::AfterBackward`] runs only inside a step, with the step's gradients: asking for
    /// it here is an error.
    pub fn phase(&mut self, phase: Phase, ctx: StepCtx) -> Result<()> {
        if phase == Phase::AfterBackward {
            return Err(ModelError::Config(
                "Phase::AfterBackward runs inside a training step, with its gradients (Trainer::step)"
                    .into(),
            ));
        }
        self.run_phase(phase, ctx, None)
    }

    /// [`Trainer::phase`], with the step's gradients in [`Phase::AfterBackward`]: replaced
    /// gradients are written into `grads` before anything else is committed.
    fn run_phase(
        &mut self,
        phase: Phase,
        ctx: StepCtx,
        grads: Option<&mut GradStore>,
    ) -> Result<()> {
        let mut staged = Staging::default();
        for r in 0..self.regs.len() {
            if self.failed[r].is_some() {
                continue;
            }
            let mut cx = StepCx::new(ctx, r, self.net, &self.opt, grads.as_deref(), &mut staged);
            if let Err(e) = self.regs[r].on_step(phase, &mut cx) {
                self.fail(r, e);
            }
        }
        if let Some(g) = grads {
            staged.commit_grads(self.net, g)?;
        }
        if staged.is_empty() {
            return Ok(());
        }
        let stopped: Vec<bool> = self.failed.iter().map(Option::is_some).collect();
        staged.commit(self.net, &mut self.opt, &stopped)
    }

    /// One optimiser step on images `x` (`[K, batch, C, H, W]`, each replica its own minibatch)
    /// and labels `y` (`[K, batch]`) at `ctx` (`ctx.step` = steps taken before this one): the
    /// [`Phase::BeforeBatch`] hooks, forward, loss, backward, the [`Phase::AfterBackward`]
    /// hooks, Adam, the [`Phase::AfterStep`] hooks. Returns each replica's loss (cross-entropy plus loss term) and whether it was
    /// still training at this step. The losses are read back before the backward pass, so a
    /// replica whose loss is non-finite stops before Adam touches its weights.
    pub fn step(&mut self, x: &Tensor, y: &Tensor, ctx: StepCtx) -> Result<Vec<(f64, bool)>> {
        let (total, pending) = self.forward_loss(x, y, ctx)?;
        let read = self.settle(vec![pending])?.remove(0);
        self.backward_update(&total, ctx)?;
        Ok(read.losses)
    }

    /// The same step as [`Trainer::step`] without reading the losses back: they stay on the
    /// device in the returned [`PendingLosses`] until [`Trainer::settle`] reads several steps'
    /// worth at once (on a GPU, one host round trip instead of one per step). Every replica
    /// that is training takes its Adam step, so a replica whose loss became non-finite goes on
    /// (with non-finite weights) until its pending losses are settled; `settle` then stops it
    /// with the [`ModelError::Diverged`] of the step where its loss first was non-finite, the
    /// error `step` would have given.
    pub fn step_deferred(&mut self, x: &Tensor, y: &Tensor, ctx: StepCtx) -> Result<PendingLosses> {
        let (total, pending) = self.forward_loss(x, y, ctx)?;
        self.backward_update(&total, ctx)?;
        Ok(pending)
    }

    /// Reads the losses of `pending` steps (from [`Trainer::step_deferred`], in the order they
    /// ran) with one transfer, stops each replica whose loss was non-finite at the first such
    /// step, and returns every step's losses as [`Trainer::step`] returns them.
    pub fn settle(&mut self, pending: Vec<PendingLosses>) -> Result<Vec<SettledStep>> {
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        let k = self.regs.len();
        let ce: Vec<Vec<f64>> = Tensor::stack(
            &pending
                .iter()
                .map(|p| p.cross_entropy.clone())
                .collect::<Vec<_>>(),
            0,
        )?
        .to_dtype(DType::F64)?
        .to_vec2()?;
        let term_tensors: Vec<Tensor> = pending
            .iter()
            .flat_map(|p| p.terms.iter().flatten().cloned())
            .collect();
        let mut terms = if term_tensors.is_empty() {
            Vec::new()
        } else {
            Tensor::stack(&term_tensors, 0)?
                .to_dtype(DType::F64)?
                .to_vec1::<f64>()?
        }
        .into_iter();
        let mut diverged = vec![false; k];
        let mut out = Vec::with_capacity(pending.len());
        for (p, ce) in pending.iter().zip(ce) {
            let mut losses = Vec::with_capacity(k);
            for (r, mut l) in ce.into_iter().enumerate().take(k) {
                if p.terms[r].is_some() {
                    l += terms.next().unwrap_or(f64::NAN);
                }
                let mut live = p.live[r] && !diverged[r];
                if live && !l.is_finite() {
                    // The first non-finite loss is what stopped this replica, even if a later
                    // deferred step recorded another error for it.
                    self.failed[r] = Some(ModelError::Diverged {
                        epoch: p.ctx.epoch,
                        step: p.ctx.step,
                        what: format!("loss is {l}"),
                    });
                    diverged[r] = true;
                    live = false;
                }
                losses.push((l, live));
            }
            out.push(SettledStep { ctx: p.ctx, losses });
        }
        Ok(out)
    }

    /// Steps 1–3 of a training step: the [`Phase::BeforeBatch`] hooks, forward, each live
    /// replica's loss; returns the summed loss to backpropagate and the per-replica losses.
    fn forward_loss(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        ctx: StepCtx,
    ) -> Result<(Tensor, PendingLosses)> {
        let (epoch, step) = (ctx.epoch, ctx.step);
        self.phase(Phase::BeforeBatch, ctx)?;
        // A replica whose forward hook fails stops here (and takes no more hook steps); the
        // others go on.
        let out = self.net.forward(
            x,
            &mut Guarded {
                hooks: PerReplica(&mut *self.regs),
                failed: &mut self.failed,
            },
            &ForwardCtx::train(epoch, step),
        )?;
        let losses = cross_entropy(&out.logits, y)?;
        let mut total = losses.sum_all()?;
        let mut terms = Vec::with_capacity(self.regs.len());
        for r in 0..self.regs.len() {
            if self.failed[r].is_some() {
                terms.push(None);
                continue;
            }
            let cx = LossCx::new(ctx, r, self.net, &out.hidden);
            match self.regs[r].loss_term(&cx) {
                Ok(Some(term)) => {
                    terms.push(Some(term.detach()));
                    total = (total + term)?;
                }
                Ok(None) => terms.push(None),
                Err(e) => {
                    self.fail(r, e);
                    terms.push(None);
                }
            }
        }
        let pending = PendingLosses {
            ctx,
            cross_entropy: losses.detach(),
            terms,
            live: self.live(),
        };
        Ok((total, pending))
    }

    /// Steps 4–6: backward of `total`, the [`Phase::AfterBackward`] hooks on the gradients,
    /// Adam for the replicas still training, the [`Phase::AfterStep`] hooks.
    fn backward_update(&mut self, total: &Tensor, ctx: StepCtx) -> Result<()> {
        if self.live().iter().any(|&l| l) {
            let mut grads = {
                let _cache = runtime::cuda_param_cache(self.net.device());
                total.backward()?
            };
            self.run_phase(Phase::AfterBackward, ctx, Some(&mut grads))?;
            // A replica whose gradient hook failed takes no step.
            let live = self.live();
            if !live.iter().any(|&l| l) {
                return Ok(());
            }
            self.opt.step(self.net.named_params(), &grads, &live)?;
            self.phase(
                Phase::AfterStep,
                StepCtx {
                    step: ctx.step + 1,
                    ..ctx
                },
            )?;
        }
        Ok(())
    }
}

/// One step's losses still on the device ([`Trainer::step_deferred`]); [`Trainer::settle`]
/// reads them.
#[derive(Debug)]
pub struct PendingLosses {
    ctx: StepCtx,
    /// Each replica's mean cross-entropy, `[K]`, detached from the graph.
    cross_entropy: Tensor,
    /// Each replica's loss term (a detached scalar), where its regulariser adds one.
    terms: Vec<Option<Tensor>>,
    /// Which replicas were training when the loss was computed.
    live: Vec<bool>,
}

/// One step's losses as read back by [`Trainer::settle`].
#[derive(Debug, Clone, PartialEq)]
pub struct SettledStep {
    /// Where the step ran.
    pub ctx: StepCtx,
    /// Each replica's loss (cross-entropy plus loss term) and whether it was still training at
    /// this step, as [`Trainer::step`] returns them.
    pub losses: Vec<(f64, bool)>,
}

/// The regularisers' forward hooks, where a replica's error stops that replica only: it is
/// recorded in `failed`, and a stopped replica's activations pass unchanged.
struct Guarded<'r, H> {
    hooks: H,
    failed: &'r mut [Option<ModelError>],
}

impl<H: Hooks> Hooks for Guarded<'_, H> {
    fn steps(&mut self, replica: usize, site: &HookSite) -> Result<Vec<HookStep>> {
        if self.failed.get(replica).is_some_and(Option::is_some) {
            return Ok(Vec::new());
        }
        match self.hooks.steps(replica, site) {
            Ok(steps) => Ok(steps),
            Err(e) => match self.failed.get_mut(replica) {
                Some(slot) => {
                    *slot = Some(e);
                    Ok(Vec::new())
                }
                None => Err(e),
            },
        }
    }
}

/// Per-replica sums over one epoch.
#[derive(Debug, Clone, Default)]
struct EpochSums {
    loss: f64,
    images: usize,
}

/// Trains the K replicas of `model` (K ≥ 1, see the module documentation): replica `r` trains
/// with `configs[r]` (its seed gives its minibatch order) and regulariser `regs[r]`,
/// evaluating on `eval` after every epoch (or at the end).
///
/// The configurations must agree on everything but the seed, and the optimiser settings after
/// each regulariser's [`Regularizer::configure_optimizer`] must agree too (replicas of one
/// experimental group do). Returns each replica's result (an error that concerns one replica
/// stops only that replica) and the optimiser; the trained weights are in `model`.
///
/// ```
/// use candle_core::Device;
/// use neurogen_data::{ImageShape, Split};
/// use neurogen_model::{train_replicas, Cnn, ModelConfig, NoRegularizer, Silent, TrainConfig};
/// let shape = ImageShape { channels: 1, height: 28, width: 28 };
/// let images: Vec<u8> = (0..16 * 784).map(|i| (i * 7 % 251) as u8).collect();
/// let labels: Vec<u8> = (0..16).map(|i| (i % 10) as u8).collect();
/// let split = Split::new(shape, images, labels)?;
///
/// let seeds = [0u64, 1, 2];
/// let cfg = ModelConfig::fashion_mnist().with_hidden_width(16);
/// let mut model = Cnn::from_seeds(&cfg, &seeds, &Device::Cpu)?;
/// let configs: Vec<TrainConfig> = seeds
///     .iter()
///     .map(|&seed| TrainConfig { epochs: 1, seed, ..TrainConfig::default() })
///     .collect();
/// // One regulariser per replica (e.g. one `neurogen_regularizers::build(&set, seed)` each).
/// let mut regs = [NoRegularizer; 3];
/// let (runs, _adam) = train_replicas(&mut model, &split, Some(("train", &split)), &configs, &mut regs, &mut Silent)?;
/// for run in &runs {
///     let metrics = run.as_ref().expect("trained");
///     assert_eq!(metrics.steps, 4);
///     assert!(metrics.final_eval.is_some());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn train_replicas<R: Regularizer>(
    model: &mut Cnn,
    train: &Split,
    eval: Option<(&str, &Split)>,
    configs: &[TrainConfig],
    regs: &mut [R],
    observer: &mut dyn TrainObserver,
) -> Result<(Vec<ReplicaResult>, Adam)> {
    let k = model.replicas();
    if configs.len() != k || regs.len() != k {
        return Err(ModelError::Config(format!(
            "training needs one config and one regulariser per replica: {k} replicas, {} configs, {} regularisers",
            configs.len(),
            regs.len()
        )));
    }
    let base = &configs[0];
    for (r, c) in configs.iter().enumerate() {
        c.validate()?;
        if (TrainConfig {
            seed: base.seed,
            ..c.clone()
        }) != *base
        {
            return Err(ModelError::Config(format!(
                "replica {r}'s training settings differ from replica 0's in more than the seed: {c:?} vs {base:?}"
            )));
        }
    }
    if train.is_empty() {
        return Err(ModelError::Config("the training split is empty".into()));
    }
    let mut adam_cfg = base.adam;
    regs[0].configure_optimizer(&mut adam_cfg);
    for (r, reg) in regs.iter().enumerate() {
        let mut c = base.adam;
        reg.configure_optimizer(&mut c);
        if c != adam_cfg {
            return Err(ModelError::Config(format!(
                "replica {r}'s regulariser sets the optimiser to {c:?}, replica 0's to {adam_cfg:?}: replicas must share optimiser settings"
            )));
        }
    }
    let device = model.device().clone();
    let every = base
        .loss_readback
        .unwrap_or_else(|| default_loss_readback(&device));
    let mut st = Trainer::new(model, adam_cfg, regs)?;

    let start = Instant::now();
    let mut epochs: Vec<Vec<EpochMetrics>> = vec![Vec::new(); k];
    let mut step = 0usize;
    let mut train_images = vec![0usize; k];
    let mut train_secs = 0.0;
    for epoch in 0..base.epochs {
        if st.failed.iter().all(Option::is_some) {
            break;
        }
        let t0 = Instant::now();
        let batches: Vec<Vec<Vec<usize>>> = configs
            .iter()
            .map(|c| training_batches(train.len(), c.batch_size, c.seed, epoch))
            .collect();
        let nb = batches[0].len();
        let mut sums = vec![EpochSums::default(); k];
        let mut pending = Vec::with_capacity(every.min(nb));
        for bi in 0..nb {
            let ctx = StepCtx {
                epoch,
                batch: bi,
                step,
                batches_per_epoch: nb,
            };
            let picks: Vec<&[usize]> = batches.iter().map(|b| b[bi].as_slice()).collect();
            let (x, y) = replica_batch(train, &picks, &device)?;
            let settled = if every == 1 {
                vec![SettledStep {
                    ctx,
                    losses: st.step(&x, &y, ctx)?,
                }]
            } else {
                pending.push(st.step_deferred(&x, &y, ctx)?);
                if pending.len() == every || bi + 1 == nb {
                    st.settle(std::mem::take(&mut pending))?
                } else {
                    Vec::new()
                }
            };
            step += 1;
            let mut all_stopped = false;
            for s in settled {
                if !s.losses.iter().any(|(_, live)| *live) {
                    // No replica trained at this step: the step does not count.
                    step = s.ctx.step;
                    all_stopped = true;
                    break;
                }
                let mut live_loss = (0.0, 0usize);
                for (r, &(l, live)) in s.losses.iter().enumerate() {
                    if live {
                        sums[r].loss += l;
                        sums[r].images += batches[r][s.ctx.batch].len();
                        live_loss.0 += l;
                        live_loss.1 += 1;
                    }
                }
                observer.on_step(
                    epoch,
                    s.ctx.batch,
                    nb,
                    live_loss.0 / live_loss.1.max(1) as f64,
                );
            }
            if all_stopped {
                break;
            }
        }
        st.phase(
            Phase::EndEpoch,
            StepCtx {
                epoch,
                batch: nb,
                step,
                batches_per_epoch: nb,
            },
        )?;
        for (r, bad) in check_finite_weights(st.net, epoch, step)?
            .into_iter()
            .enumerate()
        {
            if let Some(e) = bad {
                st.fail(r, e);
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        train_secs += secs;
        let evaluate_now = base.eval_every_epoch || epoch + 1 == base.epochs;
        let mut evals: Vec<Option<EvalResult>> = vec![None; k];
        if let (Some((_, split)), true) = (eval, evaluate_now) {
            for (r, e) in evals.iter_mut().enumerate() {
                if st.failed[r].is_none() {
                    let m = st.net.replica(r)?;
                    match evaluate_with(&m, split, base.eval_batch_size, &mut st.regs[r]) {
                        Ok(res) => *e = Some(res),
                        Err(err) => st.fail(r, err),
                    }
                }
            }
        }
        let mut mean = EpochMean::default();
        for r in 0..k {
            train_images[r] += sums[r].images;
            if st.failed[r].is_some() {
                continue;
            }
            let m = EpochMetrics {
                epoch,
                train_loss: sums[r].loss / nb.max(1) as f64,
                eval: evals[r],
                train_seconds: secs,
                images_per_second: sums[r].images as f64 / secs.max(1e-9),
            };
            mean.add(&m);
            epochs[r].push(m);
        }
        let images: usize = sums.iter().map(|s| s.images).sum();
        observer.on_epoch(&mean.finish(epoch, secs, images));
    }

    let mut runs = Vec::with_capacity(k);
    for (r, epoch_metrics) in epochs.into_iter().enumerate() {
        if let Some(e) = st.failed[r].take() {
            runs.push(Err(e));
            continue;
        }
        let final_train = if base.eval_train_at_end {
            let m = st.net.replica(r)?;
            match evaluate_with(&m, train, base.eval_batch_size, &mut st.regs[r]) {
                Ok(e) => Some(e),
                Err(e) => {
                    runs.push(Err(e));
                    continue;
                }
            }
        } else {
            None
        };
        runs.push(Ok(TrainMetrics {
            final_eval: epoch_metrics.last().and_then(|e| e.eval),
            epochs: epoch_metrics,
            eval_split: eval.map(|(n, _)| n.to_string()).unwrap_or_default(),
            final_train,
            steps: step,
            wall_seconds: start.elapsed().as_secs_f64(),
            images_per_second: train_images[r] as f64 / train_secs.max(1e-9),
            regularizer: st.regs[r].report(),
        }));
    }
    Ok((runs, st.opt))
}

/// The mean of the live replicas' epoch metrics (for the observer).
#[derive(Debug, Default)]
struct EpochMean {
    train_loss: f64,
    eval_loss: f64,
    eval_accuracy: f64,
    eval_n: usize,
    evaluated: bool,
    live: usize,
}

impl EpochMean {
    fn add(&mut self, m: &EpochMetrics) {
        self.train_loss += m.train_loss;
        if let Some(e) = m.eval {
            self.eval_loss += e.loss;
            self.eval_accuracy += e.accuracy;
            self.eval_n = e.n;
            self.evaluated = true;
        }
        self.live += 1;
    }

    fn finish(self, epoch: usize, secs: f64, images: usize) -> EpochMetrics {
        let n = self.live.max(1) as f64;
        EpochMetrics {
            epoch,
            train_loss: self.train_loss / n,
            eval: self.evaluated.then_some(EvalResult {
                loss: self.eval_loss / n,
                accuracy: self.eval_accuracy / n,
                n: self.eval_n,
            }),
            train_seconds: secs,
            images_per_second: images as f64 / secs.max(1e-9),
        }
    }
}
