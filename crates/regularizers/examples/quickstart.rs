//! The library quickstart of the repository's README ("Use as a library"): data → model →
//! regularisers → train → evaluate → save, and the saved checkpoint evaluated as trained.
//!
//! ```sh
//! cargo run --release -p neurogen-regularizers --example quickstart
//! ```
//! Trains the paper's Fashion-MNIST network for one epoch on 1,000 images (seconds) where the
//! `dataset-fashion-mnist` package installs Fashion-MNIST (or `$NEUROGEN_FASHION_MNIST`), and
//! skips with a message where it is absent. `tests/quickstart_example.rs` runs it and checks
//! that the README shows this program.
// README: begin
use std::path::Path;

use candle_core::Device;
use neurogen_data::{fashion_mnist_dir, load, LoadOptions};
use neurogen_model::{train, Cnn, ModelConfig, Silent, TrainConfig};
use neurogen_regularizers::{build_for_run, load_trained, save_trained};
use neurogen_regularizers::{RegularizerSet, RunPlan, TrainedRun};

fn quickstart(checkpoint: &Path) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    // Data: Fashion-MNIST's IDX files (neurogen-data also reads CIFAR-10).
    let dir = fashion_mnist_dir().ok_or("set NEUROGEN_FASHION_MNIST to Fashion-MNIST")?;
    let ds = load(&dir, &LoadOptions::default())?.dataset;
    let (train_split, test) = (ds.train.sample(1_000, 0)?, ds.test.sample(1_000, 0)?);
    // Model: the paper's network (six 3x3 convolutions, three hidden layers of 250).
    let mut model = Cnn::new(&ModelConfig::fashion_mnist(), 0, &Device::Cpu)?;
    // Regularisers: 8 new units in hidden layer 1 every 40 steps; dropout with max-norm.
    let set = RegularizerSet::from_specs(["neurogenesis:n=8,every=40", "dropout"], false)?;
    let cfg = TrainConfig {
        epochs: 1,
        batch_size: 8,
        ..TrainConfig::default()
    };
    let plan = RunPlan::for_training(&cfg, train_split.len());
    let (mut reg, warnings) = build_for_run(&set, 0, &plan)?; // schedules that cannot act
    warnings.iter().for_each(|w| eprintln!("warning: {w}"));
    // Train; the run evaluates on `test` as trained (the hooks in evaluation mode).
    let eval = Some(("test", &test));
    let (metrics, _adam) = train(&mut model, &train_split, eval, &cfg, &mut reg, &mut Silent)?;
    // Save with what evaluation needs (regularisers, report, metrics); load; evaluate.
    let run = TrainedRun {
        set: &set,
        metrics: &metrics,
        epochs: 1,
        seed: 0,
        dataset: "fashion-mnist",
    };
    save_trained(&model, &run, checkpoint)?;
    let again = load_trained(checkpoint, &Device::Cpu)?
        .evaluate(&test)?
        .accuracy;
    let own = metrics.final_eval.map_or(f64::NAN, |e| e.accuracy);
    println!(
        "test accuracy {:.1} % after loading, {:.1} % in the run",
        100.0 * again,
        100.0 * own
    );
    Ok((again, own))
}
// README: end

fn main() -> Result<(), Box<dyn std::error::Error>> {
    quickstart(Path::new("model.safetensors"))?;
    Ok(())
}

/// Runs the quickstart, saving into `dir`: `(accuracy after loading, the run's own)`, or
/// `None` (with a message) without Fashion-MNIST.
pub fn run(dir: &Path) -> Result<Option<(f64, f64)>, Box<dyn std::error::Error>> {
    if fashion_mnist_dir().is_none() {
        eprintln!("SKIP: Fashion-MNIST not found (apt-get install dataset-fashion-mnist, or set NEUROGEN_FASHION_MNIST)");
        return Ok(None);
    }
    quickstart(&dir.join("model.safetensors")).map(Some)
}
