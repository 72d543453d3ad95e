//! `reproduce export`: a finished figure's results in the form committed under
//! `docs/results/<name>/` — everything the figure's command reads back to write its report
//! (`runs.csv`, `curves/`, for fig5 and single-directions `analysis/`, for flymodel `features.json`), the
//! report and its plots, and `command.txt`, the command that rewrites the report from them
//! (`xtask/tests/results.rs` reruns it). Not copied: checkpoints (hundreds of MB), shards and
//! the directory lock. The neurogenesis event logs in `curves/*.json` (every unit replaced at
//! every event: ~1 MB a run in the published code's mode, where events fire on every minibatch
//! of epoch 0) are dropped: no report reads them, runs.csv keeps their count, and a run's
//! checkpoint keeps the whole log.
//!
//! `--partial` exports a figure that has not finished, to carry its recorded runs to another
//! checkout or machine: the same files (there is no report yet), and `RESUME.md`, which says how
//! to continue, instead of `command.txt` (so the copy is never taken for a finished result).
//! A figure resumes from `runs.csv` alone (its rows, with their configuration hashes, say which
//! runs are done) and writes its report from `runs.csv` and `curves/`, so copying those two
//! into `OUT/figN` and rerunning the figure's command trains only the runs still missing. An
//! interim report (`reproduce interim`, in `OUT/figN/interim/`) is carried with them when it
//! was written after the last recorded run, so that it describes exactly the carried runs.
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::common::write_json_atomic;

/// Arguments of `reproduce export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The figure's output directory, e.g. `out/fig2` (after `reproduce fig2 ... --out out`).
    pub from: PathBuf,
    /// The directory to write, e.g. `docs/results/fig2-quick`; created, and refused if it
    /// exists and is not empty.
    pub to: PathBuf,
    /// The command that made the results, without `--data`, `--out` and `--quiet`, e.g.
    /// `reproduce fig2 --scale quick --compare-reference` (written to `command.txt`).
    #[arg(long)]
    pub command: String,
    /// The figure has not finished: export the runs recorded so far (no report needed) with
    /// `RESUME.md`, how to continue from them, instead of `command.txt`.
    #[arg(long)]
    pub partial: bool,
}

/// Directories of a figure's output that are not exported (an interim report only with
/// `--partial`, and only when it is newer than `runs.csv`).
const SKIPPED_DIRS: [&str; 3] = ["checkpoints", "shards", super::INTERIM_DIR];

/// What [`export`] wrote.
#[derive(Debug, Default, PartialEq)]
pub struct Exported {
    /// Files written (`command.txt` included).
    pub files: usize,
    /// Their size in bytes.
    pub bytes: u64,
    /// Neurogenesis events dropped from the curves.
    pub events_dropped: usize,
    /// Runs recorded in the exported `runs.csv`.
    pub runs: usize,
}

/// Runs `reproduce export`, printing what it wrote.
pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    let done = if args.partial {
        export_partial(&args.from, &args.to, &args.command)?
    } else {
        export(&args.from, &args.to, &args.command)?
    };
    println!(
        "exported {} to {}{}: {} files, {:.1} MB ({} neurogenesis events dropped from curves/; the checkpoints keep them)",
        args.from.display(),
        args.to.display(),
        if args.partial {
            format!(" ({} recorded runs; RESUME.md says how to continue)", done.runs)
        } else {
            String::new()
        },
        done.files,
        done.bytes as f64 / 1e6,
        done.events_dropped
    );
    Ok(())
}

/// Copies the results of the figure directory `from` into `to` (see the module
/// documentation) and writes `command` to `to/command.txt`.
pub fn export(from: &Path, to: &Path, command: &str) -> anyhow::Result<Exported> {
    check_command(command)?;
    for needed in ["runs.csv", "report.md"] {
        anyhow::ensure!(
            from.join(needed).is_file(),
            "{} has no {needed}: export a figure's directory after its `reproduce` has finished (e.g. out/fig2), or pass --partial to carry an unfinished one",
            from.display()
        );
    }
    let mut done = copy_results(from, to)?;
    let text = format!("{}\n", command.trim());
    neurogen_io::write_atomic(&to.join("command.txt"), text.as_bytes())?;
    done.files += 1;
    done.bytes += text.len() as u64;
    Ok(done)
}

/// Copies the runs recorded so far in the unfinished figure directory `from` into `to` (as
/// [`export`] does, without needing a report) and writes `to/RESUME.md`: how many runs it
/// holds and the commands that continue the figure from them (`command`, as for [`export`]).
pub fn export_partial(from: &Path, to: &Path, command: &str) -> anyhow::Result<Exported> {
    check_command(command)?;
    anyhow::ensure!(
        from.join("runs.csv").is_file(),
        "{} has no runs.csv: no run of this figure has finished yet, there is nothing to carry",
        from.display()
    );
    // Read before copying: a damaged runs.csv is reported, not carried.
    let runs = super::run::read_runs(&from.join("runs.csv"))?.len();
    let mut done = copy_results(from, to)?;
    done.runs = runs;
    let interim = from.join(super::INTERIM_DIR);
    let carried_interim = if interim.join("report.md").is_file() {
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified());
        let fresh = modified(&interim.join("report.md"))? >= modified(&from.join("runs.csv"))?;
        if fresh {
            copy_dir(&interim, &to.join(super::INTERIM_DIR), false, &mut done)?;
        } else {
            eprintln!(
                "{}: not carried, it is older than runs.csv (runs finished since it was written); `reproduce interim` rewrites it",
                interim.join("report.md").display()
            );
        }
        fresh
    } else {
        false
    };
    let figure = command.split_whitespace().nth(1).unwrap_or("figN");
    let mut text = resume_text(figure, command.trim(), runs, to);
    if carried_interim {
        text.push_str(&format!(
            "\n`{}/report.md` is an interim report of these {runs} runs (`cargo xtask reproduce interim {} --data DATA --out OUT`): statistics of the runs so far, not a result.\n",
            super::INTERIM_DIR,
            command.trim().trim_start_matches("reproduce ")
        ));
    }
    neurogen_io::write_atomic(&to.join("RESUME.md"), text.as_bytes())?;
    done.files += 1;
    done.bytes += text.len() as u64;
    Ok(done)
}

/// The text of `RESUME.md` for an unfinished export of `figure` holding `runs` runs in `dir`.
fn resume_text(figure: &str, command: &str, runs: usize, dir: &Path) -> String {
    let dir = dir.display();
    format!(
        "# Unfinished: {figure}, {runs} runs recorded\n\n\
         Exported by `cargo xtask reproduce export --partial` while `{command}` was still\n\
         running: `runs.csv` and `curves/` of the runs finished so far (no checkpoints, no\n\
         report). This is not a result; it carries the work done to another checkout or machine.\n\
         To continue (only the runs still missing are trained; runs are deterministic, so the\n\
         finished figure is the one a single uninterrupted run makes):\n\n\
         ```sh\n\
         mkdir -p OUT/{figure} && cp -r {dir}/runs.csv {dir}/curves OUT/{figure}/\n\
         cargo xtask {command} --data DATA --out OUT\n\
         ```\n\n\
         `DATA` is the dataset the figure ran on (e.g. `../shared/data/cifar10-jpeg.tar.gz`);\n\
         a run whose configuration differs from the recorded one is refused, not mixed in.\n"
    )
}

/// Checks that `to` is outside `from` and empty, then copies `from`'s results into it.
fn copy_results(from: &Path, to: &Path) -> anyhow::Result<Exported> {
    let inside = match (from.canonicalize(), to.parent().map(Path::canonicalize)) {
        (Ok(f), Some(Ok(p))) => p.starts_with(&f),
        _ => false,
    };
    anyhow::ensure!(
        !inside,
        "{} is inside {}: export to a directory outside the figure's",
        to.display(),
        from.display()
    );
    if to.exists() {
        let empty = std::fs::read_dir(to)
            .with_context(|| format!("reading {}", to.display()))?
            .next()
            .is_none();
        anyhow::ensure!(
            empty,
            "{} exists and is not empty: export writes a fresh directory (remove it first)",
            to.display()
        );
    }
    let mut done = Exported::default();
    copy_dir(from, to, true, &mut done)?;
    Ok(done)
}

/// A command `tests/results.rs` can rerun: `reproduce FIGURE ...`, without the flags that name
/// machine-specific places or silence output (the test adds its own).
fn check_command(command: &str) -> anyhow::Result<()> {
    let words: Vec<&str> = command.split_whitespace().collect();
    anyhow::ensure!(
        words.first() == Some(&"reproduce") && words.len() >= 2,
        "--command {command:?}: expected `reproduce FIGURE [flags]`, e.g. `reproduce fig2 --scale quick --compare-reference`"
    );
    for w in &words {
        let flag = w.split('=').next().unwrap_or(w);
        anyhow::ensure!(
            !["--data", "--out", "--quiet", "--cache-dir", "--mlp-data"].contains(&flag),
            "--command {command:?}: leave out {flag} (the rerun supplies where the data and the copy are)"
        );
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path, top: bool, done: &mut Exported) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .with_context(|| format!("reading {}", from.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let name_str = name.to_string_lossy();
        let (src, dst) = (e.path(), to.join(&name));
        if e.file_type()?.is_dir() {
            if top && SKIPPED_DIRS.contains(&name_str.as_ref()) {
                continue;
            }
            if top && name_str == "curves" {
                copy_curves(&src, &dst, done)?;
            } else {
                copy_dir(&src, &dst, false, done)?;
            }
        } else if name_str != neurogen_io::LOCK_FILE {
            let bytes =
                std::fs::read(&src).with_context(|| format!("reading {}", src.display()))?;
            neurogen_io::write_atomic(&dst, &bytes)?;
            done.files += 1;
            done.bytes += bytes.len() as u64;
        }
    }
    Ok(())
}

/// Copies the curve files, without their event logs.
fn copy_curves(from: &Path, to: &Path, done: &mut Exported) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(from)
        .with_context(|| format!("reading {}", from.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    for src in files {
        let text =
            std::fs::read_to_string(&src).with_context(|| format!("reading {}", src.display()))?;
        let mut value: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{} is damaged", src.display()))?;
        done.events_dropped += drop_event_logs(&mut value);
        let dst = to.join(src.file_name().expect("a file in a directory"));
        write_json_atomic(&dst, &value)?;
        done.files += 1;
        done.bytes += std::fs::metadata(&dst)?.len();
    }
    Ok(())
}

/// Removes every `event_log` array from `v` (at any depth); returns how many events it held.
fn drop_event_logs(v: &mut serde_json::Value) -> usize {
    match v {
        serde_json::Value::Object(m) => {
            let dropped = m
                .remove("event_log")
                .and_then(|l| l.as_array().map(Vec::len))
                .unwrap_or(0);
            dropped + m.values_mut().map(drop_event_logs).sum::<usize>()
        }
        serde_json::Value::Array(a) => a.iter_mut().map(drop_event_logs).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_logs_are_dropped_at_any_depth_and_nothing_else() {
        let mut v = serde_json::json!({
            "train_loss": [1.0, 0.5],
            "regularizer": [
                {"name": "neurogenesis", "report": {"event_log": [{"step": 0}, {"step": 4}], "events": 2}},
                {"name": "dropout", "report": {}}
            ]
        });
        assert_eq!(drop_event_logs(&mut v), 2);
        assert_eq!(
            v,
            serde_json::json!({
                "train_loss": [1.0, 0.5],
                "regularizer": [
                    {"name": "neurogenesis", "report": {"events": 2}},
                    {"name": "dropout", "report": {}}
                ]
            })
        );
        assert_eq!(drop_event_logs(&mut v), 0);
    }

    #[test]
    fn commands_that_name_local_places_are_refused() {
        assert!(check_command("reproduce fig2 --scale quick --compare-reference").is_ok());
        for bad in [
            "fig2 --scale quick",
            "reproduce",
            "reproduce fig2 --out x",
            "reproduce fig2 --data=/x",
            "reproduce fig2 --quiet",
        ] {
            assert!(check_command(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn export_copies_results_not_checkpoints_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let fig = dir.path().join("fig2");
        for d in ["curves", "checkpoints", "shards/1-of-2"] {
            std::fs::create_dir_all(fig.join(d)).unwrap();
        }
        std::fs::write(fig.join("runs.csv"), "figure,group\n").unwrap();
        std::fs::write(fig.join("report.md"), "# Figure 2\n").unwrap();
        std::fs::write(fig.join("test_accuracy.svg"), "<svg/>").unwrap();
        std::fs::write(fig.join(neurogen_io::LOCK_FILE), "pid").unwrap();
        std::fs::write(fig.join("checkpoints/control-r00.safetensors"), "x").unwrap();
        std::fs::write(
            fig.join("curves/control-r00.json"),
            r#"{"train_loss": [1.0], "regularizer": [{"report": {"event_log": [{}]}}]}"#,
        )
        .unwrap();
        let to = dir.path().join("docs/fig2-quick");
        let done = export(&fig, &to, "reproduce fig2 --scale quick").unwrap();
        assert_eq!((done.files, done.events_dropped), (5, 1));
        let mut names: Vec<String> = walk(&to);
        names.sort();
        assert_eq!(
            names,
            [
                "command.txt",
                "curves/control-r00.json",
                "report.md",
                "runs.csv",
                "test_accuracy.svg"
            ]
        );
        assert_eq!(
            std::fs::read_to_string(to.join("command.txt")).unwrap(),
            "reproduce fig2 --scale quick\n"
        );
        let curves: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(to.join("curves/control-r00.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(curves["train_loss"], serde_json::json!([1.0]));
        let e = export(&fig, &to, "reproduce fig2").unwrap_err().to_string();
        assert!(e.contains("is not empty"), "{e}");
        let e = export(
            &dir.path().join("absent"),
            &dir.path().join("new"),
            "reproduce fig2",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("has no runs.csv"), "{e}");
        let e = export(&fig, &fig.join("copy"), "reproduce fig2")
            .unwrap_err()
            .to_string();
        assert!(e.contains("is inside"), "{e}");
    }

    #[test]
    fn a_partial_export_carries_the_recorded_runs_and_says_how_to_resume() {
        let dir = tempfile::tempdir().unwrap();
        let fig = dir.path().join("fig3");
        std::fs::create_dir_all(fig.join("curves")).unwrap();
        std::fs::create_dir_all(fig.join("checkpoints")).unwrap();
        std::fs::write(fig.join("checkpoints/control-r00.safetensors"), "x").unwrap();
        std::fs::write(
            fig.join("curves/control-r00.json"),
            r#"{"train_loss": [1.0]}"#,
        )
        .unwrap();
        // No runs.csv yet: nothing to carry.
        let to = dir.path().join("carry");
        let e = export_partial(&fig, &to, "reproduce fig3 --scale quick")
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no runs.csv"), "{e}");
        // A damaged runs.csv is refused before anything is copied.
        std::fs::write(fig.join("runs.csv"), "figure,group\nfig3\n").unwrap();
        assert!(export_partial(&fig, &to, "reproduce fig3 --scale quick").is_err());
        assert!(!to.exists());
        // Without a report, the full export refuses and points at --partial.
        let e = export(&fig, &to, "reproduce fig3").unwrap_err().to_string();
        assert!(e.contains("--partial"), "{e}");
        // A real header with no rows: zero runs, carried.
        let header = crate::reproduce::run::csv::RUNS_COLUMNS.join(",");
        std::fs::write(fig.join("runs.csv"), format!("{header}\n")).unwrap();
        let done = export_partial(&fig, &to, "reproduce fig3 --scale quick").unwrap();
        assert_eq!(done.runs, 0);
        let mut names = walk(&to);
        names.sort();
        assert_eq!(names, ["RESUME.md", "curves/control-r00.json", "runs.csv"]);
        let resume = std::fs::read_to_string(to.join("RESUME.md")).unwrap();
        assert!(
            resume.starts_with("# Unfinished: fig3, 0 runs recorded"),
            "{resume}"
        );
        assert!(
            resume.contains("cargo xtask reproduce fig3 --scale quick --data DATA --out OUT"),
            "{resume}"
        );
        assert!(
            resume.contains(&format!("cp -r {}/runs.csv", to.display())),
            "{resume}"
        );
        let e = export_partial(&fig, &to, "reproduce fig3")
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not empty"), "{e}");
        assert!(export_partial(&fig, &dir.path().join("x"), "fig3 --out o").is_err());
    }

    #[test]
    fn an_interim_report_is_carried_by_a_partial_export_only_while_it_is_current() {
        let dir = tempfile::tempdir().unwrap();
        let fig = dir.path().join("fig2");
        std::fs::create_dir_all(fig.join("curves")).unwrap();
        std::fs::create_dir_all(fig.join(crate::reproduce::INTERIM_DIR)).unwrap();
        let header = crate::reproduce::run::csv::RUNS_COLUMNS.join(",");
        std::fs::write(fig.join("runs.csv"), format!("{header}\n")).unwrap();
        std::fs::write(fig.join("report.md"), "# final\n").unwrap();
        let interim = fig.join("interim/report.md");
        // Written after runs.csv: carried, and RESUME.md says what it is.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&interim, "# interim\n").unwrap();
        std::fs::write(fig.join("interim/test_accuracy.svg"), "<svg/>").unwrap();
        std::fs::write(fig.join(format!("interim/{}", neurogen_io::LOCK_FILE)), "1").unwrap();
        let to = dir.path().join("carry");
        export_partial(&fig, &to, "reproduce fig2 --scale paper").unwrap();
        let mut names = walk(&to);
        names.sort();
        assert_eq!(
            names,
            [
                "RESUME.md",
                "interim/report.md",
                "interim/test_accuracy.svg",
                "report.md",
                "runs.csv"
            ]
        );
        let resume = std::fs::read_to_string(to.join("RESUME.md")).unwrap();
        assert!(
            resume
                .contains("cargo xtask reproduce interim fig2 --scale paper --data DATA --out OUT"),
            "{resume}"
        );
        // A run recorded since: the interim report is stale and stays behind.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(fig.join("runs.csv"), format!("{header}\n")).unwrap();
        let to2 = dir.path().join("carry2");
        export_partial(&fig, &to2, "reproduce fig2 --scale paper").unwrap();
        assert!(!to2.join("interim").exists());
        assert!(!std::fs::read_to_string(to2.join("RESUME.md"))
            .unwrap()
            .contains("interim"));
        // A finished figure's export never carries an interim report.
        let to3 = dir.path().join("final");
        export(&fig, &to3, "reproduce fig2 --scale paper").unwrap();
        assert!(!to3.join("interim").exists());
    }

    /// Every file under `dir`, relative, with `/`.
    fn walk(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().to_string();
            if e.file_type().unwrap().is_dir() {
                out.extend(walk(&e.path()).into_iter().map(|f| format!("{name}/{f}")));
            } else {
                out.push(name);
            }
        }
        out
    }
}
