//! # neurogen-analysis
//!
//! Analyses behind the figures of Tran et al. (PNAS 2022), "Adult neurogenesis acts as a
//! neural regulariser": ablation curves (Fig. 5B), class selectivity and unit importance
//! (Fig. 5C), statistics (t-tests, ANOVA, Tukey's HSD, two-way repeated-measures ANOVA for
//! Fig. 5D), kernel density estimates, SVG/PNG plots, and a CSV group comparison used by
//! `cargo xtask analyze`.
//!
//! The crate does not depend on the model: ablation and importance take a closure that
//! evaluates accuracy with a given set of units silenced; selectivity takes a plain activation
//! matrix. See `docs/analysis.md` for formulas, references and validation.
#![warn(missing_docs)]

pub mod ablation;
pub mod error;
pub mod kde;
pub mod plot;
pub mod report;
pub mod selectivity;
pub mod stats;

pub use ablation::{ablation_curve, default_fractions, AblationCurve, AblationOrder};
pub use error::{AnalysisError, Result};
pub use selectivity::{
    class_selectivity, selectivity_importance_correlation, unit_importance, SelectivityImportance,
};
