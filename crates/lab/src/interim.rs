//! Interim reports of a study on the engine: its report built from the runs recorded so far
//! (in `runs.csv` and in its shards'), while it is still training or was carried unfinished,
//! written to `DIR/interim-report.md` ([`INTERIM_REPORT_FILE`]) and never to `report.md`.
//!
//! A study's entry point runs [`crate::summary::run_and_report`]; inside [`interim`] (on the
//! same thread) that call trains nothing, takes no lock and writes no `runs.csv`: it gathers
//! the recorded rows ([`crate::schedule::recorded_runs`]), builds the study's own report from
//! them (a claim whose groups lack runs is "not testable", the claims' rule for too few runs),
//! marks it as interim ([`with_notice`]: how many of how many runs, which are still to train)
//! and writes it. So every study on the engine has an interim report without code of its own.
//! The report's plots, if it draws any, are drawn from the recorded runs into the study's
//! directory as its report would draw them (the study's run redraws them when it finishes).
//!
//! ```
//! use neurogen_lab::events::Silent;
//! use neurogen_lab::interim::{interim, INTERIM_REPORT_FILE};
//! use neurogen_lab::schedule::{run_shard, Options};
//! use neurogen_lab::summary::run_and_report;
//! # use neurogen_lab::store::{Row, RunStatus};
//! # use neurogen_lab::study::{Arm, BoxError, RunCx, RunSpec, Study};
//! # use serde::{Deserialize, Serialize};
//! # #[derive(Clone, Serialize)]
//! # struct Spec { group: String, repeat: usize }
//! # impl RunSpec for Spec {
//! #     fn group(&self) -> &str { &self.group }
//! #     fn repeat(&self) -> usize { self.repeat }
//! # }
//! # #[derive(Clone, Serialize, Deserialize)]
//! # struct Run { group: String, repeat: usize, config_hash: String, status: RunStatus }
//! # impl Row for Run {
//! #     const COLUMNS: &'static [&'static str] = &["group", "repeat", "config_hash", "status"];
//! #     neurogen_lab::row_identity!();
//! # }
//! # struct Toy;
//! # impl Study for Toy {
//! #     type Spec = Spec;
//! #     type Row = Run;
//! #     fn id(&self) -> &str { "toy" }
//! #     fn arms(&self) -> Vec<Arm<Spec>> {
//! #         ["A", "B"].iter().map(|g| Arm::new(g, g, 3, |repeat| Spec { group: g.to_string(), repeat })).collect()
//! #     }
//! #     fn run_batch(&self, _cx: &mut RunCx<'_>, batch: &[Spec]) -> Result<Vec<Run>, BoxError> {
//! #         batch.iter().map(|s| Ok(Run {
//! #             group: s.group.clone(), repeat: s.repeat, config_hash: s.hash()?, status: RunStatus::Ok,
//! #         })).collect()
//! #     }
//! # }
//! // `Toy` is a study of two arms × 3 repeats; its entry point runs it and reports.
//! fn toy_study(dir: &std::path::Path) -> Result<usize, BoxError> {
//!     let out = run_and_report(&Toy, dir, &Options::default(), &mut Silent, |rows| {
//!         Ok(format!("# Toy\n\n{} runs.\n", rows.len()))
//!     })?;
//!     Ok(out.rows.len())
//! }
//! let dir = tempfile::tempdir()?;
//! // One shard of two has run: 3 of the 6 runs are recorded.
//! run_shard(&Toy, dir.path(), &Options::default(), "1/2".parse()?, &(), &mut Silent)?;
//! let (reported, covered) = interim(|| toy_study(dir.path()));
//! assert_eq!(reported?, 3);
//! assert_eq!((covered[0].recorded, covered[0].total), (3, 6));
//! let text = std::fs::read_to_string(dir.path().join(INTERIM_REPORT_FILE))?;
//! assert!(text.starts_with("# Toy (interim: 3 of 6 runs)\n"), "{text}");
//! assert!(!dir.path().join("report.md").exists());
//! assert!(!dir.path().join("runs.csv").exists());
//! # Ok::<(), neurogen_lab::study::BoxError>(())
//! ```
use std::cell::RefCell;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The file, in a study's directory, an interim report is written to (never `report.md`).
pub const INTERIM_REPORT_FILE: &str = "interim-report.md";

/// What an interim report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The study's id.
    pub study: String,
    /// The report written ([`INTERIM_REPORT_FILE`] in the study's directory).
    pub file: PathBuf,
    /// Runs recorded so far (in `runs.csv` and the shards').
    pub recorded: usize,
    /// Runs of the whole study.
    pub total: usize,
    /// The runs still to train: each group's missing repeats, in the study's arm order
    /// (groups with none missing left out).
    pub missing: Vec<(String, Vec<usize>)>,
}

/// What can go wrong writing an interim report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InterimError {
    /// No run of the study is recorded yet, in its `runs.csv` or any shard's.
    #[error(
        "{dir}: no run of study {study} is recorded yet (no runs.csv, no shard's): there is \
         nothing to report"
    )]
    NothingRecorded {
        /// The study's id.
        study: String,
        /// The study's directory.
        dir: PathBuf,
    },
}

thread_local! {
    /// `Some` inside [`interim`]: the interim reports written so far on this thread.
    static WRITTEN: RefCell<Option<Vec<Coverage>>> = const { RefCell::new(None) };
}

/// Runs `f` with every [`crate::summary::run_and_report`] it calls on this thread in interim
/// mode (see the module documentation: nothing trained, nothing of the study's own files
/// written, the report of the recorded runs written to [`INTERIM_REPORT_FILE`]), and returns
/// `f`'s result with what each interim report written covers, in order.
pub fn interim<T>(f: impl FnOnce() -> T) -> (T, Vec<Coverage>) {
    let before = WRITTEN.with(|w| w.borrow_mut().replace(Vec::new()));
    let out = f();
    let written = WRITTEN.with(|w| std::mem::replace(&mut *w.borrow_mut(), before));
    (out, written.unwrap_or_default())
}

/// Whether this thread is inside [`interim`] (so a study's run writes an interim report, not
/// its `report.md`).
pub fn active() -> bool {
    WRITTEN.with(|w| w.borrow().is_some())
}

/// Notes that an interim report was written (inside [`interim`]).
pub(crate) fn note(c: Coverage) {
    WRITTEN.with(|w| {
        if let Some(v) = w.borrow_mut().as_mut() {
            v.push(c);
        }
    });
}

/// `report` (a study's markdown report of the runs `c` covers) marked as interim: its title
/// line (`# ...`, if it starts with one) ends with "(interim: K of N runs)", and the notice
/// ([`notice`]) follows it.
///
/// ```
/// use neurogen_lab::interim::{with_notice, Coverage};
///
/// let c = Coverage {
///     study: "toy".into(),
///     file: "out/toy/interim-report.md".into(),
///     recorded: 4,
///     total: 6,
///     missing: vec![("B".into(), vec![1, 2])],
/// };
/// let text = with_notice("# Toy\n\nA table.\n", &c);
/// assert!(text.starts_with("# Toy (interim: 4 of 6 runs)\n\n**Interim report: 4 of 6 runs"));
/// assert!(text.contains("Still to train:\n- B: r1–r2\n\nA table.\n"), "{text}");
/// ```
pub fn with_notice(report: &str, c: &Coverage) -> String {
    let notice = notice(c);
    match report.strip_prefix("# ") {
        Some(rest) => {
            let (title, body) = rest.split_once('\n').unwrap_or((rest, ""));
            format!(
                "# {title} (interim: {} of {} runs)\n\n{notice}\n{}",
                c.recorded,
                c.total,
                body.strip_prefix('\n').map_or(body, |b| b)
            )
        }
        None => format!("{notice}\n{report}"),
    }
}

/// The notice at the top of an interim report: how many runs of how many it covers, that its
/// verdicts will change, and which runs are still to train (or that none is, and how to get
/// the study's own report).
pub fn notice(c: &Coverage) -> String {
    let mut s = format!(
        "**Interim report: {} of {} runs recorded; not a result.** The study is still \
         training (or was carried unfinished). Every table, test and verdict below uses only \
         the runs recorded so far, so they will change as runs finish; a claim whose groups \
         have too few runs is \"not testable\". The study's report is written to `report.md` \
         when every run is in.",
        c.recorded, c.total
    );
    if c.missing.is_empty() {
        s.push_str(
            " Every run is now recorded: rerun the study's command (it trains nothing more; \
             `reproduce merge` for a sharded study) to write its report.",
        );
    } else {
        s.push_str("\n\nStill to train:");
        for (group, repeats) in &c.missing {
            let _ = write!(s, "\n- {group}: {}", repeat_ranges(repeats));
        }
    }
    s.push('\n');
    s
}

/// Repeat indices (sorted) as ranges: `[0, 1, 2, 5]` → "r0–r2, r5" (how reports name the runs
/// still to train).
pub fn repeat_ranges(repeats: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < repeats.len() {
        let mut j = i;
        while j + 1 < repeats.len() && repeats[j + 1] == repeats[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            format!("r{}", repeats[i])
        } else {
            format!("r{}–r{}", repeats[i], repeats[j])
        });
        i = j + 1;
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_read_as_ranges() {
        assert_eq!(repeat_ranges(&[0, 1, 2, 5]), "r0–r2, r5");
        assert_eq!(repeat_ranges(&[3]), "r3");
        assert_eq!(repeat_ranges(&[]), "");
    }

    #[test]
    fn a_report_without_a_title_gets_the_notice_first() {
        let c = Coverage {
            study: "toy".into(),
            file: PathBuf::from("x"),
            recorded: 6,
            total: 6,
            missing: vec![],
        };
        let text = with_notice("A table.\n", &c);
        assert!(
            text.starts_with("**Interim report: 6 of 6 runs recorded"),
            "{text}"
        );
        assert!(text.contains("Every run is now recorded"), "{text}");
        assert!(text.ends_with("\nA table.\n"), "{text}");
    }

    #[test]
    fn interim_mode_is_scoped_to_its_closure() {
        assert!(!active());
        let ((), inner) = interim(|| {
            assert!(active());
            let ((), nested) = interim(|| {
                note(Coverage {
                    study: "nested".into(),
                    file: PathBuf::new(),
                    recorded: 1,
                    total: 2,
                    missing: vec![],
                })
            });
            assert_eq!(nested.len(), 1);
            assert!(active());
        });
        assert!(inner.is_empty());
        assert!(!active());
        // Outside interim mode nothing is noted.
        note(Coverage {
            study: "x".into(),
            file: PathBuf::new(),
            recorded: 0,
            total: 0,
            missing: vec![],
        });
        assert!(!active());
    }
}
