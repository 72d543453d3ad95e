//! Scatter plots: one point per observation, a colour per series (e.g. ablation robustness
//! against test accuracy, one point per network; selectivity against importance, one point
//! per unit), with a legend.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{colour, font, padded_range, plot_err, Figure, Labels};
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
        let mut chart = ChartBuilder::on(root)
            .caption(&self.labels.title, (font::FAMILY, 26))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(75)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc(&self.labels.x)
            .y_desc(&self.labels.y)
            .label_style((font::FAMILY, 16))
            .axis_desc_style((font::FAMILY, 18))
            .draw()
            .map_err(plot_err)?;
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
        chart
            .configure_series_labels()
            .label_font((font::FAMILY, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(plot_err)?;
        Ok(())
    }
}
