//! `reproduce flymodel`: Shen, Dasgupta & Navlakha's FlyModel study
//! (`neurogen_studies::shen2021_flymodel`) into `OUT/flymodel/` (Fashion-MNIST) or
//! `OUT/flymodel-DATASET/`. This module only reads the flags, loads the data and prints the
//! engine's progress; the study, its runs, claims and report live in the studies crate.
use std::path::Path;

use anyhow::Context;
use clap::ValueEnum;
use neurogen_studies::shen2021_flymodel::{
    self as fly, Benchmark, FlyData, FlyScale, FlyScaleName, FlyStudy, GemScale,
};
use serde::{Deserialize, Serialize};

use super::args::FlyArgs;
use super::study_cli::Lines;
use neurogen_studies::scale::ScaleName;

/// The benchmark `reproduce flymodel` runs (`--dataset`). MNIST, KMNIST and Fashion-MNIST
/// files share their names, so the kind is stated, never guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum FlyDataset {
    /// Fashion-MNIST, raw pixels (the default; installed on these machines).
    FashionMnist,
    /// MNIST digits, raw pixels (`--data DIR` with its IDX files).
    Mnist,
    /// Kuzushiji-MNIST, raw pixels (`--data DIR` with its IDX files).
    Kmnist,
    /// MNIST-20 (the paper's): MNIST's digits as classes 0–9 and Fashion-MNIST's as 10–19, 10
    /// tasks of 2; `--data` holds MNIST, `--fashion-mnist` Fashion-MNIST (default: installed).
    #[value(name = "mnist20")]
    Mnist20,
    /// CIFAR-10, 5 tasks of 2, on features of a frozen CNN trained on the other half of the
    /// training set.
    Cifar10,
}

impl From<FlyDataset> for Benchmark {
    fn from(d: FlyDataset) -> Benchmark {
        match d {
            FlyDataset::FashionMnist => Benchmark::FashionMnist,
            FlyDataset::Mnist => Benchmark::Mnist,
            FlyDataset::Kmnist => Benchmark::Kmnist,
            FlyDataset::Mnist20 => Benchmark::Mnist20,
            FlyDataset::Cifar10 => Benchmark::Cifar10,
        }
    }
}

/// The study's settings from the flags: the scale's, with `--repeats`, `--ewc-lambda` and
/// `--gem` applied.
fn settings(args: &FlyArgs, benchmark: Benchmark) -> anyhow::Result<FlyScale> {
    let common = &args.common;
    let name = match common.scale() {
        ScaleName::Smoke => FlyScaleName::Smoke,
        ScaleName::Quick => FlyScaleName::Quick,
        ScaleName::Paper => FlyScaleName::Paper,
    };
    let mut scale = FlyScale::new(name, benchmark);
    if let Some(r) = common.checked_repeats("the paired tests need two runs")? {
        scale.repeats = r;
    }
    if let Some(l) = args.ewc_lambda {
        anyhow::ensure!(
            l.is_finite() && l >= 0.0,
            "--ewc-lambda {l}: expected a finite number >= 0"
        );
        scale.ewc_lambda = l;
    }
    if args.gem {
        scale.gem = Some(GemScale::default());
    }
    Ok(scale)
}

/// Runs the study `args` ask for (resuming what `OUT/flymodel*/runs.csv` records) and writes
/// its `report.md` (CPU only: the learners are small); with `--shard I/N` trains the shard's
/// share only, and for `reproduce merge flymodel*` merges the shards first
/// ([`super::study_cli::shard_or_merge`]).
pub fn run(args: &FlyArgs) -> anyhow::Result<()> {
    let common = &args.common;
    anyhow::ensure!(
        common.device == "cpu",
        "reproduce flymodel runs on the CPU (its learners are small); drop --device {}",
        common.device
    );
    let ds = args.dataset;
    let benchmark = Benchmark::from(ds);
    let scale = settings(args, benchmark)?;
    anyhow::ensure!(
        args.fashion_mnist.is_none() || ds == FlyDataset::Mnist20,
        "--fashion-mnist is the second half of --dataset mnist20 only"
    );
    let data = match &args.data {
        Some(p) => p.clone(),
        None => match ds {
            FlyDataset::FashionMnist => neurogen_data::fashion_mnist_dir().ok_or_else(|| {
                anyhow::anyhow!(
                    "no Fashion-MNIST at /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist) or $NEUROGEN_FASHION_MNIST: pass --data DIR with the IDX files"
                )
            })?,
            FlyDataset::Cifar10 => neurogen_data::cifar10_archive().ok_or_else(|| {
                anyhow::anyhow!(
                    "--dataset cifar10: no CIFAR-10 in the shared data folder: pass --data PATH (any form `cargo xtask data summary` reads)"
                )
            })?,
            _ => anyhow::bail!(
                "--dataset {} needs --data DIR with {}'s four IDX files ({}[.gz]); they are not installed on these machines",
                benchmark.cli_name(),
                benchmark.data_kind(),
                neurogen_data::idx::FILES.join(", ")
            ),
        },
    };
    crate::common::ensure_dir(&common.out)?;
    let opts = match &common.cache_dir {
        Some(d) => neurogen_data::LoadOptions::with_cache_dir(d),
        None => neurogen_data::LoadOptions::default(),
    };
    let load =
        |p: &Path, kind: neurogen_data::DatasetKind| -> anyhow::Result<neurogen_data::Loaded> {
            anyhow::ensure!(p.exists(), "{}: no such file or directory", p.display());
            neurogen_data::load_as(p, kind, &opts)
                .with_context(|| format!("loading {kind} from {}", p.display()))
        };
    let loaded = load(&data, benchmark.data_kind())?;
    let fashion = if ds == FlyDataset::Mnist20 {
        let p = match &args.fashion_mnist {
            Some(p) => p.clone(),
            None => neurogen_data::fashion_mnist_dir().ok_or_else(|| {
                anyhow::anyhow!(
                    "--dataset mnist20 needs Fashion-MNIST too: pass --fashion-mnist DIR"
                )
            })?,
        };
        Some(load(&p, neurogen_data::DatasetKind::FashionMnist)?)
    } else {
        None
    };
    let dir = common.out.join(benchmark.dir_name());
    // The CIFAR-10 features: in the decode cache's directory, else in the study's.
    let feature_cache = Some(
        common
            .cache_dir
            .clone()
            .or_else(neurogen_data::cache::default_cache_dir)
            .map_or_else(|| dir.join("features"), |d| d.join("features")),
    );
    let study = FlyStudy::new(
        scale,
        benchmark,
        FlyData {
            main: &loaded.dataset,
            source: loaded.source.display().to_string(),
            fashion: fashion
                .as_ref()
                .map(|f| (&f.dataset, f.source.display().to_string())),
            feature_cache,
        },
        args.save_learners,
    )?;
    if super::study_cli::shard_or_merge(&args.sharding, &study, &dir, common.quiet)? {
        for w in study.take_warnings() {
            eprintln!("{w}");
        }
        return Ok(());
    }
    let t0 = std::time::Instant::now();
    let outcome = fly::run(
        &study,
        &dir,
        &mut Lines {
            study: benchmark.dir_name(),
            quiet: common.quiet,
        },
    );
    for w in study.take_warnings() {
        eprintln!("{w}");
    }
    let outcome = outcome.map_err(|e| anyhow::anyhow!(e))?;
    println!(
        "flymodel: {} runs; wrote {} ({:.0} s)",
        outcome.rows.len(),
        super::study_cli::report_written(&dir).display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What `reproduce export` leaves out of a FlyModel directory besides what the engine never
/// exports (checkpoints: the learners `--save-learners` keeps; shards; locks): the CIFAR-10
/// feature cache (`features/`, when no decode cache directory holds it), a cache and not a
/// result. `features.json`, the extractor's record, is exported.
pub fn export_rules() -> neurogen_lab::export::ExportRules {
    neurogen_lab::export::ExportRules {
        skip_dirs: vec!["features".into()],
        rewrite_json: Vec::new(),
    }
}
