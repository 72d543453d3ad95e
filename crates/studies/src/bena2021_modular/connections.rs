//! Sparse interconnections between two agents: which fraction `p` of the `n_from × n_to`
//! possible connections exists, a fixed random mask, and Deep-R (Bellec et al. 2018, ICLR,
//! "Deep rewiring") as the authors' `deepR` package implements it.
//!
//! A connection from agent j to agent i holds `count = ⌊p · n_from · n_to⌋` active entries
//! (the authors' `int(p · n_in · n_out)`) and maps j's hidden state `h_j` (`batch × n_from`)
//! to `h_j · W` (`batch × n_to`).
//!
//! - **Fixed mask** (`MaskedLinear` in `connections.py`): `W = weight ⊙ mask` with a mask of
//!   exactly `count` ones drawn without replacement; the weight starts as PyTorch's
//!   `kaiming_uniform_` times `sqrt(1 / n_from)` and is zero outside the mask, and the mask
//!   kills the gradient there, so masked entries stay exactly zero through training. Ours has
//!   no bias (the authors' `MaskedLinear` adds a dense bias, which carries no information
//!   between agents).
//! - **Deep-R** (`Sparse_Connect`, `apply_grad`, `rewiring` in `deepR/models.py`):
//!   `W = sign ⊙ θ ⊙ [θ > 0]`, with fixed random signs; an entry is active while `θ > 0`. At
//!   init `θ = |N(0, 1)| / sqrt(n_from)` on `count` entries (ours are drawn without
//!   replacement; the authors' draw with replacement and the first rewiring fills the gap).
//!   Each training step: (1) on active entries, `θ += lr · noise · N(0, 1)` and
//!   `θ −= lr · l1` (with the level's base `lr`); (2) Adam on `θ` with learning rate `lr`,
//!   decayed by `gamma` each epoch (the gradient of a dormant entry is zero); (3) rewiring: as many dormant entries as connections were lost, chosen at
//!   random, are set to `θ = 1e-10`, so the count stays exactly `count`. Ours adds one rule
//!   the authors' code asserts but does not enforce: an entry dormant before the step stays
//!   dormant through the Adam step (Adam's momentum could lift it above zero), so that a
//!   connection comes back only through rewiring.
use candle_core::{DType, Device, Tensor, Var};
use rand::seq::index::sample;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::error::{invalid, Result};

/// The value a rewired connection starts from (the authors' `epsilon`).
pub const REWIRE_EPSILON: f32 = 1e-10;

/// How interconnections are kept sparse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectionScheme {
    /// Deep-R: connections rewire during training, their number stays fixed (the authors').
    DeepR,
    /// A random mask fixed at init (the simpler comparison).
    FixedMask,
}

/// Deep-R's settings (`deepR_params_dict` in `scripts/main_funcspec.py`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DeepRConfig {
    /// L1 shrinkage of active θ per step, times `lr`.
    pub l1: f64,
    /// Standard deviation of the random walk of active θ per step, times `lr`.
    pub noise: f64,
    /// Learning rate of the connections' Adam.
    pub lr: f64,
    /// Decay of `lr` per epoch (StepLR).
    pub gamma: f64,
}

impl Default for DeepRConfig {
    /// The authors' base values: l1 1e-4, noise 1e-4, lr 0.1, γ 0.95.
    fn default() -> Self {
        DeepRConfig {
            l1: 1e-4,
            noise: 1e-4,
            lr: 0.1,
            gamma: 0.95,
        }
    }
}

impl DeepRConfig {
    /// The authors' per-sparsity schedule (`compute_trained_communities` in
    /// `community/common/training.py`): at level `index` of `n_levels` values of `p`, the noise
    /// is `noise · (1 − p)` and the learning rate `geomspace(lr, lr / 100, n_levels)[index]`.
    pub fn for_level(&self, index: usize, n_levels: usize, p: f64) -> Result<DeepRConfig> {
        check_p(p)?;
        if index >= n_levels {
            return Err(invalid(format!(
                "sparsity level {index} does not exist (there are {n_levels})"
            )));
        }
        let lrs = geomspace(self.lr, self.lr / 100.0, n_levels)?;
        Ok(DeepRConfig {
            noise: self.noise * (1.0 - p),
            lr: lrs[index],
            ..*self
        })
    }

    /// Checks that every value is finite and non-negative and `lr > 0`.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("l1", self.l1),
            ("noise", self.noise),
            ("lr", self.lr),
            ("gamma", self.gamma),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(invalid(format!(
                    "Deep-R {name} = {v} must be finite and non-negative"
                )));
            }
        }
        if self.lr == 0.0 {
            return Err(invalid("Deep-R lr must be positive"));
        }
        Ok(())
    }
}

/// `count` values spaced evenly on a log scale from `start` to `stop` (NumPy's `geomspace`).
pub fn geomspace(start: f64, stop: f64, count: usize) -> Result<Vec<f64>> {
    if !(start > 0.0 && stop > 0.0 && start.is_finite() && stop.is_finite()) {
        return Err(invalid(format!(
            "geomspace needs finite positive end points (got {start}, {stop})"
        )));
    }
    if count == 0 {
        return Err(invalid("geomspace needs at least one value"));
    }
    if count == 1 {
        return Ok(vec![start]);
    }
    let (a, b) = (start.ln(), stop.ln());
    Ok((0..count)
        .map(|i| {
            if i == count - 1 {
                stop
            } else {
                (a + (b - a) * i as f64 / (count - 1) as f64).exp()
            }
        })
        .collect())
}

/// The authors' sweep of the fraction of interconnections for agents of `n_hidden` units:
/// `geomspace(1 / n_hidden², 0.999, count)` rounded to 4 decimals (from one connection to
/// almost dense; `scripts/main_funcspec.py`).
///
/// ```
/// use neurogen_studies::bena2021_modular::sparsity_levels;
/// let p = sparsity_levels(100, 10).unwrap();
/// assert_eq!((p[0], p[9]), (0.0001, 0.999));
/// ```
pub fn sparsity_levels(n_hidden: usize, count: usize) -> Result<Vec<f64>> {
    if n_hidden == 0 {
        return Err(invalid("sparsity levels need n_hidden >= 1"));
    }
    let start = 1.0 / (n_hidden * n_hidden) as f64;
    Ok(geomspace(start, 0.999, count)?
        .into_iter()
        .map(|p| (p * 1e4).round() / 1e4)
        .collect())
}

/// Checks that `p` is a fraction of connections in `(0, 1]`.
pub fn check_p(p: f64) -> Result<()> {
    if !(p > 0.0 && p <= 1.0) {
        return Err(invalid(format!(
            "the fraction of interconnections p = {p} must lie in (0, 1]"
        )));
    }
    Ok(())
}

/// The number of active entries of an `n_from × n_to` connection at fraction `p`:
/// `⌊p · n_from · n_to⌋`, which must be at least 1.
pub fn connection_count(p: f64, n_from: usize, n_to: usize) -> Result<usize> {
    check_p(p)?;
    if n_from == 0 || n_to == 0 {
        return Err(invalid(format!(
            "a connection needs non-empty agents (got {n_from} × {n_to})"
        )));
    }
    let count = (p * (n_from * n_to) as f64).floor() as usize;
    if count == 0 {
        return Err(invalid(format!(
            "p = {p} keeps no connection of {n_from} × {n_to} (need p >= 1 / {})",
            n_from * n_to
        )));
    }
    Ok(count)
}

/// One sparse interconnection (see the module docs).
#[derive(Debug)]
pub struct Connection {
    scheme: ConnectionScheme,
    n_from: usize,
    n_to: usize,
    count: usize,
    /// θ (Deep-R) or the weight (fixed mask), `n_from × n_to`.
    param: Var,
    /// Signs ±1 (Deep-R) or the 0/1 mask (fixed mask), `n_from × n_to`.
    fixed: Tensor,
}

impl Connection {
    /// A connection keeping a fraction `p` of the `n_from × n_to` entries, initialised from
    /// `rng`.
    pub fn new(
        scheme: ConnectionScheme,
        n_from: usize,
        n_to: usize,
        p: f64,
        rng: &mut impl Rng,
        device: &Device,
    ) -> Result<Connection> {
        let count = connection_count(p, n_from, n_to)?;
        let n = n_from * n_to;
        let mut on = vec![false; n];
        for i in sample(rng, n, count) {
            on[i] = true;
        }
        let (param, fixed): (Vec<f32>, Vec<f32>) = match scheme {
            ConnectionScheme::DeepR => {
                let scale = 1.0 / (n_from as f32).sqrt();
                let theta = on
                    .iter()
                    .map(|&o| {
                        let z: f32 = StandardNormal.sample(rng);
                        if o {
                            // |z| can be 0 only with probability 0; keep the entry active.
                            (z.abs() * scale).max(REWIRE_EPSILON)
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let signs = (0..n)
                    .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
                    .collect();
                (theta, signs)
            }
            ConnectionScheme::FixedMask => {
                // kaiming_uniform_ (bound sqrt(6 / fan_in)) times sqrt(1 / n_from).
                let bound = (6.0 / n_from as f32).sqrt() * (1.0 / n_from as f32).sqrt();
                let weight = on
                    .iter()
                    .map(|&o| {
                        let w = rng.random_range(-bound..bound);
                        if o {
                            w
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let mask = on.iter().map(|&o| if o { 1.0 } else { 0.0 }).collect();
                (weight, mask)
            }
        };
        Ok(Connection {
            scheme,
            n_from,
            n_to,
            count,
            param: Var::from_tensor(&Tensor::from_vec(param, (n_from, n_to), device)?)?,
            fixed: Tensor::from_vec(fixed, (n_from, n_to), device)?,
        })
    }

    /// The connection scheme.
    pub fn scheme(&self) -> ConnectionScheme {
        self.scheme
    }

    /// `(n_from, n_to)`.
    pub fn dims(&self) -> (usize, usize) {
        (self.n_from, self.n_to)
    }

    /// The number of active entries the connection keeps.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The trained parameter: θ (Deep-R) or the weight (fixed mask).
    pub fn param(&self) -> &Var {
        &self.param
    }

    /// The effective weight `W` (`n_from × n_to`), differentiable with respect to
    /// [`Connection::param`].
    pub fn weight(&self) -> Result<Tensor> {
        let p = self.param.as_tensor();
        Ok(match self.scheme {
            ConnectionScheme::DeepR => {
                let on = p.gt(0f32)?.to_dtype(DType::F32)?;
                p.mul(&self.fixed.mul(&on)?)?
            }
            ConnectionScheme::FixedMask => p.mul(&self.fixed)?,
        })
    }

    /// Which entries are active (row-major `n_from × n_to`): `θ > 0` (Deep-R) or the mask.
    pub fn active(&self) -> Result<Vec<bool>> {
        Ok(match self.scheme {
            ConnectionScheme::DeepR => flat(self.param.as_tensor())?
                .into_iter()
                .map(|t| t > 0.0)
                .collect(),
            ConnectionScheme::FixedMask => {
                flat(&self.fixed)?.into_iter().map(|m| m > 0.0).collect()
            }
        })
    }

    /// The number of active entries now.
    pub fn n_active(&self) -> Result<usize> {
        Ok(self.active()?.into_iter().filter(|&a| a).count())
    }

    /// Deep-R's step before the optimiser: on active entries the random walk and the L1
    /// shrinkage. Returns which entries were active, for [`Connection::deep_r_after`].
    pub(crate) fn deep_r_before(&self, cfg: &DeepRConfig, rng: &mut impl Rng) -> Result<Vec<bool>> {
        let mut theta = flat(self.param.as_tensor())?;
        let active: Vec<bool> = theta.iter().map(|&t| t > 0.0).collect();
        let (noise, shrink) = ((cfg.lr * cfg.noise) as f32, (cfg.lr * cfg.l1) as f32);
        for (t, &a) in theta.iter_mut().zip(&active) {
            let z: f32 = StandardNormal.sample(rng);
            if a {
                *t += noise * z - shrink;
            }
        }
        self.set_param(theta)?;
        Ok(active)
    }

    /// Deep-R's step after the optimiser: entries dormant before the step stay dormant, then
    /// as many dormant entries as connections were lost are reactivated at random. Returns the
    /// number of rewired connections.
    pub(crate) fn deep_r_after(&self, was_active: &[bool], rng: &mut impl Rng) -> Result<usize> {
        let mut theta = flat(self.param.as_tensor())?;
        for (t, &a) in theta.iter_mut().zip(was_active) {
            if !a && *t > 0.0 {
                *t = 0.0;
            }
        }
        let dormant: Vec<usize> = (0..theta.len()).filter(|&i| theta[i] <= 0.0).collect();
        let n_active = theta.len() - dormant.len();
        let missing = self.count.saturating_sub(n_active);
        for k in sample(rng, dormant.len(), missing) {
            theta[dormant[k]] = REWIRE_EPSILON;
        }
        self.set_param(theta)?;
        Ok(missing)
    }

    fn set_param(&self, values: Vec<f32>) -> Result<()> {
        let t = Tensor::from_vec(values, (self.n_from, self.n_to), self.param.device())?;
        self.param.set(&t)?;
        Ok(())
    }
}

/// A tensor's values, row-major, as `f32`.
pub(crate) fn flat(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?)
}
