//! `cargo xtask plausibility`: the biological-plausibility report of a checkpoint of the
//! paper's CNN (`neurogen_studies::cornford2021_dale::cnn_plausibility_report`): per weight
//! matrix, Dale compliance, weight sparsity and the best fit of the weight magnitudes
//! (log-normal, normal, exponential by AIC); per fully connected hidden layer, activity sparsity
//! on probe images of the test split.
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use neurogen_model::parse_device_single_stream;
use neurogen_studies::cornford2021_dale::cnn_plausibility_report;

/// Arguments of `cargo xtask plausibility`.
#[derive(Args, Debug)]
pub struct PlausibilityArgs {
    /// A checkpoint of the paper's CNN (model.safetensors, e.g. a `reproduce` run's
    /// `checkpoints/GROUP-rNN.safetensors`).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Dataset location; default: the hub cache.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Probe images for the activity measures: this many of the test split (a fixed random
    /// subset, as `eval --subset`).
    #[arg(long, default_value_t = 1000)]
    pub probe: usize,
    /// A weight or activation at or below this magnitude counts as zero.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub tol: f64,
    /// Write the whole report (histograms and every fit included) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Compute device: cpu, cuda, cuda:N or metal.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Decode-cache directory.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
}

/// Runs `cargo xtask plausibility`.
pub fn run(args: PlausibilityArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.probe >= 1, "--probe must be at least 1, got 0");
    anyhow::ensure!(
        args.tol.is_finite() && args.tol >= 0.0,
        "--tol must be a finite magnitude ≥ 0, got {}",
        args.tol
    );
    // SAFETY: xtask uses the device from its main thread only.
    let device = unsafe { parse_device_single_stream(&args.device)? };
    let cp = &args.checkpoint;
    let (ck, loaded) = crate::common::load_checkpoint_and_data(
        cp,
        "a model.safetensors of the paper's CNN",
        args.data.as_deref(),
        args.cache_dir.as_deref(),
        &device,
    )?;
    let ds = &loaded.dataset;
    anyhow::ensure!(
        args.probe <= ds.test.len(),
        "--probe {} must be in 1..={} (the test split's size)",
        args.probe,
        ds.test.len()
    );
    let probe = ds.test.sample(args.probe, 0)?;
    let report = cnn_plausibility_report(&ck.model, &probe, neurogen_model::EVAL_BATCH, args.tol)
        .with_context(|| format!("the plausibility report of {}", cp.display()))?;
    println!(
        "{}: {} weight matrices, {} hidden layers on {} test images",
        cp.display(),
        report.synapses.len(),
        report.activity.len(),
        args.probe
    );
    println!("| weights | shape [out, in] | Dale-compliant units | near zero | Hoyer | best fit of |w| |");
    println!("|---|---|---|---|---|---|");
    let opt = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.3}"));
    for s in &report.synapses {
        let best = match (&s.magnitude_fits, &s.fit_note) {
            (Some(f), _) => format!("{:?}", f.best).to_lowercase(),
            (None, Some(note)) => format!("not fitted ({note})"),
            (None, None) => "not fitted".to_string(),
        };
        println!(
            "| {} | {:?} | {} | {:.3} | {} | {} |",
            s.name,
            s.shape,
            opt(s.dale.fraction),
            s.sparsity.fraction_near_zero,
            opt(s.sparsity.hoyer),
            best
        );
    }
    for a in &report.activity {
        println!(
            "hidden layer fcs.{}: {:.3} of activations at or below {}",
            a.layer, a.sparsity.fraction_near_zero, args.tol
        );
    }
    if let Some(path) = &args.out {
        report
            .save(path)
            .with_context(|| format!("--out {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
