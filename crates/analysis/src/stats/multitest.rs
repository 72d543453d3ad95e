//! Multiple-comparison adjustment of p-values: Holm–Bonferroni step-down, as
//! `statsmodels.stats.multitest.multipletests(p, method="holm")` (statsmodels 0.15.0).
use crate::error::{check_finite, AnalysisError, Result};

/// Holm–Bonferroni adjusted p-values, in the order of `p_values`.
///
/// With the `m` p-values sorted ascending, `p(1) ≤ … ≤ p(m)`, the adjusted values are
/// `p̃(k) = min(1, max_{j ≤ k} (m - j + 1)·p(j))`: step-down, monotone in the raw p-values,
/// capped at 1. Reject hypothesis `i` at family-wise level `α` when `adjusted[i] ≤ α`. Tied
/// p-values get equal adjusted values. An empty list gives an empty result.
///
/// Errors: [`AnalysisError::NonFinite`] for a NaN or infinite p-value,
/// [`AnalysisError::InvalidArgument`] for one outside `[0, 1]`.
///
/// ```
/// let adj = neurogen_analysis::stats::holm_bonferroni(&[0.01, 0.04, 0.03, 0.005]).unwrap();
/// assert_eq!(adj, vec![0.03, 0.06, 0.06, 0.02]);
/// ```
pub fn holm_bonferroni(p_values: &[f64]) -> Result<Vec<f64>> {
    check_finite("Holm-Bonferroni p-values", p_values)?;
    if let Some(i) = p_values.iter().position(|p| !(0.0..=1.0).contains(p)) {
        return Err(AnalysisError::InvalidArgument(format!(
            "Holm-Bonferroni: p-value at index {i} is {}, outside [0, 1]",
            p_values[i]
        )));
    }
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (k, &i) in order.iter().enumerate() {
        running = running.max((m - k) as f64 * p_values[i]).min(1.0);
        adjusted[i] = running;
    }
    Ok(adjusted)
}
