//! End-to-end tests of the command line on real data: train/eval, every figure at smoke scale,
//! resuming after a kill, and refusing a changed configuration.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
mod golden;

use common::copy_dir;
use common::runs::run_ok;

fn xtask() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    // Keep decode caches inside the build directory, never in the user's cache.
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("neurogen-cache");
    c.env("NEUROGEN_CACHE_DIR", cache);
    c
}

fn cifar() -> Option<PathBuf> {
    neurogen_testkit::data::or_skip(
        neurogen_data::cifar10_archive(),
        "../shared/data/cifar10-jpeg.tar.gz is absent",
    )
}

fn read_rows(path: &Path) -> Vec<(String, String, String, String)> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (g, r, s, a) = (
        col("group"),
        col("repeat"),
        col("status"),
        col("test_accuracy"),
    );
    let mut rows: Vec<_> = rdr
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            (
                rec[g].to_string(),
                rec[r].to_string(),
                rec[s].to_string(),
                rec[a].to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn train_then_eval_reports_the_saved_accuracy() {
    let Some(data) = cifar() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let stdout = run_ok(
        xtask()
            .args(["train", "--data"])
            .arg(&data)
            .args([
                "--epochs",
                "1",
                "--batch-size",
                "32",
                "--train-subset",
                "256",
                "--eval-subset",
                "200",
                "--seed",
                "3",
                "--regularizer",
                "neurogenesis:n=4,every=2,until_epoch=1",
                "--regularizer",
                "dropout:p=0.2",
                "--json",
                "--out",
            ])
            .arg(&out),
    );
    let metrics: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let saved = metrics["final_eval_accuracy"].as_f64().unwrap();
    assert!(
        metrics["regularizer"]["report"]
            .to_string()
            .contains("events"),
        "{}",
        metrics["regularizer"]
    );
    assert!(out.join("model.safetensors").exists() && out.join("metrics.json").exists());
    let eval = run_ok(
        xtask()
            .args(["eval", "--checkpoint"])
            .arg(out.join("model.safetensors"))
            .arg("--data")
            .arg(&data)
            .args(["--subset", "200", "--json", "--dump-logits"])
            .arg(dir.path().join("logits.safetensors")),
    );
    let eval: serde_json::Value = serde_json::from_str(&eval).unwrap();
    assert_eq!(eval["accuracy"].as_f64().unwrap(), saved);
    // --dump-logits: the 200 images' logits, labels and split positions; their argmax gives
    // the same accuracy.
    let dump = candle_core::safetensors::load(
        dir.path().join("logits.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    let logits: Vec<Vec<f32>> = dump["logits"].to_vec2().unwrap();
    let labels: Vec<u32> = dump["labels"].to_vec1().unwrap();
    let indices: Vec<u32> = dump["indices"].to_vec1().unwrap();
    assert_eq!(
        (logits.len(), logits[0].len(), labels.len()),
        (200, 10, 200)
    );
    assert_eq!(
        indices,
        neurogen_data::sample_indices(10_000, 200, 0)
            .into_iter()
            .map(|i| i as u32)
            .collect::<Vec<_>>()
    );
    let pred: Vec<u32> = dump["logits"].argmax(1).unwrap().to_vec1().unwrap();
    let correct = pred.iter().zip(&labels).filter(|(p, y)| p == y).count();
    assert_eq!(correct as f64 / 200.0, saved);
}

#[test]
fn bad_flags_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = xtask()
        .args(["train", "--data", "/nonexistent/cifar", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/cifar"));
    let out = xtask()
        .args(["train", "--regularizer", "dropout:p=1.5", "--data"])
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn every_figure_runs_at_smoke_scale_and_resumes() {
    let Some(data) = cifar() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let t0 = Instant::now();
    run_ok(
        xtask()
            .env("RAYON_NUM_THREADS", golden::THREADS)
            .args(["reproduce", "all", "--scale", "smoke", "--quiet"])
            .arg("--compare-reference")
            // Every compatible group of a figure in one batch (fig3: one per optimiser setting):
            // the goldens below were made one group at a time, so this pins that mixing groups
            // changes no result. One-group batches: the quirks golden test.
            .args(["--mix-groups", "--replicas", "64"])
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&out),
    );
    eprintln!(
        "reproduce all --scale smoke --compare-reference --mix-groups: {:.0} s",
        t0.elapsed().as_secs_f64()
    );
    // Bit for bit the results of main before the redesign (issue #13).
    golden::assert_matches(&out, &["fig2", "fig3", "fig4", "fig5"], "smoke");
    // The published-code column is exactly what --reference-quirks trains (fig2's two
    // neurogenesis groups, two repeats each).
    assert_eq!(
        golden::assert_published_variants_match(&out, &["fig2"], "smoke-quirks"),
        4
    );
    for (fig, plots) in [
        ("fig2", vec!["test_accuracy", "validation_loss"]),
        ("fig3", vec!["single_regularisers"]),
        ("fig4", vec!["test_accuracy"]),
        ("fig5", vec!["ablation", "selectivity"]),
    ] {
        let d = out.join(fig);
        let report = std::fs::read_to_string(d.join("report.md")).unwrap();
        // Every figure, fig5 included (its analyses read each run's own checkpoint), has both
        // columns.
        assert!(
            report.contains("## The paper's claims: the method and the published code"),
            "{fig}"
        );
        assert!(
            report.contains("### The published code's behaviour: every test"),
            "{fig}"
        );
        assert!(report.contains("(published code)"), "{fig}");
        // The paired differences behind the claims, drawn.
        assert!(report.contains("paired_differences"), "{fig}");
        assert!(report.contains("Scale **Smoke**"), "{fig}");
        for p in plots {
            for ext in ["svg", "png"] {
                let f = d.join(format!("{p}.{ext}"));
                assert!(
                    std::fs::metadata(&f)
                        .map(|m| m.len() > 1000)
                        .unwrap_or(false),
                    "{}",
                    f.display()
                );
            }
        }
        let rows = read_rows(&d.join("runs.csv"));
        assert!(rows.iter().all(|r| r.2 == "ok"), "{fig}: {rows:?}");
        let ck = std::fs::read_dir(d.join("checkpoints")).unwrap().count();
        assert_eq!(ck, rows.len(), "{fig}: one checkpoint per run");
    }
    // 12 groups and the published-code variants of the 5 with neurogenesis, 2 repeats each.
    assert_eq!(read_rows(&out.join("fig3/runs.csv")).len(), 17 * 2);
    let published: Vec<_> = read_rows(&out.join("fig3/runs.csv"))
        .into_iter()
        .filter(|r| r.0.ends_with("(published code)"))
        .collect();
    assert!(
        published.iter().all(|r| r.0.contains("Neurogenesis")),
        "{published:?}"
    );
    assert_eq!(read_rows(&out.join("fig4/runs.csv")).len(), 7 * 2);
    let fig3 = std::fs::read_to_string(out.join("fig3/report.md")).unwrap();
    assert!(
        fig3.contains("One-way ANOVA of test accuracy: F("),
        "{fig3}"
    );
    assert!(fig3.contains("Tukey's HSD"), "{fig3}");

    // fig5 saves each network's analyses (ablation, selectivity, new units) in analysis/, so
    // its report re-derives from runs.csv and analysis/ alone, as a committed result must:
    // without the checkpoints, a rerun writes the same report.
    let fig5 = out.join("fig5");
    let analysed = std::fs::read_dir(fig5.join("analysis")).unwrap().count();
    assert_eq!(analysed, read_rows(&fig5.join("runs.csv")).len());
    let report5 = std::fs::read_to_string(fig5.join("report.md")).unwrap();
    assert!(
        report5.contains("less robust to ablation than control (Fig. 5B)"),
        "{report5}"
    );
    std::fs::remove_dir_all(fig5.join("checkpoints")).unwrap();
    run_ok(
        xtask()
            .env("RAYON_NUM_THREADS", golden::THREADS)
            .args(["reproduce", "fig5", "--scale", "smoke", "--quiet"])
            .args(["--compare-reference", "--mix-groups", "--replicas", "64"])
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&out),
    );
    let rerun = std::fs::read_to_string(fig5.join("report.md")).unwrap();
    assert_eq!(report5, rerun, "fig5's report without its checkpoints");

    // Rerunning the same command does no training and changes nothing; without
    // --compare-reference the method's groups are all there already.
    let before = std::fs::read(out.join("fig4/runs.csv")).unwrap();
    run_ok(
        xtask()
            .args(["reproduce", "fig4", "--scale", "smoke", "--quiet"])
            .arg("--compare-reference")
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&out),
    );
    assert_eq!(before, std::fs::read(out.join("fig4/runs.csv")).unwrap());
    run_ok(
        xtask()
            .args(["reproduce", "fig4", "--scale", "smoke", "--quiet", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&out),
    );
    assert_eq!(before, std::fs::read(out.join("fig4/runs.csv")).unwrap());

    // A changed configuration is refused, never silently mixed with old runs.
    let res = xtask()
        .args([
            "reproduce",
            "fig4",
            "--scale",
            "smoke",
            "--epochs",
            "3",
            "--quiet",
            "--data",
        ])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!res.status.success());
    assert!(String::from_utf8_lossy(&res.stderr).contains("different configuration"));

    // `reproduce export` gives what docs/results/ commits: rerunning its command.txt on the
    // export (as xtask/tests/results.rs does) trains nothing and writes the same report.
    let exported = dir.path().join("docs/fig2-smoke");
    let command = "reproduce fig2 --scale smoke --compare-reference --mix-groups --replicas 64";
    let said = run_ok(
        xtask()
            .args(["reproduce", "export"])
            .arg(out.join("fig2"))
            .arg(&exported)
            .args(["--command", command]),
    );
    assert!(said.contains("neurogenesis events dropped"), "{said}");
    assert!(!exported.join("checkpoints").exists());
    let curve = std::fs::read_to_string(exported.join("curves/neurogenesis-r00.json")).unwrap();
    assert!(
        !curve.contains("event_log") && curve.contains("curve_loss"),
        "{curve}"
    );
    let rerun = dir.path().join("rerun");
    std::fs::create_dir_all(&rerun).unwrap();
    let copy = rerun.join("fig2");
    std::fs::rename(&exported, &copy).unwrap();
    let before = std::fs::read(copy.join("runs.csv")).unwrap();
    let report = std::fs::read_to_string(copy.join("report.md")).unwrap();
    let recorded = std::fs::read_to_string(copy.join("command.txt")).unwrap();
    let args: Vec<&str> = recorded.split_whitespace().collect();
    assert_eq!(args.join(" "), command);
    run_ok(
        xtask()
            .args(&args)
            .arg("--quiet")
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&rerun),
    );
    assert_eq!(before, std::fs::read(copy.join("runs.csv")).unwrap());
    assert_eq!(
        report,
        std::fs::read_to_string(copy.join("report.md")).unwrap()
    );

    // `reproduce export --partial` carries an unfinished figure to a fresh checkout: fig4 as it
    // stood after half its runs (runs.csv cut to its first rows), exported, copied into a new
    // output directory as RESUME.md says and resumed, ends with the same results as the
    // uninterrupted run, and the carried rows are kept as they were.
    let unfinished = dir.path().join("unfinished/fig4");
    copy_dir(&out.join("fig4"), &unfinished);
    std::fs::remove_file(unfinished.join("report.md")).unwrap();
    let csv = std::fs::read_to_string(out.join("fig4/runs.csv")).unwrap();
    let kept: Vec<&str> = csv.lines().take(1 + 7).collect();
    let kept = format!("{}\n", kept.join("\n"));
    std::fs::write(unfinished.join("runs.csv"), &kept).unwrap();
    let carried = dir.path().join("docs/fig4-in-progress");
    let fig4 = "reproduce fig4 --scale smoke --compare-reference --mix-groups --replicas 64";
    let said = run_ok(
        xtask()
            .args(["reproduce", "export", "--partial"])
            .arg(&unfinished)
            .arg(&carried)
            .args(["--command", fig4]),
    );
    assert!(said.contains("7 recorded runs"), "{said}");
    assert!(!carried.join("command.txt").exists() && !carried.join("checkpoints").exists());
    let resume = std::fs::read_to_string(carried.join("RESUME.md")).unwrap();
    assert!(
        resume.contains("fig4, 7 runs recorded") && resume.contains(fig4),
        "{resume}"
    );
    let fresh = dir.path().join("fresh");
    std::fs::create_dir_all(fresh.join("fig4")).unwrap();
    std::fs::copy(carried.join("runs.csv"), fresh.join("fig4/runs.csv")).unwrap();
    copy_dir(&carried.join("curves"), &fresh.join("fig4/curves"));
    run_ok(
        xtask()
            .env("RAYON_NUM_THREADS", golden::THREADS)
            .args(fig4.split_whitespace())
            .arg("--quiet")
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&fresh),
    );
    let resumed = std::fs::read_to_string(fresh.join("fig4/runs.csv")).unwrap();
    assert!(resumed.starts_with(&kept), "the carried rows changed");
    common::runs::assert_same_results(&out.join("fig4/runs.csv"), &fresh.join("fig4/runs.csv"));
    assert!(fresh.join("fig4/report.md").is_file());
}

/// Spawns `reproduce fig4 --scale smoke` into `out`, kills it (SIGKILL) once `kill_when` says
/// so (or it finished by itself), and returns the rows recorded at that moment.
fn spawn_and_kill(
    data: &Path,
    out: &Path,
    mut kill_when: impl FnMut(Duration, usize) -> bool,
) -> Vec<(String, String, String, String)> {
    let mut child = xtask()
        .args(["reproduce", "fig4", "--scale", "smoke", "--quiet", "--data"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let csv = out.join("fig4/runs.csv");
    let t0 = Instant::now();
    loop {
        let n = if csv.exists() {
            read_rows(&csv).len()
        } else {
            0
        };
        if kill_when(t0.elapsed(), n) || t0.elapsed() > Duration::from_secs(300) {
            break;
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().ok();
    child.wait().unwrap();
    if csv.exists() {
        read_rows(&csv)
    } else {
        Vec::new()
    }
}

#[test]
fn a_killed_reproduction_resumes_without_losing_or_duplicating_runs() {
    let Some(data) = cifar() else { return };
    let dir = tempfile::tempdir().unwrap();
    let killed = dir.path().join("killed");
    let clean = dir.path().join("clean");
    // Uninterrupted reference.
    run_ok(
        xtask()
            .args(["reproduce", "fig4", "--scale", "smoke", "--quiet", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&clean),
    );
    let reference = read_rows(&clean.join("fig4/runs.csv"));
    assert_eq!(reference.len(), 8);
    // Three kills (SIGKILL), each run resuming the previous one: very early (start-up, data
    // loading), at a random moment, and a random moment after the next run is recorded. The
    // random delays come from the clock and are printed, so a failure can be replayed.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let random_ms = |k: u64, max: u64| (nanos / (k * 7 + 1)).wrapping_mul(2654435761) % max;
    let delay2 = Duration::from_millis(300 + random_ms(1, 3000));
    let extra3 = Duration::from_millis(random_ms(2, 1500));
    eprintln!("kill delays: 150 ms, {delay2:?}, first new row + {extra3:?}");
    let mut recorded: Vec<(String, String, String, String)> = Vec::new();
    let mut kills: Vec<Box<dyn FnMut(Duration, usize) -> bool>> = vec![
        Box::new(|t, _| t >= Duration::from_millis(150)),
        Box::new(move |t, _| t >= delay2),
        {
            let before = std::cell::Cell::new(None::<usize>);
            let seen = std::cell::Cell::new(None::<Duration>);
            Box::new(move |t, n| {
                let b = before.get().unwrap_or(n);
                before.set(Some(b));
                if n > b && seen.get().is_none() {
                    seen.set(Some(t));
                }
                seen.get().is_some_and(|s| t >= s + extra3)
            })
        },
    ];
    for (k, kill) in kills.iter_mut().enumerate() {
        let rows = spawn_and_kill(&data, &killed, kill);
        eprintln!("kill {}: {} runs recorded", k + 1, rows.len());
        // Nothing recorded before is lost or changed, nothing is duplicated, and every
        // recorded run is exactly the uninterrupted run's.
        for r in &recorded {
            assert!(rows.contains(r), "kill {}: run {r:?} was lost", k + 1);
        }
        let mut dedup = rows.clone();
        dedup.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        assert_eq!(
            dedup.len(),
            rows.len(),
            "kill {}: duplicates {rows:?}",
            k + 1
        );
        for r in &rows {
            assert!(reference.contains(r), "kill {}: {r:?} differs", k + 1);
        }
        recorded = rows;
    }
    assert!(
        recorded.len() < 8,
        "the kills came too late to interrupt anything ({} runs recorded)",
        recorded.len()
    );
    // No temporary files are mistaken for results; the rerun completes the rest.
    run_ok(
        xtask()
            .args(["reproduce", "fig4", "--scale", "smoke", "--quiet", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&killed),
    );
    let resumed = read_rows(&killed.join("fig4/runs.csv"));
    // Same runs, same results as without the kills (runs are seeded and deterministic).
    assert_eq!(resumed, reference);
    let report = std::fs::read_to_string(killed.join("fig4/report.md")).unwrap();
    assert!(report.contains("(8 ok, 0 failed)"), "{report}");
}

#[test]
fn a_diverging_learning_rate_fails_every_run_and_the_pipeline_goes_on() {
    let Some(data) = cifar() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // Not quiet, stderr a pipe (as in a nohup or Slurm log): progress comes as plain lines.
    let res = xtask()
        .args([
            "reproduce",
            "fig4",
            "--scale",
            "smoke",
            "--lr",
            "1e30",
            "--data",
        ])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{log}");
    assert_eq!(
        log.matches("runs recorded").count(),
        8,
        "one line a run:\n{log}"
    );
    assert_eq!(
        log.matches(": failed: training diverged").count(),
        8,
        "{log}"
    );
    assert!(
        log.contains("fig4: Random neurogenesis r0: failed: "),
        "{log}"
    );
    assert!(log.contains("(8 of 8 runs recorded)"), "{log}");
    let csv = out.join("fig4/runs.csv");
    let mut rdr = csv::Reader::from_path(&csv).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (s, m, lr) = (col("status"), col("message"), col("lr"));
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 8);
    for r in &rows {
        assert_eq!(&r[s], "failed", "{r:?}");
        assert!(r[m].contains("diverged"), "{r:?}");
        assert_eq!(r[lr].parse::<f64>().unwrap(), 1e30, "{r:?}");
    }
    let report = std::fs::read_to_string(out.join("fig4/report.md")).unwrap();
    assert!(report.contains("(0 ok, 8 failed)"), "{report}");
    assert!(report.contains("Failed runs"), "{report}");
    assert_eq!(report.matches("training diverged").count(), 8, "{report}");
}

#[test]
fn reference_quirks_smoke_results_are_unchanged() {
    let Some(data) = cifar() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_ok(
        xtask()
            .env("RAYON_NUM_THREADS", golden::THREADS)
            .args(["reproduce", "fig2", "--scale", "smoke", "--quiet"])
            .arg("--reference-quirks")
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&out),
    );
    golden::assert_matches(&out, &["fig2"], "smoke-quirks");
}

#[test]
fn plausibility_reports_a_trained_checkpoint_and_refuses_bad_flags() {
    let Some(data) = cifar() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run_ok(
        xtask()
            .args(["train", "--data"])
            .arg(&data)
            .args([
                "--epochs",
                "1",
                "--batch-size",
                "32",
                "--train-subset",
                "128",
                "--eval-subset",
                "100",
                "--seed",
                "5",
                "--out",
            ])
            .arg(&out),
    );
    let ck = out.join("model.safetensors");
    let json = dir.path().join("plausibility.json");
    let stdout = run_ok(
        xtask()
            .args(["plausibility", "--checkpoint"])
            .arg(&ck)
            .arg("--data")
            .arg(&data)
            .args(["--probe", "64", "--out"])
            .arg(&json),
    );
    assert!(stdout.contains("| fcs.1 | [250, 250] |"), "{stdout}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let names: Vec<&str> = r["synapses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "fcs.0", "fcs.1", "fcs.2", "fc3"]
    );
    // A convolution's units are its (output channel, kernel position) pairs; inputs its channels.
    assert_eq!(r["synapses"][1]["shape"], serde_json::json!([144, 16]));
    let activity = r["activity"].as_array().unwrap();
    assert_eq!(activity.len(), 3);
    for a in activity {
        assert_eq!(a["sparsity"]["n_samples"], 64);
        let f = a["sparsity"]["fraction_near_zero"].as_f64().unwrap();
        assert!(
            f > 0.0 && f < 1.0,
            "ReLU units are neither all silent nor all active: {f}"
        );
    }
    // Bad input: each names the problem.
    let fails = |args: &[&str], ck: &Path, needle: &str| {
        let o = xtask()
            .args(["plausibility", "--checkpoint"])
            .arg(ck)
            .arg("--data")
            .arg(&data)
            .args(args)
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && e.contains(needle) && !e.contains("panicked"),
            "{e}"
        );
    };
    fails(&["--probe", "0"], &ck, "--probe must be at least 1");
    fails(&["--probe", "20000"], &ck, "the test split's size");
    fails(&["--tol", "-1"], &ck, "--tol must be");
    fails(&["--tol", "NaN"], &ck, "--tol must be");
    fails(&[], &dir.path().join("missing.safetensors"), "no such file");
}
