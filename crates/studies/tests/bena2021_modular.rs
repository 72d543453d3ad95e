//! The two-module community of Béna & Goodman (2021): sparse interconnections that keep their
//! count through training (fixed mask and Deep-R), the `parity_digits` task and decision, Q,
//! errors on bad settings, and a short training on real Fashion-MNIST.
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use neurogen_analysis::modularity::two_module_q;
use neurogen_studies::bena2021_modular::{
    bottleneck_metric, connection_count, correlation_metric, evaluate, max_decision,
    parity_digits_target, parity_digits_targets, sparsity_levels, train, BottleneckConfig,
    Community, CommunityConfig, ConnectionScheme, DeepRConfig, DigitPairs, ModularError,
    TrainConfig, Trainer,
};

const DEV: Device = Device::Cpu;

fn small(p: f64, scheme: ConnectionScheme) -> CommunityConfig {
    CommunityConfig {
        n_in: 12,
        n_hidden: 10,
        n_out: 10,
        n_steps: 2,
        p,
        scheme,
    }
}

/// Random pairs of 12-pixel "images" whose class is readable from the pixels.
fn synthetic_pairs(n: usize, seed: u64) -> DigitPairs {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut images = [Vec::new(), Vec::new()];
    let mut labels = [Vec::new(), Vec::new()];
    for _ in 0..n {
        for a in 0..2 {
            let l: u8 = rng.random_range(0..10);
            labels[a].push(l);
            for px in 0..12 {
                let on = if px == l as usize { 2.0 } else { 0.0 };
                images[a].push(on + rng.random_range(-0.3f32..0.3));
            }
        }
    }
    DigitPairs::new(12, images, labels).unwrap()
}

#[test]
fn fixed_mask_keeps_exactly_its_connections_through_training() {
    let cfg = small(0.3, ConnectionScheme::FixedMask);
    let c = Community::new(cfg, 1, &DEV).unwrap();
    let count = connection_count(0.3, 10, 10).unwrap();
    assert_eq!(count, 30);
    let masks: Vec<Vec<bool>> = c
        .connections()
        .iter()
        .map(|k| k.active().unwrap())
        .collect();
    let before: Vec<Vec<f32>> = c
        .connections()
        .iter()
        .map(|k| {
            k.param()
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap()
        })
        .collect();
    let pairs = synthetic_pairs(128, 2);
    let mut trainer = Trainer::new(
        &c,
        TrainConfig {
            batch_size: 32,
            ..TrainConfig::default()
        },
    )
    .unwrap();
    for _ in 0..3 {
        trainer.epoch(&pairs).unwrap();
    }
    for (a, k) in c.connections().iter().enumerate() {
        assert_eq!(k.n_active().unwrap(), count);
        assert_eq!(k.active().unwrap(), masks[a], "the mask never changes");
        let w: Vec<f32> = k
            .param()
            .as_tensor()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let eff: Vec<f32> = k
            .weight()
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let mut changed = 0;
        for i in 0..w.len() {
            if masks[a][i] {
                changed += usize::from(w[i] != before[a][i]);
                assert_eq!(eff[i], w[i]);
            } else {
                assert_eq!(w[i], 0.0, "masked weight {i} of connection {a} moved");
                assert_eq!(eff[i], 0.0);
            }
        }
        assert!(
            changed > count / 2,
            "connection {a}: only {changed} kept weights trained"
        );
    }
}

#[test]
fn deep_r_keeps_its_connection_count_while_rewiring() {
    let cfg = small(0.2, ConnectionScheme::DeepR);
    let c = Community::new(cfg, 3, &DEV).unwrap();
    let count = 20;
    let initial: Vec<Vec<bool>> = c
        .connections()
        .iter()
        .map(|k| k.active().unwrap())
        .collect();
    for k in c.connections() {
        assert_eq!(k.n_active().unwrap(), count);
    }
    let pairs = synthetic_pairs(96, 4);
    let mut trainer = Trainer::new(
        &c,
        TrainConfig {
            batch_size: 16,
            ..TrainConfig::default()
        },
    )
    .unwrap();
    let mut rewired = 0;
    let device = DEV;
    for step in 0..30 {
        let idx: Vec<usize> = (0..16).map(|i| (step * 16 + i) % 96).collect();
        let ([x0, x1], y) = pairs.batch(&idx, &device).unwrap();
        let s = trainer.step([&x0, &x1], &y).unwrap();
        rewired += s.rewired;
        for (a, k) in c.connections().iter().enumerate() {
            assert_eq!(k.n_active().unwrap(), count, "step {step}, connection {a}");
            // The effective weight is zero exactly where θ ≤ 0.
            let eff: Vec<f32> = k
                .weight()
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            for (e, on) in eff.iter().zip(k.active().unwrap()) {
                assert_eq!(*e != 0.0, on);
            }
        }
    }
    assert!(rewired > 0, "Deep-R never rewired in 30 steps at lr 0.1");
    let moved = c
        .connections()
        .iter()
        .zip(&initial)
        .any(|(k, init)| k.active().unwrap() != *init);
    assert!(moved, "rewiring must change which connections are active");
}

#[test]
fn parity_digits_labels_on_hand_made_pairs() {
    // Same parity: the first agent's class; parities differ: the second's.
    for (d0, d1, want) in [
        (2, 4, 2),
        (1, 3, 1),
        (0, 0, 0),
        (9, 9, 9),
        (2, 7, 7),
        (7, 2, 2),
        (9, 8, 8),
    ] {
        assert_eq!(parity_digits_target(d0, d1).unwrap(), want, "({d0}, {d1})");
    }
    assert_eq!(parity_digits_targets(&[4, 5], &[6, 6]).unwrap(), vec![4, 6]);
    assert!(matches!(
        parity_digits_target(10, 1),
        Err(ModularError::InvalidArgument(_))
    ));
    assert!(parity_digits_targets(&[1, 2], &[3]).is_err());
    let pairs = DigitPairs::new(
        1,
        [vec![0.0; 3], vec![0.0; 3]],
        [vec![1, 2, 3], vec![5, 5, 4]],
    )
    .unwrap();
    assert_eq!(pairs.targets(), &[1, 5, 4]);
}

#[test]
fn the_agent_with_the_larger_absolute_output_decides() {
    let o0 = Tensor::new(&[[1.0f32, -3.0], [0.5, 0.5], [1.0, 1.0]], &DEV).unwrap();
    let o1 = Tensor::new(&[[2.0f32, 2.0], [0.0, 0.9], [-1.0, 0.0]], &DEV).unwrap();
    let d = max_decision(&[o0, o1]).unwrap();
    // Row 0: |−3| > 2 → agent 0; row 1: 0.9 > 0.5 → agent 1; row 2: a tie → agent 0.
    assert_eq!(d.deciding, vec![0, 1, 0]);
    let logits: Vec<Vec<f32>> = d.logits.to_vec2().unwrap();
    assert_eq!(
        logits,
        vec![vec![1.0, -3.0], vec![0.0, 0.9], vec![1.0, 1.0]]
    );
}

#[test]
fn bad_p_and_shapes_are_clear_errors() {
    for p in [0.0, -0.1, 1.5, f64::NAN] {
        let e = Community::new(small(p, ConnectionScheme::DeepR), 0, &DEV).unwrap_err();
        assert!(e.to_string().contains("p ="), "p = {p}: {e}");
    }
    // One connection of 10 × 10 needs p >= 0.01.
    let e = Community::new(small(0.005, ConnectionScheme::FixedMask), 0, &DEV).unwrap_err();
    assert!(e.to_string().contains("keeps no connection"), "{e}");
    assert!(Community::new(small(1.0, ConnectionScheme::DeepR), 0, &DEV).is_ok());
    let c = Community::new(small(0.5, ConnectionScheme::DeepR), 0, &DEV).unwrap();
    let x = Tensor::zeros((4, 12), candle_core::DType::F32, &DEV).unwrap();
    let bad = Tensor::zeros((4, 11), candle_core::DType::F32, &DEV).unwrap();
    let e = c.forward([&x, &bad]).unwrap_err();
    assert!(e.to_string().contains("agent 1"), "{e}");
    assert!(DigitPairs::new(12, [vec![0.0; 24], vec![0.0; 12]], [vec![1, 2], vec![3, 4]]).is_err());
    let mut nan = vec![0.0; 24];
    nan[5] = f32::NAN;
    assert!(DigitPairs::new(12, [nan, vec![0.0; 24]], [vec![1, 2], vec![3, 4]]).is_err());
    assert!(TrainConfig {
        batch_size: 0,
        ..TrainConfig::default()
    }
    .validate()
    .is_err());
    assert!(DeepRConfig {
        lr: f64::NAN,
        ..DeepRConfig::default()
    }
    .validate()
    .is_err());
}

#[test]
fn sparsity_levels_are_the_authors_sweep() {
    // np.geomspace(1e-4, 0.999, 10).round(4), and the authors' int(100 * 100 * p) connection
    // counts (float rounding makes 0.0003 keep 2 connections, 0.0464 keep 463).
    let want = [
        0.0001, 0.0003, 0.0008, 0.0022, 0.006, 0.0167, 0.0464, 0.1291, 0.3591, 0.999,
    ];
    assert_eq!(sparsity_levels(100, 10).unwrap(), want);
    let counts: Vec<usize> = want
        .iter()
        .map(|&p| connection_count(p, 100, 100).unwrap())
        .collect();
    assert_eq!(counts, [1, 2, 8, 22, 60, 167, 463, 1291, 3590, 9990]);
    let d = DeepRConfig::default().for_level(9, 10, 0.999).unwrap();
    assert!((d.lr - 0.001).abs() < 1e-12 && (d.noise - 1e-7).abs() < 1e-15);
    assert!(DeepRConfig::default().for_level(10, 10, 0.5).is_err());
}

#[test]
fn q_of_the_community_is_the_two_module_closed_form() {
    for p in [0.01, 0.3, 1.0] {
        for scheme in [ConnectionScheme::DeepR, ConnectionScheme::FixedMask] {
            let c = Community::new(small(p, scheme), 5, &DEV).unwrap();
            let k = connection_count(p, 10, 10).unwrap() as f64;
            let q = c.modularity_q().unwrap();
            assert!(
                (q - two_module_q(k / 100.0).unwrap()).abs() < 1e-12,
                "p = {p}: {q}"
            );
        }
    }
}

#[test]
fn short_training_on_fashion_mnist_lowers_the_loss() {
    let Some(dir) = neurogen_data::fashion_mnist_dir() else {
        eprintln!("skipped: Fashion-MNIST not found (set NEUROGEN_FASHION_MNIST)");
        return;
    };
    let opts = neurogen_data::LoadOptions {
        use_cache: false,
        ..neurogen_data::LoadOptions::default()
    };
    let data =
        neurogen_data::load_as(&dir, neurogen_data::DatasetKind::FashionMnist, &opts).unwrap();
    let train_pairs = DigitPairs::from_split(&data.dataset.train, 512, 0).unwrap();
    let test_pairs = DigitPairs::from_split(&data.dataset.test, 256, 1).unwrap();
    for scheme in [ConnectionScheme::DeepR, ConnectionScheme::FixedMask] {
        let cfg = CommunityConfig {
            p: 0.0464,
            scheme,
            ..CommunityConfig::default()
        };
        let c = Community::new(cfg, 7, &DEV).unwrap();
        let before = evaluate(&c, &test_pairs, 128).unwrap();
        let tc = TrainConfig {
            epochs: 3,
            early_stop: false,
            ..TrainConfig::default()
        };
        let report = train(&c, &train_pairs, Some(&test_pairs), tc).unwrap();
        let after = report.epochs.last().unwrap().test.unwrap();
        eprintln!(
            "{scheme:?}: test loss {:.3} -> {:.3}, accuracy {:.3} -> {:.3}, train loss per epoch {:?}",
            before.loss,
            after.loss,
            before.accuracy,
            after.accuracy,
            report.epochs.iter().map(|e| e.train_loss).collect::<Vec<_>>()
        );
        assert!(
            after.loss < before.loss - 0.1,
            "{scheme:?}: {before:?} -> {after:?}"
        );
        for k in c.connections() {
            assert_eq!(k.n_active().unwrap(), 463);
        }
        let [s0, s1] = correlation_metric(&c, &test_pairs, 128, 0).unwrap();
        for s in [&s0, &s1] {
            assert!(s.own.mean.is_finite() && s.other.mean.is_finite());
            assert!(s.own.n_pairs > 200);
        }
        eprintln!(
            "{scheme:?}: correlation specialization {:.3} / {:.3}",
            s0.specialization, s1.specialization
        );
        let b =
            bottleneck_metric(&c, &train_pairs, &test_pairs, &BottleneckConfig::default()).unwrap();
        for row in b.accuracy {
            for acc in row {
                assert!((0.0..=1.0).contains(&acc), "{b:?}");
            }
        }
        eprintln!(
            "{scheme:?}: bottleneck accuracy [task][agent] {:?}, specialization {:?}, Q {:.4}",
            b.accuracy,
            b.specialization,
            c.modularity_q().unwrap()
        );
    }
}
