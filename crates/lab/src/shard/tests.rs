//! Shards on a toy study: a row of a group, a repeat, a score and a timing column.
use super::*;
use crate::store::{read_rows, RunStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
struct Spec {
    group: String,
    repeat: usize,
    level: u32,
}

impl RunSpec for Spec {
    fn group(&self) -> &str {
        &self.group
    }
    fn repeat(&self) -> usize {
        self.repeat
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Toy {
    group: String,
    repeat: usize,
    config_hash: String,
    status: RunStatus,
    score: f64,
    seconds: f64,
    saved: String,
}

impl Row for Toy {
    const COLUMNS: &'static [&'static str] = &[
        "group",
        "repeat",
        "config_hash",
        "status",
        "score",
        "seconds",
        "saved",
    ];
    crate::row_identity!();
    const VOLATILE_COLUMNS: &'static [&'static str] = &["seconds"];
    fn saved_files(&self) -> Vec<String> {
        vec![self.saved.clone()]
    }
}

fn spec(group: &str, repeat: usize) -> Spec {
    Spec {
        group: group.into(),
        repeat,
        level: 1,
    }
}

/// Every run of groups A, B, C × 2 repeats, in batches of one group's repeats (A costs more).
fn study() -> (Vec<Spec>, Vec<Vec<Spec>>) {
    let batches: Vec<Vec<Spec>> = ["A", "B", "C"]
        .iter()
        .map(|g| (0..2).map(|r| spec(g, r)).collect())
        .collect();
    (batches.iter().flatten().cloned().collect(), batches)
}

fn cost(b: &[Spec]) -> u64 {
    b.iter().map(|s| if s.group == "A" { 3 } else { 1 }).sum()
}

fn row(s: &Spec, score: f64, seconds: f64) -> Toy {
    Toy {
        group: s.group.clone(),
        repeat: s.repeat,
        config_hash: s.hash().unwrap(),
        status: RunStatus::Ok,
        score,
        seconds,
        saved: format!("saved/{}-{}", s.group, s.repeat),
    }
}

/// Trains shard `shard` of the toy study in `dir`: its plan, its rows and what runs save.
fn run_shard(dir: &Path, shard: Shard) -> Vec<Toy> {
    let (_, batches) = study();
    let mine = select(batches, shard, cost);
    let sdir = shard.dir(dir);
    std::fs::create_dir_all(&sdir).unwrap();
    std::fs::create_dir_all(dir.join("saved")).unwrap();
    write_plan(&sdir, "toy", shard, 2, &mine).unwrap();
    let rows: Vec<Toy> = mine
        .iter()
        .flatten()
        .map(|s| row(s, s.repeat as f64 + 0.5, 1.0))
        .collect();
    for r in &rows {
        std::fs::write(dir.join(&r.saved), "x").unwrap();
    }
    crate::store::write_rows(&sdir.join(RUNS_FILE), &rows).unwrap();
    rows
}

fn merge_toy(dir: &Path) -> Result<Vec<Toy>, ShardError> {
    let (specs, batches) = study();
    merge(
        dir,
        "toy",
        &specs,
        |n| owners(&specs, &batches, n, cost),
        &MergeHints::new("toy"),
    )
}

#[test]
fn shards_parse_and_bad_ones_are_named() {
    assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
    assert_eq!("1/1".parse::<Shard>().unwrap().to_string(), "1/1");
    for (bad, says) in [
        ("0/2", "numbered from 1"),
        ("3/2", "no shard 3 of 2"),
        ("x", "expected I/N"),
        ("1/0", "N must be at least 1"),
        ("a/2", "\"a\" is not a whole number"),
        ("1/-2", "\"-2\" is not a whole number"),
    ] {
        let e = bad.parse::<Shard>().unwrap_err().to_string();
        assert!(e.contains(says) && e.contains(bad), "{bad}: {e}");
    }
    let s = Shard { index: 2, count: 3 };
    assert_eq!(Shard::from_dir_name(&s.dir_name()), Some(s));
    assert_eq!(Shard::from_dir_name("4-of-3"), None);
    assert_eq!(Shard::from_dir_name("interim"), None);
}

#[test]
fn assignment_is_balanced_complete_and_deterministic() {
    let costs = [8, 8, 8, 8, 11, 11, 4, 8, 8, 2];
    for n in 1..=5 {
        let a = assign(&costs, n);
        assert_eq!(a, assign(&costs, n));
        assert!(a.iter().all(|&s| s < n));
        let mut load = vec![0; n];
        for (i, &s) in a.iter().enumerate() {
            load[s] += costs[i];
        }
        let (lo, hi) = (load.iter().min().unwrap(), load.iter().max().unwrap());
        // Greedy longest-first: no shard exceeds another by more than the largest item.
        assert!(hi - lo <= 11, "{n} shards: loads {load:?}");
    }
    assert_eq!(assign(&[5, 3, 3], 2), vec![0, 1, 1]);
    // More shards than items: the extra ones get nothing; no shard counts as one.
    assert_eq!(assign(&[1, 1], 3), vec![0, 1]);
    assert_eq!(assign(&[1, 1], 0), vec![0, 0]);
}

#[test]
fn every_run_belongs_to_the_one_shard_that_selects_it() {
    let (specs, batches) = study();
    for n in 1..=4 {
        let own = owners(&specs, &batches, n, cost);
        for (s, o) in specs.iter().zip(&own) {
            let holders: Vec<usize> = (1..=n)
                .filter(|&i| {
                    select(batches.clone(), Shard { index: i, count: n }, cost)
                        .iter()
                        .flatten()
                        .any(|x| x == s)
                })
                .collect();
            assert_eq!(holders, vec![*o], "{n} shards, {s:?}");
        }
    }
    // A's batch (cost 6) alone on shard 1 of 2; B's and C's (2 each) on shard 2.
    assert_eq!(owners(&specs, &batches, 2, cost), vec![1, 1, 2, 2, 2, 2]);
    assert_eq!(owners(&[spec("Z", 0)], &batches, 2, cost), vec![0]);
}

#[test]
fn a_plan_lists_the_shards_runs_with_their_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let s = Shard { index: 1, count: 2 };
    run_shard(dir.path(), s);
    let plan = read_plan(&s.dir(dir.path())).unwrap().unwrap();
    assert_eq!((plan.figure.as_str(), plan.shard.as_str()), ("toy", "1/2"));
    let runs: Vec<(&str, usize)> = plan
        .runs
        .iter()
        .map(|r| (r.group.as_str(), r.repeat))
        .collect();
    assert_eq!(runs, [("A", 0), ("A", 1)]);
    assert_eq!(plan.runs[0].config_hash, spec("A", 0).hash().unwrap());
    assert_eq!(read_plan(dir.path()).unwrap(), None);
    std::fs::write(s.dir(dir.path()).join(PLAN_FILE), "{").unwrap();
    let e = read_plan(&s.dir(dir.path())).unwrap_err().to_string();
    assert!(e.contains("plan.json is damaged"), "{e}");
}

#[test]
fn settings_are_read_back_and_disagreements_named() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(recorded_settings::<u32>(dir.path()).unwrap(), None);
    let (a, b) = (Shard { index: 1, count: 2 }, Shard { index: 2, count: 2 });
    for s in [a, b] {
        std::fs::create_dir_all(s.dir(dir.path())).unwrap();
    }
    // A shard without settings (an older program) is passed over.
    assert_eq!(recorded_settings::<u32>(dir.path()).unwrap(), None);
    write_settings(&a.dir(dir.path()), &7u32).unwrap();
    assert_eq!(recorded_settings::<u32>(dir.path()).unwrap(), Some(7));
    write_settings(&b.dir(dir.path()), &8u32).unwrap();
    let e = recorded_settings::<u32>(dir.path()).unwrap_err();
    assert!(
        matches!(e, ShardError::SettingsDiffer { first, second, .. } if first == a && second == b)
    );
    assert!(e
        .to_string()
        .contains("shards 1/2 and 2/2 ran with different settings"));
    std::fs::write(b.dir(dir.path()).join(SETTINGS_FILE), "x").unwrap();
    let e = recorded_settings::<u32>(dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("settings.json is damaged (the settings shard 2/2 ran with)"),
        "{e}"
    );
}

#[test]
fn merged_shards_equal_one_machine_and_keep_other_rows() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // An older row of another repeat in the study's own runs.csv is kept.
    let other = row(&spec("A", 9), 0.0, 1.0);
    crate::store::write_rows(&d.join(RUNS_FILE), std::slice::from_ref(&other)).unwrap();
    let n = 3;
    for i in 1..=n {
        run_shard(d, Shard { index: i, count: n });
    }
    let merged = merge_toy(d).unwrap();
    let (specs, _) = study();
    let expected: Vec<Toy> = specs
        .iter()
        .map(|s| row(s, s.repeat as f64 + 0.5, 1.0))
        .collect();
    assert_eq!(merged, expected);
    let mut on_disk = expected.clone();
    on_disk.push(other);
    assert_eq!(read_rows::<Toy>(&d.join(RUNS_FILE)).unwrap(), on_disk);
    // Merging again changes nothing; the merged runs.csv and the shards agree.
    assert_eq!(merge_toy(d).unwrap(), expected);
    // Interim rows: every recorded run once.
    let rows: Vec<Toy> = interim_rows(d, &specs).unwrap();
    assert_eq!(rows.len(), specs.len());
}

#[test]
fn a_missing_run_is_named_with_the_shard_to_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let e = merge_toy(d).unwrap_err();
    assert!(
        matches!(
            e,
            ShardError::Refused {
                why: Refusal::Missing,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("no shard has run yet"), "{e}");
    assert!(e.to_string().contains("run `toy shard I/N`"), "{e}");
    run_shard(d, Shard { index: 2, count: 2 });
    let e = merge_toy(d).unwrap_err().to_string();
    assert!(
        e.contains("2 of 6 runs are missing; rerun `shard 1/2`"),
        "{e}"
    );
    assert!(e.contains("\n  \"A\" repeat 0 (shard 1/2)"), "{e}");
    // Without its plan, the shard is the one the split gives.
    std::fs::create_dir_all(Shard { index: 1, count: 2 }.dir(d)).unwrap();
    let e = merge_toy(d).unwrap_err().to_string();
    assert!(e.contains("\"A\" repeat 1 (shard 1/2)"), "{e}");
    assert!(!d.join(RUNS_FILE).exists(), "nothing is written");
}

#[test]
fn another_configuration_is_refused_naming_where_it_was_found() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = Shard { index: 1, count: 1 };
    let mut rows = run_shard(d, s);
    rows[1].config_hash = "0123456789abcdef".into();
    crate::store::write_rows(&s.dir(d).join(RUNS_FILE), &rows).unwrap();
    let e = merge_toy(d).unwrap_err();
    assert!(
        matches!(
            e,
            ShardError::Refused {
                why: Refusal::ChangedConfig,
                ..
            }
        ),
        "{e}"
    );
    let e = e.to_string();
    assert!(
        e.contains("1 runs have another configuration hash")
            && e.contains("\"A\" repeat 1: hash 0123456789abcdef in shards/1-of-1/runs.csv"),
        "{e}"
    );
    assert!(!d.join(RUNS_FILE).exists());
}

#[test]
fn two_recordings_must_agree_except_in_volatile_columns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = Shard { index: 1, count: 1 };
    let rows = run_shard(d, s);
    // The same runs in runs.csv, timed differently: they agree.
    let mut timed = rows.clone();
    for r in &mut timed {
        r.seconds = 99.0;
    }
    crate::store::write_rows(&d.join(RUNS_FILE), &timed).unwrap();
    let merged = merge_toy(d).unwrap();
    assert!(
        merged.iter().all(|r| r.seconds == 1.0),
        "the shard's row is kept"
    );
    // A different score is a conflict naming both files.
    timed[2].score = 7.0;
    crate::store::write_rows(&d.join(RUNS_FILE), &timed).unwrap();
    let e = merge_toy(d).unwrap_err();
    assert!(
        matches!(
            e,
            ShardError::Refused {
                why: Refusal::DifferentResults,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains(
            "\"B\" repeat 0: recorded in runs.csv, shards/1-of-1/runs.csv with different results"
        ),
        "{e}"
    );
    // Unchanged by the refused merge.
    assert_eq!(read_rows::<Toy>(&d.join(RUNS_FILE)).unwrap(), timed);
}

#[test]
fn saved_files_must_be_there_and_a_running_shard_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = Shard { index: 1, count: 1 };
    let rows = run_shard(d, s);
    std::fs::remove_file(d.join(&rows[0].saved)).unwrap();
    let e = merge_toy(d).unwrap_err();
    assert!(
        matches!(
            e,
            ShardError::Refused {
                why: Refusal::LostFiles,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("\"A\" repeat 0: saved/A-0 (recorded in shards/1-of-1/runs.csv)"),
        "{e}"
    );
    std::fs::write(d.join(&rows[0].saved), "x").unwrap();
    let lock = neurogen_io::DirLock::acquire(&s.dir(d), "training shard 1/1").unwrap();
    let e = merge_toy(d).unwrap_err();
    assert!(matches!(e, ShardError::Running { shard, .. } if shard == s));
    assert!(
        e.to_string().contains("shard 1/1 is still running")
            && e.to_string().contains("training shard 1/1"),
        "{e}"
    );
    drop(lock);
    assert_eq!(merge_toy(d).unwrap().len(), 6);
}

#[test]
fn a_long_refusal_lists_twenty_runs_and_counts_the_rest() {
    let lines: Vec<String> = (0..23).map(|i| format!("run {i}")).collect();
    let l = merge::listing(&lines);
    assert_eq!(l.lines().count(), 1 + 20 + 1);
    assert!(l.ends_with("\n  ... and 3 more"), "{l}");
    assert_eq!(merge::listing(&lines[..1]), "\n  run 0");
}

#[test]
fn interim_rows_refuse_a_changed_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_shard(d, Shard { index: 1, count: 2 });
    let (mut specs, _) = study();
    let rows: Vec<Toy> = interim_rows(d, &specs).unwrap();
    assert_eq!(rows.len(), 2);
    specs[0].level = 2;
    let e = interim_rows::<Spec, Toy>(d, &specs)
        .unwrap_err()
        .to_string();
    assert!(e.contains("different configuration"), "{e}");
}
