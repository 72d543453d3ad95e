//! Training mechanics: seeded reproducibility, divergence, and real-data learning.
mod common;

use candle_core::Device;
use neurogen_data::{ImageShape, LoadOptions};
use neurogen_model::{
    evaluate, train, AdamConfig, Cnn, ModelConfig, ModelError, NoRegularizer, Silent, TrainConfig,
};

fn small_cfg() -> TrainConfig {
    TrainConfig {
        epochs: 2,
        batch_size: 8,
        seed: 3,
        eval_train_at_end: false,
        ..TrainConfig::default()
    }
}

fn weights(m: &Cnn) -> Vec<f32> {
    m.named_params()
        .into_iter()
        .flat_map(|(_, v)| {
            v.as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        })
        .collect()
}

#[test]
fn same_seed_same_result_and_different_seed_differs() {
    let split = common::toy_split(64, ImageShape::new(1, 28, 28), 10);
    let cfg = ModelConfig::fashion_mnist().with_hidden_width(16);
    let run = |seed: u64| {
        let mut m = Cnn::new(&cfg, 5, &Device::Cpu).unwrap();
        let tc = TrainConfig {
            seed,
            ..small_cfg()
        };
        let (metrics, _) = train(
            &mut m,
            &split,
            Some(("test", &split)),
            &tc,
            &mut NoRegularizer,
            &mut Silent,
        )
        .unwrap();
        (weights(&m), metrics)
    };
    let (w1, m1) = run(1);
    let (w2, m2) = run(1);
    let (w3, _) = run(2);
    assert_eq!(w1, w2);
    assert_eq!(m1.epochs[1].train_loss, m2.epochs[1].train_loss);
    assert_ne!(w1, w3);
    assert_eq!(m1.steps, 2 * 8);
    assert_eq!(m1.epochs.len(), 2);
    assert!(m1.epochs.iter().all(|e| e.eval.is_some()));
}

#[test]
fn divergence_stops_with_a_clear_error() {
    let split = common::toy_split(32, ImageShape::new(1, 28, 28), 10);
    let mut m = Cnn::new(
        &ModelConfig::fashion_mnist().with_hidden_width(16),
        0,
        &Device::Cpu,
    )
    .unwrap();
    let tc = TrainConfig {
        adam: AdamConfig {
            lr: 1e30,
            ..Default::default()
        },
        epochs: 3,
        ..small_cfg()
    };
    let e = train(&mut m, &split, None, &tc, &mut NoRegularizer, &mut Silent).unwrap_err();
    assert!(matches!(e, ModelError::Diverged { .. }), "{e}");
    assert!(e.to_string().contains("diverged"), "{e}");
}

#[test]
fn bad_training_settings_are_rejected() {
    let split = common::toy_split(8, ImageShape::new(1, 28, 28), 10);
    let mut m = Cnn::new(
        &ModelConfig::fashion_mnist().with_hidden_width(4),
        0,
        &Device::Cpu,
    )
    .unwrap();
    for (tc, what) in [
        (
            TrainConfig {
                epochs: 0,
                ..small_cfg()
            },
            "epochs",
        ),
        (
            TrainConfig {
                batch_size: 0,
                ..small_cfg()
            },
            "batch size",
        ),
    ] {
        let e = train(&mut m, &split, None, &tc, &mut NoRegularizer, &mut Silent)
            .unwrap_err()
            .to_string();
        assert!(e.contains(what), "{e}");
    }
}

#[test]
fn learns_real_fashion_mnist() {
    let Some(dir) = neurogen_testkit::data::or_skip(
        neurogen_data::fashion_mnist_dir(),
        "Fashion-MNIST not installed (apt-get install -y dataset-fashion-mnist)",
    ) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let data = neurogen_data::load(&dir, &LoadOptions::with_cache_dir(cache.path()))
        .unwrap()
        .dataset;
    let train_split = data.train.sample(3000, 0).unwrap();
    let test_split = data.test.sample(1000, 0).unwrap();
    let mut m = Cnn::new(&ModelConfig::fashion_mnist(), 0, &Device::Cpu).unwrap();
    let before = evaluate(&m, &test_split, 500).unwrap().accuracy;
    let tc = TrainConfig {
        epochs: 1,
        batch_size: 16,
        adam: AdamConfig {
            lr: 1e-3,
            ..Default::default()
        },
        ..small_cfg()
    };
    let (metrics, _) = train(
        &mut m,
        &train_split,
        Some(("test", &test_split)),
        &tc,
        &mut NoRegularizer,
        &mut Silent,
    )
    .unwrap();
    let after = metrics.final_eval.unwrap().accuracy;
    eprintln!("Fashion-MNIST 3000 images, 1 epoch: test accuracy {before:.3} -> {after:.3}");
    assert!(
        after > 0.5,
        "test accuracy after one epoch on 3000 images: {after}"
    );
    assert_eq!(evaluate(&m, &test_split, 128).unwrap().accuracy, after);
}
