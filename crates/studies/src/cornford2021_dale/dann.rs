//! The DANN layer (Cornford et al. 2021, Eq. 2–4; `EiDenseWithShunt` in `ariamis/ei_models.py`):
//! excitatory units `E`, feed-forward inhibitory interneurons `I` with subtractive and
//! divisive (shunting) inhibition.
//!
//! ```text
//! ẑ = Wex·x − Wei·(Wix·x)                    [ne]
//! γ = (e^α ∘ Wei)·(Wix·x) + ε                 [ne]   (e^α scales Wei's columns, ε = 1e-8)
//! z = g ∘ ẑ / γ + b,   h = relu(z)
//! ```
//!
//! Shapes follow the code's to-from layout: `Wex` `[ne, n_in]`, `Wix` `[ni, n_in]`, `Wei`
//! `[ne, ni]`, `α` `[ni]`, `g` and `b` `[ne]` (the code keeps `α` as `[1, ni]` and `g`, `b` as
//! `[ne, 1]`). Only the `ne` excitatory units project to the next layer.
//!
//! **Initialisation** (`EiDense_MultipleInt_LayerNorm_WeightInitPolicy` with
//! `inhib_iid_init = false`, then `EiDenseWithShunt_…`): with `σ = √(1/(2 n_in))` for the first
//! layer and `σ = √(2π / (n_in (2π − 1)))` for the others, `Wex ~ Exp(scale σ)`; with `ni > 1`,
//! `Wix ~ Exp(scale σ)` and `Wei = 1/ni`; with `ni = 1` (the output layer),
//! `Wix = mean of Wex's rows` and `Wei = 1`; `α = ln √((2π − 1)/n_in)`, `g = 1`, `b = 0`.
//!
//! **Update** (`DalesANN_cSGD_UpdatePolicy` = `cSGD_Mixin` + `DalesANN_SGD_UpdatePolicy`): the
//! "corrected SGD" divides `∂L/∂Wix` by `√ne`, `∂L/∂Wei` by `n_in` and `∂L/∂α` by `√ne · n_in`;
//! every parameter takes a plain SGD step; then `Wex`, `Wix`, `Wei` and `g` are clamped at 0.
use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use rand::Rng;

use super::error::{check_input, check_shape, DaleError, Result};
use super::init::exponential;
use super::layer::{sgd, Layer};

/// `ε` in `γ`, as in the code.
pub const DANN_EPSILON: f64 = 1e-8;

/// One DANN layer.
#[derive(Debug)]
pub struct DannLayer {
    ne: usize,
    ni: usize,
    n_input: usize,
    wex: Var,
    wix: Var,
    wei: Var,
    alpha: Var,
    g: Var,
    b: Var,
    corrected_sgd: bool,
}

/// The gradients a DANN layer's SGD step uses, after the corrected-SGD scaling (if on).
#[derive(Debug, Clone)]
pub struct DannGrads {
    /// `∂L/∂Wex` (never scaled).
    pub wex: Option<Tensor>,
    /// `∂L/∂Wix`, divided by `√ne` under corrected SGD.
    pub wix: Option<Tensor>,
    /// `∂L/∂Wei`, divided by `n_in` under corrected SGD.
    pub wei: Option<Tensor>,
    /// `∂L/∂α`, divided by `√ne · n_in` under corrected SGD.
    pub alpha: Option<Tensor>,
    /// `∂L/∂g` (never scaled).
    pub g: Option<Tensor>,
    /// `∂L/∂b` (never scaled).
    pub b: Option<Tensor>,
}

impl DannLayer {
    /// A layer initialised as the authors' code does (see the module docs); `first` selects the
    /// first layer's `σ`. `corrected_sgd` turns the gradient scaling on (the paper's DANN
    /// setting, `c_sgd: true`).
    pub fn init(
        n_input: usize,
        ne: usize,
        ni: usize,
        first: bool,
        corrected_sgd: bool,
        rng: &mut impl Rng,
        device: &Device,
    ) -> Result<Self> {
        if n_input == 0 || ne == 0 || ni == 0 {
            return Err(DaleError::InvalidArgument(format!(
                "a DANN layer needs n_input, ne, ni >= 1 (got {n_input}, {ne}, {ni})"
            )));
        }
        let n = n_input as f64;
        let two_pi = 2.0 * std::f64::consts::PI;
        let std = if first {
            (1.0 / (2.0 * n)).sqrt()
        } else {
            (two_pi / (n * (two_pi - 1.0))).sqrt()
        };
        let wex = exponential(rng, std, ne, n_input, device)?;
        let (wix, wei) = if ni == 1 {
            (
                wex.mean_keepdim(0)?,
                Tensor::ones((ne, 1), DType::F32, device)?,
            )
        } else {
            (
                exponential(rng, std, ni, n_input, device)?,
                (Tensor::ones((ne, ni), DType::F32, device)? / ni as f64)?,
            )
        };
        let alpha = (((two_pi - 1.0) / n).sqrt().ln() * Tensor::ones(ni, DType::F32, device)?)?;
        let g = Tensor::ones(ne, DType::F32, device)?;
        let b = Tensor::zeros(ne, DType::F32, device)?;
        Self::from_tensors(&wex, &wix, &wei, &alpha, &g, &b, corrected_sgd)
    }

    /// A layer with the given parameters (`Wex` `[ne, n_in]`, `Wix` `[ni, n_in]`, `Wei`
    /// `[ne, ni]`, `α` `[ni]`, `g` `[ne]`, `b` `[ne]`, all f32). Signs are not checked here: the
    /// clamps act at the next step.
    pub fn from_tensors(
        wex: &Tensor,
        wix: &Tensor,
        wei: &Tensor,
        alpha: &Tensor,
        g: &Tensor,
        b: &Tensor,
        corrected_sgd: bool,
    ) -> Result<Self> {
        let (ne, n_input) = wex.dims2().map_err(|_| DaleError::Shape {
            what: "DANN Wex".into(),
            expected: "[ne, n_in]".into(),
            got: wex.dims().to_vec(),
        })?;
        let ni = match wix.dims() {
            [ni, n] if *n == n_input => *ni,
            d => {
                return Err(DaleError::Shape {
                    what: "DANN Wix".into(),
                    expected: format!("[ni, {n_input}]"),
                    got: d.to_vec(),
                })
            }
        };
        check_shape("DANN Wei", wei, &[ne, ni])?;
        check_shape("DANN alpha", alpha, &[ni])?;
        check_shape("DANN g", g, &[ne])?;
        check_shape("DANN b", b, &[ne])?;
        let var = |t: &Tensor| Var::from_tensor(&t.to_dtype(DType::F32)?);
        Ok(DannLayer {
            ne,
            ni,
            n_input,
            wex: var(wex)?,
            wix: var(wix)?,
            wei: var(wei)?,
            alpha: var(alpha)?,
            g: var(g)?,
            b: var(b)?,
            corrected_sgd,
        })
    }

    /// Number of excitatory units (the layer's output width).
    pub fn ne(&self) -> usize {
        self.ne
    }

    /// Number of inhibitory interneurons.
    pub fn ni(&self) -> usize {
        self.ni
    }

    /// Whether the corrected-SGD gradient scaling is on.
    pub fn corrected_sgd(&self) -> bool {
        self.corrected_sgd
    }

    /// `Wex` `[ne, n_in]`.
    pub fn wex(&self) -> &Tensor {
        self.wex.as_tensor()
    }
    /// `Wix` `[ni, n_in]`.
    pub fn wix(&self) -> &Tensor {
        self.wix.as_tensor()
    }
    /// `Wei` `[ne, ni]`.
    pub fn wei(&self) -> &Tensor {
        self.wei.as_tensor()
    }
    /// `α` `[ni]`.
    pub fn alpha(&self) -> &Tensor {
        self.alpha.as_tensor()
    }
    /// `g` `[ne]`.
    pub fn g(&self) -> &Tensor {
        self.g.as_tensor()
    }
    /// `b` `[ne]`.
    pub fn b(&self) -> &Tensor {
        self.b.as_tensor()
    }

    /// The effective weight `W = Wex − Wei·Wix` `[ne, n_in]` of the subtractive path.
    pub fn effective_weight(&self) -> Result<Tensor> {
        Ok((self.wex() - self.wei().matmul(self.wix())?)?)
    }

    /// The gradients of this layer's parameters in `grads`, with the corrected-SGD scaling
    /// applied when it is on.
    pub fn scaled_grads(&self, grads: &GradStore) -> Result<DannGrads> {
        let get = |v: &Var| grads.get(v.as_tensor()).cloned();
        let (s_wix, s_wei, s_alpha) = if self.corrected_sgd {
            let sqrt_ne = (self.ne as f64).sqrt();
            let n_in = self.n_input as f64;
            (sqrt_ne, n_in, sqrt_ne * n_in)
        } else {
            (1.0, 1.0, 1.0)
        };
        let scale = |g: Option<Tensor>, s: f64| -> Result<Option<Tensor>> {
            Ok(match g {
                Some(g) if s != 1.0 => Some((g / s)?),
                g => g,
            })
        };
        Ok(DannGrads {
            wex: get(&self.wex),
            wix: scale(get(&self.wix), s_wix)?,
            wei: scale(get(&self.wei), s_wei)?,
            alpha: scale(get(&self.alpha), s_alpha)?,
            g: get(&self.g),
            b: get(&self.b),
        })
    }
}

impl Layer for DannLayer {
    fn n_input(&self) -> usize {
        self.n_input
    }

    fn n_output(&self) -> usize {
        self.ne
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_input("DANN layer input", x, self.n_input)?;
        let ze = x.matmul(&self.wex().t()?)?; // [B, ne]
        let zi = x.matmul(&self.wix().t()?)?; // [B, ni]
        let z_hat = (ze - zi.matmul(&self.wei().t()?)?)?;
        let scaled_wei = self
            .wei()
            .broadcast_mul(&self.alpha().exp()?.unsqueeze(0)?)?; // [ne, ni]
        let gamma = (zi.matmul(&scaled_wei.t()?)? + DANN_EPSILON)?;
        let z = (z_hat / gamma)?.broadcast_mul(&self.g().unsqueeze(0)?)?;
        Ok(z.broadcast_add(&self.b().unsqueeze(0)?)?)
    }

    fn params(&self) -> Vec<(&'static str, &Var)> {
        vec![
            ("Wex", &self.wex),
            ("Wix", &self.wix),
            ("Wei", &self.wei),
            ("alpha", &self.alpha),
            ("g", &self.g),
            ("b", &self.b),
        ]
    }

    fn sgd_step(&self, grads: &GradStore, lr: f64) -> Result<()> {
        let gr = self.scaled_grads(grads)?;
        let b = sgd(&self.b, gr.b.as_ref(), lr)?;
        let alpha = sgd(&self.alpha, gr.alpha.as_ref(), lr)?;
        let wex = sgd(&self.wex, gr.wex.as_ref(), lr)?.relu()?;
        let wix = sgd(&self.wix, gr.wix.as_ref(), lr)?.relu()?;
        let wei = sgd(&self.wei, gr.wei.as_ref(), lr)?.relu()?;
        let g = sgd(&self.g, gr.g.as_ref(), lr)?.relu()?;
        self.b.set(&b)?;
        self.alpha.set(&alpha)?;
        self.wex.set(&wex)?;
        self.wix.set(&wix)?;
        self.wei.set(&wei)?;
        self.g.set(&g)?;
        Ok(())
    }

    fn synapses(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(vec![
            ("E<-x".into(), self.wex().clone()),
            ("I<-x".into(), self.wix().clone()),
            ("E<-I".into(), self.wei().neg()?),
        ])
    }
}
