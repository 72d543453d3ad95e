//! `reproduce flymodel --scale smoke` end to end on real Fashion-MNIST (skips with a message
//! when the IDX files are absent): every method runs, the report decides every claim, the plot
//! is drawn, a second run resumes from `runs.csv` without training again, and bad flags are
//! refused with a clear message. CIFAR-10 (`--dataset cifar10`) runs on the test kit's synthetic
//! binary release (the extractor, the feature cache and its validation), MNIST and MNIST-20 on
//! synthetic IDX files written here (real Fashion-MNIST as MNIST-20's second half when present).
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

fn xtask() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("neurogen-cache");
    c.env("NEUROGEN_CACHE_DIR", cache);
    c
}

#[test]
fn flymodel_runs_at_smoke_scale_and_resumes() {
    let Some(data) = neurogen_testkit::data::or_skip(
        neurogen_data::fashion_mnist_dir(),
        "no Fashion-MNIST (package dataset-fashion-mnist or $NEUROGEN_FASHION_MNIST)",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (out, cache) = (dir.path().join("out"), dir.path().join("cache"));
    let run = || ok(&flymodel(&[], &data, &out, &cache));
    let t0 = Instant::now();
    run();
    eprintln!(
        "reproduce flymodel --scale smoke: {:.0} s",
        t0.elapsed().as_secs_f64()
    );
    let fly = out.join("flymodel");
    let report = std::fs::read_to_string(fly.join("report.md")).unwrap();
    for want in [
        "## Accuracy on all seen classes after each task (mean ± SD, n = 2)",
        "| FlyModel (top 5 %) |",
        "| Vanilla MLP |",
        "| EWC MLP |",
        "| Offline MLP (i.i.d., upper bound) |",
        "| FlyModel's final accuracy is above EWC's |",
        "| FlyModel is close to offline",
        "| FlyModel | 0.86 | 0.751 | 0.414 |",
    ] {
        assert!(report.contains(want), "missing {want:?} in\n{report}");
    }
    // Six claims, each decided.
    let claims = report
        .split("## Claims")
        .nth(1)
        .and_then(|c| c.split("## Published").next())
        .unwrap();
    let rows: Vec<&str> = claims
        .lines()
        .filter(|l| l.starts_with("| FlyModel"))
        .collect();
    assert_eq!(rows.len(), 6, "{claims}");
    for r in &rows {
        assert!(
            [
                "| holds |",
                "| same direction, not significant at this scale |",
                "| does not hold at this scale |",
                "| not testable"
            ]
            .iter()
            .any(|v| r.contains(v)),
            "{r}"
        );
    }
    let csv = std::fs::read_to_string(fly.join("runs.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 5 * 2, "{csv}");
    assert!(csv
        .starts_with("method,repeat,seed,task_order,final_accuracy,memory_loss,seen_after_task_1"));
    assert!(fly.join("seen_accuracy.png").is_file());
    // Accuracies are fractions, and FlyModel learnt something (10 classes: chance is 0.1).
    let fly_final = final_accuracies(&csv, "flymodel");
    assert_eq!(fly_final.len(), 2);
    assert!(
        fly_final.iter().all(|&a| (0.2..=1.0).contains(&a)),
        "{fly_final:?}"
    );
    // Resuming: every run is in runs.csv, nothing is trained again, same report.
    run();
    assert_eq!(std::fs::read_to_string(fly.join("runs.csv")).unwrap(), csv);
    assert_eq!(
        std::fs::read_to_string(fly.join("report.md")).unwrap(),
        report
    );
}

#[test]
fn flymodel_refuses_flags_that_do_not_apply() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, want) in [
        (vec!["--device", "cuda"], "runs on the CPU"),
        (vec!["--epochs", "3"], "unexpected argument '--epochs'"),
        (vec!["--mix-groups"], "unexpected argument '--mix-groups'"),
        (vec!["--repeats", "1"], "at least 2"),
        (vec!["--ewc-lambda=-1"], "--ewc-lambda -1"),
    ] {
        let o = xtask()
            .args(["reproduce", "flymodel", "--scale", "smoke", "--out"])
            .arg(dir.path())
            .args(&flag)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{flag:?} was accepted");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(want), "{flag:?}: {e}");
    }
    let o = xtask()
        .args(["reproduce", "flymodel", "--idx-kind", "emnist"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("fashion-mnist, mnist, kmnist, mnist20, cifar10"),
        "{e}"
    );
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn flymodel(args: &[&str], data: &Path, out: &Path, cache: &Path) -> Output {
    xtask()
        .args(["reproduce", "flymodel", "--scale", "smoke", "--quiet"])
        .args(args)
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .arg("--cache-dir")
        .arg(cache)
        .output()
        .unwrap()
}

/// The `final_accuracy` column of `method`'s rows of a flymodel `runs.csv`.
fn final_accuracies(csv: &str, method: &str) -> Vec<f64> {
    let prefix = format!("{method},");
    csv.lines()
        .filter(|l| l.starts_with(&prefix))
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect()
}

fn feature_files(cache: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(cache.join("features")) {
        Ok(d) => d.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn flymodel_cifar10_trains_an_extractor_caches_its_features_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let data = common::tiny_cifar(dir.path(), 100); // 500 training, 100 test images
    let (out, cache) = (dir.path().join("out"), dir.path().join("cache"));
    let args = ["--dataset", "cifar10", "--gem"];
    ok(&flymodel(&args, &data, &out, &cache));
    let fly = out.join("flymodel-cifar10");
    let report = std::fs::read_to_string(fly.join("report.md")).unwrap();
    for want in [
        "measured with `cargo xtask reproduce flymodel --scale smoke --gem --dataset cifar10`",
        "the learners train on 250 images of the other half and are tested on 100 test images",
        "- Features: the last hidden layer (250 units",
        "trained from seed 0 on 250 images of the extractor half only (1 epochs",
        "| MLP | 250 → [64] → 10,",
        "| Kenyon cells m | 10000 (= 40 · d) |",
        "| FlyModel's final accuracy is above EWC's |",
        "ours is CIFAR-10 in 5 tasks of 2 on features of a frozen CNN",
        "| A-GEM MLP |",
        "| A-GEM | episodic memory of each finished task's first 256 training examples",
        "| FlyModel's final accuracy is above A-GEM's |",
        "Holm-adjusted over the five paired claims",
        "| GEM | 0.69 | 0.430 | 0.262 | ",
    ] {
        assert!(report.contains(want), "missing {want:?} in\n{report}");
    }
    let csv = std::fs::read_to_string(fly.join("runs.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 6 * 2, "{csv}");
    assert_eq!(csv.lines().filter(|l| l.starts_with("a-gem,")).count(), 2);
    let files = feature_files(&cache);
    assert_eq!(files.len(), 1, "{files:?}");
    let json = std::fs::read_to_string(fly.join("features.json")).unwrap();
    assert!(json.contains("\"eval_accuracy\""), "{json}");
    // Every run recorded: a rerun needs no features (the cache may be gone) and trains nothing.
    std::fs::remove_file(&files[0]).unwrap();
    ok(&flymodel(&args, &data, &out, &cache));
    assert!(feature_files(&cache).is_empty());
    assert_eq!(std::fs::read_to_string(fly.join("runs.csv")).unwrap(), csv);
    assert_eq!(
        std::fs::read_to_string(fly.join("features.json")).unwrap(),
        json
    );
    assert_eq!(
        std::fs::read_to_string(fly.join("report.md")).unwrap(),
        report
    );
    // From scratch again: the features are computed and cached again, the same bit for bit
    // (deterministic on the CPU), so the runs are the same too.
    std::fs::remove_dir_all(&fly).unwrap();
    ok(&flymodel(&args, &data, &out, &cache));
    let again = std::fs::read_to_string(fly.join("runs.csv")).unwrap();
    let strip = |c: &str| -> Vec<String> {
        c.lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string()) // drop the seconds
            .collect()
    };
    assert_eq!(strip(&again), strip(&csv));
    // A damaged cache file: the next run says why it is not used, recomputes and replaces it.
    let files = feature_files(&cache);
    assert_eq!(files.len(), 1);
    let mut bytes = std::fs::read(&files[0]).unwrap();
    bytes.truncate(bytes.len() - 100);
    std::fs::write(&files[0], &bytes).unwrap();
    std::fs::remove_dir_all(&fly).unwrap();
    let o = flymodel(&args, &data, &out, &cache);
    ok(&o);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("was not usable") && e.contains("recomputed and replaced"),
        "{e}"
    );
    assert_eq!(
        strip(&std::fs::read_to_string(fly.join("runs.csv")).unwrap()),
        strip(&csv)
    );
    // The wrong kind of data for the benchmark.
    let o = flymodel(&["--dataset", "mnist"], &data, &out, &cache);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("not MNIST"), "{e}");
}

/// Writes MNIST-shaped IDX files (gzip-free) with `n_train` / `n_test` images: image `i` has
/// label `i % 10` and a bright vertical bar at columns `2c..2c + 3` for its class `c`, plus a
/// little deterministic noise.
fn write_idx(dir: &Path, n_train: usize, n_test: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for (prefix, n) in [("train", n_train), ("t10k", n_test)] {
        let mut images = vec![0, 0, 8, 3];
        for d in [n as u32, 28, 28] {
            images.extend(d.to_be_bytes());
        }
        let mut labels = vec![0, 0, 8, 1];
        labels.extend((n as u32).to_be_bytes());
        for i in 0..n {
            let c = i % 10;
            labels.push(c as u8);
            for p in 0..784 {
                let col = p % 28;
                let bar = (2 * c..2 * c + 3).contains(&col);
                images.push(if bar {
                    200
                } else {
                    ((p * 7 + i * 13) % 40) as u8
                });
            }
        }
        std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), images).unwrap();
        std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), labels).unwrap();
    }
}

/// `runs.csv`'s lines without the `seconds` column (the wall time, which differs between two
/// recordings of a run).
fn without_seconds(dir: &Path) -> Vec<String> {
    let csv = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|c| *c == "seconds").unwrap();
    csv.lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(col);
            cells.join(",")
        })
        .collect()
}

/// `reproduce flymodel --shard I/N` then `reproduce merge flymodel-mnist` (with only --out):
/// two shards train every run once between them and write no report; `reproduce interim`
/// reports their runs without merging; the merge gives one machine's `runs.csv` (every column
/// but the wall time) and its report.
#[test]
fn two_shards_and_a_merge_give_one_machines_runs_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let mnist = dir.path().join("mnist");
    write_idx(&mnist, 200, 100);
    let cache = dir.path().join("cache");
    let one = dir.path().join("one");
    ok(&flymodel(&["--dataset", "mnist"], &mnist, &one, &cache));

    let out = dir.path().join("sharded");
    let fly = out.join("flymodel-mnist");
    let mut shard_rows = 0;
    for s in ["1/2", "2/2"] {
        let o = flymodel(&["--dataset", "mnist", "--shard", s], &mnist, &out, &cache);
        ok(&o);
        let said = String::from_utf8_lossy(&o.stdout);
        assert!(said.contains("reproduce merge flymodel-mnist"), "{said}");
        assert!(!fly.join("report.md").exists(), "shard {s} wrote a report");
        assert!(!fly.join("runs.csv").exists(), "shard {s} wrote runs.csv");
        let sdir = fly.join("shards").join(s.replace('/', "-of-"));
        shard_rows += without_seconds(&sdir).len() - 1;
    }
    // Five methods × 2 repeats, each trained by one shard.
    assert_eq!(shard_rows, 10);
    // Before the merge, an interim report covers the shards' runs (and merges nothing).
    let o = xtask()
        .args(["reproduce", "interim", "flymodel-mnist", "--quiet", "--out"])
        .arg(&out)
        .arg("--cache-dir")
        .arg(&cache)
        .output()
        .unwrap();
    ok(&o);
    let interim = std::fs::read_to_string(fly.join("interim-report.md")).unwrap();
    assert!(interim.contains("(interim: 10 of 10 runs)"), "{interim}");
    assert!(interim.contains("Every run is now recorded"), "{interim}");
    assert!(!fly.join("runs.csv").exists() && !fly.join("report.md").exists());

    let o = xtask()
        .args(["reproduce", "merge", "flymodel-mnist", "--quiet", "--out"])
        .arg(&out)
        .arg("--cache-dir")
        .arg(&cache)
        .output()
        .unwrap();
    ok(&o);
    assert_eq!(
        without_seconds(&fly),
        without_seconds(&one.join("flymodel-mnist"))
    );
    let report = std::fs::read_to_string(fly.join("report.md")).unwrap();
    assert!(
        report.contains("| FlyModel's final accuracy is above EWC's |"),
        "{report}"
    );
    // A study flag is refused by merge: the shards' flags are used.
    let o = xtask()
        .args([
            "reproduce",
            "merge",
            "flymodel-mnist",
            "--scale",
            "quick",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("takes only --out, --quiet"), "{e}");
}

#[test]
fn flymodel_reads_mnist_kmnist_and_assembles_mnist20() {
    let dir = tempfile::tempdir().unwrap();
    let mnist = dir.path().join("mnist");
    write_idx(&mnist, 200, 100);
    let (out, cache) = (dir.path().join("out"), dir.path().join("cache"));
    for (kind, name, sub) in [
        ("mnist", "MNIST", "flymodel-mnist"),
        ("kmnist", "KMNIST", "flymodel-kmnist"),
    ] {
        ok(&flymodel(
            &["--dataset", kind, "--save-learners"],
            &mnist,
            &out,
            &cache,
        ));
        // Every FlyModel run left a checkpoint that loads and scores as the run did.
        let ck = out.join(sub).join("checkpoints");
        for m in ["flymodel", "flymodel-adaptive"] {
            for r in 0..2 {
                let fly = neurogen_learners::checkpoint::load_fly(
                    &ck.join(format!("{m}-r{r}.safetensors")),
                )
                .unwrap();
                assert_eq!(fly.config().classes, 10);
                assert_eq!(fly.config().kenyon_cells, 40 * 784);
                assert_eq!(fly.config().seed, r);
                assert!(fly.weights().iter().any(|&w| w > 0.0));
            }
        }
        assert_eq!(std::fs::read_dir(&ck).unwrap().count(), 4);
        let report = std::fs::read_to_string(out.join(sub).join("report.md")).unwrap();
        assert!(
            report.contains(&format!("- Data: {name} IDX files at `")),
            "{report}"
        );
        // The bars are easy: FlyModel learns them (chance is 0.1).
        let csv = std::fs::read_to_string(out.join(sub).join("runs.csv")).unwrap();
        let fly = final_accuracies(&csv, "flymodel");
        assert!(fly.iter().all(|&a| a > 0.5), "{kind}: {fly:?}");
    }
    // MNIST-20: MNIST's 10 classes and Fashion-MNIST's 10 (real where installed), 10 tasks.
    let fashion = neurogen_data::fashion_mnist_dir().unwrap_or_else(|| {
        let f = dir.path().join("fashion");
        write_idx(&f, 200, 100);
        f
    });
    let fashion_arg = fashion.display().to_string();
    ok(&flymodel(
        &["--dataset", "mnist20", "--fashion-mnist", &fashion_arg],
        &mnist,
        &out,
        &cache,
    ));
    let m20 = out.join("flymodel-mnist20");
    let report = std::fs::read_to_string(m20.join("report.md")).unwrap();
    for want in [
        "(classes 0–9) and Fashion-MNIST at `",
        "- Tasks: 10 tasks of 2 classes",
        "| task 10 |",
        "| MLP | 784 → [64] → 20,",
    ] {
        assert!(report.contains(want), "missing {want:?} in\n{report}");
    }
    let csv = std::fs::read_to_string(m20.join("runs.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains("seen_after_task_10"));
    // Every class of both halves occurs in the task orders.
    let order = csv.lines().nth(1).unwrap().split(',').nth(3).unwrap();
    let mut classes: Vec<usize> = order
        .split([' ', '+'])
        .map(|c| c.parse().unwrap())
        .collect();
    classes.sort_unstable();
    assert_eq!(classes, (0..20).collect::<Vec<_>>());

    // Clear errors.
    for (args, want) in [
        (
            vec!["--dataset", "mnist"],
            "needs --data DIR with MNIST's four IDX files",
        ),
        (
            vec!["--dataset", "mnist", "--fashion-mnist", "/x"],
            "--fashion-mnist is the second half of --dataset mnist20 only",
        ),
    ] {
        let o = xtask()
            .args(["reproduce", "flymodel", "--scale", "smoke", "--out"])
            .arg(&out)
            .args(&args)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{args:?}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(want), "{args:?}: {e}");
    }
    let o = xtask()
        .args(["reproduce", "flymodel", "--dataset", "mnist20", "--data"])
        .arg(&mnist)
        .arg("--fashion-mnist")
        .arg(dir.path().join("absent"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("absent: no such file or directory"));
    std::fs::remove_file(mnist.join("t10k-labels-idx1-ubyte")).unwrap();
    let o = flymodel(
        &["--dataset", "kmnist"],
        &mnist,
        &dir.path().join("o2"),
        &cache,
    );
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("missing t10k-labels-idx1-ubyte"), "{e}");
}
