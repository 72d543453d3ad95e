//! Plot builders shared by the figures: per-epoch curves of the paper's CNN runs (box plots and
//! saving are the engine's, [`neurogen_lab::plot`]).
use neurogen_analysis::plot::{Curve, Labels, LinePlot};

use crate::cnn::{read_curves, CnnError, RunCurves, RunRecord, RunStatus};

pub use neurogen_lab::plot::box_plot;

/// Mean ± SEM per epoch of a per-run curve, for each group.
pub fn epoch_curves(
    dir: &std::path::Path,
    rows: &[RunRecord],
    groups: &[String],
    pick: impl Fn(&RunCurves) -> Vec<f64>,
    title: &str,
    y: &str,
) -> Result<LinePlot, CnnError> {
    let mut curves = Vec::new();
    for g in groups {
        let mut series: Vec<Vec<f64>> = Vec::new();
        for r in rows
            .iter()
            .filter(|r| &r.group == g && r.status == RunStatus::Ok)
        {
            series.push(pick(&read_curves(dir, r)?));
        }
        let len = series.iter().map(|s| s.len()).min().unwrap_or(0);
        if len == 0 {
            continue;
        }
        let mut mean = Vec::with_capacity(len);
        let mut sem = Vec::with_capacity(len);
        for e in 0..len {
            let xs: Vec<f64> = series.iter().map(|s| s[e]).collect();
            let m = xs.iter().sum::<f64>() / xs.len() as f64;
            let sd = if xs.len() > 1 {
                (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
            } else {
                0.0
            };
            mean.push(m);
            sem.push(sd / (xs.len() as f64).sqrt());
        }
        curves.push(Curve {
            label: g.clone(),
            x: (1..=len).map(|e| e as f64).collect(),
            y: mean,
            err: Some(sem),
        });
    }
    Ok(LinePlot {
        curves,
        labels: Labels::new(title, "epoch", y),
    })
}
