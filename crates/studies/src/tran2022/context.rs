//! What a figure's script needs from the program that runs it ([`FigureContext`]): the scale,
//! its runs (trained, merged from shards, or as recorded so far), the device its networks are
//! loaded on for analyses, the report's header and where the report and plots are written. The command line (`cargo xtask reproduce figN`)
//! implements it with its device, progress bars, shards and locks; a figure's `run` is the
//! script on top.
use std::path::{Path, PathBuf};

use candle_core::Device;
use neurogen_lab::report::Report;

use super::error::TranError;
use super::figure::{Figure, Results};
use super::scale::Scale;
use crate::cnn::FigureData;

/// The program running a figure, as the figure's script sees it.
pub trait FigureContext {
    /// The scale (after the command line's overrides).
    fn scale(&self) -> &Scale;

    /// The figure's directory (`OUT/figN`: `runs.csv`, `checkpoints/`, `curves/`, and fig. 5's
    /// saved analyses in `analysis/`).
    fn dir(&self) -> &Path;

    /// The device a figure's analyses load its runs' checkpoints on (fig. 5).
    fn device(&self) -> &Device;

    /// Where the report and its plots are written: the figure's directory, or its `interim/`.
    fn report_dir(&self) -> &Path;

    /// Checks `fig` and returns its data and results: every run of its groups, trained where
    /// not yet recorded (or merged from the shards, or as recorded so far).
    fn train(&self, fig: &Figure) -> Result<(FigureData, Results), TranError>;

    /// Starts the report of `fig` with Tran's header ([`super::report::header`]).
    fn report(&self, fig: &Figure, res: &Results) -> Report;

    /// Finishes the report (its closing plots) and writes it; returns the path of `report.md`.
    fn finish_report(&self, rep: Report) -> Result<PathBuf, TranError>;
}
