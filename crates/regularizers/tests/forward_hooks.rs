//! Dropout (+ max-norm) and neural noise in the forward pass: training vs evaluation, expected
//! values, reproducibility, and the stack's order.
mod common;

use candle_core::{DType, Device, Tensor};
use common::{activation, pre_activation, vals};
use neurogen_regularizers::spec::stream;
use neurogen_regularizers::{
    build, renorm_l1, Dropout, DropoutConfig, ForwardCtx, NeuralNoise, NeuralNoiseConfig,
    Regularizer, RegularizerSet,
};
use proptest::prelude::*;

fn dropout(p: f64, max_norm: f64, seed: u64) -> Dropout {
    Dropout::new(
        DropoutConfig {
            p,
            max_norm,
            eval_renorm: true,
        },
        stream(seed, 3, 0),
    )
    .unwrap()
}

fn rand_acts(rows: usize, cols: usize, seed: u64) -> Tensor {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    neurogen_model::init::uniform(&mut rng, &[rows, cols], 1.0, DType::F32, &Device::Cpu)
        .unwrap()
        .relu()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn dropout_preserves_the_mean_in_training(p in 0.0f64..0.9, seed in 0u64..1000) {
        // max_norm = 0: dropout alone. 200k ones: the mean is 1 up to sampling noise
        // (std of the mean = sqrt(p/(1-p)/N) <= 0.007 for p < 0.9).
        let mut d = dropout(p, 0.0, seed);
        let x = Tensor::ones((400, 500), DType::F32, &Device::Cpu).unwrap();
        let y = activation(&mut d, 0, &x, &ForwardCtx::train(0, 0));
        let v = vals(&y);
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        prop_assert!((mean - 1.0).abs() < 0.035, "p={} mean {}", p, mean);
        let kept = v.iter().filter(|&&x| x != 0.0).count() as f64 / v.len() as f64;
        prop_assert!((kept - (1.0 - p)).abs() < 0.01, "kept {}", kept);
        let scale = (1.0 / (1.0 - p)) as f32;
        prop_assert!(v.iter().all(|&x| x == 0.0 || x == scale));
    }

    #[test]
    fn dropout_is_the_identity_in_eval_and_renorm_follows_the_reference(
        rows in 1usize..8, cols in 1usize..20, seed in 0u64..1000, p in 0.0f64..0.9,
    ) {
        let x = rand_acts(rows, cols, seed);
        // No max-norm: bit-identical in evaluation.
        let y = activation(&mut dropout(p, 0.0, seed), 1, &x, &ForwardCtx::eval());
        prop_assert_eq!(vals(&y), vals(&x));
        // With max-norm 3 (the reference): evaluation applies only the renorm, on consecutive
        // blocks of 4 examples (the reference's evaluation minibatch).
        let y = activation(&mut dropout(p, 3.0, seed), 1, &x, &ForwardCtx::eval());
        let mut expected = Vec::new();
        for start in (0..rows).step_by(4) {
            let block = x.narrow(0, start, 4.min(rows - start)).unwrap();
            expected.extend(vals(&renorm_l1(&block, 3.0).unwrap()));
        }
        prop_assert_eq!(vals(&y), expected);
        // eval_renorm = false: the identity.
        let mut d = Dropout::new(DropoutConfig { p, max_norm: 3.0, eval_renorm: false }, stream(seed, 3, 0)).unwrap();
        prop_assert_eq!(vals(&activation(&mut d, 1, &x, &ForwardCtx::eval())), vals(&x));
        // Training output: every column's L1 norm is at most 3.
        let y = activation(&mut dropout(p, 3.0, seed), 1, &x, &ForwardCtx::train(0, 0));
        for n in vals(&y.abs().unwrap().sum(0).unwrap()) {
            prop_assert!(n <= 3.0 + 1e-5, "column norm {}", n);
        }
    }

    #[test]
    fn noise_acts_only_in_training_on_its_layer(seed in 0u64..1000, layer in 0usize..3) {
        let mut nn = NeuralNoise::new(NeuralNoiseConfig { layer, ..Default::default() }, stream(seed, 1, 0)).unwrap();
        let z = rand_acts(4, 30, seed);
        for other in (0..3).filter(|&l| l != layer) {
            let y = pre_activation(&mut nn, other, &z, &ForwardCtx::train(0, 0));
            prop_assert_eq!(vals(&y), vals(&z));
        }
        let y = pre_activation(&mut nn, layer, &z, &ForwardCtx::eval());
        prop_assert_eq!(vals(&y), vals(&z));
        let y = pre_activation(&mut nn, layer, &z, &ForwardCtx::train(0, 0));
        prop_assert_ne!(vals(&y), vals(&z));
    }
}

#[test]
fn noise_is_log_normal_with_the_papers_parameters() {
    let mut nn = NeuralNoise::new(NeuralNoiseConfig::default(), stream(0, 1, 0)).unwrap();
    let z = Tensor::ones((500, 400), DType::F32, &Device::Cpu).unwrap();
    let y = pre_activation(&mut nn, 0, &z, &ForwardCtx::train(0, 0));
    let logs: Vec<f64> = vals(&y).iter().map(|&x| (x as f64).ln()).collect();
    let n = logs.len() as f64;
    let mean = logs.iter().sum::<f64>() / n;
    let sd = (logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    // 200k samples: standard errors 0.001 (mean) and 0.0008 (sd).
    assert!((mean + 0.2).abs() < 0.005, "log-mean {mean}");
    assert!((sd - 0.5).abs() < 0.005, "log-sd {sd}");
}

#[test]
fn dropout_masks_are_reproducible_and_seed_dependent() {
    let x = Tensor::ones((4, 50), DType::F32, &Device::Cpu).unwrap();
    let run = |seed| {
        vals(&activation(
            &mut dropout(0.5, 0.0, seed),
            0,
            &x,
            &ForwardCtx::train(0, 0),
        ))
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn build_orders_excitability_before_dropout() {
    // Whatever the flag order, neurogenesis (excitability) runs before dropout + max-norm, as
    // in the reference's forward pass.
    let a = RegularizerSet::from_specs(["dropout", "noise", "weight-decay", "neurogenesis"], false)
        .unwrap();
    let stack = build(&a, 0).unwrap();
    assert_eq!(stack.name(), "weight-decay+noise+neurogenesis+dropout");
    // The members' settings (the trait has no `config` any more: the set holds them, and the
    // report says whether quirks are on).
    let specs: Vec<String> = a.specs.iter().map(|s| s.to_string()).collect();
    let ngn = specs
        .iter()
        .find(|s| s.starts_with("neurogenesis"))
        .unwrap();
    assert!(ngn.contains("n=8"), "{ngn}");
    let drop = specs.iter().find(|s| s.starts_with("dropout")).unwrap();
    assert!(drop.contains("p=0.2"), "{drop}");
    assert_eq!(stack.report()[2]["report"]["reference_quirks"], false);
}
