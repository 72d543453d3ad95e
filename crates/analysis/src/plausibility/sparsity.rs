//! Activity and weight sparsity.
//!
//! - **Fraction near zero**: the share of values with `|x| ≤ tol` (for ReLU activations with
//!   `tol = 0`, the fraction of exact zeros).
//! - **Hoyer sparsity** (Hoyer 2004, JMLR 5): for a vector `x` of length `n ≥ 2`,
//!   `(√n − ‖x‖₁/‖x‖₂) / (√n − 1)`: 0 when all entries have the same magnitude, 1 when one entry
//!   is non-zero; undefined for the zero vector. Applied to one input's activation vector it is
//!   a **population** sparsity.
//! - **Lifetime sparsity** (Vinje & Gallant 2000, Science 287; the Treves–Rolls measure
//!   rescaled): for one unit's responses `r_1 … r_N` to `N ≥ 2` inputs,
//!   `(1 − (Σr/N)² / (Σr²/N)) / (1 − 1/N)`: 0 for a unit that responds equally to every input,
//!   1 for one that responds to a single input; undefined for a unit that never responds.
use serde::Serialize;

use crate::error::{check_finite, AnalysisError, Result};

/// Sparsity of a network layer's activations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ActivitySparsity {
    /// Inputs (rows of the activation matrix).
    pub n_samples: usize,
    /// Units (columns).
    pub n_units: usize,
    /// The threshold below which an activation counted as zero.
    pub tol: f64,
    /// Fraction of all activations with `|a| ≤ tol`.
    pub fraction_near_zero: f64,
    /// Mean Hoyer sparsity of each input's activation vector (population sparsity), over the
    /// inputs with some non-zero activation; `None` if there is none.
    pub population_hoyer: Option<f64>,
    /// Inputs whose activation vector is all zero (left out of `population_hoyer`).
    pub silent_samples: usize,
    /// Mean lifetime sparsity over units that respond to some input; `None` if none does.
    pub lifetime: Option<f64>,
    /// Units whose activation is zero for every input (left out of `lifetime`).
    pub dead_units: usize,
}

/// Sparsity of a set of weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeightSparsity {
    /// Number of weights.
    pub n: usize,
    /// The magnitude at or below which a weight counted as zero.
    pub tol: f64,
    /// Fraction of weights with `|w| ≤ tol`.
    pub fraction_near_zero: f64,
    /// Hoyer sparsity of the whole weight vector; `None` if all weights are 0.
    pub hoyer: Option<f64>,
}

fn check_tol(tol: f64) -> Result<()> {
    if tol >= 0.0 && tol.is_finite() {
        Ok(())
    } else {
        Err(AnalysisError::InvalidArgument(format!(
            "sparsity tolerance must be finite and >= 0, got {tol}"
        )))
    }
}

fn check_nonempty(what: &str, xs: &[f64], min: usize) -> Result<()> {
    if xs.len() < min {
        return Err(AnalysisError::TooFewObservations {
            what: what.into(),
            min,
            got: xs.len(),
        });
    }
    check_finite(what, xs)
}

/// Fraction of `xs` with `|x| ≤ tol` (at least 1 finite value, `tol ≥ 0`).
///
/// ```
/// use neurogen_analysis::plausibility::fraction_near_zero;
/// assert_eq!(fraction_near_zero(&[0.0, 1e-9, 0.5, -2.0], 1e-6).unwrap(), 0.5);
/// ```
pub fn fraction_near_zero(xs: &[f64], tol: f64) -> Result<f64> {
    check_tol(tol)?;
    check_nonempty("sparsity input", xs, 1)?;
    Ok(xs.iter().filter(|x| x.abs() <= tol).count() as f64 / xs.len() as f64)
}

/// Hoyer sparsity of `xs` (at least 2 finite values); `None` for the zero vector.
///
/// ```
/// use neurogen_analysis::plausibility::hoyer_sparsity;
/// assert_eq!(hoyer_sparsity(&[0.0, 0.0, 3.0, 0.0]).unwrap(), Some(1.0));
/// assert_eq!(hoyer_sparsity(&[2.0, -2.0, 2.0, 2.0]).unwrap(), Some(0.0));
/// ```
pub fn hoyer_sparsity(xs: &[f64]) -> Result<Option<f64>> {
    check_nonempty("Hoyer sparsity input", xs, 2)?;
    Ok(hoyer_unchecked(xs.iter().copied(), xs.len()))
}

fn hoyer_unchecked(xs: impl Iterator<Item = f64>, n: usize) -> Option<f64> {
    let (l1, l2sq) = xs.fold((0.0f64, 0.0f64), |(a, b), x| (a + x.abs(), b + x * x));
    if l2sq == 0.0 {
        return None;
    }
    let sqrt_n = (n as f64).sqrt();
    Some(((sqrt_n - l1 / l2sq.sqrt()) / (sqrt_n - 1.0)).clamp(0.0, 1.0))
}

/// Lifetime sparsity of one unit's responses (at least 2 finite values); `None` if all are 0.
///
/// ```
/// use neurogen_analysis::plausibility::lifetime_sparsity;
/// let s = lifetime_sparsity(&[0.0, 0.0, 5.0]).unwrap().unwrap();
/// assert!((s - 1.0).abs() < 1e-12);
/// assert_eq!(lifetime_sparsity(&[1.0, 1.0, 1.0]).unwrap(), Some(0.0));
/// ```
pub fn lifetime_sparsity(responses: &[f64]) -> Result<Option<f64>> {
    check_nonempty("lifetime sparsity input", responses, 2)?;
    Ok(lifetime_unchecked(
        responses.iter().copied(),
        responses.len(),
    ))
}

fn lifetime_unchecked(rs: impl Iterator<Item = f64>, n: usize) -> Option<f64> {
    let (s, s2) = rs.fold((0.0f64, 0.0f64), |(a, b), r| (a + r, b + r * r));
    if s2 == 0.0 {
        return None;
    }
    let nf = n as f64;
    let ratio = (s / nf).powi(2) / (s2 / nf);
    Some(((1.0 - ratio) / (1.0 - 1.0 / nf)).clamp(0.0, 1.0))
}

/// Sparsity of a row-major `n_samples × n_units` activation matrix (at least 2 samples and 2
/// units, all finite); activations with `|a| ≤ tol` count as zero for the fraction, the silent
/// inputs and the dead units. The Hoyer and lifetime measures use the raw values.
///
/// ```
/// use neurogen_analysis::plausibility::activity_sparsity;
/// // 2 inputs × 3 units: each input drives one unit; unit 2 never fires.
/// let s = activity_sparsity(&[1.0, 0.0, 0.0, 0.0, 2.0, 0.0], 3, 0.0).unwrap();
/// assert!((s.fraction_near_zero - 4.0 / 6.0).abs() < 1e-12);
/// assert_eq!((s.population_hoyer, s.lifetime, s.dead_units), (Some(1.0), Some(1.0), 1));
/// ```
pub fn activity_sparsity(
    activations: &[f64],
    n_units: usize,
    tol: f64,
) -> Result<ActivitySparsity> {
    check_tol(tol)?;
    if n_units < 2 || activations.is_empty() || activations.len() % n_units != 0 {
        return Err(AnalysisError::InvalidArgument(format!(
            "activity sparsity needs a non-empty n_samples × n_units matrix with n_units >= 2 \
             (got {} values for n_units = {n_units})",
            activations.len()
        )));
    }
    let n_samples = activations.len() / n_units;
    if n_samples < 2 {
        return Err(AnalysisError::TooFewObservations {
            what: "activity sparsity (samples)".into(),
            min: 2,
            got: n_samples,
        });
    }
    check_finite("activations", activations)?;
    let near_zero = activations.iter().filter(|a| a.abs() <= tol).count();
    let (mut hoyer_sum, mut hoyer_n, mut silent_samples) = (0.0, 0usize, 0usize);
    for row in activations.chunks_exact(n_units) {
        if row.iter().all(|a| a.abs() <= tol) {
            silent_samples += 1;
            continue;
        }
        if let Some(h) = hoyer_unchecked(row.iter().copied(), n_units) {
            hoyer_sum += h;
            hoyer_n += 1;
        }
    }
    let (mut life_sum, mut life_n, mut dead_units) = (0.0, 0usize, 0usize);
    for u in 0..n_units {
        let col = activations.iter().skip(u).step_by(n_units).copied();
        if col.clone().all(|a| a.abs() <= tol) {
            dead_units += 1;
            continue;
        }
        if let Some(l) = lifetime_unchecked(col, n_samples) {
            life_sum += l;
            life_n += 1;
        }
    }
    Ok(ActivitySparsity {
        n_samples,
        n_units,
        tol,
        fraction_near_zero: near_zero as f64 / activations.len() as f64,
        population_hoyer: (hoyer_n > 0).then(|| hoyer_sum / hoyer_n as f64),
        silent_samples,
        lifetime: (life_n > 0).then(|| life_sum / life_n as f64),
        dead_units,
    })
}

/// Sparsity of a set of weights (at least 2 finite values, `tol ≥ 0`).
///
/// ```
/// use neurogen_analysis::plausibility::weight_sparsity;
/// let s = weight_sparsity(&[0.0, 0.0, 0.0, -1.0], 0.0).unwrap();
/// assert_eq!((s.fraction_near_zero, s.hoyer), (0.75, Some(1.0)));
/// ```
pub fn weight_sparsity(weights: &[f64], tol: f64) -> Result<WeightSparsity> {
    check_tol(tol)?;
    check_nonempty("weights", weights, 2)?;
    Ok(WeightSparsity {
        n: weights.len(),
        tol,
        fraction_near_zero: weights.iter().filter(|w| w.abs() <= tol).count() as f64
            / weights.len() as f64,
        hoyer: hoyer_unchecked(weights.iter().copied(), weights.len()),
    })
}
