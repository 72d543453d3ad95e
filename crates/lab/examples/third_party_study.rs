//! A study that is not one of neurogen's, on the engine: a Monte-Carlo estimate of π with two
//! sample sizes, eight repeats each. It has its own run spec, its own `runs.csv` row and its own
//! metric (the absolute error, lower is better); the engine gives it the resumable run store,
//! the schedule, progress events, the claim (more samples, a smaller error: Welch's test as the
//! claim's test, and the paired test by repeat with Holm beside it) and the report. It is what a
//! user who depends on `neurogen-lab` writes for a study of their own (docs/adding-a-study.md).
//!
//! ```sh
//! cargo run -p neurogen-lab --example third_party_study -- [OUT_DIR]
//! ```
//! Without an argument it writes into a temporary directory. Run it twice on one directory: the
//! second call finds every run recorded and trains nothing.
use std::path::{Path, PathBuf};

use neurogen_lab::claims::{decide, Claim, Expect, Value, Verdict};
use neurogen_lab::events::{duration, Event, Observer};
use neurogen_lab::report::Report;
use neurogen_lab::schedule::{run_study, Options};
use neurogen_lab::store::{Row, RunStatus};
use neurogen_lab::study::{Arm, BoxError, RunCx, RunSpec, Study};
use neurogen_lab::summary::Summary;
use serde::{Deserialize, Serialize};

fn main() -> Result<(), BoxError> {
    let tmp = tempfile::tempdir()?;
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("pi"));
    let out = run(&dir, &mut Lines)?;
    println!("{}", out.report);
    Ok(())
}

/// What one run of the study depends on: everything here is hashed into its resume key.
#[derive(Debug, Clone, Serialize)]
pub struct PiSpec {
    /// The arm's display name.
    pub group: String,
    /// The repeat, also the seed.
    pub repeat: usize,
    /// Points drawn in the unit square.
    pub samples: u64,
}

impl RunSpec for PiSpec {
    fn group(&self) -> &str {
        &self.group
    }
    fn repeat(&self) -> usize {
        self.repeat
    }
}

/// One line of this study's `runs.csv`: its own columns, with what the engine reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PiRow {
    /// The arm's display name.
    pub group: String,
    /// The repeat.
    pub repeat: usize,
    /// The spec's configuration hash.
    pub config_hash: String,
    /// `ok` or `failed`.
    pub status: RunStatus,
    /// Points drawn.
    pub samples: u64,
    /// The estimate of π.
    pub estimate: f64,
    /// `|estimate - π|`.
    pub abs_error: f64,
}

impl Row for PiRow {
    const COLUMNS: &'static [&'static str] = &[
        "group",
        "repeat",
        "config_hash",
        "status",
        "samples",
        "estimate",
        "abs_error",
    ];
    const WRITTEN_BY: &'static str = "the π study";
    // `group`, `repeat`, `config_hash` and `status` read the fields of those names.
    neurogen_lab::row_identity!();
    fn summary(&self) -> String {
        format!(
            "{} r{}: π ≈ {:.4} (error {:.4})",
            self.group, self.repeat, self.estimate, self.abs_error
        )
    }
}

/// The study: two arms, `REPEATS` repeats each.
pub struct PiStudy {
    /// Sample sizes of the two arms (few, many).
    pub sizes: [u64; 2],
}

/// Repeats per arm.
pub const REPEATS: usize = 8;

impl Study for PiStudy {
    type Spec = PiSpec;
    type Row = PiRow;

    fn id(&self) -> &str {
        "pi"
    }

    fn arms(&self) -> Vec<Arm<PiSpec>> {
        [
            ("few", "Few samples", self.sizes[0]),
            ("many", "Many samples", self.sizes[1]),
        ]
        .into_iter()
        .map(|(key, name, samples)| {
            Arm::new(key, name, REPEATS, |repeat| PiSpec {
                group: name.into(),
                repeat,
                samples,
            })
        })
        .collect()
    }

    // The default batch class (one arm's repeats together) suits this study: a batch is simply
    // a loop here; a study that trains networks stacks a batch into one model.
    fn run_batch(&self, _cx: &mut RunCx<'_>, batch: &[PiSpec]) -> Result<Vec<PiRow>, BoxError> {
        batch
            .iter()
            .map(|s| {
                let estimate = estimate_pi(s.samples, s.repeat as u64);
                Ok(PiRow {
                    group: s.group.clone(),
                    repeat: s.repeat,
                    config_hash: s.hash()?,
                    status: RunStatus::Ok,
                    samples: s.samples,
                    estimate,
                    abs_error: (estimate - std::f64::consts::PI).abs(),
                })
            })
            .collect()
    }
}

/// 4 × the fraction of `samples` points of the unit square inside the quarter disc, the points
/// drawn by a splitmix64 generator seeded with `seed`.
fn estimate_pi(samples: u64, seed: u64) -> f64 {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut uniform = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let inside = (0..samples)
        .filter(|_| {
            let (x, y) = (uniform(), uniform());
            x * x + y * y <= 1.0
        })
        .count();
    4.0 * inside as f64 / samples as f64
}

/// What a run of the example produced.
pub struct Outcome {
    /// Every run's row.
    pub rows: Vec<PiRow>,
    /// Runs trained by this call (0 when everything was recorded before).
    pub trained: usize,
    /// Whether the claim held.
    pub claim_holds: bool,
    /// The report, also written to `DIR/report.md`.
    pub report: String,
}

/// Runs the study into `dir` (resuming what is recorded there), tests its claim and writes
/// `report.md` beside `runs.csv`.
pub fn run(dir: &Path, observer: &mut dyn Observer) -> Result<Outcome, BoxError> {
    let study = PiStudy {
        sizes: [100, 10_000],
    };
    let mut counting = Counting {
        inner: observer,
        trained: 0,
    };
    let rows = run_study(&study, dir, &Options { max_batch: 4 }, &mut counting)?;
    let trained = counting.trained;

    // The study's metric, declared once: the engine's claims and report read it by key.
    const ABS_ERROR: Value = Value::new("abs_error", "absolute error", "", 4, false);
    // Each arm's finished runs, for the claims (by repeat) and the report's table.
    let names: Vec<String> = study.arms().into_iter().map(|a| a.name).collect();
    let mut summary = Summary::new();
    summary.tabulate(&[ABS_ERROR], &names, &rows, |r: &PiRow, _| {
        Some(r.abs_error)
    })?;
    // The claim, in its own direction: the many-sample arm is better (lower error).
    let claims = vec![Claim::welch(
        "More samples give a smaller error",
        "difference {d}",
        ABS_ERROR,
        "Many samples",
        "Few samples",
        Expect::Better,
    )];
    let decided = decide(summary.samples(), &claims, vec![])?;
    let claim_holds = decided.iter().all(|(_, f)| f.verdict == Verdict::Holds);

    let mut rep = Report::new("A Monte-Carlo estimate of π");
    rep.para(&format!(
        "Two arms of {REPEATS} repeats: {} and {} points in the unit square.",
        study.sizes[0], study.sizes[1]
    ));
    summary.write_tables(&mut rep);
    rep.add_claims(decided);
    let report = rep.finish();
    neurogen_io::write_atomic(&dir.join("report.md"), report.as_bytes())?;
    Ok(Outcome {
        rows,
        trained,
        claim_holds,
        report,
    })
}

/// Prints the engine's events as lines, as a command line would.
pub struct Lines;

impl Observer for Lines {
    fn event(&mut self, event: &Event) {
        match event {
            Event::Started {
                file,
                total,
                recorded,
            } if *recorded > 0 => {
                eprintln!(
                    "resuming: {recorded} of {total} runs recorded in {}",
                    file.display()
                )
            }
            Event::BatchRecorded {
                recorded,
                total,
                seconds_left,
                summaries,
                ..
            } => {
                let eta =
                    seconds_left.map_or(String::new(), |s| format!(", about {} left", duration(s)));
                for s in summaries {
                    eprintln!("{s} ({recorded} of {total} runs recorded{eta})");
                }
            }
            _ => {}
        }
    }
}

/// Passes events on and counts the runs trained.
struct Counting<'a> {
    inner: &'a mut dyn Observer,
    trained: usize,
}

impl Observer for Counting<'_> {
    fn event(&mut self, event: &Event) {
        if let Event::BatchRecorded { runs, .. } = event {
            self.trained += runs;
        }
        self.inner.event(event);
    }
}
