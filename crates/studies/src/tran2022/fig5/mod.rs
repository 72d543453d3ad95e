//! Figure 5: why neurogenesis helps. Ablation curves (silencing 0–100 % of hidden layer 1's
//! units at random) for control, neurogenesis and dropout networks; class-selectivity
//! densities; and networks trained with or without neurogenesis tested with or without new
//! units added after training (two-way repeated-measures ANOVA, subjects = repeats).
//!
//! The claims are stated in the paper's direction: neurogenic networks are *less* robust to
//! ablation than control networks although they generalise better (Fig. 5B; Morcos et al.'s
//! single-direction account predicts the opposite, and the report tests that too), their
//! hidden units are less class-selective (Fig. 5C), and they lose less accuracy when new units
//! replace old ones after training. Each is decided by the paired test by repeat, beside the
//! paper's Welch test; with `--compare-reference` the published code's networks are analysed
//! beside the method's.
//!
//! Each network's analyses are saved in `analysis/STEM.json` with its configuration hash and
//! the analysis settings, so a rerun analyses nothing it has, and a committed result
//! (`docs/results/fig5-quick/`) re-derives its report from `runs.csv` and `analysis/` without
//! the checkpoints.
//!
//! This module holds the figure's groups, values and claims and its script ([`run`]);
//! [`analysis`] analyses one network (and caches it), and the report's sections on the
//! analyses are a private submodule.
use std::path::PathBuf;

use neurogen_lab::claims::{Claim, Expect, Value};

use super::context::FigureContext;
use super::error::TranError;
use super::figure::{Figure, Group};
use super::report::FigureReport;
use super::scale::Scale;
use crate::cnn::RunStatus;

pub mod analysis;
mod sections;

pub use analysis::add_new_units;

/// The hidden layer analysed (the reference's neurogenesis layer, `fcs.1`).
pub const LAYER: usize = 1;

/// Robustness to ablation: area under the normalised ablation curve.
pub const ABLATION: Value = Value::new("ablation_robustness", "ablation robustness", "", 3, true);
/// Mean class-selectivity index of a network's hidden units (lower: less selective, which the
/// paper links to better generalisation).
pub const SELECTIVITY: Value = Value::new("mean_selectivity", "mean selectivity", "", 3, false);
/// The claim the new-units experiment (repeated-measures ANOVA) decides.
pub const NEW_UNITS: &str =
    "Networks trained with neurogenesis lose less accuracy when new units are added after training";

/// Figure 5's groups and claims at scale `s`.
pub fn figure(s: &Scale) -> Result<Figure, TranError> {
    Ok(Figure {
        title: "Figure 5: ablation, class selectivity and new units after training",
        validation: false,
        groups: vec![
            Group::new("control", "Control", &[], s)?,
            Group::new("neurogenesis", "Neurogenesis", &[s.neurogenesis("")], s)?,
            Group::new("dropout", "Dropout", &["dropout:p=0.2".into()], s)?,
        ],
        claims: vec![
            // Fig. 5B: the paper reports that neurogenic networks, although they generalise
            // better, are *less* robust to ablation than control networks (Morcos et al. would
            // predict the opposite; the report's Morcos section sets the two side by side).
            Claim::welch(
                "Networks trained with neurogenesis are less robust to ablation than control (Fig. 5B)",
                "area difference {d}",
                ABLATION,
                "neurogenesis",
                "control",
                Expect::Worse,
            ),
            // Fig. 5C: lower class selectivity of the neurogenesis layer's units.
            Claim::welch(
                "Neurogenesis lowers the class selectivity of hidden units (Fig. 5C)",
                "mean index difference {d}",
                SELECTIVITY,
                "neurogenesis",
                "control",
                Expect::Better,
            ),
            Claim::analysis(NEW_UNITS),
        ],
    })
}

/// Runs figure 5 and returns the report's path.
pub fn run(ctx: &dyn FigureContext) -> Result<PathBuf, TranError> {
    let s = ctx.scale();
    let fig = figure(s)?;
    let (data, mut res) = ctx.train(&fig)?;
    let num_classes = data.model.num_classes;
    // Ablation and selectivity on a fixed sample of training images, as the reference does.
    let analysis_split = data
        .train
        .sample(s.analysis_images.min(data.train.len()), 2)?;
    let mut analyses = Vec::new();
    for row in res.rows.iter().filter(|r| r.status == RunStatus::Ok) {
        analyses.push(analysis::analysis_of(
            ctx,
            row,
            &analysis_split,
            &data.test,
            num_classes,
        )?);
    }
    let mut rep = ctx.report(&fig, &res);
    sections::ablation(
        s,
        &mut res,
        &mut rep,
        &analyses,
        analysis_split.len(),
        ctx.report_dir(),
    )?;
    sections::morcos(&res, &mut rep, &analyses);
    sections::selectivity(&mut res, &mut rep, &analyses, ctx.report_dir());
    let method = sections::new_units(s, &res, &mut rep, &analyses, "neurogenesis");
    let published = res
        .published_of("neurogenesis")
        .map(str::to_string)
        .map(|key| sections::new_units(s, &res, &mut rep, &analyses, &key));
    rep.claims(&res, &fig.claims, vec![method])?;
    if let Some((text, found, verdict)) = published {
        rep.published_analysis(text, found, verdict)?;
    }
    ctx.finish_report(rep)
}
