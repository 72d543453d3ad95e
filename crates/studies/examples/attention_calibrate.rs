//! A short training run of the gated network (or the control) on two-object Fashion-MNIST
//! scenes, printing the loss's parts every 10 steps and the test evaluation at the end: what
//! the quick scale of `reproduce attention` was sized with (does the network learn the task
//! at this batch, step count and penalty?).
//!
//! `cargo run -p neurogen-studies --example attention_calibrate -- gated|control BATCH STEPS
//! PENALTY [N_TRAIN] [N_TEST]` (Fashion-MNIST from its default place or
//! `$NEUROGEN_FASHION_MNIST`).
use std::error::Error;

use candle_core::Device;
use neurogen_data::DatasetKind;
use neurogen_studies::lei2021_attention::{
    load_items, train, AttentionConfig, AttentionNet, AttentionTrainer, ControlTrainer,
    FeedForwardNet, Items, SceneConfig, SceneLearner, Scenes, StepStats, TrainConfig,
};

fn run<L: SceneLearner>(
    learner: &mut L,
    items: &Items,
    test: &Scenes,
    cfg: &TrainConfig,
) -> Result<(), Box<dyn Error>> {
    let dev = Device::Cpu;
    let mut window: Vec<StepStats> = Vec::new();
    let summary = train(learner, items, &SceneConfig::paper(), cfg, &dev, |p| {
        window.push(p.stats);
        if window.len() == 10 || p.step == p.total_steps {
            let n = window.len() as f32;
            let mean = |f: fn(&StepStats) -> f32| window.iter().map(f).sum::<f32>() / n;
            println!(
                "step {:>4}/{} {:>6.0} s: loss {:.3}, CE {:.3}, MSE {:.5}, train accuracy {:.3}",
                p.step,
                p.total_steps,
                p.seconds,
                mean(|s| s.loss),
                mean(|s| s.class_loss),
                mean(|s| s.mask_loss),
                mean(|s| s.accuracy as f32)
            );
            window.clear();
        }
    })?;
    let e = learner.evaluate(test, 64)?;
    println!(
        "{:.2} s/step; test accuracy {:.4} on {} scenes; mask attended {:?}, unattended {:?} \
         (skipped {}); modulation input/conv1/conv2 {:?}",
        summary.seconds_per_step(),
        e.accuracy,
        e.scenes,
        e.inhibition_attended,
        e.inhibition_unattended,
        e.inhibition_skipped,
        e.modulation
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let a: Vec<String> = std::env::args().collect();
    let arg = |i: usize, d: &str| a.get(i).cloned().unwrap_or_else(|| d.to_string());
    let kind = arg(1, "gated");
    let batch: usize = arg(2, "32").parse()?;
    let steps: usize = arg(3, "50").parse()?;
    let penalty: f64 = arg(4, "1000").parse()?;
    let n_train: usize = arg(5, "10000").parse()?;
    let n_test: usize = arg(6, "256").parse()?;
    let dir = neurogen_data::fashion_mnist_dir().ok_or("no Fashion-MNIST here")?;
    let data = load_items(&dir, DatasetKind::FashionMnist)?;
    let first = |s: &neurogen_data::Split, n: usize| {
        let px = 28 * 28;
        Items::new(
            s.images()[..n * px]
                .iter()
                .map(|&b| b as f32 / 255.0)
                .collect(),
            s.labels()[..n].to_vec(),
        )
    };
    let items = first(&data.train, n_train)?;
    let test = Scenes::compose(
        &first(&data.test, n_test)?,
        &SceneConfig::paper(),
        1_000_003,
    )?;
    let cfg = TrainConfig {
        batch,
        penalty,
        epochs: 1000,
        max_steps: Some(steps),
        ..TrainConfig::paper(0)
    };
    let dev = Device::Cpu;
    if kind == "control" {
        let mut t =
            ControlTrainer::new(FeedForwardNet::new(&SceneConfig::paper(), 0, &dev)?, &cfg)?;
        run(&mut t, &items, &test, &cfg)
    } else {
        let net = AttentionNet::new(AttentionConfig::paper(&SceneConfig::paper()), 0, &dev)?;
        let mut t = AttentionTrainer::new(net, &cfg)?;
        run(&mut t, &items, &test, &cfg)
    }
}
