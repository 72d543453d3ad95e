//! The one-sample Kolmogorov–Smirnov test.
//!
//! For a sample `x_(1) ≤ … ≤ x_(n)` and a continuous CDF `F`,
//! `D = max_i max(i/n − F(x_(i)), F(x_(i)) − (i−1)/n)`. The p-value is the Kolmogorov
//! distribution's survival function at `λ = (√n + 0.12 + 0.11/√n)·D` (Stephens 1970; Press et
//! al., *Numerical Recipes*, §14.3), accurate to a few per cent of the p-value for n ≥ 5 (it is
//! the asymptotic distribution with a small-sample correction, not the exact one).
//!
//! `Q(λ) = P(K > λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}`; for `λ < 1.18` the series converges
//! slowly and the equivalent Jacobi-theta form
//! `P(K ≤ λ) = (√(2π)/λ) Σ_{k≥1} e^{−(2k−1)²π²/(8λ²)}` is used.
//!
//! **When `F` was fitted to the same sample** (as in [`crate::plausibility::fit`]), `D` is
//! smaller than under a fixed `F` and this p-value is conservative (too large: Lilliefors
//! 1967). It still ranks the families, and a small p-value still rejects the fit.
use serde::Serialize;

use crate::error::{check_sample, AnalysisError, Result};

/// The result of a one-sample KS test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KsTest {
    /// `D`, the largest distance between the empirical and the reference CDF.
    pub statistic: f64,
    /// `Q((√n + 0.12 + 0.11/√n)·D)`.
    pub p_value: f64,
    /// Sample size.
    pub n: usize,
}

/// The one-sample KS statistic `D` of `sample` against the CDF `cdf` (at least 1 finite value;
/// `cdf` must return values in `[0, 1]`).
///
/// ```
/// use neurogen_analysis::plausibility::ks_statistic;
/// // Uniform(0, 1): the empirical CDF jumps to 1/2 at 0.1 and to 1 at 0.6.
/// let d = ks_statistic(&[0.6, 0.1], |x: f64| x.clamp(0.0, 1.0)).unwrap();
/// assert!((d - 0.4).abs() < 1e-12);
/// ```
pub fn ks_statistic(sample: &[f64], cdf: impl Fn(f64) -> f64) -> Result<f64> {
    check_sample("KS sample", sample, 1)?;
    let mut xs = sample.to_vec();
    xs.sort_by(f64::total_cmp);
    let n = xs.len() as f64;
    let mut d = 0.0f64;
    for (i, &x) in xs.iter().enumerate() {
        let f = cdf(x);
        if !(0.0..=1.0).contains(&f) {
            return Err(AnalysisError::InvalidArgument(format!(
                "KS reference CDF returned {f} at x = {x}; a CDF lies in [0, 1]"
            )));
        }
        let lo = i as f64 / n;
        let hi = (i + 1) as f64 / n;
        d = d.max(hi - f).max(f - lo);
    }
    Ok(d)
}

/// The Kolmogorov distribution's survival function `Q(λ) = P(K > λ)` (1 for `λ ≤ 0`).
///
/// ```
/// use neurogen_analysis::plausibility::kolmogorov_sf;
/// // The classical 5 % critical value of the Kolmogorov distribution.
/// assert!((kolmogorov_sf(1.3581) - 0.05).abs() < 1e-4);
/// ```
pub fn kolmogorov_sf(lambda: f64) -> f64 {
    if lambda.is_nan() {
        return f64::NAN;
    }
    if lambda <= 0.0 {
        return 1.0;
    }
    if lambda < 1.18 {
        // P(K <= λ) by the theta form; terms fall as e^{-(2k-1)^2 π^2 / (8 λ^2)}.
        let c = -std::f64::consts::PI.powi(2) / (8.0 * lambda * lambda);
        let mut cdf = 0.0;
        for k in 1..=50 {
            let m = (2 * k - 1) as f64;
            let term = (c * m * m).exp();
            cdf += term;
            if term < 1e-300 {
                break;
            }
        }
        let cdf = (2.0 * std::f64::consts::PI).sqrt() / lambda * cdf;
        (1.0 - cdf).clamp(0.0, 1.0)
    } else {
        let mut sum = 0.0;
        let mut sign = 1.0;
        for k in 1..=100 {
            let kf = k as f64;
            let term = (-2.0 * kf * kf * lambda * lambda).exp();
            sum += sign * term;
            sign = -sign;
            if term < 1e-300 {
                break;
            }
        }
        (2.0 * sum).clamp(0.0, 1.0)
    }
}

/// The one-sample KS test of `sample` against `cdf`: the statistic ([`ks_statistic`]) and the
/// p-value with Stephens' small-sample correction (see the module docs).
pub fn ks_test(sample: &[f64], cdf: impl Fn(f64) -> f64) -> Result<KsTest> {
    let statistic = ks_statistic(sample, cdf)?;
    let sqrt_n = (sample.len() as f64).sqrt();
    let lambda = (sqrt_n + 0.12 + 0.11 / sqrt_n) * statistic;
    Ok(KsTest {
        statistic,
        p_value: kolmogorov_sf(lambda),
        n: sample.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_series_agree_where_they_switch() {
        // The theta form just below 1.18 and the alternating series at 1.18 meet.
        let below = kolmogorov_sf(1.18 - 1e-9);
        let at = kolmogorov_sf(1.18);
        assert!((below - at).abs() < 1e-8, "{below} vs {at}");
    }

    #[test]
    fn cdf_outside_unit_interval_is_an_error() {
        assert!(matches!(
            ks_statistic(&[1.0], |_| 2.0),
            Err(AnalysisError::InvalidArgument(_))
        ));
    }
}
