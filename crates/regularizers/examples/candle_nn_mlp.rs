//! Neurogenesis and dropout on a model of one's own, in a training loop of one's own: a
//! plain `candle-nn` MLP (a `VarMap`, `candle_nn::linear`, `candle_nn::loss::cross_entropy`)
//! trained on CIFAR-10, with our regularisers called from its `forward` and after each step.
//!
//! What changes from a plain candle-nn loop (marked `// neurogen:` below):
//! - the optimiser is [`VarAdam`] instead of `candle_nn::AdamW` (the same `Optimizer` calls; its
//!   moments can be edited, so neurogenesis resets the new units' moments as in our network);
//! - `forward` passes each hidden layer's activations through [`apply_hooks`] (dropout with
//!   max-norm, and excitability when configured), as one would call `candle_nn::Dropout`;
//! - after each optimiser step, one line runs the step hooks (the neurogenesis events) on a
//!   [`VarMapStore`] over the model's `VarMap`.
//!
//! ```sh
//! cargo run --release -p neurogen-regularizers --example candle_nn_mlp -- --train 10000 --epochs 5
//! ```
//! By default: 2,000 training and 1,000 test images, 1 epoch at batch 32 (seconds), where the
//! repository's CIFAR-10 archive is found (`neurogen_data::cifar10_archive`, or
//! `$NEUROGEN_SHARED_DATA`); it skips with a message where it is absent. The neurogenesis event
//! count and the test accuracy are printed.
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{linear, Linear, Optimizer, VarBuilder, VarMap};
use neurogen_data::{cifar10_archive, epoch_batches, load, LoadOptions, Split};
use neurogen_model::{
    apply_hooks, AdamConfig, ForwardCtx, HiddenLayer, Phase, Point, Regularizer, StepCtx, VarAdam,
    VarMapStore,
};
use neurogen_regularizers::{build_for_run, RegularizerSet, RunPlan};

/// The user's model: 3072 → 256 → 256 → 10, ReLU.
struct Mlp {
    fc1: Linear,
    fc2: Linear,
    out: Linear,
}

impl Mlp {
    fn new(vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Mlp {
            fc1: linear(3 * 32 * 32, 256, vb.pp("fc1"))?,
            fc2: linear(256, 256, vb.pp("fc2"))?,
            out: linear(256, 10, vb.pp("out"))?,
        })
    }

    /// The hidden layers in the order our hooks number them (0 = fc1, 1 = fc2).
    fn hidden_layers() -> Vec<HiddenLayer> {
        HiddenLayer::chain(&["fc1", "fc2", "out"])
    }

    fn forward(
        &self,
        x: &Tensor,
        reg: &mut impl Regularizer,
        ctx: ForwardCtx,
    ) -> neurogen_model::Result<Tensor> {
        let x = x.flatten_from(1)?;
        let h = self.fc1.forward(&x)?.relu()?;
        let h = apply_hooks(reg, &h, 0, Point::Activation, ctx)?; // neurogen: dropout + max-norm
        let h = self.fc2.forward(&h)?.relu()?;
        let h = apply_hooks(reg, &h, 1, Point::Activation, ctx)?; // neurogen: dropout, excitability
        Ok(self.out.forward(&h)?)
    }
}

/// How much to train.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Training images (a seeded sample of the 50,000).
    pub train: usize,
    /// Test images (a seeded sample of the 10,000).
    pub test: usize,
    /// Epochs.
    pub epochs: usize,
    /// Minibatch size.
    pub batch: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            train: 2_000,
            test: 1_000,
            epochs: 1,
            batch: 32,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Test accuracy in evaluation mode (no dropout; max-norm as configured).
    pub accuracy: f64,
    /// Neurogenesis events that happened.
    pub events: usize,
    /// The regularisers' report (as stored in metrics.json by our own loop).
    pub report: serde_json::Value,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut opts = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = |name: &str| -> Result<usize, Box<dyn std::error::Error>> {
            let v = args.next().ok_or(format!("{name} needs a number"))?;
            Ok(v.parse().map_err(|e| format!("{name} {v}: {e}"))?)
        };
        match flag.as_str() {
            "--train" => opts.train = value("--train")?,
            "--test" => opts.test = value("--test")?,
            "--epochs" => opts.epochs = value("--epochs")?,
            "--batch" => opts.batch = value("--batch")?,
            other => {
                return Err(format!(
                    "unknown flag {other}: expected --train N, --test N, --epochs N, --batch N"
                )
                .into())
            }
        }
    }
    run(opts)?;
    Ok(())
}

/// Loads CIFAR-10, trains and evaluates (`None`: no CIFAR-10, skipped with a message).
pub fn run(opts: Options) -> Result<Option<Outcome>, Box<dyn std::error::Error>> {
    let Some(archive) = cifar10_archive() else {
        eprintln!("SKIP: CIFAR-10 not found (cifar10-jpeg.tar.gz in $NEUROGEN_SHARED_DATA)");
        return Ok(None);
    };
    let ds = load(&archive, &LoadOptions::default())?.dataset;
    let train = ds.train.sample(opts.train, 0)?;
    let test = ds.test.sample(opts.test, 0)?;
    Ok(Some(train_and_evaluate(&train, &test, opts)?))
}

/// The user's loop: minibatches, forward, cross-entropy, Adam, with our hooks.
pub fn train_and_evaluate(
    train: &Split,
    test: &Split,
    opts: Options,
) -> Result<Outcome, Box<dyn std::error::Error>> {
    let dev = Device::Cpu;
    if opts.batch == 0 || opts.epochs == 0 || train.len() < opts.batch {
        return Err(format!("nothing to train: {opts:?} on {} images", train.len()).into());
    }
    // Full minibatches only.
    let steps_per_epoch = train.len() / opts.batch;
    // neurogen: 8 new units in fc2 every 20 steps, and dropout (p = 0.2, max-norm 3).
    let set = RegularizerSet::from_specs(["neurogenesis:n=8,every=20", "dropout"], false)?;
    let plan = RunPlan::new(opts.epochs, steps_per_epoch);
    let (mut reg, warnings) = build_for_run(&set, 0, &plan)?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }

    let varmap = VarMap::new();
    let model = Mlp::new(VarBuilder::from_varmap(&varmap, DType::F32, &dev))?;
    let mut config = AdamConfig {
        lr: 1e-3,
        ..AdamConfig::default()
    };
    reg.configure_optimizer(&mut config); // neurogen: e.g. weight decay
    let mut opt = VarAdam::new(varmap.all_vars(), config)?; // neurogen: instead of AdamW
    let layers = Mlp::hidden_layers();
    let at = |epoch, batch, step| StepCtx {
        epoch,
        batch,
        step,
        batches_per_epoch: steps_per_epoch,
    };
    // neurogen: the step hooks' checks (the layer exists, n fits it).
    let store = VarMapStore::new(&varmap, &mut opt, layers.clone())?;
    store.on_step(&mut reg, Phase::Start, at(0, 0, 0))?;

    let mut step = 0;
    for epoch in 0..opts.epochs {
        let mut loss_sum = 0.0;
        let batches = epoch_batches(train.len(), opts.batch, 0, epoch);
        for (b, idx) in batches.iter().take(steps_per_epoch).enumerate() {
            let (x, y) = train.batch(idx, &dev)?;
            let logits = model.forward(&x, &mut reg, ForwardCtx::train(epoch, step))?;
            let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
            opt.backward_step(&loss)?;
            step += 1;
            loss_sum += loss.to_scalar::<f32>()? as f64;
            // neurogen: the step hooks (a neurogenesis event every 20 steps).
            let store = VarMapStore::new(&varmap, &mut opt, layers.clone())?;
            store.on_step(&mut reg, Phase::AfterStep, at(epoch, b, step))?;
        }
        println!(
            "epoch {epoch}: training loss {:.3}",
            loss_sum / steps_per_epoch.max(1) as f64
        );
    }

    // Evaluation: dropout off, max-norm (in blocks of 4, as the reference) on.
    let mut correct = 0usize;
    let all: Vec<usize> = (0..test.len()).collect();
    for idx in all.chunks(500) {
        let (x, y) = test.batch(idx, &dev)?;
        let logits = model.forward(&x, &mut reg, ForwardCtx::eval())?;
        let pred = logits.argmax(1)?;
        correct += pred
            .eq(&y)?
            .to_dtype(DType::U32)?
            .sum_all()?
            .to_scalar::<u32>()? as usize;
    }
    let accuracy = correct as f64 / test.len().max(1) as f64;
    let report = reg.report();
    let events = report
        .as_array()
        .and_then(|members| members.iter().find(|m| m["name"] == "neurogenesis"))
        .and_then(|m| m["report"]["events"].as_u64())
        .unwrap_or(0) as usize;
    println!(
        "{step} steps, {events} neurogenesis events; test accuracy {:.1} % on {} images (chance: 10 %)",
        100.0 * accuracy,
        test.len()
    );
    Ok(Outcome {
        accuracy,
        events,
        report,
    })
}
