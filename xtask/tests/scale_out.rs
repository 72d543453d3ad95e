//! Shards and merging without a cluster (`reproduce figN --shard I/N`, `reproduce merge figN`,
//! `reproduce slurm figN`), on a tiny synthetic CIFAR-10 (tests/common): the merged runs.csv
//! equals a single machine's, and merge refuses missing runs, conflicting configuration hashes,
//! runs recorded twice with different results, and shards still running. The real-Slurm tests
//! are in tests/slurm.rs.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::runs::{all_columns, assert_same_results, run_err, run_ok};
use common::tiny_cifar;

fn xtask() -> Command {
    common::runs::xtask_with_cache("neurogen-scale-out-cache")
}

fn reproduce(pre: &[&str], data: &Path, out: &Path) -> Command {
    let mut c = xtask();
    c.arg("reproduce")
        .args(pre)
        .args(common::runs::smoke_flags(data, out));
    c
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = tiny_cifar(dir.path(), 20);
    (dir, data)
}

#[test]
fn merged_shards_equal_a_single_machine_run() {
    let (dir, data) = setup();
    let single = dir.path().join("single");
    let sharded = dir.path().join("sharded");
    run_ok(&mut reproduce(&["fig4"], &data, &single));
    // Shards 3 and 1 first: merge names the missing runs and shard 2 as the one to rerun.
    run_ok(&mut reproduce(&["fig4", "--shard", "3/3"], &data, &sharded));
    run_ok(&mut reproduce(&["fig4", "--shard", "1/3"], &data, &sharded));
    let e = run_err(&mut reproduce(&["merge", "fig4"], &data, &sharded));
    assert!(
        e.contains("runs are missing") && e.contains("`--shard 2/3`"),
        "{e}"
    );
    assert!(
        !sharded.join("fig4/runs.csv").exists(),
        "a refused merge wrote runs.csv"
    );
    let missing = e.lines().filter(|l| l.contains("(shard 2/3)")).count();
    assert!(
        missing >= 2,
        "the missing runs are listed with their shard: {e}"
    );
    // An interim report while shard 2 is missing: the recorded runs, the missing ones named,
    // and nothing of the figure's own written.
    let recorded = all_columns(&sharded.join("fig4/shards/1-of-3/runs.csv")).len()
        + all_columns(&sharded.join("fig4/shards/3-of-3/runs.csv")).len();
    run_ok(&mut reproduce(&["interim", "fig4"], &data, &sharded));
    let interim = std::fs::read_to_string(sharded.join("fig4/interim/report.md")).unwrap();
    assert!(
        interim.contains(&format!("(interim: {recorded} of 8 runs)"))
            && interim.contains(&format!(
                "**Interim report: {recorded} of 8 runs recorded; not a result.**"
            )),
        "{interim}"
    );
    let still = interim.split("Still to train:").nth(1).unwrap_or_default();
    let listed: usize = still
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with("- "))
        .filter_map(|l| {
            l.rsplit_once('(')
                .and_then(|(_, n)| n.split(' ').next()?.parse::<usize>().ok())
        })
        .sum();
    assert_eq!(listed, 8 - recorded, "{interim}");
    assert_eq!(
        listed, missing,
        "the refused merge named {missing} missing runs\n{interim}"
    );
    assert!(sharded.join("fig4/interim/test_accuracy.svg").exists());
    // Runs recorded with other settings are refused, not reported.
    let mut other = reproduce(&["interim", "fig4"], &data, &sharded);
    other.args(["--lr", "0.002"]);
    let e = run_err(&mut other);
    assert!(e.contains("with a different configuration"), "{e}");
    assert!(
        !sharded.join("fig4/runs.csv").exists() && !sharded.join("fig4/report.md").exists(),
        "an interim report wrote the figure's own files"
    );
    run_ok(&mut reproduce(&["fig4", "--shard", "2/3"], &data, &sharded));
    // Each shard recorded in its own file, and together they hold every run exactly once.
    let mut total = 0;
    for i in 1..=3 {
        let f = sharded.join(format!("fig4/shards/{i}-of-3/runs.csv"));
        let rows = all_columns(&f);
        assert!(
            !rows.is_empty(),
            "{}: shard {i} recorded nothing",
            f.display()
        );
        total += rows.len();
    }
    assert_eq!(total, 8);
    let out = run_ok(&mut reproduce(&["merge", "fig4"], &data, &sharded));
    assert!(out.contains("report.md"), "{out}");
    assert_same_results(
        &single.join("fig4/runs.csv"),
        &sharded.join("fig4/runs.csv"),
    );
    // The per-run curves (losses, accuracies, every neurogenesis event) are the same files.
    for e in std::fs::read_dir(single.join("fig4/curves")).unwrap() {
        let e = e.unwrap();
        let theirs = sharded.join("fig4/curves").join(e.file_name());
        assert_eq!(
            std::fs::read(e.path()).unwrap(),
            std::fs::read(&theirs).unwrap_or_default(),
            "{} differs from the single machine's",
            theirs.display()
        );
    }
    // Rows in the single machine's order, too.
    let keys = |p: &Path| -> Vec<_> { all_columns(p).into_iter().map(|(k, _)| k).collect() };
    assert_eq!(
        keys(&single.join("fig4/runs.csv")),
        keys(&sharded.join("fig4/runs.csv"))
    );
    let report = std::fs::read_to_string(sharded.join("fig4/report.md")).unwrap();
    assert!(report.contains("(8 ok, 0 failed)"), "{report}");
    assert!(sharded.join("fig4/test_accuracy.svg").exists());
    // With every run in, the interim report is the figure's report under its notice.
    run_ok(&mut reproduce(&["interim", "fig4"], &data, &sharded));
    let interim = std::fs::read_to_string(sharded.join("fig4/interim/report.md")).unwrap();
    let (title, rest) = interim.split_once('\n').unwrap();
    assert!(title.ends_with("(interim: 8 of 8 runs)"), "{title}");
    assert!(rest.contains("Every run is now recorded"), "{rest}");
    let without_notice: String = rest
        .split("\n\n")
        .filter(|p| !p.starts_with("**Interim report"))
        .collect::<Vec<_>>()
        .join("\n\n");
    assert_eq!(
        without_notice,
        report.split_once('\n').unwrap().1,
        "the interim report's statistics differ from the merged report's"
    );
    // Merging again is a no-op; a shard rerun afterwards finds its runs and trains nothing.
    run_ok(&mut reproduce(&["merge", "fig4"], &data, &sharded));
    let again = run_ok(&mut reproduce(&["fig4", "--shard", "2/3"], &data, &sharded));
    assert!(again.contains("shard 2/3"), "{again}");
    assert_same_results(
        &single.join("fig4/runs.csv"),
        &sharded.join("fig4/runs.csv"),
    );
}

/// `reproduce merge` and `interim` read the settings each shard recorded (its
/// `settings.json`): neither --data nor --scale, --epochs or --replicas is repeated, and the data
/// is never looked up on the hub (pointed here at an empty cache and a closed port). Shards that
/// ran with different settings are refused; shards of an older xtask, which recorded none,
/// still merge with the flags given.
#[test]
fn merge_reads_the_settings_the_shards_recorded() {
    let (dir, data) = setup();
    let out = dir.path().join("out");
    run_ok(&mut reproduce(&["fig4", "--shard", "1/2"], &data, &out));
    run_ok(&mut reproduce(&["fig4", "--shard", "2/2"], &data, &out));
    let settings = |i: usize| out.join(format!("fig4/shards/{i}-of-2/settings.json"));
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(settings(1)).unwrap()).unwrap();
    assert_eq!(rec["figure"], "fig4", "{rec}");
    assert_eq!(rec["scale"], "smoke", "{rec}");
    assert_eq!(rec["epochs"], 1, "{rec}");
    assert_eq!(rec["replicas"], 1, "{rec}");
    assert_eq!(rec["dataset"], "CIFAR-10", "{rec}");
    assert_eq!(
        Path::new(rec["data"].as_str().unwrap()),
        data.canonicalize().unwrap(),
        "{rec}"
    );
    let no_hub = dir.path().join("empty-hub");
    std::fs::create_dir_all(&no_hub).unwrap();
    let bare = |action: &str| {
        let mut c = xtask();
        c.args(["reproduce", action, "fig4", "--quiet", "--out"])
            .arg(&out)
            .env("HF_HOME", &no_hub)
            .env("HF_HUB_CACHE", &no_hub)
            .env("HF_ENDPOINT", "http://127.0.0.1:9");
        c
    };
    run_ok(&mut bare("interim"));
    let interim = std::fs::read_to_string(out.join("fig4/interim/report.md")).unwrap();
    assert!(interim.contains("(interim: 8 of 8 runs)"), "{interim}");
    let said = run_ok(&mut bare("merge"));
    assert!(said.contains("report.md"), "{said}");
    assert_eq!(all_columns(&out.join("fig4/runs.csv")).len(), 8);
    let report = std::fs::read_to_string(out.join("fig4/report.md")).unwrap();
    assert!(report.contains("(8 ok, 0 failed)"), "{report}");
    // A flag given wins over the recorded one; the configuration hashes then refuse it.
    let mut other = bare("merge");
    other.args(["--lr", "0.002"]);
    let e = run_err(&mut other);
    assert!(e.contains("8 runs have another configuration hash"), "{e}");
    // Shards that ran with different settings.
    let text = std::fs::read_to_string(settings(2)).unwrap();
    std::fs::write(
        settings(2),
        text.replace("\"scale\": \"smoke\"", "\"scale\": \"quick\""),
    )
    .unwrap();
    let e = run_err(&mut bare("merge"));
    assert!(
        e.contains("shards 1/2 and 2/2 ran with different settings"),
        "{e}"
    );
    std::fs::write(settings(2), "{").unwrap();
    let e = run_err(&mut bare("merge"));
    assert!(e.contains("settings.json is damaged"), "{e}");
    // Shards of an older xtask: the flags given, as before.
    std::fs::remove_file(settings(1)).unwrap();
    std::fs::remove_file(settings(2)).unwrap();
    run_ok(&mut reproduce(&["merge", "fig4"], &data, &out));
    assert_eq!(
        std::fs::read_to_string(out.join("fig4/report.md")).unwrap(),
        report
    );
}

/// Rewrites column `col` of the row of (group, repeat) in `path` with `value`.
fn edit(path: &Path, group: &str, repeat: &str, col: &str, value: &str) {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let i = headers.iter().position(|h| h == col).unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&headers).unwrap();
    for r in rdr.records() {
        let r = r.unwrap();
        let mut v: Vec<String> = r.iter().map(String::from).collect();
        if v[1] == group && v[2] == repeat {
            v[i] = value.to_string();
        }
        w.write_record(&v).unwrap();
    }
    std::fs::write(path, w.into_inner().unwrap()).unwrap();
}

#[test]
fn merge_refuses_conflicts_and_running_shards() {
    let (dir, data) = setup();
    let out = dir.path().join("out");
    run_ok(&mut reproduce(&["fig4", "--shard", "1/2"], &data, &out));
    run_ok(&mut reproduce(&["fig4", "--shard", "2/2"], &data, &out));
    let s1 = out.join("fig4/shards/1-of-2/runs.csv");
    let s2 = out.join("fig4/shards/2-of-2/runs.csv");
    let original = std::fs::read(&s1).unwrap();
    let (group, repeat) = all_columns(&s1)[0].0.clone();

    // A hash that is not the configuration's: named, with the file it is in.
    edit(&s1, &group, &repeat, "config_hash", "0123456789abcdef");
    let e = run_err(&mut reproduce(&["merge", "fig4"], &data, &out));
    assert!(
        e.contains("another configuration hash")
            && e.contains(&format!("{group:?} repeat {repeat}"))
            && e.contains("0123456789abcdef in shards/1-of-2/runs.csv"),
        "{e}"
    );
    assert!(!out.join("fig4/runs.csv").exists());
    std::fs::write(&s1, &original).unwrap();

    // Merging with other flags than the shards': every run's hash differs.
    let mut other = reproduce(&["merge", "fig4"], &data, &out);
    other.args(["--lr", "0.002"]);
    let e = run_err(&mut other);
    assert!(e.contains("8 runs have another configuration hash"), "{e}");

    // The same run in two shards with different results.
    let row_of = |p: &Path| {
        let text = std::fs::read_to_string(p).unwrap();
        let line = text
            .lines()
            .find(|l| l.contains(&format!(",{group},{repeat},")))
            .unwrap()
            .to_string();
        (text, line)
    };
    let (_, line) = row_of(&s1);
    let text2 = std::fs::read_to_string(&s2).unwrap();
    std::fs::write(&s2, format!("{text2}{line}\n")).unwrap();
    // An identical duplicate is fine...
    run_ok(&mut reproduce(&["merge", "fig4"], &data, &out));
    // ...one with another result is not.
    edit(&s2, &group, &repeat, "test_accuracy", "99.5");
    let e = run_err(&mut reproduce(&["merge", "fig4"], &data, &out));
    assert!(
        e.contains("recorded twice with different results")
            && e.contains(&format!("{group:?} repeat {repeat}"))
            && e.contains("shards/1-of-2/runs.csv")
            && e.contains("shards/2-of-2/runs.csv"),
        "{e}"
    );
    std::fs::write(&s2, text2).unwrap();

    // A shard still running (holding its lock) stops the merge.
    let lock = neurogen_io::DirLock::acquire(&out.join("fig4/shards/2-of-2"), "test").unwrap();
    let e = run_err(&mut reproduce(&["merge", "fig4"], &data, &out));
    assert!(e.contains("shard 2/2 is still running"), "{e}");
    // And a second process on the same shard is refused, while another shard is not.
    let e = run_err(&mut reproduce(&["fig4", "--shard", "2/2"], &data, &out));
    assert!(e.contains("test"), "names the lock's holder: {e}");
    run_ok(&mut reproduce(&["fig4", "--shard", "1/2"], &data, &out));
    drop(lock);
    run_ok(&mut reproduce(&["merge", "fig4"], &data, &out));
}

#[test]
fn bad_shards_and_slurm_flags_are_named() {
    let (dir, data) = setup();
    let out = dir.path().join("out");
    for (bad, says) in [
        ("0/2", "numbered from 1"),
        ("3/2", "no shard 3 of 2"),
        ("x", "expected I/N"),
        ("1/0", "N must be at least 1"),
    ] {
        let e = run_err(&mut reproduce(&["fig4", "--shard", bad], &data, &out));
        assert!(
            e.contains(&format!("--shard {bad}")) && e.contains(says),
            "{bad}: {e}"
        );
    }
    let e = run_err(&mut reproduce(&["merge", "fig4"], &data, &out));
    assert!(e.contains("no shard has run yet"), "{e}");
    let e = run_err(&mut reproduce(&["interim", "fig4"], &data, &out));
    assert!(e.contains("no run of this figure is recorded yet"), "{e}");
    let e = run_err(&mut reproduce(&["interim", "fig5"], &data, &out));
    assert!(e.contains("interim covers fig2, fig3 and fig4"), "{e}");
    let e = run_err(&mut reproduce(
        &["slurm", "fig4", "--array", "0"],
        &data,
        &out,
    ));
    assert!(e.contains("--array 0"), "{e}");
    let mut c = reproduce(&["slurm", "fig4", "--array", "2"], &data, &out);
    c.args(["--time", "1 hour"]);
    let e = run_err(&mut c);
    assert!(e.contains("--time \"1 hour\""), "{e}");
}

#[test]
fn slurm_writes_an_array_and_a_dependent_merge() {
    let (dir, data) = setup();
    let out = dir.path().join("out dir");
    let mut c = reproduce(&["slurm", "fig4", "--array", "3"], &data, &out);
    c.args([
        "--cpus-per-task",
        "4",
        "--gpus-per-task",
        "1",
        "--device",
        "cuda",
        "--time",
        "02:00:00",
        "--partition",
        "gpu",
        "--account",
        "lab",
    ]);
    let said = run_ok(&mut c);
    assert!(
        said.contains("sbatch --parsable") && said.contains("--dependency=afterok"),
        "{said}"
    );
    let slurm = out.join("slurm");
    let array = std::fs::read_to_string(slurm.join("fig4-shards.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=1-3",
        "#SBATCH --requeue",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --gpus-per-task=1",
        "#SBATCH --time=02:00:00",
        "#SBATCH --partition=gpu",
        "#SBATCH --account=lab",
    ] {
        assert!(array.lines().any(|l| l == line), "no {line:?} in\n{array}");
    }
    assert!(
        array.contains("reproduce fig4 --shard \"$shard\""),
        "{array}"
    );
    assert!(array.contains("--device cuda"), "{array}");
    // Paths are absolute and quoted (the --out here has a space).
    assert!(
        array.contains(&format!("--out '{}'", out.display())),
        "{array}"
    );
    let merge = std::fs::read_to_string(slurm.join("fig4-merge.sbatch")).unwrap();
    assert!(merge.contains("reproduce merge fig4"), "{merge}");
    assert!(!merge.contains("#SBATCH --array"), "{merge}");
    assert!(
        merge.contains(&format!(
            "#SBATCH --output=\"{}/slurm/logs/fig4-merge.log\"",
            out.display()
        )),
        "{merge}"
    );
    let submit = std::fs::read_to_string(slurm.join("fig4-submit.sh")).unwrap();
    assert!(submit.contains("--dependency=afterok:"), "{submit}");
    // The scripts are valid shell.
    for f in ["fig4-shards.sbatch", "fig4-merge.sbatch", "fig4-submit.sh"] {
        let st = Command::new("bash")
            .arg("-n")
            .arg(slurm.join(f))
            .status()
            .unwrap();
        assert!(st.success(), "{f} is not valid bash");
    }
}
