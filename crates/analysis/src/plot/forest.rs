//! Paired differences as a forest plot: one row per comparison (a claim), each repeat's
//! difference a − b as a point, their mean with its 95 % confidence interval (t, n − 1 df) as
//! a bar, and a line at zero. It shows what a paired claim rests on: how many repeats, how
//! far apart, and whether the interval leaves zero.
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{chars_per_line, colour, font, jitter, plot_err, wrap_words, Figure, Labels};
use crate::error::{check_sample, AnalysisError, Result};

/// Paired differences of several comparisons, drawn top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestPlot {
    /// `(comparison, differences a − b, one per repeat)`, drawn top to bottom.
    pub rows: Vec<(String, Vec<f64>)>,
    /// Title and axis labels (`x`: what the difference is in; `y` is not drawn).
    pub labels: Labels,
}

/// Width of the left label area, in pixels.
const LABEL_AREA: u32 = 270;
/// Line height of a row's wrapped label, in pixels.
const LINE: i32 = 17;

impl ForestPlot {
    /// The height in pixels that gives every row room for its label: 140 pixels of title and
    /// axis plus 70 a row.
    pub fn height(&self) -> u32 {
        140 + 70 * self.rows.len().max(1) as u32
    }

    fn check(&self) -> Result<()> {
        if self.rows.is_empty() {
            return Err(AnalysisError::InvalidArgument(
                "a forest plot needs at least one comparison".into(),
            ));
        }
        for (name, d) in &self.rows {
            check_sample(&format!("comparison {name:?}"), d, 1)?;
        }
        Ok(())
    }
}

impl Figure for ForestPlot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        self.check()?;
        let k = self.rows.len();
        let intervals: Vec<Option<(f64, f64, f64)>> = self
            .rows
            .iter()
            .map(|(_, d)| {
                crate::stats::summarize(d)
                    .ok()
                    .filter(|s| s.ci95.0.is_finite() && s.ci95.1.is_finite())
                    .map(|s| (s.mean, s.ci95.0, s.ci95.1))
            })
            .collect();
        let mut lo = 0.0_f64;
        let mut hi = 0.0_f64;
        for ((_, d), ci) in self.rows.iter().zip(&intervals) {
            for &v in d {
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if let Some((_, a, b)) = ci {
                lo = lo.min(*a);
                hi = hi.max(*b);
            }
        }
        let span = if hi > lo { hi - lo } else { 1.0 };
        let x_range = (lo - 0.06 * span, hi + 0.06 * span);
        // Row i sits at y = k − 1 − i, so the first comparison is on top.
        let mut chart = ChartBuilder::on(root)
            .caption(&self.labels.title, (font::FAMILY, 24))
            .margin(15)
            .x_label_area_size(55)
            .y_label_area_size(LABEL_AREA)
            .build_cartesian_2d(x_range.0..x_range.1, -0.5..(k as f64 - 0.5))
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_label_formatter(&super::tick_label)
            .x_desc(&self.labels.x)
            .label_style((font::FAMILY, 16))
            .axis_desc_style((font::FAMILY, 18))
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series([PathElement::new(
                vec![(0.0, -0.5), (0.0, k as f64 - 0.5)],
                BLACK.mix(0.6).stroke_width(1),
            )])
            .map_err(plot_err)?;
        let base = root.get_base_pixel();
        let style = TextStyle::from((font::FAMILY, 15).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, ((name, d), ci)) in self.rows.iter().zip(&intervals).enumerate() {
            let y = (k - 1 - i) as f64;
            let c = colour(i);
            chart
                .draw_series(
                    d.iter().enumerate().map(|(j, &v)| {
                        Circle::new((v, y + 0.35 * jitter(j)), 4, c.mix(0.8).filled())
                    }),
                )
                .map_err(plot_err)?;
            if let Some((m, a, b)) = ci {
                chart
                    .draw_series([
                        PathElement::new(vec![(*a, y), (*b, y)], BLACK.stroke_width(3)),
                        PathElement::new(
                            vec![(*a, y - 0.15), (*a, y + 0.15)],
                            BLACK.stroke_width(2),
                        ),
                        PathElement::new(
                            vec![(*b, y - 0.15), (*b, y + 0.15)],
                            BLACK.stroke_width(2),
                        ),
                    ])
                    .map_err(plot_err)?;
                chart
                    .draw_series([Rectangle::new(
                        [(*m, y - 0.22), (*m, y + 0.22)],
                        BLACK.stroke_width(5),
                    )])
                    .map_err(plot_err)?;
            }
            // The label, wrapped, right-aligned beside its row and centred on it.
            let lines = wrap_words(name, chars_per_line(f64::from(LABEL_AREA) - 20.0));
            let (_, py) = chart.backend_coord(&(x_range.0, y));
            let (px, _) = chart.backend_coord(&(x_range.0, y));
            let top = py - base.1 - LINE * (lines.len() as i32 - 1) / 2;
            for (j, line) in lines.iter().enumerate() {
                root.draw(&Text::new(
                    line.clone(),
                    (px - base.0 - 10, top + LINE * j as i32),
                    style.clone(),
                ))
                .map_err(plot_err)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plot() -> ForestPlot {
        ForestPlot {
            rows: vec![
                (
                    "Neurogenesis − Control (method)".into(),
                    vec![0.5, 1.2, -0.3, 0.9],
                ),
                (
                    "Neurogenesis − Control (published code)".into(),
                    vec![1.5, 2.0, 1.1],
                ),
                ("single repeat".into(), vec![0.4]),
            ],
            labels: Labels::new("Paired differences", "difference (points)", ""),
        }
    }

    #[test]
    fn renders_every_row_with_its_label_and_interval() {
        let p = plot();
        let svg = super::super::to_svg(&p, (800, p.height())).unwrap();
        for label in ["Neurogenesis − Control", "(method)", "single repeat"] {
            assert!(svg.contains(label), "{label} missing");
        }
        // 8 points, one per repeat.
        assert_eq!(svg.matches("<circle").count(), 8);
        let png = super::super::to_png(&p, (800, p.height())).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
    }

    #[test]
    fn bad_input_is_a_named_error() {
        let mut p = plot();
        p.rows[1].1.push(f64::NAN);
        let e = super::super::to_svg(&p, (800, 600))
            .unwrap_err()
            .to_string();
        assert!(e.contains("published code"), "{e}");
        p.rows.clear();
        assert!(super::super::to_svg(&p, (800, 600)).is_err());
    }
}
