//! Orientation tuning with and without attention (`analysis/tuning_curves.py`), and the test
//! of multiplicative scaling by regression.
//!
//! Stimuli: an oriented bar (a Gaussian profile across its axis, [`bar`]) added to a fixed
//! distractor object, without noise or clamping, as the authors' script does. The network
//! attends twice; a pass whose gated input lies nearer the bar's gating target than the
//! distractor's ([`super::select_objects`]) attended the bar. For every orientation, a unit's
//! response is its largest activation (last iteration) over that orientation's stimuli, taken
//! separately over the passes that attended the bar and those that attended the distractor:
//! two tuning curves per unit. Multiplicative scaling shows as
//! `attended ≈ slope · unattended + intercept` with slope ≠ 1 and intercept ≈ 0
//! ([`scaling_fit`]).
use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};

use super::error::{config, shape, AttentionError, Result};
use super::loss::select_objects;
use super::model::AttentionNet;

/// A bar on an `h × w` canvas: centre `(cy, cx)` in pixels, orientation `degrees`
/// (counter-clockwise from horizontal), `length` pixels long, with a Gaussian cross-section of
/// standard deviation `sigma` pixels, peak 1.
pub fn bar(
    (h, w): (usize, usize),
    degrees: f64,
    sigma: f64,
    (cy, cx): (f64, f64),
    length: f64,
) -> Result<Vec<f32>> {
    if !(sigma.is_finite() && sigma > 0.0 && length.is_finite() && length > 0.0) {
        return Err(config(format!(
            "a bar needs sigma > 0 and length > 0, got {sigma} and {length}"
        )));
    }
    let (s, c) = degrees.to_radians().sin_cos();
    let mut img = vec![0f32; h * w];
    for r in 0..h {
        for col in 0..w {
            let (dx, dy) = (col as f64 - cx, cy - r as f64);
            let along = dx * c + dy * s;
            let across = -dx * s + dy * c;
            if along.abs() <= length / 2.0 {
                img[r * w + col] = (-across * across / (2.0 * sigma * sigma)).exp() as f32;
            }
        }
    }
    Ok(img)
}

/// A least-squares line `y = slope · x + intercept` and its coefficient of determination.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScalingFit {
    /// Slope (gain).
    pub slope: f64,
    /// Intercept (additive offset).
    pub intercept: f64,
    /// R² of the fit.
    pub r2: f64,
}

/// Regresses attended responses on unattended ones (same length ≥ 2, finite, unattended
/// not all equal).
pub fn scaling_fit(unattended: &[f64], attended: &[f64]) -> Result<ScalingFit> {
    if unattended.len() != attended.len() || unattended.len() < 2 {
        return Err(shape(format!(
            "a scaling fit needs two curves of the same length ≥ 2, got {} and {}",
            unattended.len(),
            attended.len()
        )));
    }
    if unattended.iter().chain(attended).any(|v| !v.is_finite()) {
        return Err(AttentionError::NonFinite("a tuning-curve value".into()));
    }
    let n = unattended.len() as f64;
    let mx = unattended.iter().sum::<f64>() / n;
    let my = attended.iter().sum::<f64>() / n;
    let sxx: f64 = unattended.iter().map(|x| (x - mx) * (x - mx)).sum();
    let sxy: f64 = unattended
        .iter()
        .zip(attended)
        .map(|(x, y)| (x - mx) * (y - my))
        .sum();
    let syy: f64 = attended.iter().map(|y| (y - my) * (y - my)).sum();
    if sxx <= 0.0 {
        return Err(config("the unattended curve is flat: no slope to fit"));
    }
    let slope = sxy / sxx;
    let r2 = if syy > 0.0 {
        sxy * sxy / (sxx * syy)
    } else {
        1.0
    };
    Ok(ScalingFit {
        slope,
        intercept: my - slope * mx,
        r2,
    })
}

/// One unit's two tuning curves over the orientations (`None` where no pass of that kind
/// happened for an orientation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuningCurves {
    /// `"conv1"` or `"conv2"`.
    pub layer: String,
    /// Channel of the unit.
    pub channel: usize,
    /// Response per orientation when the bar was attended.
    pub attended: Vec<Option<f64>>,
    /// Response per orientation when the distractor was attended.
    pub unattended: Vec<Option<f64>>,
}

/// Tuning curves of every channel of conv1 (at `(r1, c1)`) and conv2 (at `(r2, c2)`): for
/// orientation `o`, `stimuli[o]` holds bar canvases (`H·W` each) that are added to
/// `distractor` (`H·W`) and shown together (see the module docs).
pub fn tuning_curves(
    net: &AttentionNet,
    distractor: &[f32],
    stimuli: &[Vec<Vec<f32>>],
    (r1, c1): (usize, usize),
    (r2, c2): (usize, usize),
) -> Result<Vec<TuningCurves>> {
    let (h, w) = net.shapes().input;
    let p = h * w;
    let s = net.config().strength as f32;
    let ((h1, w1), (h3, w3)) = (net.shapes().conv1, net.shapes().conv2);
    if r1 >= h1 || c1 >= w1 || r2 >= h3 || c2 >= w3 {
        return Err(shape(format!(
            "units at ({r1}, {c1}) of conv1 ({h1}×{w1}) and ({r2}, {c2}) of conv2 ({h3}×{w3})"
        )));
    }
    if distractor.len() != p || stimuli.is_empty() {
        return Err(shape(format!(
            "a {p}-pixel distractor and at least one orientation are needed"
        )));
    }
    let chans = [super::model::C1, super::model::C2];
    let mut att: Vec<Vec<Option<f64>>> = vec![vec![None; stimuli.len()]; chans[0] + chans[1]];
    let mut unatt = att.clone();
    for (o, bars) in stimuli.iter().enumerate() {
        if bars.is_empty() || bars.iter().any(|b| b.len() != p) {
            return Err(shape(format!(
                "orientation {o}: every bar must have {p} pixels, and there must be one"
            )));
        }
        let b = bars.len();
        let mut x = Vec::with_capacity(b * p);
        let mut targets = Vec::with_capacity(2 * b * p);
        for bar in bars {
            let scene: Vec<f32> = bar.iter().zip(distractor).map(|(a, d)| a + d).collect();
            for obj in [bar.as_slice(), distractor] {
                targets.extend(scene.iter().zip(obj).map(|(x, o)| (1.0 - s) * x + s * o));
            }
            x.extend(scene);
        }
        let xt = Tensor::from_vec(x, (b, 1, h, w), net.device())?.to_dtype(net.dtype())?;
        let mut reported = vec![false; 2 * b];
        let mut ior = net.empty_ior(b)?;
        for _ in 0..2 {
            let pass = net.attend(&xt, &ior)?;
            let g = pass
                .gated
                .flatten_all()?
                .to_dtype(DType::F32)?
                .to_vec1::<f32>()?;
            let picks = select_objects(&g, &targets, 2, &mut reported)?;
            let c1v = pass
                .conv1
                .narrow(2, r1, 1)?
                .narrow(3, c1, 1)?
                .flatten_from(1)?
                .to_dtype(DType::F32)?
                .to_vec2::<f32>()?;
            let c2v = pass
                .conv2
                .narrow(2, r2, 1)?
                .narrow(3, c2, 1)?
                .flatten_from(1)?
                .to_dtype(DType::F32)?
                .to_vec2::<f32>()?;
            for (i, &k) in picks.iter().enumerate() {
                let curves = if k == 0 { &mut att } else { &mut unatt };
                let units = c1v[i].iter().chain(&c2v[i]);
                for (u, &v) in units.enumerate() {
                    let slot = &mut curves[u][o];
                    *slot = Some(slot.map_or(v as f64, |m: f64| m.max(v as f64)));
                }
            }
            ior = pass.ior;
        }
    }
    Ok(att
        .into_iter()
        .zip(unatt)
        .enumerate()
        .map(|(u, (attended, unattended))| TuningCurves {
            layer: if u < chans[0] { "conv1" } else { "conv2" }.to_string(),
            channel: if u < chans[0] { u } else { u - chans[0] },
            attended,
            unattended,
        })
        .collect())
}

/// The bars of the study's tuning analysis on an `h × w` canvas: 12 orientations (0°, 15°,
/// …, 165°), each at three centres `(14, 12)`, `(14, 14)`, `(14, 16)` (the first object's
/// place), 18 pixels long with a Gaussian cross-section of SD 1.5 pixels (ours: the authors'
/// script rotates and shifts a drawn bar).
pub fn study_bars((h, w): (usize, usize)) -> Result<Vec<Vec<Vec<f32>>>> {
    (0..12)
        .map(|o| {
            [12.0, 14.0, 16.0]
                .iter()
                .map(|&cx| bar((h, w), 15.0 * o as f64, 1.5, (14.0, cx), 18.0))
                .collect()
        })
        .collect()
}

/// What the regressions of one layer's tuning curves came to: medians over the units whose
/// curves could be fitted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TuningSummary {
    /// Units fitted: every orientation seen attended and unattended, an unattended curve
    /// that is not flat and a positive mean attended response.
    pub units: usize,
    /// Median slope of attended on unattended responses (> 1: attention raises the gain).
    pub slope: f64,
    /// Median intercept over the unit's mean attended response (≈ 0 for a purely
    /// multiplicative effect; an additive one shifts it).
    pub relative_intercept: f64,
    /// Median R² of the fits.
    pub r2: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The [`scaling_fit`]s of the units of `layer` (`"conv1"` or `"conv2"`) in `curves`,
/// summarised ([`TuningSummary`]); `None` when no unit of that layer could be fitted.
pub fn summarize_tuning(curves: &[TuningCurves], layer: &str) -> Option<TuningSummary> {
    let mut fits = Vec::new();
    for c in curves.iter().filter(|c| c.layer == layer) {
        let both: Option<Vec<(f64, f64)>> = c
            .unattended
            .iter()
            .zip(&c.attended)
            .map(|(u, a)| Some(((*u)?, (*a)?)))
            .collect();
        let Some(both) = both else { continue };
        let (u, a): (Vec<f64>, Vec<f64>) = both.into_iter().unzip();
        let mean_a = a.iter().sum::<f64>() / a.len() as f64;
        if mean_a <= 0.0 {
            continue;
        }
        if let Ok(f) = scaling_fit(&u, &a) {
            fits.push((f.slope, f.intercept / mean_a, f.r2));
        }
    }
    if fits.is_empty() {
        return None;
    }
    Some(TuningSummary {
        units: fits.len(),
        slope: median(fits.iter().map(|f| f.0).collect()),
        relative_intercept: median(fits.iter().map(|f| f.1).collect()),
        r2: median(fits.iter().map(|f| f.2).collect()),
    })
}
