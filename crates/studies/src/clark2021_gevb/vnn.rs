//! The vectorized fully connected network (the paper's "FC-Vec", the authors' `vnn.Linear` +
//! `vnn.tReLU`).
//!
//! Every hidden unit is a K-vector (K = number of classes): layer `ℓ`'s activity is
//! `H ∈ R^{B×K×n}`. Past the first layer a weight is one scalar shared by the K components,
//! `Z = W·H_prev + B` with `W ∈ R^{n×n_prev}` and `B ∈ R^{K×n}`. In the first layer component
//! `k` sees the input through its own `n×d` matrix: the authors expand the input
//! block-diagonally (`expand_input`, `[B, K, K·d]`) and multiply by one `n×K·d` matrix; here
//! the weight is stored as `[K, n, d]` and applied as a single `[B, d]×[d, K·n]` product, the
//! same numbers without the K-fold zeros. Its initialisation is the authors' for the `n×K·d`
//! matrix (std `1/sqrt(K·d)`, ON/OFF-paired rows in "+" networks) scaled by `√K`.
//!
//! The gating nonlinearity is `H_i = G_i·Z_i` with `G_i = 1[t_i·Z_i ≥ 0]` (the dot product over
//! the K components), `t_i ∈ {±1}^K` fixed and random in ON/OFF pairs `t_{2j+1} = −t_{2j}`.
//! The gate is computed from detached values, as the authors do: its derivative is zero
//! almost everywhere, so autograd through the gated network is exact backprop.
//!
//! The output layer has one unit: `y = W_L·H_{L−1} + B_L ∈ R^K` are the K logits.
//!
//! "+" (mono) networks keep every weight past the first layer ≥ 0: the ON/OFF-paired
//! initialisation of [`super::init`] and [`VecFc::clamp`] (`clamp(W, min = 0)`) after every
//! optimiser step.
use candle_core::{DType, Device, Tensor, Var};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::data::check_batch;
use super::error::{GevbError, Result};
use super::init::{linear_weight, on_off_signs};

/// The shape of a vectorized FC network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VecFcConfig {
    /// K: the number of classes, the length of every unit's vector.
    pub classes: usize,
    /// `d`: the length of a flattened input.
    pub input_dim: usize,
    /// Widths of the hidden layers (each even: ON/OFF pairs).
    pub hidden: Vec<usize>,
    /// "+" network: weights past the first layer start and stay ≥ 0.
    pub mono: bool,
}

impl VecFcConfig {
    /// The paper's MNIST FC-Vec: `784·10 → 1024 → 512 → 1` (also Fashion-MNIST's shape).
    pub fn mnist(mono: bool) -> Self {
        VecFcConfig {
            classes: 10,
            input_dim: 784,
            hidden: vec![1024, 512],
            mono,
        }
    }

    /// The paper's CIFAR-10 FC-Vec: `3072·10 → 1024 → 512 → 512 → 1`.
    pub fn cifar10(mono: bool) -> Self {
        VecFcConfig {
            classes: 10,
            input_dim: 3072,
            hidden: vec![1024, 512, 512],
            mono,
        }
    }

    /// Checks the shape: at least two classes, a nonzero input, at least one hidden layer,
    /// every hidden width even and nonzero.
    pub fn validate(&self) -> Result<()> {
        if self.classes < 2 {
            return Err(GevbError::Config(format!(
                "a classifier needs at least 2 classes, got {}",
                self.classes
            )));
        }
        if self.input_dim == 0 {
            return Err(GevbError::Config("the input dimension is 0".into()));
        }
        if self.hidden.is_empty() {
            return Err(GevbError::Config(
                "a vectorized network needs at least one hidden layer".into(),
            ));
        }
        if let Some((l, &n)) = self
            .hidden
            .iter()
            .enumerate()
            .find(|(_, &n)| n == 0 || n % 2 != 0)
        {
            return Err(GevbError::Config(format!(
                "hidden layer {l} has width {n}: gated units come in ON/OFF pairs, widths must be even and > 0"
            )));
        }
        Ok(())
    }
}

/// What a forward pass saw, for the learning rules.
#[derive(Debug, Clone)]
pub struct VecForward {
    /// `[B, K]` logits.
    pub logits: Tensor,
    /// The input of each layer: `[B, d]` for layer 0, then `[B, K, n_ℓ]` hidden activities.
    pub inputs: Vec<Tensor>,
    /// The gate `G` of each hidden layer, `[B, n_ℓ]` f32 (0 or 1).
    pub gates: Vec<Tensor>,
}

/// A vectorized FC network (K ≥ 2 classes, one or more gated hidden layers, one output unit).
///
/// Parameters, in order: `fc0.weight` `[K, n_1, d]`, `fc0.bias` `[K, n_1]`, then for each
/// later layer `ℓ` `fcℓ.weight` `[n_ℓ, n_{ℓ−1}]` (the output layer's is `[1, n_L]`) and
/// `fcℓ.bias` `[K, n_ℓ]`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use neurogen_studies::clark2021_gevb::{VecFc, VecFcConfig};
/// let cfg = VecFcConfig { classes: 3, input_dim: 4, hidden: vec![6, 4], mono: true };
/// let net = VecFc::new(&cfg, 0, &Device::Cpu)?;
/// let x = Tensor::zeros((5, 4), candle_core::DType::F32, &Device::Cpu)?;
/// assert_eq!(net.forward(&x)?.logits.dims(), &[5, 3]);
/// # Ok::<(), neurogen_studies::clark2021_gevb::GevbError>(())
/// ```
#[derive(Debug, Clone)]
pub struct VecFc {
    config: VecFcConfig,
    weights: Vec<Var>,
    biases: Vec<Var>,
    signs: Vec<Tensor>,
}

impl VecFc {
    /// A network with the authors' initialisation, seeded (weights, then signs, from one
    /// ChaCha8 stream), on `device`.
    pub fn new(config: &VecFcConfig, seed: u64, device: &Device) -> Result<Self> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (k, d) = (config.classes, config.input_dim);
        let n1 = config.hidden[0];
        // The authors' n×(K·d) first-layer matrix, scaled by √K, then split into K blocks.
        let dense = linear_weight(&mut rng, n1, k * d, true, config.mono)?;
        let scale = (k as f32).sqrt();
        let dense: Vec<f32> = dense.into_iter().map(|v| v * scale).collect();
        let w0 = Tensor::from_vec(dense, (n1, k, d), device)?
            .permute((1, 0, 2))?
            .contiguous()?;
        let mut weights = vec![Var::from_tensor(&w0)?];
        let mut widths = config.hidden.clone();
        widths.push(1);
        for l in 1..widths.len() {
            let (out, inp) = (widths[l], widths[l - 1]);
            let w = linear_weight(&mut rng, out, inp, false, config.mono)?;
            weights.push(Var::from_tensor(&Tensor::from_vec(w, (out, inp), device)?)?);
        }
        let biases = widths
            .iter()
            .map(|&n| Var::zeros((k, n), DType::F32, device))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let signs = config
            .hidden
            .iter()
            .map(|&n| {
                Ok(Tensor::from_vec(
                    on_off_signs(&mut rng, k, n)?,
                    (k, n),
                    device,
                )?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(VecFc {
            config: config.clone(),
            weights,
            biases,
            signs,
        })
    }

    /// The network's shape.
    pub fn config(&self) -> &VecFcConfig {
        &self.config
    }

    /// Number of weight layers (hidden layers + the output layer).
    pub fn layers(&self) -> usize {
        self.weights.len()
    }

    /// Layer `ℓ`'s weight (see the type's documentation for shapes).
    pub fn weight(&self, l: usize) -> Result<&Var> {
        self.weights.get(l).ok_or_else(|| self.no_layer(l))
    }

    /// Layer `ℓ`'s bias `[K, n_ℓ]`.
    pub fn bias(&self, l: usize) -> Result<&Var> {
        self.biases.get(l).ok_or_else(|| self.no_layer(l))
    }

    /// Hidden layer `ℓ`'s fixed signs `t`, `[K, n_ℓ]` of ±1.
    pub fn signs(&self, l: usize) -> Result<&Tensor> {
        self.signs.get(l).ok_or_else(|| {
            GevbError::Config(format!(
                "hidden layer {l} does not exist (the network has {})",
                self.signs.len()
            ))
        })
    }

    fn no_layer(&self, l: usize) -> GevbError {
        GevbError::Config(format!(
            "layer {l} does not exist (the network has {} weight layers)",
            self.weights.len()
        ))
    }

    /// Parameters with their names, in the order of the type's documentation.
    pub fn named_params(&self) -> Vec<(String, Var)> {
        let mut v = Vec::with_capacity(2 * self.weights.len());
        for (l, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            v.push((format!("fc{l}.weight"), w.clone()));
            v.push((format!("fc{l}.bias"), b.clone()));
        }
        v
    }

    /// The forward pass on `[B, d]` f32 inputs (checked), keeping what the rules need.
    pub fn forward(&self, x: &Tensor) -> Result<VecForward> {
        let (k, d) = (self.config.classes, self.config.input_dim);
        let dims = x.dims();
        if dims.len() != 2 || dims[1] != d || dims[0] == 0 || x.dtype() != DType::F32 {
            return Err(GevbError::Shape(format!(
                "inputs must be f32 [batch ≥ 1, {d}] (flattened images), got {:?} {dims:?}",
                x.dtype()
            )));
        }
        let b = dims[0];
        // The first layer: [B, d] × [d, K·n], the K blocks in one product.
        let n = self.biases[0].dim(1)?;
        let z = x
            .matmul(&self.weights[0].as_tensor().reshape((k * n, d))?.t()?)?
            .reshape((b, k, n))?
            .broadcast_add(self.biases[0].as_tensor())?;
        let g = gate(&z, &self.signs[0])?;
        let h = z.broadcast_mul(&g.unsqueeze(1)?)?;
        let tail = shared_layers(h, &self.weights[1..], &self.biases[1..], &self.signs[1..])?;
        Ok(VecForward {
            logits: tail.logits,
            inputs: std::iter::once(x.clone()).chain(tail.inputs).collect(),
            gates: std::iter::once(g).chain(tail.gates).collect(),
        })
    }

    /// `[B, K]` logits of `[B, d]` inputs.
    pub fn logits(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.forward(x)?.logits)
    }

    /// The "+" constraint: `clamp(W, min = 0)` for every weight past the first layer (the
    /// authors' `post_step_callback`); nothing in a plain network.
    pub fn clamp(&self) -> Result<()> {
        if self.config.mono {
            for w in &self.weights[1..] {
                w.set(&w.as_tensor().relu()?)?;
            }
        }
        Ok(())
    }

    /// Checks a labelled minibatch against the network's shape; returns the labels.
    pub fn check_batch(&self, x: &Tensor, y: &Tensor) -> Result<Vec<u32>> {
        check_batch(x, y, self.config.input_dim, self.config.classes)
    }
}

/// What a stack of layers saw: the `[B, K]` logits, the input of each layer and the gate of
/// each hidden one.
pub(crate) struct Layers {
    pub(crate) logits: Tensor,
    pub(crate) inputs: Vec<Tensor>,
    pub(crate) gates: Vec<Tensor>,
}

/// Gated layers of shared scalar weights from `h` (`[B, K, n_0]`) on, the last one the output
/// unit (no gate): `weights` and `biases` per layer, `signs` per hidden layer.
pub(crate) fn shared_layers(
    mut h: Tensor,
    weights: &[Var],
    biases: &[Var],
    signs: &[Tensor],
) -> Result<Layers> {
    let last = weights.len() - 1;
    let (mut inputs, mut gates) = (Vec::with_capacity(last + 1), Vec::with_capacity(last));
    for l in 0..last {
        inputs.push(h.clone());
        let z = shared_linear(&h, weights[l].as_tensor(), biases[l].as_tensor())?;
        let g = gate(&z, &signs[l])?;
        h = z.broadcast_mul(&g.unsqueeze(1)?)?;
        gates.push(g);
    }
    inputs.push(h.clone());
    let logits =
        shared_linear(&h, weights[last].as_tensor(), biases[last].as_tensor())?.squeeze(2)?;
    Ok(Layers {
        logits,
        inputs,
        gates,
    })
}

/// A layer of scalar weights shared over the K components: `h` `[B, K, n_in]`, `w`
/// `[n, n_in]`, `b` `[K, n]`; returns `Z = W·H + B`, `[B, K, n]`.
pub(crate) fn shared_linear(h: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (bsz, k, n_in) = h.dims3()?;
    let n = w.dim(0)?;
    Ok(h.reshape((bsz * k, n_in))?
        .matmul(&w.t()?)?
        .reshape((bsz, k, n))?
        .broadcast_add(b)?)
}

/// `G = 1[Σ_k t_k·Z_k ≥ 0]`: `z` `[B, K, ...]`, `t` `[K, ...]` (broadcast); returns `[B, ...]`
/// f32, no gradient.
pub(crate) fn gate(z: &Tensor, t: &Tensor) -> Result<Tensor> {
    let s = z.detach().broadcast_mul(t)?.sum(1)?;
    Ok(s.ge(0f64)?.to_dtype(DType::F32)?)
}
