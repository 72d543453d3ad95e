//! `reproduce modular --scale smoke` end to end through the binary on real Fashion-MNIST
//! (skips with a message when the IDX files are absent): every run is recorded, the report
//! decides both claims, a second call trains nothing, and foreign flags are refused.
use std::path::Path;
use std::process::{Command, Output};

fn modular(args: &[&str], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .env(
            "NEUROGEN_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("neurogen-cache"),
        )
        .args(["reproduce", "modular", "--out"])
        .arg(out)
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn modular_runs_at_smoke_scale_and_resumes() {
    let Some(data) = neurogen_testkit::data::or_skip(
        neurogen_data::fashion_mnist_dir(),
        "no Fashion-MNIST (package dataset-fashion-mnist or $NEUROGEN_FASHION_MNIST)",
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let data = data.display().to_string();
    let args = ["--scale", "smoke", "--data", data.as_str()];
    let first = modular(&args, &out);
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        text(&first).contains("6 of 6 runs recorded"),
        "{}",
        text(&first)
    );
    let dir = out.join("modular");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        report.contains("| Specialization is higher at the sparsest p than dense"),
        "{report}"
    );
    let csv = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7, "{csv}");

    let again = modular(&args, &out);
    assert!(again.status.success(), "{}", text(&again));
    assert!(!text(&again).contains("training "), "{}", text(&again));
    assert_eq!(
        std::fs::read_to_string(dir.join("report.md")).unwrap(),
        report
    );
}

#[test]
fn bad_modular_flags_are_refused_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    for (args, want) in [
        (
            &["--scale", "smoke", "--repeats", "1"][..],
            "--repeats must be at least 2",
        ),
        (&["--scale", "smoke", "--scheme", "dense"][..], "--scheme"),
        (&["--scale", "smoke", "--epochs", "3"][..], "--epochs"),
        (
            &["--scale", "smoke", "--data", "/no/such/dir"][..],
            "no such file or directory",
        ),
        (
            &["--scale", "smoke", "--dataset", "mnist"][..],
            "--dataset mnist needs --data DIR with MNIST's IDX files",
        ),
    ] {
        let o = modular(args, &out);
        assert!(!o.status.success(), "{args:?} was accepted");
        assert!(text(&o).contains(want), "{args:?}: {}", text(&o));
    }
    assert!(!out.join("modular/runs.csv").exists());
}

/// `--scheme` replaces the scale's interconnections and writes into `OUT/modular-SCHEME`,
/// whose report says which scheme ran.
#[test]
fn the_scheme_flag_writes_its_own_directory() {
    let Some(data) = neurogen_testkit::data::or_skip(
        neurogen_data::fashion_mnist_dir(),
        "no Fashion-MNIST (package dataset-fashion-mnist or $NEUROGEN_FASHION_MNIST)",
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let data = data.display().to_string();
    let args = [
        "--scale",
        "smoke",
        "--scheme",
        "deep-r",
        "--data",
        data.as_str(),
    ];
    let o = modular(&args, &out);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!out.join("modular").exists());
    let report = std::fs::read_to_string(out.join("modular-deep-r/report.md")).unwrap();
    assert!(
        report.contains("Deep-R interconnections, as the authors'"),
        "{report}"
    );
    assert!(!report.contains("fixed random mask"), "{report}");
}

/// `--dataset mnist --data DIR` reads MNIST's IDX files (here Fashion-MNIST's files under
/// MNIST's identical names, since MNIST is not installed: the read path is what is tested) and
/// the report says the runs are MNIST's.
#[test]
fn modular_reads_mnist_idx_files_from_data() {
    let Some(fashion) = neurogen_testkit::data::or_skip(
        neurogen_data::fashion_mnist_dir(),
        "no Fashion-MNIST (package dataset-fashion-mnist or $NEUROGEN_FASHION_MNIST)",
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mnist = tmp.path().join("mnist");
    std::fs::create_dir(&mnist).unwrap();
    for e in std::fs::read_dir(&fashion).unwrap() {
        let f = e.unwrap().path();
        if f.file_name().unwrap().to_string_lossy().contains("-ubyte") {
            std::fs::copy(&f, mnist.join(f.file_name().unwrap())).unwrap();
        }
    }
    let out = tmp.path().join("out");
    let m = mnist.display().to_string();
    let o = modular(
        &[
            "--scale",
            "smoke",
            "--dataset",
            "mnist",
            "--data",
            m.as_str(),
        ],
        &out,
    );
    assert!(o.status.success(), "{}", text(&o));
    let report = std::fs::read_to_string(out.join("modular/report.md")).unwrap();
    assert!(
        report.contains("MNIST's digits, as the authors"),
        "{report}"
    );
}
