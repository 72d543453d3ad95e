//! Publication plots as SVG or PNG (paper Figs. 3–5): box plots with the individual points,
//! violin plots, density curves, heat maps with a colour bar, line curves with error bands,
//! scatter plots and forest plots of paired differences.
//!
//! Every figure type implements [`Figure`]; render it with [`to_svg`], [`to_png`] or [`save`]
//! (format from the file extension, written atomically). Text uses an embedded font
//! ([`font`]), so rendering needs neither system fonts nor fontconfig.
pub mod boxplot;
pub mod curves;
pub mod density;
pub mod font;
pub mod forest;
pub mod heatmap;
pub mod scatter;
pub mod violin;

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use boxplot::BoxPlot;
pub use curves::{Curve, LinePlot};
pub use density::DensityPlot;
pub use forest::ForestPlot;
pub use heatmap::Heatmap;
pub use scatter::{Points, ScatterPlot};
pub use violin::ViolinPlot;

use crate::error::{AnalysisError, Result};

/// Default figure size in pixels.
pub const DEFAULT_SIZE: (u32, u32) = (800, 600);

/// Title and axis labels of a figure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels {
    /// Figure title.
    pub title: String,
    /// x-axis description.
    pub x: String,
    /// y-axis description.
    pub y: String,
}

impl Labels {
    /// Builds labels from a title and the two axis descriptions.
    pub fn new(title: impl Into<String>, x: impl Into<String>, y: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            x: x.into(),
            y: y.into(),
        }
    }
}

/// A figure that can be drawn on any plotters backend.
pub trait Figure {
    /// Draws the whole figure onto `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Output image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Scalable vector graphics.
    Svg,
    /// Portable network graphics (RGB).
    Png,
}

impl Format {
    /// The format named by a path's extension (`.svg` or `.png`, case-insensitive).
    pub fn from_path(path: &Path) -> Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref()
        {
            Some("svg") => Ok(Format::Svg),
            Some("png") => Ok(Format::Png),
            _ => Err(AnalysisError::InvalidArgument(format!(
                "{}: plot files must end in .svg or .png",
                path.display()
            ))),
        }
    }
}

/// Converts any plotters error into [`AnalysisError::Plot`].
pub(crate) fn plot_err<E: std::fmt::Display>(e: E) -> AnalysisError {
    AnalysisError::Plot(e.to_string())
}

fn check_size((w, h): (u32, u32)) -> Result<()> {
    if !(64..=10_000).contains(&w) || !(64..=10_000).contains(&h) {
        return Err(AnalysisError::InvalidArgument(format!(
            "figure size must be 64..=10000 pixels per side, got {w}x{h}"
        )));
    }
    Ok(())
}

/// Renders a figure as an SVG document.
pub fn to_svg<F: Figure>(figure: &F, size: (u32, u32)) -> Result<String> {
    check_size(size)?;
    font::ensure_registered()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        figure.draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    Ok(out)
}

/// Renders a figure as PNG bytes (RGB, 8 bit).
pub fn to_png<F: Figure>(figure: &F, size: (u32, u32)) -> Result<Vec<u8>> {
    check_size(size)?;
    font::ensure_registered()?;
    let mut buf = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        figure.draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    let img = image::RgbImage::from_raw(size.0, size.1, buf)
        .ok_or_else(|| AnalysisError::Plot("bitmap buffer has the wrong size".into()))?;
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
    Ok(png)
}

/// Renders a figure and writes it to `path` (format from the extension), atomically: a
/// temporary file in the same directory is written, synced and renamed over `path`
/// ([`neurogen_io::write_atomic`]).
pub fn save<F: Figure>(figure: &F, path: &Path, size: (u32, u32)) -> Result<()> {
    let bytes = match Format::from_path(path)? {
        Format::Svg => to_svg(figure, size)?.into_bytes(),
        Format::Png => to_png(figure, size)?,
    };
    neurogen_io::write_atomic(path, &bytes).map_err(|e| match e {
        neurogen_io::IoError::Write { path, source } => AnalysisError::Io { path, source },
        other => AnalysisError::InvalidArgument(other.to_string()),
    })
}

/// Colour-blind-safe categorical palette (Okabe & Ito 2008).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(230, 159, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// The `i`-th palette colour (cycling).
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Validates named groups of samples for group plots: at least one group, each non-empty and
/// finite.
pub(crate) fn check_plot_groups(groups: &[(String, Vec<f64>)]) -> Result<()> {
    if groups.is_empty() {
        return Err(AnalysisError::InvalidArgument(
            "a group plot needs at least one group".into(),
        ));
    }
    for (name, g) in groups {
        crate::error::check_sample(&format!("group {name:?}"), g, 1)?;
    }
    Ok(())
}

/// `(min, max)` of all values with a 5 % margin (and a unit span for constant data).
pub(crate) fn padded_range<'a>(values: impl Iterator<Item = &'a f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = if hi > lo { hi - lo } else { 1.0 };
    (lo - 0.05 * span, hi + 0.05 * span)
}

/// The coordinates of every chart here: two `f64` axes.
pub(crate) type XyCoord =
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>;

/// The chart of every figure here: title, margins and label areas over `x_range` and
/// `y_range`, before its mesh is drawn.
fn frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    labels: &Labels,
    x_range: (f64, f64),
    y_range: (f64, f64),
    x_label_area: u32,
) -> Result<ChartContext<'a, DB, XyCoord>> {
    ChartBuilder::on(root)
        .caption(&labels.title, (font::FAMILY, 26))
        .margin(15)
        .x_label_area_size(x_label_area)
        .y_label_area_size(75)
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
        .map_err(plot_err)
}

/// A tick label with as few digits as it needs: `2` rather than `2.0`, `0.25` as is.
pub(crate) fn tick_label(v: &f64) -> String {
    let r = v.round();
    if (v - r).abs() < 1e-9 * v.abs().max(1.0) {
        format!("{}", r as i64)
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Tick label of an axis whose values are whole numbers (epochs): integers only, so no tick
/// reads `2.5` epochs.
fn integer_tick_label(v: &f64) -> String {
    let r = v.round();
    if (v - r).abs() < 1e-9 * v.abs().max(1.0) {
        format!("{}", r as i64)
    } else {
        String::new()
    }
}

/// Draws the chart frame for two continuous axes (title, axis labels, mesh) over `x_range`
/// and `y_range`, returning the chart.
///
/// Tick labels carry only the digits they need; with `integer_x` (every x value a whole
/// number, e.g. epochs) the x axis is labelled at whole numbers only.
pub(crate) fn xy_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    labels: &Labels,
    x_range: (f64, f64),
    y_range: (f64, f64),
    integer_x: bool,
) -> Result<ChartContext<'a, DB, XyCoord>> {
    let mut chart = frame(root, labels, x_range, y_range, 50)?;
    let x_fmt: &dyn Fn(&f64) -> String = if integer_x {
        &integer_tick_label
    } else {
        &tick_label
    };
    chart
        .configure_mesh()
        .x_label_formatter(x_fmt)
        .y_label_formatter(&tick_label)
        .x_desc(&labels.x)
        .y_desc(&labels.y)
        .label_style((font::FAMILY, 16))
        .axis_desc_style((font::FAMILY, 18))
        .draw()
        .map_err(plot_err)?;
    Ok(chart)
}

/// Draws the legend of `chart`'s labelled series at `position`.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, XyCoord>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .label_font((font::FAMILY, 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(position)
        .draw()
        .map_err(plot_err)
}

/// Draws the chart frame for a categorical x axis (groups at 0, 1, ...), returning the chart.
///
/// Group names are wrapped at word boundaries to the width each group has, and written
/// centred under their group, so long names (six groups such as "Neurogenesis + excitability
/// (published code)") never run into each other; the label area grows with the lines needed.
pub(crate) fn categorical_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    labels: &Labels,
    names: &'a [String],
    y_range: (f64, f64),
) -> Result<ChartContext<'a, DB, XyCoord>> {
    let k = names.len().max(1);
    let (width, _) = root.dim_in_pixel();
    // Width of one group's column: the plot area is the figure less margins and the y labels.
    let column = (f64::from(width) - 2.0 * 15.0 - 75.0) / k as f64;
    let wrapped: Vec<Vec<String>> = names
        .iter()
        .map(|n| wrap_words(n, chars_per_line(column)))
        .collect();
    let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1) as u32;
    let x_desc = if labels.x.is_empty() { 0 } else { 26 };
    let mut chart = frame(
        root,
        labels,
        (-0.5, k as f64 - 0.5),
        y_range,
        12 + CATEGORY_LINE * lines + x_desc,
    )?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_label_formatter(&tick_label)
        .x_desc(&labels.x)
        .y_desc(&labels.y)
        .label_style((font::FAMILY, 16))
        .axis_desc_style((font::FAMILY, 18))
        .draw()
        .map_err(plot_err)?;
    let base = root.get_base_pixel();
    let style = TextStyle::from((font::FAMILY, 14).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (i, group_lines) in wrapped.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(i as f64, y_range.0));
        for (j, line) in group_lines.iter().enumerate() {
            let at = (
                px - base.0,
                py - base.1 + 8 + (CATEGORY_LINE as i32) * j as i32,
            );
            root.draw(&Text::new(line.clone(), at, style.clone()))
                .map_err(plot_err)?;
        }
    }
    Ok(chart)
}

/// Line height of wrapped category labels, in pixels.
const CATEGORY_LINE: u32 = 17;

/// How many characters of 14–15-pixel DejaVu Sans fit in `pixels` (about 7.8 pixels a
/// character, with a little room between columns), at least 6.
pub(crate) fn chars_per_line(pixels: f64) -> usize {
    (((pixels - 10.0) / 7.8).floor() as usize).max(6)
}

/// `text` broken into lines of at most `width` characters at spaces (a longer word keeps its
/// own line).
pub(crate) fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Deterministic horizontal jitter in `[-0.5, 0.5)` for the `i`-th point (golden-ratio
/// sequence), so repeated renders are identical.
pub(crate) fn jitter(i: usize) -> f64 {
    ((i as f64 + 1.0) * 0.618_033_988_749_895).fract() - 0.5
}
