//! What the tests of the study commands (`reproduce attention|dale|gevb|modular`) share: the
//! binary runner and its output as text, Fashion-MNIST or a skip, MNIST's file names on
//! Fashion-MNIST's files, the smoke-and-resume check and the bad-flags table.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `xtask reproduce STUDY --out OUT ARGS…` (the downloads cache under the target's
/// temporary directory).
pub fn reproduce(study: &str, args: &[&str], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .env(
            "NEUROGEN_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("neurogen-cache"),
        )
        .args(["reproduce", study, "--out"])
        .arg(out)
        .args(args)
        .output()
        .unwrap()
}

/// A command's stdout then stderr, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Fashion-MNIST's directory, or `None` after a message saying the test skips (a failure
/// under `NEUROGEN_REQUIRE_DATA=1`).
pub fn fashion_mnist_or_skip() -> Option<PathBuf> {
    neurogen_testkit::data::or_skip(
        neurogen_data::fashion_mnist_dir(),
        "no Fashion-MNIST (package dataset-fashion-mnist or $NEUROGEN_FASHION_MNIST)",
    )
}

/// The four IDX files of `dir` (names containing `-ubyte`), sorted by name.
pub fn idx_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains("-ubyte"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "{files:?}");
    files
}

/// Copies `files` into `dir` under their own names.
pub fn copy_into(files: &[PathBuf], dir: &Path) {
    for f in files {
        std::fs::copy(f, dir.join(f.file_name().unwrap())).unwrap();
    }
}

/// A folder `dir/mnist` holding Fashion-MNIST's IDX files from `fashion`, which carry MNIST's
/// identical names (MNIST is not installed: what `--dataset mnist --data DIR` tests is the read
/// path); returns it.
pub fn mnist_named_copy(fashion: &Path, dir: &Path) -> PathBuf {
    let mnist = dir.join("mnist");
    std::fs::create_dir(&mnist).unwrap();
    copy_into(&idx_files(fashion), &mnist);
    mnist
}

/// `reproduce STUDY --scale smoke --dataset mnist --data DIR` on [`mnist_named_copy`] of
/// Fashion-MNIST: the call succeeds; returns its `OUT/STUDY/report.md`, or `None` where
/// Fashion-MNIST is absent (the test skips).
pub fn smoke_report_on_mnist_names(study: &str) -> Option<String> {
    let fashion = fashion_mnist_or_skip()?;
    let tmp = tempfile::tempdir().unwrap();
    let mnist = mnist_named_copy(&fashion, tmp.path()).display().to_string();
    let out = tmp.path().join("out");
    let args = ["--scale", "smoke", "--dataset", "mnist", "--data", &mnist];
    let o = reproduce(study, &args, &out);
    assert!(o.status.success(), "{}", text(&o));
    Some(std::fs::read_to_string(out.join(study).join("report.md")).unwrap())
}

/// What a study's first call recorded, as [`smoke_runs_and_resumes`] checked it.
pub struct Recorded {
    /// The study's output directory, `OUT/STUDY`.
    pub dir: PathBuf,
    /// Its `report.md`.
    pub report: String,
    /// Its `runs.csv`.
    pub csv: String,
}

/// Runs `reproduce STUDY ARGS` into `out` twice: the first call succeeds and says `RUNS of
/// RUNS runs recorded`, its report (in `OUT/STUDY`) holds each of `wants` and its `runs.csv`
/// one line a run under the header; the second call succeeds, trains nothing, and leaves the
/// report and `runs.csv` as they were.
pub fn smoke_runs_and_resumes(
    study: &str,
    args: &[&str],
    out: &Path,
    runs: usize,
    wants: &[&str],
) -> Recorded {
    smoke_runs_and_resumes_in(study, study, args, out, runs, wants)
}

/// [`smoke_runs_and_resumes`] for a command that writes into `OUT/DIR_NAME` (e.g.
/// `gevb-cifar10` for `reproduce gevb --dataset cifar10`).
pub fn smoke_runs_and_resumes_in(
    study: &str,
    dir_name: &str,
    args: &[&str],
    out: &Path,
    runs: usize,
    wants: &[&str],
) -> Recorded {
    let first = reproduce(study, args, out);
    assert!(first.status.success(), "{}", text(&first));
    let recorded = format!("{runs} of {runs} runs recorded");
    assert!(text(&first).contains(&recorded), "{}", text(&first));
    let dir = out.join(dir_name);
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for want in wants {
        assert!(report.contains(want), "report lacks {want:?}:\n{report}");
    }
    let csv = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    assert_eq!(csv.lines().count(), runs + 1, "{csv}");

    let again = reproduce(study, args, out);
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
    Recorded { dir, report, csv }
}

/// A single repeat, which every study command that takes `--repeats` refuses.
pub const ONE_REPEAT: (&[&str], &str) = (
    &["--scale", "smoke", "--repeats", "1"],
    "--repeats must be at least 2",
);
/// A CUDA device, which the study commands that run on the CPU only refuse.
pub const CUDA: (&[&str], &str) = (&["--scale", "smoke", "--device", "cuda"], "runs on the CPU");
/// A `--data` folder that does not exist, which every study command refuses.
pub const NO_SUCH_DATA: (&[&str], &str) = (
    &["--scale", "smoke", "--data", "/no/such/dir"],
    "no such file or directory",
);
/// `--dataset mnist` without `--data`, which the study commands that read MNIST refuse.
pub const MNIST_WITHOUT_DATA: (&[&str], &str) = (
    &["--scale", "smoke", "--dataset", "mnist"],
    "--dataset mnist needs --data DIR with MNIST's IDX files",
);
/// A flag of the paper's CNN figures, which a study command does not take.
pub const EPOCHS: (&[&str], &str) = (&["--scale", "smoke", "--epochs", "3"], "--epochs");

/// Each of `cases` (flags, what the message must say) is refused by `reproduce STUDY` with a
/// message saying it, and none of them leaves a `runs.csv` in `OUT/STUDY`.
pub fn refuses_bad_flags(study: &str, cases: &[(&[&str], &str)]) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    for &(args, want) in cases {
        let o = reproduce(study, args, &out);
        assert!(!o.status.success(), "{args:?} was accepted");
        assert!(text(&o).contains(want), "{args:?}: {}", text(&o));
    }
    assert!(!out.join(study).join("runs.csv").exists());
}

/// A tiny CIFAR-10 binary release of the test kit under `dir` (1,000 images per batch file:
/// 5,000 training and 1,000 test images, enough for a smoke scale), as a `--data` argument.
pub fn tiny_cifar10(dir: &Path) -> String {
    let cifar = dir.join("cifar-10-batches-bin");
    neurogen_testkit::cifar::write_cifar_binary(&cifar, 1_000);
    cifar.display().to_string()
}
