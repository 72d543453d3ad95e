//! `cargo xtask eval`: loss and accuracy of a checkpoint on a split.
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use neurogen_model::{checkpoint, parse_device_single_stream};

use crate::common::load_data;

/// Which split to evaluate on.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SplitName {
    /// The test split.
    Test,
    /// The whole training split.
    Train,
}

/// Arguments of `cargo xtask eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// A checkpoint written by `cargo xtask train` (model.safetensors).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Dataset location; default: the hub cache.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Split to evaluate on.
    #[arg(long, value_enum, default_value = "test")]
    pub split: SplitName,
    /// Evaluate on N images only (the same fixed random subset as `train --eval-subset`).
    #[arg(long)]
    pub subset: Option<usize>,
    /// Compute device: cpu, cuda, cuda:N or metal.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Decode-cache directory.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `cargo xtask eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.subset != Some(0), "--subset must be at least 1, got 0");
    // SAFETY: xtask uses the device from its main thread only.
    let device = unsafe { parse_device_single_stream(&args.device)? };
    let cp = &args.checkpoint;
    if !cp.exists() {
        anyhow::bail!(
            "--checkpoint {}: no such file (expected model.safetensors written by `cargo xtask train`)",
            cp.display()
        );
    }
    if cp.is_dir() {
        anyhow::bail!(
            "--checkpoint {}: is a directory, expected a checkpoint file (e.g. {})",
            cp.display(),
            cp.join("model.safetensors").display()
        );
    }
    let ck = checkpoint::load(cp, &device)?;
    let loaded = load_data(args.data.as_deref(), args.cache_dir.as_deref())?;
    let ds = &loaded.dataset;
    let cfg = ck.model.config();
    anyhow::ensure!(
        (cfg.in_channels, cfg.in_height, cfg.in_width)
            == (ds.shape.channels, ds.shape.height, ds.shape.width),
        "checkpoint {} takes {}x{}x{} images but {} has {}",
        args.checkpoint.display(),
        cfg.in_channels,
        cfg.in_height,
        cfg.in_width,
        loaded.source.display(),
        ds.shape
    );
    let (name, mut split) = match args.split {
        SplitName::Test => ("test", ds.test.clone()),
        SplitName::Train => ("train", ds.train.clone()),
    };
    if let Some(n) = args.subset {
        anyhow::ensure!(
            n >= 1 && n <= split.len(),
            "--subset {n} must be in 1..={} (the {name} split's size)",
            split.len()
        );
        split = split.sample(n, 0)?;
    }
    // Evaluate as training did: with the run's regularisers in evaluation mode.
    let mut reg = crate::regs::from_metadata(&ck.meta.regularizer)?;
    let r = neurogen_model::evaluate_with(&ck.model, &split, crate::common::EVAL_BATCH, &mut reg)
        .context("evaluation failed")?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "checkpoint": args.checkpoint, "split": name, "n": r.n, "loss": r.loss, "accuracy": r.accuracy,
                "dataset": ds.kind.to_string(), "epoch": ck.meta.epoch, "seed": ck.meta.seed,
            }))?
        );
    } else {
        println!(
            "{name}: {} images, loss {:.4}, accuracy {:.2}%",
            r.n,
            r.loss,
            100.0 * r.accuracy
        );
    }
    Ok(())
}
