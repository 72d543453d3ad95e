//! Equal-width histograms: the data behind a weight-distribution figure.
use serde::Serialize;

use crate::error::{check_sample, AnalysisError, Result};

/// Counts in `bins` equal-width bins.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    /// `bins + 1` bin edges, increasing; bin `i` is `[edges[i], edges[i+1])`, the last bin also
    /// holds its right edge.
    pub edges: Vec<f64>,
    /// Count per bin.
    pub counts: Vec<usize>,
    /// Values below the first edge.
    pub below: usize,
    /// Values above the last edge.
    pub above: usize,
    /// `count / (n · width)` per bin, with `n` the number of values inside the range, so the
    /// histogram integrates to 1 like `numpy.histogram(density=True)`.
    pub density: Vec<f64>,
}

/// Histogram of `xs` over `[min xs, max xs]` in `bins` bins (at least 1 finite value, `bins ≥ 1`;
/// a sample of one repeated value gets the range `[v − 0.5, v + 0.5]`).
///
/// ```
/// use neurogen_analysis::plausibility::histogram;
/// let h = histogram(&[0.0, 0.1, 0.9, 1.0], 2).unwrap();
/// assert_eq!(h.edges, vec![0.0, 0.5, 1.0]);
/// assert_eq!(h.counts, vec![2, 2]);
/// ```
pub fn histogram(xs: &[f64], bins: usize) -> Result<Histogram> {
    check_sample("histogram", xs, 1)?;
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    histogram_in(xs, lo, hi, bins)
}

/// Histogram of `xs` over `[lo, hi]` in `bins` bins; values outside are counted in
/// [`Histogram::below`] and [`Histogram::above`].
pub fn histogram_in(xs: &[f64], lo: f64, hi: f64, bins: usize) -> Result<Histogram> {
    check_sample("histogram", xs, 1)?;
    if bins == 0 || !lo.is_finite() || !hi.is_finite() || hi <= lo {
        return Err(AnalysisError::InvalidArgument(format!(
            "histogram needs bins >= 1 and finite lo < hi (got bins {bins}, range [{lo}, {hi}])"
        )));
    }
    let width = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins)
        .map(|i| if i == bins { hi } else { lo + width * i as f64 })
        .collect();
    let mut counts = vec![0usize; bins];
    let (mut below, mut above) = (0, 0);
    for &x in xs {
        if x < lo {
            below += 1;
        } else if x > hi {
            above += 1;
        } else {
            let i = (((x - lo) / width) as usize).min(bins - 1);
            counts[i] += 1;
        }
    }
    let inside: usize = counts.iter().sum();
    let density = counts
        .iter()
        .map(|&c| {
            if inside == 0 {
                0.0
            } else {
                c as f64 / (inside as f64 * width)
            }
        })
        .collect();
    Ok(Histogram {
        edges,
        counts,
        below,
        above,
        density,
    })
}
