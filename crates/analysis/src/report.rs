//! Group comparison of any results CSV (behind `cargo xtask analyze`): one-way ANOVA, Tukey's
//! HSD (alpha = 0.05) and pairwise Welch t-tests (unadjusted) of a numeric value column
//! grouped by another column, as used to compare regularisers across training repeats.
//! Groups are sorted by name.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::error::{AnalysisError, Result};
use crate::stats::{
    one_way_anova, summarize, tukey_hsd, welch_t_test, Anova, Summary, TTest, TukeyPair,
};

/// Family-wise error rate used for Tukey's HSD in [`analyze_csv`].
pub const ALPHA: f64 = 0.05;

/// Descriptive statistics of one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupSummary {
    /// Group name (the value of the group column).
    pub name: String,
    /// Mean, SD, SEM, 95 % CI.
    pub summary: Summary,
}

/// A Welch t-test between two named groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairwiseWelch {
    /// First group.
    pub group_a: String,
    /// Second group.
    pub group_b: String,
    /// Test of `a` against `b`.
    pub test: TTest,
}

/// Full comparison of the groups of a CSV file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupAnalysis {
    /// The analysed value column.
    pub value_column: String,
    /// The grouping column.
    pub group_column: String,
    /// Per-group summaries, sorted by name.
    pub groups: Vec<GroupSummary>,
    /// One-way ANOVA over all groups.
    pub anova: Anova,
    /// Tukey's HSD for every pair (alpha = [`ALPHA`]).
    pub tukey: Vec<TukeyPair>,
    /// Welch t-tests for every pair (not adjusted for multiple comparisons).
    pub welch: Vec<PairwiseWelch>,
}

/// Reads `path` (a CSV file with a header row) and compares the `value_col` values between the
/// groups named in `group_col`.
///
/// Errors name the problem: a missing file, a missing column (listing the columns that exist),
/// a value that is not a finite number (naming its row), fewer than 2 groups or a group with
/// fewer than 2 values.
pub fn analyze_csv(path: &Path, value_col: &str, group_col: &str) -> Result<GroupAnalysis> {
    let file = std::fs::File::open(path).map_err(|source| AnalysisError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let csv_err = |source| AnalysisError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(file);
    let headers = reader.headers().map_err(csv_err)?.clone();
    let find = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| AnalysisError::MissingColumn {
                path: path.to_path_buf(),
                column: name.to_string(),
                available: headers.iter().map(str::to_string).collect(),
            })
    };
    let (vi, gi) = (find(value_col)?, find(group_col)?);
    let mut groups: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(csv_err)?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let cell = record.get(vi).unwrap_or("");
        let value = cell
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| AnalysisError::NonNumeric {
                path: path.to_path_buf(),
                row: row + 1,
                line,
                column: value_col.to_string(),
                value: cell.to_string(),
            })?;
        let group = record.get(gi).unwrap_or("").to_string();
        groups.entry(group).or_default().push(value);
    }
    if groups.len() < 2 {
        return Err(AnalysisError::TooFewObservations {
            what: format!(
                "{}: groups in column {group_col:?} (found {:?})",
                path.display(),
                groups.keys().collect::<Vec<_>>()
            ),
            min: 2,
            got: groups.len(),
        });
    }
    for (name, values) in &groups {
        if values.len() < 2 {
            return Err(AnalysisError::TooFewObservations {
                what: format!("{}: group {name:?}", path.display()),
                min: 2,
                got: values.len(),
            });
        }
    }
    let named: Vec<(&str, &[f64])> = groups
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    let data: Vec<&[f64]> = named.iter().map(|g| g.1).collect();
    let anova = one_way_anova(&data)?;
    let tukey = tukey_hsd(&named, ALPHA)?;
    let mut welch = Vec::new();
    for i in 0..named.len() {
        for j in i + 1..named.len() {
            welch.push(PairwiseWelch {
                group_a: named[i].0.to_string(),
                group_b: named[j].0.to_string(),
                test: welch_t_test(named[i].1, named[j].1)?,
            });
        }
    }
    let groups = named
        .iter()
        .map(|(name, v)| {
            Ok(GroupSummary {
                name: name.to_string(),
                summary: summarize(v)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(GroupAnalysis {
        value_column: value_col.to_string(),
        group_column: group_col.to_string(),
        groups,
        anova,
        tukey,
        welch,
    })
}

fn fmt_p(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

impl GroupAnalysis {
    /// Plain-text tables: group summaries, the ANOVA line, Tukey's HSD and Welch tests.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let w = self
            .groups
            .iter()
            .map(|g| g.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let _ = writeln!(s, "{} by {}", self.value_column, self.group_column);
        let _ = writeln!(
            s,
            "\n{:<w$}  {:>4}  {:>10}  {:>10}  {:>10}  {:>23}",
            "group", "n", "mean", "sd", "sem", "95% CI"
        );
        for g in &self.groups {
            let m = &g.summary;
            let _ = writeln!(
                s,
                "{:<w$}  {:>4}  {:>10.4}  {:>10.4}  {:>10.4}  [{:>10.4}, {:>10.4}]",
                g.name, m.n, m.mean, m.sd, m.sem, m.ci95.0, m.ci95.1
            );
        }
        let a = &self.anova;
        let _ = writeln!(
            s,
            "\nOne-way ANOVA: F({}, {}) = {:.4}, p = {}",
            a.df_between,
            a.df_within,
            a.f,
            fmt_p(a.p)
        );
        let pw = 2 * w + 4;
        let _ = writeln!(s, "\nTukey HSD (alpha = {ALPHA})");
        let _ = writeln!(
            s,
            "{:<pw$}  {:>10}  {:>8}  {:>10}  {:>23}  reject",
            "pair", "diff", "q", "p-adj", "95% CI"
        );
        for t in &self.tukey {
            let pair = format!("{} - {}", t.group_a, t.group_b);
            let _ = writeln!(
                s,
                "{:<pw$}  {:>10.4}  {:>8.4}  {:>10}  [{:>10.4}, {:>10.4}]  {}",
                pair,
                t.mean_diff,
                t.q,
                fmt_p(t.p_adj),
                t.ci_low,
                t.ci_high,
                t.reject
            );
        }
        let _ = writeln!(s, "\nWelch t-tests (unadjusted)");
        let _ = writeln!(
            s,
            "{:<pw$}  {:>10}  {:>8}  {:>8}  {:>10}",
            "pair", "diff", "t", "df", "p"
        );
        for t in &self.welch {
            let pair = format!("{} - {}", t.group_a, t.group_b);
            let _ = writeln!(
                s,
                "{:<pw$}  {:>10.4}  {:>8.4}  {:>8.3}  {:>10}",
                pair,
                t.test.mean_diff,
                t.test.t,
                t.test.df,
                fmt_p(t.test.p)
            );
        }
        s
    }
}
