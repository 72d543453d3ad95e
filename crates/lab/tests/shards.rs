//! A toy study split into shards on the engine's schedule (`run_shard`), merged
//! (`merge_study`) or continued on one machine (`run_study`): every run is trained exactly once
//! by exactly one shard, the merged `runs.csv` is one machine's, and a different count, changed
//! settings, a damaged shard store or missing runs are refused, naming the file or the shard.
//! No model, no data; each test takes milliseconds.
use std::cell::RefCell;
use std::path::Path;

use neurogen_lab::events::Silent;
use neurogen_lab::schedule::{merge_study, run_shard, run_study, Options, RunError};
use neurogen_lab::shard::{MergeHints, Refusal, Shard, ShardError};
use neurogen_lab::store::{Row, RunStatus, StoreError};
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
    value: f64,
    seconds: f64,
}

impl Row for Run {
    const COLUMNS: &'static [&'static str] = &[
        "group",
        "repeat",
        "config_hash",
        "status",
        "value",
        "seconds",
    ];
    const VOLATILE_COLUMNS: &'static [&'static str] = &["seconds"];
    neurogen_lab::row_identity!();
}

/// Three arms of `repeats` runs; Control and Noisy share a batch class (they may train
/// together), Slow has its own. Every run trained is logged.
struct Toy {
    repeats: usize,
    steps: usize,
    trained: RefCell<Vec<(String, usize)>>,
}

impl Toy {
    fn new(repeats: usize) -> Toy {
        Toy {
            repeats,
            steps: 3,
            trained: RefCell::new(Vec::new()),
        }
    }

    fn trained(&self) -> Vec<(String, usize)> {
        self.trained.borrow().clone()
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
        Ok(format!("rate {}", spec.rate))
    }

    fn run_batch(&self, _cx: &mut RunCx<'_>, batch: &[Spec]) -> Result<Vec<Run>, BoxError> {
        batch
            .iter()
            .map(|s| {
                self.trained.borrow_mut().push((s.group.clone(), s.repeat));
                Ok(Run {
                    group: s.group.clone(),
                    repeat: s.repeat,
                    config_hash: s.hash()?,
                    status: RunStatus::Ok,
                    value: s.rate * (s.steps + s.repeat) as f64,
                    seconds: 0.0,
                })
            })
            .collect()
    }
}

const OPTS: Options = Options { max_batch: 2 };

fn shard(text: &str) -> Shard {
    text.parse().unwrap()
}

fn csv(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("runs.csv")).unwrap()
}

fn hints() -> MergeHints {
    MergeHints::new("toy")
}

/// `runs.csv` of the whole toy study trained on one machine.
fn one_machine(repeats: usize) -> String {
    let dir = tempfile::tempdir().unwrap();
    run_study(&Toy::new(repeats), dir.path(), &OPTS, &mut Silent).unwrap();
    csv(dir.path())
}

#[test]
fn shards_train_every_run_once_and_merge_into_one_machines_runs_csv() {
    for n in [2, 3] {
        let dir = tempfile::tempdir().unwrap();
        let mut trained = Vec::new();
        let mut rows = 0;
        for i in 1..=n {
            let toy = Toy::new(3);
            let s = Shard { index: i, count: n };
            let mine = run_shard(&toy, dir.path(), &OPTS, s, &"settings", &mut Silent).unwrap();
            assert!(!mine.is_empty(), "shard {s} has no runs");
            rows += mine.len();
            trained.extend(toy.trained());
            // A shard's rows are in its own store, and no report or runs.csv of the study.
            assert!(s.dir(dir.path()).join("runs.csv").exists());
            assert!(!dir.path().join("runs.csv").exists());
            // Run again, it trains nothing.
            let again = Toy::new(3);
            run_shard(&again, dir.path(), &OPTS, s, &"settings", &mut Silent).unwrap();
            assert!(again.trained().is_empty(), "shard {s} trained again");
        }
        // Every run exactly once.
        trained.sort();
        let mut all: Vec<(String, usize)> = ["Control", "Noisy", "Slow"]
            .iter()
            .flat_map(|g| (0..3).map(move |r| (g.to_string(), r)))
            .collect();
        all.sort();
        assert_eq!(trained, all, "{n} shards");
        assert_eq!(rows, 9);
        let merged = merge_study(&Toy::new(3), dir.path(), &OPTS, &hints()).unwrap();
        assert_eq!(merged.len(), 9);
        assert_eq!(csv(dir.path()), one_machine(3), "{n} shards");
        // After the merge, a run on one machine trains nothing and changes nothing.
        let after = Toy::new(3);
        run_study(&after, dir.path(), &OPTS, &mut Silent).unwrap();
        assert!(after.trained().is_empty());
        assert_eq!(csv(dir.path()), one_machine(3));
    }
}

#[test]
fn one_machine_goes_on_where_the_shards_left_off() {
    let dir = tempfile::tempdir().unwrap();
    let first = Toy::new(3);
    run_shard(&first, dir.path(), &OPTS, shard("1/2"), &(), &mut Silent).unwrap();
    let rest = Toy::new(3);
    run_study(&rest, dir.path(), &OPTS, &mut Silent).unwrap();
    // Only shard 2's runs are left to train.
    assert_eq!(first.trained().len() + rest.trained().len(), 9);
    assert!(first.trained().iter().all(|r| !rest.trained().contains(r)));
    assert_eq!(csv(dir.path()), one_machine(3));
}

#[test]
fn a_merge_with_a_shard_missing_names_it() {
    let dir = tempfile::tempdir().unwrap();
    run_shard(
        &Toy::new(3),
        dir.path(),
        &OPTS,
        shard("2/3"),
        &(),
        &mut Silent,
    )
    .unwrap();
    let err = merge_study(&Toy::new(3), dir.path(), &OPTS, &hints()).unwrap_err();
    let RunError::Shard(ShardError::Refused { why, .. }) = &err else {
        panic!("{err}")
    };
    assert_eq!(*why, Refusal::Missing);
    let msg = err.to_string();
    assert!(
        msg.contains("shard 1/3") && msg.contains("shard 3/3"),
        "{msg}"
    );
    assert!(!msg.contains("shard 2/3"), "{msg}");
    assert!(
        !dir.path().join("runs.csv").exists(),
        "a refused merge wrote runs.csv"
    );
}

#[test]
fn another_count_of_shards_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    run_shard(
        &Toy::new(3),
        dir.path(),
        &OPTS,
        shard("1/2"),
        &(),
        &mut Silent,
    )
    .unwrap();
    let toy = Toy::new(3);
    let err = run_shard(&toy, dir.path(), &OPTS, shard("2/3"), &(), &mut Silent).unwrap_err();
    assert!(
        matches!(err, RunError::Shard(ShardError::OtherCount { .. })),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("shard 2/3 was asked for, but shard 1/2 is there"),
        "{msg}"
    );
    assert!(toy.trained().is_empty());
    assert!(
        !shard("2/3").dir(dir.path()).exists(),
        "the refused shard left its directory"
    );
}

#[test]
fn other_settings_or_another_plan_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = |toy: &Toy, s: &str, settings: &str| {
        run_shard(toy, dir.path(), &OPTS, shard(s), &settings, &mut Silent)
    };
    run(&Toy::new(3), "1/2", "--scale smoke").unwrap();
    // The other shard with other settings.
    let err = run(&Toy::new(3), "2/2", "--scale quick").unwrap_err();
    assert!(
        matches!(err, RunError::Shard(ShardError::SettingsDiffer { .. })),
        "{err}"
    );
    assert!(err
        .to_string()
        .contains("shards 1/2 and 2/2 ran with different settings"));
    // The same shard again with other settings.
    let err = run(&Toy::new(3), "1/2", "--scale quick").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("1-of-2/settings.json"), "{msg}");
    assert!(msg.contains("started with other settings"), "{msg}");
    // The same shard again with settings that change its runs' configuration.
    let mut longer = Toy::new(3);
    longer.steps = 4;
    let err = run(&longer, "1/2", "--scale smoke").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("1-of-2/plan.json"), "{msg}");
    assert!(longer.trained().is_empty());
}

#[test]
fn a_damaged_shard_store_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for s in ["1/2", "2/2"] {
        run_shard(&Toy::new(3), dir.path(), &OPTS, shard(s), &(), &mut Silent).unwrap();
    }
    let file = shard("2/2").dir(dir.path()).join("runs.csv");
    let good = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, good.replace("ok", "fine")).unwrap();
    let named = |err: RunError| {
        let damaged = matches!(
            err,
            RunError::Store(StoreError::Damaged { .. })
                | RunError::Shard(ShardError::Store(StoreError::Damaged { .. }))
        );
        assert!(damaged, "{err}");
        assert!(
            err.to_string().contains(&file.display().to_string()),
            "{err}"
        );
    };
    named(merge_study(&Toy::new(3), dir.path(), &OPTS, &hints()).unwrap_err());
    named(run_study(&Toy::new(3), dir.path(), &OPTS, &mut Silent).unwrap_err());
    named(
        run_shard(
            &Toy::new(3),
            dir.path(),
            &OPTS,
            shard("2/2"),
            &(),
            &mut Silent,
        )
        .unwrap_err(),
    );
    assert!(!dir.path().join("runs.csv").exists());
    // A damaged plan is named too.
    std::fs::write(&file, good).unwrap();
    let plan = shard("1/2").dir(dir.path()).join("plan.json");
    std::fs::write(&plan, "{").unwrap();
    let err = merge_study(&Toy::new(3), dir.path(), &OPTS, &hints()).unwrap_err();
    assert!(
        err.to_string().contains(&plan.display().to_string()),
        "{err}"
    );
}

#[test]
fn a_shard_recorded_with_another_configuration_is_refused_on_one_machine() {
    let dir = tempfile::tempdir().unwrap();
    run_shard(
        &Toy::new(3),
        dir.path(),
        &OPTS,
        shard("1/2"),
        &(),
        &mut Silent,
    )
    .unwrap();
    let mut longer = Toy::new(3);
    longer.steps = 4;
    let err = run_study(&longer, dir.path(), &OPTS, &mut Silent).unwrap_err();
    let RunError::Shard(ShardError::Refused { why, .. }) = &err else {
        panic!("{err}")
    };
    assert_eq!(*why, Refusal::ChangedConfig);
    assert!(err.to_string().contains("shards/1-of-2/runs.csv"), "{err}");
    assert!(longer.trained().is_empty());
}

/// The toy study's report: the value's table and one claim (Control above Slow, Welch).
fn toy_report(rows: &[Run]) -> Result<String, BoxError> {
    use neurogen_lab::claims::{decide, Claim, Expect, Value};
    use neurogen_lab::summary::Summary;
    const VALUE: Value = Value::new("value", "value", "", 3, true);
    let mut summary = Summary::new();
    summary.tabulate(
        &[VALUE],
        &["Control", "Noisy", "Slow"],
        rows,
        |r: &Run, _| Some(r.value),
    )?;
    let claims = [Claim::welch(
        "Control is above Slow",
        "difference {d}",
        VALUE,
        "Control",
        "Slow",
        Expect::Better,
    )];
    let mut rep = neurogen_lab::Report::new("The toy study");
    summary.write_tables(&mut rep);
    rep.add_claims(decide(summary.samples(), &claims, vec![])?);
    Ok(rep.finish())
}

/// The toy study's entry point, as a study's `run` is: run it, then report.
fn toy_run(toy: &Toy, dir: &Path) -> Result<Vec<Run>, BoxError> {
    Ok(neurogen_lab::summary::run_and_report(toy, dir, &OPTS, &mut Silent, toy_report)?.rows)
}

/// `interim` reports what a study's `runs.csv` and its shards recorded, as the study's own
/// report marked as interim in `interim-report.md`: it trains nothing, writes nothing else, and
/// a claim whose groups lack runs is "not testable"; with nothing recorded it is refused.
#[test]
fn an_interim_report_covers_the_recorded_runs_and_trains_nothing() {
    use neurogen_lab::interim::{interim, InterimError, INTERIM_REPORT_FILE};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("toy");

    // Nothing recorded: refused, nothing written.
    let toy = Toy::new(3);
    let (out, covered) = interim(|| toy_run(&toy, &dir));
    let e = out.unwrap_err();
    assert!(
        matches!(
            e.downcast_ref::<InterimError>(),
            Some(InterimError::NothingRecorded { .. })
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains("no run of study toy is recorded"),
        "{e}"
    );
    assert!(covered.is_empty());
    assert!(!dir.join(INTERIM_REPORT_FILE).exists());

    // Repeat 0 of every arm recorded in runs.csv (a study of 1 repeat has the same runs).
    run_study(&Toy::new(1), &dir, &OPTS, &mut Silent).unwrap();
    let before = csv(&dir);
    let toy = Toy::new(3);
    let (rows, covered) = interim(|| toy_run(&toy, &dir));
    assert_eq!(rows.unwrap().len(), 3);
    assert!(
        toy.trained().is_empty(),
        "interim trained {:?}",
        toy.trained()
    );
    assert_eq!(csv(&dir), before);
    assert!(!dir.join("report.md").exists());
    assert_eq!(covered.len(), 1);
    let c = &covered[0];
    assert_eq!((c.recorded, c.total), (3, 9));
    assert_eq!(c.file, dir.join(INTERIM_REPORT_FILE));
    assert_eq!(
        c.missing,
        [
            ("a".to_string(), vec![1, 2]),
            ("b".to_string(), vec![1, 2]),
            ("s".to_string(), vec![1, 2])
        ]
    );
    let text = std::fs::read_to_string(&c.file).unwrap();
    assert!(
        text.starts_with("# The toy study (interim: 3 of 9 runs)\n"),
        "{text}"
    );
    assert!(text.contains("Still to train:\n- a: r1–r2\n"), "{text}");
    assert!(text.contains("not testable"), "{text}");

    // A shard's runs count too (a run recorded in both places once).
    run_shard(&Toy::new(3), &dir, &OPTS, shard("1/2"), &(), &mut Silent).unwrap();
    let sharded =
        neurogen_lab::store::read_rows::<Run>(&shard("1/2").dir(&dir).join("runs.csv")).unwrap();
    let new = sharded.iter().filter(|r| r.repeat > 0).count();
    assert!(new > 0);
    let toy = Toy::new(3);
    let (rows, covered) = interim(|| toy_run(&toy, &dir));
    let rows = rows.unwrap();
    assert_eq!(rows.len(), 3 + new);
    assert_eq!(covered[0].recorded, 3 + new);
    assert!(toy.trained().is_empty());
    // In the order one machine records them.
    let order: Vec<(String, usize)> = neurogen_lab::schedule::recording_order(&toy, &OPTS)
        .unwrap()
        .iter()
        .map(|s| (s.group.clone(), s.repeat))
        .filter(|k| rows.iter().any(|r| (r.group.clone(), r.repeat) == *k))
        .collect();
    let got: Vec<(String, usize)> = rows.iter().map(|r| (r.group.clone(), r.repeat)).collect();
    assert_eq!(got, order);

    // Out of interim mode the study trains the rest and writes its own report.
    let toy = Toy::new(3);
    assert_eq!(toy_run(&toy, &dir).unwrap().len(), 9);
    assert_eq!(toy.trained().len(), 9 - 3 - new);
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(!report.contains("interim"), "{report}");
}
