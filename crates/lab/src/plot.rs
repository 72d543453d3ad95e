//! Saving plots: SVG and PNG side by side, and a note in place of a plot that cannot be drawn.
use std::path::Path;

use neurogen_analysis::plot::{BoxPlot, Figure, Labels, DEFAULT_SIZE};

/// What went wrong while saving a plot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// Drawing the PNG failed after the SVG was drawn.
    #[error("{path}: {source}")]
    Draw {
        /// The file.
        path: String,
        /// The reason.
        #[source]
        source: neurogen_analysis::AnalysisError,
    },
    /// Writing the note that replaces an undrawable plot failed.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The reason.
        #[source]
        source: neurogen_io::IoError,
    },
}

/// Saves a figure as SVG and PNG (`stem.svg`, `stem.png`) in `dir`; returns the SVG's file name
/// (for [`crate::report::Report::figure`]).
///
/// A figure that cannot be drawn from its data (e.g. every run of a group failed, so a group
/// has no values) does not stop the pipeline: `stem.svg` then holds a short note saying why,
/// the reason goes to stderr, and the report still links it.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let empty = neurogen_lab::plot::box_plot(&[("a".into(), vec![])], "nothing", "accuracy");
/// let file = neurogen_lab::plot::save_plot(dir.path(), "empty", &empty).unwrap();
/// assert_eq!(file, "empty.svg");
/// let svg = std::fs::read_to_string(dir.path().join(file)).unwrap();
/// assert!(svg.contains("plot not drawn"));
/// ```
pub fn save_plot<F: Figure>(dir: &Path, stem: &str, fig: &F) -> Result<String, PlotError> {
    save_plot_sized(dir, stem, fig, DEFAULT_SIZE)
}

/// [`save_plot`] at `size` pixels (width, height).
pub fn save_plot_sized<F: Figure>(
    dir: &Path,
    stem: &str,
    fig: &F,
    size: (u32, u32),
) -> Result<String, PlotError> {
    let svg = dir.join(format!("{stem}.svg"));
    if let Err(e) = neurogen_analysis::plot::save(fig, &svg, size) {
        eprintln!("{}: plot not drawn: {e}", svg.display());
        let note = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"40\">\
             <text x=\"10\" y=\"25\">plot not drawn: {}</text></svg>\n",
            e.to_string().replace('&', "&amp;").replace('<', "&lt;")
        );
        neurogen_io::write_atomic(&svg, note.as_bytes()).map_err(|source| PlotError::Write {
            path: svg.display().to_string(),
            source,
        })?;
        return Ok(format!("{stem}.svg"));
    }
    let png = dir.join(format!("{stem}.png"));
    neurogen_analysis::plot::save(fig, &png, size).map_err(|source| PlotError::Draw {
        path: png.display().to_string(),
        source,
    })?;
    Ok(format!("{stem}.svg"))
}

/// A box plot (with the individual points) of one value per group (display name, values); a
/// group without values (no successful run yet, in an interim report) is left out.
pub fn box_plot(groups: &[(String, Vec<f64>)], title: &str, y: &str) -> BoxPlot {
    BoxPlot {
        groups: groups
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .cloned()
            .collect(),
        labels: Labels::new(title, "group", y),
    }
}

/// A file-name-safe form of a name (the run store's [`crate::store::slug`], re-exported here
/// for plot file names).
pub use crate::store::slug;
