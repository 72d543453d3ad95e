//! Heat maps with a colour bar, e.g. the matrix of z-scores comparing pairs of regularisers.
//! Colours follow a diverging blue–white–red map symmetric about 0 (range ±max |value|), so
//! the sign of a z-score reads at a glance; each cell is annotated with its value, and NaN
//! cells (e.g. a diagonal with no comparison) are drawn grey and labelled "n/a".
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{font, plot_err, Figure, Labels};
use crate::error::{AnalysisError, Result};

/// A labelled matrix drawn as coloured cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// Rows of values (row 0 drawn at the top); NaN marks a missing cell.
    pub matrix: Vec<Vec<f64>>,
    /// One label per row.
    pub row_labels: Vec<String>,
    /// One label per column.
    pub col_labels: Vec<String>,
    /// Caption of the colour bar (e.g. "z-score").
    pub colour_bar_label: String,
    /// Title and axis labels.
    pub labels: Labels,
}

/// Diverging colour for `t` in [-1, 1]: blue (-1) – white (0) – red (+1).
pub fn diverging(t: f64) -> RGBColor {
    let t = t.clamp(-1.0, 1.0);
    let (r0, g0, b0) = (255.0, 255.0, 255.0);
    let (r1, g1, b1) = if t >= 0.0 {
        (178.0, 24.0, 43.0)
    } else {
        (33.0, 102.0, 172.0)
    };
    let a = t.abs();
    let mix = |c0: f64, c1: f64| (c0 + (c1 - c0) * a).round() as u8;
    RGBColor(mix(r0, r1), mix(g0, g1), mix(b0, b1))
}

impl Heatmap {
    fn check(&self) -> Result<()> {
        let rows = self.matrix.len();
        if rows == 0 {
            return Err(AnalysisError::InvalidArgument(
                "a heat map needs at least one row".into(),
            ));
        }
        let cols = self.matrix[0].len();
        if cols == 0 {
            return Err(AnalysisError::InvalidArgument(
                "a heat map needs at least one column".into(),
            ));
        }
        for (i, r) in self.matrix.iter().enumerate() {
            if r.len() != cols {
                return Err(AnalysisError::LengthMismatch {
                    what: format!("heat map row {i}"),
                    expected: cols,
                    got: r.len(),
                });
            }
            if let Some(j) = r.iter().position(|v| v.is_infinite()) {
                return Err(AnalysisError::NonFinite {
                    what: format!("heat map row {i}"),
                    index: j,
                    value: r[j],
                });
            }
        }
        if self.row_labels.len() != rows {
            return Err(AnalysisError::LengthMismatch {
                what: "heat map row labels".into(),
                expected: rows,
                got: self.row_labels.len(),
            });
        }
        if self.col_labels.len() != cols {
            return Err(AnalysisError::LengthMismatch {
                what: "heat map column labels".into(),
                expected: cols,
                got: self.col_labels.len(),
            });
        }
        Ok(())
    }
}

fn category_formatter(names: &[String], reversed: bool) -> impl Fn(&f64) -> String + '_ {
    move |v: &f64| {
        let i = v.round();
        let n = names.len();
        if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
            let idx = if reversed {
                n - 1 - i as usize
            } else {
                i as usize
            };
            names[idx].clone()
        } else {
            String::new()
        }
    }
}

impl Figure for Heatmap {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        self.check()?;
        let (rows, cols) = (self.matrix.len(), self.matrix[0].len());
        let vmax = self
            .matrix
            .iter()
            .flatten()
            .filter(|v| v.is_finite())
            .fold(0.0f64, |m, v| m.max(v.abs()));
        let vmax = if vmax > 0.0 { vmax } else { 1.0 };
        let width = root.dim_in_pixel().0;
        let (main, bar) = root.split_horizontally(width.saturating_sub(130));
        let row_longest = self
            .row_labels
            .iter()
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(1) as u32;
        let mut chart = ChartBuilder::on(&main)
            .caption(&self.labels.title, (font::FAMILY, 26))
            .margin(15)
            .x_label_area_size(60)
            .y_label_area_size((row_longest * 10 + 45).clamp(60, 250))
            .build_cartesian_2d(-0.5..(cols as f64 - 0.5), -0.5..(rows as f64 - 0.5))
            .map_err(plot_err)?;
        let xf = category_formatter(&self.col_labels, false);
        let yf = category_formatter(&self.row_labels, true);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(2 * cols + 1)
            .y_labels(2 * rows + 1)
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .x_desc(&self.labels.x)
            .y_desc(&self.labels.y)
            .label_style((font::FAMILY, 15))
            .axis_desc_style((font::FAMILY, 18))
            .draw()
            .map_err(plot_err)?;
        for (i, row) in self.matrix.iter().enumerate() {
            let y = (rows - 1 - i) as f64;
            for (j, &v) in row.iter().enumerate() {
                let x = j as f64;
                let fill = if v.is_nan() {
                    RGBColor(200, 200, 200)
                } else {
                    diverging(v / vmax)
                };
                chart
                    .draw_series([
                        Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], fill.filled()),
                        Rectangle::new(
                            [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                            WHITE.stroke_width(1),
                        ),
                    ])
                    .map_err(plot_err)?;
                let text = if v.is_nan() {
                    "n/a".to_string()
                } else {
                    format!("{v:.2}")
                };
                let ink = if !v.is_nan() && v.abs() / vmax > 0.6 {
                    WHITE
                } else {
                    BLACK
                };
                let style = TextStyle::from((font::FAMILY, 15).into_font())
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                chart
                    .draw_series([Text::new(text, (x, y), style)])
                    .map_err(plot_err)?;
            }
        }
        // Colour bar.
        let mut cb = ChartBuilder::on(&bar)
            .margin_top(60)
            .margin_bottom(75)
            .margin_right(10)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..1.0, -vmax..vmax)
            .map_err(plot_err)?;
        cb.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(7)
            .y_desc(&self.colour_bar_label)
            .label_style((font::FAMILY, 14))
            .axis_desc_style((font::FAMILY, 16))
            .draw()
            .map_err(plot_err)?;
        let steps = 100;
        cb.draw_series((0..steps).map(|s| {
            let lo = -vmax + 2.0 * vmax * s as f64 / steps as f64;
            let hi = -vmax + 2.0 * vmax * (s + 1) as f64 / steps as f64;
            Rectangle::new(
                [(0.0, lo), (1.0, hi)],
                diverging((lo + hi) / 2.0 / vmax).filled(),
            )
        }))
        .map_err(plot_err)?;
        cb.draw_series([Rectangle::new(
            [(0.0, -vmax), (1.0, vmax)],
            BLACK.stroke_width(1),
        )])
        .map_err(plot_err)?;
        Ok(())
    }
}
