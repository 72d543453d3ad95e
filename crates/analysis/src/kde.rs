//! Gaussian kernel density estimates for plotting distributions (e.g. class selectivity,
//! paper Fig. 5C), as `scipy.stats.gaussian_kde` in one dimension:
//! `f(x) = 1/(n h) Σ φ((x - x_i)/h)` with bandwidth `h = factor · sd` (sample SD, `n - 1`),
//! Scott's factor `n^(-1/5)` or Silverman's factor `(3n/4)^(-1/5)`.
use serde::Serialize;

use crate::error::{check_sample, AnalysisError, Result};
use crate::stats::descriptive::sample_sd;

/// How to choose the kernel bandwidth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Bandwidth {
    /// Scott's rule: `h = n^(-1/5) · sd`.
    Scott,
    /// Silverman's rule: `h = (3n/4)^(-1/5) · sd`.
    Silverman,
    /// A fixed bandwidth `h > 0`.
    Fixed(f64),
}

/// A density curve evaluated on a grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Density {
    /// Evaluation points.
    pub x: Vec<f64>,
    /// Density at each point.
    pub y: Vec<f64>,
    /// Bandwidth used.
    pub bandwidth: f64,
}

/// The bandwidth `h` that `rule` gives for `samples` (at least 2 finite values; a rule-based
/// bandwidth needs non-zero variance).
pub fn bandwidth(samples: &[f64], rule: Bandwidth) -> Result<f64> {
    check_sample("KDE samples", samples, 2)?;
    let n = samples.len() as f64;
    let h = match rule {
        Bandwidth::Scott => n.powf(-0.2) * sample_sd(samples),
        Bandwidth::Silverman => (n * 0.75).powf(-0.2) * sample_sd(samples),
        Bandwidth::Fixed(h) => {
            if !(h > 0.0 && h.is_finite()) {
                return Err(AnalysisError::InvalidArgument(format!(
                    "KDE bandwidth must be positive and finite, got {h}"
                )));
            }
            h
        }
    };
    // Rounding can leave a constant sample with an SD of ~1e-17 instead of 0.
    let scale = samples.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if h <= 1e-12 * scale || h == 0.0 {
        return Err(AnalysisError::ZeroVariance {
            what: "KDE samples (bandwidth rule needs spread)".into(),
        });
    }
    Ok(h)
}

/// Evaluates the Gaussian KDE of `samples` at `points`.
///
/// ```
/// use neurogen_analysis::kde::{gaussian_kde, Bandwidth};
/// let d = gaussian_kde(&[0.0, 1.0, 2.0], &[1.0], Bandwidth::Scott).unwrap();
/// assert!(d.y[0] > 0.0);
/// ```
pub fn gaussian_kde(samples: &[f64], points: &[f64], rule: Bandwidth) -> Result<Density> {
    let h = bandwidth(samples, rule)?;
    crate::error::check_finite("KDE evaluation points", points)?;
    let norm = 1.0 / (samples.len() as f64 * h * (2.0 * std::f64::consts::PI).sqrt());
    let y = points
        .iter()
        .map(|&x| {
            norm * samples
                .iter()
                .map(|&s| (-0.5 * ((x - s) / h).powi(2)).exp())
                .sum::<f64>()
        })
        .collect();
    Ok(Density {
        x: points.to_vec(),
        y,
        bandwidth: h,
    })
}

/// KDE on `n_points` evenly spaced points from `min - 3h` to `max + 3h` (for plotting).
pub fn kde_curve(samples: &[f64], n_points: usize, rule: Bandwidth) -> Result<Density> {
    if n_points < 2 {
        return Err(AnalysisError::InvalidArgument(format!(
            "KDE grid needs at least 2 points, got {n_points}"
        )));
    }
    let h = bandwidth(samples, rule)?;
    let lo = samples.iter().copied().fold(f64::INFINITY, f64::min) - 3.0 * h;
    let hi = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max) + 3.0 * h;
    let step = (hi - lo) / (n_points - 1) as f64;
    let grid: Vec<f64> = (0..n_points).map(|i| lo + step * i as f64).collect();
    gaussian_kde(samples, &grid, Bandwidth::Fixed(h))
}
