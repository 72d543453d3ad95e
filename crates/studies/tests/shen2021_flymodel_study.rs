//! The FlyModel study on the engine, end to end on synthetic images (no dataset needed): every
//! method runs, a rerun trains nothing and writes the same report, adding A-GEM trains only
//! A-GEM, a directory of the former format (`results.json`) is converted and re-derived
//! without training, and two shards merged give one machine's runs.
use neurogen_data::{Dataset, DatasetKind, Split};
use neurogen_lab::events::{Event, Recorder};
use neurogen_studies::shen2021_flymodel::{
    run, Benchmark, FlyData, FlyRow, FlyScale, FlyScaleName, FlyStudy, GemScale,
};

/// `n` 28×28 images: image `i` has label `i % 10` and a bright vertical bar at columns
/// `2c..2c + 3` for its class `c`, plus a little deterministic noise.
fn bars(n: usize) -> Split {
    let mut images = Vec::with_capacity(n * 784);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % 10;
        labels.push(c as u8);
        for p in 0..784 {
            let col = p % 28;
            images.push(if (2 * c..2 * c + 3).contains(&col) {
                200
            } else {
                ((p * 7 + i * 13) % 40) as u8
            });
        }
    }
    Split::new(DatasetKind::FashionMnist.shape(), images, labels).unwrap()
}

fn dataset() -> Dataset {
    Dataset::new(DatasetKind::FashionMnist, bars(200), bars(100)).unwrap()
}

/// Tiny settings: 200 training and 100 test images, an MLP of 16, 2 repeats.
fn tiny() -> FlyScale {
    FlyScale {
        train_images: Some(200),
        test_images: Some(100),
        hidden: vec![16],
        fisher_samples: 20,
        cells_per_input: 4,
        ..FlyScale::new(FlyScaleName::Smoke, Benchmark::FashionMnist)
    }
}

fn study<'a>(ds: &'a Dataset, settings: FlyScale) -> FlyStudy<'a> {
    let data = FlyData {
        main: ds,
        source: "synthetic".into(),
        fashion: None,
        feature_cache: None,
    };
    FlyStudy::new(settings, Benchmark::FashionMnist, data, false).unwrap()
}

fn trained(rec: &Recorder) -> usize {
    rec.events
        .iter()
        .filter_map(|e| match e {
            Event::BatchStarted { runs, .. } => Some(*runs),
            _ => None,
        })
        .sum()
}

#[test]
fn runs_every_method_resumes_without_training_and_adds_gem_alone() {
    let ds = dataset();
    let dir = tempfile::tempdir().unwrap();
    let mut rec = Recorder::default();
    let first = run(&study(&ds, tiny()), dir.path(), &mut rec).unwrap();
    assert_eq!(first.rows.len(), 5 * 2);
    assert_eq!(trained(&rec), 10);
    // The bars are easy: FlyModel learns them (chance is 0.1).
    for r in first.rows.iter().filter(|r| r.method == "flymodel") {
        assert!(r.final_accuracy > 0.5, "{r:?}");
        assert_eq!(r.seen_accuracy().len(), 5);
        assert_eq!(r.accuracy_matrix().unwrap().len(), 5);
    }
    let report = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert_eq!(report, first.report);
    assert!(report.contains("## Claims"), "{report}");
    assert!(dir.path().join("seen_accuracy.png").is_file());
    let csv = std::fs::read(dir.path().join("runs.csv")).unwrap();

    // Rerun: every run is recorded, nothing trains, same runs.csv and report.
    let mut rec = Recorder::default();
    let again = run(&study(&ds, tiny()), dir.path(), &mut rec).unwrap();
    assert_eq!(trained(&rec), 0);
    assert_eq!(again.report, report);
    assert!(std::fs::read(dir.path().join("runs.csv")).unwrap() == csv);

    // With A-GEM: only A-GEM's runs train; the others keep their rows.
    let mut rec = Recorder::default();
    let gem = FlyScale {
        gem: Some(GemScale {
            memory_per_task: 10,
            memory_batch: 10,
        }),
        ..tiny()
    };
    let with_gem = run(&study(&ds, gem), dir.path(), &mut rec).unwrap();
    assert_eq!(trained(&rec), 2);
    assert_eq!(with_gem.rows.len(), 6 * 2);
    for r in &first.rows {
        assert!(with_gem.rows.contains(r), "{r:?}");
    }
    assert!(with_gem
        .report
        .contains("| FlyModel's final accuracy is above A-GEM's |"));

    // A changed setting of a recorded run is refused, naming the file.
    let other = FlyScale {
        cells_per_input: 5,
        ..tiny()
    };
    let e = run(&study(&ds, other), dir.path(), &mut Recorder::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("runs.csv") && e.contains("different configuration"),
        "{e}"
    );
}

#[test]
fn a_directory_of_the_former_format_is_converted_and_rederived_without_training() {
    let ds = dataset();
    let dir = tempfile::tempdir().unwrap();
    let first = run(&study(&ds, tiny()), dir.path(), &mut Recorder::default()).unwrap();
    // The former results.json of the same runs (its accuracy matrices and seconds).
    let runs: Vec<serde_json::Value> = first
        .rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "method": r.method,
                "repeat": r.repeat,
                "result": {
                    "learner": r.method,
                    "tasks": r.task_order.split(' ').map(|t| t.split('+').map(|c| c.parse::<usize>().unwrap()).collect::<Vec<_>>()).collect::<Vec<_>>(),
                    "accuracy": r.accuracy_matrix().unwrap(),
                    "seen_accuracy": r.seen_accuracy(),
                },
                "seconds": r.seconds,
            })
        })
        .collect();
    let legacy = serde_json::json!({
        "scale": tiny(),
        "kind": "FashionMnist",
        "images": [200, 100],
        "runs": runs,
    });
    let old = tempfile::tempdir().unwrap();
    std::fs::write(
        old.path().join("results.json"),
        serde_json::to_string_pretty(&legacy).unwrap(),
    )
    .unwrap();
    std::fs::write(
        old.path().join("runs.csv"),
        "method,repeat,seed,task_order,final_accuracy,memory_loss,seen_after_task_1,seconds\n",
    )
    .unwrap();
    let mut rec = Recorder::default();
    let converted = run(&study(&ds, tiny()), old.path(), &mut rec).unwrap();
    assert_eq!(trained(&rec), 0, "{:?}", rec.events);
    let sorted = |rows: &[FlyRow]| {
        let mut v = rows.to_vec();
        v.sort_by(|a, b| (&a.method, a.repeat).cmp(&(&b.method, b.repeat)));
        v
    };
    assert_eq!(sorted(&converted.rows), sorted(&first.rows));
    assert_eq!(converted.report, first.report);
    let csv = |d: &std::path::Path| std::fs::read_to_string(d.join("runs.csv")).unwrap();
    assert!(
        csv(old.path()) == csv(dir.path()),
        "{}\n{}",
        csv(old.path()),
        csv(dir.path())
    );
    // An interrupted former run left results.json without runs.csv: converted too.
    let bare = tempfile::tempdir().unwrap();
    std::fs::copy(
        old.path().join("results.json"),
        bare.path().join("results.json"),
    )
    .unwrap();
    let mut rec = Recorder::default();
    run(&study(&ds, tiny()), bare.path(), &mut rec).unwrap();
    assert_eq!(trained(&rec), 0);
    assert!(csv(bare.path()) == csv(dir.path()));
}

#[test]
fn bad_settings_and_data_of_another_kind_are_refused() {
    let ds = dataset();
    let data = || FlyData {
        main: &ds,
        source: "synthetic".into(),
        fashion: None,
        feature_cache: None,
    };
    let one = FlyScale {
        repeats: 1,
        ..tiny()
    };
    let e = FlyStudy::new(one, Benchmark::FashionMnist, data(), false)
        .err()
        .unwrap();
    assert!(e.to_string().contains("at least 2 repeats"), "{e}");
    let e = FlyStudy::new(tiny(), Benchmark::Mnist, data(), false)
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .contains("--dataset mnist reads MNIST, but synthetic holds Fashion-MNIST"),
        "{e}"
    );
}

/// `runs.csv` of `dir` without its last column (`seconds`, the wall time).
fn runs_but_seconds(dir: &std::path::Path) -> Vec<String> {
    let csv = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    csv.lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect()
}

/// The study splits over machines on the engine (`run_shard`, `merge_study`): two shards train
/// every run once, and after the merge the study trains nothing and its runs are one machine's.
#[test]
fn shards_merge_into_one_machines_runs() {
    use neurogen_lab::schedule::{merge_study, run_shard, Options};
    use neurogen_lab::shard::{MergeHints, Shard};

    let ds = dataset();
    let one = tempfile::tempdir().unwrap();
    run(&study(&ds, tiny()), one.path(), &mut Recorder::default()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let opts = Options::default();
    let mut shard_runs = 0;
    for s in ["1/2", "2/2"] {
        let s: Shard = s.parse().unwrap();
        let mut rec = Recorder::default();
        let rows = run_shard(&study(&ds, tiny()), dir.path(), &opts, s, &(), &mut rec).unwrap();
        assert_eq!(trained(&rec), rows.len());
        shard_runs += rows.len();
        assert!(!dir.path().join("report.md").exists());
    }
    assert_eq!(shard_runs, 10);
    let merged = merge_study(
        &study(&ds, tiny()),
        dir.path(),
        &opts,
        &MergeHints::new("flymodel"),
    )
    .unwrap();
    assert_eq!(merged.len(), 10);
    let mut rec = Recorder::default();
    run(&study(&ds, tiny()), dir.path(), &mut rec).unwrap();
    assert_eq!(trained(&rec), 0);
    assert!(dir.path().join("report.md").exists());
    assert_eq!(runs_but_seconds(dir.path()), runs_but_seconds(one.path()));
}
