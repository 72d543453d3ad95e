//! The unsupervised rule of Krotov & Hopfield (2019): the minibatch update `ds`
//! ([`krotov_delta`]), a hidden layer that applies it with the largest change scaled to `ε`
//! ([`KrotovLayer`]), and the power-ReLU activations the read-out sees ([`power_relu`]).
use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::error::{check_batch, LocalRuleError, Result};

fn check_rule(p: f64, k: usize, delta: f64, hidden: usize) -> Result<()> {
    if !(p.is_finite() && p > 1.0) {
        return Err(LocalRuleError::InvalidArgument(format!(
            "the Lebesgue norm p must be finite and > 1 (got {p})"
        )));
    }
    if k < 2 || k > hidden {
        return Err(LocalRuleError::InvalidArgument(format!(
            "the anti-Hebbian rank k must be in 2..={hidden} (the hidden units), got {k}"
        )));
    }
    if !(delta.is_finite() && delta >= 0.0) {
        return Err(LocalRuleError::InvalidArgument(format!(
            "the anti-Hebbian strength delta must be finite and >= 0 (got {delta})"
        )));
    }
    Ok(())
}

/// `sign(W)·|W|^(p−1)`, the weights as the currents see them (`W` itself for `p = 2`).
fn metric_weights(w: &Tensor, p: f64) -> Result<Tensor> {
    if p == 2.0 {
        return Ok(w.clone());
    }
    let sign = ((w.ge(0.0)?.to_dtype(DType::F32)? * 2.0)? - 1.0)?;
    Ok((w.abs()?.powf(p - 1.0)? * sign)?)
}

/// The rule's unnormalised minibatch update `ds` (`[hidden, n_input]`) for weights `w`
/// (`[hidden, n_input]`) and inputs `x` (`[batch, n_input]`): per example, the unit with the
/// largest current `I_μ = Σ_i sign(W_μi)|W_μi|^(p−1) x_i` gets `g = 1`, the `k`-th ranked
/// `g = −delta`; `ds_μ = Σ g_μ·x − (Σ g_μ·I_μ)·W_μ`. Ties rank the lower unit index first.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use neurogen_studies::krotov2019_local::krotov_delta;
/// let w = Tensor::from_slice(&[1f32, 0., 0., 2., 1., 1.], (3, 2), &Device::Cpu)?;
/// let x = Tensor::from_slice(&[1f32, 0.25], (1, 2), &Device::Cpu)?;
/// // Currents 1, 0.5, 1.25: unit 2 wins, unit 0 is ranked 2nd.
/// let ds = krotov_delta(&w, &x, 2.0, 2, 0.4)?.flatten_all()?.to_vec1::<f32>()?;
/// assert_eq!(ds, vec![0.0, -0.1, 0.0, 0.0, -0.25, -1.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn krotov_delta(w: &Tensor, x: &Tensor, p: f64, k: usize, delta: f64) -> Result<Tensor> {
    let (hidden, n_input) = w.dims2().map_err(|_| LocalRuleError::Shape {
        what: "weights".into(),
        expected: "[hidden, n_input]".into(),
        got: w.dims().to_vec(),
    })?;
    check_rule(p, k, delta, hidden)?;
    let batch = check_batch("inputs", x, n_input)?;
    let w = w.to_dtype(DType::F32)?;
    let x = x.to_dtype(DType::F32)?;
    let currents = x.matmul(&metric_weights(&w, p)?.t()?)?; // [batch, hidden]
    let cur: Vec<f32> = currents.flatten_all()?.to_vec1()?;
    let mut g = vec![0f32; batch * hidden];
    let mut order: Vec<usize> = (0..hidden).collect();
    for b in 0..batch {
        let row = &cur[b * hidden..(b + 1) * hidden];
        order.sort_by(|&i, &j| row[j].total_cmp(&row[i]).then(i.cmp(&j)));
        g[b * hidden + order[0]] = 1.0;
        g[b * hidden + order[k - 1]] = -(delta as f32);
    }
    // Σ_b g[b, μ]·I[b, μ], per unit.
    let mut gi = vec![0f32; hidden];
    for (idx, (&gv, &iv)) in g.iter().zip(&cur).enumerate() {
        gi[idx % hidden] += gv * iv;
    }
    let g = Tensor::from_vec(g, (batch, hidden), x.device())?;
    let gi = Tensor::from_vec(gi, (hidden, 1), x.device())?;
    Ok((g.t()?.matmul(&x)? - w.broadcast_mul(&gi)?)?)
}

/// `max(0, x·Wᵀ)^n` (`[batch, hidden]`), the hidden activations of the paper's read-out stage.
pub fn power_relu(w: &Tensor, x: &Tensor, n: f64) -> Result<Tensor> {
    if !(n.is_finite() && n >= 1.0) {
        return Err(LocalRuleError::InvalidArgument(format!(
            "the activation power n must be finite and >= 1 (got {n})"
        )));
    }
    let (_, n_input) = w.dims2()?;
    check_batch("inputs", x, n_input)?;
    Ok(x.to_dtype(DType::F32)?.matmul(&w.t()?)?.relu()?.powf(n)?)
}

/// A hidden layer trained by the rule.
#[derive(Debug, Clone)]
pub struct KrotovLayer {
    w: Tensor,
    p: f64,
    k: usize,
    delta: f64,
    precision: f64,
}

impl KrotovLayer {
    /// `hidden` units on `n_input` inputs, `W ~ N(mean, std²)` (the notebook: `N(0, 1)`), with
    /// the rule's `p`, `k` and `delta` and the floor `precision` of `max|ds|` (notebook `1e-30`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        n_input: usize,
        hidden: usize,
        (mean, std): (f64, f64),
        p: f64,
        k: usize,
        delta: f64,
        precision: f64,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        if n_input == 0 {
            return Err(LocalRuleError::InvalidArgument(
                "the layer needs at least one input".into(),
            ));
        }
        check_rule(p, k, delta, hidden)?;
        let normal = Normal::new(mean, std).map_err(|e| {
            LocalRuleError::InvalidArgument(format!("initial weights N({mean}, {std}²): {e}"))
        })?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let v: Vec<f32> = (0..hidden * n_input)
            .map(|_| normal.sample(&mut rng) as f32)
            .collect();
        let w = Tensor::from_vec(v, (hidden, n_input), device)?;
        Self::from_weights(&w, p, k, delta, precision)
    }

    /// A layer with the given weights `[hidden, n_input]`.
    pub fn from_weights(w: &Tensor, p: f64, k: usize, delta: f64, precision: f64) -> Result<Self> {
        let (hidden, n_input) = w.dims2().map_err(|_| LocalRuleError::Shape {
            what: "weights".into(),
            expected: "[hidden, n_input]".into(),
            got: w.dims().to_vec(),
        })?;
        check_rule(p, k, delta, hidden)?;
        if !(precision.is_finite() && precision > 0.0) {
            return Err(LocalRuleError::InvalidArgument(format!(
                "the precision floor must be finite and > 0 (got {precision})"
            )));
        }
        let w = w.to_dtype(DType::F32)?;
        check_batch("weights", &w, n_input)?;
        Ok(KrotovLayer {
            w,
            p,
            k,
            delta,
            precision,
        })
    }

    /// The weights `W` `[hidden, n_input]` (rows are hidden units).
    pub fn weights(&self) -> &Tensor {
        &self.w
    }

    /// Number of hidden units.
    pub fn hidden(&self) -> usize {
        self.w.dims()[0]
    }

    /// Number of inputs.
    pub fn n_input(&self) -> usize {
        self.w.dims()[1]
    }

    /// One step of the rule on the minibatch `x`: `W ← W + eps·ds / max(max|ds|, precision)`.
    /// Returns `max|ds|`.
    pub fn learn(&mut self, x: &Tensor, eps: f64) -> Result<f64> {
        if !(eps.is_finite() && eps >= 0.0) {
            return Err(LocalRuleError::InvalidArgument(format!(
                "the learning rate must be finite and >= 0 (got {eps})"
            )));
        }
        let ds = krotov_delta(&self.w, x, self.p, self.k, self.delta)?;
        let nc = ds.abs()?.max_all()?.to_scalar::<f32>()? as f64;
        self.w = (&self.w + (ds * (eps / nc.max(self.precision)))?)?;
        Ok(nc)
    }

    /// Each hidden unit's `p`-norm `(Σ_i |W_μi|^p)^(1/p)`; the rule drives a trained unit's to 1.
    pub fn p_norms(&self) -> Result<Vec<f32>> {
        let v = self
            .w
            .abs()?
            .powf(self.p)?
            .sum(1)?
            .powf(1.0 / self.p)?
            .to_vec1::<f32>()?;
        Ok(v)
    }

    /// The power-ReLU activations `max(0, x·Wᵀ)^n` of `x` (`[batch, n_input]`).
    pub fn features(&self, x: &Tensor, n: f64) -> Result<Tensor> {
        power_relu(&self.w, x, n)
    }
}
