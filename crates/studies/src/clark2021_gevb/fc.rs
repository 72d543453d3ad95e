//! The conventional (non-vectorized) FC network of the baselines (the authors'
//! `nonvec_models.make_*_nonvec_fc` with `dfa_util.init_model`), for DFA and backprop.
//!
//! Hidden layers use the authors' `aReLU`: a ReLU whose sign alternates over the units,
//! `h_i = z_i·1[t_i·z_i ≥ 0]` with `t_{2j} = −1`, `t_{2j+1} = +1` (even units pass negative
//! values, odd units positive ones) — the scalar counterpart of the vectorized gate. The
//! output layer has K units. Initialisation is the authors' (plain or "+", see
//! [`super::init`]), biases zero; a "+" network clamps every weight past the first layer at 0
//! after each step (`dfa_util.rectify_grads`).
//!
//! The workspace's `neurogen_model::Cnn` (`ModelConfig::mlp`) is not reused: it has plain
//! ReLUs and PyTorch's default initialisation, and its training loop has no seat for DFA's
//! feedback; the baseline would not be the authors'.
use candle_core::{DType, Device, Tensor, Var};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::data::check_batch;
use super::error::{GevbError, Result};
use super::init::{linear_weight, uniform};
use super::vnn::Layers;

/// The shape of a conventional FC network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FcConfig {
    /// Number of classes (output units).
    pub classes: usize,
    /// Length of a flattened input.
    pub input_dim: usize,
    /// Widths of the hidden layers (each even: alternating signs in pairs).
    pub hidden: Vec<usize>,
    /// "+" network: weights past the first layer start and stay ≥ 0, DFA's feedback is ≥ 0.
    pub mono: bool,
}

impl FcConfig {
    /// The paper's MNIST FC: `784 → 1024 → 512 → 10`.
    pub fn mnist(mono: bool) -> Self {
        FcConfig {
            classes: 10,
            input_dim: 784,
            hidden: vec![1024, 512],
            mono,
        }
    }

    /// The paper's CIFAR-10 FC: `3072 → 1024 → 512 → 512 → 10`.
    pub fn cifar10(mono: bool) -> Self {
        FcConfig {
            classes: 10,
            input_dim: 3072,
            hidden: vec![1024, 512, 512],
            mono,
        }
    }

    /// Checks the shape as [`super::VecFcConfig::validate`] does (the output width K must
    /// also be even in a "+" network, for the ON/OFF-paired initialisation).
    pub fn validate(&self) -> Result<()> {
        super::VecFcConfig {
            classes: self.classes,
            input_dim: self.input_dim,
            hidden: self.hidden.clone(),
            mono: self.mono,
        }
        .validate()?;
        if self.mono && self.classes % 2 != 0 {
            return Err(GevbError::Config(format!(
                "a \"+\" conventional network pairs its output units: the number of classes must be even, got {}",
                self.classes
            )));
        }
        Ok(())
    }
}

/// What a forward pass of the conventional network saw.
#[derive(Debug, Clone)]
pub struct FcForward {
    /// `[B, K]` logits.
    pub logits: Tensor,
    /// The input of each layer: `[B, d]`, then the `[B, n_ℓ]` hidden activities.
    pub inputs: Vec<Tensor>,
    /// Each hidden layer's `aReLU` mask, `[B, n_ℓ]` f32 (0 or 1).
    pub masks: Vec<Tensor>,
}

/// A conventional FC network with `aReLU` hidden layers and DFA's fixed feedback matrix.
///
/// Parameters: `fcℓ.weight` `[n_ℓ, n_{ℓ−1}]` and `fcℓ.bias` `[n_ℓ]` for every layer, the
/// output layer's `[K, n_L]` and `[K]`.
#[derive(Debug, Clone)]
pub struct Fc {
    config: FcConfig,
    weights: Vec<Var>,
    biases: Vec<Var>,
    signs: Vec<Tensor>,
    feedback: Tensor,
}

impl Fc {
    /// A network with the authors' initialisation and DFA's feedback matrix `[K, max n_ℓ]`
    /// (TinyDFA's: one matrix, layer `ℓ` uses its first `n_ℓ` columns; `U[0, 1)` in a "+"
    /// network, `U[−1, 1)` otherwise), seeded.
    pub fn new(config: &FcConfig, seed: u64, device: &Device) -> Result<Self> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut widths = vec![config.input_dim];
        widths.extend(&config.hidden);
        widths.push(config.classes);
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for l in 1..widths.len() {
            let (out, inp) = (widths[l], widths[l - 1]);
            let w = linear_weight(&mut rng, out, inp, l == 1, config.mono)?;
            weights.push(Var::from_tensor(&Tensor::from_vec(w, (out, inp), device)?)?);
            biases.push(Var::zeros(out, DType::F32, device)?);
        }
        let signs = config
            .hidden
            .iter()
            .map(|&n| {
                let t: Vec<f32> = (0..n)
                    .map(|i| if i % 2 == 0 { -1.0 } else { 1.0 })
                    .collect();
                Ok(Tensor::from_vec(t, n, device)?)
            })
            .collect::<Result<Vec<_>>>()?;
        let widest = *config.hidden.iter().max().unwrap_or(&1);
        let lo = if config.mono { 0.0 } else { -1.0 };
        let fb = uniform(&mut rng, config.classes * widest, lo, 1.0)?;
        let feedback = Tensor::from_vec(fb, (config.classes, widest), device)?;
        Ok(Fc {
            config: config.clone(),
            weights,
            biases,
            signs,
            feedback,
        })
    }

    /// The network's shape.
    pub fn config(&self) -> &FcConfig {
        &self.config
    }

    /// DFA's fixed feedback matrix `[K, max n_ℓ]`.
    pub fn feedback(&self) -> &Tensor {
        &self.feedback
    }

    /// Number of weight layers.
    pub fn layers(&self) -> usize {
        self.weights.len()
    }

    /// Layer `ℓ`'s weight `[n_ℓ, n_{ℓ−1}]`.
    pub fn weight(&self, l: usize) -> Result<&Var> {
        self.weights.get(l).ok_or_else(|| {
            GevbError::Config(format!(
                "layer {l} does not exist (the network has {} weight layers)",
                self.weights.len()
            ))
        })
    }

    /// Parameters with their names (`fcℓ.weight`, `fcℓ.bias`, layer by layer).
    pub fn named_params(&self) -> Vec<(String, Var)> {
        let mut v = Vec::with_capacity(2 * self.weights.len());
        for (l, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            v.push((format!("fc{l}.weight"), w.clone()));
            v.push((format!("fc{l}.bias"), b.clone()));
        }
        v
    }

    /// The forward pass on `[B, d]` f32 inputs (checked).
    pub fn forward(&self, x: &Tensor) -> Result<FcForward> {
        let d = self.config.input_dim;
        let dims = x.dims();
        if dims.len() != 2 || dims[1] != d || dims[0] == 0 || x.dtype() != DType::F32 {
            return Err(GevbError::Shape(format!(
                "inputs must be f32 [batch ≥ 1, {d}] (flattened images), got {:?} {dims:?}",
                x.dtype()
            )));
        }
        let tail = arelu_layers(x.clone(), &self.weights, &self.biases, &self.signs)?;
        Ok(FcForward {
            logits: tail.logits,
            inputs: tail.inputs,
            masks: tail.gates,
        })
    }

    /// `[B, K]` logits.
    pub fn logits(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.forward(x)?.logits)
    }

    /// The "+" constraint: `clamp(W, min = 0)` past the first layer; nothing otherwise.
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

/// `aReLU` layers from `h` (`[B, n_0]`) on, the last one the output layer (no mask):
/// `weights` and `biases` per layer, `signs` per hidden layer; the masks are the returned
/// gates.
pub(crate) fn arelu_layers(
    mut h: Tensor,
    weights: &[Var],
    biases: &[Var],
    signs: &[Tensor],
) -> Result<Layers> {
    let last = weights.len() - 1;
    let (mut inputs, mut masks) = (Vec::with_capacity(last + 1), Vec::with_capacity(last));
    for l in 0..last {
        inputs.push(h.clone());
        let z = h
            .matmul(&weights[l].as_tensor().t()?)?
            .broadcast_add(biases[l].as_tensor())?;
        let m = z
            .detach()
            .broadcast_mul(&signs[l])?
            .ge(0f64)?
            .to_dtype(DType::F32)?;
        h = (z * &m)?;
        masks.push(m);
    }
    inputs.push(h.clone());
    let logits = h
        .matmul(&weights[last].as_tensor().t()?)?
        .broadcast_add(biases[last].as_tensor())?;
    Ok(Layers {
        logits,
        inputs,
        gates: masks,
    })
}
