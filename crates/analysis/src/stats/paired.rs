//! Paired comparisons of two groups measured on the same repeats.
//!
//! Every repeat of a figure starts all groups from the same initial weights and minibatch order,
//! so group `a` and group `b` are paired by repeat: `a[i]` and `b[i]` come from repeat `i`.
//! The tests here work on the differences `d[i] = a[i] - b[i]`:
//!
//! * [`paired_summary`]: n, mean, SD, SEM and t-based 95 % CI of the mean difference;
//! * [`paired_t_test`]: `t = mean(d) / (sd(d) / sqrt(n))` with `n - 1` df, as
//!   `scipy.stats.ttest_rel(a, b)` (two-sided);
//! * [`wilcoxon_signed_rank`]: as `scipy.stats.wilcoxon(a, b)` with its defaults;
//! * [`cohens_dz`]: `mean(d) / sd(d)`;
//! * [`paired_comparison`]: all of the above at once.
//!
//! Reference values: scipy 1.17.1 (`tests/reference/make_reference.py`).
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use super::correlation::rank_average;
use super::descriptive::{mean, sample_sd, Summary};
use crate::error::{check_finite, check_sample, AnalysisError, Result};

/// Largest number of pairs for which [`wilcoxon_signed_rank`] uses an exact null distribution
/// when there are no ties and no zero differences (scipy 1.17.1, `method="auto"`).
pub const WILCOXON_EXACT_MAX_N: usize = 50;

/// Largest number of pairs (zeros included) for which [`wilcoxon_signed_rank`] runs the exact
/// sign-flip permutation test when there are ties or zeros (scipy 1.17.1: `2^13 <= 9999`, the
/// default number of resamples, so scipy enumerates every sign assignment).
pub const WILCOXON_PERMUTATION_MAX_N: usize = 13;

/// Validated paired differences `a[i] - b[i]`.
///
/// Errors: [`AnalysisError::LengthMismatch`] when `a` and `b` differ in length,
/// [`AnalysisError::TooFewObservations`] for fewer than 2 pairs, [`AnalysisError::NonFinite`]
/// for a NaN or infinite value in either sample (or a difference that overflows).
pub fn paired_differences(a: &[f64], b: &[f64]) -> Result<Vec<f64>> {
    if a.len() != b.len() {
        return Err(AnalysisError::LengthMismatch {
            what: "paired samples: b must have one value per pair in a".into(),
            expected: a.len(),
            got: b.len(),
        });
    }
    check_sample("paired sample a (pairs)", a, 2)?;
    check_sample("paired sample b", b, 2)?;
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    check_finite("paired differences a - b", &d)?;
    Ok(d)
}

fn check_spread(what: &str, d: &[f64]) -> Result<f64> {
    let sd = sample_sd(d);
    if sd == 0.0 {
        return Err(AnalysisError::ZeroVariance {
            what: format!("{what}: every difference a - b is equal"),
        });
    }
    Ok(sd)
}

/// Summary of the paired differences `a - b`: n (pairs), mean, sample SD (`n - 1`),
/// SEM = SD/√n and the 95 % CI `mean ± t(0.975, n - 1)·SEM` of the mean difference (the CI of
/// `scipy.stats.ttest_rel(a, b).confidence_interval(0.95)`).
///
/// Constant differences are allowed here (SD 0, a zero-width CI); the tests that divide by the
/// SD ([`paired_t_test`], [`cohens_dz`]) reject them.
pub fn paired_summary(a: &[f64], b: &[f64]) -> Result<Summary> {
    super::summarize(&paired_differences(a, b)?)
}

/// Result of a paired t-test of `a` against `b`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PairedTTest {
    /// t statistic (positive when `mean(a - b) > 0`).
    pub t: f64,
    /// Degrees of freedom, `n - 1`.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// `mean(a - b)`.
    pub mean_diff: f64,
    /// Standard error of the mean difference, `sd(a - b) / sqrt(n)`.
    pub sem: f64,
}

/// Paired (dependent-samples) t-test, two-sided, as `scipy.stats.ttest_rel(a, b)`:
/// `t = mean(d) / (sd(d)/√n)`, `df = n - 1`, with `d = a - b`.
///
/// Errors as [`paired_differences`], plus [`AnalysisError::ZeroVariance`] when every
/// difference is equal (scipy returns ±inf or NaN there).
pub fn paired_t_test(a: &[f64], b: &[f64]) -> Result<PairedTTest> {
    let d = paired_differences(a, b)?;
    t_test_of(&d)
}

fn t_test_of(d: &[f64]) -> Result<PairedTTest> {
    let sd = check_spread("paired t-test", d)?;
    let n = d.len() as f64;
    let mean_diff = mean(d);
    let sem = sd / n.sqrt();
    let t = mean_diff / sem;
    let df = n - 1.0;
    Ok(PairedTTest {
        t,
        df,
        p: super::t_two_sided_p(t, df)?,
        mean_diff,
        sem,
    })
}

/// Cohen's d for paired data, `d_z = mean(a - b) / sd(a - b)` (sample SD, `n - 1`); equals
/// `t / √n` of the paired t-test.
///
/// Errors as [`paired_t_test`].
pub fn cohens_dz(a: &[f64], b: &[f64]) -> Result<f64> {
    let d = paired_differences(a, b)?;
    dz_of(&d)
}

fn dz_of(d: &[f64]) -> Result<f64> {
    let sd = check_spread("Cohen's d_z", d)?;
    Ok(mean(d) / sd)
}

/// How [`wilcoxon_signed_rank`] computed its p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WilcoxonMethod {
    /// Exact null distribution of W+ (no ties, no zeros, n ≤ [`WILCOXON_EXACT_MAX_N`]);
    /// scipy's `method="exact"`.
    Exact,
    /// Exact sign-flip permutation distribution of W+ given the (tied) ranks, enumerating all
    /// `2^n` sign assignments (ties or zeros, n ≤ [`WILCOXON_PERMUTATION_MAX_N`]); scipy's
    /// `method=PermutationMethod()`.
    Permutation,
    /// Normal approximation with the tie correction, no continuity correction; scipy's
    /// `method="asymptotic"`.
    Normal,
}

/// Result of a Wilcoxon signed-rank test of `a` against `b`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Wilcoxon {
    /// `min(W+, W-)`, the statistic scipy reports for the two-sided test.
    pub statistic: f64,
    /// Sum of the ranks of `|d|` over positive differences (`a > b`).
    pub w_plus: f64,
    /// Sum of the ranks of `|d|` over negative differences (`a < b`).
    pub w_minus: f64,
    /// Number of pairs, zeros included.
    pub n: usize,
    /// Number of zero differences (dropped before ranking: `zero_method="wilcox"`).
    pub n_zero: usize,
    /// Whether some non-zero `|d|` are tied (compared exactly, as scipy does).
    pub ties: bool,
    /// For [`WilcoxonMethod::Normal`]: `(W+ - m(m+1)/4) / se`, positive when `a > b`
    /// (scipy's `zstatistic` is `-|z|` for the two-sided test); `None` otherwise.
    pub z: Option<f64>,
    /// Two-sided p-value.
    pub p: f64,
    /// How `p` was computed.
    pub method: WilcoxonMethod,
}

/// Wilcoxon signed-rank test, two-sided, matching `scipy.stats.wilcoxon(a, b)` in scipy 1.17.1
/// with its defaults `zero_method="wilcox"`, `correction=False`, `alternative="two-sided"`,
/// `method="auto"`.
///
/// Zero differences are dropped; the `m` non-zero `|d|` get average ranks (ties are exact
/// floating-point equality of `|a - b|`, as in scipy). `method="auto"` then chooses, with `n` the
/// number of pairs *including* zeros:
///
/// * `n > 50`: normal approximation;
/// * `n ≤ 50`, no ties and no zeros: exact distribution of W+ (`2·min(P(W+ ≤ w), P(W+ ≥ w))`);
/// * `n ≤ 13` with ties or zeros: exact sign-flip permutation test (scipy's
///   `PermutationMethod()`, which enumerates all `2^n ≤ 9999` sign assignments), here computed
///   exactly by counting subset sums of the doubled average ranks;
/// * otherwise: normal approximation,
///   `z = (W+ - m(m+1)/4) / sqrt((m(m+1)(2m+1) - Σ(t³ - t)/2) / 24)` over tie groups of size
///   `t`, `p = 2·Φ(-|z|)`.
///
/// This is the rule of scipy 1.17.1 (read from its source and stated in its `wilcoxon` Notes);
/// other scipy versions may choose differently.
///
/// Errors as [`paired_differences`], plus [`AnalysisError::ZeroVariance`] when every
/// difference is zero (no ranks to test).
pub fn wilcoxon_signed_rank(a: &[f64], b: &[f64]) -> Result<Wilcoxon> {
    let d = paired_differences(a, b)?;
    wilcoxon_of(&d)
}

fn wilcoxon_of(d: &[f64]) -> Result<Wilcoxon> {
    let n = d.len();
    let nonzero: Vec<f64> = d.iter().copied().filter(|&x| x != 0.0).collect();
    let n_zero = n - nonzero.len();
    if nonzero.is_empty() {
        return Err(AnalysisError::ZeroVariance {
            what: "Wilcoxon signed-rank test: every difference a - b is zero".into(),
        });
    }
    let abs: Vec<f64> = nonzero.iter().map(|x| x.abs()).collect();
    let ranks = rank_average(&abs);
    let mut w_plus = 0.0;
    let mut w_minus = 0.0;
    for (x, r) in nonzero.iter().zip(&ranks) {
        if *x > 0.0 {
            w_plus += r;
        } else {
            w_minus += r;
        }
    }
    let tie_sizes = tie_group_sizes(&abs);
    let ties = tie_sizes.iter().any(|&t| t > 1);
    let method = if n > WILCOXON_EXACT_MAX_N {
        WilcoxonMethod::Normal
    } else if !ties && n_zero == 0 {
        WilcoxonMethod::Exact
    } else if n <= WILCOXON_PERMUTATION_MAX_N {
        WilcoxonMethod::Permutation
    } else {
        WilcoxonMethod::Normal
    };
    let (p, z) = match method {
        WilcoxonMethod::Exact | WilcoxonMethod::Permutation => (exact_p(&ranks, w_plus), None),
        WilcoxonMethod::Normal => {
            let m = nonzero.len() as f64;
            let tie_term: f64 = tie_sizes
                .iter()
                .map(|&t| {
                    let t = t as f64;
                    t * t * t - t
                })
                .sum();
            let se = ((m * (m + 1.0) * (2.0 * m + 1.0) - tie_term / 2.0) / 24.0).sqrt();
            let z = (w_plus - m * (m + 1.0) / 4.0) / se;
            let normal = Normal::new(0.0, 1.0).map_err(|e| {
                AnalysisError::InvalidArgument(format!("standard normal distribution: {e}"))
            })?;
            ((2.0 * normal.sf(z.abs())).min(1.0), Some(z))
        }
    };
    Ok(Wilcoxon {
        statistic: w_plus.min(w_minus),
        w_plus,
        w_minus,
        n,
        n_zero,
        ties,
        z,
        p,
        method,
    })
}

/// Sizes of the groups of equal values in `xs`.
fn tie_group_sizes(xs: &[f64]) -> Vec<usize> {
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut sizes = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i + 1;
        while j < sorted.len() && sorted[j] == sorted[i] {
            j += 1;
        }
        sizes.push(j - i);
        i = j;
    }
    sizes
}

/// Two-sided p-value of `W+ = w_plus` under random signs: `2·min(P(S ≤ w), P(S ≥ w))`,
/// capped at 1, where `S` is the sum of a uniformly random subset of `ranks`.
///
/// Average ranks are multiples of 1/2, so the doubled ranks are integers and the `2^m` subset
/// sums are counted exactly (`m ≤ 50`, so counts fit in `u64` and convert to `f64` exactly).
fn exact_p(ranks: &[f64], w_plus: f64) -> f64 {
    let doubled: Vec<usize> = ranks.iter().map(|r| (2.0 * r).round() as usize).collect();
    let max: usize = doubled.iter().sum();
    let mut counts = vec![0u64; max + 1];
    counts[0] = 1;
    let mut reach = 0;
    for &w in &doubled {
        reach += w;
        for s in (w..=reach).rev() {
            counts[s] += counts[s - w];
        }
    }
    let obs = (2.0 * w_plus).round() as usize;
    let total = 2f64.powi(ranks.len() as i32);
    let below: u64 = counts[..=obs].iter().sum();
    let above: u64 = counts[obs..].iter().sum();
    (2.0 * below.min(above) as f64 / total).min(1.0)
}

/// Everything reported for a paired comparison of two groups.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PairedComparison {
    /// Summary of the differences `a - b` ([`paired_summary`]).
    pub diff: Summary,
    /// Paired t-test ([`paired_t_test`]).
    pub t_test: PairedTTest,
    /// Wilcoxon signed-rank test ([`wilcoxon_signed_rank`]).
    pub wilcoxon: Wilcoxon,
    /// Cohen's d_z ([`cohens_dz`]).
    pub d_z: f64,
}

/// Paired comparison of `a` against `b` (`a[i]` and `b[i]` from the same repeat): summary of
/// `a - b` with its 95 % CI, paired t-test, Wilcoxon signed-rank test and Cohen's d_z.
///
/// Errors as [`paired_t_test`] (lengths, fewer than 2 pairs, non-finite values, constant
/// differences).
///
/// ```
/// use neurogen_analysis::stats::{paired_comparison, WilcoxonMethod};
/// // test accuracy of 6 repeats, with and without neurogenesis, same seeds per repeat
/// let with = [0.912, 0.905, 0.921, 0.899, 0.917, 0.908];
/// let without = [0.901, 0.907, 0.908, 0.894, 0.908, 0.902];
/// let r = paired_comparison(&with, &without).unwrap();
/// assert_eq!(r.diff.n, 6);
/// assert!(r.diff.mean > 0.0 && r.diff.ci95.0 < r.diff.mean);
/// assert_eq!(r.t_test.df, 5.0);
/// assert!((r.d_z - r.t_test.t / 6f64.sqrt()).abs() < 1e-12);
/// assert_eq!(r.wilcoxon.method, WilcoxonMethod::Exact);
/// assert_eq!(r.wilcoxon.statistic, 1.0); // only the smallest |difference| is negative
/// assert!((r.wilcoxon.p - 4.0 / 64.0).abs() < 1e-12);
///
/// let err = paired_comparison(&with, &without[..5]).unwrap_err();
/// assert!(err.to_string().contains("expected length 6, got 5"));
/// ```
pub fn paired_comparison(a: &[f64], b: &[f64]) -> Result<PairedComparison> {
    let d = paired_differences(a, b)?;
    Ok(PairedComparison {
        t_test: t_test_of(&d)?,
        d_z: dz_of(&d)?,
        wilcoxon: wilcoxon_of(&d)?,
        diff: super::summarize(&d)?,
    })
}
