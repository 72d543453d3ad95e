//! `cargo xtask bench throughput`: training and evaluation images per second of the paper's CNN.
//!
//! Training is the library's own step (`neurogen_model::Trainer::step`, what `train` and
//! `train_replicas` run): the minibatch upload, step hooks, forward, cross-entropy, backward,
//! Adam (PyTorch's rule, lr 2e-4). Evaluation is the forward pass and
//! loss in eval mode. After warm-up steps, steps run in windows of about `--window-secs`; the
//! figure reported is the median of the windows' images per second (all windows are listed).
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use neurogen_data::{LoadOptions, Split};
use neurogen_model::{
    replica_batch, training_batches, AdamConfig, Cnn, ModelConfig, NoRegularizer, Regularizer,
    SettledStep, StepCtx, Trainer,
};
use serde::Serialize;

/// Arguments of `cargo xtask bench`.
#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Images per second for training (forward, backward, Adam) and evaluation.
    Throughput(ThroughputArgs),
    /// Images per second of one training step of a vectorized FC network (GEVB or its
    /// backprop) of Clark et al. (2021), beside `benches/gevb_pytorch.py`.
    Gevb(gevb::GevbBenchArgs),
}

/// How a benchmark is timed: untimed warm-up steps, then timed windows (the median is
/// reported, every window listed).
#[derive(Args, Debug, Clone)]
pub(crate) struct Timing {
    /// Number of timed windows (the median is reported).
    #[arg(long, default_value_t = 7)]
    pub windows: usize,
    /// Length of a timed window in seconds (a window runs at least one step).
    #[arg(long, default_value_t = 2.0)]
    pub window_secs: f64,
    /// Untimed steps before the first window.
    #[arg(long, default_value_t = 20)]
    pub warmup_steps: usize,
}

impl Timing {
    /// Refuses no windows or a window length that is not a positive number.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.windows == 0 {
            anyhow::bail!("--windows must be at least 1");
        }
        if !(self.window_secs.is_finite() && self.window_secs > 0.0) {
            anyhow::bail!(
                "--window-secs must be a positive number, got {}",
                self.window_secs
            );
        }
        Ok(())
    }
}

#[derive(Args)]
struct ThroughputArgs {
    /// Training minibatch size (the paper uses 4).
    #[arg(long, default_value_t = 4)]
    batch_size: usize,
    /// Evaluation minibatch size.
    #[arg(long, default_value_t = crate::common::EVAL_BATCH)]
    eval_batch_size: usize,
    /// Device: cpu, cuda, cuda:N or metal.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Networks trained together as one batched model, each at `--batch-size` with its own
    /// seed and minibatch order (images/s then count every replica's images).
    #[arg(long, default_value_t = 1)]
    replicas: usize,
    /// Regulariser of every network (repeatable; the forms `cargo xtask train --regularizer`
    /// takes, e.g. `dropout:p=0.2`): its forward hooks and optimiser settings are part of the
    /// timed step (each replica its own, seeded by its index), and so are its step hooks
    /// (neurogenesis events).
    #[arg(long = "regularizer", value_name = "SPEC")]
    regularizers: Vec<String>,
    /// Dataset (any form `cargo xtask data summary` reads). Default: the shared CIFAR-10
    /// archive (../shared/data/cifar10-jpeg.tar.gz).
    #[arg(long)]
    data: Option<PathBuf>,
    #[command(flatten)]
    timing: Timing,
    /// Steps between readbacks of the training losses (default: the device's,
    /// `neurogen_model::default_loss_readback`: 1 on the CPU, 50 on a GPU). Above 1 the steps
    /// run with `Trainer::step_deferred` and each window ends by reading what is pending and
    /// waiting for the device, so the time covers all work.
    #[arg(long, value_name = "STEPS")]
    loss_readback: Option<usize>,
    /// Use candle's own ops instead of neurogen's CPU kernels (plain-candle baseline; leaves
    /// candle's thread pool at its default unless CANDLE_NUM_THREADS is set).
    #[arg(long)]
    reference_ops: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

mod gevb;

/// Windows of one measurement.
#[derive(Serialize)]
pub(crate) struct Measure {
    batch_size: usize,
    /// Median images per second over the windows.
    images_per_second: f64,
    /// Every window's images per second, in order.
    windows: Vec<f64>,
    /// Steps (minibatches) timed in all windows.
    steps: usize,
}

#[derive(Serialize)]
struct Report {
    device: String,
    cpu: String,
    threads: usize,
    kernels: bool,
    /// CANDLE_NUM_THREADS in effect (candle's elementwise pool; "default" when unset).
    candle_num_threads: String,
    dataset: String,
    /// Networks trained together (1: a single network).
    replicas: usize,
    /// The `--regularizer` specs (empty: none).
    regularizers: Vec<String>,
    /// Steps between loss readbacks in training.
    loss_readback: usize,
    train: Measure,
    eval: Measure,
}

/// Runs `cargo xtask bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Throughput(a) => throughput(a),
        BenchCommand::Gevb(a) => gevb::run(a),
    }
}

pub(crate) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// Runs `step` (`Some(i)`: run step `i` and return the images it processed; `None`: finish
/// any work still pending, at the end of the warm-up and of each window) for warm-up, then in
/// timed windows.
pub(crate) fn measure(
    a: &Timing,
    batch_size: usize,
    mut step: impl FnMut(Option<usize>) -> anyhow::Result<usize>,
) -> anyhow::Result<Measure> {
    let mut i = 0usize;
    for _ in 0..a.warmup_steps {
        step(Some(i))?;
        i += 1;
    }
    step(None)?;
    let mut windows = Vec::with_capacity(a.windows);
    let mut steps = 0;
    for _ in 0..a.windows {
        let t0 = Instant::now();
        let mut images = 0;
        loop {
            images += step(Some(i))?;
            i += 1;
            steps += 1;
            if t0.elapsed().as_secs_f64() >= a.window_secs {
                break;
            }
        }
        step(None)?;
        windows.push(images as f64 / t0.elapsed().as_secs_f64());
    }
    Ok(Measure {
        batch_size,
        images_per_second: median(&windows),
        windows,
        steps,
    })
}

pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn check_args(a: &ThroughputArgs) -> anyhow::Result<()> {
    if a.replicas == 0 {
        anyhow::bail!("--replicas must be at least 1");
    }
    if a.batch_size == 0 || a.eval_batch_size == 0 {
        anyhow::bail!("--batch-size and --eval-batch-size must be at least 1");
    }
    if a.loss_readback == Some(0) {
        anyhow::bail!("--loss-readback must be at least 1 (steps between readbacks)");
    }
    a.timing.check()
}

fn throughput(a: ThroughputArgs) -> anyhow::Result<()> {
    check_args(&a)?;
    // Before any thread or tensor op exists: keep candle's spin-waiting pool out of the
    // kernels' way (see neurogen_model::runtime::prefer_rayon_threads).
    let candle_num_threads = if a.reference_ops {
        std::env::var("CANDLE_NUM_THREADS").unwrap_or_else(|_| "default".into())
    } else {
        neurogen_model::runtime::prefer_rayon_threads()
    };
    // SAFETY: the benchmark uses the device from its main thread only.
    let device = unsafe { neurogen_model::parse_device_single_stream(&a.device) }
        .with_context(|| format!("--device {}", a.device))?;
    let path = match &a.data {
        Some(p) => p.clone(),
        None => neurogen_data::cifar10_archive().context(
            "no dataset: pass --data PATH (the shared CIFAR-10 archive ../shared/data/cifar10-jpeg.tar.gz was not found)",
        )?,
    };
    if !path.exists() {
        anyhow::bail!("--data {}: no such file or directory", path.display());
    }
    let loaded = neurogen_data::load(&path, &LoadOptions::default())
        .with_context(|| format!("loading data from {}", path.display()))?;
    let ds = &loaded.dataset;
    let shape = ds.shape;
    let config = ModelConfig::for_input(
        shape.channels,
        shape.height,
        shape.width,
        ds.class_names.len(),
    );
    neurogen_model::runtime::set_enabled(!a.reference_ops);
    let train_split: &Split = &ds.train;
    let eval_split: &Split = &ds.test;
    if train_split.len() < a.batch_size {
        anyhow::bail!(
            "--batch-size {} is larger than the training split ({} images)",
            a.batch_size,
            train_split.len()
        );
    }

    let loss_readback = a
        .loss_readback
        .unwrap_or_else(|| neurogen_model::default_loss_readback(&device));
    let train = train_throughput(&a, &config, train_split, &device, loss_readback)?;

    // Evaluation: forward and loss in eval mode over the test split, in order.
    let model = Cnn::new(&config, 0, &device)?;
    let all: Vec<usize> = (0..eval_split.len()).collect();
    let chunks: Vec<&[usize]> = all.chunks(a.eval_batch_size).collect();
    let eval = measure(&a.timing, a.eval_batch_size, |i| {
        let Some(i) = i else {
            return Ok(0);
        };
        let idx = chunks[i % chunks.len()];
        let (x, y) = eval_split.batch(idx, &device)?;
        let logits = model.predict(&x)?.unsqueeze(0)?;
        let loss = neurogen_model::cross_entropy(&logits, &y.unsqueeze(0)?)?;
        loss.to_vec1::<f32>()?;
        Ok(idx.len())
    })?;

    let report = Report {
        device: neurogen_model::device_name(&device),
        cpu: cpu_model(),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        kernels: neurogen_model::runtime::enabled() && !device.is_metal(),
        candle_num_threads,
        dataset: format!("{} ({})", ds.kind, path.display()),
        replicas: a.replicas,
        regularizers: a.regularizers.clone(),
        loss_readback,
        train,
        eval,
    };
    print_report(&a, &report)
}

/// One regulariser stack per network from `--regularizer` (none: no regulariser), seeded by
/// the network's index.
fn bench_regs(a: &ThroughputArgs, k: usize) -> anyhow::Result<Vec<Box<dyn Regularizer>>> {
    if a.regularizers.is_empty() {
        return Ok((0..k)
            .map(|_| Box::new(NoRegularizer) as Box<dyn Regularizer>)
            .collect());
    }
    let set = crate::regs::parse_set(&a.regularizers, None, false)?;
    (0..k).map(|r| crate::regs::build(&set, r as u64)).collect()
}

/// Training of `--replicas` networks (1: a single network) as the library trains them: each
/// replica its own seed and minibatch order, one [`Trainer::step`] per minibatch (or
/// [`Trainer::step_deferred`], the losses read every `loss_readback` steps); images per second
/// count every replica's images.
fn train_throughput(
    a: &ThroughputArgs,
    config: &ModelConfig,
    train_split: &Split,
    device: &candle_core::Device,
    loss_readback: usize,
) -> anyhow::Result<Measure> {
    let k = a.replicas;
    let seeds: Vec<u64> = (0..k as u64).collect();
    let mut net = Cnn::from_seeds(config, &seeds, device)?;
    let mut regs = bench_regs(a, k)?;
    let mut adam = AdamConfig::default();
    regs[0].configure_optimizer(&mut adam);
    let mut trainer = Trainer::new(&mut net, adam, &mut regs)?;
    let n = train_split.len();
    let per_epoch = training_batches(n, a.batch_size, 0, 0).len();
    let order = |epoch| -> Vec<Vec<Vec<usize>>> {
        seeds
            .iter()
            .map(|&s| training_batches(n, a.batch_size, s, epoch))
            .collect()
    };
    let mut batches = order(0);
    let mut epoch = 0;
    let mut pending = Vec::with_capacity(loss_readback.min(1024));
    let check = |settled: Vec<SettledStep>| -> anyhow::Result<()> {
        for s in settled {
            if let Some((l, _)) = s.losses.iter().find(|(_, live)| !live) {
                anyhow::bail!(
                    "training diverged at step {}: a replica's loss is {l}",
                    s.ctx.step
                );
            }
        }
        Ok(())
    };
    measure(&a.timing, a.batch_size * k, |i| {
        let Some(i) = i else {
            check(trainer.settle(std::mem::take(&mut pending))?)?;
            device.synchronize()?;
            return Ok(0);
        };
        if i > 0 && i % per_epoch == 0 {
            epoch += 1;
            batches = order(epoch);
        }
        let picks: Vec<&[usize]> = batches
            .iter()
            .map(|b| b[i % per_epoch].as_slice())
            .collect();
        let (x, y) = replica_batch(train_split, &picks, device)?;
        let ctx = StepCtx {
            epoch,
            batch: i % per_epoch,
            step: i,
            batches_per_epoch: per_epoch,
        };
        if loss_readback == 1 {
            let losses = trainer.step(&x, &y, ctx)?;
            check(vec![SettledStep { ctx, losses }])?;
        } else {
            pending.push(trainer.step_deferred(&x, &y, ctx)?);
            if pending.len() == loss_readback {
                check(trainer.settle(std::mem::take(&mut pending))?)?;
            }
        }
        Ok(a.batch_size * k)
    })
}

fn print_report(a: &ThroughputArgs, report: &Report) -> anyhow::Result<()> {
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "device {} ({}, {} threads, CANDLE_NUM_THREADS {}), {}, dataset {}",
            report.device,
            report.cpu,
            report.threads,
            report.candle_num_threads,
            if report.kernels {
                "neurogen CPU kernels"
            } else {
                "candle ops"
            },
            report.dataset
        );
        if report.replicas > 1 {
            println!(
                "train: {} replicas, each at batch {} (images/s count all replicas)",
                report.replicas,
                report.train.batch_size / report.replicas
            );
        }
        if report.loss_readback > 1 {
            println!(
                "train: losses read back every {} steps",
                report.loss_readback
            );
        }
        for (name, m) in [("train", &report.train), ("eval", &report.eval)] {
            let w: Vec<String> = m.windows.iter().map(|v| format!("{v:.0}")).collect();
            println!(
                "{name:5} batch {:4}: {:8.1} images/s (median of {} windows: {})",
                m.batch_size,
                m.images_per_second,
                m.windows.len(),
                w.join(", ")
            );
        }
    }
    Ok(())
}
