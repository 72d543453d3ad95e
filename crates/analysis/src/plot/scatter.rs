//! Scatter plots: one point per observation, a colour per series (e.g. ablation robustness
//! against test accuracy, one point per network; selectivity against importance, one point
//! per unit), with a legend.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{colour, draw_legend, padded_range, plot_err, xy_chart, Figure, Labels};
use crate::error::{check_finite, AnalysisError, Result};

/// One series of points `(x[i], y[i])`.
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    /// Legend text.
    pub label: String,
    /// x coordinates.
    pub x: Vec<f64>,
    /// y coordinates (same length as `x`).
    pub y: Vec<f64>,
}

/// A scatter plot of one or more series.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterPlot {
    /// The series, drawn in order.
    pub series: Vec<Points>,
    /// Title and axis labels.
    pub labels: Labels,
}

impl ScatterPlot {
    fn check(&self) -> Result<()> {
        if self.series.iter().all(|s| s.x.is_empty()) {
            return Err(AnalysisError::InvalidArgument(
                "a scatter plot needs at least one point".into(),
            ));
        }
        for s in &self.series {
            let what = format!("series {:?}", s.label);
            if s.y.len() != s.x.len() {
                return Err(AnalysisError::LengthMismatch {
                    what: format!("{what}: y"),
                    expected: s.x.len(),
                    got: s.y.len(),
                });
            }
            check_finite(&format!("{what}: x"), &s.x)?;
            check_finite(&format!("{what}: y"), &s.y)?;
        }
        Ok(())
    }
}

impl Figure for ScatterPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        self.check()?;
        let x_range = padded_range(self.series.iter().flat_map(|s| s.x.iter()));
        let y_range = padded_range(self.series.iter().flat_map(|s| s.y.iter()));
        let mut chart = xy_chart(
            root,
            &self.labels,
            (x_range.0, x_range.1),
            (y_range.0, y_range.1),
            false,
        )?;
        for (i, s) in self.series.iter().enumerate() {
            let col = colour(i);
            chart
                .draw_series(
                    s.x.iter()
                        .zip(&s.y)
                        .map(|(&x, &y)| Circle::new((x, y), 4, col.filled())),
                )
                .map_err(plot_err)?
                .label(s.label.as_str())
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, col.filled()));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}
