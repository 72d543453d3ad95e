//! `reproduce flymodel --scale smoke` end to end on real Fashion-MNIST (skips with a message
//! when the IDX files are absent): every method runs, the report decides every claim, the plot
//! is drawn, a second run resumes from `results.json` without training again, and bad flags are
//! refused with a clear message.
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn xtask() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("neurogen-cache");
    c.env("NEUROGEN_CACHE_DIR", cache);
    c
}

#[test]
fn flymodel_runs_at_smoke_scale_and_resumes() {
    let Some(data) = neurogen_data::fashion_mnist_dir() else {
        eprintln!(
            "SKIP: no Fashion-MNIST (package dataset-fashion-mnist or $NEUROGEN_FASHION_MNIST)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = || {
        let o = xtask()
            .args([
                "reproduce",
                "flymodel",
                "--scale",
                "smoke",
                "--quiet",
                "--data",
            ])
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    };
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
                "| not significant |",
                "| does not hold |",
                "untestable"
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
    let fly_final: Vec<f64> = csv
        .lines()
        .filter(|l| l.starts_with("flymodel,"))
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    assert_eq!(fly_final.len(), 2);
    assert!(
        fly_final.iter().all(|&a| (0.2..=1.0).contains(&a)),
        "{fly_final:?}"
    );
    // Resuming: every run is in results.json, nothing is trained again, same report.
    let json = std::fs::read_to_string(fly.join("results.json")).unwrap();
    run();
    assert_eq!(
        std::fs::read_to_string(fly.join("results.json")).unwrap(),
        json
    );
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
        (vec!["--epochs", "3"], "--epochs does not apply"),
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
    assert!(String::from_utf8_lossy(&o.stderr).contains("fashion-mnist, mnist, kmnist"));
}
