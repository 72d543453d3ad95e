//! The masks and the inhibition-of-return sequence of a few scenes, as data and as an SVG
//! grid a reader can look at (the authors' `Runner.visualize` and `Runner.plot`).
//!
//! One row per scene: the scene, then for each object pass the input mask `m1` the last
//! iteration gated with (dark = low mask = attended, white = full suppression), the gated
//! input, and the IOR mask after the pass (white = inhibited). Column titles name them;
//! each pass's title gives the object it was scored against and what the network reported.
//! [`MaskGrid`] draws the same grid through plotters, as SVG and PNG (the report's figure).
use std::fmt::Write as _;
use std::path::Path;

use candle_core::{DType, Tensor};
use neurogen_analysis::plot::{font, Figure};
use neurogen_analysis::AnalysisError;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::data::Scenes;
use super::error::{config, Result};
use super::loss::{gating_targets, object_loss};
use super::model::AttentionNet;

/// What one object pass showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassTrace {
    /// The input mask the last iteration gated with, `H·W`, in `(−1, 1)` (1 under IOR).
    pub mask: Vec<f32>,
    /// The gated input, `H·W`.
    pub gated: Vec<f32>,
    /// The IOR mask after this pass, `H·W`, 0/1.
    pub ior: Vec<f32>,
    /// Position of the object the pass was scored against.
    pub selected: usize,
    /// That object's label.
    pub label: u32,
    /// The network's report (arg-max logit).
    pub reported: u32,
}

/// One scene and its passes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneTrace {
    /// Canvas height.
    pub height: usize,
    /// Canvas width.
    pub width: usize,
    /// The scene, `H·W`.
    pub scene: Vec<f32>,
    /// The passes, in the order the network attended.
    pub passes: Vec<PassTrace>,
}

fn host(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?)
}

/// The traces of scenes `indices` of `scenes` under `net` (no training).
pub fn trace_scenes(
    net: &AttentionNet,
    scenes: &Scenes,
    indices: &[usize],
) -> Result<Vec<SceneTrace>> {
    let batch = scenes.batch(indices, net.device())?;
    let (b, n, p) = (batch.len(), batch.per_scene(), batch.pixels());
    let x = batch.x().to_dtype(net.dtype())?;
    let targets = gating_targets(&batch, net.config().strength);
    let mut reported = vec![false; b * n];
    let mut ior = net.empty_ior(b)?;
    let mut out: Vec<SceneTrace> = (0..b)
        .map(|i| SceneTrace {
            height: batch.height(),
            width: batch.width(),
            scene: batch.scenes()[i * p..(i + 1) * p].to_vec(),
            passes: Vec::with_capacity(n),
        })
        .collect();
    for _ in 0..n {
        let pass = net.attend(&x, &ior)?;
        let l = object_loss(
            &pass.logits,
            &pass.gated,
            &batch,
            &targets,
            &mut reported,
            0.0,
        )?;
        let preds = super::model::argmax_rows(&pass.logits.detach())?;
        let (mask, gated, next) = (host(&pass.m1)?, host(&pass.gated)?, host(&pass.ior.m1)?);
        for (i, t) in out.iter_mut().enumerate() {
            t.passes.push(PassTrace {
                mask: mask[i * p..(i + 1) * p].to_vec(),
                gated: gated[i * p..(i + 1) * p].to_vec(),
                ior: next[i * p..(i + 1) * p].to_vec(),
                selected: l.selected[i],
                label: l.labels[i],
                reported: preds[i],
            });
        }
        ior = pass.ior;
    }
    Ok(out)
}

/// Cell size of one pixel in the SVG.
const PX: usize = 4;
/// Gap between images.
const GAP: usize = 8;
/// Height of the title band.
const TITLE: usize = 28;

/// Draws one image (values mapped to grey by `grey`, 0 = black, 1 = white) at `(x0, y0)`,
/// merging equal neighbours of a row into one rectangle.
fn image(
    svg: &mut String,
    v: &[f32],
    (h, w): (usize, usize),
    (x0, y0): (usize, usize),
    grey: impl Fn(f32) -> f32,
) {
    let _ = writeln!(
        svg,
        r#"<rect x="{x0}" y="{y0}" width="{}" height="{}" fill="black"/>"#,
        w * PX,
        h * PX
    );
    for r in 0..h {
        let mut c = 0;
        while c < w {
            let g = (grey(v[r * w + c]).clamp(0.0, 1.0) * 255.0).round() as u8;
            let mut e = c + 1;
            while e < w && (grey(v[r * w + e]).clamp(0.0, 1.0) * 255.0).round() as u8 == g {
                e += 1;
            }
            if g > 0 {
                let _ = writeln!(
                    svg,
                    r#"<rect x="{}" y="{}" width="{}" height="{PX}" fill="rgb({g},{g},{g})"/>"#,
                    x0 + c * PX,
                    y0 + r * PX,
                    (e - c) * PX
                );
            }
            c = e;
        }
    }
}

/// The SVG grid of `traces` (module docs); `class_names` name the labels in the titles
/// (labels past its end are printed as numbers).
pub fn mask_grid_svg(traces: &[SceneTrace], class_names: &[&str]) -> Result<String> {
    let Some(first) = traces.first() else {
        return Err(config("no scene to draw"));
    };
    let (h, w) = (first.height, first.width);
    let n = first.passes.len();
    if traces
        .iter()
        .any(|t| t.height != h || t.width != w || t.passes.len() != n || t.scene.len() != h * w)
    {
        return Err(config(
            "every traced scene must have the same size and number of passes",
        ));
    }
    let cols = 1 + 3 * n;
    let (iw, ih) = (w * PX, h * PX);
    let width = GAP + cols * (iw + GAP);
    let height = TITLE + traces.len() * (ih + TITLE);
    let name = |l: u32| {
        class_names
            .get(l as usize)
            .map(|s| s.to_string())
            .unwrap_or_else(|| l.to_string())
    };
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="{width}" height="{height}" fill="white"/>"#
    );
    let mut titles = vec!["scene".to_string()];
    for k in 0..n {
        titles.push(format!("mask m1, pass {}", k + 1));
        titles.push(format!("gated input, pass {}", k + 1));
        titles.push(format!("IOR after pass {}", k + 1));
    }
    for (c, t) in titles.iter().enumerate() {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}">{t}</text>"#,
            GAP + c * (iw + GAP),
            TITLE - 10
        );
    }
    for (r, t) in traces.iter().enumerate() {
        let y0 = TITLE + r * (ih + TITLE);
        image(&mut svg, &t.scene, (h, w), (GAP, y0), |v| v);
        for (k, p) in t.passes.iter().enumerate() {
            let x0 = GAP + (1 + 3 * k) * (iw + GAP);
            image(&mut svg, &p.mask, (h, w), (x0, y0), |m| (m + 1.0) / 2.0);
            image(&mut svg, &p.gated, (h, w), (x0 + iw + GAP, y0), |v| v);
            image(&mut svg, &p.ior, (h, w), (x0 + 2 * (iw + GAP), y0), |v| v);
            let mark = if p.label == p.reported { "✓" } else { "✗" };
            let _ = writeln!(
                svg,
                r#"<text x="{x0}" y="{}">object {} ({}): reported {} {mark}</text>"#,
                y0 + ih + 14,
                p.selected + 1,
                xml(&name(p.label)),
                xml(&name(p.reported))
            );
        }
    }
    svg.push_str("</svg>\n");
    Ok(svg)
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes [`mask_grid_svg`] to `path` atomically.
pub fn save_mask_grid(path: &Path, traces: &[SceneTrace], class_names: &[&str]) -> Result<()> {
    let svg = mask_grid_svg(traces, class_names)?;
    neurogen_io::write_atomic(path, svg.as_bytes())?;
    Ok(())
}

/// The grid of [`mask_grid_svg`] as a plotters figure, so that it renders to PNG as well as
/// SVG (`neurogen_lab::plot::save_plot_sized` with [`MaskGrid::size`]).
///
/// ```
/// use neurogen_studies::lei2021_attention::{MaskGrid, PassTrace, SceneTrace};
/// let pass = PassTrace { mask: vec![0.0; 4 * 4], gated: vec![0.5; 16], ior: vec![0.0; 16],
///     selected: 0, label: 1, reported: 1 };
/// let scene = SceneTrace { height: 4, width: 4, scene: vec![1.0; 16], passes: vec![pass] };
/// let grid = MaskGrid::new(vec![scene], &["a", "b"])?;
/// let png = neurogen_analysis::plot::to_png(&grid, grid.size()).unwrap();
/// assert!(png.starts_with(b"\x89PNG"));
/// # Ok::<(), neurogen_studies::lei2021_attention::AttentionError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MaskGrid {
    traces: Vec<SceneTrace>,
    class_names: Vec<String>,
}

/// Pixel side of one canvas pixel in [`MaskGrid`].
const GRID_PX: u32 = 4;
/// Gap between the images of [`MaskGrid`].
const GRID_GAP: u32 = 10;
/// Height of a title band of [`MaskGrid`].
const GRID_TITLE: u32 = 30;

impl MaskGrid {
    /// The grid of `traces` (checked as [`mask_grid_svg`] checks them); `class_names` name
    /// the labels in the captions.
    pub fn new(traces: Vec<SceneTrace>, class_names: &[&str]) -> Result<Self> {
        mask_grid_svg(&traces, class_names)?;
        Ok(MaskGrid {
            traces,
            class_names: class_names.iter().map(|s| s.to_string()).collect(),
        })
    }

    fn cell(&self) -> (u32, u32) {
        let t = &self.traces[0];
        (t.width as u32 * GRID_PX, t.height as u32 * GRID_PX)
    }

    /// The figure's size in pixels (width, height): every image at 4 pixels per canvas
    /// pixel, with its title band.
    pub fn size(&self) -> (u32, u32) {
        let (iw, ih) = self.cell();
        let cols = 1 + 3 * self.traces[0].passes.len() as u32;
        (
            GRID_GAP + cols * (iw + GRID_GAP),
            GRID_TITLE + self.traces.len() as u32 * (ih + GRID_TITLE),
        )
    }

    fn name(&self, l: u32) -> String {
        self.class_names
            .get(l as usize)
            .cloned()
            .unwrap_or_else(|| l.to_string())
    }
}

fn plot_err<E: std::fmt::Display>(e: E) -> AnalysisError {
    AnalysisError::Plot(e.to_string())
}

/// Draws one grey image with its top-left corner at `(x0, y0)`, one rectangle per run of
/// equal grey values in a row, in a grey frame.
fn draw_image<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    v: &[f32],
    (h, w): (usize, usize),
    (x0, y0): (i32, i32),
    grey: impl Fn(f32) -> f32,
) -> std::result::Result<(), AnalysisError> {
    let px = GRID_PX as i32;
    let level = |x: f32| (grey(x).clamp(0.0, 1.0) * 255.0).round() as u8;
    for r in 0..h {
        let mut c = 0;
        while c < w {
            let g = level(v[r * w + c]);
            let mut e = c + 1;
            while e < w && level(v[r * w + e]) == g {
                e += 1;
            }
            let (x, y) = (x0 + c as i32 * px, y0 + r as i32 * px);
            root.draw(&Rectangle::new(
                [(x, y), (x0 + e as i32 * px, y + px)],
                RGBColor(g, g, g).filled(),
            ))
            .map_err(plot_err)?;
            c = e;
        }
    }
    // A grey frame, so that an all-white image (a full IOR mask) stays visible.
    root.draw(&Rectangle::new(
        [(x0 - 1, y0 - 1), (x0 + w as i32 * px, y0 + h as i32 * px)],
        RGBColor(160, 160, 160).stroke_width(1),
    ))
    .map_err(plot_err)?;
    Ok(())
}

impl Figure for MaskGrid {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), AnalysisError> {
        let (iw, ih) = self.cell();
        let (iw, ih, gap, title) = (iw as i32, ih as i32, GRID_GAP as i32, GRID_TITLE as i32);
        let n = self.traces[0].passes.len();
        let style = (font::FAMILY, 15).into_font();
        let mut titles = vec!["scene".to_string()];
        for k in 1..=n {
            titles.push(format!("mask m1, pass {k}"));
            titles.push(format!("gated input, pass {k}"));
            titles.push(format!("IOR after pass {k}"));
        }
        for (c, t) in titles.iter().enumerate() {
            root.draw(&Text::new(
                t.clone(),
                (gap + c as i32 * (iw + gap), 8),
                style.clone(),
            ))
            .map_err(plot_err)?;
        }
        for (r, t) in self.traces.iter().enumerate() {
            let y0 = title + r as i32 * (ih + title);
            let hw = (t.height, t.width);
            draw_image(root, &t.scene, hw, (gap, y0), |v| v)?;
            for (k, p) in t.passes.iter().enumerate() {
                let x0 = gap + (1 + 3 * k as i32) * (iw + gap);
                draw_image(root, &p.mask, hw, (x0, y0), |m| (m + 1.0) / 2.0)?;
                draw_image(root, &p.gated, hw, (x0 + iw + gap, y0), |v| v)?;
                draw_image(root, &p.ior, hw, (x0 + 2 * (iw + gap), y0), |v| v)?;
                let mark = if p.label == p.reported {
                    "right"
                } else {
                    "wrong"
                };
                root.draw(&Text::new(
                    format!(
                        "object {} ({}): reported {} ({mark})",
                        p.selected + 1,
                        self.name(p.label),
                        self.name(p.reported)
                    ),
                    (x0, y0 + ih + 6),
                    style.clone(),
                ))
                .map_err(plot_err)?;
            }
        }
        Ok(())
    }
}
