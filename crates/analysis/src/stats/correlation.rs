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
