//! The vectorized convolutional network (the paper's "Conv-Vec": the authors' `vnn.Conv2d`,
//! `vnn.ctReLU`, `vnn.AvgPool2d`, `vnn.Flatten`, then vectorized FC layers).
//!
//! Activity is `[B, K, C, H, W]`: every channel of every position is a K-vector. A
//! convolution's kernel `[O, C, k, k]` is shared by the K components (each component is
//! convolved on its own), its bias is `[K, O]`. The first convolution, where the authors expand
//! the image block-diagonally over `K·C` channels (`expand_input_conv`), is stored as
//! `[K, O, C, k, k]` and applied as one convolution with `K·O` output channels — the same
//! numbers without the zeros. The gate is shared by each channel's positions' signs: `t` is
//! `[K, O]` in ON/OFF channel pairs (`share_t = True`), `G = 1[Σ_k t_k·Z_k ≥ 0]` per
//! `(b, o, y, x)`. Average pooling follows a gate where the layer asks for it. Flattening
//! orders features `(y, x, c)`, as the authors' `Flatten` does, so adjacent inputs of the first
//! FC layer are ON/OFF channel pairs.
//!
//! The same numbers, computed with less memory traffic (the `[B, K, O, H', W']` maps are the
//! big tensors): the gate's `Σ_k t_k·Z_k` is `Σ_k t_k·conv_k + Σ_k t_k·bias_k`, and in the
//! first layer `Σ_k t_k·(x ∗ W_k) = x ∗ (Σ_k t_k·W_k)`, one O-channel convolution; the bias is
//! added after pooling, `pool(G ⊙ (conv + bias)) = pool(G ⊙ conv) + bias ⊗ pool(G)`.
//!
//! GEVB's convolution update is the authors' `convolutional_outer_product` of
//! `x1 = Σ_k e_k·H_k` (`[B, C, H, W]`) and `G/B` (`[B, O, H', W']`), summed over the batch:
//! the gradient of `Σ conv(x1, W) ⊙ G/B` with respect to `W` (the convolution is linear in
//! `W`), computed directly as one convolution of the batch (see `conv_outer`); in the first
//! layer `x1` is `e_k·x` for each `k`, `K·C` channels. The bias update is
//! `(1/B) Σ_b e_k(b) Σ_{y,x} G_o(b, y, x)`.
use candle_core::{DType, Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::data::check_image_batch;
use super::error::{GevbError, Result};
use super::init::{linear_weight, normal, on_off_signs};
use super::rules::{gevb_shared_layers, rule_output, Rule, RuleNetwork, RuleOutput, Updates};
use super::vnn::{shared_layers, VecFcConfig};

/// One vectorized convolution (square kernel), its gate, and optional average pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VecConvLayer {
    /// Output channels (even: ON/OFF pairs).
    pub channels: usize,
    /// Kernel size.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding on each side.
    pub padding: usize,
    /// Average-pooling window after the gate (1 = none); must divide the feature map.
    pub pool: usize,
}

/// The shape of a Conv-Vec network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VecConvConfig {
    /// K: number of classes.
    pub classes: usize,
    /// Input channels.
    pub in_channels: usize,
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// The convolutions, in order.
    pub convs: Vec<VecConvLayer>,
    /// Widths of the gated FC layers after flattening (then one output unit).
    pub hidden: Vec<usize>,
    /// "+" network: weights past the first layer start and stay ≥ 0.
    pub mono: bool,
}

impl VecConvConfig {
    /// The authors' MNIST Conv-Vec (`make_mnist_vec_conv`): 64 3×3 (pad 1), pool 2, 32 3×3
    /// (pad 1), pool 2, FC 1568 → 1024 → 1. Fashion-MNIST has the same shape.
    pub fn mnist(mono: bool) -> Self {
        VecConvConfig {
            classes: 10,
            in_channels: 1,
            height: 28,
            width: 28,
            convs: vec![
                VecConvLayer {
                    channels: 64,
                    kernel: 3,
                    stride: 1,
                    padding: 1,
                    pool: 2,
                },
                VecConvLayer {
                    channels: 32,
                    kernel: 3,
                    stride: 1,
                    padding: 1,
                    pool: 2,
                },
            ],
            hidden: vec![1024],
            mono,
        }
    }

    /// The authors' CIFAR-10 Conv-Vec (`make_cifar_vec_conv`): 128 5×5 (pad 2), pool 2, 64 5×5
    /// (pad 2), pool 2, 64 2×2 stride 2, FC 1024 → 1024 → 1.
    pub fn cifar10(mono: bool) -> Self {
        VecConvConfig {
            classes: 10,
            in_channels: 3,
            height: 32,
            width: 32,
            convs: vec![
                VecConvLayer {
                    channels: 128,
                    kernel: 5,
                    stride: 1,
                    padding: 2,
                    pool: 2,
                },
                VecConvLayer {
                    channels: 64,
                    kernel: 5,
                    stride: 1,
                    padding: 2,
                    pool: 2,
                },
                VecConvLayer {
                    channels: 64,
                    kernel: 2,
                    stride: 2,
                    padding: 0,
                    pool: 1,
                },
            ],
            hidden: vec![1024],
            mono,
        }
    }

    /// Feature-map sizes `(C, H, W)` after each convolution block (after pooling), checking
    /// every layer's settings.
    pub fn shapes(&self) -> Result<Vec<(usize, usize, usize)>> {
        if self.in_channels == 0 || self.height == 0 || self.width == 0 {
            return Err(GevbError::Config(
                "the input image has a zero dimension".into(),
            ));
        }
        if self.convs.is_empty() {
            return Err(GevbError::Config(
                "a Conv-Vec network needs at least one convolution".into(),
            ));
        }
        let (mut h, mut w) = (self.height, self.width);
        let mut out = Vec::new();
        for (l, c) in self.convs.iter().enumerate() {
            if c.channels == 0 || c.channels % 2 != 0 {
                return Err(GevbError::Config(format!(
                    "convolution {l} has {} channels: gated channels come in ON/OFF pairs, the number must be even and > 0",
                    c.channels
                )));
            }
            if c.kernel == 0 || c.stride == 0 || c.pool == 0 {
                return Err(GevbError::Config(format!(
                    "convolution {l}: kernel, stride and pool must be ≥ 1, got {c:?}"
                )));
            }
            if h + 2 * c.padding < c.kernel || w + 2 * c.padding < c.kernel {
                return Err(GevbError::Config(format!(
                    "convolution {l}: kernel {} does not fit a {h}×{w} map with padding {}",
                    c.kernel, c.padding
                )));
            }
            h = (h + 2 * c.padding - c.kernel) / c.stride + 1;
            w = (w + 2 * c.padding - c.kernel) / c.stride + 1;
            if h % c.pool != 0 || w % c.pool != 0 {
                return Err(GevbError::Config(format!(
                    "convolution {l}: pooling window {} does not divide its {h}×{w} output",
                    c.pool
                )));
            }
            h /= c.pool;
            w /= c.pool;
            out.push((c.channels, h, w));
        }
        Ok(out)
    }

    /// The length of a flattened feature vector entering the first FC layer.
    pub fn flat_dim(&self) -> Result<usize> {
        let (c, h, w) = *self.shapes()?.last().expect("at least one convolution");
        Ok(c * h * w)
    }

    fn validate(&self) -> Result<()> {
        let flat = self.flat_dim()?;
        VecFcConfig {
            classes: self.classes,
            input_dim: flat,
            hidden: self.hidden.clone(),
            mono: self.mono,
        }
        .validate()
    }
}

/// The authors' `init_conv`: an `[out, in, k, k]` kernel (row-major), plain or "+". "+" past
/// the first layer pairs input and output channels (not kernel positions).
pub(crate) fn conv_weight<R: Rng + ?Sized>(
    rng: &mut R,
    out: usize,
    inp: usize,
    k: usize,
    first_layer: bool,
    mono: bool,
) -> Result<Vec<f32>> {
    if !mono || first_layer {
        // Plain, or the first layer's paired output channels: rows of the flattened kernel.
        return linear_weight(rng, out, inp * k * k, first_layer, mono);
    }
    if out % 2 != 0 || inp % 2 != 0 {
        return Err(GevbError::Config(format!(
            "a \"+\" convolution pairs ON/OFF channels: channel counts must be even, got {inp} -> {out}"
        )));
    }
    let kk = k * k;
    let (ho, hi) = (out / 2, inp / 2);
    let wt = normal(rng, ho * hi * kk, 1.0 / (0.25 * (inp * kk) as f64).sqrt())?;
    let mut w = vec![0f32; out * inp * kk];
    let at = |o: usize, c: usize, s: usize| (o * inp + c) * kk + s;
    for o in 0..ho {
        for c in 0..hi {
            for s in 0..kk {
                let v = wt[(o * hi + c) * kk + s];
                let (pos, neg) = (v.max(0.0), (-v).max(0.0));
                w[at(2 * o, 2 * c, s)] = pos;
                w[at(2 * o, 2 * c + 1, s)] = neg;
                w[at(2 * o + 1, 2 * c, s)] = neg;
                w[at(2 * o + 1, 2 * c + 1, s)] = pos;
            }
        }
    }
    Ok(w)
}

/// What a Conv-Vec forward pass saw.
#[derive(Debug, Clone)]
pub struct VecConvForward {
    /// `[B, K]` logits.
    pub logits: Tensor,
    /// Input of each convolution: `[B, C, H, W]` for the first, `[B, K, C, H, W]` after.
    pub conv_inputs: Vec<Tensor>,
    /// Gate of each convolution, `[B, O, H', W']` (before pooling).
    pub conv_gates: Vec<Tensor>,
    /// Input of each FC layer, `[B, K, n]` (the first is the flattened feature map).
    pub fc_inputs: Vec<Tensor>,
    /// Gate of each hidden FC layer, `[B, n]`.
    pub fc_gates: Vec<Tensor>,
}

/// A vectorized convolutional network.
///
/// Parameters, in order: `conv0.weight` `[K, O, C, k, k]`, `conv0.bias` `[K, O]`, then
/// `convℓ.weight` `[O, C, k, k]` and `convℓ.bias` `[K, O]`; then `fcℓ.weight`
/// `[n_ℓ, n_{ℓ−1}]` and `fcℓ.bias` `[K, n_ℓ]` for the FC layers, the last one the output unit.
#[derive(Debug, Clone)]
pub struct VecConv {
    config: VecConvConfig,
    conv_w: Vec<Var>,
    conv_b: Vec<Var>,
    conv_t: Vec<Tensor>,
    fc_w: Vec<Var>,
    fc_b: Vec<Var>,
    fc_t: Vec<Tensor>,
}

impl VecConv {
    /// A network with the authors' initialisation (the first convolution's `K·C`-channel
    /// kernel scaled by `√K`), zero biases and random ON/OFF signs, seeded.
    pub fn new(config: &VecConvConfig, seed: u64, device: &Device) -> Result<Self> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let k = config.classes;
        let (mut conv_w, mut conv_b, mut conv_t) = (Vec::new(), Vec::new(), Vec::new());
        let mut c_in = config.in_channels;
        for (l, c) in config.convs.iter().enumerate() {
            let ks = c.kernel;
            let w = if l == 0 {
                // The authors' [O, K·C, k, k] kernel, scaled by √K, split into K blocks.
                let dense = conv_weight(&mut rng, c.channels, k * c_in, ks, true, config.mono)?;
                let s = (k as f32).sqrt();
                let dense: Vec<f32> = dense.into_iter().map(|v| v * s).collect();
                Tensor::from_vec(dense, (c.channels, k, c_in, ks, ks), device)?
                    .permute((1, 0, 2, 3, 4))?
                    .contiguous()?
            } else {
                let w = conv_weight(&mut rng, c.channels, c_in, ks, false, config.mono)?;
                Tensor::from_vec(w, (c.channels, c_in, ks, ks), device)?
            };
            conv_w.push(Var::from_tensor(&w)?);
            conv_b.push(Var::zeros((k, c.channels), DType::F32, device)?);
            conv_t.push(Tensor::from_vec(
                on_off_signs(&mut rng, k, c.channels)?,
                (k, c.channels),
                device,
            )?);
            c_in = c.channels;
        }
        let mut widths = vec![config.flat_dim()?];
        widths.extend(&config.hidden);
        widths.push(1);
        let (mut fc_w, mut fc_b, mut fc_t) = (Vec::new(), Vec::new(), Vec::new());
        for l in 1..widths.len() {
            let (out, inp) = (widths[l], widths[l - 1]);
            let w = linear_weight(&mut rng, out, inp, false, config.mono)?;
            fc_w.push(Var::from_tensor(&Tensor::from_vec(w, (out, inp), device)?)?);
            fc_b.push(Var::zeros((k, out), DType::F32, device)?);
            if l < widths.len() - 1 {
                fc_t.push(Tensor::from_vec(
                    on_off_signs(&mut rng, k, out)?,
                    (k, out),
                    device,
                )?);
            }
        }
        Ok(VecConv {
            config: config.clone(),
            conv_w,
            conv_b,
            conv_t,
            fc_w,
            fc_b,
            fc_t,
        })
    }

    /// The network's shape.
    pub fn config(&self) -> &VecConvConfig {
        &self.config
    }

    /// Convolution `ℓ`'s kernel.
    pub fn conv_weight(&self, l: usize) -> Result<&Var> {
        self.conv_w.get(l).ok_or_else(|| {
            GevbError::Config(format!(
                "convolution {l} does not exist (the network has {})",
                self.conv_w.len()
            ))
        })
    }

    /// Convolution `ℓ`'s fixed signs `t`, `[K, O]` of ±1 (shared by a channel's positions).
    pub fn conv_signs(&self, l: usize) -> Result<&Tensor> {
        self.conv_t.get(l).ok_or_else(|| {
            GevbError::Config(format!(
                "convolution {l} does not exist (the network has {})",
                self.conv_t.len()
            ))
        })
    }

    /// FC layer `ℓ`'s weight (the last is the output unit's).
    pub fn fc_weight(&self, l: usize) -> Result<&Var> {
        self.fc_w.get(l).ok_or_else(|| {
            GevbError::Config(format!(
                "FC layer {l} does not exist (the network has {})",
                self.fc_w.len()
            ))
        })
    }

    /// Parameters with their names, in the order of the type's documentation.
    pub fn named_params(&self) -> Vec<(String, Var)> {
        let mut v = Vec::new();
        for (l, (w, b)) in self.conv_w.iter().zip(&self.conv_b).enumerate() {
            v.push((format!("conv{l}.weight"), w.clone()));
            v.push((format!("conv{l}.bias"), b.clone()));
        }
        for (l, (w, b)) in self.fc_w.iter().zip(&self.fc_b).enumerate() {
            v.push((format!("fc{l}.weight"), w.clone()));
            v.push((format!("fc{l}.bias"), b.clone()));
        }
        v
    }

    /// The forward pass on `[B, C, H, W]` f32 images (checked).
    pub fn forward(&self, x: &Tensor) -> Result<VecConvForward> {
        let cfg = &self.config;
        let k = cfg.classes;
        let want = [cfg.in_channels, cfg.height, cfg.width];
        let dims = x.dims();
        if dims.len() != 4 || dims[1..] != want || dims[0] == 0 || x.dtype() != DType::F32 {
            return Err(GevbError::Shape(format!(
                "images must be f32 [batch ≥ 1, {}, {}, {}], got {:?} {dims:?}",
                want[0],
                want[1],
                want[2],
                x.dtype()
            )));
        }
        let b = dims[0];
        let (mut conv_inputs, mut conv_gates) = (Vec::new(), Vec::new());
        let mut h = x.clone();
        for (l, c) in cfg.convs.iter().enumerate() {
            conv_inputs.push(h.clone());
            let (o, w) = (c.channels, self.conv_w[l].as_tensor());
            let t = &self.conv_t[l]; // [K, O]
            let bias = self.conv_b[l].as_tensor(); // [K, O]
                                                   // The convolution without its bias, `[B, K·O, H', W']`, and `Σ_k t_k·conv_k`,
                                                   // `[B, O, H', W']` (detached: the gate's input).
            let (conv, t_conv) = if l == 0 {
                let (_, _, ci, ks, _) = w.dims5()?;
                let conv = layer_conv(&h, &w.reshape((k * o, ci, ks, ks))?, c, false)?;
                // Linear in the kernel: Σ_k t_k·(x ∗ W_k) = x ∗ (Σ_k t_k·W_k), O channels
                // instead of a pass over the K·O.
                let w_t = w
                    .detach()
                    .broadcast_mul(&t.reshape((k, o, 1, 1, 1))?)?
                    .sum(0)?;
                let t_conv = h.detach().conv2d(&w_t, c.padding, c.stride, 1, 1)?;
                (conv, t_conv)
            } else {
                let (_, _, ci, hh, ww) = h.dims5()?;
                let conv = layer_conv(&h.reshape((b * k, ci, hh, ww))?, w, c, true)?;
                let (_, _, ho, wo) = conv.dims4()?;
                let t_conv = conv
                    .detach()
                    .reshape((b, k, o, ho, wo))?
                    .broadcast_mul(&t.reshape((1, k, o, 1, 1))?)?
                    .sum(1)?;
                (conv, t_conv)
            };
            let (_, _, ho, wo) = t_conv.dims4()?;
            let conv = conv.reshape((b, k, o, ho, wo))?;
            // G = 1[Σ_k t_k·Z_k ≥ 0] with Z = conv + bias: Σ_k t_k·bias_k is one number per
            // channel.
            let t_bias = (t * bias.detach())?.sum(0)?.reshape((1, o, 1, 1))?;
            let g = t_conv
                .broadcast_add(&t_bias)?
                .ge(0f64)?
                .to_dtype(DType::F32)?; // [B, O, H', W']
                                        // pool(G ⊙ Z) = pool(G ⊙ conv) + bias ⊗ pool(G): the bias joins the pooled map.
            let gated = conv.broadcast_mul(&g.unsqueeze(1)?)?;
            let (gated, g_pooled) = if c.pool > 1 {
                let (hp, wp) = (ho / c.pool, wo / c.pool);
                (
                    gated
                        .reshape((b * k, o, ho, wo))?
                        .avg_pool2d(c.pool)?
                        .reshape((b, k, o, hp, wp))?,
                    g.avg_pool2d(c.pool)?,
                )
            } else {
                (gated, g.clone())
            };
            let a = (gated
                + g_pooled
                    .unsqueeze(1)?
                    .broadcast_mul(&bias.reshape((1, k, o, 1, 1))?)?)?;
            conv_gates.push(g);
            h = a;
        }
        // Flatten in (y, x, c) order.
        let h = h.permute((0, 1, 3, 4, 2))?.reshape((b, k, ()))?;
        let tail = shared_layers(h, &self.fc_w, &self.fc_b, &self.fc_t)?;
        Ok(VecConvForward {
            logits: tail.logits,
            conv_inputs,
            conv_gates,
            fc_inputs: tail.inputs,
            fc_gates: tail.gates,
        })
    }

    /// The "+" constraint: `clamp(W, min = 0)` for every kernel and weight past the first
    /// convolution; nothing in a plain network.
    pub fn clamp(&self) -> Result<()> {
        if self.config.mono {
            for w in self.conv_w[1..].iter().chain(&self.fc_w) {
                w.set(&w.as_tensor().relu()?)?;
            }
        }
        Ok(())
    }
}

/// The gradient of `Σ conv(x1, W) ⊙ x2` with respect to a square `[O, C, kernel, kernel]`
/// kernel `W`: the convolutional outer product of `x1` `[B, C, H, W]` and `x2`
/// `[B, O, H', W']` summed over the batch.
///
/// It is computed directly, as candle's backward computes a kernel's gradient: `x1ᵀ`
/// (`[C, B, H, W]`) convolved by `x2ᵀ` (`[O, B, H', W']`, the batch as channels) with the
/// stride as dilation, `[C, O, k', k']`, cut to the kernel's size — without autograd's forward
/// convolution and its gradient of `x1` (a transposed convolution), which cost more than this.
pub(crate) fn conv_outer(
    x1: &Tensor,
    x2: &Tensor,
    kernel: usize,
    padding: usize,
    stride: usize,
) -> Result<Tensor> {
    let (kh, kw) = (kernel, kernel);
    let g = x1
        .detach()
        .transpose(0, 1)?
        .conv2d(&x2.detach().transpose(0, 1)?, padding, 1, stride, 1)?
        .transpose(0, 1)?;
    let (_, _, gh, gw) = g.dims4()?;
    if gh < kh || gw < kw {
        return Err(GevbError::Shape(format!(
            "the outer product of {:?} and {:?} is {gh}×{gw}, smaller than the {kh}×{kw} kernel",
            x1.dims(),
            x2.dims()
        )));
    }
    Ok(g.narrow(2, 0, kh)?.narrow(3, 0, kw)?)
}

/// A stride-1 convolution whose backward pass computes the input's gradient as a convolution of
/// the output's gradient with the flipped, transposed kernel (padding `k − 1 − p`) and the
/// kernel's as [`conv_outer`]: the same numbers as candle's backward, which takes the input's
/// gradient by a transposed convolution, many times slower on the CPU. With `input_grad` false
/// the input's gradient is not computed at all (the image of the first layer).
struct FastConv {
    padding: usize,
    input_grad: bool,
}

impl FastConv {
    /// Whether it applies to a layer (stride 1, padding below the kernel size).
    fn applies(c: &VecConvLayer) -> bool {
        c.stride == 1 && c.padding < c.kernel
    }
}

/// A contiguous f32 operand of a custom op as a tensor (a copy).
fn operand(s: &candle_core::CpuStorage, l: &candle_core::Layout) -> candle_core::Result<Tensor> {
    let (a, b) = l
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg("gevb-conv2d needs contiguous operands".into()))?;
    Tensor::from_slice(&s.as_slice::<f32>()?[a..b], l.shape(), &Device::Cpu)
}

impl candle_core::CustomOp2 for FastConv {
    fn name(&self) -> &'static str {
        "gevb-conv2d"
    }

    fn cpu_fwd(
        &self,
        s1: &candle_core::CpuStorage,
        l1: &candle_core::Layout,
        s2: &candle_core::CpuStorage,
        l2: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        let y = operand(s1, l1)?.conv2d(&operand(s2, l2)?, self.padding, 1, 1, 1)?;
        let shape = y.shape().clone();
        Ok((
            candle_core::CpuStorage::F32(y.flatten_all()?.to_vec1::<f32>()?),
            shape,
        ))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let k = w.dim(2)?;
        let gx = if self.input_grad {
            let rev = Tensor::from_vec((0..k as u32).rev().collect::<Vec<_>>(), k, w.device())?;
            let flipped = w
                .index_select(&rev, 2)?
                .index_select(&rev, 3)?
                .transpose(0, 1)?
                .contiguous()?;
            Some(grad.conv2d(&flipped, k - 1 - self.padding, 1, 1, 1)?)
        } else {
            None
        };
        let gw = conv_outer(x, grad, k, self.padding, 1)
            .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        Ok((gx, Some(gw)))
    }
}

/// `x ∗ w` (padding `c.padding`, stride `c.stride`), through [`FastConv`] where it applies.
fn layer_conv(x: &Tensor, w: &Tensor, c: &VecConvLayer, input_grad: bool) -> Result<Tensor> {
    if FastConv::applies(c) {
        Ok(x.contiguous()?.apply_op2(
            &w.contiguous()?,
            FastConv {
                padding: c.padding,
                input_grad,
            },
        )?)
    } else {
        Ok(x.conv2d(w, c.padding, c.stride, 1, 1)?)
    }
}

/// GEVB's updates of a Conv-Vec network (see the module documentation and
/// [`super::rules`]).
pub fn gevb_conv_updates(net: &VecConv, fwd: &VecConvForward, e: &Tensor) -> Result<Updates> {
    let (b, k) = e.dims2()?;
    let inv_b = 1.0 / b as f64;
    let mut pairs = Vec::new();
    for (l, c) in net.config.convs.iter().enumerate() {
        let g = &fwd.conv_gates[l]; // [B, O, H', W']
        let o = g.dim(1)?;
        let input = &fwd.conv_inputs[l];
        let ks = c.kernel;
        let dw = if l == 0 {
            // Component k's block: e_k·x against G/B, all K blocks as K·C input channels
            // (`[B, K·C, H, W]`, K copies of the image — not the K·O-channel `e_k·G`).
            let (_, ci, hi, wi) = input.dims4()?;
            let x1 = input
                .detach()
                .unsqueeze(1)?
                .broadcast_mul(&e.reshape((b, k, 1, 1, 1))?)?
                .reshape((b, k * ci, hi, wi))?;
            (conv_outer(&x1, g, ks, c.padding, c.stride)? * inv_b)?
                .reshape((o, k, ci, ks, ks))?
                .permute((1, 0, 2, 3, 4))?
        } else {
            let x1 = input.broadcast_mul(&e.reshape((b, k, 1, 1, 1))?)?.sum(1)?; // [B, C, H, W]
            (conv_outer(&x1, g, ks, c.padding, c.stride)? * inv_b)?
        };
        let db = (e.t()?.matmul(&g.sum((2, 3))?)? * inv_b)?; // [K, O]
        pairs.push((format!("conv{l}.weight"), dw));
        pairs.push((format!("conv{l}.bias"), db));
    }
    gevb_shared_layers(e, &fwd.fc_inputs, &fwd.fc_gates, 0, &mut pairs)?;
    Updates::new(pairs)
}

impl RuleNetwork for VecConv {
    fn rules(&self) -> &'static [Rule] {
        &[Rule::Backprop, Rule::Gevb]
    }

    fn classes(&self) -> usize {
        self.config.classes
    }

    fn named_params(&self) -> Vec<(String, Var)> {
        VecConv::named_params(self)
    }

    fn logits(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.forward(x)?.logits)
    }

    fn check_batch(&self, x: &Tensor, y: &Tensor) -> Result<Vec<u32>> {
        let c = &self.config;
        check_image_batch(x, y, [c.in_channels, c.height, c.width], c.classes)
    }

    fn updates(&self, rule: Rule, x: &Tensor, y: &Tensor) -> Result<RuleOutput> {
        rule_output(
            self,
            "vectorized convolutional network",
            rule,
            (x, y),
            |x| {
                self.forward(x).map(|f| {
                    let l = f.logits.clone();
                    (f, l)
                })
            },
            |fwd, e| gevb_conv_updates(self, fwd, e),
        )
    }

    fn after_step(&self) -> Result<()> {
        self.clamp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `FastConv` gives candle's convolution and its gradients (input and kernel) at every
    /// padding below the kernel size; without `input_grad` the input gets no gradient.
    #[test]
    fn fast_conv_equals_the_convolution_and_its_gradients() {
        let dev = Device::Cpu;
        for (kernel, padding) in [(3, 0), (3, 1), (3, 2), (2, 0), (2, 1), (1, 0)] {
            let x = Var::randn(0f32, 1., (3, 2, 6, 5), &dev).unwrap();
            let w = Var::randn(0f32, 1., (4, 2, kernel, kernel), &dev).unwrap();
            let layer = VecConvLayer {
                channels: 4,
                kernel,
                stride: 1,
                padding,
                pool: 1,
            };
            assert!(FastConv::applies(&layer));
            let want = x.conv2d(w.as_tensor(), padding, 1, 1, 1).unwrap();
            let got = layer_conv(x.as_tensor(), w.as_tensor(), &layer, true).unwrap();
            let r = Tensor::randn(0f32, 1., want.dims(), &dev).unwrap();
            let gw = (want * &r).unwrap().sum_all().unwrap().backward().unwrap();
            let gg = (got * &r).unwrap().sum_all().unwrap().backward().unwrap();
            for v in [&x, &w] {
                let (a, b) = (
                    values(gw.get(v.as_tensor()).unwrap()),
                    values(gg.get(v.as_tensor()).unwrap()),
                );
                assert_eq!(a.len(), b.len());
                for (a, b) in a.iter().zip(&b) {
                    assert!((a - b).abs() < 1e-4, "k {kernel} p {padding}: {a} vs {b}");
                }
            }
            let no_input = layer_conv(x.as_tensor(), w.as_tensor(), &layer, false).unwrap();
            let g = no_input.sum_all().unwrap().backward().unwrap();
            assert!(g.get(x.as_tensor()).is_none() && g.get(w.as_tensor()).is_some());
        }
    }

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1().unwrap()
    }

    /// `conv_outer` equals autograd's kernel gradient of `Σ conv(x1, W) ⊙ x2`, with and
    /// without padding, at strides 1 to 3 (stride 2 on a 5×5 map: the direct product is 3×3 and
    /// is cut to the 2×2 kernel).
    #[test]
    fn conv_outer_equals_the_autograd_kernel_gradient() {
        let dev = Device::Cpu;
        for (kernel, padding, stride, hw) in
            [(3, 1, 1, 6), (2, 0, 2, 5), (3, 1, 2, 7), (3, 0, 3, 8)]
        {
            let x1 = Tensor::randn(0f32, 1., (3, 2, hw, hw), &dev).unwrap();
            let w = Var::randn(0f32, 1., (4, 2, kernel, kernel), &dev).unwrap();
            let z = x1.conv2d(w.as_tensor(), padding, stride, 1, 1).unwrap();
            let x2 = Tensor::randn(0f32, 1., z.dims(), &dev).unwrap();
            let grads = (z * &x2).unwrap().sum_all().unwrap().backward().unwrap();
            let want: Vec<f32> = grads
                .get(w.as_tensor())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let got = conv_outer(&x1, &x2, kernel, padding, stride).unwrap();
            assert_eq!(got.dims(), w.dims());
            let got: Vec<f32> = got.flatten_all().unwrap().to_vec1().unwrap();
            for (a, b) in got.iter().zip(&want) {
                assert!(
                    (a - b).abs() < 1e-4,
                    "kernel {kernel} stride {stride}: {a} vs {b}"
                );
            }
        }
    }
}
