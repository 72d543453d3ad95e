//! Replica training: K independent networks of one shape trained together as one batched model.
//!
//! The paper's protocol repeats every training run 20 times with different seeds. At batch 4 a
//! single run cannot fill a GPU (or amortise the per-step overhead on a CPU), so
//! [`train_replicas`] trains K runs in lockstep: every parameter is stored once as a tensor
//! with a leading replica axis (`conv1.weight` is `[K, 16, 3, 3, 3]`), each replica gets its
//! own minibatch (its own seed and order) at every step, and one forward pass, one backward
//! pass and one Adam update serve all K.
//!
//! Each replica's result equals a separate [`crate::train`] run with the same model, seed and
//! regulariser, up to floating-point rounding (`tests/replica.rs` checks this with
//! neurogenesis, dropout and neural noise):
//! - the loss is the sum over replicas of each replica's mean cross-entropy, so each replica's
//!   gradient is exactly its own run's gradient;
//! - Adam's moments and step counts are kept per replica (stacked), and its update is
//!   elementwise;
//! - regularisers are per replica: forward hooks see their replica's `[batch, width]` slice;
//!   step hooks ([`Regularizer::before_batch`], [`Regularizer::after_step`],
//!   [`Regularizer::end_epoch`]) get their replica as a [`Cnn`] and [`Adam`] of its own, handed
//!   out only at the steps where [`Regularizer::modifies_model`] says the hook may change them
//!   (every epoch end), and written back afterwards (hidden layers may grow, if all replicas
//!   grow alike);
//! - a replica whose loss or weights become non-finite is stopped and reported as
//!   [`ModelError::Diverged`] while the others train on (no operation mixes replicas).
//!
//! Convolutions: on the CPU each replica's convolution runs the fused kernel of
//! [`crate::kernels`] on its slice; elsewhere (CUDA, Metal) one im2col of all replicas and one
//! batched matrix product per layer serve all K replicas ([`conv_bias_relu_cnhw`]), so the
//! number of kernel launches per step does not grow with K. Fully connected layers are batched
//! matrix products everywhere; regulariser hooks that describe themselves as data
//! ([`crate::hookplan`]) run batched too, the others on each replica's slice.
//!
//! Loss terms ([`Regularizer::loss_term`]) receive a copy of the replica's network made at the
//! start of the epoch: a term computed from activations kept by the forward hooks (an activity
//! penalty) trains exactly as in a separate run; a term computed from the parameters would not
//! reach them, so training stops with an error naming the regulariser when a term turns out to
//! depend on them.
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, IndexOp, Tensor, Var, D};
use neurogen_data::Split;

use crate::adam::{adam_tensor_update, Adam, AdamConfig, ParamState};
use crate::config::ModelConfig;
use crate::error::{ModelError, Result};
use crate::kernels;
use crate::metrics::{EpochMetrics, EvalResult, TrainMetrics};
use crate::network::Cnn;
use crate::regularizer::{ForwardCtx, Regularizer, StepCtx, StepHook};
use crate::train::{
    check_finite_weights, evaluate_with, training_batches, TrainConfig, TrainObserver,
};

/// K networks of one shape, every parameter stored as one tensor with a leading replica axis.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use neurogen_model::{Cnn, ModelConfig, ReplicaCnn};
/// let cfg = ModelConfig::fashion_mnist();
/// let models = vec![Cnn::new(&cfg, 0, &Device::Cpu)?, Cnn::new(&cfg, 1, &Device::Cpu)?];
/// let net = ReplicaCnn::stack(&models)?;
/// assert_eq!(net.param("conv1.weight")?.dims(), &[2, 16, 1, 3, 3]);
/// // Replica 1 is network 1.
/// let back = net.replica(1)?;
/// let a = back.param("fc3.weight")?.as_tensor().flatten_all()?.to_vec1::<f32>()?;
/// let b = models[1].param("fc3.weight")?.as_tensor().flatten_all()?.to_vec1::<f32>()?;
/// assert_eq!(a, b);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ReplicaCnn {
    config: ModelConfig,
    device: Device,
    dtype: DType,
    replicas: usize,
    /// Parameter names in [`Cnn::named_params`] order.
    names: Vec<String>,
    /// The stacked parameters, `[K, ...]`, in the same order.
    params: Vec<Var>,
}

/// The output of a replica forward pass.
#[derive(Debug, Clone)]
pub struct ReplicaForward {
    /// Class scores, `[K, batch, num_classes]`.
    pub logits: Tensor,
    /// Each hidden layer's activations after all hooks, `[K, batch, width]`.
    pub hidden: Vec<Tensor>,
}

impl ReplicaCnn {
    /// Stacks `models` (at least one, all of the same shape, device and dtype) into one.
    pub fn stack(models: &[Cnn]) -> Result<Self> {
        let first = models.first().ok_or_else(|| {
            ModelError::Config("replica training needs at least one model".into())
        })?;
        for (r, m) in models.iter().enumerate() {
            if m.config() != first.config() {
                return Err(ModelError::Config(format!(
                    "replica {r} has shape {:?}, replica 0 has {:?}: replicas must share one shape",
                    m.config(),
                    first.config()
                )));
            }
            if !m.device().same_device(first.device()) || m.dtype() != first.dtype() {
                return Err(ModelError::Config(format!(
                    "replica {r} is on {:?} in {:?}, replica 0 on {:?} in {:?}",
                    m.device(),
                    m.dtype(),
                    first.device(),
                    first.dtype()
                )));
            }
        }
        let names: Vec<String> = first.named_params().into_iter().map(|(n, _)| n).collect();
        let mut net = ReplicaCnn {
            config: first.config().clone(),
            device: first.device().clone(),
            dtype: first.dtype(),
            replicas: models.len(),
            names,
            params: Vec::new(),
        };
        net.restack(models)?;
        Ok(net)
    }

    /// Replaces every replica's parameters by those of `models` (one per replica, in order).
    /// Hidden layers may have grown, if every replica grew alike.
    pub fn restack(&mut self, models: &[Cnn]) -> Result<()> {
        if models.len() != self.replicas {
            return Err(ModelError::Config(format!(
                "{} models given for {} replicas",
                models.len(),
                self.replicas
            )));
        }
        let per: Vec<Vec<(String, &Var)>> = models.iter().map(|m| m.named_params()).collect();
        let mut params = Vec::with_capacity(self.names.len());
        for (j, name) in self.names.iter().enumerate() {
            let first = per[0][j].1.dims();
            let mut ts = Vec::with_capacity(models.len());
            for (r, p) in per.iter().enumerate() {
                if p[j].1.dims() != first {
                    return Err(ModelError::Config(format!(
                        "{name} has shape {:?} in replica {r} but {first:?} in replica 0: replicas must keep one shape (additive growth must add the same number of units to every replica)",
                        p[j].1.dims()
                    )));
                }
                ts.push(p[j].1.as_detached_tensor());
            }
            let stacked = Tensor::stack(&ts, 0)?;
            match self.params.get(j) {
                Some(v) if v.shape() == stacked.shape() => {
                    v.set(&stacked)?;
                    params.push(v.clone());
                }
                _ => params.push(Var::from_tensor(&stacked)?),
            }
        }
        self.params = params;
        self.config = models[0].config().clone();
        Ok(())
    }

    /// Number of replicas K.
    pub fn replicas(&self) -> usize {
        self.replicas
    }

    /// The shape every replica shares.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The device of the parameters.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The stacked parameters with their names, in [`Cnn::named_params`] order.
    pub fn named_params(&self) -> Vec<(String, &Var)> {
        self.names.iter().cloned().zip(self.params.iter()).collect()
    }

    /// The stacked parameter called `name` (`[K, ...]`).
    pub fn param(&self, name: &str) -> Result<&Var> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|j| &self.params[j])
            .ok_or_else(|| ModelError::UnknownParam(name.to_string()))
    }

    /// A copy of replica `r` as a network of its own.
    pub fn replica(&self, r: usize) -> Result<Cnn> {
        if r >= self.replicas {
            return Err(ModelError::Config(format!(
                "replica {r} does not exist (there are {})",
                self.replicas
            )));
        }
        let tensors = self
            .params
            .iter()
            .map(|p| p.as_detached_tensor().i(r))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Cnn::from_ordered(&self.config, self.dtype, &self.device, tensors)
    }

    /// Every replica as a network of its own.
    pub fn unstack(&self) -> Result<Vec<Cnn>> {
        (0..self.replicas).map(|r| self.replica(r)).collect()
    }

    fn conv(&self, i: usize) -> (&Var, &Var) {
        (&self.params[2 * i], &self.params[2 * i + 1])
    }

    fn fc(&self, l: usize) -> (&Var, &Var) {
        let base = 2 * self.config.conv_channels.len() + 2 * l;
        (&self.params[base], &self.params[base + 1])
    }

    fn out(&self) -> &Var {
        &self.params[self.params.len() - 1]
    }

    /// The convolutional features of every replica: `x` is `[K, batch, C, H, W]` (each
    /// replica's own minibatch), the result `[K, batch, flatten_dim]`.
    pub fn features(&self, x: &Tensor) -> Result<Tensor> {
        let c = &self.config;
        let dims = x.dims();
        if dims.len() != 5
            || dims[0] != self.replicas
            || dims[2] != c.in_channels
            || dims[3] != c.in_height
            || dims[4] != c.in_width
        {
            return Err(ModelError::Config(format!(
                "input has shape {dims:?}; these replicas take [{}, batch, {}, {}, {}]",
                self.replicas, c.in_channels, c.in_height, c.in_width
            )));
        }
        let x = x.to_dtype(self.dtype)?;
        let n_conv = c.conv_channels.len();
        if kernels::kernel_dtype_ok(&x) {
            // CPU: the fused kernel on each replica's slice (no launch cost per call here).
            let mut hs = (0..self.replicas)
                .map(|r| x.i(r))
                .collect::<candle_core::Result<Vec<_>>>()?;
            for i in 0..n_conv {
                let (w, b) = self.conv(i);
                for (r, h) in hs.iter_mut().enumerate() {
                    let mut y = kernels::conv2d_bias_relu(
                        h,
                        &w.as_tensor().i(r)?,
                        &b.as_tensor().i(r)?,
                        1,
                    )?;
                    if i % 2 == 1 {
                        y = kernels::max_pool2x2(&y)?;
                    }
                    *h = y;
                }
            }
            let flat = hs
                .iter()
                .map(|h| h.flatten_from(1))
                .collect::<candle_core::Result<Vec<_>>>()?;
            return Ok(Tensor::stack(&flat, 0)?);
        }
        let _cache = kernels::cuda_param_cache(&self.device);
        let layers = (0..n_conv).map(|i| {
            let (w, b) = self.conv(i);
            (w.as_tensor().clone(), b.as_tensor().clone())
        });
        let h = features_cnhw(&x.transpose(1, 2)?.contiguous()?, layers)?;
        Ok(h.transpose(1, 2)?.contiguous()?.flatten_from(2)?)
    }

    /// The forward pass of every replica, with replica `r`'s hooks from `regs[r]`.
    pub fn forward<R: Regularizer>(
        &self,
        x: &Tensor,
        regs: &mut [R],
        ctx: &ForwardCtx,
    ) -> Result<ReplicaForward> {
        if regs.len() != self.replicas {
            return Err(ModelError::Config(format!(
                "{} regularisers given for {} replicas",
                regs.len(),
                self.replicas
            )));
        }
        let mut h = self.features(x)?;
        let mut hidden = Vec::with_capacity(self.config.hidden_sizes.len());
        // Hooks described as data run batched for all replicas (crate::hookplan).
        let planned = ctx.train && regs.iter().all(|r| r.plans_hooks());
        for l in 0..self.config.hidden_sizes.len() {
            let (w, b) = self.fc(l);
            let z =
                kernels::linear(&h, w.as_tensor())?.broadcast_add(&b.as_tensor().unsqueeze(1)?)?;
            let (_, batch, width) = z.dims3()?;
            let a = if planned {
                let plans = regs
                    .iter_mut()
                    .map(|r| r.plan_pre_activation(l, (batch, width), ctx))
                    .collect::<Result<Vec<_>>>()?;
                let z = crate::hookplan::apply_all(&z, &plans)?;
                let plans = regs
                    .iter_mut()
                    .map(|r| r.plan_activation(l, (batch, width), ctx))
                    .collect::<Result<Vec<_>>>()?;
                crate::hookplan::apply_all(&kernels::relu(&z)?, &plans)?
            } else {
                let z = per_replica(&z, regs, |reg, zr| reg.pre_activation(l, zr, ctx))?;
                per_replica(&kernels::relu(&z)?, regs, |reg, ar| {
                    reg.activation(l, ar, ctx)
                })?
            };
            hidden.push(a.clone());
            h = a;
        }
        let logits = kernels::linear(&h, self.out().as_tensor())?;
        Ok(ReplicaForward { logits, hidden })
    }
}

/// Applies `hook` to each replica's slice of `x` (`[K, ...]`) with that replica's regulariser,
/// and stacks the results. When every hook returns its slice unchanged (no regulariser acts
/// here), `x` itself is returned: slices are views, so nothing was copied and the backward pass
/// does not see them (on a GPU this saves 2K small launches per hook).
fn per_replica<R: Regularizer>(
    x: &Tensor,
    regs: &mut [R],
    mut hook: impl FnMut(&mut R, Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    let mut outs = Vec::with_capacity(regs.len());
    let mut changed = false;
    for (r, reg) in regs.iter_mut().enumerate() {
        let slice = x.i(r)?;
        let id = slice.id();
        let out = hook(reg, slice)?;
        changed |= out.id() != id;
        outs.push(out);
    }
    Ok(if changed {
        Tensor::stack(&outs, 0)?
    } else {
        x.clone()
    })
}

/// The convolutional stack of the paper's CNN (`relu(conv + b)`, a 2x2 max-pool after every
/// second convolution) for K replicas in the layout `[K, C, N, H, W]`; `layers` gives each
/// convolution's weight `[K, Co, Ci, 3, 3]` and bias `[K, Co]`. Returns `[K, C, N, h, w]`.
pub(crate) fn features_cnhw(
    x: &Tensor,
    layers: impl Iterator<Item = (Tensor, Tensor)>,
) -> Result<Tensor> {
    let mut h = x.clone();
    for (i, (w, b)) in layers.enumerate() {
        let (_, _, _, kh, _) = w.dims5()?;
        h = conv_bias_relu_cnhw(&h, &w, &b, kh / 2)?;
        if i % 2 == 1 {
            let (k, ch, n, hh, ww) = h.dims5()?;
            let p = kernels::max_pool2x2(&h.reshape((k * ch, n, hh, ww))?)?;
            let (_, _, h2, w2) = p.dims4()?;
            h = p.reshape((k, ch, n, h2, w2))?;
        }
    }
    Ok(h)
}

/// `relu(conv2d(x, w, padding) + b)` for every replica at once in the layout `[K, C, N, H, W]`
/// (replica, channel, image, row, column): one [`kernels::im2col`] and one batched matrix
/// product for all K replicas, so the number of kernel launches does not grow with K. `x` is
/// `[K, Ci, N, H, W]`, `w` `[K, Co, Ci, kh, kw]`, `b` `[K, Co]`; the result `[K, Co, N, Ho, Wo]`
/// is the next layer's input layout.
///
/// On the CPU and on CUDA (f32) the im2col is neurogen's custom op; elsewhere, and with the
/// kernels switched off on a GPU, candle's own ops build the same matrix (shifted views).
pub fn conv_bias_relu_cnhw(x: &Tensor, w: &Tensor, b: &Tensor, padding: usize) -> Result<Tensor> {
    let (k, ci, n, h, wd) = x.dims5()?;
    let (wk, co, wci, kh, kw) = w.dims5()?;
    if wk != k || wci != ci || b.dims() != [k, co] {
        return Err(ModelError::Config(format!(
            "replica convolution shapes do not fit: input {:?} ([K, C, N, H, W]), weight {:?}, bias {:?}",
            x.dims(),
            w.dims(),
            b.dims()
        )));
    }
    if h + 2 * padding < kh || wd + 2 * padding < kw {
        return Err(ModelError::Config(format!(
            "a {kh}x{kw} kernel with padding {padding} does not fit a {h}x{wd} input"
        )));
    }
    let (ho, wo) = (h + 2 * padding - kh + 1, wd + 2 * padding - kw + 1);
    let cols = if x.device().is_cpu() || kernels::gpu_kernel_ok(x) {
        kernels::im2col(x, kh, kw, padding)?
    } else {
        im2col_candle_ops(x, kh, kw, padding)?
    };
    let y = kernels::relu(
        &w.reshape((k, co, ci * kh * kw))?
            .matmul(&cols)?
            .broadcast_add(&b.unsqueeze(2)?)?,
    )?;
    Ok(y.reshape((k, co, n, ho, wo))?)
}

/// [`kernels::im2col`] from candle ops (zero padding, one shifted view per kernel position,
/// stacked), for devices without neurogen's kernels.
fn im2col_candle_ops(x: &Tensor, kh: usize, kw: usize, padding: usize) -> Result<Tensor> {
    let (k, c, n, h, wd) = x.dims5()?;
    let (ho, wo) = (h + 2 * padding - kh + 1, wd + 2 * padding - kw + 1);
    let xp = x
        .reshape((k * c, n, h, wd))?
        .pad_with_zeros(2, padding, padding)?
        .pad_with_zeros(3, padding, padding)?;
    let mut shifted = Vec::with_capacity(kh * kw);
    for ky in 0..kh {
        for kx in 0..kw {
            shifted.push(xp.narrow(2, ky, ho)?.narrow(3, kx, wo)?);
        }
    }
    // [K·C, kh·kw, N, Ho, Wo]: row c·kh·kw + ky·kw + kx, column (n·Ho + oy)·Wo + ox.
    Ok(Tensor::stack(&shifted, 1)?.reshape((k, c * kh * kw, n * ho * wo))?)
}

/// `relu(conv2d(x, w, padding) + b)` for every replica at once in the layout `[K, N, C, H, W]`
/// (each replica's own minibatch): [`conv_bias_relu_cnhw`] between two transposes. `x` is
/// `[K, N, Ci, H, W]`, `w` `[K, Co, Ci, kh, kw]`, `b` `[K, Co]`; the result `[K, N, Co, Ho, Wo]`.
pub fn batched_conv_bias_relu(
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    padding: usize,
) -> Result<Tensor> {
    if x.rank() != 5 {
        return Err(ModelError::Config(format!(
            "replica convolution input has shape {:?}; it takes [K, N, C, H, W]",
            x.dims()
        )));
    }
    let y = conv_bias_relu_cnhw(&x.transpose(1, 2)?.contiguous()?, w, b, padding)?;
    Ok(y.transpose(1, 2)?.contiguous()?)
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

/// Each replica's mean cross-entropy: `logits` `[K, batch, classes]`, `labels` `[K, batch]`
/// (u32); returns `[K]`, computed as `candle_nn::loss::cross_entropy` does for one run.
pub fn replica_losses(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let (_, b, _) = logits.dims3()?;
    let lsm = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = lsm.gather(&labels.unsqueeze(2)?, 2)?.squeeze(2)?;
    Ok((picked.sum(1)? / b as f64)?.neg()?)
}

/// Stacked optimiser state of one parameter.
#[derive(Debug, Clone)]
struct StackedState {
    m: Tensor,
    v: Tensor,
    steps: Vec<u64>,
}

/// Adam for [`ReplicaCnn`]: PyTorch's Adam ([`crate::adam`]) applied to every replica, with
/// per-replica moments (stacked) and per-replica step counts and frozen parameters. When every
/// replica is at the same step (the usual case) one fused update serves all of them.
#[derive(Debug, Clone)]
pub struct ReplicaAdam {
    config: AdamConfig,
    replicas: usize,
    state: BTreeMap<String, StackedState>,
    frozen: Vec<BTreeSet<String>>,
}

impl ReplicaAdam {
    /// An optimiser for `replicas` replicas with empty state.
    pub fn new(config: AdamConfig, replicas: usize) -> Result<Self> {
        config.validate()?;
        Ok(ReplicaAdam {
            config,
            replicas,
            state: BTreeMap::new(),
            frozen: vec![BTreeSet::new(); replicas],
        })
    }

    /// The settings (shared by every replica).
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// One update of every parameter of `net` that has a gradient, for the replicas where
    /// `live[r]` is true (the others keep their parameters and state).
    pub fn step(&mut self, net: &ReplicaCnn, grads: &GradStore, live: &[bool]) -> Result<()> {
        let c = self.config;
        for (name, var) in net.named_params() {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let active: Vec<bool> = (0..self.replicas)
                .map(|r| live.get(r).copied().unwrap_or(false) && !self.frozen[r].contains(&name))
                .collect();
            if !active.iter().any(|&a| a) {
                continue;
            }
            let p = var.as_detached_tensor();
            let st = match self.state.get_mut(&name) {
                Some(st) => {
                    if st.m.shape() != p.shape() {
                        return Err(ModelError::Config(format!(
                            "optimiser state for {name} has shape {:?} but the parameter has {:?}",
                            st.m.dims(),
                            p.dims()
                        )));
                    }
                    st
                }
                None => self.state.entry(name.clone()).or_insert(StackedState {
                    m: p.zeros_like()?,
                    v: p.zeros_like()?,
                    steps: vec![0; self.replicas],
                }),
            };
            for (r, a) in active.iter().enumerate() {
                if *a {
                    st.steps[r] += 1;
                }
            }
            let uniform = active.iter().all(|&a| a) && st.steps.iter().all(|&s| s == st.steps[0]);
            if uniform {
                let coef = kernels::AdamCoefficients::new(&c, st.steps[0]);
                if let Some((m, v)) = kernels::adam_update(var.as_tensor(), g, &st.m, &st.v, &coef)?
                {
                    st.m = m;
                    st.v = v;
                    continue;
                }
                let (np, m, v) = adam_tensor_update(&p, g, &st.m, &st.v, &c, st.steps[0])?;
                var.set(&np)?;
                st.m = m;
                st.v = v;
                continue;
            }
            // Replicas at different steps (or some skipped): one update per replica.
            let (mut ps, mut ms, mut vs) = (Vec::new(), Vec::new(), Vec::new());
            for (r, a) in active.iter().enumerate() {
                let (pr, mr, vr) = (p.i(r)?, st.m.i(r)?, st.v.i(r)?);
                if *a {
                    let (np, m, v) = adam_tensor_update(&pr, &g.i(r)?, &mr, &vr, &c, st.steps[r])?;
                    ps.push(np);
                    ms.push(m);
                    vs.push(v);
                } else {
                    ps.push(pr);
                    ms.push(mr);
                    vs.push(vr);
                }
            }
            var.set(&Tensor::stack(&ps, 0)?)?;
            st.m = Tensor::stack(&ms, 0)?;
            st.v = Tensor::stack(&vs, 0)?;
        }
        Ok(())
    }

    /// Replica `r`'s optimiser as an [`Adam`] of its own (a copy).
    pub fn replica(&self, r: usize) -> Result<Adam> {
        let mut a = Adam::new(self.config)?;
        for (name, st) in &self.state {
            a.set_state(
                name,
                ParamState {
                    m: st.m.i(r)?.copy()?,
                    v: st.v.i(r)?.copy()?,
                    step: st.steps[r],
                },
            );
        }
        for name in &self.frozen[r] {
            a.set_frozen(name, true);
        }
        Ok(a)
    }

    /// Replaces every replica's state by that of `adams` (one per replica, for the networks
    /// `models`, whose parameter shapes the state must have).
    pub fn restack(&mut self, adams: &[Adam], models: &[Cnn]) -> Result<()> {
        if adams.len() != self.replicas || models.len() != self.replicas {
            return Err(ModelError::Config(format!(
                "{} optimisers and {} models given for {} replicas",
                adams.len(),
                models.len(),
                self.replicas
            )));
        }
        let names: Vec<String> = models[0]
            .named_params()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let mut state = BTreeMap::new();
        for name in &names {
            if adams.iter().all(|a| a.state(name).is_none()) {
                continue;
            }
            let (mut ms, mut vs, mut steps) = (Vec::new(), Vec::new(), Vec::new());
            for (a, m) in adams.iter().zip(models) {
                match a.state(name) {
                    Some(st) => {
                        ms.push(st.m.clone());
                        vs.push(st.v.clone());
                        steps.push(st.step);
                    }
                    None => {
                        let z = m.param(name)?.as_detached_tensor().zeros_like()?;
                        ms.push(z.clone());
                        vs.push(z);
                        steps.push(0);
                    }
                }
            }
            state.insert(
                name.clone(),
                StackedState {
                    m: Tensor::stack(&ms, 0)?,
                    v: Tensor::stack(&vs, 0)?,
                    steps,
                },
            );
        }
        self.state = state;
        self.frozen = adams
            .iter()
            .map(|a| names.iter().filter(|n| a.is_frozen(n)).cloned().collect())
            .collect();
        Ok(())
    }
}

/// One replica's outcome: its final network and either its metrics and optimiser, or the
/// error that stopped it (e.g. [`ModelError::Diverged`]).
#[derive(Debug)]
pub struct ReplicaRun {
    /// The network as it was when training ended (or stopped).
    pub model: Cnn,
    /// Metrics and optimiser, as [`crate::train`] returns them, or what stopped this replica.
    pub result: std::result::Result<(TrainMetrics, Adam), ModelError>,
}

/// Training state shared by the helpers of [`train_replicas`].
struct Replicas<'a, R> {
    net: ReplicaCnn,
    opt: ReplicaAdam,
    regs: &'a mut [R],
    failed: Vec<Option<ModelError>>,
}

impl<R: Regularizer> Replicas<'_, R> {
    fn live(&self) -> Vec<bool> {
        self.failed.iter().map(|f| f.is_none()).collect()
    }

    fn fail(&mut self, r: usize, e: ModelError) {
        if self.failed[r].is_none() {
            self.failed[r] = Some(e);
        }
    }

    /// Hands the replicas where `select` holds to `call` as networks and optimisers of their
    /// own, then writes every replica back. A replica whose call fails is stopped.
    fn with_models(
        &mut self,
        select: impl Fn(&R) -> bool,
        mut call: impl FnMut(&mut R, &mut Cnn, &mut Adam) -> Result<()>,
    ) -> Result<()> {
        let sel: Vec<bool> = (0..self.regs.len())
            .map(|r| self.failed[r].is_none() && select(&self.regs[r]))
            .collect();
        if !sel.iter().any(|&s| s) {
            return Ok(());
        }
        let mut models = self.net.unstack()?;
        let mut adams = (0..models.len())
            .map(|r| self.opt.replica(r))
            .collect::<Result<Vec<_>>>()?;
        for r in 0..models.len() {
            if sel[r] {
                if let Err(e) = call(&mut self.regs[r], &mut models[r], &mut adams[r]) {
                    self.fail(r, e);
                }
            }
        }
        // A stopped replica follows a live one's shape (its values no longer matter).
        if let Some(l) = self.failed.iter().position(|f| f.is_none()) {
            for r in 0..models.len() {
                if self.failed[r].is_some() && models[r].config() != models[l].config() {
                    models[r] = models[l].clone();
                    adams[r] = adams[l].clone();
                }
            }
        }
        self.net.restack(&models)?;
        self.opt.restack(&adams, &models)
    }
}

/// Trains `models.len()` networks as replicas (see the module documentation): replica `r`
/// trains `models[r]` with `configs[r]` (its seed gives its minibatch order) and regulariser
/// `regs[r]`, evaluating on `eval` after every epoch as [`crate::train`] does.
///
/// The configurations must agree on everything but the seed, and the optimiser settings after
/// each regulariser's [`Regularizer::configure_optimizer`] must agree too (replicas of one
/// experimental group do). Returns one [`ReplicaRun`] per replica; an error that concerns one
/// replica (divergence, a failing hook) stops only that replica.
///
/// The `observer` sees the mean loss of the live replicas at every step and, at each epoch's
/// end, their mean metrics with the throughput of all replicas together.
///
/// ```
/// use candle_core::Device;
/// use neurogen_data::{ImageShape, Split};
/// use neurogen_model::{train_replicas, Cnn, ModelConfig, NoRegularizer, Silent, TrainConfig};
/// // 16 tiny 1x28x28 images (a real run loads CIFAR-10 or Fashion-MNIST with neurogen_data).
/// let shape = ImageShape { channels: 1, height: 28, width: 28 };
/// let images: Vec<u8> = (0..16 * 784).map(|i| (i * 7 % 251) as u8).collect();
/// let labels: Vec<u8> = (0..16).map(|i| (i % 10) as u8).collect();
/// let train = Split::new(shape, images, labels)?;
///
/// let cfg = ModelConfig::fashion_mnist().with_hidden_width(16);
/// let seeds = [0u64, 1, 2];
/// let models = seeds
///     .iter()
///     .map(|&s| Cnn::new(&cfg, s, &Device::Cpu))
///     .collect::<Result<Vec<_>, _>>()?;
/// let configs: Vec<TrainConfig> = seeds
///     .iter()
///     .map(|&seed| TrainConfig { epochs: 1, seed, ..TrainConfig::default() })
///     .collect();
/// // One regulariser per replica (e.g. one `neurogen_regularizers::build(&set, seed)` each).
/// let mut regs = [NoRegularizer; 3];
/// let runs = train_replicas(models, &train, Some(("train", &train)), &configs, &mut regs, &mut Silent)?;
/// for run in &runs {
///     let (metrics, _adam) = run.result.as_ref().expect("trained");
///     assert_eq!(metrics.steps, 4);
///     assert!(metrics.final_eval.is_some());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn train_replicas<R: Regularizer>(
    models: Vec<Cnn>,
    train: &Split,
    eval: Option<(&str, &Split)>,
    configs: &[TrainConfig],
    regs: &mut [R],
    observer: &mut dyn TrainObserver,
) -> Result<Vec<ReplicaRun>> {
    let k = models.len();
    if k == 0 || configs.len() != k || regs.len() != k {
        return Err(ModelError::Config(format!(
            "replica training needs one config and one regulariser per model: {k} models, {} configs, {} regularisers",
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
    let device = models[0].device().clone();
    let net = ReplicaCnn::stack(&models)?;
    let mut st = Replicas {
        net,
        opt: ReplicaAdam::new(adam_cfg, k)?,
        regs,
        failed: (0..k).map(|_| None).collect(),
    };
    drop(models);
    st.with_models(|_| true, |reg, m, o| reg.start_training(m, o))?;

    let start = Instant::now();
    let mut epochs: Vec<Vec<EpochMetrics>> = vec![Vec::new(); k];
    let mut step = 0usize;
    let (mut train_images, mut train_secs) = (vec![0usize; k], 0.0);
    for epoch in 0..base.epochs {
        if st.failed.iter().all(|f| f.is_some()) {
            break;
        }
        let t0 = Instant::now();
        let batches: Vec<Vec<Vec<usize>>> = configs
            .iter()
            .map(|c| training_batches(train.len(), c.batch_size, c.seed, epoch))
            .collect();
        let nb = batches[0].len();
        let mut loss_sum = vec![0.0; k];
        let mut images = vec![0usize; k];
        // Detached copies handed to `loss_term` (see the module documentation).
        let probes = st.net.unstack()?;
        for bi in 0..nb {
            let ctx = StepCtx {
                epoch,
                batch: bi,
                step,
                batches_per_epoch: nb,
            };
            st.with_models(
                |reg| reg.modifies_model(StepHook::BeforeBatch, &ctx),
                |reg, m, o| reg.before_batch(m, o, &ctx),
            )?;
            let picks: Vec<&[usize]> = batches.iter().map(|b| b[bi].as_slice()).collect();
            let (x, y) = replica_batch(train, &picks, &device)?;
            let out = st
                .net
                .forward(&x, st.regs, &ForwardCtx::train(epoch, step))?;
            let losses = replica_losses(&out.logits, &y)?;
            let mut total = losses.sum_all()?;
            let mut lv: Vec<f64> = losses.to_dtype(DType::F64)?.to_vec1()?;
            for r in 0..k {
                if st.failed[r].is_some() {
                    continue;
                }
                if let Some(term) = st.regs[r].loss_term(&probes[r], &ctx)? {
                    lv[r] += term.to_dtype(DType::F64)?.to_scalar::<f64>()?;
                    total = (total + term)?;
                }
            }
            for (r, &l) in lv.iter().enumerate() {
                if !l.is_finite() {
                    st.fail(
                        r,
                        ModelError::Diverged {
                            epoch,
                            step,
                            what: format!("loss is {l}"),
                        },
                    );
                }
            }
            let live = st.live();
            if !live.iter().any(|&l| l) {
                break;
            }
            let grads = {
                let _cache = kernels::cuda_param_cache(&device);
                total.backward()?
            };
            for (r, probe) in probes.iter().enumerate() {
                if probe
                    .named_params()
                    .iter()
                    .any(|(_, v)| grads.get(v.as_tensor()).is_some())
                {
                    return Err(ModelError::Config(format!(
                        "regulariser {}'s loss term depends on the network's parameters, which replica training does not support; train it as separate runs (one replica)",
                        st.regs[r].name()
                    )));
                }
            }
            st.opt.step(&st.net, &grads, &live)?;
            step += 1;
            let after = StepCtx { step, ..ctx };
            st.with_models(
                |reg| reg.modifies_model(StepHook::AfterStep, &after),
                |reg, m, o| reg.after_step(m, o, &after),
            )?;
            let mut live_loss = (0.0, 0usize);
            for r in 0..k {
                if live[r] {
                    loss_sum[r] += lv[r];
                    images[r] += batches[r][bi].len();
                    live_loss.0 += lv[r];
                    live_loss.1 += 1;
                }
            }
            observer.on_step(epoch, bi, nb, live_loss.0 / live_loss.1.max(1) as f64);
        }
        st.with_models(
            |_| true,
            |reg, m, o| {
                reg.end_epoch(m, o, epoch)?;
                check_finite_weights(m, epoch, step)
            },
        )?;
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
        let mut summary = (0.0, 0.0, 0.0, 0usize, 0usize);
        for r in 0..k {
            train_images[r] += images[r];
            if st.failed[r].is_some() {
                continue;
            }
            let m = EpochMetrics {
                epoch,
                train_loss: loss_sum[r] / nb.max(1) as f64,
                eval: evals[r],
                train_seconds: secs,
                images_per_second: images[r] as f64 / secs.max(1e-9),
            };
            summary.0 += m.train_loss;
            if let Some(e) = m.eval {
                summary.1 += e.loss;
                summary.2 += e.accuracy;
                summary.4 = e.n;
            }
            summary.3 += 1;
            epochs[r].push(m);
        }
        let live_n = summary.3.max(1) as f64;
        observer.on_epoch(&EpochMetrics {
            epoch,
            train_loss: summary.0 / live_n,
            eval: evals.iter().any(Option::is_some).then_some(EvalResult {
                loss: summary.1 / live_n,
                accuracy: summary.2 / live_n,
                n: summary.4,
            }),
            train_seconds: secs,
            images_per_second: images.iter().sum::<usize>() as f64 / secs.max(1e-9),
        });
    }

    let mut runs = Vec::with_capacity(k);
    for (r, epoch_metrics) in epochs.into_iter().enumerate() {
        let model = st.net.replica(r)?;
        let adam = st.opt.replica(r)?;
        let result = match st.failed[r].take() {
            Some(e) => Err(e),
            None => {
                let final_train = if base.eval_train_at_end {
                    match evaluate_with(&model, train, base.eval_batch_size, &mut st.regs[r]) {
                        Ok(e) => Some(e),
                        Err(e) => {
                            runs.push(ReplicaRun {
                                model,
                                result: Err(e),
                            });
                            continue;
                        }
                    }
                } else {
                    None
                };
                Ok((
                    TrainMetrics {
                        final_eval: epoch_metrics.last().and_then(|e| e.eval),
                        epochs: epoch_metrics,
                        eval_split: eval.map(|(n, _)| n.to_string()).unwrap_or_default(),
                        final_train,
                        steps: step,
                        wall_seconds: start.elapsed().as_secs_f64(),
                        images_per_second: train_images[r] as f64 / train_secs.max(1e-9),
                        regularizer: st.regs[r].report(),
                    },
                    adam,
                ))
            }
        };
        runs.push(ReplicaRun { model, result });
    }
    Ok(runs)
}
