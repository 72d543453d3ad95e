//! One-way between-subjects ANOVA (`scipy.stats.f_oneway`): F = MS_between / MS_within with
//! (k - 1, N - k) degrees of freedom.
use serde::Serialize;

use super::descriptive::mean;
use crate::error::{check_sample, AnalysisError, Result};

/// Result of a one-way ANOVA.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Anova {
    /// F statistic.
    pub f: f64,
    /// Between-groups degrees of freedom, `k - 1`.
    pub df_between: f64,
    /// Within-groups degrees of freedom, `N - k`.
    pub df_within: f64,
    /// Upper-tail p-value of F.
    pub p: f64,
    /// Between-groups sum of squares.
    pub ss_between: f64,
    /// Within-groups sum of squares.
    pub ss_within: f64,
    /// Within-groups mean square (the pooled error variance used by Tukey's HSD).
    pub ms_within: f64,
}

/// Validates groups for between-subjects tests: at least 2 groups of at least 2 finite values,
/// and not all values constant within groups.
pub(crate) fn check_groups<S: AsRef<[f64]>>(groups: &[S]) -> Result<()> {
    if groups.len() < 2 {
        return Err(AnalysisError::TooFewObservations {
            what: "groups".into(),
            min: 2,
            got: groups.len(),
        });
    }
    for (i, g) in groups.iter().enumerate() {
        check_sample(&format!("group {i}"), g.as_ref(), 2)?;
    }
    Ok(())
}

/// One-way ANOVA over `groups` (each at least 2 finite values, at least 2 groups).
///
/// Errors with [`AnalysisError::ZeroVariance`] when every group is constant (F undefined).
///
/// ```
/// use neurogen_analysis::stats::one_way_anova;
/// let r = one_way_anova(&[&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]]).unwrap();
/// assert_eq!(r.df_between, 1.0);
/// ```
pub fn one_way_anova(groups: &[&[f64]]) -> Result<Anova> {
    check_groups(groups)?;
    let k = groups.len() as f64;
    let n: usize = groups.iter().map(|g| g.len()).sum();
    let grand = groups.iter().flat_map(|g| g.iter()).sum::<f64>() / n as f64;
    let mut ss_between = 0.0;
    let mut ss_within = 0.0;
    for g in groups {
        let m = mean(g);
        ss_between += g.len() as f64 * (m - grand).powi(2);
        ss_within += g.iter().map(|x| (x - m).powi(2)).sum::<f64>();
    }
    if ss_within == 0.0 {
        return Err(AnalysisError::ZeroVariance {
            what: "one-way ANOVA (every group constant)".into(),
        });
    }
    let df_between = k - 1.0;
    let df_within = n as f64 - k;
    let ms_within = ss_within / df_within;
    let f = (ss_between / df_between) / ms_within;
    Ok(Anova {
        f,
        df_between,
        df_within,
        p: super::f_upper_p(f, df_between, df_within)?,
        ss_between,
        ss_within,
        ms_within,
    })
}
