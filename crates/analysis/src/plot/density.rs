//! Density curves: one Gaussian kernel density estimate per named sample (see
//! [`crate::kde`]), e.g. the distribution of class selectivity indices across units for
//! networks trained with and without neurogenesis (paper Fig. 5C), with a legend and a rug of
//! the observations.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    check_plot_groups, colour, draw_legend, padded_range, plot_err, xy_chart, Figure, Labels,
};
use crate::error::Result;
use crate::kde::{kde_curve, Bandwidth};

/// Overlaid density curves.
#[derive(Debug, Clone, PartialEq)]
pub struct DensityPlot {
    /// `(legend label, observations)` per curve (at least 2 observations with spread each).
    pub series: Vec<(String, Vec<f64>)>,
    /// Kernel bandwidth rule.
    pub bandwidth: Bandwidth,
    /// Title and axis labels.
    pub labels: Labels,
}

impl Figure for DensityPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        check_plot_groups(&self.series)?;
        let curves = self
            .series
            .iter()
            .map(|(_, xs)| kde_curve(xs, 256, self.bandwidth))
            .collect::<Result<Vec<_>>>()?;
        let x_range = padded_range(curves.iter().flat_map(|d| d.x.iter()));
        let y_max = curves
            .iter()
            .flat_map(|d| d.y.iter().copied())
            .fold(0.0, f64::max)
            * 1.1;
        let mut chart = xy_chart(
            root,
            &self.labels,
            (x_range.0, x_range.1),
            (0.0, y_max),
            false,
        )?;
        let rug = y_max * 0.03;
        for (i, ((name, xs), d)) in self.series.iter().zip(&curves).enumerate() {
            let c = colour(i);
            chart
                .draw_series(LineSeries::new(
                    d.x.iter().copied().zip(d.y.iter().copied()),
                    c.stroke_width(3),
                ))
                .map_err(plot_err)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3))
                });
            chart
                .draw_series(
                    xs.iter()
                        .map(|&v| PathElement::new(vec![(v, 0.0), (v, rug)], c.mix(0.6))),
                )
                .map_err(plot_err)?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}
