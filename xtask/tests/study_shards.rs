//! Shards of a study on the engine through the binary (`reproduce gevb --shard I/N`, then
//! `reproduce merge gevb-cifar10`): at smoke scale on the test kit's tiny CIFAR-10, two shards
//! and a merge give the runs one machine gives (every column but the wall time) and a report;
//! a shard writes no report; a shard that does not exist, a merge with no shards and a merge
//! given a study's flag are refused by name; a merge takes --data where the data moved.
mod common;

use std::path::Path;

use common::study::{reproduce, text, tiny_cifar10};

/// `runs.csv`'s lines without the `seconds` column (the wall time, which differs between two
/// recordings of a run).
fn without_seconds(dir: &Path) -> Vec<String> {
    let csv = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|c| *c == "seconds").unwrap();
    csv.lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(col);
            cells.join(",")
        })
        .collect()
}

#[test]
fn two_shards_and_a_merge_give_one_machines_runs_and_a_report() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tiny_cifar10(tmp.path());
    let args = [
        "--scale",
        "smoke",
        "--dataset",
        "cifar10",
        "--data",
        &data,
        "--quiet",
    ];

    let one = tmp.path().join("one");
    let o = reproduce("gevb", &args, &one);
    assert!(o.status.success(), "{}", text(&o));

    let sharded = tmp.path().join("sharded");
    let dir = sharded.join("gevb-cifar10");
    for s in ["1/2", "2/2"] {
        let mut with = args.to_vec();
        with.extend(["--shard", s]);
        let o = reproduce("gevb", &with, &sharded);
        assert!(o.status.success(), "{s}: {}", text(&o));
        assert!(
            text(&o).contains("reproduce merge gevb-cifar10"),
            "{}",
            text(&o)
        );
        assert!(!dir.join("report.md").exists(), "shard {s} wrote a report");
        assert!(!dir.join("runs.csv").exists(), "shard {s} wrote runs.csv");
    }
    // A shard records its share only: 8 runs in all, none twice.
    let shard_rows: usize = ["1-of-2", "2-of-2"]
        .iter()
        .map(|s| without_seconds(&dir.join("shards").join(s)).len() - 1)
        .sum();
    assert_eq!(shard_rows, 8);

    // The merge needs only --out: the shards recorded the rest.
    let o = reproduce("merge", &["gevb-cifar10", "--quiet"], &sharded);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        without_seconds(&dir),
        without_seconds(&one.join("gevb-cifar10"))
    );
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("GEVB+ learns as well as BP+"), "{report}");

    // The data moved on the merging machine: --data points at it, the rest is the shards'.
    let moved = tmp.path().join("moved");
    std::fs::rename(&data, &moved).unwrap();
    let o = reproduce("merge", &["gevb-cifar10", "--quiet"], &sharded);
    assert!(!o.status.success());
    assert!(text(&o).contains(&data), "{}", text(&o));
    let moved = moved.display().to_string();
    let o = reproduce("merge", &["gevb-cifar10", "--data", &moved], &sharded);
    assert!(o.status.success(), "{}", text(&o));
    let again = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let but_data = |r: &str| -> Vec<String> {
        r.lines()
            .filter(|l| !l.starts_with("Data: "))
            .map(String::from)
            .collect()
    };
    assert_eq!(but_data(&again), but_data(&report));
    assert!(again.contains(&moved), "{again}");

    // A figure's flag is refused by merge: the shards' flags are used.
    let o = reproduce("merge", &["gevb-cifar10", "--lr", "0.1"], &sharded);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("takes only --out, --quiet"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_shard_that_does_not_exist_or_a_merge_without_shards_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = reproduce("gevb", &["--scale", "smoke", "--shard", "3/2"], &out);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--shard 3/2: there is no shard 3 of 2"),
        "{}",
        text(&o)
    );
    let o = reproduce("merge", &["gevb"], &out);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("no shard of gevb has run here"),
        "{}",
        text(&o)
    );
    // Only the studies that shard can be merged.
    let o = reproduce("merge", &["single-directions"], &out);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!out.exists(), "a refused command wrote into --out");
}

/// `reproduce interim STUDY` (a sharded study, with the flags its shards recorded) and
/// `reproduce STUDY ... --interim` (with the study's own flags): the report of the runs
/// recorded so far in `interim-report.md`, saying how many of how many runs it covers; nothing
/// trained, no `runs.csv`, no `report.md`. With nothing recorded, or without shards, the
/// refusals say what to do.
#[test]
fn an_interim_report_of_a_sharded_study_covers_the_runs_recorded_so_far() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tiny_cifar10(tmp.path());
    let args = [
        "--scale",
        "smoke",
        "--dataset",
        "cifar10",
        "--data",
        &data,
        "--quiet",
    ];
    let out = tmp.path().join("out");
    let dir = out.join("gevb-cifar10");

    // Nothing recorded yet: refused, and nothing written.
    let mut interim = args.to_vec();
    interim.push("--interim");
    let o = reproduce("gevb", &interim, &out);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("no run of study gevb-cifar10 is recorded yet"),
        "{}",
        text(&o)
    );
    assert!(!dir.join("interim-report.md").exists());
    // Without shards, `reproduce interim STUDY` has no flags to use: it says to pass them.
    let o = reproduce("interim", &["gevb-cifar10"], &out);
    assert!(!o.status.success());
    assert!(text(&o).contains("--interim"), "{}", text(&o));
    // --interim trains nothing, so it is no shard.
    let mut both = interim.clone();
    both.extend(["--shard", "1/2"]);
    let o = reproduce("gevb", &both, &out);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // One shard of two has run.
    let mut first = args.to_vec();
    first.extend(["--shard", "1/2"]);
    let o = reproduce("gevb", &first, &out);
    assert!(o.status.success(), "{}", text(&o));
    let shard_csv = std::fs::read_to_string(dir.join("shards/1-of-2/runs.csv")).unwrap();

    let o = reproduce("interim", &["gevb-cifar10", "--quiet"], &out);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("interim report of 4 of 8 runs"),
        "{}",
        text(&o)
    );
    let report = std::fs::read_to_string(dir.join("interim-report.md")).unwrap();
    assert!(report.contains("(interim: 4 of 8 runs)"), "{report}");
    assert!(report.contains("Still to train:"), "{report}");
    assert!(report.contains("GEVB+ learns as well as BP+"), "{report}");
    assert!(!dir.join("report.md").exists());
    assert!(!dir.join("runs.csv").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("shards/1-of-2/runs.csv")).unwrap(),
        shard_csv
    );

    // The study's own flags and --interim write the same report.
    std::fs::remove_file(dir.join("interim-report.md")).unwrap();
    let o = reproduce("gevb", &interim, &out);
    assert!(o.status.success(), "{}", text(&o));
    let again = std::fs::read_to_string(dir.join("interim-report.md")).unwrap();
    assert_eq!(again, report);
    assert!(!dir.join("runs.csv").exists());
}
