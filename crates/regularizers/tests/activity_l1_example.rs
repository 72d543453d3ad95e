//! The third-party example (`examples/activity_l1.rs`) compiles against the public API, its
//! penalty is what it claims, gradients flow through it, it trains in a stack with ours, and
//! it trains in replicas exactly as alone.
mod common;
#[allow(dead_code)]
#[path = "../examples/activity_l1.rs"]
mod example;

use candle_core::Device;
use common::{params, params_of, vals};
use example::ActivityL1;
use neurogen_data::{ImageShape, Split};
use neurogen_model::{
    train, train_replicas, Cnn, ForwardCtx, ModelConfig, NoHooks, NoRegularizer, Regularizer,
    Silent, TrainConfig,
};

/// 12 synthetic 1x28x28 images.
fn tiny_split() -> Split {
    let shape = ImageShape {
        channels: 1,
        height: 28,
        width: 28,
    };
    let images: Vec<u8> = (0..12 * 784).map(|i| (i * 7 % 251) as u8).collect();
    let labels: Vec<u8> = (0..12).map(|i| (i % 10) as u8).collect();
    Split::new(shape, images, labels).unwrap()
}

fn one_step() -> TrainConfig {
    TrainConfig {
        epochs: 1,
        batch_size: 12,
        eval_every_epoch: false,
        eval_train_at_end: false,
        ..TrainConfig::default()
    }
}

#[test]
fn penalty_is_lambda_times_mean_abs_activation_and_has_gradients() {
    // One training step on the whole (tiny) split, with and without the penalty: the losses
    // differ by exactly the penalty, and the penalty changes the gradient of fcs.1.weight.
    let split = tiny_split();
    // A fresh network each time (clones share their parameters' storage).
    let net = || {
        Cnn::new(
            &ModelConfig::fashion_mnist().with_hidden_width(16),
            0,
            &Device::Cpu,
        )
        .unwrap()
    };
    let model = net();
    let (x, _) = split
        .batch(&(0..split.len()).collect::<Vec<_>>(), &Device::Cpu)
        .unwrap();
    let out = model
        .forward(&x, &mut NoHooks, &ForwardCtx::train(0, 0))
        .unwrap();
    let a = vals(&out.hidden[1]);
    let want = 0.5 * a.iter().map(|v| v.abs() as f64).sum::<f64>() / a.len() as f64;

    let mut with = net();
    let mut reg = ActivityL1::new(1, 0.5);
    let (m1, adam1) = train(&mut with, &split, None, &one_step(), &mut reg, &mut Silent).unwrap();
    let mut without = net();
    let (m0, adam0) = train(
        &mut without,
        &split,
        None,
        &one_step(),
        &mut NoRegularizer,
        &mut Silent,
    )
    .unwrap();
    assert_eq!((m1.steps, m0.steps), (1, 1));
    let got = m1.epochs[0].train_loss - m0.epochs[0].train_loss;
    assert!((got - want).abs() < 1e-6 * want.max(1.0), "{got} vs {want}");
    assert_eq!(reg.report()["steps"], 1);
    let g = |adam: &neurogen_model::Adam| vals(&adam.state("fcs.1.weight", 0).unwrap().unwrap().m);
    let (g1, g0) = (g(&adam1), g(&adam0));
    let changed = g1.iter().zip(&g0).filter(|(p, q)| p != q).count();
    assert!(changed > 0, "the penalty must reach fcs.1.weight");
}

#[test]
fn trains_in_replicas_exactly_as_alone() {
    // K = 3 replicas of one model, one ActivityL1 each: replica r is seed r trained alone, bit
    // for bit (weights, losses, reports).
    let split = tiny_split();
    let cfg = ModelConfig::fashion_mnist().with_hidden_width(16);
    let seeds = [0u64, 1, 2];
    let configs: Vec<TrainConfig> = seeds
        .iter()
        .map(|&seed| TrainConfig {
            epochs: 2,
            batch_size: 4,
            seed,
            ..TrainConfig::default()
        })
        .collect();
    let mut net = Cnn::from_seeds(&cfg, &seeds, &Device::Cpu).unwrap();
    let mut regs: Vec<ActivityL1> = seeds.iter().map(|_| ActivityL1::new(1, 0.1)).collect();
    let (runs, _) = train_replicas(
        &mut net,
        &split,
        Some(("train", &split)),
        &configs,
        &mut regs,
        &mut Silent,
    )
    .unwrap();
    for (r, &seed) in seeds.iter().enumerate() {
        let got = runs[r].as_ref().unwrap();
        let mut alone = Cnn::new(&cfg, seed, &Device::Cpu).unwrap();
        let mut reg = ActivityL1::new(1, 0.1);
        let (want, _) = train(
            &mut alone,
            &split,
            Some(("train", &split)),
            &configs[r],
            &mut reg,
            &mut Silent,
        )
        .unwrap();
        assert_eq!(got.regularizer["steps"], 6, "12 images / batch 4, 2 epochs");
        assert!(got.regularizer["mean_penalty"].as_f64().unwrap() > 0.0);
        assert_eq!(got.regularizer, want.regularizer, "replica {r}: reports");
        let loss = |m: &neurogen_model::TrainMetrics| {
            m.epochs
                .iter()
                .map(|e| (e.train_loss.to_bits(), e.eval))
                .collect::<Vec<_>>()
        };
        assert_eq!(loss(got), loss(&want), "replica {r}: losses");
        for ((name, p), (_, q)) in params_of(&net, r).iter().zip(&params(&alone)) {
            let same =
                p.len() == q.len() && p.iter().zip(q).all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "replica {r}: {name} differs");
        }
    }
}

#[test]
fn example_runs_on_real_data() {
    let Some(report) = example::run().unwrap() else {
        return;
    };
    assert_eq!(report[0]["name"], "activity-l1");
    assert_eq!(report[0]["report"]["steps"], 50, "200 images / batch 4");
    assert!(report[0]["report"]["mean_penalty"].as_f64().unwrap() > 0.0);
    assert_eq!(report[1]["name"], "dropout");
}
