//! The recurrent gated network (the authors' `Net` in `models/mnist_model.py`) and the
//! feed-forward control.
//!
//! Feed-forward: conv 1→20 (4×4) → ReLU → max-pool 2 → gate → conv 20→50 (4×4) → ReLU →
//! max-pool 2 → linear → 10 logits. Top-down, from the logits: linear 10 → 50·h₄·w₄ → tanh;
//! nearest-upsampled to conv2's output size and concatenated with the (upsampled) second
//! pooled map, transposed conv 100→20 (4×4) → tanh gives `m2` (the gate of conv2's input);
//! upsampled to conv1's output size, concatenated with the (upsampled) first pooled map —
//! taken before its gate —, transposed conv 40→1 (4×4) → tanh gives `m1` (the gate of the
//! input). Each iteration gates with the previous iteration's masks; an object starts from
//! zero masks (no gating, no IOR in its first iteration, as `initHidden` does), and every
//! iteration's new masks are forced to 1 under the IOR mask.
//!
//! Convolution + ReLU and pooling run on the workspace's kernels
//! (`neurogen_model::kernels::{conv2d_bias_relu, max_pool2x2}`): pooling in PyTorch's floor
//! mode (an odd last row or column is dropped) and with an exact gradient, which candle
//! 0.11's `max_pool2d` lacks (it scales the gradient by a quarter). Nearest
//! upsampling to a size that is not a multiple (4×8 → 9×16, 12×19 → 25×39) picks source
//! `⌊i·in/out⌋` as PyTorch's `nn.Upsample(size)` does, here by `index_select` (candle's
//! `upsample_nearest2d` has no gradient for non-integer factors). Transposed
//! convolutions are one matrix product and the workspace's col2im, the upsampling that
//! precedes them applied to the product's columns instead of its input (the same numbers for
//! a quarter of the product's cost; a test compares both orders).
use candle_core::{DType, Device, Tensor, Var, D};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};
use serde::{Deserialize, Serialize};

use neurogen_model::kernels;

use super::data::{SceneConfig, CLASSES};
use super::error::{config, shape, Result};
use super::gating::{extend_ior, gate, suppress};

/// Channels of the first convolution (20).
pub const C1: usize = 20;
/// Channels of the second convolution (50).
pub const C2: usize = 50;
/// Kernel side of every convolution (4).
pub const KERNEL: usize = 4;

/// The network's setting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AttentionConfig {
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Gating strength `s` (0.2: gains in `[0.8, 1.2]`).
    pub strength: f64,
    /// Iterations per object (5: four to settle the masks, one to report).
    pub iterations: usize,
}

impl AttentionConfig {
    /// The authors' setting for scenes of `scenes`' size: strength 0.2, 5 iterations.
    pub fn paper(scenes: &SceneConfig) -> Self {
        AttentionConfig {
            height: scenes.height(),
            width: scenes.width(),
            strength: 0.2,
            iterations: 5,
        }
    }

    /// Checks the setting and returns the feature-map sizes.
    pub fn validate(&self) -> Result<Shapes> {
        if !(self.strength.is_finite() && (0.0..=1.0).contains(&self.strength)) {
            return Err(config(format!(
                "gating strength must be in [0, 1], got {}",
                self.strength
            )));
        }
        if self.iterations == 0 {
            return Err(config("an object needs at least one iteration"));
        }
        Shapes::of(self.height, self.width)
    }
}

/// Feature-map sizes of the feed-forward path: `(h1, w1)` after conv1, `(h2, w2)` after the
/// first pooling, `(h3, w3)` after conv2, `(h4, w4)` after the second pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shapes {
    /// Input size.
    pub input: (usize, usize),
    /// Conv1 output.
    pub conv1: (usize, usize),
    /// First pooled map.
    pub pool1: (usize, usize),
    /// Conv2 output.
    pub conv2: (usize, usize),
    /// Second pooled map.
    pub pool2: (usize, usize),
}

impl Shapes {
    /// The sizes for an `h × w` input; an input too small for two conv+pool stages is an error.
    pub fn of(h: usize, w: usize) -> Result<Shapes> {
        let conv = |x: usize| x.checked_sub(KERNEL - 1).filter(|&v| v >= 2);
        let stage = |x: usize| -> Option<(usize, usize, usize, usize)> {
            let c1 = conv(x)?;
            let p1 = c1 / 2;
            let c2 = conv(p1)?;
            Some((c1, p1, c2, c2 / 2))
        };
        match (stage(h), stage(w)) {
            (Some((h1, h2, h3, h4)), Some((w1, w2, w3, w4))) => Ok(Shapes {
                input: (h, w),
                conv1: (h1, w1),
                pool1: (h2, w2),
                conv2: (h3, w3),
                pool2: (h4, w4),
            }),
            _ => Err(shape(format!(
                "a {h}×{w} input is too small for two 4×4 convolutions with 2×2 pooling (at least 13×13)"
            ))),
        }
    }

    /// Length of the flattened second pooled map (`50·h4·w4`).
    pub fn flat(&self) -> usize {
        C2 * self.pool2.0 * self.pool2.1
    }
}

/// PyTorch's default initialisation, `U(−1/√fan_in, 1/√fan_in)` for weights and biases.
fn uniform_var(
    rng: &mut ChaCha8Rng,
    dims: &[usize],
    fan_in: usize,
    device: &Device,
) -> Result<Var> {
    let b = 1.0 / (fan_in as f32).sqrt();
    let d = Uniform::new(-b, b).map_err(|e| config(format!("uniform init: {e}")))?;
    let n: usize = dims.iter().product();
    let v: Vec<f32> = (0..n).map(|_| d.sample(rng)).collect();
    Ok(Var::from_tensor(&Tensor::from_vec(v, dims, device)?)?)
}

/// Max pooling 2×2 in PyTorch's floor mode (the workspace's kernel: candle's own
/// `max_pool2d` scales its gradient by a quarter).
fn pool2(x: &Tensor) -> Result<Tensor> {
    Ok(kernels::max_pool2x2(x)?)
}

/// Nearest-neighbour upsampling to `(h, w)`: output `(i, j)` takes input
/// `(⌊i·in_h/h⌋, ⌊j·in_w/w⌋)`, by `index_select` on both axes (candle's
/// `upsample_nearest2d` has no gradient for these non-integer factors).
fn upsample(x: &Tensor, h: usize, w: usize) -> Result<Tensor> {
    let (_, _, ih, iw) = x.dims4()?;
    let idx = |n_in: usize, n_out: usize| -> Result<Tensor> {
        let v: Vec<u32> = (0..n_out).map(|i| (i * n_in / n_out) as u32).collect();
        Ok(Tensor::from_vec(v, n_out, x.device())?)
    };
    let x = x.index_select(&idx(ih, h)?, 2)?;
    Ok(x.index_select(&idx(iw, w)?, 3)?)
}

/// `relu(conv(x) + b)`, valid padding (the workspace's fused kernel on the CPU).
fn conv_relu(x: &Tensor, w: &Var, b: &Var) -> Result<Tensor> {
    Ok(kernels::conv2d_bias_relu(x, w, b, 0)?)
}

/// A transposed convolution, stride 1, no padding, `w` `[in, out, k, k]` as PyTorch stores
/// it, plus `b`: one matrix product `wᵀ·x` (`[out·k·k, N·H·W]`) and col2im, the adjoint of
/// the workspace's differentiable im2col (candle's own `conv_transpose2d` is a direct loop,
/// far slower on the CPU).
#[cfg(test)]
fn conv_t(x: &Tensor, w: &Var, b: &Var) -> Result<Tensor> {
    let (_, _, h, wd) = x.dims4()?;
    conv_t_upsampled(x, (h, wd), w, b)
}

/// `conv_t(upsample(x, h, w))`, the top-down path's "upsample, then transposed convolution",
/// computed in the cheaper order: the matrix product `wᵀ·x` runs on `x`'s own positions and
/// its columns are upsampled before col2im. Nearest upsampling only repeats positions and the
/// product mixes channels, not positions, so the two orders give the same columns; the
/// product shrinks by the upsampling factor (4.5× for conv2_t's 4×8 → 9×16, 4.3× for
/// conv1_t's 12×19 → 25×39).
fn conv_t_upsampled(x: &Tensor, (h, wd): (usize, usize), w: &Var, b: &Var) -> Result<Tensor> {
    let (n, c, ih, iw) = x.dims4()?;
    let (ci, co, k, _) = w.dims4()?;
    if ci != c {
        return Err(shape(format!(
            "a transposed convolution of {ci} input channels got {c}"
        )));
    }
    let xr = x
        .transpose(0, 1)?
        .contiguous()?
        .reshape((1, c, n * ih * iw))?;
    let wt = w.reshape((1, ci, co * k * k))?.transpose(1, 2)?;
    let cols = wt.matmul(&xr)?.reshape((co * k * k, n, ih, iw))?;
    let cols = if (ih, iw) == (h, wd) {
        cols
    } else {
        upsample(&cols, h, wd)?
    };
    let cols = cols.reshape((1, co * k * k, n * h * wd))?;
    let y = kernels::col2im(&cols, co, n, h + k - 1, wd + k - 1, k, k, 0)?;
    let y = y.squeeze(0)?.transpose(0, 1)?;
    Ok(y.broadcast_add(&b.reshape((1, co, 1, 1))?)?)
}

fn linear(x: &Tensor, w: &Var, b: &Var) -> Result<Tensor> {
    Ok(x.matmul(&w.t()?)?.broadcast_add(b)?)
}

fn check_input(x: &Tensor, h: usize, w: usize, dtype: DType) -> Result<usize> {
    match x.dims() {
        &[b, 1, xh, xw] if b > 0 && (xh, xw) == (h, w) => {
            if x.dtype() != dtype {
                return Err(shape(format!(
                    "input must be {dtype:?} like the parameters, got {:?}",
                    x.dtype()
                )));
            }
            Ok(b)
        }
        d => Err(shape(format!(
            "input must be [B ≥ 1, 1, {h}, {w}], got {d:?}"
        ))),
    }
}

/// A new variable holding `v` in `dtype`.
fn cast(v: &Var, dtype: DType) -> Result<Var> {
    Ok(Var::from_tensor(&v.as_tensor().to_dtype(dtype)?)?)
}

/// The feed-forward trunk shared by both networks: conv1 and conv2 with their biases.
#[derive(Debug, Clone)]
struct Trunk {
    conv1_w: Var,
    conv1_b: Var,
    conv2_w: Var,
    conv2_b: Var,
}

impl Trunk {
    fn new(rng: &mut ChaCha8Rng, device: &Device) -> Result<Trunk> {
        let f1 = KERNEL * KERNEL;
        let f2 = C1 * KERNEL * KERNEL;
        Ok(Trunk {
            conv1_w: uniform_var(rng, &[C1, 1, KERNEL, KERNEL], f1, device)?,
            conv1_b: uniform_var(rng, &[C1], f1, device)?,
            conv2_w: uniform_var(rng, &[C2, C1, KERNEL, KERNEL], f2, device)?,
            conv2_b: uniform_var(rng, &[C2], f2, device)?,
        })
    }

    fn dtype(&self) -> DType {
        self.conv1_w.dtype()
    }

    fn to_dtype(&self, dtype: DType) -> Result<Trunk> {
        Ok(Trunk {
            conv1_w: cast(&self.conv1_w, dtype)?,
            conv1_b: cast(&self.conv1_b, dtype)?,
            conv2_w: cast(&self.conv2_w, dtype)?,
            conv2_b: cast(&self.conv2_b, dtype)?,
        })
    }

    fn params(&self) -> Vec<(String, Var)> {
        vec![
            ("conv1.weight".into(), self.conv1_w.clone()),
            ("conv1.bias".into(), self.conv1_b.clone()),
            ("conv2.weight".into(), self.conv2_w.clone()),
            ("conv2.bias".into(), self.conv2_b.clone()),
        ]
    }
}

/// One iteration of the gated network: what it reported and the masks it sends back.
#[derive(Debug, Clone)]
pub struct Iteration {
    /// `[B, 10]` logits.
    pub logits: Tensor,
    /// The gated input `x·(1 − s·m1)`, `[B, 1, H, W]` (the code's `latent["in"]`).
    pub gated: Tensor,
    /// Conv1's output after ReLU, `[B, 20, h1, w1]`.
    pub conv1: Tensor,
    /// Conv2's output after ReLU, `[B, 50, h3, w3]`.
    pub conv2: Tensor,
    /// The new input mask `m1`, `[B, 1, H, W]`, before inhibition of return.
    pub m1: Tensor,
    /// The new conv2-input mask `m2`, `[B, 20, h2, w2]`, before inhibition of return.
    pub m2: Tensor,
}

/// The inhibition-of-return masks of the input (`[B, 1, H, W]`) and of conv2's input
/// (`[B, 20, h2, w2]`), 0/1.
#[derive(Debug, Clone)]
pub struct Ior {
    /// Input IOR mask.
    pub m1: Tensor,
    /// Conv2-input IOR mask.
    pub m2: Tensor,
}

/// What attending one object produced: the last iteration's report and the masks it used.
#[derive(Debug, Clone)]
pub struct ObjectPass {
    /// `[B, 10]` logits of the last iteration.
    pub logits: Tensor,
    /// The last iteration's gated input.
    pub gated: Tensor,
    /// The input mask the last iteration gated with (the code's `hidden["conv1_in"]` after
    /// `iterations − 1` steps; the one the inhibition analysis reads).
    pub m1: Tensor,
    /// The conv2-input mask the last iteration gated with.
    pub m2: Tensor,
    /// Conv1's output in the last iteration.
    pub conv1: Tensor,
    /// Conv2's output in the last iteration.
    pub conv2: Tensor,
    /// Conv1's output in the first iteration (no gating), detached.
    pub conv1_ungated: Tensor,
    /// Conv2's output in the first iteration (no gating), detached.
    pub conv2_ungated: Tensor,
    /// The IOR masks for the next object (this object's attended units added).
    pub ior: Ior,
}

/// The recurrent network with top-down gating and inhibition of return.
///
/// Parameters are named as the authors' PyTorch module names them (`conv1.weight`,
/// `conv2_t.bias`, `linear_out_t.weight`, ...); a transposed convolution's weight is
/// `[in, out, 4, 4]` as in PyTorch.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use neurogen_studies::lei2021_attention::{AttentionConfig, AttentionNet, SceneConfig};
/// let net = AttentionNet::new(AttentionConfig::paper(&SceneConfig::paper()), 0, &Device::Cpu)?;
/// let x = Tensor::zeros((2, 1, 28, 42), DType::F32, &Device::Cpu)?;
/// let ior = net.empty_ior(2)?;
/// let pass = net.attend(&x, &ior)?;
/// assert_eq!(pass.logits.dims(), &[2, 10]);
/// assert_eq!(pass.m2.dims(), &[2, 20, 12, 19]);
/// # Ok::<(), neurogen_studies::lei2021_attention::AttentionError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AttentionNet {
    config: AttentionConfig,
    shapes: Shapes,
    trunk: Trunk,
    out_w: Var,
    out_b: Var,
    out_t_w: Var,
    out_t_b: Var,
    conv2_t_w: Var,
    conv2_t_b: Var,
    conv1_t_w: Var,
    conv1_t_b: Var,
    device: Device,
}

impl AttentionNet {
    /// A network with PyTorch's default initialisation drawn from `seed`.
    pub fn new(config: AttentionConfig, seed: u64, device: &Device) -> Result<Self> {
        let shapes = config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let trunk = Trunk::new(&mut rng, device)?;
        let flat = shapes.flat();
        let k2 = KERNEL * KERNEL;
        Ok(AttentionNet {
            config,
            shapes,
            trunk,
            out_w: uniform_var(&mut rng, &[CLASSES, flat], flat, device)?,
            out_b: uniform_var(&mut rng, &[CLASSES], flat, device)?,
            out_t_w: uniform_var(&mut rng, &[flat, CLASSES], CLASSES, device)?,
            out_t_b: uniform_var(&mut rng, &[flat], CLASSES, device)?,
            // PyTorch's fan-in of a transposed convolution's `[in, out, k, k]` weight is out·k².
            conv2_t_w: uniform_var(&mut rng, &[2 * C2, C1, KERNEL, KERNEL], C1 * k2, device)?,
            conv2_t_b: uniform_var(&mut rng, &[C1], C1 * k2, device)?,
            conv1_t_w: uniform_var(&mut rng, &[2 * C1, 1, KERNEL, KERNEL], k2, device)?,
            conv1_t_b: uniform_var(&mut rng, &[1], k2, device)?,
            device: device.clone(),
        })
    }

    /// A copy with every parameter in `dtype` (new variables; f64 for gradient checks).
    /// Inputs must then be of that dtype.
    pub fn to_dtype(&self, dtype: DType) -> Result<Self> {
        Ok(AttentionNet {
            config: self.config,
            shapes: self.shapes,
            trunk: self.trunk.to_dtype(dtype)?,
            out_w: cast(&self.out_w, dtype)?,
            out_b: cast(&self.out_b, dtype)?,
            out_t_w: cast(&self.out_t_w, dtype)?,
            out_t_b: cast(&self.out_t_b, dtype)?,
            conv2_t_w: cast(&self.conv2_t_w, dtype)?,
            conv2_t_b: cast(&self.conv2_t_b, dtype)?,
            conv1_t_w: cast(&self.conv1_t_w, dtype)?,
            conv1_t_b: cast(&self.conv1_t_b, dtype)?,
            device: self.device.clone(),
        })
    }

    /// The parameters' dtype (f32 unless [`AttentionNet::to_dtype`] changed it).
    pub fn dtype(&self) -> DType {
        self.trunk.dtype()
    }

    /// The setting.
    pub fn config(&self) -> &AttentionConfig {
        &self.config
    }

    /// The feature-map sizes.
    pub fn shapes(&self) -> &Shapes {
        &self.shapes
    }

    /// The device the parameters live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Every parameter with its PyTorch name.
    pub fn named_params(&self) -> Vec<(String, Var)> {
        let mut p = self.trunk.params();
        p.extend([
            ("linear_out.weight".into(), self.out_w.clone()),
            ("linear_out.bias".into(), self.out_b.clone()),
            ("linear_out_t.weight".into(), self.out_t_w.clone()),
            ("linear_out_t.bias".into(), self.out_t_b.clone()),
            ("conv2_t.weight".into(), self.conv2_t_w.clone()),
            ("conv2_t.bias".into(), self.conv2_t_b.clone()),
            ("conv1_t.weight".into(), self.conv1_t_w.clone()),
            ("conv1_t.bias".into(), self.conv1_t_b.clone()),
        ]);
        p
    }

    /// Zero masks (no gating) for a batch of `b`: `(m1, m2)`.
    pub fn zero_masks(&self, b: usize) -> Result<(Tensor, Tensor)> {
        let (h, w) = self.shapes.input;
        let (h2, w2) = self.shapes.pool1;
        Ok((
            Tensor::zeros((b, 1, h, w), self.dtype(), &self.device)?,
            Tensor::zeros((b, C1, h2, w2), self.dtype(), &self.device)?,
        ))
    }

    /// An empty IOR mask (nothing attended yet) for a batch of `b`.
    pub fn empty_ior(&self, b: usize) -> Result<Ior> {
        let (m1, m2) = self.zero_masks(b)?;
        Ok(Ior { m1, m2 })
    }

    fn check_masks(&self, b: usize, m1: &Tensor, m2: &Tensor, what: &str) -> Result<()> {
        let (h, w) = self.shapes.input;
        let (h2, w2) = self.shapes.pool1;
        if m1.dims() != [b, 1, h, w] || m2.dims() != [b, C1, h2, w2] {
            return Err(shape(format!(
                "{what} must be [{b}, 1, {h}, {w}] and [{b}, {C1}, {h2}, {w2}], got {:?} and {:?}",
                m1.dims(),
                m2.dims()
            )));
        }
        Ok(())
    }

    /// One iteration: gate the input with `m1` and conv2's input with `m2`, report, and
    /// compute the new masks (before inhibition of return).
    pub fn step(&self, x: &Tensor, m1: &Tensor, m2: &Tensor) -> Result<Iteration> {
        let (h, w) = self.shapes.input;
        let b = check_input(x, h, w, self.dtype())?;
        self.check_masks(b, m1, m2, "the masks")?;
        let s = self.config.strength;
        let gated = gate(x, m1, s)?;
        let conv1 = conv_relu(&gated, &self.trunk.conv1_w, &self.trunk.conv1_b)?;
        let pool1 = pool2(&conv1)?;
        let conv2 = conv_relu(
            &gate(&pool1, m2, s)?,
            &self.trunk.conv2_w,
            &self.trunk.conv2_b,
        )?;
        let pool2_out = pool2(&conv2)?;
        let logits = linear(&pool2_out.flatten_from(1)?, &self.out_w, &self.out_b)?;

        let (h4, w4) = self.shapes.pool2;
        let top = linear(&logits, &self.out_t_w, &self.out_t_b)?
            .tanh()?
            .reshape((b, C2, h4, w4))?;
        // Upsampling each map and concatenating is concatenating and upsampling; the
        // upsampling happens inside `conv_t_upsampled`, after its matrix product.
        let cat2 = Tensor::cat(&[&top, &pool2_out], 1)?;
        let new_m2 =
            conv_t_upsampled(&cat2, self.shapes.conv2, &self.conv2_t_w, &self.conv2_t_b)?.tanh()?;
        let cat1 = Tensor::cat(&[&new_m2, &pool1], 1)?;
        let new_m1 =
            conv_t_upsampled(&cat1, self.shapes.conv1, &self.conv1_t_w, &self.conv1_t_b)?.tanh()?;
        Ok(Iteration {
            logits,
            gated,
            conv1,
            conv2,
            m1: new_m1,
            m2: new_m2,
        })
    }

    /// Attends one object: `iterations` steps from zero masks, each step's masks forced to
    /// maximal suppression under `ior`; the IOR mask for the next object is `ior` plus the
    /// units whose mask is below 0.5 in the last iteration's gate (the code's `new_out_mask`).
    /// The graph runs through all iterations (backpropagation through time).
    pub fn attend(&self, x: &Tensor, ior: &Ior) -> Result<ObjectPass> {
        let (h, w) = self.shapes.input;
        let b = check_input(x, h, w, self.dtype())?;
        self.check_masks(b, &ior.m1, &ior.m2, "the IOR masks")?;
        let (mut m1, mut m2) = self.zero_masks(b)?;
        let mut ungated = None;
        let mut last = None;
        for t in 0..self.config.iterations {
            let it = self.step(x, &m1, &m2)?;
            if t == 0 {
                ungated = Some((it.conv1.detach(), it.conv2.detach()));
            }
            if t + 1 == self.config.iterations {
                last = Some(it);
            } else {
                m1 = suppress(&it.m1, &ior.m1)?;
                m2 = suppress(&it.m2, &ior.m2)?;
            }
        }
        let (Some(last), Some((conv1_ungated, conv2_ungated))) = (last, ungated) else {
            return Err(config("an object needs at least one iteration"));
        };
        let next = Ior {
            m1: extend_ior(&ior.m1, &m1)?,
            m2: extend_ior(&ior.m2, &m2)?,
        };
        Ok(ObjectPass {
            logits: last.logits,
            gated: last.gated,
            m1,
            m2,
            conv1: last.conv1,
            conv2: last.conv2,
            conv1_ungated,
            conv2_ungated,
            ior: next,
        })
    }
}

/// The control: the same feed-forward path without top-down gating, reporting every object
/// at once through one 10-way head per scene position (`[B, objects, 10]` logits).
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use neurogen_studies::lei2021_attention::{FeedForwardNet, SceneConfig};
/// let net = FeedForwardNet::new(&SceneConfig::paper(), 0, &Device::Cpu)?;
/// let x = Tensor::zeros((3, 1, 28, 42), DType::F32, &Device::Cpu)?;
/// assert_eq!(net.logits(&x)?.dims(), &[3, 2, 10]);
/// # Ok::<(), neurogen_studies::lei2021_attention::AttentionError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FeedForwardNet {
    objects: usize,
    shapes: Shapes,
    trunk: Trunk,
    out_w: Var,
    out_b: Var,
}

impl FeedForwardNet {
    /// A control network for scenes of `scenes`' setting, PyTorch's default initialisation
    /// drawn from `seed`.
    pub fn new(scenes: &SceneConfig, seed: u64, device: &Device) -> Result<Self> {
        scenes.validate()?;
        let shapes = Shapes::of(scenes.height(), scenes.width())?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let trunk = Trunk::new(&mut rng, device)?;
        let flat = shapes.flat();
        let out = scenes.objects * CLASSES;
        Ok(FeedForwardNet {
            objects: scenes.objects,
            shapes,
            trunk,
            out_w: uniform_var(&mut rng, &[out, flat], flat, device)?,
            out_b: uniform_var(&mut rng, &[out], flat, device)?,
        })
    }

    /// Number of objects it reports.
    pub fn objects(&self) -> usize {
        self.objects
    }

    /// Every parameter with its name (`conv1.weight`, ..., `linear_out.bias`).
    pub fn named_params(&self) -> Vec<(String, Var)> {
        let mut p = self.trunk.params();
        p.push(("linear_out.weight".into(), self.out_w.clone()));
        p.push(("linear_out.bias".into(), self.out_b.clone()));
        p
    }

    /// `[B, objects, 10]` logits: head `k` names the object at position `k`.
    pub fn logits(&self, x: &Tensor) -> Result<Tensor> {
        let (h, w) = self.shapes.input;
        let b = check_input(x, h, w, self.trunk.dtype())?;
        let a = pool2(&conv_relu(x, &self.trunk.conv1_w, &self.trunk.conv1_b)?)?;
        let a = pool2(&conv_relu(&a, &self.trunk.conv2_w, &self.trunk.conv2_b)?)?;
        let out = linear(&a.flatten_from(1)?, &self.out_w, &self.out_b)?;
        Ok(out.reshape((b, self.objects, CLASSES))?)
    }
}

/// Index of the largest entry of each row of `[B, C]` logits.
pub(crate) fn argmax_rows(logits: &Tensor) -> Result<Vec<u32>> {
    Ok(logits.argmax(D::Minus1)?.to_vec1::<u32>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn im2col_transposed_convolution_matches_candles() {
        let d = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (3, 6, 5, 7), &d).unwrap();
        let w = Var::from_tensor(&Tensor::randn(0f32, 1.0, (6, 4, 4, 4), &d).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::randn(0f32, 1.0, 4, &d).unwrap()).unwrap();
        let ours = conv_t(&x, &w, &b).unwrap();
        let theirs = x
            .conv_transpose2d(&w, 0, 0, 1, 1)
            .unwrap()
            .broadcast_add(&b.reshape((1, 4, 1, 1)).unwrap())
            .unwrap();
        assert_eq!(ours.dims(), &[3, 4, 8, 10]);
        let diff = ours.sub(&theirs).unwrap().abs().unwrap().max_all().unwrap();
        assert!(diff.to_scalar::<f32>().unwrap() < 1e-4);
    }

    /// The reordered top-down step (product, then upsampling of the columns) gives the
    /// values and gradients of the direct one (upsampling, then transposed convolution) at
    /// both of the network's sizes.
    #[test]
    fn upsampling_the_columns_equals_upsampling_the_input() {
        let d = Device::Cpu;
        for (c, co, (ih, iw), (h, w)) in [(100, 20, (4, 8), (9, 16)), (40, 1, (12, 19), (25, 39))] {
            let x =
                Var::from_tensor(&Tensor::randn(0f32, 1.0, (3, c, ih, iw), &d).unwrap()).unwrap();
            let wt =
                Var::from_tensor(&Tensor::randn(0f32, 0.1, (c, co, 4, 4), &d).unwrap()).unwrap();
            let b = Var::from_tensor(&Tensor::randn(0f32, 1.0, co, &d).unwrap()).unwrap();
            let direct = conv_t(&upsample(&x, h, w).unwrap(), &wt, &b).unwrap();
            let ours = conv_t_upsampled(&x, (h, w), &wt, &b).unwrap();
            assert_eq!(ours.dims(), &[3, co, h + 3, w + 3]);
            let close = |a: &Tensor, b: &Tensor| {
                let scale = b
                    .abs()
                    .unwrap()
                    .max_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap();
                let diff = a.sub(b).unwrap().abs().unwrap().max_all().unwrap();
                let diff = diff.to_scalar::<f32>().unwrap();
                assert!(diff <= 1e-5 * scale.max(1.0), "{diff} of {scale}");
            };
            close(&ours, &direct);
            // A loss that weights every output differently, so every gradient path counts.
            let weights = Tensor::randn(0f32, 1.0, ours.dims(), &d).unwrap();
            let ga = ours
                .mul(&weights)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            let gb = direct
                .mul(&weights)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            for v in [&x, &wt, &b] {
                close(ga.get(v).unwrap(), gb.get(v).unwrap());
            }
        }
    }

    #[test]
    fn upsampling_picks_floor_of_i_times_in_over_out() {
        let d = Device::Cpu;
        let x = Tensor::arange(0f32, 4.0, &d)
            .unwrap()
            .reshape((1, 1, 1, 4))
            .unwrap();
        let y = upsample(&x, 2, 9).unwrap();
        let y = y
            .squeeze(0)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        // PyTorch's nn.Upsample(size=(2, 9)) of [0, 1, 2, 3]: floor(i · 4 / 9).
        let row = vec![0f32, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0];
        assert_eq!(y, vec![row.clone(), row]);
    }
}
