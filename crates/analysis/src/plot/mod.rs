//! Publication plots as SVG or PNG (paper Figs. 3–5): box plots with the individual points,
//! violin plots, density curves, heat maps with a colour bar, line curves with error bands and
//! scatter plots.
//!
//! Every figure type implements [`Figure`]; render it with [`to_svg`], [`to_png`] or [`save`]
//! (format from the file extension, written atomically). Text uses an embedded font
//! ([`font`]), so rendering needs neither system fonts nor fontconfig.
pub mod boxplot;
pub mod curves;
pub mod density;
pub mod font;
pub mod heatmap;
pub mod scatter;
pub mod violin;

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use boxplot::BoxPlot;
pub use curves::{Curve, LinePlot};
pub use density::DensityPlot;
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
) -> Result<ChartContext<'a, DB, XyCoord>> {
    ChartBuilder::on(root)
        .caption(&labels.title, (font::FAMILY, 26))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(75)
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
        .map_err(plot_err)
}

/// Draws the chart frame for two continuous axes (title, axis labels, mesh) over `x_range`
/// and `y_range`, returning the chart.
pub(crate) fn xy_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    labels: &Labels,
    x_range: (f64, f64),
    y_range: (f64, f64),
) -> Result<ChartContext<'a, DB, XyCoord>> {
    let mut chart = frame(root, labels, x_range, y_range)?;
    chart
        .configure_mesh()
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
pub(crate) fn categorical_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    labels: &Labels,
    names: &'a [String],
    y_range: (f64, f64),
) -> Result<ChartContext<'a, DB, XyCoord>> {
    let k = names.len();
    let mut chart = frame(root, labels, (-0.5, k as f64 - 0.5), y_range)?;
    let fmt = move |v: &f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < k {
            names[i as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(2 * k + 1)
        .x_label_formatter(&fmt)
        .x_desc(&labels.x)
        .y_desc(&labels.y)
        .label_style((font::FAMILY, 16))
        .axis_desc_style((font::FAMILY, 18))
        .draw()
        .map_err(plot_err)?;
    Ok(chart)
}

/// Deterministic horizontal jitter in `[-0.5, 0.5)` for the `i`-th point (golden-ratio
/// sequence), so repeated renders are identical.
pub(crate) fn jitter(i: usize) -> f64 {
    ((i as f64 + 1.0) * 0.618_033_988_749_895).fract() - 0.5
}
