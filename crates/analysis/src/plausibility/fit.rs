//! Maximum-likelihood fits of three families to a sample of weights, compared by AIC, each
//! with a one-sample KS test against the fitted distribution.
//!
//! | family | parameters (MLE) | log-likelihood at the MLE |
//! |---|---|---|
//! | normal | `μ = mean x`, `σ² = Σ(x−μ)²/n` | `−n/2·ln(2πσ²) − n/2` |
//! | log-normal (`x > 0`) | `μ = mean ln x`, `σ² = Σ(ln x−μ)²/n` | `−Σ ln x − n ln σ − n/2·ln 2π − n/2` |
//! | exponential (`x ≥ 0`) | `λ = 1/mean x` | `n ln λ − n` |
//!
//! `AIC = 2k − 2·LL` with `k` = 2, 2, 1 parameters; the family with the smallest AIC is chosen.
//! The variances are the MLEs (divisor `n`), as scipy's `norm.fit` / `lognorm.fit(floc=0)` /
//! `expon.fit(floc=0)` give them. The KS p-values are against the fitted distributions and so
//! conservative (see [`crate::plausibility::ks`]).
//!
//! A weight matrix has both signs unless the network obeys a sign constraint; to ask whether
//! weight *magnitudes* are log-normal, pass `|w|` of the non-zero weights. [`fit_families`]
//! fits each family whose support holds the sample and says why the others were skipped.
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Exp, LogNormal, Normal};

use crate::error::{check_sample, AnalysisError, Result};
use crate::plausibility::ks::{ks_test, KsTest};

/// A family of distributions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Normal (Gaussian), support ℝ.
    Normal,
    /// Log-normal, support `x > 0`.
    LogNormal,
    /// Exponential, support `x ≥ 0`.
    Exponential,
}

impl Family {
    /// All three families, in the order [`fit_families`] reports them.
    pub const ALL: [Family; 3] = [Family::Normal, Family::LogNormal, Family::Exponential];

    /// The family's name as used in reports (`normal`, `log_normal`, `exponential`).
    pub fn name(self) -> &'static str {
        match self {
            Family::Normal => "normal",
            Family::LogNormal => "log_normal",
            Family::Exponential => "exponential",
        }
    }

    /// Number of free parameters (for AIC).
    pub fn n_params(self) -> usize {
        match self {
            Family::Normal | Family::LogNormal => 2,
            Family::Exponential => 1,
        }
    }

    /// Fits this family to `xs` by maximum likelihood.
    pub fn fit(self, xs: &[f64]) -> Result<FamilyFit> {
        match self {
            Family::Normal => fit_normal(xs),
            Family::LogNormal => fit_log_normal(xs),
            Family::Exponential => fit_exponential(xs),
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The fitted parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "family", rename_all = "snake_case")]
pub enum FitParams {
    /// `N(mean, sd²)`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (MLE, divisor `n`).
        sd: f64,
    },
    /// `ln x ~ N(mu, sigma²)`.
    LogNormal {
        /// Mean of `ln x`.
        mu: f64,
        /// Standard deviation of `ln x` (MLE, divisor `n`).
        sigma: f64,
    },
    /// `Exp(rate)`, mean `1/rate`.
    Exponential {
        /// Rate `λ`.
        rate: f64,
    },
}

impl FitParams {
    /// The fitted distribution's CDF at `x`.
    pub fn cdf(&self, x: f64) -> f64 {
        // Parameters were validated when fitted, so the constructors cannot fail.
        match *self {
            FitParams::Normal { mean, sd } => Normal::new(mean, sd).map_or(f64::NAN, |d| d.cdf(x)),
            FitParams::LogNormal { mu, sigma } => {
                LogNormal::new(mu, sigma).map_or(f64::NAN, |d| d.cdf(x))
            }
            FitParams::Exponential { rate } => Exp::new(rate).map_or(f64::NAN, |d| d.cdf(x)),
        }
    }
}

/// One family fitted to a sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyFit {
    /// The family.
    pub family: Family,
    /// Its maximum-likelihood parameters.
    pub params: FitParams,
    /// Log-likelihood of the sample at the MLE.
    pub log_likelihood: f64,
    /// `2k − 2·log_likelihood`.
    pub aic: f64,
    /// KS test of the sample against the fitted distribution.
    pub ks: KsTest,
}

/// All families that could be fitted to a sample, and the one AIC prefers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitSummary {
    /// Sample size.
    pub n: usize,
    /// The fits, in the order of [`Family::ALL`] (skipping those in `skipped`).
    pub fits: Vec<FamilyFit>,
    /// Families not fitted, each with the reason (e.g. a non-positive value for log-normal).
    pub skipped: Vec<(Family, String)>,
    /// The family with the smallest AIC.
    pub best: Family,
    /// AIC of each fitted family minus the best AIC (0 for the best), in the order of `fits`.
    pub delta_aic: Vec<f64>,
}

impl FitSummary {
    /// The fit of `family`, if it was fitted.
    pub fn get(&self, family: Family) -> Option<&FamilyFit> {
        self.fits.iter().find(|f| f.family == family)
    }
}

fn finish(family: Family, xs: &[f64], params: FitParams, log_likelihood: f64) -> Result<FamilyFit> {
    let ks = ks_test(xs, |x| params.cdf(x))?;
    Ok(FamilyFit {
        family,
        params,
        log_likelihood,
        aic: 2.0 * family.n_params() as f64 - 2.0 * log_likelihood,
        ks,
    })
}

fn mean_and_mle_sd(
    what: &str,
    xs: impl Iterator<Item = f64> + Clone,
    n: f64,
) -> Result<(f64, f64)> {
    let mean = xs.clone().sum::<f64>() / n;
    let var = xs.map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    if var <= 0.0 {
        return Err(AnalysisError::ZeroVariance { what: what.into() });
    }
    Ok((mean, var.sqrt()))
}

/// Fits `N(μ, σ²)` by maximum likelihood (at least 2 finite values, not all equal).
///
/// ```
/// use neurogen_analysis::plausibility::{fit_normal, FitParams};
/// let fit = fit_normal(&[1.0, 2.0, 3.0]).unwrap();
/// let FitParams::Normal { mean, sd } = fit.params else { unreachable!() };
/// assert_eq!(mean, 2.0);
/// assert!((sd - (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
/// ```
pub fn fit_normal(xs: &[f64]) -> Result<FamilyFit> {
    check_sample("normal fit", xs, 2)?;
    let n = xs.len() as f64;
    let (mean, sd) = mean_and_mle_sd("normal fit", xs.iter().copied(), n)?;
    let ll = -0.5 * n * (2.0 * std::f64::consts::PI * sd * sd).ln() - 0.5 * n;
    finish(Family::Normal, xs, FitParams::Normal { mean, sd }, ll)
}

/// Fits a log-normal by maximum likelihood (at least 2 finite values, all `> 0`, not all
/// equal). A value `≤ 0` is [`AnalysisError::OutsideSupport`].
pub fn fit_log_normal(xs: &[f64]) -> Result<FamilyFit> {
    check_sample("log-normal fit", xs, 2)?;
    if let Some(index) = xs.iter().position(|&x| x <= 0.0) {
        return Err(AnalysisError::OutsideSupport {
            what: "log-normal fit".into(),
            index,
            value: xs[index],
            support: "x > 0".into(),
        });
    }
    let n = xs.len() as f64;
    let logs = xs.iter().map(|x| x.ln());
    let sum_log: f64 = logs.clone().sum();
    let (mu, sigma) = mean_and_mle_sd("log-normal fit (ln x)", logs, n)?;
    let ll = -sum_log - n * sigma.ln() - 0.5 * n * (2.0 * std::f64::consts::PI).ln() - 0.5 * n;
    finish(
        Family::LogNormal,
        xs,
        FitParams::LogNormal { mu, sigma },
        ll,
    )
}

/// Fits `Exp(λ)` by maximum likelihood (at least 1 finite value, all `≥ 0`, not all 0). A
/// negative value is [`AnalysisError::OutsideSupport`].
pub fn fit_exponential(xs: &[f64]) -> Result<FamilyFit> {
    check_sample("exponential fit", xs, 1)?;
    if let Some(index) = xs.iter().position(|&x| x < 0.0) {
        return Err(AnalysisError::OutsideSupport {
            what: "exponential fit".into(),
            index,
            value: xs[index],
            support: "x >= 0".into(),
        });
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if mean <= 0.0 {
        return Err(AnalysisError::ZeroVariance {
            what: "exponential fit (all values are 0)".into(),
        });
    }
    let rate = 1.0 / mean;
    let ll = n * rate.ln() - n;
    finish(Family::Exponential, xs, FitParams::Exponential { rate }, ll)
}

/// Fits every family whose support holds `xs` and picks the one with the smallest AIC.
///
/// The sample must be finite with at least 2 values and non-zero variance (else the error of
/// [`fit_normal`]); a family whose support does not hold the sample is listed in
/// [`FitSummary::skipped`] with the reason.
///
/// ```
/// use neurogen_analysis::plausibility::{fit_families, Family};
/// let xs: Vec<f64> = (1..=200).map(|i| (i as f64 / 201.0)).map(|u| -u.ln()).collect();
/// let s = fit_families(&xs).unwrap(); // quantiles of Exp(1)
/// assert_eq!(s.best, Family::Exponential);
/// ```
pub fn fit_families(xs: &[f64]) -> Result<FitSummary> {
    let mut fits = vec![fit_normal(xs)?];
    let mut skipped = Vec::new();
    for family in [Family::LogNormal, Family::Exponential] {
        match family.fit(xs) {
            Ok(f) => fits.push(f),
            Err(e @ AnalysisError::OutsideSupport { .. }) => skipped.push((family, e.to_string())),
            Err(e) => return Err(e),
        }
    }
    let best_fit = fits
        .iter()
        .min_by(|a, b| a.aic.total_cmp(&b.aic))
        .expect("the normal fit is always present");
    let best = best_fit.family;
    let best_aic = best_fit.aic;
    let delta_aic = fits.iter().map(|f| f.aic - best_aic).collect();
    Ok(FitSummary {
        n: xs.len(),
        fits,
        skipped,
        best,
        delta_aic,
    })
}
