//! What the command lines of the studies on the engine (`flymodel`, `dale`, `gevb`,
//! `modular`, `attention`) share: loading Fashion-MNIST from `--data` (or its installed
//! place), printing the engine's progress events as lines, their shards (`--shard I/N`,
//! [`shard_or_merge`]) and `reproduce merge STUDY` ([`merge`]), and their interim reports
//! (`--interim`, `reproduce interim STUDY`: [`run_engine`], [`interim`]).
use std::path::{Path, PathBuf};

use anyhow::Context;
use neurogen_lab::events::{duration, Event, Observer};
use neurogen_lab::schedule::{merge_study, run_shard, Options};
use neurogen_lab::shard::{recorded_settings, MergeHints};
use neurogen_lab::Study as EngineStudy;
use serde::{Deserialize, Serialize};

use super::args::{CommonArgs, IdxDataset, StudyShardArgs, TranArgs};
use super::Study;

/// How the studies on the engine batch their runs (one run a batch, as each study's `run`
/// trains them): the split into shards is made with it.
const OPTIONS: Options = Options { max_batch: 1 };

/// The settings a shard of a study on the engine ran with (its
/// [`neurogen_lab::shard::SETTINGS_FILE`]), so that `reproduce merge STUDY` needs no flag
/// repeated: its command line after `reproduce` (the subcommand and its flags), without
/// `--out`, `--shard`, `--quiet` and `--cache-dir` (the merge's own), with `--data` made
/// absolute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyRecorded {
    /// `gevb --scale smoke --data /abs/path ...`, word by word.
    pub args: Vec<String>,
}

impl StudyRecorded {
    /// The settings of this process's command line ([`StudyRecorded::from_args`] of its
    /// arguments).
    pub fn of_this_process() -> StudyRecorded {
        StudyRecorded::from_args(std::env::args())
    }

    /// The settings of the command line `args` (the program's name first).
    pub fn from_args(args: impl IntoIterator<Item = String>) -> StudyRecorded {
        let mut out = Vec::new();
        let mut it = args.into_iter().skip_while(|a| a != "reproduce").skip(1);
        let absolute = |p: &str| {
            std::fs::canonicalize(p).map_or_else(|_| p.to_string(), |a| a.display().to_string())
        };
        while let Some(a) = it.next() {
            let flag = a.split_once('=').map_or(a.as_str(), |(f, _)| f);
            match flag {
                "--quiet" => {}
                "--out" | "--shard" | "--cache-dir" => {
                    if !a.contains('=') {
                        it.next();
                    }
                }
                "--data" | "--mlp-data" | "--fashion-mnist" => match a.split_once('=') {
                    Some((f, v)) => out.push(format!("{f}={}", absolute(v))),
                    None => {
                        out.push(a.clone());
                        if let Some(v) = it.next() {
                            out.push(absolute(&v));
                        }
                    }
                },
                _ => out.push(a.clone()),
            }
        }
        StudyRecorded { args: out }
    }
}

/// `args` without `--data` and its value.
fn without_data(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--data" {
            it.next();
        } else if !a.starts_with("--data=") {
            out.push(a.clone());
        }
    }
    out
}

/// The words of a refused merge of the study in `dir` (the shards' command line, as recorded).
fn hints(dir: &Path, rec: Option<&StudyRecorded>) -> MergeHints {
    let name = dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().to_string());
    let command = rec.map_or_else(|| "STUDY".to_string(), |r| r.args.join(" "));
    MergeHints {
        holder: format!("reproduce merge {name}"),
        run_shard: format!("reproduce {command} --shard I/N"),
        shard_flag: "--shard".into(),
        same_settings: "the shards and the merge run with the flags the shards recorded in \
                        their settings.json"
            .into(),
        saved: "saved file".into(),
    }
}

/// `--shard I/N` and `reproduce merge STUDY` for `study` (whose directory is `dir`), called
/// just before the study runs: with `--shard`, trains the shard's share of the runs
/// ([`neurogen_lab::schedule::run_shard`], recorded in `dir/shards/I-of-N/` with this command
/// line, [`StudyRecorded`]), writes no report and returns true (the caller is done); for
/// `merge`, merges the shards into `dir/runs.csv` ([`neurogen_lab::schedule::merge_study`]:
/// every run must be there) and returns false, so that the study's run then trains nothing
/// and writes the report; otherwise returns false (a run on one machine folds what shards
/// recorded, and trains the rest).
pub fn shard_or_merge<St: EngineStudy>(
    sharding: &StudyShardArgs,
    study: &St,
    dir: &Path,
    quiet: bool,
) -> anyhow::Result<bool> {
    let id = study.id().to_string();
    if let Some(shard) = sharding.shard {
        let t0 = std::time::Instant::now();
        let settings = StudyRecorded::of_this_process();
        let mut lines = Lines { study: &id, quiet };
        let rows = run_shard(study, dir, &OPTIONS, shard, &settings, &mut lines)?;
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        println!(
            "{id}: shard {shard}: {} runs recorded in {} ({:.0} s); `reproduce merge {name}` writes the report once every shard is done",
            rows.len(),
            shard.dir(dir).join("runs.csv").display(),
            t0.elapsed().as_secs_f64()
        );
        return Ok(true);
    }
    if sharding.merge {
        let rec = recorded_settings::<StudyRecorded>(dir)?;
        let rows = merge_study(study, dir, &OPTIONS, &hints(dir, rec.as_ref()))?;
        eprintln!(
            "{id}: merged the shards' {} runs into {}",
            rows.len(),
            dir.join("runs.csv").display()
        );
    }
    Ok(false)
}

/// `reproduce merge STUDY` for a study on the engine: reads the command line its shards
/// recorded in `OUT/STUDY/shards/*/settings.json` ([`StudyRecorded`]) and runs it in merge
/// mode ([`shard_or_merge`]) with the merge's `--out`, `--quiet` and `--cache-dir` (and its
/// `--data` in place of the shards', for data that is elsewhere on this machine): the shards
/// are merged, nothing is trained, and the report is written. Any other flag is refused (the
/// shards' are used).
pub fn merge(name: &str, tran: &TranArgs) -> anyhow::Result<()> {
    let mut study = recorded_command(name, tran, "merge")?;
    sharding_of(&mut study)
        .ok_or_else(|| no_shards(name, tran))?
        .merge = true;
    run_engine(&study)
}

/// `reproduce interim STUDY` for a sharded study on the engine: runs the command line its
/// shards recorded, as [`merge`] does, with `--interim` ([`run_engine`]): the report of the
/// runs recorded so far, in `OUT/STUDY/runs.csv` and the shards', is written to
/// `OUT/STUDY/interim-report.md`; nothing is trained or merged.
pub fn interim(name: &str, tran: &TranArgs) -> anyhow::Result<()> {
    let mut study = recorded_command(name, tran, "interim")?;
    sharding_of(&mut study)
        .ok_or_else(|| no_shards(name, tran))?
        .interim = true;
    run_engine(&study)
}

/// The refusal of a command line recorded by shards of a study that has none.
fn no_shards(name: &str, tran: &TranArgs) -> anyhow::Error {
    anyhow::anyhow!(
        "{}: the shards recorded the command line of a study that has no shards",
        tran.common.out.join(name).display()
    )
}

/// The `--shard`/`--interim` flags of `study`, if it is a study on the engine.
fn sharding_of(study: &mut Study) -> Option<&mut StudyShardArgs> {
    match study {
        Study::Flymodel(a) => Some(&mut a.sharding),
        Study::Dale(a) => Some(&mut a.sharding),
        Study::Gevb(a) => Some(&mut a.sharding),
        Study::Modular(a) => Some(&mut a.sharding),
        Study::Attention(a) => Some(&mut a.sharding),
        _ => None,
    }
}

/// Runs `study`, a study on the engine (`flymodel`, `dale`, `gevb`, `modular`, `attention`);
/// with `--interim`, inside [`neurogen_lab::interim::interim`], so that its run trains nothing
/// and writes `OUT/STUDY/interim-report.md` from the runs recorded so far (and this prints
/// how many of how many runs it covers).
pub fn run_engine(study: &Study) -> anyhow::Result<()> {
    type Run<'a> = &'a dyn Fn() -> anyhow::Result<()>;
    let (sharding, run): (&StudyShardArgs, Run<'_>) = match study {
        Study::Flymodel(a) => (&a.sharding, &|| super::flymodel::run(a)),
        Study::Dale(a) => (&a.sharding, &|| super::dale::run(a)),
        Study::Gevb(a) => (&a.sharding, &|| super::gevb::run(a)),
        Study::Modular(a) => (&a.sharding, &|| super::modular::run(a)),
        Study::Attention(a) => (&a.sharding, &|| super::attention::run(a)),
        _ => anyhow::bail!("only the studies on the engine have shards and interim reports"),
    };
    if !sharding.interim {
        return run();
    }
    let (out, covered) = neurogen_lab::interim::interim(run);
    out?;
    for c in covered {
        println!(
            "{}: interim report of {} of {} runs written to {} (report.md is written when every run is in)",
            c.study,
            c.recorded,
            c.total,
            c.file.display()
        );
    }
    Ok(())
}

/// The report a study on the engine has just written in its directory `dir`: `report.md`,
/// or inside an interim run ([`run_engine`] with `--interim`) `interim-report.md`.
pub fn report_written(dir: &Path) -> PathBuf {
    if neurogen_lab::interim::active() {
        dir.join(neurogen_lab::interim::INTERIM_REPORT_FILE)
    } else {
        dir.join("report.md")
    }
}

/// The command line the shards of the study in `OUT/name` recorded, completed with this
/// command's `--out`, `--quiet`, `--cache-dir` and `--data` (for `reproduce VERB name`), any
/// other flag refused.
fn recorded_command(name: &str, tran: &TranArgs, verb: &str) -> anyhow::Result<Study> {
    let c = &tran.common;
    let t = &tran.training;
    let figure_flags = tran.reference_quirks
        || tran.compare_reference
        || c.scale.is_some()
        || c.repeats.is_some()
        || c.device != "cpu"
        || t.epochs.is_some()
        || t.lr.is_some()
        || t.replicas.is_some()
        || t.mix_groups;
    anyhow::ensure!(
        !figure_flags,
        "reproduce {verb} {name} takes only --out, --quiet, --cache-dir and --data: the study runs with the flags its shards recorded"
    );
    let dir = c.out.join(name);
    let rec = recorded_settings::<StudyRecorded>(&dir)?.ok_or_else(|| {
        let alone = if verb == "interim" {
            format!("; a study training on one machine writes its interim report with its own flags and --interim (`reproduce STUDY ... --out {} --interim`)", c.out.display())
        } else {
            String::new()
        };
        anyhow::anyhow!(
            "{}: no shard of {name} has run here (no shards/*/settings.json): run `reproduce STUDY --shard I/N --out {}` for I = 1 .. N first{alone}",
            dir.display(),
            c.out.display()
        )
    })?;
    let mut argv: Vec<std::ffi::OsString> = vec!["reproduce".into()];
    match &tran.data {
        Some(data) => {
            argv.extend(without_data(&rec.args).into_iter().map(Into::into));
            argv.extend(["--data".into(), data.clone().into_os_string()]);
        }
        None => argv.extend(rec.args.iter().map(Into::into)),
    }
    argv.extend(["--out".into(), c.out.clone().into_os_string()]);
    if c.quiet {
        argv.push("--quiet".into());
    }
    if let Some(d) = &c.cache_dir {
        argv.extend(["--cache-dir".into(), d.clone().into_os_string()]);
    }
    #[derive(clap::Parser)]
    struct Again {
        #[command(subcommand)]
        study: Study,
    }
    let again = <Again as clap::Parser>::try_parse_from(&argv).with_context(|| {
        format!(
            "{}: the shards recorded `reproduce {}`, which this xtask does not read",
            dir.display(),
            rec.args.join(" ")
        )
    })?;
    Ok(again.study)
}

/// Fashion-MNIST from `data` (default: the installed IDX files or `$NEUROGEN_FASHION_MNIST`),
/// decoded with `common`'s cache directory; a missing path is a clear error.
pub fn load_fashion_mnist(
    data: &Option<PathBuf>,
    common: &CommonArgs,
) -> anyhow::Result<neurogen_data::Loaded> {
    let data = match data {
        Some(p) => p.clone(),
        None => neurogen_data::fashion_mnist_dir().ok_or_else(|| {
            anyhow::anyhow!(
                "no Fashion-MNIST at /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist) or $NEUROGEN_FASHION_MNIST: pass --data DIR with the IDX files"
            )
        })?,
    };
    load_kind(&data, neurogen_data::DatasetKind::FashionMnist, common)
}

/// CIFAR-10 from `data` (default: the shared archive, [`neurogen_data::cifar10_archive`]),
/// decoded with `common`'s cache directory; a missing path is a clear error.
pub fn load_cifar10(
    data: &Option<PathBuf>,
    common: &CommonArgs,
) -> anyhow::Result<neurogen_data::Loaded> {
    let data = match data {
        Some(p) => p.clone(),
        None => neurogen_data::cifar10_archive().ok_or_else(|| {
            anyhow::anyhow!(
                "no CIFAR-10: pass --data PATH (the shared archive ../shared/data/cifar10-jpeg.tar.gz was not found)"
            )
        })?,
    };
    load_kind(&data, neurogen_data::DatasetKind::Cifar10, common)
}

/// The dataset `kind` from `data` (which must exist), decoded with `common`'s cache directory.
fn load_kind(
    data: &std::path::Path,
    kind: neurogen_data::DatasetKind,
    common: &CommonArgs,
) -> anyhow::Result<neurogen_data::Loaded> {
    anyhow::ensure!(
        data.exists(),
        "--data {}: no such file or directory",
        data.display()
    );
    let opts = match &common.cache_dir {
        Some(d) => neurogen_data::LoadOptions::with_cache_dir(d),
        None => neurogen_data::LoadOptions::default(),
    };
    neurogen_data::load_as(data, kind, &opts)
        .with_context(|| format!("loading {kind} from {}", data.display()))
}

/// The IDX dataset `dataset` names: Fashion-MNIST as [`load_fashion_mnist`] loads it, or
/// MNIST from `data`, which is then required (MNIST is not installed here).
pub fn load_idx(
    dataset: IdxDataset,
    data: &Option<PathBuf>,
    common: &CommonArgs,
) -> anyhow::Result<neurogen_data::Loaded> {
    match dataset {
        IdxDataset::FashionMnist => load_fashion_mnist(data, common),
        IdxDataset::Mnist => {
            let dir = data.as_ref().ok_or_else(|| {
                anyhow::anyhow!(
                    "--dataset mnist needs --data DIR with MNIST's IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each may end in .gz): MNIST is not installed here"
                )
            })?;
            load_kind(dir, neurogen_data::DatasetKind::Mnist, common)
        }
    }
}

/// Prints the engine's events as lines prefixed with the study's id (notes only without
/// `--quiet`).
pub struct Lines<'a> {
    /// The study's id (`dale`, ...).
    pub study: &'a str,
    /// `--quiet`.
    pub quiet: bool,
}

impl Observer for Lines<'_> {
    fn event(&mut self, event: &Event) {
        match event {
            Event::Started {
                file,
                total,
                recorded,
            } => eprintln!(
                "{}: {recorded} of {total} runs recorded in {}",
                self.study,
                file.display()
            ),
            Event::BatchRecorded {
                recorded,
                total,
                seconds_left,
                summaries,
                ..
            } => {
                let eta =
                    seconds_left.map_or(String::new(), |s| format!(", about {} left", duration(s)));
                for s in summaries {
                    eprintln!("{s} ({recorded} of {total} runs recorded{eta})");
                }
            }
            Event::Note(line) if !self.quiet => eprintln!("{line}"),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_records_its_flags_without_the_machines_own_and_with_data_made_absolute() {
        let argv = [
            "xtask",
            "reproduce",
            "gevb",
            "--scale",
            "smoke",
            "--out",
            "o",
            "--shard",
            "1/2",
            "--quiet",
            "--data",
            ".",
            "--cache-dir=c",
            "--repeats=3",
            "--data=.",
        ];
        let rec = StudyRecorded::from_args(argv.iter().map(|a| a.to_string()));
        assert_eq!(
            without_data(&rec.args),
            ["gevb", "--scale", "smoke", "--repeats=3"]
        );
        let cwd = std::fs::canonicalize(".").unwrap().display().to_string();
        assert_eq!(
            rec.args,
            [
                "gevb".to_string(),
                "--scale".into(),
                "smoke".into(),
                "--data".into(),
                cwd.clone(),
                "--repeats=3".into(),
                format!("--data={cwd}"),
            ]
        );
    }
}
