//! Violin plots: a mirrored Gaussian kernel density estimate per group (see [`crate::kde`]),
//! each scaled to the same maximum width (80 % of its slot), with the median (white dot) and the
//! interquartile range (thick line). A group without spread is drawn as a horizontal bar.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::boxplot::box_stats;
use super::{categorical_chart, check_plot_groups, colour, padded_range, plot_err, Figure, Labels};
use crate::error::Result;
use crate::kde::{kde_curve, Bandwidth};

/// A violin plot of named groups.
#[derive(Debug, Clone, PartialEq)]
pub struct ViolinPlot {
    /// `(group name, observations)`, drawn left to right.
    pub groups: Vec<(String, Vec<f64>)>,
    /// Kernel bandwidth rule.
    pub bandwidth: Bandwidth,
    /// Title and axis labels.
    pub labels: Labels,
}

impl Figure for ViolinPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        check_plot_groups(&self.groups)?;
        let names: Vec<String> = self.groups.iter().map(|g| g.0.clone()).collect();
        let curves: Vec<Option<crate::kde::Density>> = self
            .groups
            .iter()
            .map(|(_, xs)| kde_curve(xs, 200, self.bandwidth).ok())
            .collect();
        let mut extent: Vec<f64> = self
            .groups
            .iter()
            .flat_map(|g| g.1.iter().copied())
            .collect();
        for d in curves.iter().flatten() {
            extent.push(d.x[0]);
            extent.push(d.x[d.x.len() - 1]);
        }
        let range = padded_range(extent.iter());
        let mut chart = categorical_chart(root, &self.labels, &names, range)?;
        for (i, ((_, xs), curve)) in self.groups.iter().zip(&curves).enumerate() {
            let c = colour(i);
            let x = i as f64;
            match curve {
                Some(d) => {
                    let peak = d.y.iter().copied().fold(0.0, f64::max);
                    let half = |y: f64| 0.4 * y / peak;
                    let mut pts: Vec<(f64, f64)> =
                        d.x.iter()
                            .zip(&d.y)
                            .map(|(&v, &y)| (x + half(y), v))
                            .collect();
                    pts.extend(d.x.iter().zip(&d.y).rev().map(|(&v, &y)| (x - half(y), v)));
                    chart
                        .draw_series([Polygon::new(pts.clone(), c.mix(0.35).filled())])
                        .map_err(plot_err)?;
                    pts.push(pts[0]);
                    chart
                        .draw_series([PathElement::new(pts, c.stroke_width(2))])
                        .map_err(plot_err)?;
                }
                _ => {
                    chart
                        .draw_series([PathElement::new(
                            vec![(x - 0.3, xs[0]), (x + 0.3, xs[0])],
                            c.stroke_width(3),
                        )])
                        .map_err(plot_err)?;
                }
            }
            let b = box_stats(xs);
            chart
                .draw_series([
                    PathElement::new(
                        vec![(x, b.whisker_low), (x, b.whisker_high)],
                        BLACK.stroke_width(1),
                    ),
                    PathElement::new(vec![(x, b.q1), (x, b.q3)], BLACK.stroke_width(5)),
                ])
                .map_err(plot_err)?;
            chart
                .draw_series([Circle::new((x, b.median), 4, WHITE.filled())])
                .map_err(plot_err)?;
        }
        Ok(())
    }
}
