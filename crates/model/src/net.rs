//! The paper's CNN (Tran et al. 2022, reference `NgnCnn`) as K replicas in one model: six 3x3
//! convolutions with ReLU and a 2x2 max-pool after every second one, hidden fully connected
//! layers with ReLU, and a linear output layer without bias.
//!
//! Every parameter is stored once, with a leading replica axis (`conv1.weight` is
//! `[K, 16, 3, 3, 3]`); a single network is K = 1. K networks of one shape train in lockstep
//! (the paper's 20 repeats of a group), each replica with its own minibatch, and no operation
//! mixes replicas, so replica `r` computes exactly what a network of its own would.
//!
//! Parameters are named as in the reference PyTorch model (`conv1.weight` … `conv6.bias`,
//! `fcs.0.weight`, `fcs.0.bias`, …, `fc3.weight`) with PyTorch's shapes behind the replica
//! axis (`[out, in, kh, kw]` for convolutions, `[out, in]` for linear layers), so a replica
//! saved by [`crate::checkpoint`] loads into PyTorch.
use candle_core::{DType, Device, IndexOp, Tensor, Var, D};
use rand::SeedableRng;

use crate::config::ModelConfig;
use crate::error::{ModelError, Result};
use crate::hooks::{
    apply_all, apply_feature_maps, ForwardCtx, HookSite, Hooks, LayerInfo, LayerKind, NoHooks,
    Point,
};
use crate::init::{default_bound, uniform};
use crate::kernels;

/// The output of a forward pass.
#[derive(Debug, Clone)]
pub struct ForwardOutput {
    /// Class scores (logits), `[K, batch, num_classes]`.
    pub logits: Tensor,
    /// Each hidden layer's activations after all hooks, `[K, batch, width]`.
    pub hidden: Vec<Tensor>,
}

/// The parameter names and per-replica shapes of a network of shape `cfg`, in the order
/// [`Cnn::named_params`] lists them (PyTorch's module order), computed with checked arithmetic:
/// `None` when a size overflows `usize`, as only a corrupt configuration can make it.
pub fn param_shapes(cfg: &ModelConfig) -> Option<Vec<(String, Vec<usize>)>> {
    let numel = |d: &[usize]| d.iter().try_fold(1usize, |a, &x| a.checked_mul(x));
    let mut out = Vec::new();
    let mut c_in = cfg.in_channels;
    for (i, &c_out) in cfg.conv_channels.iter().enumerate() {
        out.push((format!("conv{}.weight", i + 1), vec![c_out, c_in, 3, 3]));
        out.push((format!("conv{}.bias", i + 1), vec![c_out]));
        c_in = c_out;
    }
    let (h, w) = cfg.conv_output_hw();
    let mut fan_in = numel(&[c_in, h, w])?;
    for (i, &width) in cfg.hidden_sizes.iter().enumerate() {
        out.push((format!("fcs.{i}.weight"), vec![width, fan_in]));
        out.push((format!("fcs.{i}.bias"), vec![width]));
        fan_in = width;
    }
    out.push(("fc3.weight".to_string(), vec![cfg.num_classes, fan_in]));
    let mut total = 0usize;
    for (_, d) in &out {
        total = total.checked_add(numel(d)?)?;
    }
    Some(out)
}

/// The network: K replicas, every parameter a candle [`Var`] with a leading replica axis.
#[derive(Debug, Clone)]
pub struct Cnn {
    config: ModelConfig,
    device: Device,
    dtype: DType,
    replicas: usize,
    /// Parameter names in [`param_shapes`] order.
    names: Vec<String>,
    /// The stacked parameters, `[K, ...]`, in the same order.
    params: Vec<Var>,
}

impl Cnn {
    /// One network (K = 1) with PyTorch's default initialisation drawn from `seed`, in f32.
    ///
    /// ```
    /// use candle_core::{Device, Tensor};
    /// use neurogen_model::{Cnn, ModelConfig};
    /// let model = Cnn::new(&ModelConfig::cifar10(), 0, &Device::Cpu)?;
    /// let x = Tensor::zeros((2, 3, 32, 32), candle_core::DType::F32, &Device::Cpu)?;
    /// let logits = model.predict(&x)?;
    /// assert_eq!(logits.dims(), &[2, 10]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(config: &ModelConfig, seed: u64, device: &Device) -> Result<Self> {
        Self::new_with_dtype(config, seed, device, DType::F32)
    }

    /// Like [`Cnn::new`] with a chosen floating-point type (f64 for gradient checks).
    pub fn new_with_dtype(
        config: &ModelConfig,
        seed: u64,
        device: &Device,
        dtype: DType,
    ) -> Result<Self> {
        config.validate()?;
        let shapes = param_shapes(config)
            .ok_or_else(|| ModelError::Config(format!("{config:?} is too large")))?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        // Draw in PyTorch's module order: each layer's weight, then its bias, each with the
        // bound 1/sqrt(fan_in) of its layer (a bias shares its weight's fan-in).
        let mut params = Vec::with_capacity(shapes.len());
        let mut bound = 0.0;
        for (name, shape) in &shapes {
            if name.ends_with(".weight") {
                bound = default_bound(shape[1..].iter().product());
            }
            let t = uniform(&mut rng, shape, bound, dtype, device)?;
            params.push(Var::from_tensor(&t.unsqueeze(0)?)?);
        }
        Ok(Cnn {
            config: config.clone(),
            device: device.clone(),
            dtype,
            replicas: 1,
            names: shapes.into_iter().map(|(n, _)| n).collect(),
            params,
        })
    }

    /// K = `seeds.len()` networks, replica `r` initialised exactly as `Cnn::new(config,
    /// seeds[r], device)`.
    ///
    /// ```
    /// use candle_core::Device;
    /// use neurogen_model::{Cnn, ModelConfig};
    /// let cfg = ModelConfig::fashion_mnist();
    /// let net = Cnn::from_seeds(&cfg, &[0, 1], &Device::Cpu)?;
    /// assert_eq!(net.param("conv1.weight")?.dims(), &[2, 16, 1, 3, 3]);
    /// // Replica 1 is the network of seed 1.
    /// let one = Cnn::new(&cfg, 1, &Device::Cpu)?;
    /// let a = net.value("fc3.weight", 1)?.flatten_all()?.to_vec1::<f32>()?;
    /// let b = one.value("fc3.weight", 0)?.flatten_all()?.to_vec1::<f32>()?;
    /// assert_eq!(a, b);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_seeds(config: &ModelConfig, seeds: &[u64], device: &Device) -> Result<Self> {
        let models = seeds
            .iter()
            .map(|&s| Cnn::new(config, s, device))
            .collect::<Result<Vec<_>>>()?;
        Cnn::stack(&models)
    }

    /// The replicas of `models` (at least one model, all of one shape, device and dtype), in
    /// order, as one model.
    pub fn stack(models: &[Cnn]) -> Result<Self> {
        let first = models
            .first()
            .ok_or_else(|| ModelError::Config("a model needs at least one replica".into()))?;
        for (i, m) in models.iter().enumerate() {
            if m.config != first.config {
                return Err(ModelError::Config(format!(
                    "model {i} has shape {:?}, model 0 has {:?}: replicas must share one shape",
                    m.config, first.config
                )));
            }
            if !m.device.same_device(&first.device) || m.dtype != first.dtype {
                return Err(ModelError::Config(format!(
                    "model {i} is on {:?} in {:?}, model 0 on {:?} in {:?}",
                    m.device, m.dtype, first.device, first.dtype
                )));
            }
        }
        if models.len() == 1 {
            return first.clone_detached();
        }
        let params = (0..first.params.len())
            .map(|j| {
                let ts: Vec<Tensor> = models
                    .iter()
                    .map(|m| m.params[j].as_detached_tensor())
                    .collect();
                Ok(Var::from_tensor(&Tensor::cat(&ts, 0)?)?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Cnn {
            replicas: models.iter().map(|m| m.replicas).sum(),
            params,
            ..first.clone()
        })
    }

    /// A copy with parameters of its own (a [`Clone`] shares them).
    fn clone_detached(&self) -> Result<Cnn> {
        let params = self
            .params
            .iter()
            .map(|v| Ok(Var::from_tensor(&v.as_detached_tensor().copy()?)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(Cnn {
            params,
            ..self.clone()
        })
    }

    /// A copy of replica `r` as a network of its own (K = 1).
    pub fn replica(&self, r: usize) -> Result<Cnn> {
        self.check_replica(r)?;
        let params = self
            .params
            .iter()
            .map(|p| {
                Ok(Var::from_tensor(
                    &p.as_detached_tensor().narrow(0, r, 1)?.copy()?,
                )?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Cnn {
            config: self.config.clone(),
            device: self.device.clone(),
            dtype: self.dtype,
            replicas: 1,
            names: self.names.clone(),
            params,
        })
    }

    pub(crate) fn check_replica(&self, r: usize) -> Result<()> {
        if r >= self.replicas {
            return Err(ModelError::Config(format!(
                "replica {r} does not exist (there are {})",
                self.replicas
            )));
        }
        Ok(())
    }

    /// Number of replicas K.
    pub fn replicas(&self) -> usize {
        self.replicas
    }

    /// The shape every replica shares (hidden widths follow additive growth).
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The device the parameters live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The parameters' floating-point type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Number of hidden fully connected layers.
    pub fn num_hidden(&self) -> usize {
        self.config.hidden_sizes.len()
    }

    /// Width of hidden layer `layer`.
    pub fn hidden_width(&self, layer: usize) -> Result<usize> {
        self.check_hidden(layer)?;
        Ok(self.config.hidden_sizes[layer])
    }

    /// The layers hooks can act on (the hidden fully connected layers), in order.
    pub fn layers(&self) -> Vec<LayerInfo> {
        self.config
            .hidden_sizes
            .iter()
            .enumerate()
            .map(|(index, &width)| LayerInfo {
                index,
                kind: LayerKind::Hidden,
                width,
            })
            .collect()
    }

    fn check_hidden(&self, layer: usize) -> Result<()> {
        let n = self.num_hidden();
        if layer >= n {
            return Err(ModelError::Config(format!(
                "hidden layer {layer} does not exist (the network has {n} hidden layers, 0..{n})"
            )));
        }
        Ok(())
    }

    /// Names of the parameters of hidden layer `layer`: `(incoming weight, bias, outgoing weight)`,
    /// e.g. `("fcs.1.weight", "fcs.1.bias", "fcs.2.weight")`.
    pub fn hidden_param_names(&self, layer: usize) -> Result<(String, String, String)> {
        self.check_hidden(layer)?;
        let next = if layer + 1 < self.num_hidden() {
            format!("fcs.{}.weight", layer + 1)
        } else {
            "fc3.weight".to_string()
        };
        Ok((
            format!("fcs.{layer}.weight"),
            format!("fcs.{layer}.bias"),
            next,
        ))
    }

    /// All stacked parameters (`[K, ...]`) in a fixed order (conv1 … conv6, fcs.0 …, fc3),
    /// with their PyTorch names.
    pub fn named_params(&self) -> Vec<(&str, &Var)> {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.params.iter())
            .collect()
    }

    /// The stacked parameter called `name` (`[K, ...]`).
    pub fn param(&self, name: &str) -> Result<&Var> {
        self.index(name).map(|j| &self.params[j])
    }

    fn index(&self, name: &str) -> Result<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| ModelError::UnknownParam(name.to_string()))
    }

    /// Replica `r`'s value of parameter `name` (detached, PyTorch's shape).
    pub fn value(&self, name: &str, r: usize) -> Result<Tensor> {
        self.check_replica(r)?;
        Ok(self.param(name)?.as_detached_tensor().i(r)?)
    }

    /// Replaces every replica's value of parameter `name` by `stacked` (`[K, ...]`). The shape
    /// may change only for the parameters of hidden layers (additive growth, alike in every
    /// replica); the hidden widths follow the new shapes, and consistency is checked when all
    /// parameters have been replaced (see [`Cnn::check_shapes`]). A same-shape update keeps the
    /// existing [`Var`] (its identity and gradients stay valid).
    pub fn set_param(&mut self, name: &str, stacked: &Tensor) -> Result<()> {
        let j = self.index(name)?;
        let value = stacked
            .to_dtype(self.dtype)?
            .to_device(&self.device)?
            .detach();
        let var = &mut self.params[j];
        if value.dim(0)? != self.replicas {
            return Err(ModelError::Config(format!(
                "{name}: {} replicas given for a model of {}",
                value.dim(0)?,
                self.replicas
            )));
        }
        if var.shape() == value.shape() {
            var.set(&value)?;
        } else {
            if name.starts_with("conv") {
                return Err(ModelError::Config(format!(
                    "parameter {name} has shape {:?}; convolution shapes cannot change (got {:?})",
                    var.dims(),
                    value.dims()
                )));
            }
            *var = Var::from_tensor(&value)?;
        }
        let n_conv = 2 * self.config.conv_channels.len();
        self.config.hidden_sizes = (0..self.num_hidden())
            .map(|l| self.params[n_conv + 2 * l].dim(1).unwrap_or(0))
            .collect();
        Ok(())
    }

    /// Checks that every parameter's shape fits its neighbours (after growth or loading).
    pub fn check_shapes(&self) -> Result<()> {
        let want = param_shapes(&self.config)
            .ok_or_else(|| ModelError::Config("the network is too large".into()))?;
        for ((name, dims), var) in want.iter().zip(&self.params) {
            if &var.dims()[1..] != dims.as_slice() {
                return Err(ModelError::Config(format!(
                    "{name} has shape {:?} but its neighbours need {dims:?}",
                    &var.dims()[1..]
                )));
            }
        }
        Ok(())
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

    /// The input as `[K, batch, C, H, W]`: `x` is that, or for K = 1 also `[batch, C, H, W]`.
    fn check_input(&self, x: &Tensor) -> Result<Tensor> {
        let c = &self.config;
        let x = if x.rank() == 4 && self.replicas == 1 {
            x.unsqueeze(0)?
        } else {
            x.clone()
        };
        let dims = x.dims();
        if dims.len() != 5
            || dims[0] != self.replicas
            || dims[2] != c.in_channels
            || dims[3] != c.in_height
            || dims[4] != c.in_width
        {
            return Err(ModelError::Config(format!(
                "input has shape {dims:?}; this network takes [{}, batch, {}, {}, {}]{}",
                self.replicas,
                c.in_channels,
                c.in_height,
                c.in_width,
                if self.replicas == 1 {
                    format!(
                        " or [batch, {}, {}, {}]",
                        c.in_channels, c.in_height, c.in_width
                    )
                } else {
                    String::new()
                }
            )));
        }
        Ok(x.to_dtype(self.dtype)?)
    }

    /// The convolutional features of every replica: `x` is `[K, batch, C, H, W]` (each
    /// replica's own minibatch), the result `[K, batch, flatten_dim]`.
    pub fn features(&self, x: &Tensor) -> Result<Tensor> {
        self.conv_stack(x, &mut NoHooks, &ForwardCtx::eval(), None)
    }

    /// The spatial mean of every feature map of every convolution, in evaluation mode, after
    /// `hooks`' steps at the feature maps (so silenced maps read 0): for each convolution
    /// `[K, batch, channels]` (for class selectivity of feature maps, Morcos et al. 2018).
    pub fn feature_map_means(&self, x: &Tensor, hooks: &mut dyn Hooks) -> Result<Vec<Tensor>> {
        let mut means = Vec::with_capacity(self.config.conv_channels.len());
        self.conv_stack(x, hooks, &ForwardCtx::eval(), Some(&mut means))?;
        Ok(means)
    }

    /// The hook site of convolution `i`'s feature maps.
    fn conv_site(&self, i: usize, batch: usize, ctx: &ForwardCtx) -> HookSite {
        HookSite {
            layer: LayerInfo {
                index: i,
                kind: LayerKind::Conv,
                width: self.config.conv_channels[i],
            },
            point: Point::Activation,
            batch,
            ctx: *ctx,
        }
    }

    /// The convolutions with `hooks`' steps at each one's feature maps (after the ReLU, before
    /// the pool), optionally collecting each convolution's spatial means `[K, batch, C]`.
    fn conv_stack(
        &self,
        x: &Tensor,
        hooks: &mut dyn Hooks,
        ctx: &ForwardCtx,
        mut means: Option<&mut Vec<Tensor>>,
    ) -> Result<Tensor> {
        let x = self.check_input(x)?;
        let batch = x.dims()[1];
        let n_conv = self.config.conv_channels.len();
        if kernels::kernel_dtype_ok(&x) {
            // CPU: the fused kernel for all replicas in one call per layer (each replica bit
            // for bit its own call), pooling all replicas' images as one batch.
            let (k, batch) = (x.dim(0)?, x.dim(1)?);
            let mut h = x.contiguous()?;
            for i in 0..n_conv {
                let (w, b) = self.conv(i);
                h = kernels::conv2d_bias_relu_replicas(&h, w.as_tensor(), b.as_tensor(), 1)?;
                let site = self.conv_site(i, batch, ctx);
                let plans = (0..k)
                    .map(|r| hooks.steps(r, &site))
                    .collect::<Result<Vec<_>>>()?;
                if plans.iter().any(|p| !p.is_empty()) {
                    // [K, batch, C, H, W]: each replica's steps on its own slice (channel axis 2).
                    let parts = plans
                        .iter()
                        .enumerate()
                        .map(|(r, p)| apply_feature_maps(&h.narrow(0, r, 1)?, 2, i, p))
                        .collect::<Result<Vec<_>>>()?;
                    h = Tensor::cat(&parts, 0)?;
                }
                if let Some(m) = means.as_deref_mut() {
                    // [K, batch, C, H, W] -> [K, batch, C]
                    m.push(h.mean((3, 4))?);
                }
                if i % 2 == 1 {
                    let (_, _, c, hh, ww) = h.dims5()?;
                    let p = kernels::max_pool2x2(&h.reshape((k * batch, c, hh, ww))?)?;
                    let (_, _, h2, w2) = p.dims4()?;
                    h = p.reshape((k, batch, c, h2, w2))?;
                }
            }
            return Ok(h.flatten_from(2)?);
        }
        // GPU: one im2col and one batched matrix product per layer for all replicas.
        let _cache = crate::runtime::cuda_param_cache(&self.device);
        let layers = (0..n_conv).map(|i| {
            let (w, b) = self.conv(i);
            (w.as_tensor().clone(), b.as_tensor().clone())
        });
        let k = self.replicas;
        let after_relu = |i: usize, y: Tensor| -> Result<Tensor> {
            let site = self.conv_site(i, batch, ctx);
            let plans = (0..k)
                .map(|r| hooks.steps(r, &site))
                .collect::<Result<Vec<_>>>()?;
            let y = if plans.iter().all(|p| p.is_empty()) {
                y
            } else {
                let parts = plans
                    .iter()
                    .enumerate()
                    .map(|(r, p)| apply_feature_maps(&y.narrow(0, r, 1)?, 1, i, p))
                    .collect::<Result<Vec<_>>>()?;
                Tensor::cat(&parts, 0)?
            };
            if let Some(m) = means.as_deref_mut() {
                // [K, C, N, H, W] -> [K, N, C]
                m.push(y.mean((3, 4))?.transpose(1, 2)?.contiguous()?);
            }
            Ok(y)
        };
        let h = kernels::features_cnhw(&x.transpose(1, 2)?.contiguous()?, layers, after_relu)?;
        Ok(h.transpose(1, 2)?.contiguous()?.flatten_from(2)?)
    }

    /// The forward pass of every replica: `x` is `[K, batch, C, H, W]` (for K = 1 also
    /// `[batch, C, H, W]`). After every convolution's ReLU, the hooks' steps at its feature
    /// maps ([`LayerKind::Conv`]); at every hidden layer `l`: `z = fcs[l](h)`, then the hooks' steps at
    /// [`Point::PreActivation`], `a = relu(z)`, then the steps at [`Point::Activation`] (the
    /// order is in docs/ARCHITECTURE.md); replica `r`'s steps come from `hooks` for `r`.
    pub fn forward(
        &self,
        x: &Tensor,
        hooks: &mut dyn Hooks,
        ctx: &ForwardCtx,
    ) -> Result<ForwardOutput> {
        let h = self.conv_stack(x, hooks, ctx, None)?;
        self.head(&h, hooks, ctx)
    }

    /// The fully connected part of [`Cnn::forward`] on features `[K, batch, flatten_dim]` (what
    /// [`Cnn::features`] returns): the hidden layers with the hooks' steps, then the output
    /// layer. An analysis that only changes hidden layers (ablating units, adding noise)
    /// computes the features once and runs the head many times.
    pub fn head(
        &self,
        features: &Tensor,
        hooks: &mut dyn Hooks,
        ctx: &ForwardCtx,
    ) -> Result<ForwardOutput> {
        let dims = features.dims();
        let want = self.config.flatten_dim();
        if dims.len() != 3 || dims[0] != self.replicas || dims[2] != want {
            return Err(ModelError::Config(format!(
                "features have shape {dims:?}; the head takes [{}, batch, {want}]",
                self.replicas
            )));
        }
        let mut h = features.clone();
        let mut hidden = Vec::with_capacity(self.num_hidden());
        for l in 0..self.num_hidden() {
            let (w, b) = self.fc(l);
            let z =
                kernels::linear(&h, w.as_tensor())?.broadcast_add(&b.as_tensor().unsqueeze(1)?)?;
            let (_, batch, width) = z.dims3()?;
            let mut site = HookSite {
                layer: LayerInfo {
                    index: l,
                    kind: LayerKind::Hidden,
                    width,
                },
                point: Point::PreActivation,
                batch,
                ctx: *ctx,
            };
            let z = self.hooked(&z, hooks, &site)?;
            site.point = Point::Activation;
            let a = self.hooked(&kernels::relu(&z)?, hooks, &site)?;
            hidden.push(a.clone());
            h = a;
        }
        let logits = kernels::linear(&h, self.out().as_tensor())?;
        Ok(ForwardOutput { logits, hidden })
    }

    fn hooked(&self, x: &Tensor, hooks: &mut dyn Hooks, site: &HookSite) -> Result<Tensor> {
        let plans = (0..self.replicas)
            .map(|r| hooks.steps(r, site))
            .collect::<Result<Vec<_>>>()?;
        apply_all(x, &plans)
    }

    /// Evaluation-mode logits without hooks: `[batch, classes]` for a `[batch, C, H, W]` input
    /// to a single network, `[K, batch, classes]` for `[K, batch, C, H, W]`.
    pub fn predict(&self, x: &Tensor) -> Result<Tensor> {
        let logits = self.forward(x, &mut NoHooks, &ForwardCtx::eval())?.logits;
        Ok(if x.rank() == 4 {
            logits.squeeze(0)?
        } else {
            logits
        })
    }

    /// Number of scalar parameters of one replica.
    pub fn num_parameters(&self) -> usize {
        self.params
            .iter()
            .map(|v| v.elem_count() / self.replicas)
            .sum()
    }

    /// Copies every parameter to `device` (e.g. to evaluate a GPU-trained model on the CPU).
    pub fn to_device(&self, device: &Device) -> Result<Cnn> {
        let params = self
            .params
            .iter()
            .map(|v| Ok(Var::from_tensor(&v.as_tensor().to_device(device)?)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(Cnn {
            device: device.clone(),
            params,
            ..self.clone()
        })
    }

    /// A single network (K = 1) from named tensors in PyTorch's shapes (as read from a
    /// checkpoint), checking names, shapes and dtypes.
    pub fn from_tensors(
        config: &ModelConfig,
        tensors: &std::collections::HashMap<String, Tensor>,
        device: &Device,
    ) -> Result<Cnn> {
        config.validate()?;
        let expected = param_shapes(config)
            .ok_or_else(|| ModelError::Config(format!("{config:?} is too large")))?;
        let mut params = Vec::with_capacity(expected.len());
        for (name, dims) in &expected {
            let t = tensors
                .get(name)
                .ok_or_else(|| ModelError::Config(format!("missing tensor {name}")))?;
            if t.dims() != dims.as_slice() {
                return Err(ModelError::Config(format!(
                    "tensor {name} has shape {:?}, the model config needs {:?}",
                    t.dims(),
                    dims
                )));
            }
            if !t.dtype().is_float() {
                return Err(ModelError::Config(format!(
                    "tensor {name} has dtype {:?}, expected a float type",
                    t.dtype()
                )));
            }
            let v = t.to_dtype(DType::F32)?.to_device(device)?.unsqueeze(0)?;
            params.push(Var::from_tensor(&v)?);
        }
        let mut extra: Vec<&String> = tensors
            .keys()
            .filter(|k| !expected.iter().any(|(n, _)| n == *k))
            .collect();
        extra.sort();
        if let Some(k) = extra.first() {
            return Err(ModelError::Config(format!(
                "unexpected tensor {k} (the model has conv1..conv{}, fcs.0..fcs.{}, fc3)",
                config.conv_channels.len(),
                config.hidden_sizes.len() - 1
            )));
        }
        Ok(Cnn {
            config: config.clone(),
            device: device.clone(),
            dtype: DType::F32,
            replicas: 1,
            names: expected.into_iter().map(|(n, _)| n).collect(),
            params,
        })
    }
}

/// Index of the largest logit per row (`[batch]`, u32).
pub fn argmax(logits: &Tensor) -> Result<Tensor> {
    Ok(logits.argmax(D::Minus1)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_names_and_shapes_match_pytorch() {
        let m = Cnn::new(&ModelConfig::cifar10(), 0, &Device::Cpu).unwrap();
        let names: Vec<(String, Vec<usize>)> = m
            .named_params()
            .into_iter()
            .map(|(n, v)| (n.to_string(), v.dims()[1..].to_vec()))
            .collect();
        assert_eq!(names.len(), 19);
        assert_eq!(names[0], ("conv1.weight".into(), vec![16, 3, 3, 3]));
        assert_eq!(names[11], ("conv6.bias".into(), vec![64]));
        assert_eq!(names[12], ("fcs.0.weight".into(), vec![250, 1024]));
        assert_eq!(names[17], ("fcs.2.bias".into(), vec![250]));
        assert_eq!(names[18], ("fc3.weight".into(), vec![10, 250]));
        // PyTorch's parameter count for NgnCnn(layer_size=250).
        assert_eq!(m.num_parameters(), 72_080 + 256_250 + 2 * 62_750 + 2_500);
    }

    #[test]
    fn init_within_pytorch_bounds() {
        let m = Cnn::new(&ModelConfig::cifar10(), 1, &Device::Cpu).unwrap();
        for (name, v) in m.named_params() {
            let w = m.param(&name.replace("bias", "weight")).unwrap();
            let fan_in: usize = w.dims()[2..].iter().product();
            let bound = 1.0 / (fan_in as f32).sqrt();
            let max = v
                .as_tensor()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(max <= bound, "{name}: {max} > {bound}");
            assert!(
                max > 0.8 * bound,
                "{name}: {max} too small for bound {bound}"
            );
        }
    }

    #[test]
    fn wrong_input_shape_is_a_clear_error() {
        let m = Cnn::new(&ModelConfig::fashion_mnist(), 0, &Device::Cpu).unwrap();
        let x = Tensor::zeros((2, 3, 32, 32), DType::F32, &Device::Cpu).unwrap();
        let e = m.predict(&x).unwrap_err().to_string();
        assert!(e.contains("[batch, 1, 28, 28]"), "{e}");
        let x = Tensor::zeros((2, 1, 28, 28), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(m.predict(&x).unwrap().dims(), &[2, 10]);
    }

    #[test]
    fn set_param_grows_hidden_layer() {
        let mut m = Cnn::new(
            &ModelConfig::cifar10().with_hidden_width(20),
            0,
            &Device::Cpu,
        )
        .unwrap();
        let w = Tensor::zeros((1, 22, 20), DType::F32, &Device::Cpu).unwrap();
        m.set_param("fcs.1.weight", &w).unwrap();
        assert!(m.check_shapes().is_err());
        m.set_param(
            "fcs.1.bias",
            &Tensor::zeros((1, 22), DType::F32, &Device::Cpu).unwrap(),
        )
        .unwrap();
        m.set_param(
            "fcs.2.weight",
            &Tensor::zeros((1, 20, 22), DType::F32, &Device::Cpu).unwrap(),
        )
        .unwrap();
        m.check_shapes().unwrap();
        assert_eq!(m.config().hidden_sizes, vec![20, 22, 20]);
        assert!(m.set_param("conv1.weight", &w).is_err());
        assert!(matches!(
            m.param("conv9.weight"),
            Err(ModelError::UnknownParam(_))
        ));
    }

    #[test]
    fn replicas_stack_and_split() {
        let cfg = ModelConfig::fashion_mnist().with_hidden_width(8);
        let net = Cnn::from_seeds(&cfg, &[3, 4], &Device::Cpu).unwrap();
        assert_eq!(net.replicas(), 2);
        let one = net.replica(1).unwrap();
        let four = Cnn::new(&cfg, 4, &Device::Cpu).unwrap();
        for (n, _) in four.named_params() {
            let a = one.value(n, 0).unwrap().flatten_all().unwrap();
            let b = four.value(n, 0).unwrap().flatten_all().unwrap();
            assert_eq!(a.to_vec1::<f32>().unwrap(), b.to_vec1::<f32>().unwrap());
        }
        assert!(net.replica(2).is_err());
    }
}
