//! Box plots with every individual observation overlaid (the paper shows per-network test
//! accuracies this way, e.g. Fig. 3): box from the first to the third quartile (linear
//! interpolation, as numpy's default), median line, whiskers to the most extreme points within
//! 1.5 IQR of the box (Tukey), and jittered points.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    categorical_chart, check_plot_groups, colour, jitter, padded_range, plot_err, Figure, Labels,
};
use crate::error::Result;

/// A box plot of named groups.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxPlot {
    /// `(group name, observations)`, drawn left to right.
    pub groups: Vec<(String, Vec<f64>)>,
    /// Title and axis labels.
    pub labels: Labels,
}

/// Quantile with linear interpolation between order statistics (numpy's default method) of
/// already sorted data.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Box-plot statistics of one group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxStats {
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
    /// Lower whisker end (smallest value >= q1 - 1.5 IQR).
    pub whisker_low: f64,
    /// Upper whisker end (largest value <= q3 + 1.5 IQR).
    pub whisker_high: f64,
}

/// Computes box-plot statistics of a non-empty, finite sample.
pub fn box_stats(xs: &[f64]) -> BoxStats {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    let (q1, median, q3) = (
        quantile_sorted(&s, 0.25),
        quantile_sorted(&s, 0.5),
        quantile_sorted(&s, 0.75),
    );
    let iqr = q3 - q1;
    let whisker_low = *s.iter().find(|&&v| v >= q1 - 1.5 * iqr).unwrap_or(&s[0]);
    let whisker_high = *s
        .iter()
        .rev()
        .find(|&&v| v <= q3 + 1.5 * iqr)
        .unwrap_or(&s[s.len() - 1]);
    BoxStats {
        q1,
        median,
        q3,
        whisker_low,
        whisker_high,
    }
}

impl Figure for BoxPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        check_plot_groups(&self.groups)?;
        let names: Vec<String> = self.groups.iter().map(|g| g.0.clone()).collect();
        let range = padded_range(self.groups.iter().flat_map(|g| g.1.iter()));
        let mut chart = categorical_chart(root, &self.labels, &names, range)?;
        for (i, (_, xs)) in self.groups.iter().enumerate() {
            let c = colour(i);
            let b = box_stats(xs);
            let x = i as f64;
            let w = 0.3;
            chart
                .draw_series([
                    Rectangle::new([(x - w, b.q1), (x + w, b.q3)], c.mix(0.25).filled()),
                    Rectangle::new([(x - w, b.q1), (x + w, b.q3)], c.stroke_width(2)),
                ])
                .map_err(plot_err)?;
            let lines = [
                vec![(x - w, b.median), (x + w, b.median)],
                vec![(x, b.q3), (x, b.whisker_high)],
                vec![(x, b.q1), (x, b.whisker_low)],
                vec![(x - w / 2.0, b.whisker_high), (x + w / 2.0, b.whisker_high)],
                vec![(x - w / 2.0, b.whisker_low), (x + w / 2.0, b.whisker_low)],
            ];
            chart
                .draw_series(
                    lines
                        .into_iter()
                        .map(|l| PathElement::new(l, c.stroke_width(2))),
                )
                .map_err(plot_err)?;
            chart
                .draw_series(xs.iter().enumerate().map(|(j, &v)| {
                    Circle::new(
                        (x + 0.4 * w * jitter(j) * 2.0, v),
                        4,
                        BLACK.mix(0.7).filled(),
                    )
                }))
                .map_err(plot_err)?;
        }
        Ok(())
    }
}
