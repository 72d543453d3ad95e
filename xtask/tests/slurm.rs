//! On a real Slurm (`.ci/slurm/start.sh` starts one on this machine; CI does): a smoke-scale
//! figure as an array job of shards plus the merge job `reproduce slurm` writes, and an array
//! task cancelled mid-run (`scancel`) and resubmitted. Both compare the merged runs.csv with a
//! single machine's run, column by column.
//!
//! The tests skip with a message saying why when no Slurm answers (`sbatch` missing, or
//! `sinfo` failing: start one and export `SLURM_CONF`); with `NEUROGEN_REQUIRE_SLURM=1` (set by
//! .ci/run once start.sh succeeded) they fail instead.
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::runs::{all_columns, assert_same_results, run_ok};
use common::tiny_cifar;

/// The longest any job may take here before the test gives up (and cancels it).
const JOB_TIMEOUT: Duration = Duration::from_secs(300);

/// The two tests share the cluster's cores: one at a time.
static CLUSTER: Mutex<()> = Mutex::new(());

fn xtask() -> Command {
    common::runs::xtask_with_cache("neurogen-slurm-cache")
}

/// Whether a Slurm controller with an idle or usable node answers; `Err(why)` otherwise.
fn slurm_up() -> Result<(), String> {
    let mut child = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("`sinfo` cannot run ({e}): Slurm is not installed (apt-get install slurm-wlm munge)")
        })?;
    // sinfo retries an unreachable controller for a long time: give it 30 s.
    let t0 = Instant::now();
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if t0.elapsed() > Duration::from_secs(30) {
            child.kill().ok();
            child.wait().ok();
            return Err(
                "`sinfo` did not answer within 30 s: the Slurm controller is unreachable".into(),
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "`sinfo` failed ({}): no Slurm controller answers; start one with .ci/slurm/start.sh (as root) and export the SLURM_CONF it prints",
            err.lines().last().unwrap_or("no message").trim()
        ));
    }
    let states = String::from_utf8_lossy(&out.stdout).to_string();
    if !states
        .lines()
        .any(|s| s.starts_with("idle") || s.starts_with("mix") || s.starts_with("alloc"))
    {
        return Err(format!(
            "Slurm answers but no node is up (sinfo: {:?})",
            states.trim()
        ));
    }
    Ok(())
}

/// Skips (returns false) with a visible message when Slurm is not there, or fails the test when
/// `NEUROGEN_REQUIRE_SLURM=1` says it must be.
fn have_slurm() -> bool {
    match slurm_up() {
        Ok(()) => true,
        Err(why) => {
            if std::env::var("NEUROGEN_REQUIRE_SLURM").is_ok_and(|v| v == "1") {
                panic!("NEUROGEN_REQUIRE_SLURM=1 but {why}");
            }
            eprintln!("SKIP: the real-Slurm test does not run: {why}");
            false
        }
    }
}

/// `reproduce PRE... FLAGS...`.
fn reproduce(pre: &[&str], data: &Path, out: &Path) -> Command {
    let mut c = xtask();
    c.arg("reproduce")
        .args(pre)
        .args(common::runs::smoke_flags(data, out));
    c
}

/// Submits `script` with sbatch (extra `args` first); returns the job id.
fn sbatch(args: &[&str], script: &Path) -> String {
    let mut c = xtask();
    let out = run_ok(
        c.get_mut_program("sbatch")
            .args(["--parsable"])
            .args(args)
            .arg(script),
    );
    out.trim().split(';').next().unwrap().to_string()
}

/// Runs a Slurm client command, returning stdout ("" on failure).
fn slurm(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default()
}

/// The states of job `id` (one per array task), from `scontrol show job`.
fn states(id: &str) -> Vec<String> {
    slurm("scontrol", &["show", "job", "-o", id])
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|f| f.strip_prefix("JobState="))
                .map(|s| {
                    let reason = l
                        .split_whitespace()
                        .find_map(|f| f.strip_prefix("Reason="))
                        .unwrap_or("");
                    format!("{s} {reason}")
                })
        })
        .collect()
}

const FINISHED: &[&str] = &[
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "BOOT_FAIL",
    "DEADLINE",
];

/// Waits (at most [`JOB_TIMEOUT`]) until every task of job `id` has finished; panics with the
/// logs in `logs` if one did not complete, never ran (a dependency that can never be met) or
/// the time ran out (then the job is cancelled).
fn wait_for(id: &str, logs: &Path) {
    let t0 = Instant::now();
    loop {
        let s = states(id);
        let done = !s.is_empty() && s.iter().all(|x| FINISHED.iter().any(|f| x.starts_with(f)));
        let stuck = s.iter().any(|x| x.contains("DependencyNeverSatisfied"));
        if done || stuck || t0.elapsed() > JOB_TIMEOUT {
            let bad = stuck || !done || s.iter().any(|x| !x.starts_with("COMPLETED"));
            if bad {
                slurm("scancel", &[id]);
                panic!(
                    "job {id} after {:.0} s: {s:?}\n{}",
                    t0.elapsed().as_secs_f64(),
                    read_logs(logs)
                );
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn read_logs(dir: &Path) -> String {
    let mut s = String::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            s += &format!(
                "--- {}\n{}\n",
                e.path().display(),
                std::fs::read_to_string(e.path()).unwrap_or_default()
            );
        }
    }
    s
}

trait ProgramExt {
    fn get_mut_program(&mut self, program: &str) -> Command;
}

impl ProgramExt for Command {
    /// A command running `program` with this one's environment.
    fn get_mut_program(&mut self, program: &str) -> Command {
        let mut c = Command::new(program);
        for (k, v) in self.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c
    }
}

/// A tiny CIFAR-10, a single machine's run of `figure` into `DIR/single`, and `DIR/cluster`
/// with the Slurm scripts for `tasks` shards.
fn prepare(figure: &str, tasks: usize) -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    // Slurm's nodes (here: this machine) must see the directory: a temporary one under the
    // build tree, not a private /tmp.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data = tiny_cifar(dir.path(), 20);
    let single = dir.path().join("single");
    let t0 = Instant::now();
    run_ok(&mut reproduce(&[figure], &data, &single));
    eprintln!(
        "{figure} on one machine: {:.0} s",
        t0.elapsed().as_secs_f64()
    );
    let cluster = dir.path().join("cluster");
    let tasks = tasks.to_string();
    let mut c = reproduce(&["slurm", figure, "--array", &tasks], &data, &cluster);
    c.args(["--cpus-per-task", "1", "--time", "00:10:00"]);
    run_ok(&mut c);
    (dir, data, single, cluster)
}

#[test]
fn an_array_job_and_its_merge_equal_a_single_machine_run() {
    let _one = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    if !have_slurm() {
        return;
    }
    let (_dir, _data, single, cluster) = prepare("fig4", 3);
    let slurm_dir = cluster.join("slurm");
    let t0 = Instant::now();
    let said = run_ok(
        xtask()
            .get_mut_program("sh")
            .arg(slurm_dir.join("fig4-submit.sh")),
    );
    // "fig4: array job A (3 shards), merge job M (after all of them succeed)"
    let id_after = |what: &str| -> String {
        let rest = said
            .split_once(what)
            .unwrap_or_else(|| panic!("no {what:?} in {said:?}"))
            .1;
        let id: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        assert!(!id.is_empty(), "no job id after {what:?} in {said:?}");
        id
    };
    let (array, merge) = (&id_after("array job "), &id_after("merge job "));
    let logs = slurm_dir.join("logs");
    wait_for(array, &logs);
    wait_for(merge, &logs);
    eprintln!(
        "array of 3 shards + merge on Slurm: {:.0} s",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(states(array).len(), 3, "{:?}", states(array));
    for i in 1..=3 {
        let rows = all_columns(&cluster.join(format!("fig4/shards/{i}-of-3/runs.csv")));
        assert!(
            !rows.is_empty(),
            "shard {i} recorded nothing\n{}",
            read_logs(&logs)
        );
        // Without --quiet a shard's log says what each finished run gave.
        let log = std::fs::read_to_string(logs.join(format!("fig4-shard-{i}-of-3.log"))).unwrap();
        assert!(
            log.contains(" runs recorded"),
            "shard {i}'s log names no finished run:\n{log}"
        );
    }
    assert_same_results(
        &single.join("fig4/runs.csv"),
        &cluster.join("fig4/runs.csv"),
    );
    let report = std::fs::read_to_string(cluster.join("fig4/report.md")).unwrap();
    assert!(report.contains("(8 ok, 0 failed)"), "{report}");
    let merge_log = std::fs::read_to_string(logs.join("fig4-merge.log")).unwrap();
    assert!(merge_log.contains("wrote"), "{merge_log}");
}

#[test]
fn a_cancelled_task_resubmitted_loses_and_duplicates_nothing() {
    let _one = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    if !have_slurm() {
        return;
    }
    // fig4 in 2 shards: 4 runs each (one a batch), so that the cancel lands between runs.
    let (_dir, _data, single, cluster) = prepare("fig4", 2);
    let slurm_dir = cluster.join("slurm");
    let logs = slurm_dir.join("logs");
    let script = slurm_dir.join("fig4-shards.sbatch");
    let array = sbatch(&[], &script);
    let shard1 = cluster.join("fig4/shards/1-of-2/runs.csv");
    let rows_of = |p: &Path| {
        if p.exists() {
            all_columns(p)
        } else {
            Vec::new()
        }
    };
    // Cancel task 1 once it has recorded a run (and before it has recorded all 4).
    let t0 = Instant::now();
    while rows_of(&shard1).is_empty() {
        assert!(
            t0.elapsed() < JOB_TIMEOUT,
            "shard 1 recorded nothing\n{}",
            read_logs(&logs)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let task1 = format!("{array}_1");
    run_ok(Command::new("scancel").arg(&task1));
    while states(&task1).iter().any(|s| !s.starts_with("CANCELLED")) {
        assert!(
            t0.elapsed() < JOB_TIMEOUT,
            "task 1 not cancelled: {:?}",
            states(&task1)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let before = rows_of(&shard1);
    eprintln!("shard 1/2 cancelled after {} of 4 runs", before.len());
    assert!(
        before.len() < 4,
        "the cancel came too late to interrupt shard 1"
    );
    // The other task goes on; resubmit task 1 only (as after a preemption).
    let again = sbatch(&["--array=1"], &script);
    wait_for(&again, &logs);
    wait_for_all_but_cancelled(&array, &logs);
    let after = rows_of(&shard1);
    assert_eq!(after.len(), 4, "{}", read_logs(&logs));
    // Nothing recorded before the cancel was lost or retrained: the rows are kept verbatim
    // (wall time included), and nothing appears twice (all_columns checks that).
    for (k, row) in &before {
        let now = after.iter().find(|(a, _)| a == k).map(|(_, r)| r);
        assert_eq!(
            now,
            Some(row),
            "run {k:?} of shard 1 was lost or changed by the resume"
        );
    }
    let log = std::fs::read_to_string(logs.join("fig4-shard-1-of-2.log")).unwrap();
    assert!(
        log.contains("resuming") && log.matches("== ").count() == 2,
        "{log}"
    );
    // The merge job, submitted by hand now, gives the single machine's runs.
    let merge = sbatch(&[], &slurm_dir.join("fig4-merge.sbatch"));
    wait_for(&merge, &logs);
    assert_same_results(
        &single.join("fig4/runs.csv"),
        &cluster.join("fig4/runs.csv"),
    );
}

/// Waits for the rest of `array`: every task completed but the one cancelled.
fn wait_for_all_but_cancelled(array: &str, logs: &Path) {
    let t0 = Instant::now();
    loop {
        let s = states(array);
        if s.iter().all(|x| FINISHED.iter().any(|f| x.starts_with(f))) {
            let failed: Vec<&String> = s
                .iter()
                .filter(|x| !x.starts_with("COMPLETED") && !x.starts_with("CANCELLED"))
                .collect();
            assert!(failed.is_empty(), "{failed:?}\n{}", read_logs(logs));
            assert_eq!(
                s.iter().filter(|x| x.starts_with("CANCELLED")).count(),
                1,
                "{s:?}"
            );
            return;
        }
        assert!(t0.elapsed() < JOB_TIMEOUT, "{s:?}\n{}", read_logs(logs));
        std::thread::sleep(Duration::from_millis(200));
    }
}
