//! `reproduce single-directions`: Morcos, Barrett, Rabinowitz & Botvinick's (ICLR 2018) single
//! directions and generalisation (`neurogen_studies::morcos2018`; docs/single-directions.md)
//! into `OUT/single-directions/`: the CNN on CIFAR-10 from `--data`, the MLP on Fashion-MNIST
//! from `--mlp-data`. This module only reads the flags, loads the data and trains each arm's
//! runs on the command line's schedule with its progress bars ([`Ctx`]); the study, its
//! analyses, claims and report live in the studies crate.
use std::path::Path;

use anyhow::Context;
use indicatif::MultiProgress;
use neurogen_model::parse_device_single_stream;
use neurogen_studies::cnn::{FigureData, RunRecord};
use neurogen_studies::morcos2018::{self as sd, SdContext, SdData, SdError, SdScale, NAME};
use neurogen_studies::tran2022::figure::Group;

use super::args::SdArgs;
use super::parse_replicas;
use super::run::{run_groups, RunOptions};

/// The study's context on the command line: the settings and the run options (the study's
/// directory, device, replicas, progress bars) each arm's runs train with.
struct Ctx<'a> {
    /// The settings, after the flags' overrides.
    scale: SdScale,
    /// The run options.
    opts: RunOptions<'a>,
}

impl SdContext for Ctx<'_> {
    fn scale(&self) -> &SdScale {
        &self.scale
    }

    fn dir(&self) -> &Path {
        &self.opts.dir
    }

    fn device(&self) -> &candle_core::Device {
        &self.opts.device
    }

    fn train(
        &self,
        data: &FigureData,
        group: &Group,
        repeats: usize,
    ) -> Result<Vec<RunRecord>, SdError> {
        run_groups(&self.opts, data, std::slice::from_ref(group), repeats).map_err(SdError::context)
    }
}

/// The study's settings from the flags: the scale's, with `--repeats`, `--epochs` and `--lr`
/// applied.
fn settings(args: &SdArgs) -> anyhow::Result<SdScale> {
    let (common, training) = (&args.common, &args.training);
    let mut scale = SdScale::new(common.scale());
    if let Some(r) = common.checked_repeats("the statistics need two runs per setting")? {
        scale.repeats = r;
    }
    if let Some(e) = training.checked_epochs()? {
        scale.cnn_epochs = e;
        scale.mlp_epochs = e;
        scale.short_epochs = scale.short_epochs.min(e);
    }
    if let Some(lr) = training.checked_lr()? {
        scale.lr = lr;
    }
    Ok(scale)
}

/// Runs the study `args` ask for (resuming what `OUT/single-directions/runs.csv` and
/// `analysis/` record) and writes its `report.md`.
pub fn run(args: &SdArgs) -> anyhow::Result<()> {
    let (common, training) = (&args.common, &args.training);
    let scale = settings(args)?;
    // SAFETY: xtask uses the device from its main thread only.
    let device = unsafe { parse_device_single_stream(&common.device)? };
    let replicas = parse_replicas(training.replicas(), &device)?;
    let mlp_data = match &args.mlp_data {
        Some(p) => p.clone(),
        None => neurogen_data::fashion_mnist_dir().ok_or_else(|| {
            anyhow::anyhow!(
                "no Fashion-MNIST for the MLP at /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist) or $NEUROGEN_FASHION_MNIST: pass --mlp-data DIR with the IDX files"
            )
        })?,
    };
    anyhow::ensure!(
        mlp_data.exists(),
        "--mlp-data {}: no such file or directory",
        mlp_data.display()
    );
    crate::common::ensure_dir(&common.out)?;
    let cifar = crate::common::load_data(args.data.as_deref(), common.cache_dir.as_deref())?;
    anyhow::ensure!(
        cifar.dataset.kind == neurogen_data::DatasetKind::Cifar10,
        "reproduce single-directions trains the paper's CNN on CIFAR-10 (--data), but {} holds {}",
        cifar.source.display(),
        cifar.dataset.kind
    );
    let fashion = crate::common::load_data(Some(&mlp_data), common.cache_dir.as_deref())?;
    anyhow::ensure!(
        fashion.dataset.kind == neurogen_data::DatasetKind::FashionMnist,
        "reproduce single-directions trains the MLP on Fashion-MNIST (--mlp-data), but {} holds {}",
        fashion.source.display(),
        fashion.dataset.kind
    );
    let progress = if common.quiet {
        MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
    } else {
        MultiProgress::new()
    };
    let dir = common.out.join(NAME);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let _lock = neurogen_io::DirLock::acquire(&dir, &format!("reproduce {NAME}"))?;
    let ctx = Ctx {
        opts: RunOptions {
            dir: dir.clone(),
            figure: NAME.to_string(),
            device,
            reference_quirks: false,
            batch_size: scale.batch_size,
            lr: scale.lr,
            replicas,
            mix_groups: training.mix_groups,
            progress: &progress,
            quiet: common.quiet,
            shard: None,
        },
        scale,
    };
    let data = SdData {
        cifar: &cifar.dataset,
        fashion: &fashion.dataset,
        sources: (
            cifar.source.display().to_string(),
            fashion.source.display().to_string(),
        ),
    };
    let t0 = std::time::Instant::now();
    let report = sd::run(&ctx, &data)?;
    println!(
        "{NAME}: wrote {} ({:.0} s)",
        report.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
