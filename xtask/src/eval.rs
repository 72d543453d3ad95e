//! `cargo xtask eval`: loss and accuracy of a checkpoint on a split.
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use neurogen_model::parse_device_single_stream;

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
    /// Also write the evaluated images' logits to FILE (safetensors: `logits` f32
    /// `[n, classes]`, `labels` u32 `[n]`, `indices` u32 `[n]` = each image's position in the
    /// split, in evaluation order), e.g. to compare with the Python package (`python/`).
    #[arg(long, value_name = "FILE")]
    pub dump_logits: Option<PathBuf>,
}

/// Runs `cargo xtask eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.subset != Some(0), "--subset must be at least 1, got 0");
    // SAFETY: xtask uses the device from its main thread only.
    let device = unsafe { parse_device_single_stream(&args.device)? };
    let cp = &args.checkpoint;
    let (ck, loaded) = crate::common::load_checkpoint_and_data(
        cp,
        "model.safetensors written by `cargo xtask train`",
        args.data.as_deref(),
        args.cache_dir.as_deref(),
        &device,
    )?;
    let ds = &loaded.dataset;
    let (name, mut split) = match args.split {
        SplitName::Test => ("test", ds.test.clone()),
        SplitName::Train => ("train", ds.train.clone()),
    };
    let mut indices: Vec<usize> = (0..split.len()).collect();
    if let Some(n) = args.subset {
        anyhow::ensure!(
            n >= 1 && n <= split.len(),
            "--subset {n} must be in 1..={} (the {name} split's size)",
            split.len()
        );
        // The images `Split::sample` takes, in the same order.
        indices = neurogen_data::sample_indices(split.len(), n, 0);
        split = split.sample(n, 0)?;
    }
    // Evaluate as training did: with the run's regularisers in evaluation mode.
    if !crate::regs::records_regularizers(&ck.meta.regularizer) {
        eprintln!(
            "warning: {} does not record its regularisers (metadata regularizer.config): \
             evaluating the plain network, which differs from the run's own accuracy if it was \
             trained with an evaluation-mode hook (dropout's max-norm); save checkpoints with \
             neurogen_regularizers::save_trained",
            args.checkpoint.display()
        );
    }
    let mut reg = crate::regs::from_metadata(&ck.meta.regularizer)?;
    let r = neurogen_model::evaluate_with(&ck.model, &split, neurogen_model::EVAL_BATCH, &mut reg)
        .context("evaluation failed")?;
    if let Some(path) = &args.dump_logits {
        dump_logits(path, &ck.model, &split, &indices, reg.as_mut())
            .with_context(|| format!("--dump-logits {}", path.display()))?;
    }
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

/// Writes the logits of every image of `split` (evaluation mode, the regularisers' evaluation
/// hooks applied as in `evaluate_with`, batches of 500) with labels and split positions.
fn dump_logits(
    path: &std::path::Path,
    model: &neurogen_model::Cnn,
    split: &neurogen_data::Split,
    indices: &[usize],
    mut reg: &mut dyn neurogen_model::Regularizer,
) -> anyhow::Result<()> {
    use candle_core::{DType, Device, Tensor};
    let all: Vec<usize> = (0..split.len()).collect();
    let mut logits = Vec::new();
    let mut labels = Vec::new();
    for idx in all.chunks(neurogen_model::EVAL_BATCH) {
        let (x, y) = split.batch(idx, model.device())?;
        let mut hooks = neurogen_model::PerReplica(std::slice::from_mut(&mut reg));
        let out = model.forward(&x, &mut hooks, &neurogen_model::ForwardCtx::eval())?;
        logits.push(
            out.logits
                .squeeze(0)?
                .to_dtype(DType::F32)?
                .to_device(&Device::Cpu)?,
        );
        labels.push(y.to_dtype(DType::U32)?.to_device(&Device::Cpu)?);
    }
    let idx: Vec<u32> = indices.iter().map(|&i| i as u32).collect();
    let tensors: std::collections::HashMap<String, Tensor> = [
        ("logits".to_string(), Tensor::cat(&logits, 0)?),
        ("labels".to_string(), Tensor::cat(&labels, 0)?),
        ("indices".to_string(), Tensor::new(idx, &Device::Cpu)?),
    ]
    .into();
    candle_core::safetensors::save(&tensors, path)?;
    Ok(())
}
