//! Replica `r` of `neurogen_model::train_replicas` is, bit for bit, the same seed trained alone
//! with `train` (K = 1), with every built-in regulariser, on real Fashion-MNIST subsets: same
//! weights, optimiser state, losses, accuracies and regulariser reports (event logs).
mod common;

use candle_core::Device;
use common::{fashion, params, params_of, vals};

use neurogen_model::{train, train_replicas, Adam, Cnn, ModelConfig, Silent, TrainConfig};
use neurogen_regularizers::{build, RegularizerSet, Stack};

fn cfg(seed: u64, epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 4,
        seed,
        eval_train_at_end: true,
        eval_every_epoch: true,
        ..TrainConfig::default()
    }
}

fn regs(specs: &[&str], quirks: bool, seed: u64) -> Stack {
    build(&RegularizerSet::from_specs(specs, quirks).unwrap(), seed).unwrap()
}

/// Bit patterns of every optimiser state of replica `r`, by parameter.
fn states(adam: &Adam, r: usize) -> Vec<(String, Option<(Vec<u32>, Vec<u32>, u64)>)> {
    let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect();
    adam.state_names()
        .into_iter()
        .map(|n| {
            let st = adam
                .state(&n, r)
                .unwrap()
                .map(|s| (bits(vals(&s.m)), bits(vals(&s.v)), s.step));
            (n, st)
        })
        .collect()
}

/// Trains each `(specs, seed)` alone and all of them as replicas of one model, and checks that
/// replica `r` is run `r` bit for bit.
fn check_equivalent(runs: &[(&[&str], u64)], quirks: bool, epochs: usize) -> Option<()> {
    let (train_split, test_split) = fashion(160, 100)?;
    let eval = Some(("test", &test_split));
    let model_cfg = ModelConfig::fashion_mnist().with_hidden_width(40);
    let seeds: Vec<u64> = runs.iter().map(|(_, s)| *s).collect();
    let configs: Vec<TrainConfig> = seeds.iter().map(|&s| cfg(s, epochs)).collect();
    let mut stacks: Vec<Stack> = runs.iter().map(|(sp, s)| regs(sp, quirks, *s)).collect();
    let mut net = Cnn::from_seeds(&model_cfg, &seeds, &Device::Cpu).unwrap();
    let (replicas, adam) = train_replicas(
        &mut net,
        &train_split,
        eval,
        &configs,
        &mut stacks,
        &mut Silent,
    )
    .unwrap();
    assert_eq!(replicas.len(), runs.len());
    for (r, (specs, seed)) in runs.iter().enumerate() {
        let label = format!("replica {r} ({specs:?}, quirks {quirks})");
        let mut alone = Cnn::new(&model_cfg, *seed, &Device::Cpu).unwrap();
        let mut reg = regs(specs, quirks, *seed);
        let (want, alone_adam) = train(
            &mut alone,
            &train_split,
            eval,
            &configs[r],
            &mut reg,
            &mut Silent,
        )
        .unwrap();
        let got = replicas[r]
            .as_ref()
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        for ((name, a), (_, b)) in params_of(&net, r).iter().zip(&params(&alone)) {
            assert_eq!(a.len(), b.len(), "{label}: {name} has another shape");
            let differ = a.iter().zip(b).filter(|(x, y)| x.to_bits() != y.to_bits());
            assert_eq!(differ.count(), 0, "{label}: {name} differs");
        }
        assert!(
            states(&adam, r) == states(&alone_adam, 0),
            "{label}: Adam state differs"
        );
        assert_eq!(got.steps, want.steps, "{label}: steps");
        let curve = |m: &neurogen_model::TrainMetrics| {
            m.epochs
                .iter()
                .map(|e| (e.train_loss.to_bits(), e.eval))
                .collect::<Vec<_>>()
        };
        assert_eq!(curve(got), curve(&want), "{label}: losses or accuracies");
        assert_eq!(
            got.final_train, want.final_train,
            "{label}: final train eval"
        );
        assert_eq!(
            got.regularizer, want.regularizer,
            "{label}: reports (event logs)"
        );
    }
    Some(())
}

#[test]
fn replicas_with_turnover_dropout_and_noise_equal_separate_runs() {
    check_equivalent(
        &[
            (&["neurogenesis:n=4,every=10,until_epoch=1,excite=2"], 3),
            (&["dropout:p=0.2", "noise"], 4),
            (&[], 5),
        ],
        false,
        2,
    );
}

#[test]
fn replicas_of_one_targeted_group_with_dropout_equal_separate_runs() {
    let specs: &[&str] = &[
        "neurogenesis:n=4,every=10,until_epoch=2,mode=targeted",
        "dropout",
    ];
    check_equivalent(&[(specs, 0), (specs, 1), (specs, 2)], false, 2);
}

#[test]
fn replicas_with_additive_growth_and_weight_decay_equal_separate_runs() {
    let specs: &[&str] = &[
        "neurogenesis:n=2,every=15,until_epoch=2,growth=additive",
        "weight-decay",
    ];
    check_equivalent(&[(specs, 7), (specs, 8)], false, 2);
}

#[test]
fn replicas_with_reference_quirks_equal_separate_runs() {
    // Quirk (a): events before every minibatch of epoch 0; quirk (b): Adam frozen for the
    // layer after the first event; quirk (c): excitability on the removed indices.
    let specs: &[&str] = &["neurogenesis:n=2,every=1,until_epoch=1,excite=2", "dropout"];
    check_equivalent(&[(specs, 0), (specs, 1)], true, 2);
}
