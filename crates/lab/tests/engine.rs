//! The engine on a toy study that needs no model and no data: resuming, refusals (damaged file,
//! unknown header, changed configuration, a held lock), batch classes, events and the
//! configuration hash. Each test takes milliseconds.
use std::cell::RefCell;
use std::path::Path;

use neurogen_lab::events::{Event, Recorder, Silent};
use neurogen_lab::schedule::{batches, repeat_major, run_study, Options, RunError};
use neurogen_lab::store::{read_rows, Row, RunStatus, RunStore, StoreError};
use neurogen_lab::study::{Arm, BoxError, RunCx, RunSpec, Study};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
struct Spec {
    group: String,
    repeat: usize,
    steps: usize,
    rate: f64,
}

impl RunSpec for Spec {
    fn group(&self) -> &str {
        &self.group
    }
    fn repeat(&self) -> usize {
        self.repeat
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Run {
    group: String,
    repeat: usize,
    config_hash: String,
    status: RunStatus,
    value: Option<f64>,
    #[serde(default = "one")]
    batch: usize,
}

fn one() -> usize {
    1
}

impl Row for Run {
    const COLUMNS: &'static [&'static str] =
        &["group", "repeat", "config_hash", "status", "value", "batch"];
    const WRITTEN_BY: &'static str = "the toy study";
    fn older_columns() -> Vec<&'static [&'static str]> {
        vec![&Self::COLUMNS[..5]]
    }
    neurogen_lab::row_identity!();
}

/// Three arms; "Slow" trains with another rate, so it is a batch class of its own when
/// `mix` is on. Runs are "trained" by arithmetic; every batch trained is logged.
struct Toy {
    repeats: usize,
    steps: usize,
    mix: bool,
    /// Fail the batch that holds this (group, repeat).
    fail_at: Option<(&'static str, usize)>,
    trained: RefCell<Vec<Vec<(String, usize)>>>,
}

impl Toy {
    fn new(repeats: usize) -> Toy {
        Toy {
            repeats,
            steps: 3,
            mix: false,
            fail_at: None,
            trained: RefCell::new(Vec::new()),
        }
    }

    fn trained_runs(&self) -> usize {
        self.trained.borrow().iter().map(Vec::len).sum()
    }
}

impl Study for Toy {
    type Spec = Spec;
    type Row = Run;

    fn id(&self) -> &str {
        "toy"
    }

    fn arms(&self) -> Vec<Arm<Spec>> {
        [
            ("a", "Control", 0.5),
            ("b", "Noisy", 0.5),
            ("s", "Slow", 0.1),
        ]
        .into_iter()
        .map(|(key, name, rate)| {
            Arm::new(key, name, self.repeats, |repeat| Spec {
                group: name.into(),
                repeat,
                steps: self.steps,
                rate,
            })
        })
        .collect()
    }

    fn batch_class(&self, spec: &Spec) -> Result<String, BoxError> {
        Ok(if self.mix {
            format!("rate {}", spec.rate)
        } else {
            spec.group.clone()
        })
    }

    fn run_batch(&self, cx: &mut RunCx<'_>, batch: &[Spec]) -> Result<Vec<Run>, BoxError> {
        if let Some((g, r)) = self.fail_at {
            if batch.iter().any(|s| s.group == g && s.repeat == r) {
                return Err(format!("{g} r{r} crashed").into());
            }
        }
        cx.note(format!("training {} runs", batch.len()));
        self.trained
            .borrow_mut()
            .push(batch.iter().map(|s| (s.group.clone(), s.repeat)).collect());
        batch
            .iter()
            .map(|s| {
                Ok(Run {
                    group: s.group.clone(),
                    repeat: s.repeat,
                    config_hash: s.hash()?,
                    status: RunStatus::Ok,
                    value: Some(s.rate * (s.steps + s.repeat) as f64),
                    batch: batch.len(),
                })
            })
            .collect()
    }
}

fn opts(max_batch: usize) -> Options {
    Options { max_batch }
}

#[test]
fn a_partial_run_resumes_with_only_the_runs_left() {
    let dir = tempfile::tempdir().unwrap();
    let mut crashing = Toy::new(3);
    // Repeat-major, one run per batch: Control r0, Noisy r0, Slow r0, Control r1, ...
    crashing.fail_at = Some(("Noisy", 1));
    let err = run_study(&crashing, dir.path(), &opts(1), &mut Silent).unwrap_err();
    assert!(matches!(err, RunError::Batch { .. }), "{err}");
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert_eq!(cause, "Noisy r1 crashed");
    assert_eq!(err.to_string(), "training Noisy r1 failed");
    // The batches before the crash are recorded.
    assert_eq!(crashing.trained_runs(), 4);
    let store = RunStore::new(dir.path());
    assert_eq!(store.read::<Run>().unwrap().len(), 4);

    let toy = Toy::new(3);
    let rows = run_study(&toy, dir.path(), &opts(1), &mut Silent).unwrap();
    assert_eq!(toy.trained_runs(), 5, "only the 5 runs left are trained");
    assert_eq!(rows.len(), 9);
    let again = Toy::new(3);
    assert_eq!(
        run_study(&again, dir.path(), &opts(1), &mut Silent).unwrap(),
        rows
    );
    assert_eq!(again.trained_runs(), 0, "nothing left to do");
    // More repeats later: only the new ones train, and the old rows are kept as they were.
    let more = Toy::new(4);
    let all = run_study(&more, dir.path(), &opts(1), &mut Silent).unwrap();
    assert_eq!(more.trained_runs(), 3);
    assert_eq!(&all[..9], &rows[..]);
}

#[test]
fn a_damaged_csv_is_refused_naming_file_and_line_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    run_study(&Toy::new(2), dir.path(), &opts(2), &mut Silent).unwrap();
    let file = dir.path().join("runs.csv");
    let good = std::fs::read_to_string(&file).unwrap();
    // A truncated last row (a kill cannot do this, as writes are atomic; a hand edit can).
    let cut = &good[..good.len() - 12];
    std::fs::write(&file, cut).unwrap();
    let toy = Toy::new(2);
    let err = run_study(&toy, dir.path(), &opts(2), &mut Silent).unwrap_err();
    let msg = err.to_string();
    let lines = good.lines().count();
    assert!(
        matches!(&err, RunError::Store(StoreError::Damaged { line, .. }) if *line == lines as u64),
        "{msg}"
    );
    assert!(msg.contains(&file.display().to_string()), "{msg}");
    assert!(msg.contains("left unchanged"), "{msg}");
    assert_eq!(toy.trained_runs(), 0);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), cut);
    // A value that is not a status.
    std::fs::write(&file, good.replacen(",ok,", ",OK,", 1)).unwrap();
    let err = read_rows::<Run>(&file).unwrap_err();
    assert!(matches!(err, StoreError::Damaged { line: 2, .. }), "{err}");
}

#[test]
fn an_unknown_header_is_refused_and_an_older_one_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("runs.csv");
    std::fs::write(&file, "garbage,\"unterminated").unwrap();
    let err = RunStore::new(dir.path()).read::<Run>().unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("line 1") && msg.contains("not a runs.csv written by the toy study"),
        "{msg}"
    );
    // Files written before the `batch` column existed still read, with its default.
    std::fs::write(
        &file,
        "group,repeat,config_hash,status,value\nControl,0,ab,ok,1.5\nNoisy,0,cd,failed,\n",
    )
    .unwrap();
    let rows = read_rows::<Run>(&file).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].batch, 1);
    assert_eq!(rows[1].status, RunStatus::Failed);
    assert_eq!(rows[1].value, None);
}

#[test]
fn a_changed_configuration_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    run_study(&Toy::new(2), dir.path(), &opts(1), &mut Silent).unwrap();
    let before = std::fs::read(dir.path().join("runs.csv")).unwrap();
    let mut longer = Toy::new(2);
    longer.steps = 4;
    let err = run_study(&longer, dir.path(), &opts(1), &mut Silent).unwrap_err();
    assert!(
        matches!(&err, RunError::Store(StoreError::ChangedConfig { group, repeat: 0, .. }) if group == "Control"),
        "{err}"
    );
    assert!(err.to_string().contains("different configuration"), "{err}");
    assert_eq!(longer.trained_runs(), 0);
    assert_eq!(std::fs::read(dir.path().join("runs.csv")).unwrap(), before);
}

#[test]
fn batches_hold_one_class_and_at_most_max_runs_in_repeat_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut toy = Toy::new(3);
    toy.mix = true;
    let mut rec = Recorder::default();
    run_study(&toy, dir.path(), &opts(4), &mut rec).unwrap();
    let labels: Vec<String> = rec
        .events
        .iter()
        .filter_map(|e| match e {
            Event::BatchStarted { label, .. } => Some(label.clone()),
            _ => None,
        })
        .collect();
    // Control and Noisy share a rate (one class, joined group by group); Slow is its own.
    assert_eq!(
        labels,
        ["4 runs: Control r0 … Noisy r0", "Noisy r1-r2", "Slow r0-r2"]
    );
    let rows = RunStore::new(dir.path()).read::<Run>().unwrap();
    let sizes: Vec<(&str, usize, usize)> = rows
        .iter()
        .map(|r| (r.group.as_str(), r.repeat, r.batch))
        .collect();
    assert_eq!(
        sizes,
        [
            ("Control", 0, 4),
            ("Control", 1, 4),
            ("Control", 2, 4),
            ("Noisy", 0, 4),
            ("Noisy", 1, 2),
            ("Noisy", 2, 2),
            ("Slow", 0, 3),
            ("Slow", 1, 3),
            ("Slow", 2, 3)
        ]
    );

    // Without mixing, a batch holds repeats of one group; batches take arm order.
    let specs = repeat_major(&Toy::new(3).arms());
    let names: Vec<(String, usize)> = specs.iter().map(|s| (s.group.clone(), s.repeat)).collect();
    assert_eq!(
        names[..4],
        [
            ("Control".into(), 0),
            ("Noisy".into(), 0),
            ("Slow".into(), 0),
            ("Control".into(), 1)
        ]
    );
    let b = batches(&specs, &["Control", "Noisy", "Slow"], 2, |s| {
        Ok::<_, BoxError>(s.group.clone())
    })
    .unwrap();
    let sizes: Vec<(String, usize)> = b.iter().map(|x| (x[0].group.clone(), x.len())).collect();
    assert_eq!(
        sizes,
        [
            ("Control".into(), 2),
            ("Control".into(), 1),
            ("Noisy".into(), 2),
            ("Noisy".into(), 1),
            ("Slow".into(), 2),
            ("Slow".into(), 1)
        ]
    );
    // A batch size of 0 is taken as 1.
    let ones = batches(&specs, &["Control"], 0, |s| {
        Ok::<_, BoxError>(s.group.clone())
    })
    .unwrap();
    assert_eq!(ones.len(), 3);
}

#[test]
fn events_report_progress_and_an_eta() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = Toy::new(1);
    first.fail_at = Some(("Slow", 0));
    run_study(&first, dir.path(), &opts(1), &mut Silent).unwrap_err();
    let mut rec = Recorder::default();
    run_study(&Toy::new(2), dir.path(), &opts(2), &mut rec).unwrap();
    let file = dir.path().join("runs.csv");
    assert_eq!(
        rec.events[0],
        Event::Started {
            file,
            total: 6,
            recorded: 2
        }
    );
    let recorded: Vec<(usize, bool)> = rec
        .events
        .iter()
        .filter_map(|e| match e {
            Event::BatchRecorded {
                recorded,
                seconds_left,
                summaries,
                runs,
                ..
            } => {
                assert_eq!(summaries.len(), *runs);
                Some((*recorded, seconds_left.is_some()))
            }
            _ => None,
        })
        .collect();
    // Control r1, Noisy r1, then Slow r0-r1; the last one has no ETA.
    assert_eq!(recorded, [(3, true), (4, true), (6, false)]);
    assert!(rec
        .events
        .contains(&Event::Note("training 2 runs".to_string())));
    assert_eq!(rec.events.last(), Some(&Event::Finished { total: 6 }));
}

#[test]
fn the_config_hash_is_the_sha256_of_the_spec_json() {
    let s = Spec {
        group: "Control".into(),
        repeat: 0,
        steps: 3,
        rate: 0.5,
    };
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        r#"{"group":"Control","repeat":0,"steps":3,"rate":0.5}"#
    );
    // printf '%s' '{"group":"Control","repeat":0,"steps":3,"rate":0.5}' | sha256sum | cut -c1-16
    assert_eq!(s.hash().unwrap(), "06ea1840c234d6ae");
    let t = Spec {
        rate: 0.25,
        ..s.clone()
    };
    assert_ne!(s.hash().unwrap(), t.hash().unwrap());
}

#[test]
fn a_held_lock_refuses_a_second_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path());
    let lock = store.lock("another writer").unwrap();
    let toy = Toy::new(1);
    let err = run_study(&toy, dir.path(), &opts(1), &mut Silent).unwrap_err();
    assert!(matches!(&err, RunError::Store(StoreError::Io(_))), "{err}");
    assert!(err.to_string().contains("another writer"), "{err}");
    assert_eq!(toy.trained_runs(), 0);
    assert!(!store.file().exists());
    drop(lock);
    run_study(&toy, dir.path(), &opts(1), &mut Silent).unwrap();
    assert_eq!(toy.trained_runs(), 3);
}

/// A study whose `run_batch` answers for the wrong runs.
struct Liar;

impl Study for Liar {
    type Spec = Spec;
    type Row = Run;
    fn id(&self) -> &str {
        "liar"
    }
    fn arms(&self) -> Vec<Arm<Spec>> {
        Toy::new(1).arms()
    }
    fn run_batch(&self, cx: &mut RunCx<'_>, batch: &[Spec]) -> Result<Vec<Run>, BoxError> {
        let mut rows = Toy::new(1).run_batch(cx, batch)?;
        rows[0].config_hash = "0000000000000000".into();
        Ok(rows)
    }
}

#[test]
fn rows_that_do_not_match_their_runs_are_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_study(&Liar, dir.path(), &opts(1), &mut Silent).unwrap_err();
    assert!(matches!(err, RunError::Rows { .. }), "{err}");
    assert!(!dir.path().join("runs.csv").exists());
}

#[test]
fn inconsistent_arms_and_undeclared_columns_are_refused() {
    struct Twins;
    impl Study for Twins {
        type Spec = Spec;
        type Row = Run;
        fn id(&self) -> &str {
            "twins"
        }
        fn arms(&self) -> Vec<Arm<Spec>> {
            let mut arms = Toy::new(1).arms();
            arms[1].specs[0].group = "Control".into();
            arms
        }
        fn run_batch(&self, cx: &mut RunCx<'_>, b: &[Spec]) -> Result<Vec<Run>, BoxError> {
            Toy::new(1).run_batch(cx, b)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let err = run_study(&Twins, dir.path(), &opts(1), &mut Silent).unwrap_err();
    assert!(matches!(err, RunError::Arms { .. }), "{err}");

    // Two names that differ only in punctuation ("GEVB+" and "GEVB") would share their runs'
    // file names: refused before anything trains, naming both.
    struct SameFiles;
    impl Study for SameFiles {
        type Spec = Spec;
        type Row = Run;
        fn id(&self) -> &str {
            "same-files"
        }
        fn arms(&self) -> Vec<Arm<Spec>> {
            let mut arms = Toy::new(1).arms();
            arms[1] = Arm::new("n", "CONTROL+", 1, |repeat| Spec {
                group: "CONTROL+".into(),
                repeat,
                steps: 1,
                rate: 0.5,
            });
            arms
        }
        fn run_batch(&self, cx: &mut RunCx<'_>, b: &[Spec]) -> Result<Vec<Run>, BoxError> {
            Toy::new(1).run_batch(cx, b)
        }
    }
    let err = run_study(&SameFiles, dir.path(), &opts(1), &mut Silent).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RunError::Arms { .. }), "{msg}");
    assert!(
        msg.contains("\"Control\"") && msg.contains("\"CONTROL+\"") && msg.contains("control-rNN"),
        "{msg}"
    );
    assert!(!dir.path().join("runs.csv").exists());

    #[derive(Clone, Serialize, Deserialize)]
    struct Misdeclared {
        repeat: usize,
        group: String,
    }
    impl Row for Misdeclared {
        const COLUMNS: &'static [&'static str] = &["group", "repeat"];
        fn group(&self) -> &str {
            &self.group
        }
        fn repeat(&self) -> usize {
            self.repeat
        }
        fn config_hash(&self) -> &str {
            ""
        }
        fn status(&self) -> RunStatus {
            RunStatus::Ok
        }
    }
    let row = Misdeclared {
        repeat: 0,
        group: "A".into(),
    };
    let file = dir.path().join("runs.csv");
    let err = RunStore::new(dir.path()).write(&[row]).unwrap_err();
    assert!(matches!(err, StoreError::Columns { .. }), "{err}");
    assert!(!Path::new(&file).exists());
}

#[test]
fn recorded_rows_gather_a_study_split_over_several_stores() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    // Store a holds repeat 0, store b repeats 0 and 1 (repeat 0 twice, as after a merge).
    run_study(&Toy::new(1), &a, &opts(1), &mut Silent).unwrap();
    run_study(&Toy::new(2), &b, &opts(1), &mut Silent).unwrap();
    let specs = repeat_major(&Toy::new(2).arms());
    let files = [
        a.join("runs.csv"),
        b.join("runs.csv"),
        root.path().join("none.csv"),
    ];
    let rows: Vec<Run> = neurogen_lab::store::recorded_rows(&files, &specs).unwrap();
    let keys: Vec<(&str, usize)> = rows.iter().map(|r| (r.group.as_str(), r.repeat)).collect();
    assert_eq!(
        keys,
        [
            ("Control", 0),
            ("Noisy", 0),
            ("Slow", 0),
            ("Control", 1),
            ("Noisy", 1),
            ("Slow", 1)
        ]
    );
    // Runs of other groups or repeats are left out; a changed configuration is refused.
    let fewer = repeat_major(&Toy::new(1).arms());
    let rows: Vec<Run> = neurogen_lab::store::recorded_rows(&files, &fewer[..1]).unwrap();
    assert_eq!(rows.len(), 1);
    let mut other = Toy::new(2);
    other.steps = 9;
    let changed = repeat_major(&other.arms());
    let err = neurogen_lab::store::recorded_rows::<Spec, Run>(&files, &changed).unwrap_err();
    assert!(matches!(err, StoreError::ChangedConfig { .. }), "{err}");
}

/// `run_and_report` hands every row to the report, writes `report.md`, and on a second call
/// trains nothing and writes the same report; a report that fails leaves no `report.md`.
#[test]
fn run_and_report_writes_the_report_of_every_row() {
    use neurogen_lab::summary::run_and_report;
    let dir = tempfile::tempdir().unwrap();
    let report = |rows: &[Run]| -> Result<String, BoxError> {
        Ok(format!("{} rows, first {}\n", rows.len(), rows[0].group))
    };
    let toy = Toy::new(2);
    let out = run_and_report(&toy, dir.path(), &opts(1), &mut Silent, report).unwrap();
    assert_eq!(out.rows.len(), 6);
    assert_eq!(out.report, "6 rows, first Control\n");
    let file = dir.path().join("report.md");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), out.report);
    let again = Toy::new(2);
    let out2 = run_and_report(&again, dir.path(), &opts(1), &mut Silent, report).unwrap();
    assert_eq!(again.trained_runs(), 0);
    assert_eq!((out2.rows, out2.report), (out.rows, out.report));

    let other = tempfile::tempdir().unwrap();
    let err = run_and_report(&Toy::new(2), other.path(), &opts(1), &mut Silent, |_| {
        Err("no report".into())
    })
    .err()
    .unwrap();
    assert_eq!(err.to_string(), "no report");
    assert!(!other.path().join("report.md").exists());
    assert!(other.path().join("runs.csv").exists());
}
