//! Line curves with shaded error bands: ablation curves (accuracy or normalised accuracy vs
//! fraction of units silenced, paper Fig. 5B) and training/validation loss curves, with a
//! legend.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{colour, draw_legend, padded_range, plot_err, xy_chart, Figure, Labels};
use crate::error::{check_finite, AnalysisError, Result};

/// One curve: `y` against `x`, with an optional symmetric band `y ± err` (e.g. SD or SEM).
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Legend label.
    pub label: String,
    /// x values.
    pub x: Vec<f64>,
    /// y values (same length as `x`).
    pub y: Vec<f64>,
    /// Half-width of the error band at each point (same length as `x`), if any.
    pub err: Option<Vec<f64>>,
}

/// Several curves on one pair of axes.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePlot {
    /// The curves, each with its own colour and legend entry.
    pub curves: Vec<Curve>,
    /// Title and axis labels.
    pub labels: Labels,
}

impl LinePlot {
    fn check(&self) -> Result<()> {
        if self.curves.is_empty() {
            return Err(AnalysisError::InvalidArgument(
                "a line plot needs at least one curve".into(),
            ));
        }
        for c in &self.curves {
            let what = format!("curve {:?}", c.label);
            if c.x.is_empty() {
                return Err(AnalysisError::TooFewObservations {
                    what,
                    min: 1,
                    got: 0,
                });
            }
            if c.y.len() != c.x.len() {
                return Err(AnalysisError::LengthMismatch {
                    what: format!("{what}: y"),
                    expected: c.x.len(),
                    got: c.y.len(),
                });
            }
            check_finite(&format!("{what}: x"), &c.x)?;
            check_finite(&format!("{what}: y"), &c.y)?;
            if let Some(e) = &c.err {
                if e.len() != c.x.len() {
                    return Err(AnalysisError::LengthMismatch {
                        what: format!("{what}: err"),
                        expected: c.x.len(),
                        got: e.len(),
                    });
                }
                check_finite(&format!("{what}: err"), e)?;
            }
        }
        Ok(())
    }
}

impl Figure for LinePlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        self.check()?;
        let x_range = padded_range(self.curves.iter().flat_map(|c| c.x.iter()));
        let ys: Vec<f64> = self
            .curves
            .iter()
            .flat_map(|c| {
                let e = c.err.clone().unwrap_or_else(|| vec![0.0; c.y.len()]);
                c.y.iter()
                    .zip(e)
                    .flat_map(|(y, e)| [y - e.abs(), y + e.abs()])
                    .collect::<Vec<_>>()
            })
            .collect();
        let y_range = padded_range(ys.iter());
        // Whole-number x values everywhere (epochs, percentages): whole-number ticks only.
        let integer_x = self
            .curves
            .iter()
            .flat_map(|c| c.x.iter())
            .all(|x| x.fract() == 0.0);
        let mut chart = xy_chart(
            root,
            &self.labels,
            (x_range.0, x_range.1),
            (y_range.0, y_range.1),
            integer_x,
        )?;
        for (i, c) in self.curves.iter().enumerate() {
            let col = colour(i);
            if let Some(err) = &c.err {
                let mut band: Vec<(f64, f64)> =
                    c.x.iter()
                        .zip(&c.y)
                        .zip(err)
                        .map(|((&x, &y), &e)| (x, y + e.abs()))
                        .collect();
                band.extend(
                    c.x.iter()
                        .zip(&c.y)
                        .zip(err)
                        .rev()
                        .map(|((&x, &y), &e)| (x, y - e.abs())),
                );
                chart
                    .draw_series([Polygon::new(band, col.mix(0.2).filled())])
                    .map_err(plot_err)?;
            }
            chart
                .draw_series(LineSeries::new(
                    c.x.iter().copied().zip(c.y.iter().copied()),
                    col.stroke_width(3),
                ))
                .map_err(plot_err)?
                .label(c.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(3))
                });
            chart
                .draw_series(
                    c.x.iter()
                        .zip(&c.y)
                        .map(|(&x, &y)| Circle::new((x, y), 3, col.filled())),
                )
                .map_err(plot_err)?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}
