//! Reading `runs.csv` files for comparisons (shared by the scale-out and Slurm tests).
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The columns of `runs.csv` that the machine and its timing determine, not the training; every
/// other column is a result that reproductions must agree on.
pub const MEASURED_COLUMNS: &[&str] = &["device", "wall_seconds", "images_per_second", "replicas"];

/// (group, repeat) of a run.
pub type Key = (String, String);

/// Every row of `path` as (group, repeat) -> every column (by name), in file order; panics on a
/// duplicated run.
pub fn all_columns(path: &Path) -> Vec<(Key, BTreeMap<String, String>)> {
    let mut rdr =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = rdr.headers().unwrap().clone();
    let mut out: Vec<(Key, BTreeMap<String, String>)> = Vec::new();
    for r in rdr.records() {
        let r = r.unwrap();
        let m: BTreeMap<String, String> = headers
            .iter()
            .zip(r.iter())
            .map(|(h, v)| (h.to_string(), v.to_string()))
            .collect();
        let key = (m["group"].clone(), m["repeat"].clone());
        assert!(
            !out.iter().any(|(k, _)| *k == key),
            "{}: run {key:?} appears twice",
            path.display()
        );
        out.push((key, m));
    }
    out
}

/// The result columns of every run in `path` (all but [`MEASURED_COLUMNS`]), by (group,
/// repeat), as (column, value) in column order.
pub fn results(path: &Path) -> BTreeMap<Key, Vec<(String, String)>> {
    all_columns(path)
        .into_iter()
        .map(|(k, m)| {
            let v = m
                .into_iter()
                .filter(|(c, _)| !MEASURED_COLUMNS.contains(&c.as_str()))
                .collect();
            (k, v)
        })
        .collect()
}

/// Asserts that `got` holds exactly the runs of `want` with the same results, naming the first
/// difference.
pub fn assert_same_results(want: &Path, got: &Path) {
    let (w, g) = (results(want), results(got));
    for (k, a) in &w {
        let b = g.get(k).unwrap_or_else(|| {
            panic!(
                "run {k:?} of {} is missing from {}",
                want.display(),
                got.display()
            )
        });
        let names = |v: &[(String, String)]| v.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(a),
            names(b),
            "run {k:?}: {} and {} have different columns",
            want.display(),
            got.display()
        );
        for ((c, x), (_, y)) in a.iter().zip(b) {
            assert_eq!(
                x,
                y,
                "run {k:?}, column {c}: {} has {x}, {} has {y}",
                want.display(),
                got.display()
            );
        }
    }
    let extra: Vec<&Key> = g.keys().filter(|k| !w.contains_key(*k)).collect();
    assert!(
        extra.is_empty(),
        "{} has runs {} lacks: {extra:?}",
        got.display(),
        want.display()
    );
}

/// Rayon threads of the scale-out runs (CPU results depend on the thread count).
pub const THREADS: &str = "2";

/// The xtask binary with a decode cache `cache` (a name under the build's temporary directory)
/// and [`THREADS`] rayon threads; Slurm jobs inherit this environment (`--export=ALL`).
pub fn xtask_with_cache(cache: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    c.env(
        "NEUROGEN_CACHE_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(cache),
    )
    .env("RAYON_NUM_THREADS", THREADS)
    .env("RUST_BACKTRACE", "0");
    c
}

/// The flags of a one-epoch smoke run of `data` into `out`, one run per replica batch (so that
/// shards have several batches).
pub fn smoke_flags(data: &Path, out: &Path) -> Vec<String> {
    [
        "--scale",
        "smoke",
        "--epochs",
        "1",
        "--quiet",
        "--replicas",
        "1",
        "--data",
        &data.display().to_string(),
        "--out",
        &out.display().to_string(),
    ]
    .map(String::from)
    .to_vec()
}

/// Runs `cmd`, asserting success; returns stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the command runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{cmd:?} failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs `cmd`, asserting failure; returns stderr.
pub fn run_err(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the command runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "{cmd:?} succeeded but should have failed\nstdout:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}
