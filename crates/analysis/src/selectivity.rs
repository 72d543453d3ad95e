//! Class selectivity and unit importance (paper Fig. 5C; Morcos et al. 2018).
//!
//! For each unit, with class-conditional mean activations `μ_c` over a whole split,
//! `selectivity = (μ_max - μ_rest) / (μ_max + μ_rest)`, where `μ_max` is the largest
//! class-conditional mean and `μ_rest` the mean of the other classes' means. The index is 0
//! for a unit that responds equally to all classes and 1 for a unit that responds to one class
//! only. **Units that never fire** (`μ_max + μ_rest = 0`, e.g. dead ReLUs) have an undefined
//! ratio; their index is defined as 0 here. Activations are expected to be non-negative
//! (post-ReLU), as in Morcos et al.
//!
//! A unit's importance is the accuracy drop when it alone is silenced:
//! `importance_u = baseline_acc - acc(u silenced)`.
use serde::Serialize;

use crate::error::{AnalysisError, Result};
use crate::stats::correlation::{pearson, spearman, Correlation};

/// Per-unit class selectivity index from an `N × n_units` row-major activation matrix and `N`
/// labels in `0..num_classes` (every class must occur at least once).
///
/// ```
/// use neurogen_analysis::selectivity::class_selectivity;
/// // unit 0 fires only for class 0; unit 1 equally for both; unit 2 never fires.
/// let acts = [1.0, 1.0, 0.0, 0.0, 1.0, 0.0];
/// let s = class_selectivity(&acts, 3, &[0, 1], 2).unwrap();
/// assert_eq!(s, vec![1.0, 0.0, 0.0]);
/// ```
pub fn class_selectivity(
    activations: &[f32],
    n_units: usize,
    labels: &[u8],
    num_classes: usize,
) -> Result<Vec<f64>> {
    if n_units == 0 || num_classes < 2 {
        return Err(AnalysisError::InvalidArgument(format!(
            "class selectivity needs n_units >= 1 and num_classes >= 2 (got {n_units}, {num_classes})"
        )));
    }
    if activations.len() != labels.len() * n_units {
        return Err(AnalysisError::LengthMismatch {
            what: format!(
                "activations (labels.len() × n_units = {} × {n_units})",
                labels.len()
            ),
            expected: labels.len() * n_units,
            got: activations.len(),
        });
    }
    if let Some(i) = activations.iter().position(|a| !a.is_finite()) {
        return Err(AnalysisError::NonFinite {
            what: "activations".into(),
            index: i,
            value: activations[i] as f64,
        });
    }
    let mut sums = vec![0.0f64; num_classes * n_units];
    let mut counts = vec![0usize; num_classes];
    for (row, &label) in labels.iter().enumerate() {
        let c = label as usize;
        if c >= num_classes {
            return Err(AnalysisError::InvalidArgument(format!(
                "label {label} at row {row} is not below num_classes = {num_classes}"
            )));
        }
        counts[c] += 1;
        let acts = &activations[row * n_units..(row + 1) * n_units];
        for (s, &a) in sums[c * n_units..(c + 1) * n_units].iter_mut().zip(acts) {
            *s += a as f64;
        }
    }
    if let Some(c) = counts.iter().position(|&n| n == 0) {
        return Err(AnalysisError::TooFewObservations {
            what: format!("class {c} in the selectivity split"),
            min: 1,
            got: 0,
        });
    }
    Ok((0..n_units)
        .map(|u| {
            let means: Vec<f64> = (0..num_classes)
                .map(|c| sums[c * n_units + u] / counts[c] as f64)
                .collect();
            let (imax, &mu_max) = means
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .expect("num_classes >= 2");
            let mu_rest = means
                .iter()
                .enumerate()
                .filter(|(c, _)| *c != imax)
                .map(|(_, m)| m)
                .sum::<f64>()
                / (num_classes - 1) as f64;
            let denom = mu_max + mu_rest;
            if denom == 0.0 {
                0.0
            } else {
                (mu_max - mu_rest) / denom
            }
        })
        .collect())
}

/// Importance of each unit: `baseline_acc - eval(&[u])`, the accuracy drop when unit `u` alone
/// is silenced.
pub fn unit_importance<F, E>(n_units: usize, baseline_acc: f64, mut eval: F) -> Result<Vec<f64>>
where
    F: FnMut(&[usize]) -> std::result::Result<f64, E>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if !baseline_acc.is_finite() {
        return Err(AnalysisError::NonFinite {
            what: "baseline accuracy".into(),
            index: 0,
            value: baseline_acc,
        });
    }
    (0..n_units)
        .map(|u| {
            let acc = eval(&[u]).map_err(|e| AnalysisError::Eval(e.into()))?;
            if !acc.is_finite() {
                return Err(AnalysisError::NonFinite {
                    what: "accuracy with one unit silenced".into(),
                    index: u,
                    value: acc,
                });
            }
            Ok(baseline_acc - acc)
        })
        .collect()
}

/// Pearson and Spearman correlation between selectivity and importance across units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SelectivityImportance {
    /// Pearson correlation.
    pub pearson: Correlation,
    /// Spearman rank correlation.
    pub spearman: Correlation,
}

/// Correlates per-unit selectivity with per-unit importance (same length, at least 3 units,
/// neither constant), as Morcos et al. report.
pub fn selectivity_importance_correlation(
    selectivity: &[f64],
    importance: &[f64],
) -> Result<SelectivityImportance> {
    Ok(SelectivityImportance {
        pearson: pearson(selectivity, importance)?,
        spearman: spearman(selectivity, importance)?,
    })
}
