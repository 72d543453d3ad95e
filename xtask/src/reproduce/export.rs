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
//!
//! The copying is the engine's ([`neurogen_lab::export`]); this module adds the command line,
//! the check of `--command`, the text of `RESUME.md` and the curves' event logs.
use std::path::{Path, PathBuf};

use clap::Args;

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

pub use neurogen_lab::export::Exported;
use neurogen_lab::export::{export_partial as partial, ExportError, ExportRules, InterimReport};
use neurogen_studies::bena2021_modular::study::ModularRow;
use neurogen_studies::clark2021_gevb::study::GevbRow;
use neurogen_studies::cornford2021_dale::study::DaleRow;
use neurogen_studies::lei2021_attention::study::AttentionRow;
use neurogen_studies::shen2021_flymodel::FlyRow;

/// What the paper's figures leave out of an export besides what the engine never exports
/// (checkpoints, shards, interim reports, locks): nothing; their curves lose their
/// neurogenesis event logs ([`drop_event_logs`]).
fn figure_rules() -> ExportRules {
    ExportRules {
        skip_dirs: Vec::new(),
        rewrite_json: vec![("curves".into(), drop_event_logs)],
    }
}

/// Runs `reproduce export`, printing what it wrote.
pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    let done = if args.partial {
        export_partial(&args.from, &args.to, &args.command)?
    } else {
        export(&args.from, &args.to, &args.command)?
    };
    println!(
        "exported {} to {}{}: {} files, {:.1} MB{}",
        args.from.display(),
        args.to.display(),
        if args.partial {
            format!(
                " ({} recorded runs; RESUME.md says how to continue)",
                done.runs
            )
        } else {
            String::new()
        },
        done.files,
        done.bytes as f64 / 1e6,
        if done.dropped > 0 {
            format!(
                " ({} neurogenesis events dropped from curves/; the checkpoints keep them)",
                done.dropped
            )
        } else {
            String::new()
        }
    );
    Ok(())
}

/// The engine's refusals, worded for `reproduce` where they concern its flags.
fn worded(e: ExportError) -> anyhow::Error {
    match e {
        ExportError::Unfinished { dir, missing } => anyhow::anyhow!(
            "{} has no {missing}: export a figure's directory after its `reproduce` has finished (e.g. out/fig2), or pass --partial to carry an unfinished one",
            dir.display()
        ),
        ExportError::NothingRecorded { dir } => anyhow::anyhow!(
            "{} has no runs.csv: no run of this figure has finished yet, there is nothing to carry",
            dir.display()
        ),
        ExportError::Inside { from, to } => anyhow::anyhow!(
            "{} is inside {}: export to a directory outside the figure's",
            to.display(),
            from.display()
        ),
        e => e.into(),
    }
}

/// Copies the results of the figure directory `from` into `to` (see the module
/// documentation) and writes `command` to `to/command.txt`.
pub fn export(from: &Path, to: &Path, command: &str) -> anyhow::Result<Exported> {
    check_command(command)?;
    let rules = match study_of(command) {
        FLYMODEL => super::flymodel::export_rules(),
        _ => figure_rules(),
    };
    neurogen_lab::export::export(from, to, command, &rules).map_err(worded)
}

/// The study `reproduce flymodel` (its rows are [`neurogen_studies::shen2021_flymodel::FlyRow`],
/// not the figures').
const FLYMODEL: &str = "flymodel";

/// The study a checked `--command` runs (its second word: `fig2`, `flymodel`, ...).
fn study_of(command: &str) -> &str {
    command.split_whitespace().nth(1).unwrap_or("figN")
}

/// Copies the runs recorded so far in the unfinished figure directory `from` into `to` (as
/// [`export`] does, without needing a report) and writes `to/RESUME.md`: how many runs it
/// holds and the commands that continue the figure from them (`command`, as for [`export`]).
/// The study `command` runs says how its `runs.csv` reads: a study on the engine alone
/// (`flymodel`, `dale`, `gevb`, `modular`, `attention`) reads its own rows
/// ([`study_resume_text`]); a figure, the CNN runner's ([`figure_partial`]).
pub fn export_partial(from: &Path, to: &Path, command: &str) -> anyhow::Result<Exported> {
    check_command(command)?;
    let figure = study_of(command);
    // The studies on the engine alone read their own rows; the figures (and single
    // directions) the CNN runner's.
    let own = |runs, _| study_resume_text(from, command.trim(), runs, to);
    let plain = ExportRules::default();
    let engine = match figure {
        FLYMODEL => partial::<FlyRow>(from, to, &super::flymodel::export_rules(), own),
        "dale" => partial::<DaleRow>(from, to, &plain, own),
        "gevb" => partial::<GevbRow>(from, to, &plain, own),
        "modular" => partial::<ModularRow>(from, to, &plain, own),
        "attention" => partial::<AttentionRow>(from, to, &plain, own),
        _ => return figure_partial(from, to, command),
    };
    engine.map_err(worded)
}

/// [`export_partial`] of a figure of the paper (or single directions): the CNN runner's rows,
/// the figures' `RESUME.md`, and an interim report carried while it is current.
fn figure_partial(from: &Path, to: &Path, command: &str) -> anyhow::Result<Exported> {
    let figure = study_of(command);
    let resume = |runs: usize, carried_interim: bool| {
        let mut text = resume_text(figure, command.trim(), runs, to);
        if carried_interim {
            text.push_str(&format!(
                "\n`{}/report.md` is an interim report of these {runs} runs (`cargo xtask reproduce interim {} --data DATA --out OUT`): statistics of the runs so far, not a result.\n",
                super::INTERIM_DIR,
                command.trim().trim_start_matches("reproduce ")
            ));
        }
        text
    };
    let done =
        partial::<super::run::RunRecord>(from, to, &figure_rules(), resume).map_err(worded)?;
    if let InterimReport::Stale(report) = &done.interim {
        eprintln!(
            "{}: not carried, it is older than runs.csv (runs finished since it was written); `reproduce interim` rewrites it",
            report.display()
        );
    }
    Ok(done)
}

/// The text of `RESUME.md` for a study on the engine alone (`flymodel`, `dale`, `gevb`,
/// `modular`, `attention`), unfinished in `from`, exported to `dir` (which holds the exported
/// files when this is called) with `runs` runs recorded by `command`: the copy command lists
/// every exported file and folder, all of which the study reads back to resume and report.
fn study_resume_text(from: &Path, command: &str, runs: usize, dir: &Path) -> String {
    let name = from.file_name().map_or_else(
        || study_of(command).to_string(),
        |n| n.to_string_lossy().to_string(),
    );
    let mut carried: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    carried.sort();
    let shown = dir.display();
    let copied: Vec<String> = carried.iter().map(|f| format!("{shown}/{f}")).collect();
    let listed: Vec<String> = carried.iter().map(|f| format!("`{f}`")).collect();
    format!(
        "# Unfinished: {name}, {runs} runs recorded\n\n\
         Exported by `cargo xtask reproduce export --partial` while `{command}` was still\n\
         running: {} of the runs finished so far (no report). This is not a result; it carries\n\
         the work done to another checkout or machine. To continue (only the runs still missing\n\
         are trained; runs are deterministic, so the finished study is the one a single\n\
         uninterrupted run makes):\n\n\
         ```sh\n\
         mkdir -p OUT/{name} && cp -r {} OUT/{name}/\n\
         cargo xtask {command} --out OUT\n\
         ```\n\n\
         Add `--data DATA` (and the study's other data flags) as the study ran with them; a run\n\
         whose configuration differs from the recorded one is refused, not mixed in.\n",
        listed.join(", "),
        copied.join(" ")
    )
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

/// Removes every `event_log` array from `v` (at any depth); returns how many events it held.
pub fn drop_event_logs(v: &mut serde_json::Value) -> usize {
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
        assert_eq!((done.files, done.dropped), (5, 1));
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

    #[test]
    fn a_flymodel_directory_is_carried_with_its_own_rows_and_record() {
        use neurogen_lab::store::Row;
        let dir = tempfile::tempdir().unwrap();
        let fly = dir.path().join("flymodel-cifar10");
        std::fs::create_dir_all(fly.join("features")).unwrap();
        std::fs::create_dir_all(fly.join("checkpoints")).unwrap();
        std::fs::write(fly.join("features/train.bin"), "cache").unwrap();
        std::fs::write(fly.join("checkpoints/fly-r00.safetensors"), "x").unwrap();
        std::fs::write(fly.join("features.json"), "{}").unwrap();
        std::fs::write(fly.join("log.txt"), "log\n").unwrap();
        std::fs::write(
            fly.join("runs.csv"),
            format!("{}\n", FlyRow::COLUMNS.join(",")),
        )
        .unwrap();
        let command = "reproduce flymodel --dataset cifar10 --scale quick";
        let to = dir.path().join("carry");
        let done = export_partial(&fly, &to, command).unwrap();
        assert_eq!(done.runs, 0);
        let mut names = walk(&to);
        names.sort();
        assert_eq!(names, ["RESUME.md", "features.json", "log.txt", "runs.csv"]);
        let resume = std::fs::read_to_string(to.join("RESUME.md")).unwrap();
        assert!(
            resume.starts_with("# Unfinished: flymodel-cifar10, 0 runs recorded"),
            "{resume}"
        );
        assert!(
            resume.contains(&format!(
                "cp -r {0}/features.json {0}/log.txt {0}/runs.csv OUT/flymodel-cifar10/",
                to.display()
            )) && resume.contains(&format!("cargo xtask {command} --out OUT")),
            "{resume}"
        );
        // The figures' row reader is not used: a figure's runs.csv is refused here.
        let header = crate::reproduce::run::csv::RUNS_COLUMNS.join(",");
        std::fs::write(fly.join("runs.csv"), format!("{header}\n")).unwrap();
        let e = export_partial(&fly, &dir.path().join("x"), command).unwrap_err();
        assert!(format!("{e:#}").contains("not a runs.csv"), "{e:#}");
    }

    #[test]
    fn every_study_on_the_engine_is_carried_with_its_own_rows() {
        use neurogen_lab::store::Row;
        let dir = tempfile::tempdir().unwrap();
        for (study, columns) in [
            ("dale", DaleRow::COLUMNS),
            ("gevb", GevbRow::COLUMNS),
            ("modular", ModularRow::COLUMNS),
            ("attention", AttentionRow::COLUMNS),
        ] {
            let from = dir.path().join(study);
            std::fs::create_dir_all(&from).unwrap();
            std::fs::write(from.join("runs.csv"), format!("{}\n", columns.join(","))).unwrap();
            let to = dir.path().join(format!("{study}-carried"));
            let command = format!("reproduce {study} --scale smoke");
            let done = export_partial(&from, &to, &command).unwrap();
            assert_eq!((done.runs, done.files), (0, 2), "{study}");
            let resume = std::fs::read_to_string(to.join("RESUME.md")).unwrap();
            assert!(
                resume.starts_with(&format!("# Unfinished: {study}, 0 runs recorded"))
                    && resume.contains(&format!("cp -r {}/runs.csv OUT/{study}/", to.display())),
                "{resume}"
            );
        }
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
