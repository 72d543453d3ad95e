//! Writing your own regulariser outside this workspace: an L1 penalty on a hidden layer's
//! activations, `λ · mean |a|`, added to the loss.
//!
//! A third-party crate depends on `neurogen-model` (and, to combine with the built-in
//! regularisers, `neurogen-regularizers`) and implements [`Regularizer`]: here only
//! `loss_term`, which reads the layer's activations of the current training minibatch with
//! `cx.hidden(layer)` (this replica's `[batch, width]`, differentiable) and turns them into a
//! penalty, through which gradients flow back into the network. No forward hook and no
//! per-replica bookkeeping: the same code trains one network (`train`) or K replicas at once
//! (`train_replicas`, one `ActivityL1` per replica). Nothing in our crates changes. The
//! regulariser then runs alone or in a [`Stack`] with ours.
//!
//! Run: `cargo run -p neurogen-regularizers --example activity_l1` (trains briefly on real
//! Fashion-MNIST when it is installed).
use candle_core::{DType, Device, Tensor};
use neurogen_model::{Cnn, LossCx, ModelConfig, Result, Silent, TrainConfig};
use neurogen_regularizers::{build, Regularizer, RegularizerSet, Stack};

/// `λ · mean |a|` over hidden layer `layer`'s activations, in training.
pub struct ActivityL1 {
    /// The hidden layer.
    pub layer: usize,
    /// The penalty's weight λ.
    pub lambda: f64,
    /// Sum of the penalties added so far (for the report).
    total: f64,
    steps: usize,
}

impl ActivityL1 {
    /// A penalty of weight `lambda` on hidden layer `layer`.
    pub fn new(layer: usize, lambda: f64) -> Self {
        ActivityL1 {
            layer,
            lambda,
            total: 0.0,
            steps: 0,
        }
    }
}

impl Regularizer for ActivityL1 {
    fn name(&self) -> String {
        "activity-l1".into()
    }

    /// Called once per training step (never in evaluation), after the forward pass.
    fn loss_term(&mut self, cx: &LossCx) -> Result<Option<Tensor>> {
        let a = cx.hidden(self.layer)?;
        let term = (a.abs()?.mean_all()? * self.lambda)?;
        self.total += term.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        self.steps += 1;
        Ok(Some(term))
    }

    fn report(&self) -> serde_json::Value {
        serde_json::json!({
            "layer": self.layer,
            "lambda": self.lambda,
            "steps": self.steps,
            "mean_penalty": self.total / self.steps.max(1) as f64,
        })
    }
}

/// Trains briefly with the penalty combined with the built-in dropout (on 200 real
/// Fashion-MNIST images), returning the metrics' regulariser report, or `None` when the data
/// set is not installed.
pub fn run() -> anyhow::Result<Option<serde_json::Value>> {
    let Some(dir) = neurogen_data::fashion_mnist_dir() else {
        eprintln!("SKIP: Fashion-MNIST not installed (apt-get install -y dataset-fashion-mnist)");
        return Ok(None);
    };
    let data = neurogen_data::load(&dir, &neurogen_data::LoadOptions::no_cache())?.dataset;
    let train = data.train.sample(200, 0)?;
    let test = data.test.sample(100, 0)?;
    let mut model = Cnn::new(&ModelConfig::fashion_mnist(), 0, &Device::Cpu)?;
    let ours = build(&RegularizerSet::from_specs(["dropout"], false)?, 0)?;
    let mut stack = Stack::new(vec![Box::new(ActivityL1::new(1, 0.1)), Box::new(ours)]);
    let config = TrainConfig {
        epochs: 1,
        batch_size: 4,
        eval_train_at_end: false,
        ..TrainConfig::default()
    };
    let (metrics, _) = neurogen_model::train(
        &mut model,
        &train,
        Some(("test", &test)),
        &config,
        &mut stack,
        &mut Silent,
    )?;
    println!(
        "{}: test accuracy {:.3}; report {}",
        stack.name(),
        metrics.final_eval.map_or(f64::NAN, |e| e.accuracy),
        metrics.regularizer
    );
    Ok(Some(metrics.regularizer))
}

fn main() -> anyhow::Result<()> {
    run()?;
    Ok(())
}
