//! Two-sample t-tests (two-sided): Student's (pooled variance) and Welch's (unequal variances,
//! Welch–Satterthwaite degrees of freedom), as `scipy.stats.ttest_ind`.
use serde::Serialize;

use super::descriptive::{mean, sample_sd};
use crate::error::{check_sample, AnalysisError, Result};

/// Which two-sample t-test was run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TTestKind {
    /// Pooled-variance (equal variances assumed).
    Student,
    /// Unequal variances, Welch–Satterthwaite df.
    Welch,
}

/// Result of a two-sample t-test of `a` against `b`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TTest {
    /// Which test.
    pub kind: TTestKind,
    /// t statistic (positive when `mean(a) > mean(b)`).
    pub t: f64,
    /// Degrees of freedom (fractional for Welch).
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// `mean(a) - mean(b)`.
    pub mean_diff: f64,
}

fn prepare(a: &[f64], b: &[f64]) -> Result<(f64, f64, f64, f64, f64, f64)> {
    check_sample("sample a", a, 2)?;
    check_sample("sample b", b, 2)?;
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (sample_sd(a).powi(2), sample_sd(b).powi(2));
    if va == 0.0 && vb == 0.0 {
        return Err(AnalysisError::ZeroVariance {
            what: "t-test (both samples constant)".into(),
        });
    }
    Ok((mean(a), mean(b), va, vb, na, nb))
}

/// Welch's unequal-variance t-test (two-sided).
///
/// `t = (ma - mb) / sqrt(va/na + vb/nb)`,
/// `df = (va/na + vb/nb)^2 / ((va/na)^2/(na-1) + (vb/nb)^2/(nb-1))`.
///
/// ```
/// let r = neurogen_analysis::stats::welch_t_test(&[1.0, 2.0, 3.0], &[4.0, 5.0, 7.0]).unwrap();
/// assert!(r.p < 0.1 && r.t < 0.0);
/// ```
pub fn welch_t_test(a: &[f64], b: &[f64]) -> Result<TTest> {
    let (ma, mb, va, vb, na, nb) = prepare(a, b)?;
    let (sa, sb) = (va / na, vb / nb);
    let t = (ma - mb) / (sa + sb).sqrt();
    let df = (sa + sb).powi(2) / (sa * sa / (na - 1.0) + sb * sb / (nb - 1.0));
    Ok(TTest {
        kind: TTestKind::Welch,
        t,
        df,
        p: super::t_two_sided_p(t, df)?,
        mean_diff: ma - mb,
    })
}

/// Student's pooled-variance t-test (two-sided), `df = na + nb - 2`.
pub fn student_t_test(a: &[f64], b: &[f64]) -> Result<TTest> {
    let (ma, mb, va, vb, na, nb) = prepare(a, b)?;
    let df = na + nb - 2.0;
    let pooled = ((na - 1.0) * va + (nb - 1.0) * vb) / df;
    let t = (ma - mb) / (pooled * (1.0 / na + 1.0 / nb)).sqrt();
    Ok(TTest {
        kind: TTestKind::Student,
        t,
        df,
        p: super::t_two_sided_p(t, df)?,
        mean_diff: ma - mb,
    })
}
