//! Power of the paired (one-sample) t-test and the smallest difference a design detects.
//!
//! A claims table with n pairs says "no effect" and "too few repeats" in the same words unless
//! it also says how large an effect those n pairs could have found. For a two-sided paired
//! t-test at level α with n pairs whose differences have standard deviation σ, a true mean
//! difference δ is found with probability
//!
//! `power(δ) = P(T' > c) + P(T' < −c)`, `T' ~ noncentral t(n − 1, λ = δ·√n/σ)`, `c = t(1 − α/2, n − 1)`,
//!
//! (R's `power.t.test(type = "paired", strict = TRUE)`, SciPy's `nct`). The noncentral t
//! distribution is integrated here over the chi distribution of the sample SD:
//! `P(T' > c) = E[Φ̄(c·U/√df − λ)]`, `U = √χ²_df`, by Simpson's rule on the density of `U`
//! (finite for every df ≥ 1). [`paired_mde`] inverts it by bisection: the smallest |δ| found with
//! the asked power; [`correlation_mde`] gives the same for a correlation (Fisher z).
use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::gamma::ln_gamma;

use crate::error::{AnalysisError, Result};

/// Intervals of Simpson's rule over the chi density (even).
const SIMPSON_INTERVALS: usize = 4000;

/// Power of the two-sided one-sample (paired) t-test at level `alpha` with `n` pairs, for a
/// true mean difference of `effect` standard deviations of the differences (d_z = δ/σ).
///
/// ```
/// use neurogen_analysis::stats::paired_t_power;
/// // 20 pairs find an effect of one SD almost surely, 8 pairs two times in three.
/// assert!((paired_t_power(1.0, 20, 0.05).unwrap() - 0.98859).abs() < 1e-4);
/// assert!((paired_t_power(1.0, 8, 0.05).unwrap() - 0.68083).abs() < 1e-4);
/// ```
pub fn paired_t_power(effect: f64, n: usize, alpha: f64) -> Result<f64> {
    check(n, alpha)?;
    if !effect.is_finite() {
        return Err(AnalysisError::InvalidArgument(format!(
            "power: the effect size must be finite, got {effect}"
        )));
    }
    let df = (n - 1) as f64;
    let c = super::t_critical(alpha, df)?;
    let lambda = effect.abs() * (n as f64).sqrt();
    let normal = Normal::new(0.0, 1.0).expect("the standard normal exists");
    // Density of U = √V, V ~ χ²_df: 2·u^(df−1)·e^(−u²/2) / (2^(df/2)·Γ(df/2)).
    let log_norm = std::f64::consts::LN_2 - 0.5 * df * std::f64::consts::LN_2 - ln_gamma(0.5 * df);
    let density = |u: f64| -> f64 {
        if u <= 0.0 {
            return if df == 1.0 { log_norm.exp() } else { 0.0 };
        }
        (log_norm + (df - 1.0) * u.ln() - 0.5 * u * u).exp()
    };
    let rejects = |u: f64| -> f64 {
        let s = u / df.sqrt();
        normal.sf(c * s - lambda) + normal.cdf(-c * s - lambda)
    };
    let upper = df.sqrt() + 12.0;
    let h = upper / SIMPSON_INTERVALS as f64;
    let mut sum = 0.0;
    for i in 0..=SIMPSON_INTERVALS {
        let u = i as f64 * h;
        let w = if i == 0 || i == SIMPSON_INTERVALS {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        sum += w * density(u) * rejects(u);
    }
    Ok((sum * h / 3.0).clamp(0.0, 1.0))
}

/// The smallest true mean difference, in standard deviations of the paired differences
/// (d_z), that a two-sided paired t-test at level `alpha` with `n` pairs detects with
/// probability `power`.
///
/// Multiply by the observed SD of the differences for the detectable difference in the data's
/// units. Errors for fewer than 2 pairs, `alpha` or `power` outside (0, 1), or a power below
/// `alpha` (any effect, even none, is found that often).
///
/// ```
/// use neurogen_analysis::stats::paired_mde;
/// // With 8 pairs only effects above 1.16 SD are found 80 % of the time; with 20, 0.66 SD.
/// assert!((paired_mde(8, 0.05, 0.8).unwrap() - 1.15603).abs() < 1e-4);
/// assert!((paired_mde(20, 0.05, 0.8).unwrap() - 0.66044).abs() < 1e-4);
/// ```
pub fn paired_mde(n: usize, alpha: f64, power: f64) -> Result<f64> {
    check(n, alpha)?;
    if !(power > alpha && power < 1.0) {
        return Err(AnalysisError::InvalidArgument(format!(
            "power: the asked power must lie in (alpha, 1) = ({alpha}, 1), got {power}"
        )));
    }
    // Power rises with the effect; bracket the root, then bisect.
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while paired_t_power(hi, n, alpha)? < power {
        lo = hi;
        hi *= 2.0;
        if hi > 1e6 {
            return Err(AnalysisError::InvalidArgument(format!(
                "power: no effect reaches power {power} with {n} pairs"
            )));
        }
    }
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if paired_t_power(mid, n, alpha)? < power {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}

/// The smallest |correlation| that a two-sided test at level `alpha` on `n` pairs detects with
/// probability `power`, by the Fisher-z approximation: `tanh((z(1 − α/2) + z(power))·se)` with
/// `se = 1/√(n − 3)` for Pearson's r and `√(1.06/(n − 3))` for Spearman's ρ (Fieller, Hartley &
/// Pearson 1957), the standard errors of [`super::pearson_ci`] and [`super::spearman_ci`].
/// Needs n ≥ 4.
///
/// ```
/// use neurogen_analysis::stats::correlation_mde;
/// // 15 networks detect a Pearson correlation of about 0.67 with 80 % power.
/// let r = correlation_mde(15, 0.05, 0.8, false).unwrap();
/// assert!((r - 0.6689).abs() < 1e-3);
/// ```
pub fn correlation_mde(n: usize, alpha: f64, power: f64, spearman: bool) -> Result<f64> {
    if n < 4 {
        return Err(AnalysisError::TooFewObservations {
            what: "detectable correlation".into(),
            min: 4,
            got: n,
        });
    }
    let inside = |x: f64| x > 0.0 && x < 1.0;
    if !(inside(alpha) && inside(power)) {
        return Err(AnalysisError::InvalidArgument(format!(
            "detectable correlation: alpha and power must lie in (0, 1), got {alpha} and {power}"
        )));
    }
    let normal = Normal::new(0.0, 1.0).expect("the standard normal exists");
    let var = if spearman { 1.06 } else { 1.0 };
    let se = (var / (n as f64 - 3.0)).sqrt();
    Ok(((normal.inverse_cdf(1.0 - alpha / 2.0) + normal.inverse_cdf(power)) * se).tanh())
}

fn check(n: usize, alpha: f64) -> Result<()> {
    if n < 2 {
        return Err(AnalysisError::TooFewObservations {
            what: "power of the paired t-test".into(),
            min: 2,
            got: n,
        });
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(AnalysisError::InvalidArgument(format!(
            "power: alpha must lie in (0, 1), got {alpha}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SciPy 1.x: `nct.sf(c, df, λ) + nct.cdf(−c, df, λ)` with `c = t.ppf(0.975, df)`, and
    /// `brentq` on it for the 80 % effect.
    #[test]
    fn power_and_detectable_effect_match_scipy() {
        for (n, power_at_1, mde) in [
            (3, 0.179_255_393_776_551_8, 3.264_043_549_699_572_6),
            (4, 0.288_752_416_401_715_06, 2.127_949_343_257_475_4),
            (8, 0.680_833_958_206_266_6, 1.156_034_677_994_877_1),
            (20, 0.988_591_294_778_775_8, 0.660_441_654_622_702),
        ] {
            let p = paired_t_power(1.0, n, 0.05).unwrap();
            assert!((p - power_at_1).abs() < 1e-6, "n = {n}: power {p}");
            let d = paired_mde(n, 0.05, 0.8).unwrap();
            assert!((d - mde).abs() < 1e-5, "n = {n}: mde {d}");
        }
    }

    #[test]
    fn no_effect_is_found_at_the_test_level_and_power_grows_with_n_and_effect() {
        for n in [2, 5, 30] {
            let p = paired_t_power(0.0, n, 0.05).unwrap();
            assert!((p - 0.05).abs() < 1e-6, "n = {n}: {p}");
        }
        assert!(paired_t_power(0.5, 10, 0.05).unwrap() < paired_t_power(0.5, 20, 0.05).unwrap());
        assert!(paired_t_power(0.3, 10, 0.05).unwrap() < paired_t_power(0.6, 10, 0.05).unwrap());
        // The sign of the effect does not matter for a two-sided test.
        assert_eq!(
            paired_t_power(-0.7, 9, 0.05).unwrap(),
            paired_t_power(0.7, 9, 0.05).unwrap()
        );
    }

    #[test]
    fn detectable_correlation_follows_the_fisher_z_scale() {
        // tanh((1.959964 + 0.841621) / √12) = 0.668899 (Python: statistics.NormalDist).
        let r = correlation_mde(15, 0.05, 0.8, false).unwrap();
        assert!((r - 0.668_899).abs() < 1e-5, "{r}");
        // Spearman's larger standard error needs a larger correlation.
        assert!(correlation_mde(15, 0.05, 0.8, true).unwrap() > r);
        assert!(correlation_mde(40, 0.05, 0.8, false).unwrap() < r);
        assert!(correlation_mde(3, 0.05, 0.8, false).is_err());
    }

    #[test]
    fn bad_arguments_are_named_errors() {
        let e = paired_mde(1, 0.05, 0.8).unwrap_err().to_string();
        assert!(e.contains("need at least 2"), "{e}");
        let e = paired_mde(8, 0.0, 0.8).unwrap_err().to_string();
        assert!(e.contains("alpha"), "{e}");
        let e = paired_mde(8, 0.05, 1.0).unwrap_err().to_string();
        assert!(e.contains("power"), "{e}");
        let e = paired_t_power(f64::NAN, 8, 0.05).unwrap_err().to_string();
        assert!(e.contains("finite"), "{e}");
    }
}
