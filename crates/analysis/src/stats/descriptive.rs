//! Descriptive statistics reported with every figure: mean, sample SD (n - 1), SEM, a
//! t-based 95 % confidence interval of the mean, and z-scores.
use serde::Serialize;

use crate::error::{check_sample, AnalysisError, Result};

/// Summary of one sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Number of observations.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (denominator `n - 1`).
    pub sd: f64,
    /// Standard error of the mean, `sd / sqrt(n)`.
    pub sem: f64,
    /// 95 % confidence interval of the mean, `mean ± t(0.975, n-1) · sem`.
    pub ci95: (f64, f64),
}

/// Arithmetic mean (NaN for an empty slice; callers validate first).
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample standard deviation with denominator `n - 1` (NaN for fewer than 2 values).
pub fn sample_sd(xs: &[f64]) -> f64 {
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() as f64 - 1.0)).sqrt()
}

/// [`sample_sd`] of the repeats of a measurement, 0 when there is a single repeat (the curves
/// of the ablation and perturbation analyses, whose bands are then empty).
pub fn repeat_sd(xs: &[f64]) -> f64 {
    if xs.len() > 1 {
        sample_sd(xs)
    } else {
        0.0
    }
}

/// Mean, SD, SEM and t-based 95 % CI of a sample of at least two finite values.
///
/// ```
/// let s = neurogen_analysis::stats::summarize(&[1.0, 2.0, 3.0]).unwrap();
/// assert_eq!(s.mean, 2.0);
/// assert_eq!(s.sd, 1.0);
/// ```
pub fn summarize(xs: &[f64]) -> Result<Summary> {
    check_sample("sample", xs, 2)?;
    let n = xs.len();
    let mean = mean(xs);
    let sd = sample_sd(xs);
    let sem = sd / (n as f64).sqrt();
    let t = super::t_critical(0.05, n as f64 - 1.0)?;
    Ok(Summary {
        n,
        mean,
        sd,
        sem,
        ci95: (mean - t * sem, mean + t * sem),
    })
}

/// z-scores `(x - mean) / sd` using the sample SD (`n - 1`), as
/// `scipy.stats.zscore(x, ddof=1)`. Errors when all values are equal.
pub fn z_scores(xs: &[f64]) -> Result<Vec<f64>> {
    check_sample("sample", xs, 2)?;
    let m = mean(xs);
    let sd = sample_sd(xs);
    if sd == 0.0 {
        return Err(AnalysisError::ZeroVariance {
            what: "z-scores".into(),
        });
    }
    Ok(xs.iter().map(|x| (x - m) / sd).collect())
}
