//! What `reproduce` does with an output directory it must not touch: one that another process
//! is writing (the directory lock), and a `runs.csv` it cannot read as a whole. Both fail
//! before any training, so a small CIFAR-10 binary release written here is enough (big enough
//! for the smoke scale's subsets where the check comes after them).
mod common;
use common::tiny_cifar;
use std::path::Path;
use std::process::Command;

fn xtask() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("neurogen-integrity-cache");
    c.env("NEUROGEN_CACHE_DIR", cache);
    c
}

/// `reproduce fig2 --scale smoke` on `data` into `out`; expects failure, returns stderr.
fn reproduce_fails(data: &Path, out: &Path) -> String {
    let o = xtask()
        .args(["reproduce", "fig2", "--scale", "smoke", "--quiet", "--data"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .output()
        .expect("xtask runs");
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        !o.status.success(),
        "reproduce succeeded but should fail\nstderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn assert_mentions(stderr: &str, parts: &[&str]) {
    for p in parts {
        assert!(stderr.contains(p), "expected {p:?} in the error:\n{stderr}");
    }
}

#[test]
fn a_second_reproduce_on_the_same_out_refuses_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_cifar(dir.path(), 4);
    let out = dir.path().join("out");
    let fig = out.join("fig2");
    std::fs::create_dir_all(&fig).unwrap();
    // This test process plays the first `reproduce`.
    let lock = neurogen_io::DirLock::acquire(&fig, "reproduce fig2").unwrap();
    let e = reproduce_fails(&data, &out);
    assert_mentions(
        &e,
        &[
            &fig.display().to_string(),
            "is in use",
            &format!("pid {}", std::process::id()),
            &format!("host {}", neurogen_io::host_name()),
            &fig.join(".lock").display().to_string(),
        ],
    );
    assert!(!fig.join("runs.csv").exists(), "nothing was written");
    // The refused process did not disturb the holder's lock.
    let text = std::fs::read_to_string(lock.path()).unwrap();
    assert!(
        text.contains(&format!("pid={}", std::process::id())),
        "{text}"
    );
    drop(lock);
}

#[test]
fn a_garbage_runs_csv_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_cifar(dir.path(), 200);
    let out = dir.path().join("out");
    let fig = out.join("fig2");
    std::fs::create_dir_all(&fig).unwrap();
    let csv = fig.join("runs.csv");
    let garbage = "garbage,\"unterminated";
    std::fs::write(&csv, garbage).unwrap();
    let e = reproduce_fails(&data, &out);
    assert_mentions(
        &e,
        &[
            &csv.display().to_string(),
            "not a runs.csv written by reproduce",
            "left unchanged",
        ],
    );
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), garbage);
    // The lock was released when the refusing process exited.
    neurogen_io::DirLock::acquire(&fig, "the test").unwrap();
}
