//! Flag and path validation of every command: each bad value fails fast with a message that
//! names the flag or path and says what is allowed. The data these tests load is a tiny CIFAR-10
//! binary release written here (a few records per batch): they check flags, not training.
mod common;
use common::tiny_cifar;
use std::path::Path;
use std::process::Command;

fn xtask() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("neurogen-flags-cache");
    c.env("NEUROGEN_CACHE_DIR", cache);
    c
}

/// Runs the command, expects failure, returns stderr.
fn fails(cmd: &mut Command) -> String {
    let out = cmd.output().expect("xtask runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "{cmd:?} succeeded but should fail\nstdout:\n{}\nstderr:\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !stderr.contains("panicked"),
        "{cmd:?} panicked instead of reporting an error:\n{stderr}"
    );
    stderr
}

fn assert_mentions(stderr: &str, parts: &[&str]) {
    for p in parts {
        assert!(stderr.contains(p), "expected {p:?} in the error:\n{stderr}");
    }
}

fn train(data: &Path, out: &Path) -> Command {
    let mut c = xtask();
    c.arg("train").arg("--data").arg(data).arg("--out").arg(out);
    c
}

#[test]
fn train_rejects_zero_and_non_finite_numbers_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_cifar(dir.path(), 2);
    let out = dir.path().join("out");
    for (flag, value, allowed) in [
        ("--batch-size", "0", "at least 1"),
        ("--epochs", "0", "at least 1"),
        ("--hidden", "0", "at least 1"),
        ("--train-subset", "0", "at least 1"),
        ("--eval-subset", "0", "at least 1"),
        ("--lr", "0", "finite number > 0"),
        ("--lr", "-1e-3", "finite number > 0"),
        ("--lr", "nan", "finite number > 0"),
        ("--lr", "inf", "finite number > 0"),
    ] {
        // `--flag=value`, so that negative numbers are values, not flags.
        let e = fails(train(&data, &out).arg(format!("{flag}={value}")));
        assert_mentions(&e, &[flag, allowed]);
    }
    // Not a number at all: clap names the flag and the value.
    let e = fails(train(&data, &out).args(["--batch-size", "many"]));
    assert_mentions(&e, &["--batch-size", "many"]);
    let e = fails(train(&data, &out).args(["--device", "tpu"]));
    assert_mentions(&e, &["tpu"]);
    // Nothing was created for a command that failed on its flags.
    assert!(!out.exists());
}

#[test]
fn train_subsets_larger_than_the_data_are_refused_with_the_split_size() {
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_cifar(dir.path(), 2); // 10 training and 2 test images
    let out = dir.path().join("out");
    let e = fails(train(&data, &out).args(["--train-subset", "11"]));
    assert_mentions(&e, &["--train-subset 11", "10 images"]);
    let e = fails(train(&data, &out).args(["--eval-subset", "3"]));
    assert_mentions(&e, &["--eval-subset 3", "1..=2"]);
}

#[test]
fn bad_out_directories_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_cifar(dir.path(), 2);
    // --out is a file.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let e = fails(&mut train(&data, &file));
    assert_mentions(
        &e,
        &["--out", &file.display().to_string(), "not a directory"],
    );
    // --out below a file: cannot be created.
    let below = file.join("sub");
    let e = fails(&mut train(&data, &below));
    assert_mentions(
        &e,
        &["--out", &below.display().to_string(), "cannot create"],
    );
    let e = fails(
        xtask()
            .args(["reproduce", "fig4", "--scale", "smoke", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&file),
    );
    assert_mentions(
        &e,
        &["--out", &file.display().to_string(), "not a directory"],
    );
    // --out in a read-only directory (root ignores permissions, so this part cannot run as root).
    let ro = dir.path().join("read-only");
    std::fs::create_dir(&ro).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(ro.join("probe"), b"").is_ok() {
        eprintln!("SKIP: read-only --out: running with permission to write anywhere (root)");
    } else {
        let e = fails(&mut train(&data, &ro));
        assert_mentions(&e, &["--out", &ro.display().to_string(), "not writable"]);
        let e = fails(&mut train(&data, &ro.join("sub")));
        assert_mentions(&e, &["--out", "cannot create"]);
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn bad_data_paths_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-data");
    let e = fails(xtask().args(["data", "summary", "--data"]).arg(&missing));
    assert_mentions(&e, &[&missing.display().to_string()]);
    let e = fails(&mut train(&missing, &dir.path().join("out")));
    assert_mentions(&e, &["--data", &missing.display().to_string()]);
    // A file that holds no dataset.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a dataset").unwrap();
    let e = fails(xtask().args(["data", "summary", "--data"]).arg(&text));
    assert_mentions(&e, &[&text.display().to_string(), "not a .tar or .tar.gz"]);
    // A folder with no dataset in it.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("readme.md"), "hi").unwrap();
    let e = fails(xtask().args(["data", "summary", "--data"]).arg(&empty));
    assert_mentions(
        &e,
        &[&empty.display().to_string(), "not a recognised dataset"],
    );
    // A truncated batch file names the file and the record.
    let data = tiny_cifar(dir.path(), 2);
    let batch = data.join("data_batch_3.bin");
    let bytes = std::fs::read(&batch).unwrap();
    std::fs::write(&batch, &bytes[..bytes.len() - 100]).unwrap();
    let e = fails(
        xtask()
            .args(["data", "summary", "--no-cache", "--data"])
            .arg(&data),
    );
    assert_mentions(&e, &["data_batch_3.bin", "truncated record 2"]);
}

#[test]
fn eval_checkpoint_paths_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_cifar(dir.path(), 2);
    let eval = |ck: &Path| {
        let mut c = xtask();
        c.arg("eval")
            .arg("--checkpoint")
            .arg(ck)
            .arg("--data")
            .arg(&data);
        c
    };
    // A directory.
    let e = fails(&mut eval(dir.path()));
    assert_mentions(
        &e,
        &[
            "--checkpoint",
            &dir.path().display().to_string(),
            "is a directory",
        ],
    );
    // Missing.
    let missing = dir.path().join("model.safetensors");
    let e = fails(&mut eval(&missing));
    assert_mentions(
        &e,
        &[
            "--checkpoint",
            &missing.display().to_string(),
            "no such file",
        ],
    );
    // The wrong kind of file.
    let wrong = dir.path().join("wrong.safetensors");
    std::fs::write(&wrong, "{\"not\": \"a checkpoint\"}").unwrap();
    let e = fails(&mut eval(&wrong));
    assert_mentions(
        &e,
        &[&wrong.display().to_string(), "not a safetensors file"],
    );
    let e = fails(eval(&wrong).args(["--subset", "0"]));
    assert_mentions(&e, &["--subset", "at least 1"]);
}

#[test]
fn reproduce_rejects_bad_repeats_epochs_and_learning_rates() {
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_cifar(dir.path(), 2);
    let out = dir.path().join("out");
    let reproduce = |extra: &[&str]| {
        let mut c = xtask();
        c.args(["reproduce", "fig4", "--scale", "smoke", "--quiet", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .args(extra);
        c
    };
    let e = fails(&mut reproduce(&["--repeats", "1"]));
    assert_mentions(&e, &["--repeats", "at least 2"]);
    let e = fails(&mut reproduce(&["--epochs", "0"]));
    assert_mentions(&e, &["--epochs", "at least 1"]);
    for lr in ["0", "-1", "nan", "inf"] {
        let e = fails(&mut reproduce(&[&format!("--lr={lr}")]));
        assert_mentions(&e, &["--lr", "finite number > 0"]);
    }
    for k in ["0", "-2", "many"] {
        let e = fails(&mut reproduce(&[&format!("--replicas={k}")]));
        assert_mentions(&e, &["--replicas", "auto", ">= 1"]);
    }
    let e = fails(
        xtask()
            .args(["bench", "throughput", "--replicas", "0"])
            .arg("--data")
            .arg(&data),
    );
    assert_mentions(&e, &["--replicas", "at least 1"]);
    let e = fails(
        xtask()
            .args(["bench", "throughput", "--loss-readback", "0"])
            .arg("--data")
            .arg(&data),
    );
    assert_mentions(&e, &["--loss-readback", "at least 1"]);
    let e = fails(
        xtask()
            .args(["reproduce", "fig4", "--scale", "huge", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&out),
    );
    assert_mentions(&e, &["--scale", "smoke", "quick", "paper"]);
    assert!(!out.exists(), "nothing is written for bad flags");
}

#[test]
fn analyze_names_missing_files_directories_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let analyze = |csv: &Path, value: &str| {
        let mut c = xtask();
        c.arg("analyze")
            .arg("--csv")
            .arg(csv)
            .args(["--value", value, "--group", "group"]);
        c
    };
    let missing = dir.path().join("runs.csv");
    let e = fails(&mut analyze(&missing, "test_accuracy"));
    assert_mentions(&e, &[&missing.display().to_string()]);
    let e = fails(&mut analyze(dir.path(), "test_accuracy"));
    assert_mentions(&e, &["--csv", "is a directory"]);
    std::fs::write(&missing, "group,test_accuracy\na,1\na,2\nb,3\nb,4\n").unwrap();
    let e = fails(&mut analyze(&missing, "accuracy"));
    assert_mentions(&e, &["accuracy", &missing.display().to_string()]);
}

#[test]
fn bench_throughput_runs_with_replicas_and_deferred_loss_readback() {
    // A short benchmark on the tiny release (10 training images): it trains, evaluates and
    // reports JSON with the readback interval it used (every window settles what is pending).
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_cifar(dir.path(), 2);
    let huge = usize::MAX.to_string();
    for (every, expect) in [(None, 1), (Some("3"), 3), (Some(huge.as_str()), usize::MAX)] {
        let mut c = xtask();
        c.args(["bench", "throughput", "--replicas", "2", "--json"])
            .args([
                "--windows",
                "2",
                "--window-secs",
                "0.05",
                "--warmup-steps",
                "2",
            ])
            .arg("--data")
            .arg(&data);
        if let Some(e) = every {
            c.args(["--loss-readback", e]);
        }
        let out = c.output().expect("xtask runs");
        assert!(
            out.status.success(),
            "{c:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["loss_readback"], expect);
        assert_eq!(report["replicas"], 2);
        assert_eq!(report["train"]["windows"].as_array().unwrap().len(), 2);
        assert!(report["train"]["images_per_second"].as_f64().unwrap() > 0.0);
        assert!(report["train"]["steps"].as_u64().unwrap() >= 2);
    }
}

#[test]
fn bench_gevb_times_a_vectorized_step_and_refuses_bad_shapes() {
    // A tiny network, a few short windows: it trains under both rules and reports JSON.
    let tiny = ["--input-dim", "12", "--hidden", "8,4", "--batch-size", "4"];
    let timing = [
        "--windows",
        "2",
        "--window-secs",
        "0.05",
        "--warmup-steps",
        "1",
    ];
    for (rule, name) in [("gevb", "GEVB"), ("bp", "BP")] {
        let out = xtask()
            .args(["bench", "gevb", "--json", "--rule", rule])
            .args(tiny)
            .args(timing)
            .output()
            .expect("xtask runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(v["rule"], name);
        assert_eq!(v["mono"], true);
        assert_eq!(v["train"]["windows"].as_array().unwrap().len(), 2);
        assert!(v["train"]["images_per_second"].as_f64().unwrap() > 0.0);
    }
    let e = fails(
        xtask()
            .args(["bench", "gevb", "--hidden", "7"])
            .args(timing),
    );
    assert_mentions(&e, &["even"]);
    let e = fails(xtask().args(["bench", "gevb", "--windows", "0"]));
    assert_mentions(&e, &["--windows", "at least 1"]);
    let e = fails(xtask().args(["bench", "gevb", "--batch-size", "0"]));
    assert_mentions(&e, &["--batch-size", "at least 1"]);
}
