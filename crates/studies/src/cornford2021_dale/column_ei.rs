//! The ColumnEI layer (Cornford et al. 2021, §5, after Song, Yang & Wang 2016;
//! `ColummEiDense` in `ariamis/column_ei_models.py`): the naive way to obey Dale's principle.
//! Each *input* unit is excitatory or inhibitory, and all its outgoing weights carry its sign:
//!
//! ```text
//! W = W₊ · D,   W₊ ≥ 0,   D = diag(+1 … +1, −1 … −1),   z = W x + b,   h = relu(z)
//! ```
//!
//! The input's `n_in` units split into `ne = ⌊n_in · r/(r+1)⌋` excitatory followed by
//! `ni = ⌈n_in/(r+1)⌉` inhibitory (`calculate_ColumnEi_layer_params`), `r` = 10 in the paper
//! (550 hidden units = 500 E + 50 I); the last `ni` columns of `D` are −1.
//!
//! **Initialisation.** First layer (`PostiveWeightInitPolicy`: pixels are excitatory, `D = I`):
//! `W₊ ~ Exp(scale √(1/n_in))`, `b = −n_in · √(1/n_in) · pixel mean` (centres the
//! pre-activations; the code's means: MNIST 0.1307, Fashion-MNIST 0.2860). Other layers
//! (`ColumnEiWeightInitPolicy`): with `d = ((2π − 1)/(2π)) · (ne + ne²/ni)`,
//! `σ_E = √(1/d)`, `σ_I = (ne/ni) · σ_E`, the E columns of `W₊ ~ Exp(scale σ_E)`, the I columns
//! `~ Exp(scale σ_I)`, `b = 0`.
//!
//! **Update** (`ColumnEiSGD`): plain SGD on `W₊` and `b`, then `W₊` clamped at 0.
//!
//! **Why ColumnEI starts slowly (a finding, not a fault).** Checked line by line against
//! linclab/ltlwdp at `624fe94`: `column_ei_models.py` (split l.16-27, hidden init l.33-53,
//! first-layer init l.73-85, forward l.116-126, update l.136-142), `base_models.py`
//! (`build_densenet` l.163-203: ReLU after every layer but the last, a linear ColumnEI read-out
//! with no softmax in the model), `run_exp.py` (`build_model` l.163-165 and 218-222: hidden
//! layers `(550, 10)`, read-out `(10, 10)`, only `fc0` gets `PostiveWeightInitPolicy`; the loop
//! l.80-101: `F.cross_entropy`, then each layer's update), `exp_configs/test_mnist_columnEI.yaml`
//! (lr 0.05273, batch 32, `n_e: 550`, `n_i: 10` as the ratio) and `data/mnist.py` l.72 (pixels
//! / 255, no centring). No difference was found. The slow start follows from the first-layer
//! initialisation: all weights positive with mean `σ = 1/28` and the bias `−784·σ·mean`, so
//! each unit's pre-activation is about `(Σx − 784·mean)/28` plus a spread of only
//! `√(Σx²/784)`: the layer codes the image's total brightness. An image darker than the mean
//! silences the whole layer (and, with zero biases above, every layer and the logits' input):
//! 41.3 % of Fashion-MNIST test images at seed 0; such an image's gradient reaches only the
//! read-out bias. Measured with `examples/cornford2021_dale_smoke.rs` (paper's lr and batch,
//! first `n` training images, 2,000 test images, CPU): 63 steps give loss 2.302 and test
//! accuracy 0.120 (MLP 0.502); 250 steps (8,000 images) give loss 2.085 and 0.179, so it
//! leaves the plateau, slowly (at lr × 0.1: loss 1.922, accuracy 0.319; the first hidden
//! layer's zero fraction stays 0.53 in both). The paper's runs are 50 epochs of 1,875 steps on MNIST, whose
//! images vary less in brightness; whether ColumnEI's final error is the paper's has to be
//! measured at that scale.
use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use rand::Rng;

use super::error::{check_input, check_shape, DaleError, Result};
use super::init::exponential;
use super::layer::{sgd, Layer};

/// `(ne, ni)` of `total` input units at E:I ratio `ratio`:1, as the code splits them.
pub fn column_ei_split(total: usize, ratio: usize) -> Result<(usize, usize)> {
    if total < 2 || ratio == 0 {
        return Err(DaleError::InvalidArgument(format!(
            "ColumnEI split needs at least 2 units and a ratio >= 1 (got {total}, {ratio})"
        )));
    }
    let frac = total as f64 / (ratio + 1) as f64;
    let ni = frac.ceil() as usize;
    let ne = (frac * ratio as f64).floor() as usize;
    Ok((ne, ni))
}

/// One ColumnEI layer.
#[derive(Debug)]
pub struct ColumnEiLayer {
    n_input: usize,
    n_output: usize,
    /// Number of inhibitory input units (the last `ni` columns); 0 for the first layer.
    ni_in: usize,
    w_pos: Var,
    /// `diag(D)` as a row `[1, n_in]` of ±1.
    signs: Tensor,
    b: Var,
}

impl ColumnEiLayer {
    /// The first layer: all inputs excitatory, initialised as `PostiveWeightInitPolicy` with
    /// the dataset's `pixel_mean` (inputs in `[0, 1]`).
    pub fn init_first(
        n_input: usize,
        n_output: usize,
        pixel_mean: f64,
        rng: &mut impl Rng,
        device: &Device,
    ) -> Result<Self> {
        if n_input == 0 || n_output == 0 || !pixel_mean.is_finite() {
            return Err(DaleError::InvalidArgument(format!(
                "ColumnEI first layer needs n_input, n_output >= 1 and a finite pixel mean \
                 (got {n_input}, {n_output}, {pixel_mean})"
            )));
        }
        let sigma = (1.0 / n_input as f64).sqrt();
        let w = exponential(rng, sigma, n_output, n_input, device)?;
        let b = (Tensor::ones(n_output, DType::F32, device)?
            * (-(n_input as f64) * sigma * pixel_mean))?;
        Self::from_tensors(&w, 0, &b)
    }

    /// A hidden or output layer whose `n_input` inputs split E:I at `ratio`:1
    /// ([`column_ei_split`]), initialised as `ColumnEiWeightInitPolicy`.
    pub fn init(
        n_input: usize,
        n_output: usize,
        ratio: usize,
        rng: &mut impl Rng,
        device: &Device,
    ) -> Result<Self> {
        let (ne, ni) = column_ei_split(n_input, ratio)?;
        if ne + ni != n_input || n_output == 0 {
            return Err(DaleError::InvalidArgument(format!(
                "ColumnEI layer: {n_input} inputs at {ratio}:1 split into {ne} E + {ni} I, which \
                 does not add up (choose n_input divisible by ratio + 1), n_output {n_output}"
            )));
        }
        let (ne_f, ni_f) = (ne as f64, ni as f64);
        let two_pi = 2.0 * std::f64::consts::PI;
        let denom = ((two_pi - 1.0) / two_pi) * (ne_f + ne_f * ne_f / ni_f);
        let sigma_e = (1.0 / denom).sqrt();
        let sigma_i = (ne_f / ni_f) * sigma_e;
        let we = exponential(rng, sigma_e, n_output, ne, device)?;
        let wi = exponential(rng, sigma_i, n_output, ni, device)?;
        let w = Tensor::cat(&[we, wi], 1)?;
        let b = Tensor::zeros(n_output, DType::F32, device)?;
        Self::from_tensors(&w, ni, &b)
    }

    /// A layer with `W₊` `[n_out, n_in]`, the last `ni_in` input units inhibitory, and `b`
    /// `[n_out]`.
    pub fn from_tensors(w_pos: &Tensor, ni_in: usize, b: &Tensor) -> Result<Self> {
        let (n_output, n_input) = w_pos.dims2().map_err(|_| DaleError::Shape {
            what: "ColumnEI W_pos".into(),
            expected: "[n_out, n_in]".into(),
            got: w_pos.dims().to_vec(),
        })?;
        if ni_in > n_input {
            return Err(DaleError::InvalidArgument(format!(
                "ColumnEI layer: {ni_in} inhibitory inputs of only {n_input}"
            )));
        }
        check_shape("ColumnEI b", b, &[n_output])?;
        let signs: Vec<f32> = (0..n_input)
            .map(|j| if j < n_input - ni_in { 1.0 } else { -1.0 })
            .collect();
        let signs = Tensor::from_vec(signs, (1, n_input), w_pos.device())?;
        Ok(ColumnEiLayer {
            n_input,
            n_output,
            ni_in,
            w_pos: Var::from_tensor(&w_pos.to_dtype(DType::F32)?)?,
            signs,
            b: Var::from_tensor(&b.to_dtype(DType::F32)?)?,
        })
    }

    /// Number of inhibitory input units (the last columns).
    pub fn ni_in(&self) -> usize {
        self.ni_in
    }

    /// `W₊` `[n_out, n_in]`.
    pub fn w_pos(&self) -> &Tensor {
        self.w_pos.as_tensor()
    }

    /// `b` `[n_out]`.
    pub fn b(&self) -> &Tensor {
        self.b.as_tensor()
    }

    /// The signed weight `W = W₊·D` `[n_out, n_in]`.
    pub fn weight(&self) -> Result<Tensor> {
        Ok(self.w_pos().broadcast_mul(&self.signs)?)
    }
}

impl Layer for ColumnEiLayer {
    fn n_input(&self) -> usize {
        self.n_input
    }

    fn n_output(&self) -> usize {
        self.n_output
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_input("ColumnEI layer input", x, self.n_input)?;
        let z = x.matmul(&self.weight()?.t()?)?;
        Ok(z.broadcast_add(&self.b().unsqueeze(0)?)?)
    }

    fn params(&self) -> Vec<(&'static str, &Var)> {
        vec![("W_pos", &self.w_pos), ("b", &self.b)]
    }

    fn sgd_step(&self, grads: &GradStore, lr: f64) -> Result<()> {
        let w = sgd(&self.w_pos, grads.get(self.w_pos.as_tensor()), lr)?.relu()?;
        let b = sgd(&self.b, grads.get(self.b.as_tensor()), lr)?;
        self.w_pos.set(&w)?;
        self.b.set(&b)?;
        Ok(())
    }

    fn synapses(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(vec![("W".into(), self.weight()?)])
    }
}
