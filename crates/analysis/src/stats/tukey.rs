//! Tukey's honestly significant difference (Tukey–Kramer for unequal group sizes), the
//! post-hoc test following a one-way ANOVA: for groups i, j,
//! `q = |m_i - m_j| / sqrt(MS_within / 2 · (1/n_i + 1/n_j))`, adjusted p-value
//! `1 - ptukey(q, k, N - k)`, and simultaneous confidence interval
//! `m_i - m_j ± qtukey(1 - alpha, k, N - k) · sqrt(MS_within / 2 · (1/n_i + 1/n_j))`.
//! Matches `scipy.stats.tukey_hsd` and R's `TukeyHSD`.
use serde::Serialize;

use super::anova::one_way_anova;
use super::descriptive::mean;
use super::ptukey::{ptukey, qtukey};
use crate::error::{AnalysisError, Result};

/// One pairwise comparison of Tukey's HSD.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TukeyPair {
    /// Name of the first group.
    pub group_a: String,
    /// Name of the second group.
    pub group_b: String,
    /// `mean(a) - mean(b)`.
    pub mean_diff: f64,
    /// Standard error of the difference, `sqrt(MS_within / 2 · (1/n_a + 1/n_b))`.
    pub se: f64,
    /// Studentized range statistic `|mean_diff| / se`.
    pub q: f64,
    /// Family-wise adjusted p-value, `1 - ptukey(q, k, df)`.
    pub p_adj: f64,
    /// Lower end of the simultaneous `1 - alpha` confidence interval of `mean_diff`.
    pub ci_low: f64,
    /// Upper end of the simultaneous `1 - alpha` confidence interval of `mean_diff`.
    pub ci_high: f64,
    /// Whether `p_adj < alpha`.
    pub reject: bool,
}

/// Tukey's HSD over named groups (all pairs `i < j` in the given order).
///
/// ```
/// use neurogen_analysis::stats::tukey_hsd;
/// let pairs = tukey_hsd(&[("a", &[1.0, 2.0, 3.0]), ("b", &[2.0, 3.0, 4.5]), ("c", &[7.0, 8.0, 9.0])], 0.05).unwrap();
/// assert_eq!(pairs.len(), 3);
/// assert!(pairs[1].reject); // a vs c
/// ```
pub fn tukey_hsd(groups: &[(&str, &[f64])], alpha: f64) -> Result<Vec<TukeyPair>> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(AnalysisError::InvalidArgument(format!(
            "alpha must be in (0, 1), got {alpha}"
        )));
    }
    let data: Vec<&[f64]> = groups.iter().map(|(_, g)| *g).collect();
    let anova = one_way_anova(&data)?;
    let k = groups.len() as f64;
    let df = anova.df_within;
    if df < 2.0 {
        return Err(AnalysisError::TooFewObservations {
            what: "Tukey HSD error degrees of freedom (N - k)".into(),
            min: 2,
            got: df as usize,
        });
    }
    let q_crit = qtukey(1.0 - alpha, k, df)?;
    let mut out = Vec::new();
    for i in 0..groups.len() {
        for j in i + 1..groups.len() {
            let (na, nb) = (data[i].len() as f64, data[j].len() as f64);
            let diff = mean(data[i]) - mean(data[j]);
            let se = (anova.ms_within / 2.0 * (1.0 / na + 1.0 / nb)).sqrt();
            let q = diff.abs() / se;
            let p_adj = (1.0 - ptukey(q, k, df)).clamp(0.0, 1.0);
            out.push(TukeyPair {
                group_a: groups[i].0.to_string(),
                group_b: groups[j].0.to_string(),
                mean_diff: diff,
                se,
                q,
                p_adj,
                ci_low: diff - q_crit * se,
                ci_high: diff + q_crit * se,
                reject: p_adj < alpha,
            });
        }
    }
    Ok(out)
}
