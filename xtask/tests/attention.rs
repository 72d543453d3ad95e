//! `reproduce attention --scale smoke` end to end through the binary on real Fashion-MNIST
//! (skips with a message when the IDX files are absent): every run is recorded, the report
//! decides both claims, a second call trains nothing and rewrites the same report, and bad flags
//! are refused with a clear message.
use std::path::Path;
use std::process::{Command, Output};

fn attention(args: &[&str], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .env(
            "NEUROGEN_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("neurogen-cache"),
        )
        .args(["reproduce", "attention", "--out"])
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
fn attention_runs_at_smoke_scale_and_resumes() {
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
    let first = attention(&args, &out);
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        text(&first).contains("4 of 4 runs recorded"),
        "{}",
        text(&first)
    );
    let dir = out.join("attention");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for want in [
        "| Top-down gating beats the feed-forward control on accuracy (Gated vs FeedForward) |",
        "| Inhibition is lower on the attended object than on the unattended one (Gated, attended − unattended < 0) |",
    ] {
        assert!(report.contains(want), "report lacks {want:?}:\n{report}");
    }
    let csv = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");

    let again = attention(&args, &out);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        !text(&again).contains("training "),
        "the second call trains nothing:\n{}",
        text(&again)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("report.md")).unwrap(),
        report
    );
    assert_eq!(std::fs::read_to_string(dir.join("runs.csv")).unwrap(), csv);
}

#[test]
fn bad_attention_flags_are_refused_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    for (args, want) in [
        (&["--scale", "paper"][..], "has scales smoke and quick only"),
        (
            &["--scale", "smoke", "--repeats", "1"][..],
            "--repeats must be at least 2",
        ),
        (
            &["--scale", "smoke", "--device", "cuda"][..],
            "runs on the CPU",
        ),
        (
            &["--scale", "smoke", "--data", "/no/such/dir"][..],
            "no such file or directory",
        ),
        (
            &["--scale", "smoke", "--dataset", "mnist"][..],
            "--dataset mnist needs --data DIR with MNIST's IDX files",
        ),
        (&["--scale", "smoke", "--epochs", "3"][..], "--epochs"),
    ] {
        let o = attention(args, &out);
        assert!(!o.status.success(), "{args:?} was accepted");
        assert!(text(&o).contains(want), "{args:?}: {}", text(&o));
    }
    assert!(!out.join("attention/runs.csv").exists());
}

/// `--dataset mnist --data DIR` reads MNIST's IDX files (here Fashion-MNIST's files under
/// MNIST's identical names, since MNIST is not installed: the read path is what is tested) and
/// the report says the runs are MNIST's.
#[test]
fn attention_reads_mnist_idx_files_from_data() {
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
    let o = attention(
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
    let report = std::fs::read_to_string(out.join("attention/report.md")).unwrap();
    assert!(report.contains("Ours: MNIST, as the paper"), "{report}");
}
