//! Random-direction perturbation (Morcos et al. 2018, "On the importance of single directions
//! for generalization", Sec. 2.3): Gaussian noise of growing standard deviation added to every
//! unit of a layer at evaluation; accuracy against the noise level. Also the area under any
//! such curve ([`area_under_curve`]), the summary of robustness that Morcos et al. correlate
//! with generalisation.
//!
//! A noise level `s` means: unit `u` receives `N(0, (s · sd_u)²)` noise independently for every
//! example, where `sd_u` is that unit's empirical standard deviation of activity (so that
//! levels are comparable across units, layers and networks). The caller's `eval` closure adds
//! the noise (e.g. with `neurogen_model::AddNoise`) and returns the accuracy; it receives the
//! level and the seed of the draw, so a curve is deterministic. As for ablation, draw `d` uses
//! seed `seed + d`.
use serde::Serialize;

use crate::error::{check_finite, AnalysisError, Result};
use crate::stats::descriptive::{mean, repeat_sd};

/// Accuracy as a function of the noise level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoiseCurve {
    /// Noise levels (multiples of each unit's activity SD), ascending, the first usually 0.
    pub levels: Vec<f64>,
    /// Mean accuracy over the draws at each level.
    pub accuracy_mean: Vec<f64>,
    /// Sample SD of the accuracy over the draws (0 for a single draw).
    pub accuracy_sd: Vec<f64>,
}

/// `0, 0.25, 0.5, ..., 2.0` times each unit's SD (9 levels).
pub fn default_noise_levels() -> Vec<f64> {
    (0..=8).map(|i| i as f64 * 0.25).collect()
}

/// Runs a noise-perturbation experiment: for every level and each of `draws` draws, `eval(level,
/// seed + d)` returns the accuracy with noise of that level (draw seed `seed + d`). A level of 0
/// is evaluated once (noise of SD 0 is no noise) and counts for every draw.
///
/// ```
/// use neurogen_analysis::perturbation::noise_curve;
/// // Toy network: accuracy falls linearly with the noise level, whatever the draw.
/// let c = noise_curve(&[0.0, 0.5, 1.0], 2, 7,
///     |s: f64, _seed: u64| Ok::<f64, std::convert::Infallible>(1.0 - 0.5 * s)).unwrap();
/// assert_eq!(c.accuracy_mean, vec![1.0, 0.75, 0.5]);
/// ```
pub fn noise_curve<F, E>(levels: &[f64], draws: usize, seed: u64, mut eval: F) -> Result<NoiseCurve>
where
    F: FnMut(f64, u64) -> std::result::Result<f64, E>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if levels.is_empty() {
        return Err(AnalysisError::InvalidArgument(
            "a noise curve needs at least one level".into(),
        ));
    }
    if draws == 0 {
        return Err(AnalysisError::InvalidArgument(
            "a noise curve needs at least one draw".into(),
        ));
    }
    check_finite("noise levels", levels)?;
    if let Some(l) = levels.iter().find(|l| **l < 0.0) {
        return Err(AnalysisError::InvalidArgument(format!(
            "noise levels must be >= 0, got {l}"
        )));
    }
    if levels.windows(2).any(|w| w[1] <= w[0]) {
        return Err(AnalysisError::InvalidArgument(format!(
            "noise levels must be strictly ascending, got {levels:?}"
        )));
    }
    let mut accuracy_mean = Vec::with_capacity(levels.len());
    let mut accuracy_sd = Vec::with_capacity(levels.len());
    for (i, &level) in levels.iter().enumerate() {
        let n = if level == 0.0 { 1 } else { draws };
        let mut accs = Vec::with_capacity(n);
        for d in 0..n as u64 {
            let acc =
                eval(level, seed.wrapping_add(d)).map_err(|e| AnalysisError::Eval(e.into()))?;
            if !acc.is_finite() {
                return Err(AnalysisError::NonFinite {
                    what: format!("accuracy at noise level {level}"),
                    index: i,
                    value: acc,
                });
            }
            accs.push(acc);
        }
        accuracy_mean.push(mean(&accs));
        accuracy_sd.push(repeat_sd(&accs));
    }
    Ok(NoiseCurve {
        levels: levels.to_vec(),
        accuracy_mean,
        accuracy_sd,
    })
}

/// Area under the piecewise-linear curve through `(x_i, y_i)` (trapezoid rule), **divided by
/// the range `x_last − x_first`**: the curve's mean height, in the units of `y`. An ablation
/// curve over fractions 0..1 thus has its plain area (the range is 1); a normalised ablation
/// curve's area lies in [0, 1] when the curve does; a noise curve's area is its mean accuracy
/// over the levels. At least two points, `x` strictly ascending, all values finite.
///
/// ```
/// use neurogen_analysis::perturbation::area_under_curve;
/// // A straight line from 1 down to 0 over [0, 1]: area 0.5.
/// assert_eq!(area_under_curve(&[0.0, 0.5, 1.0], &[1.0, 0.5, 0.0]).unwrap(), 0.5);
/// // Over [0, 2] a constant 0.8 has mean height 0.8.
/// assert_eq!(area_under_curve(&[0.0, 2.0], &[0.8, 0.8]).unwrap(), 0.8);
/// ```
pub fn area_under_curve(x: &[f64], y: &[f64]) -> Result<f64> {
    if x.len() != y.len() {
        return Err(AnalysisError::LengthMismatch {
            what: "area under curve: y".into(),
            expected: x.len(),
            got: y.len(),
        });
    }
    if x.len() < 2 {
        return Err(AnalysisError::TooFewObservations {
            what: "area under curve".into(),
            min: 2,
            got: x.len(),
        });
    }
    check_finite("area under curve: x", x)?;
    check_finite("area under curve: y", y)?;
    if x.windows(2).any(|w| w[1] <= w[0]) {
        return Err(AnalysisError::InvalidArgument(format!(
            "area under curve: x must be strictly ascending, got {x:?}"
        )));
    }
    let area: f64 = x
        .windows(2)
        .zip(y.windows(2))
        .map(|(f, v)| (f[1] - f[0]) * (v[0] + v[1]) / 2.0)
        .sum();
    Ok(area / (x[x.len() - 1] - x[0]))
}
