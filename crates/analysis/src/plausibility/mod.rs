//! Biological-plausibility measures that any network can use: they take plain slices and
//! row-major matrices, not a model.
//!
//! - [`fit`]: maximum-likelihood fits of the normal, log-normal and exponential families to a
//!   weight sample, their log-likelihoods and AIC, the family AIC prefers, and a one-sample
//!   Kolmogorov–Smirnov test of the sample against each fit (the question of Inoue et al.,
//!   arXiv 2603.03234, and of Buzsáki & Mizuseki 2014: are the weights log-normal?).
//! - [`ks`]: the one-sample KS statistic and the Kolmogorov distribution's survival function.
//! - [`histogram`](mod@histogram): equal-width histograms of weights (the data behind a
//!   weight-distribution figure).
//! - [`dale`]: Dale compliance — the fraction of units whose outgoing weights share one sign.
//! - [`sparsity`]: activity sparsity (fraction of near-zero activations, Hoyer's population
//!   sparsity, Vinje & Gallant's lifetime sparsity) and weight sparsity.
//!
//! Every function reports bad input (empty samples, NaN, values outside a family's support,
//! mismatched shapes) as a typed [`crate::AnalysisError`].
pub mod dale;
pub mod fit;
pub mod histogram;
pub mod ks;
pub mod sparsity;

pub use dale::{dale_compliance, DaleCompliance, OutgoingAxis};
pub use fit::{
    fit_exponential, fit_families, fit_log_normal, fit_normal, Family, FamilyFit, FitParams,
    FitSummary,
};
pub use histogram::{histogram, histogram_in, Histogram};
pub use ks::{kolmogorov_sf, ks_statistic, ks_test, KsTest};
pub use sparsity::{
    activity_sparsity, fraction_near_zero, hoyer_sparsity, lifetime_sparsity, weight_sparsity,
    ActivitySparsity, WeightSparsity,
};
