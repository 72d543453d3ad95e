//! Pearson and Spearman correlation with two-sided p-values (t distribution with n - 2 df),
//! as `scipy.stats.pearsonr` / `spearmanr`; used to relate class selectivity to unit
//! importance (Morcos et al. 2018).
use serde::Serialize;

use super::descriptive::mean;
use crate::error::{check_sample, AnalysisError, Result};

/// A correlation coefficient with its significance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Correlation {
    /// Correlation coefficient in [-1, 1].
    pub r: f64,
    /// Two-sided p-value of `r = 0`.
    pub p: f64,
    /// Number of pairs.
    pub n: usize,
}

fn check_pairs(x: &[f64], y: &[f64]) -> Result<()> {
    if x.len() != y.len() {
        return Err(AnalysisError::LengthMismatch {
            what: "correlation: y".into(),
            expected: x.len(),
            got: y.len(),
        });
    }
    check_sample("correlation: x", x, 3)?;
    check_sample("correlation: y", y, 3)
}

fn pearson_unchecked(x: &[f64], y: &[f64]) -> Result<Correlation> {
    let (mx, my) = (mean(x), mean(y));
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    if sxx == 0.0 || syy == 0.0 {
        return Err(AnalysisError::ZeroVariance {
            what: "correlation (a constant input)".into(),
        });
    }
    let r = (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0);
    let n = x.len();
    let df = n as f64 - 2.0;
    let p = if r.abs() == 1.0 {
        0.0
    } else {
        super::t_two_sided_p(r * (df / (1.0 - r * r)).sqrt(), df)?
    };
    Ok(Correlation { r, p, n })
}

/// Pearson's product-moment correlation (at least 3 pairs, neither input constant).
pub fn pearson(x: &[f64], y: &[f64]) -> Result<Correlation> {
    check_pairs(x, y)?;
    pearson_unchecked(x, y)
}

/// Ranks starting at 1, ties receiving their average rank.
pub fn rank_average(xs: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut ranks = vec![0.0; xs.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && xs[idx[j + 1]] == xs[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            ranks[k] = r;
        }
        i = j + 1;
    }
    ranks
}

/// Spearman's rank correlation: Pearson on average ranks (at least 3 pairs).
pub fn spearman(x: &[f64], y: &[f64]) -> Result<Correlation> {
    check_pairs(x, y)?;
    pearson_unchecked(&rank_average(x), &rank_average(y))
}

/// A correlation coefficient with its significance and a confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CorrelationCi {
    /// The coefficient, its p-value and the number of pairs.
    pub corr: Correlation,
    /// Lower bound of the interval.
    pub lo: f64,
    /// Upper bound of the interval.
    pub hi: f64,
    /// Confidence level (e.g. 0.95).
    pub level: f64,
}

fn check_level(level: f64) -> Result<()> {
    if !(level > 0.0 && level < 1.0) {
        return Err(AnalysisError::InvalidArgument(format!(
            "confidence level must lie in (0, 1), got {level}"
        )));
    }
    Ok(())
}

/// The two-sided standard normal quantile `z_{1 - (1 - level)/2}`.
fn normal_quantile(level: f64) -> Result<f64> {
    use statrs::distribution::{ContinuousCDF, Normal};
    let n = Normal::new(0.0, 1.0)
        .map_err(|e| AnalysisError::InvalidArgument(format!("normal distribution: {e}")))?;
    Ok(n.inverse_cdf(1.0 - (1.0 - level) / 2.0))
}

/// `tanh(atanh(r) ± z · se)`: the Fisher-z interval of `r` with standard error `se` of `atanh(r)`.
fn fisher_interval(r: f64, se: f64, level: f64) -> Result<(f64, f64)> {
    let z = r.atanh();
    let q = normal_quantile(level)?;
    Ok(((z - q * se).tanh(), (z + q * se).tanh()))
}

fn check_ci_pairs(x: &[f64], y: &[f64], level: f64) -> Result<()> {
    check_level(level)?;
    check_pairs(x, y)?;
    if x.len() < 4 {
        return Err(AnalysisError::TooFewObservations {
            what: "correlation confidence interval (Fisher z needs n - 3 > 0)".into(),
            min: 4,
            got: x.len(),
        });
    }
    Ok(())
}

/// Pearson's correlation with the Fisher-z confidence interval `tanh(atanh(r) ± z/√(n − 3))`,
/// as `scipy.stats.pearsonr(x, y).confidence_interval(level)` (at least 4 pairs).
///
/// ```
/// use neurogen_analysis::stats::correlation::pearson_ci;
/// let c = pearson_ci(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0], 0.95).unwrap();
/// assert!((c.corr.r - 0.8).abs() < 1e-12);
/// assert!(c.lo < c.corr.r && c.corr.r < c.hi);
/// ```
pub fn pearson_ci(x: &[f64], y: &[f64], level: f64) -> Result<CorrelationCi> {
    check_ci_pairs(x, y, level)?;
    let corr = pearson_unchecked(x, y)?;
    let (lo, hi) = fisher_interval(corr.r, 1.0 / (corr.n as f64 - 3.0).sqrt(), level)?;
    Ok(CorrelationCi {
        corr,
        lo,
        hi,
        level,
    })
}

/// Spearman's rank correlation with the Fisher-z interval of Fieller, Hartley & Pearson
/// (1957): standard error `√(1.06 / (n − 3))` of `atanh(ρ)` (at least 4 pairs).
pub fn spearman_ci(x: &[f64], y: &[f64], level: f64) -> Result<CorrelationCi> {
    check_ci_pairs(x, y, level)?;
    let corr = pearson_unchecked(&rank_average(x), &rank_average(y))?;
    let (lo, hi) = fisher_interval(corr.r, (1.06 / (corr.n as f64 - 3.0)).sqrt(), level)?;
    Ok(CorrelationCi {
        corr,
        lo,
        hi,
        level,
    })
}

/// The mean of several correlation coefficients (e.g. one per network) on the Fisher-z scale:
/// `tanh(mean(atanh r_i))`, with a t interval (n − 1 df) and the one-sample t-test of mean z = 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanCorrelation {
    /// `tanh` of the mean Fisher z.
    pub r: f64,
    /// Lower bound of the interval (back-transformed).
    pub lo: f64,
    /// Upper bound of the interval (back-transformed).
    pub hi: f64,
    /// Two-sided p-value of mean z = 0.
    pub p: f64,
    /// Number of coefficients.
    pub n: usize,
    /// Confidence level.
    pub level: f64,
}

/// Largest |r| used on the z scale: `atanh(±1)` is infinite, so coefficients of exactly ±1 are
/// taken as ±(1 − 1e-12).
const MAX_ABS_R: f64 = 1.0 - 1e-12;

/// Averages correlation coefficients on the Fisher-z scale (at least 2 finite values in
/// [-1, 1], not all equal).
///
/// ```
/// use neurogen_analysis::stats::correlation::mean_correlation;
/// let m = mean_correlation(&[0.1, -0.1, 0.2, 0.0], 0.95).unwrap();
/// assert!(m.lo < m.r && m.r < m.hi && m.p > 0.05);
/// ```
pub fn mean_correlation(rs: &[f64], level: f64) -> Result<MeanCorrelation> {
    check_level(level)?;
    check_sample("correlations", rs, 2)?;
    if let Some(i) = rs.iter().position(|r| r.abs() > 1.0) {
        return Err(AnalysisError::InvalidArgument(format!(
            "correlation {} at index {i} is outside [-1, 1]",
            rs[i]
        )));
    }
    let zs: Vec<f64> = rs
        .iter()
        .map(|r| r.clamp(-MAX_ABS_R, MAX_ABS_R).atanh())
        .collect();
    let n = zs.len();
    let m = mean(&zs);
    let sd = super::descriptive::sample_sd(&zs);
    if sd == 0.0 {
        return Err(AnalysisError::ZeroVariance {
            what: "mean correlation (all coefficients equal)".into(),
        });
    }
    let se = sd / (n as f64).sqrt();
    let df = n as f64 - 1.0;
    let q = super::t_critical(1.0 - level, df)?;
    Ok(MeanCorrelation {
        r: m.tanh(),
        lo: (m - q * se).tanh(),
        hi: (m + q * se).tanh(),
        p: super::t_two_sided_p(m / se, df)?,
        n,
        level,
    })
}
