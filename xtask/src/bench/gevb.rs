//! `cargo xtask bench gevb`: images per second of one training step of a vectorized FC network
//! (Clark, Abbott & Chung, NeurIPS 2021), the step `reproduce gevb` runs
//! ([`RuleTrainer::step`]: forward, the rule's updates, Adam, the "+" clamp), beside
//! `benches/gevb_pytorch.py`, which times the authors' formulation (the input expanded to a
//! dense `K × K·d` block-diagonal matrix per image, `davidclark1/VectorizedNets` at 0a5856d) in
//! PyTorch with the same shapes, rule, batch and timing. The inputs are uniform in [−1, 1] (the
//! range of `(x − 0.5)/0.5`) with random labels: the cost of a step does not depend on them.
use anyhow::Context;
use candle_core::{Device, Tensor};
use clap::{Args, ValueEnum};
use neurogen_studies::clark2021_gevb::{paper_adam, Rule, RuleTrainer, VecFc, VecFcConfig};
use serde::Serialize;

use super::{cpu_model, measure, Measure, Timing};

/// Arguments of `cargo xtask bench gevb`.
#[derive(Args, Debug)]
pub struct GevbBenchArgs {
    /// The learning rule: GEVB or exact backprop in the same vectorized network.
    #[arg(long, value_enum, default_value_t = BenchRule::Gevb)]
    rule: BenchRule,
    /// Input length d (the paper's MNIST FC-Vec: 784; CIFAR-10: 3072).
    #[arg(long, default_value_t = 784)]
    input_dim: usize,
    /// Hidden widths, comma-separated, each even (the paper's MNIST FC-Vec: 1024,512).
    #[arg(long, value_delimiter = ',', default_value = "1024,512")]
    hidden: Vec<usize>,
    /// Minibatch size (the paper's: 128).
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// A network without the "+" constraint (default: "+", W ≥ 0 past the first layer).
    #[arg(long)]
    signed: bool,
    #[command(flatten)]
    timing: Timing,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// The rule to time.
#[derive(ValueEnum, Debug, Clone, Copy)]
enum BenchRule {
    /// Global error-vector broadcasting.
    Gevb,
    /// Exact backprop through the vectorized network (autograd).
    Bp,
}

#[derive(Serialize)]
struct GevbReport {
    implementation: &'static str,
    cpu: String,
    threads: usize,
    rule: String,
    mono: bool,
    input_dim: usize,
    hidden: Vec<usize>,
    train: Measure,
}

/// Distinct minibatches cycled through (uploaded before timing, as a loader would have them).
const POOL: usize = 8;

/// Runs `cargo xtask bench gevb`.
pub fn run(a: GevbBenchArgs) -> anyhow::Result<()> {
    a.timing.check()?;
    anyhow::ensure!(a.batch_size >= 1, "--batch-size must be at least 1");
    let config = VecFcConfig {
        classes: 10,
        input_dim: a.input_dim,
        hidden: a.hidden.clone(),
        mono: !a.signed,
    };
    let device = Device::Cpu;
    let net = VecFc::new(&config, 0, &device).context("the network's shape")?;
    let rule = match a.rule {
        BenchRule::Gevb => Rule::Gevb,
        BenchRule::Bp => Rule::Backprop,
    };
    let mut trainer = RuleTrainer::new(net, rule, paper_adam())?;
    let mut pool = Vec::with_capacity(POOL);
    for p in 0..POOL {
        let x = Tensor::rand(-1.0f32, 1.0, (a.batch_size, a.input_dim), &device)?;
        let y: Vec<u32> = (0..a.batch_size)
            .map(|i| ((i * 7 + p * 3) % 10) as u32)
            .collect();
        pool.push((x, Tensor::from_vec(y, a.batch_size, &device)?));
    }
    let train = measure(&a.timing, a.batch_size, |i| {
        let Some(i) = i else {
            return Ok(0);
        };
        let (x, y) = &pool[i % POOL];
        let stats = trainer.step(x, y)?;
        anyhow::ensure!(stats.loss.is_finite(), "the loss is {}", stats.loss);
        Ok(a.batch_size)
    })?;
    let report = GevbReport {
        implementation: "neurogen",
        cpu: cpu_model(),
        threads: std::env::var("RAYON_NUM_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        rule: rule.to_string(),
        mono: config.mono,
        input_dim: a.input_dim,
        hidden: a.hidden.clone(),
        train,
    };
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        let w: Vec<String> = report
            .train
            .windows
            .iter()
            .map(|v| format!("{v:.0}"))
            .collect();
        println!(
            "neurogen {} FC-Vec{} {}·10 → {} → 1, batch {}, {} threads, {}",
            report.rule,
            if report.mono { "+" } else { "" },
            a.input_dim,
            a.hidden
                .iter()
                .map(|h| h.to_string())
                .collect::<Vec<_>>()
                .join(" → "),
            a.batch_size,
            report.threads,
            report.cpu
        );
        println!(
            "train: {:.1} images/s (median of {} windows: {})",
            report.train.images_per_second,
            report.train.windows.len(),
            w.join(", ")
        );
    }
    Ok(())
}
