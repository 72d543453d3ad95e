//! Two-way repeated-measures ANOVA with both factors within subjects, as used for the paper's
//! Fig. 5D (networks trained with/without neurogenesis × tested with/without the new units;
//! subjects = independent training repeats).
//!
//! With `n` subjects, factor A at `a` levels and factor B at `b` levels, and cell means
//! written with dots for averaged indices, the sums of squares are
//! `SS_A = n b Σ_i (ȳ_i·· - ȳ)^2`, `SS_B = n a Σ_j (ȳ_·j· - ȳ)^2`,
//! `SS_AB = n Σ_ij (ȳ_ij· - ȳ_i·· - ȳ_·j· + ȳ)^2`, and the error terms are the subject
//! interactions: `SS_AxS = b Σ_is (ȳ_i·s - ȳ_i·· - ȳ_··s + ȳ)^2`, `SS_BxS` likewise, and
//! `SS_ABxS = SS_total - SS_A - SS_B - SS_AB - SS_S - SS_AxS - SS_BxS`. Each effect is tested
//! against its own error term: `F_A = (SS_A / (a-1)) / (SS_AxS / ((a-1)(n-1)))`, etc. (no
//! sphericity correction; with two-level factors, as in Fig. 5D, none is needed). Matches
//! `statsmodels.stats.anova.AnovaRM`.
#![allow(clippy::needless_range_loop)] // index-based sums mirror the formulas

use serde::Serialize;

use crate::error::{check_finite, AnalysisError, Result};

/// One tested effect of a repeated-measures ANOVA.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RmEffect {
    /// Sum of squares of the effect.
    pub ss: f64,
    /// Sum of squares of its error term (effect × subject interaction).
    pub ss_error: f64,
    /// Effect (numerator) degrees of freedom.
    pub df: f64,
    /// Error (denominator) degrees of freedom.
    pub df_error: f64,
    /// F statistic.
    pub f: f64,
    /// Upper-tail p-value.
    pub p: f64,
}

/// Result of a two-way repeated-measures ANOVA.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RmAnova2 {
    /// Number of subjects.
    pub n_subjects: usize,
    /// Main effect of factor A (the middle index of the data).
    pub factor_a: RmEffect,
    /// Main effect of factor B (the innermost index of the data).
    pub factor_b: RmEffect,
    /// A × B interaction.
    pub interaction: RmEffect,
}

fn effect(name: &str, ss: f64, df: f64, ss_error: f64, df_error: f64) -> Result<RmEffect> {
    if ss_error <= 1e-12 * (ss + ss_error).max(f64::MIN_POSITIVE) {
        return Err(AnalysisError::ZeroVariance {
            what: format!("repeated-measures ANOVA error term of {name}"),
        });
    }
    let f = (ss / df) / (ss_error / df_error);
    Ok(RmEffect {
        ss,
        ss_error,
        df,
        df_error,
        f,
        p: super::f_upper_p(f, df, df_error)?,
    })
}

/// Two-way repeated-measures ANOVA; `data[s][i][j]` is subject `s` at level `i` of factor A
/// and level `j` of factor B (a full, balanced design: every subject has every cell).
///
/// Needs at least 2 subjects and 2 levels per factor, finite values, and non-zero error
/// variance for every effect.
///
/// ```
/// use neurogen_analysis::stats::rm_anova_2way;
/// let data = vec![
///     vec![vec![0.71, 0.69], vec![0.74, 0.70]],
///     vec![vec![0.68, 0.66], vec![0.73, 0.67]],
///     vec![vec![0.70, 0.70], vec![0.75, 0.71]],
/// ];
/// let r = rm_anova_2way(&data).unwrap();
/// assert_eq!(r.interaction.df, 1.0);
/// ```
pub fn rm_anova_2way(data: &[Vec<Vec<f64>>]) -> Result<RmAnova2> {
    let n = data.len();
    if n < 2 {
        return Err(AnalysisError::TooFewObservations {
            what: "repeated-measures ANOVA subjects".into(),
            min: 2,
            got: n,
        });
    }
    let a = data[0].len();
    if a < 2 {
        return Err(AnalysisError::TooFewObservations {
            what: "levels of factor A".into(),
            min: 2,
            got: a,
        });
    }
    let b = data[0][0].len();
    if b < 2 {
        return Err(AnalysisError::TooFewObservations {
            what: "levels of factor B".into(),
            min: 2,
            got: b,
        });
    }
    for (s, subj) in data.iter().enumerate() {
        if subj.len() != a {
            return Err(AnalysisError::LengthMismatch {
                what: format!("subject {s}: levels of factor A"),
                expected: a,
                got: subj.len(),
            });
        }
        for (i, row) in subj.iter().enumerate() {
            if row.len() != b {
                return Err(AnalysisError::LengthMismatch {
                    what: format!("subject {s}, A level {i}: levels of factor B"),
                    expected: b,
                    got: row.len(),
                });
            }
            check_finite(&format!("subject {s}, A level {i}"), row)?;
        }
    }
    let (nf, af, bf) = (n as f64, a as f64, b as f64);
    let y = |s: usize, i: usize, j: usize| data[s][i][j];
    let grand = data.iter().flatten().flatten().sum::<f64>() / (nf * af * bf);
    let m_a: Vec<f64> = (0..a)
        .map(|i| {
            (0..n)
                .flat_map(|s| (0..b).map(move |j| (s, j)))
                .map(|(s, j)| y(s, i, j))
                .sum::<f64>()
                / (nf * bf)
        })
        .collect();
    let m_b: Vec<f64> = (0..b)
        .map(|j| {
            (0..n)
                .flat_map(|s| (0..a).map(move |i| (s, i)))
                .map(|(s, i)| y(s, i, j))
                .sum::<f64>()
                / (nf * af)
        })
        .collect();
    let m_s: Vec<f64> = (0..n)
        .map(|s| data[s].iter().flatten().sum::<f64>() / (af * bf))
        .collect();
    let m_ab = |i: usize, j: usize| (0..n).map(|s| y(s, i, j)).sum::<f64>() / nf;
    let m_as = |i: usize, s: usize| (0..b).map(|j| y(s, i, j)).sum::<f64>() / bf;
    let m_bs = |j: usize, s: usize| (0..a).map(|i| y(s, i, j)).sum::<f64>() / af;

    let ss_total: f64 = data
        .iter()
        .flatten()
        .flatten()
        .map(|v| (v - grand).powi(2))
        .sum();
    let ss_a = nf * bf * m_a.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let ss_b = nf * af * m_b.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let ss_s = af * bf * m_s.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let mut ss_ab = 0.0;
    for i in 0..a {
        for j in 0..b {
            ss_ab += (m_ab(i, j) - m_a[i] - m_b[j] + grand).powi(2);
        }
    }
    ss_ab *= nf;
    let mut ss_as = 0.0;
    let mut ss_bs = 0.0;
    for s in 0..n {
        for i in 0..a {
            ss_as += (m_as(i, s) - m_a[i] - m_s[s] + grand).powi(2);
        }
        for j in 0..b {
            ss_bs += (m_bs(j, s) - m_b[j] - m_s[s] + grand).powi(2);
        }
    }
    ss_as *= bf;
    ss_bs *= af;
    let ss_abs = (ss_total - ss_a - ss_b - ss_ab - ss_s - ss_as - ss_bs).max(0.0);
    if ss_total == 0.0 {
        return Err(AnalysisError::ZeroVariance {
            what: "repeated-measures ANOVA (all values equal)".into(),
        });
    }
    let (dfa, dfb, dfs) = (af - 1.0, bf - 1.0, nf - 1.0);
    Ok(RmAnova2 {
        n_subjects: n,
        factor_a: effect("factor A", ss_a, dfa, ss_as, dfa * dfs)?,
        factor_b: effect("factor B", ss_b, dfb, ss_bs, dfb * dfs)?,
        interaction: effect(
            "A x B interaction",
            ss_ab,
            dfa * dfb,
            ss_abs,
            dfa * dfb * dfs,
        )?,
    })
}
