//! Ablation analysis (paper Fig. 5B; Morcos et al. 2018, "On the importance of single
//! directions for generalization"): silence a growing fraction of a hidden layer's units —
//! at random, averaged over several draws, or in a given order — and record accuracy.
//!
//! For each fraction `f`, `round(f · n_units)` units are silenced. In a random draw the units
//! are silenced in the order of one random permutation (seeded ChaCha8), so the silenced sets
//! are nested as the fraction grows; each draw uses a fresh permutation. The normalised
//! accuracy is `(acc - acc_all) / (acc_none - acc_all)`, where `acc_none` is the accuracy with
//! no unit silenced and `acc_all` with every unit silenced.
//!
//! The model is reached only through the caller's `eval` closure, which receives the sorted
//! indices of the units to silence and returns the accuracy on the chosen split.
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{AnalysisError, Result};
use crate::stats::descriptive::{mean, repeat_sd};

/// In which order units are silenced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum AblationOrder {
    /// Random order, `draws` independent permutations seeded from `seed`.
    Random {
        /// Number of random permutations averaged (at least 1).
        draws: usize,
        /// Seed of the first permutation; draw `d` uses `seed + d`.
        seed: u64,
    },
    /// A given order (a permutation of `0..n_units`), e.g. most selective first.
    Given(Vec<usize>),
}

/// Accuracy as a function of the fraction of silenced units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AblationCurve {
    /// Fractions of units silenced.
    pub fractions: Vec<f64>,
    /// Number of units silenced at each fraction, `round(f · n_units)`.
    pub n_silenced: Vec<usize>,
    /// Mean accuracy over draws at each fraction.
    pub accuracy_mean: Vec<f64>,
    /// Sample SD of accuracy over draws (0 for a single draw or a given order).
    pub accuracy_sd: Vec<f64>,
    /// Accuracy with no unit silenced.
    pub acc_none_silenced: f64,
    /// Accuracy with every unit silenced.
    pub acc_all_silenced: f64,
    /// `(mean acc - acc_all) / (acc_none - acc_all)`; `None` when `acc_none == acc_all`
    /// (silencing the layer does not change accuracy, so the normalisation is undefined).
    pub normalized: Option<Vec<f64>>,
}

impl AblationCurve {
    /// Robustness to ablation: the area under the normalised curve over the fractions
    /// ([`crate::perturbation::area_under_curve`], divided by the range of fractions, which is
    /// 1 for fractions 0..1); 1 for a network unaffected until every unit is gone, 0 for one
    /// that falls to `acc_all_silenced` at once. None when the normalisation is undefined or
    /// there are fewer than two fractions.
    ///
    /// ```
    /// use neurogen_analysis::ablation::{ablation_curve, default_fractions, AblationOrder};
    /// // 20 units, accuracy falling linearly with the number ablated: area 1/2.
    /// let c = ablation_curve(20, &default_fractions(), AblationOrder::Random { draws: 1, seed: 0 },
    ///     |s: &[usize]| Ok::<f64, std::convert::Infallible>(1.0 - s.len() as f64 / 20.0)).unwrap();
    /// assert!((c.normalized_area().unwrap() - 0.5).abs() < 1e-12);
    /// ```
    pub fn normalized_area(&self) -> Option<f64> {
        let y = self.normalized.as_ref()?;
        crate::perturbation::area_under_curve(&self.fractions, y).ok()
    }
}

/// `0, 0.05, 0.10, ..., 1.0` (21 fractions, steps of 5 %).
pub fn default_fractions() -> Vec<f64> {
    (0..=20).map(|i| i as f64 / 20.0).collect()
}

fn call_eval<F, E>(eval: &mut F, silenced: &[usize]) -> Result<f64>
where
    F: FnMut(&[usize]) -> std::result::Result<f64, E>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let acc = eval(silenced).map_err(|e| AnalysisError::Eval(e.into()))?;
    if !acc.is_finite() {
        return Err(AnalysisError::NonFinite {
            what: format!("accuracy with {} units silenced", silenced.len()),
            index: silenced.len(),
            value: acc,
        });
    }
    Ok(acc)
}

/// Runs an ablation experiment over `n_units` units.
///
/// `eval` receives the ascending indices of the units to silence and returns the accuracy.
/// It is called once with no unit and once with every unit silenced, and once per draw and
/// fraction otherwise.
///
/// ```
/// use neurogen_analysis::ablation::{ablation_curve, default_fractions, AblationOrder};
/// // Toy "network": accuracy falls linearly with the number of silenced units.
/// let curve = ablation_curve(10, &default_fractions(), AblationOrder::Random { draws: 3, seed: 1 },
///     |silenced: &[usize]| Ok::<f64, std::convert::Infallible>(1.0 - silenced.len() as f64 / 10.0)).unwrap();
/// assert_eq!(curve.accuracy_mean[0], 1.0);
/// assert_eq!(curve.normalized.unwrap()[20], 0.0);
/// ```
pub fn ablation_curve<F, E>(
    n_units: usize,
    fractions: &[f64],
    order: AblationOrder,
    mut eval: F,
) -> Result<AblationCurve>
where
    F: FnMut(&[usize]) -> std::result::Result<f64, E>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if n_units == 0 {
        return Err(AnalysisError::InvalidArgument(
            "ablation needs at least one unit".into(),
        ));
    }
    if fractions.is_empty() {
        return Err(AnalysisError::InvalidArgument(
            "ablation needs at least one fraction".into(),
        ));
    }
    if let Some(f) = fractions.iter().find(|f| !(0.0..=1.0).contains(*f)) {
        return Err(AnalysisError::InvalidArgument(format!(
            "ablation fractions must lie in [0, 1], got {f}"
        )));
    }
    let orders: Vec<Vec<usize>> = match order {
        AblationOrder::Random { draws, seed } => {
            if draws == 0 {
                return Err(AnalysisError::InvalidArgument(
                    "random ablation needs at least one draw".into(),
                ));
            }
            (0..draws as u64)
                .map(|d| {
                    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(d));
                    let mut p: Vec<usize> = (0..n_units).collect();
                    p.shuffle(&mut rng);
                    p
                })
                .collect()
        }
        AblationOrder::Given(p) => {
            if p.len() != n_units {
                return Err(AnalysisError::LengthMismatch {
                    what: "ablation order".into(),
                    expected: n_units,
                    got: p.len(),
                });
            }
            let mut seen = vec![false; n_units];
            for &u in &p {
                if u >= n_units || seen[u] {
                    return Err(AnalysisError::InvalidArgument(format!(
                        "ablation order must be a permutation of 0..{n_units}; unit {u} is out of range or repeated"
                    )));
                }
                seen[u] = true;
            }
            vec![p]
        }
    };
    let all: Vec<usize> = (0..n_units).collect();
    let acc_none = call_eval(&mut eval, &[])?;
    let acc_all = call_eval(&mut eval, &all)?;
    let n_silenced: Vec<usize> = fractions
        .iter()
        .map(|f| ((f * n_units as f64).round() as usize).min(n_units))
        .collect();
    let mut accuracy_mean = Vec::with_capacity(fractions.len());
    let mut accuracy_sd = Vec::with_capacity(fractions.len());
    for &k in &n_silenced {
        let mut accs = Vec::with_capacity(orders.len());
        for perm in &orders {
            let acc = if k == 0 {
                acc_none
            } else if k == n_units {
                acc_all
            } else {
                let mut silenced = perm[..k].to_vec();
                silenced.sort_unstable();
                call_eval(&mut eval, &silenced)?
            };
            accs.push(acc);
        }
        accuracy_mean.push(mean(&accs));
        accuracy_sd.push(repeat_sd(&accs));
    }
    let denom = acc_none - acc_all;
    let normalized = (denom != 0.0).then(|| {
        accuracy_mean
            .iter()
            .map(|a| (a - acc_all) / denom)
            .collect()
    });
    Ok(AblationCurve {
        fractions: fractions.to_vec(),
        n_silenced,
        accuracy_mean,
        accuracy_sd,
        acc_none_silenced: acc_none,
        acc_all_silenced: acc_all,
        normalized,
    })
}
