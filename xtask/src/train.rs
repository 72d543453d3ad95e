//! `cargo xtask train`: train one network and write `model.safetensors` and `metrics.json`.
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use neurogen_model::{
    device_name, parse_device_single_stream, AdamConfig, Cnn, ModelConfig, TrainConfig,
};
use serde::Serialize;

use crate::common::{ensure_dir, load_data, write_json_atomic, ProgressObserver};
use crate::regs;

/// Arguments of `cargo xtask train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Dataset location (any form `cargo xtask data summary` accepts); default: the hub cache.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Number of epochs.
    #[arg(long, default_value_t = 14)]
    pub epochs: usize,
    /// Minibatch size (the paper uses 4).
    #[arg(long, default_value_t = 4)]
    pub batch_size: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 2e-4)]
    pub lr: f64,
    /// Train on N images of the training split only (a fixed random subset).
    #[arg(long)]
    pub train_subset: Option<usize>,
    /// Evaluate on N images of the held-out split only (a fixed random subset).
    #[arg(long)]
    pub eval_subset: Option<usize>,
    /// Seed of the initial weights, minibatch order and regularisers.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Hold out the paper's validation split (5,000 of the 50,000 training images, chosen by
    /// --seed) and report on it instead of the test split.
    #[arg(long)]
    pub validation: bool,
    /// Width of every hidden layer.
    #[arg(long, default_value_t = 250)]
    pub hidden: usize,
    /// Regulariser, repeatable (combined in the given order), e.g.
    /// `neurogenesis:n=8,every=640,until_epoch=10` or `dropout:p=0.2`.
    #[arg(long = "regularizer", value_name = "SPEC")]
    pub regularizers: Vec<String>,
    /// TOML file of regularisers (combined after any --regularizer).
    #[arg(long)]
    pub regularizer_config: Option<PathBuf>,
    /// Reproduce the published code's behaviour (see docs/regularizers.md).
    #[arg(long)]
    pub reference_quirks: bool,
    /// Compute device: cpu, cuda, cuda:N or metal.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Decode-cache directory.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Output directory (model.safetensors, metrics.json).
    #[arg(long)]
    pub out: PathBuf,
    /// Print the metrics as JSON on stdout (and no progress bar).
    #[arg(long)]
    pub json: bool,
}

/// What `metrics.json` holds.
#[derive(Serialize)]
pub struct MetricsFile {
    /// neurogen's version.
    pub version: String,
    /// The dataset kind.
    pub dataset: String,
    /// Where the data came from.
    pub data_source: PathBuf,
    /// The device trained on.
    pub device: String,
    /// Seed of weights, batches and regularisers.
    pub seed: u64,
    /// The network's shape at the end (hidden widths after any growth).
    pub model: ModelConfig,
    /// Training settings.
    pub train: TrainConfig,
    /// Number of training images used.
    pub train_images: usize,
    /// Regularisers' configuration.
    pub regularizer: serde_json::Value,
    /// Final accuracy on the training split (eval mode).
    pub final_train_accuracy: Option<f64>,
    /// Final accuracy on the held-out split.
    pub final_eval_accuracy: Option<f64>,
    /// Name of the held-out split (`test` or `validation`).
    pub eval_split: String,
    /// Per-epoch curves and timing.
    pub metrics: neurogen_model::TrainMetrics,
}

/// Runs `cargo xtask train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    // Flags first, so a typo fails in a second, not after loading data or training.
    anyhow::ensure!(args.epochs >= 1, "--epochs must be at least 1, got 0");
    anyhow::ensure!(
        args.batch_size >= 1,
        "--batch-size must be at least 1, got 0"
    );
    anyhow::ensure!(
        args.lr.is_finite() && args.lr > 0.0,
        "--lr {}: the learning rate must be a finite number > 0",
        args.lr
    );
    anyhow::ensure!(args.hidden >= 1, "--hidden must be at least 1, got 0");
    anyhow::ensure!(
        args.train_subset != Some(0),
        "--train-subset must be at least 1, got 0"
    );
    anyhow::ensure!(
        args.eval_subset != Some(0),
        "--eval-subset must be at least 1, got 0"
    );
    // SAFETY: xtask uses the device from its main thread only.
    let device = unsafe { parse_device_single_stream(&args.device)? };
    let out = ensure_dir(&args.out)?;
    let loaded = load_data(args.data.as_deref(), args.cache_dir.as_deref())?;
    let ds = &loaded.dataset;
    let (mut train_split, mut eval_split, eval_name) = if args.validation {
        let (t, v) = ds.train_val_split(ds.train.len() / 10, args.seed)?;
        (t, v, "validation")
    } else {
        (ds.train.clone(), ds.test.clone(), "test")
    };
    if let Some(n) = args.train_subset {
        anyhow::ensure!(n >= 1, "--train-subset must be at least 1");
        anyhow::ensure!(
            n <= train_split.len(),
            "--train-subset {n} is larger than the training split ({} images)",
            train_split.len()
        );
        // A seeded random subset (seed 0 for every run, so groups share their images): the image
        // folders are sorted by class, so the first N images would hold one class only.
        train_split = train_split.sample(n, 0)?;
    }
    if let Some(n) = args.eval_subset {
        anyhow::ensure!(
            n >= 1 && n <= eval_split.len(),
            "--eval-subset {n} must be in 1..={} (the {eval_name} split's size)",
            eval_split.len()
        );
        eval_split = eval_split.sample(n, 0)?;
    }
    anyhow::ensure!(args.hidden >= 1, "--hidden must be at least 1");
    let model_cfg = ModelConfig::for_input(
        ds.shape.channels,
        ds.shape.height,
        ds.shape.width,
        ds.num_classes(),
    )
    .with_hidden_width(args.hidden);
    let train_cfg = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        adam: AdamConfig {
            lr: args.lr,
            ..AdamConfig::default()
        },
        seed: args.seed,
        ..TrainConfig::default()
    };
    train_cfg.validate()?;
    let set = regs::parse_set(
        &args.regularizers,
        args.regularizer_config.as_deref(),
        args.reference_quirks,
    )?;
    // Settings that cannot act in this run (neurogenesis every 640 steps in a run of 500, say)
    // are said now, on stderr, and recorded in the regularisers' report.
    let plan = neurogen_regularizers::RunPlan::for_training(&train_cfg, train_split.len());
    let (stack, warnings) = neurogen_regularizers::build_for_run(&set, args.seed, &plan)?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let mut reg: Box<dyn neurogen_model::Regularizer> = Box::new(stack);
    let reg_config = regs::describe(&set);

    let mut model = Cnn::new(&model_cfg, args.seed, &device)?;
    let batches =
        neurogen_model::train::training_batches(train_split.len(), args.batch_size, 0, 0).len();
    if !args.json {
        eprintln!(
            "training {} on {} {} images ({}), {} epochs at batch {}, device {}",
            reg_config,
            train_split.len(),
            ds.kind,
            loaded.source.display(),
            args.epochs,
            args.batch_size,
            device_name(&device)
        );
    }
    let mut progress =
        ProgressObserver::new(args.epochs, batches, args.batch_size, "train", args.json);
    let result = neurogen_model::train(
        &mut model,
        &train_split,
        Some((eval_name, &eval_split)),
        &train_cfg,
        &mut reg,
        &mut progress,
    );
    progress.finish();
    let (metrics, _) = result.context("training failed")?;

    let file = MetricsFile {
        version: env!("CARGO_PKG_VERSION").to_string(),
        dataset: ds.kind.to_string(),
        data_source: loaded.source.clone(),
        device: device_name(&device),
        seed: args.seed,
        model: model.config().clone(),
        train: train_cfg.clone(),
        train_images: train_split.len(),
        regularizer: regs::metadata(&set, &metrics.regularizer)?,
        final_train_accuracy: metrics.final_train.map(|e| e.accuracy),
        final_eval_accuracy: metrics.final_eval.map(|e| e.accuracy),
        eval_split: eval_name.to_string(),
        metrics,
    };
    let run = neurogen_regularizers::TrainedRun {
        set: &set,
        metrics: &file.metrics,
        epochs: args.epochs,
        seed: args.seed,
        dataset: &file.dataset,
    };
    neurogen_regularizers::save_trained(&model, &run, &out.join("model.safetensors"))?;
    write_json_atomic(&out.join("metrics.json"), &file)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&file)?);
    } else {
        println!(
            "final: train accuracy {:.2}%, {eval_name} accuracy {:.2}%, {:.0} img/s, {:.1} s; wrote {}/model.safetensors and metrics.json",
            100.0 * file.final_train_accuracy.unwrap_or(f64::NAN),
            100.0 * file.final_eval_accuracy.unwrap_or(f64::NAN),
            file.metrics.images_per_second,
            file.metrics.wall_seconds,
            out.display()
        );
    }
    Ok(())
}
