//! `reproduce single-directions --scale smoke` end to end on real CIFAR-10 and Fashion-MNIST
//! (skips with a message when either is absent): every setting trains, every claim of Morcos et
//! al. gets a row, the plots are drawn, a rerun without the checkpoints trains and analyses
//! nothing and writes the same report, and bad flags are refused with a clear message.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod common;

use common::runs::run_ok;

fn xtask() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("neurogen-cache");
    c.env("NEUROGEN_CACHE_DIR", cache);
    c.env("RAYON_NUM_THREADS", "2");
    c
}

fn data() -> Option<(PathBuf, PathBuf)> {
    match (
        neurogen_data::cifar10_archive(),
        neurogen_data::fashion_mnist_dir(),
    ) {
        (Some(c), Some(f)) => Some((c, f)),
        _ => {
            neurogen_testkit::data::skip(
                "needs ../shared/data/cifar10-jpeg.tar.gz and Fashion-MNIST",
            );
            None
        }
    }
}

fn smoke(cifar: &Path, fashion: &Path, out: &Path) -> Command {
    let mut c = xtask();
    c.args([
        "reproduce",
        "single-directions",
        "--scale",
        "smoke",
        "--quiet",
    ])
    .arg("--data")
    .arg(cifar)
    .arg("--mlp-data")
    .arg(fashion)
    .arg("--out")
    .arg(out);
    c
}

#[test]
fn single_directions_runs_at_smoke_scale_and_resumes_without_checkpoints() {
    let Some((cifar, fashion)) = data() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let t0 = Instant::now();
    run_ok(&mut smoke(&cifar, &fashion, &out));
    eprintln!(
        "reproduce single-directions --scale smoke: {:.0} s",
        t0.elapsed().as_secs_f64()
    );
    let fig = out.join("single-directions");
    let report = std::fs::read_to_string(fig.join("report.md")).unwrap();
    for want in [
        "# Single directions and generalisation (Morcos et al., ICLR 2018)",
        "| CNN f = 0 | 2 |",
        "| CNN f = 1 | 2 |",
        "| MLP f = 1 | 2 |",
        "| CNN dropout p = 0.4 | 2 |",
        "| CNN width 32 | 2 |",
        "CNN: Spearman ρ(f, ablation AUC, hidden layer 1) < 0",
        "MLP: Spearman ρ(f, noise AUC, hidden layer 1) < 0",
        "CNN, hidden layer 1: Pearson r(ablation AUC, test accuracy) > 0",
        "CNN last convolution: per-network Spearman ρ(selectivity, importance)",
        "dropout p = 0.4: (slope after p − slope before p)",
    ] {
        assert!(report.contains(want), "missing {want:?} in\n{report}");
    }
    let claims = report.split("## Claims").nth(1).unwrap();
    let rows: Vec<&str> = claims.lines().filter(|l| l.starts_with("| (")).collect();
    // Claim 1: CNN ×3 and MLP ×2; claim 2: 3; claim 3: 3; claim 4: one per dropout setting.
    assert_eq!(rows.len(), 12, "{claims}");
    for r in &rows {
        assert!(r.ends_with("** |"), "no verdict in {r}");
    }
    for plot in [
        "ablation-cnn",
        "ablation-cnn-conv",
        "noise-cnn",
        "ablation-mlp",
        "noise-mlp",
        "robustness-vs-test",
        "selectivity-vs-importance",
    ] {
        assert!(fig.join(format!("{plot}.svg")).is_file(), "{plot}.svg");
    }
    let n_analyses = std::fs::read_dir(fig.join("analysis")).unwrap().count();
    assert_eq!(n_analyses, 14);
    // A rerun without the checkpoints: every run is recorded and every analysis saved, so
    // nothing is trained or analysed, and the report is the same.
    let runs = std::fs::read(fig.join("runs.csv")).unwrap();
    std::fs::remove_dir_all(fig.join("checkpoints")).unwrap();
    run_ok(&mut smoke(&cifar, &fashion, &out));
    assert_eq!(runs, std::fs::read(fig.join("runs.csv")).unwrap());
    assert_eq!(
        report,
        std::fs::read_to_string(fig.join("report.md")).unwrap()
    );
}

#[test]
fn bad_flags_are_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let fails = |args: &[&str], want: &str| {
        let o = xtask()
            .args(["reproduce"])
            .args(args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    };
    fails(
        &["single-directions", "--shard", "1/2"],
        "unexpected argument '--shard'",
    );
    fails(
        &["merge", "single-directions"],
        "invalid value 'single-directions'",
    );
    fails(
        &["single-directions", "--reference-quirks"],
        "unexpected argument '--reference-quirks'",
    );
    fails(&["single-directions", "--repeats", "1"], "at least 2");
    fails(&["single-directions", "--lr", "nan"], "finite number");
    fails(
        &["single-directions", "--mlp-data", "/nonexistent/fmnist"],
        "/nonexistent/fmnist",
    );
    if let Some((cifar, fashion)) = data() {
        // The two data sets swapped.
        let mut c = xtask();
        let o = c
            .args([
                "reproduce",
                "single-directions",
                "--scale",
                "smoke",
                "--quiet",
            ])
            .arg("--data")
            .arg(&fashion)
            .arg("--mlp-data")
            .arg(&cifar)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(!o.status.success());
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("trains the paper's CNN on CIFAR-10"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
