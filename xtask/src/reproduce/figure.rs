//! A figure as data (groups, claims) and its results by group key: the library's
//! [`neurogen_studies::tran2022::figure`]. Here, the command line's side of a figure's script:
//! [`FigureCtx`] is the library's [`FigureContext`].
use std::path::{Path, PathBuf};

use neurogen_lab::report::Report;
use neurogen_studies::cnn::FigureData;
use neurogen_studies::tran2022::{FigureContext, TranError};

pub use neurogen_studies::tran2022::figure::{Figure, Group, Results};

use super::FigureCtx;
use neurogen_studies::tran2022::scale::Scale;

/// The figure's script runs on the command line's context: its training (or shards, or
/// recorded runs), device, report header and report directory.
impl FigureContext for FigureCtx<'_> {
    fn scale(&self) -> &Scale {
        &self.scale
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn device(&self) -> &candle_core::Device {
        &self.opts.device
    }

    fn report_dir(&self) -> &Path {
        &self.report_dir
    }

    fn train(&self, fig: &Figure) -> Result<(FigureData, Results), TranError> {
        FigureCtx::train(self, fig).map_err(TranError::context)
    }

    fn report(&self, fig: &Figure, res: &Results) -> Report {
        FigureCtx::report(self, fig, res)
    }

    fn finish_report(&self, rep: Report) -> Result<PathBuf, TranError> {
        FigureCtx::finish_report(self, rep).map_err(TranError::context)
    }
}
