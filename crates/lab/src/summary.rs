//! What a study's rows sum up to: each value of each group gathered from the runs that
//! finished, both as the claims' samples and as the report's mean ± SD tables ([`Summary`]);
//! the line naming the failed runs ([`failed_runs`]); and running a study then writing its
//! report ([`run_and_report`]).
//!
//! A study describes each measure once with a [`Value`], says how to read it from a row, and
//! lets [`Summary`] do the filtering (runs that finished, in the study's groups), the
//! bookkeeping by repeat and the tables.
//!
//! ```
//! use neurogen_lab::claims::{decide, Claim, Expect, Value};
//! use neurogen_lab::report::Report;
//! use neurogen_lab::store::{Row, RunStatus};
//! use neurogen_lab::summary::{failed_runs, Summary};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Clone, Serialize, Deserialize)]
//! struct Run {
//!     group: String,
//!     repeat: usize,
//!     config_hash: String,
//!     status: RunStatus,
//!     score: Option<f64>,
//!     message: String,
//! }
//! impl Row for Run {
//!     const COLUMNS: &'static [&'static str] =
//!         &["group", "repeat", "config_hash", "status", "score", "message"];
//!     neurogen_lab::row_identity!();
//! }
//! let run = |group: &str, repeat, score| Run {
//!     group: group.into(),
//!     repeat,
//!     config_hash: "0".into(),
//!     status: RunStatus::Ok,
//!     score: Some(score),
//!     message: String::new(),
//! };
//! let mut rows = vec![run("a", 0, 0.9), run("a", 1, 0.8), run("b", 0, 0.4), run("b", 1, 0.5)];
//! rows.push(Run { status: RunStatus::Failed, score: None, message: "diverged".into(), ..run("b", 2, 0.0) });
//!
//! const SCORE: Value = Value::new("score", "score", "", 2, true);
//! let mut summary = Summary::new();
//! summary.tabulate(&[SCORE], &["a", "b"], &rows, |r: &Run, _| r.score)?;
//! let claims = [Claim::welch("a scores higher than b", "difference {d}", SCORE, "a", "b", Expect::Better)];
//!
//! let mut rep = Report::new("A toy study");
//! if let Some(line) = failed_runs(&rows, |r| &r.message) {
//!     rep.para(&line);
//! }
//! summary.write_tables(&mut rep);
//! rep.add_claims(decide(summary.samples(), &claims, vec![])?);
//! let md = rep.finish();
//! assert!(md.contains("Failed runs, left out of every table and test: b r2 (diverged)."));
//! assert!(md.contains("| b | 2 | 0.45 |"), "{md}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
use std::path::Path;

use crate::claims::{ClaimError, Samples, Value};
use crate::events::Observer;
use crate::interim;
use crate::report::Report;
use crate::schedule::{recorded_runs, run_study, Options};
use crate::store::{Row, RunStatus};
use crate::study::{BoxError, Study};

/// Each group's values of one measure: (display name, values in the rows' order).
pub type GroupValues = Vec<(String, Vec<f64>)>;

/// The values a study's report reads: every recorded (value, group) as the claims' samples,
/// and the tables of mean ± SD per group the report shows, in the order they were added.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    samples: Samples,
    tables: Vec<(Value, GroupValues)>,
}

impl Summary {
    /// Nothing recorded yet.
    pub fn new() -> Summary {
        Summary::default()
    }

    /// Records `value` of each group of `groups` for the claims: the rows of that group that
    /// finished ([`RunStatus::Ok`]) and whose `measure` is some, by repeat. Returns each
    /// group's values in the rows' order, for a table or a study's own use; adds no table.
    /// Fails on a non-finite measure or a repeat recorded twice in one group.
    pub fn record<R: Row, G: AsRef<str>>(
        &mut self,
        value: Value,
        groups: &[G],
        rows: &[R],
        measure: impl Fn(&R, Value) -> Option<f64>,
    ) -> Result<GroupValues, ClaimError> {
        let mut out = Vec::with_capacity(groups.len());
        for group in groups {
            let name = group.as_ref();
            let xs: Vec<(usize, f64)> = rows
                .iter()
                .filter(|r| r.group() == name && r.status() == RunStatus::Ok)
                .filter_map(|r| measure(r, value).map(|x| (r.repeat(), x)))
                .collect();
            self.samples.set(value, name, &xs)?;
            out.push((name.to_string(), xs.into_iter().map(|(_, x)| x).collect()));
        }
        Ok(out)
    }

    /// Records each of `values` of each group of `groups` ([`Summary::record`]) and adds a
    /// table of each, in order.
    pub fn tabulate<R: Row, G: AsRef<str>>(
        &mut self,
        values: &[Value],
        groups: &[G],
        rows: &[R],
        measure: impl Fn(&R, Value) -> Option<f64>,
    ) -> Result<(), ClaimError> {
        for &value in values {
            let groups = self.record(value, groups, rows, &measure)?;
            self.add_table(value, groups);
        }
        Ok(())
    }

    /// Adds a table of `value` over `groups` (display name, values); a value tabled already
    /// is not tabled twice.
    pub fn add_table(&mut self, value: Value, groups: GroupValues) {
        if !self.tables.iter().any(|(v, _)| *v == value) {
            self.tables.push((value, groups));
        }
    }

    /// The tables added so far, in order: (value, each group's values).
    pub fn tables(&self) -> &[(Value, GroupValues)] {
        &self.tables
    }

    /// The groups' values of the table of `value`, if there is one.
    pub fn table(&self, value: Value) -> Option<&GroupValues> {
        self.tables
            .iter()
            .find(|(v, _)| *v == value)
            .map(|(_, g)| g)
    }

    /// The recorded samples, for [`crate::claims::decide`].
    pub fn samples(&self) -> &Samples {
        &self.samples
    }

    /// The recorded samples, for a study that records values of its own (e.g. from files
    /// its runs saved).
    pub fn samples_mut(&mut self) -> &mut Samples {
        &mut self.samples
    }

    /// Writes every table, in order ([`Report::summary_table`], headed by the value's short
    /// label).
    pub fn write_tables(&self, rep: &mut Report) {
        for (value, groups) in &self.tables {
            rep.summary_table(value.short, groups);
        }
    }
}

/// The paragraph naming the runs that failed (`GROUP rREPEAT (MESSAGE)`, in the rows'
/// order), which every table and test leaves out; `None` when every run finished.
pub fn failed_runs<R: Row>(rows: &[R], message: impl Fn(&R) -> &str) -> Option<String> {
    let failed: Vec<String> = rows
        .iter()
        .filter(|r| r.status() != RunStatus::Ok)
        .map(|r| format!("{} r{} ({})", r.group(), r.repeat(), message(r)))
        .collect();
    (!failed.is_empty()).then(|| {
        format!(
            "Failed runs, left out of every table and test: {}.",
            failed.join("; ")
        )
    })
}

/// What [`run_and_report`] produced.
#[derive(Debug, Clone)]
pub struct Outcome<R> {
    /// Every run's row.
    pub rows: Vec<R>,
    /// The report, also written to `DIR/report.md`.
    pub report: String,
}

/// Runs `study` into `dir` ([`run_study`]: resuming what is recorded there), builds the
/// report from every row with `report` (which may also write the report's figures into
/// `dir`), and writes it to `dir/report.md` atomically.
///
/// Inside [`crate::interim::interim`] it trains nothing instead: the report is built from the
/// runs recorded so far ([`recorded_runs`], which takes no lock and writes nothing), marked
/// as interim ([`crate::interim::with_notice`]) and written to `dir/interim-report.md`
/// ([`crate::interim::INTERIM_REPORT_FILE`]); the outcome holds those rows and that text.
/// With no run recorded yet it is refused ([`crate::interim::InterimError::NothingRecorded`]).
pub fn run_and_report<S: Study>(
    study: &S,
    dir: &Path,
    opts: &Options,
    observer: &mut dyn Observer,
    report: impl FnOnce(&[S::Row]) -> Result<String, BoxError>,
) -> Result<Outcome<S::Row>, BoxError> {
    if interim::active() {
        return interim_report(study, dir, opts, report);
    }
    let rows = run_study(study, dir, opts, observer)?;
    let report = report(&rows)?;
    neurogen_io::write_atomic(&dir.join("report.md"), report.as_bytes())?;
    Ok(Outcome { rows, report })
}

/// [`run_and_report`] inside [`crate::interim::interim`].
fn interim_report<S: Study>(
    study: &S,
    dir: &Path,
    opts: &Options,
    report: impl FnOnce(&[S::Row]) -> Result<String, BoxError>,
) -> Result<Outcome<S::Row>, BoxError> {
    let rec = recorded_runs(study, dir, opts)?;
    if rec.rows.is_empty() {
        return Err(interim::InterimError::NothingRecorded {
            study: study.id().to_string(),
            dir: dir.to_path_buf(),
        }
        .into());
    }
    let file = dir.join(interim::INTERIM_REPORT_FILE);
    let coverage = interim::Coverage {
        study: study.id().to_string(),
        file: file.clone(),
        recorded: rec.rows.len(),
        total: rec.total,
        missing: rec.missing,
    };
    let text = interim::with_notice(&report(&rec.rows)?, &coverage);
    neurogen_io::write_atomic(&file, text.as_bytes())?;
    interim::note(coverage);
    Ok(Outcome {
        rows: rec.rows,
        report: text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Observations;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct Toy {
        group: String,
        repeat: usize,
        config_hash: String,
        status: RunStatus,
        a: Option<f64>,
        b: Option<f64>,
        message: String,
    }

    impl Row for Toy {
        const COLUMNS: &'static [&'static str] = &[
            "group",
            "repeat",
            "config_hash",
            "status",
            "a",
            "b",
            "message",
        ];
        crate::row_identity!();
    }

    const A: Value = Value::new("a", "a", "", 2, true);
    const B: Value = Value::new("b", "b", "", 2, true);

    fn toy(group: &str, repeat: usize, a: f64, b: Option<f64>) -> Toy {
        Toy {
            group: group.into(),
            repeat,
            config_hash: "0".into(),
            status: RunStatus::Ok,
            a: Some(a),
            b,
            message: String::new(),
        }
    }

    fn measure(r: &Toy, v: Value) -> Option<f64> {
        match v.key {
            "a" => r.a,
            _ => r.b,
        }
    }

    /// Only finished rows of the named groups count, in the rows' order, keyed by repeat; a
    /// row without the measure is left out of that measure alone.
    #[test]
    fn records_the_finished_rows_of_each_group() {
        let rows = vec![
            toy("x", 1, 2.0, Some(1.0)),
            toy("x", 0, 4.0, None),
            toy("y", 0, 8.0, Some(3.0)),
            toy("z", 0, 16.0, Some(5.0)),
            Toy {
                status: RunStatus::Failed,
                ..toy("x", 2, 32.0, Some(7.0))
            },
        ];
        let mut s = Summary::new();
        let a = s.record(A, &["x", "y"], &rows, measure).unwrap();
        assert_eq!(
            a,
            vec![
                ("x".to_string(), vec![2.0, 4.0]),
                ("y".to_string(), vec![8.0])
            ]
        );
        assert!(s.tables().is_empty());
        assert_eq!(s.samples().values(A, "x"), [4.0, 2.0]);
        assert!(s.samples().values(A, "z").is_empty());
        s.tabulate(&[B, A], &["x".to_string()], &rows, measure)
            .unwrap();
        assert_eq!(s.tables().len(), 2);
        assert_eq!(s.tables()[0].0, B);
        assert_eq!(s.table(B).unwrap(), &vec![("x".to_string(), vec![1.0])]);
        // Tabling a value again keeps the first table.
        s.add_table(B, vec![]);
        assert_eq!(s.tables().len(), 2);
        assert_eq!(s.table(B).unwrap().len(), 1);
        let mut rep = Report::new("t");
        s.write_tables(&mut rep);
        let md = rep.finish();
        assert!(md.contains("| x | 1 | 1.00 |"), "{md}");
        assert!(md.contains("| x | 2 | 3.00 |"), "{md}");
    }

    #[test]
    fn a_non_finite_measure_or_a_repeat_twice_is_refused() {
        let rows = vec![toy("x", 0, f64::NAN, None)];
        let e = Summary::new()
            .record(A, &["x"], &rows, measure)
            .unwrap_err();
        assert!(matches!(e, ClaimError::NonFinite { .. }), "{e}");
        let rows = vec![toy("x", 0, 1.0, None), toy("x", 0, 2.0, None)];
        let e = Summary::new()
            .record(A, &["x"], &rows, measure)
            .unwrap_err();
        assert!(matches!(e, ClaimError::DuplicateRepeat { .. }), "{e}");
    }

    #[test]
    fn failed_runs_are_named_in_order() {
        let mut rows = vec![toy("x", 0, 1.0, None)];
        assert_eq!(failed_runs(&rows, |r| &r.message), None);
        for (g, r, m) in [("y", 3, "diverged"), ("x", 1, "NaN loss")] {
            rows.push(Toy {
                status: RunStatus::Failed,
                message: m.into(),
                ..toy(g, r, 0.0, None)
            });
        }
        assert_eq!(
            failed_runs(&rows, |r| &r.message).unwrap(),
            "Failed runs, left out of every table and test: y r3 (diverged); x r1 (NaN loss)."
        );
    }
}
