//! # neurogen-analysis
//!
//! Analyses behind the figures of Tran et al. (PNAS 2022), "Adult neurogenesis acts as a
//! neural regulariser": ablation curves (Fig. 5B), class selectivity and unit importance
//! (Fig. 5C), random-direction noise curves and areas under curves (Morcos et al. 2018,
//! [`perturbation`]), statistics (t-tests, ANOVA, Tukey's HSD, two-way repeated-measures ANOVA for
//! Fig. 5D), kernel density estimates, SVG/PNG plots, and a CSV group comparison used by
//! `cargo xtask analyze`. Correlations come with Fisher-z confidence intervals
//! ([`stats::pearson_ci`], [`stats::spearman_ci`], [`stats::mean_correlation`]).
//!
//! The crate does not depend on the model: ablation and importance take a closure that
//! evaluates accuracy with a given set of units silenced; selectivity takes a plain activation
//! matrix. The neurogen repository's `docs/analysis.md` gives formulas, references and
//! validation.
#![warn(missing_docs)]

// The README's examples (the crate's page on crates.io) run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod ablation;
pub mod error;
pub mod kde;
pub mod modularity;
pub mod perturbation;
pub mod plausibility;
pub mod plot;
pub mod report;
pub mod selectivity;
pub mod stats;

pub use ablation::{ablation_curve, default_fractions, AblationCurve, AblationOrder};
pub use error::{AnalysisError, Result};
pub use perturbation::{area_under_curve, default_noise_levels, noise_curve, NoiseCurve};
pub use selectivity::{
    class_selectivity, selectivity_importance_correlation, unit_importance, SelectivityImportance,
};
