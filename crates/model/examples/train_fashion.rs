//! Trains the paper's network on a Fashion-MNIST subset with `neurogen-model` and evaluates it:
//! the loop a program of one's own writes (data → model → train → evaluate), no regulariser.
//!
//! ```sh
//! cargo run --release -p neurogen-model --example train_fashion
//! ```
//! Uses 1,000 training and 1,000 test images for 1 epoch at batch 8 (seconds; about 45 % test
//! accuracy, chance is 10 %) where the `dataset-fashion-mnist` package installs Fashion-MNIST
//! (or `$NEUROGEN_FASHION_MNIST`), and skips with a message where it is absent.
//! `neurogen-regularizers` adds neurogenesis, dropout and the others through the `reg`
//! argument of `train`.
use candle_core::Device;
use neurogen_data::{fashion_mnist_dir, load, LoadOptions};
use neurogen_model::{
    evaluate, train, Cnn, EpochMetrics, ModelConfig, NoRegularizer, TrainConfig, TrainObserver,
};

/// Prints one line per epoch.
struct EpochLog;

impl TrainObserver for EpochLog {
    fn on_epoch(&mut self, m: &EpochMetrics) {
        println!(
            "epoch {}: training loss {:.3}, test accuracy {}",
            m.epoch,
            m.train_loss,
            m.eval
                .as_ref()
                .map_or("-".into(), |e| format!("{:.1} %", 100.0 * e.accuracy))
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run()?;
    Ok(())
}

/// Trains and evaluates; returns the test accuracy (`None`: no Fashion-MNIST, skipped).
pub fn run() -> Result<Option<f64>, Box<dyn std::error::Error>> {
    let Some(dir) = fashion_mnist_dir() else {
        eprintln!(
            "SKIP: Fashion-MNIST not found (apt-get install dataset-fashion-mnist, or set \
             NEUROGEN_FASHION_MNIST)"
        );
        return Ok(None);
    };
    let opts = LoadOptions {
        use_cache: false,
        ..LoadOptions::default()
    };
    let ds = load(&dir, &opts)?.dataset;
    let (train_split, test_split) = (ds.train.sample(1_000, 0)?, ds.test.sample(1_000, 0)?);

    // The paper's Fashion-MNIST network: six 3x3 convolutions, three hidden layers of 250.
    let mut model = Cnn::new(&ModelConfig::fashion_mnist(), 0, &Device::Cpu)?;
    let cfg = TrainConfig {
        epochs: 1,
        batch_size: 8,
        eval_train_at_end: false,
        ..TrainConfig::default() // Adam, lr 2e-4, as the paper
    };
    let (metrics, _adam) = train(
        &mut model,
        &train_split,
        Some(("test", &test_split)),
        &cfg,
        &mut NoRegularizer,
        &mut EpochLog,
    )?;
    println!(
        "{} steps in {:.1} s ({:.0} images/s)",
        metrics.steps, metrics.wall_seconds, metrics.images_per_second
    );
    let result = evaluate(&model, &test_split, 500)?;
    println!(
        "evaluate: test accuracy {:.1} %, loss {:.3} on {} images (chance: 10 %)",
        100.0 * result.accuracy,
        result.loss,
        result.n
    );
    Ok(Some(result.accuracy))
}
