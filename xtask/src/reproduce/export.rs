//! `reproduce export`: a finished figure's results in the form committed under
//! `docs/results/<name>/` — everything the figure's command reads back to write its report
//! (`runs.csv`, `curves/`, for single-directions `analysis/`, for flymodel `results.json`), the
//! report and its plots, and `command.txt`, the command that rewrites the report from them
//! (`xtask/tests/results.rs` reruns it). Not copied: checkpoints (hundreds of MB), shards and
//! the directory lock. The neurogenesis event logs in `curves/*.json` (every unit replaced at
//! every event: ~1 MB a run in the published code's mode, where events fire on every minibatch
//! of epoch 0) are dropped: no report reads them, runs.csv keeps their count, and a run's
//! checkpoint keeps the whole log.
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
}

/// Directories of a figure's output that are not exported.
const SKIPPED_DIRS: [&str; 2] = ["checkpoints", "shards"];

/// What [`export`] wrote.
#[derive(Debug, Default, PartialEq)]
pub struct Exported {
    /// Files written (`command.txt` included).
    pub files: usize,
    /// Their size in bytes.
    pub bytes: u64,
    /// Neurogenesis events dropped from the curves.
    pub events_dropped: usize,
}

/// Runs `reproduce export`, printing what it wrote.
pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    let done = export(&args.from, &args.to, &args.command)?;
    println!(
        "exported {} to {}: {} files, {:.1} MB ({} neurogenesis events dropped from curves/; the checkpoints keep them)",
        args.from.display(),
        args.to.display(),
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
            "{} has no {needed}: export a figure's directory after its `reproduce` has finished (e.g. out/fig2)",
            from.display()
        );
    }
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
    let text = format!("{}\n", command.trim());
    neurogen_io::write_atomic(&to.join("command.txt"), text.as_bytes())?;
    done.files += 1;
    done.bytes += text.len() as u64;
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
