//! Replica `r` of `neurogen_model::train_replicas` is, bit for bit, the same seed trained alone
//! with `train` (K = 1), with every built-in regulariser, on real Fashion-MNIST subsets: same
//! weights, optimiser state, losses, accuracies and regulariser reports (event logs).
mod common;

use common::fashion;
use neurogen_testkit::replicas::assert_replica_equals_separate_run;

use neurogen_model::{ModelConfig, TrainConfig};
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

/// Trains each `(specs, seed)` alone and all of them as replicas of one model, and checks
/// (with the workspace's test kit) that replica `r` is run `r` bit for bit: weights, optimiser
/// state, losses, accuracies, final evaluations and regulariser reports (event logs).
fn check_equivalent(runs: &[(&[&str], u64)], quirks: bool, epochs: usize) -> Option<()> {
    let (train_split, test_split) = fashion(160, 100)?;
    let model_cfg = ModelConfig::fashion_mnist().with_hidden_width(40);
    let seeds: Vec<u64> = runs.iter().map(|(_, s)| *s).collect();
    let specs_of = |seed: u64| {
        runs.iter()
            .find(|(_, s)| *s == seed)
            .expect("seeds are unique")
            .0
    };
    let (_, results) = assert_replica_equals_separate_run(
        &model_cfg,
        &train_split,
        Some(("test", &test_split)),
        &seeds,
        |s| cfg(s, epochs),
        |s| regs(specs_of(s), quirks, s),
        |_, _| {},
    );
    for (r, res) in results.iter().enumerate() {
        assert!(res.is_ok(), "replica {r} ({:?}): {res:?}", runs[r].0);
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

#[test]
fn deferred_loss_readback_changes_nothing_with_every_regulariser() {
    // Neurogenesis (targeted with excitability, and random), dropout with max-norm, noise, and
    // the reference quirks, as replicas of one model for one epoch, losses read every 7 steps
    // (not a divisor of the epoch's 40 steps) against every step: same weights, losses, accuracies, reports.
    let Some((train_split, test_split)) = fashion(160, 100) else {
        return;
    };
    let model_cfg = neurogen_model::ModelConfig::fashion_mnist().with_hidden_width(40);
    let specs: [&[&str]; 3] = [
        &["neurogenesis:n=4,every=10,until_epoch=1,mode=targeted,excite=2"],
        &["dropout:p=0.2", "noise"],
        &["neurogenesis:n=2,every=15,until_epoch=2"],
    ];
    let run = |every: usize, quirks: bool| -> Vec<String> {
        let seeds = [3u64, 4, 5];
        let mut net =
            neurogen_model::Cnn::from_seeds(&model_cfg, &seeds, &candle_core::Device::Cpu).unwrap();
        let configs: Vec<TrainConfig> = seeds
            .iter()
            .map(|&s| TrainConfig {
                loss_readback: Some(every),
                ..cfg(s, 1)
            })
            .collect();
        let mut stacks: Vec<Stack> = seeds
            .iter()
            .zip(specs)
            .map(|(&s, sp)| regs(sp, quirks, s))
            .collect();
        let (runs, _) = neurogen_model::train_replicas(
            &mut net,
            &train_split,
            Some(("test", &test_split)),
            &configs,
            &mut stacks,
            &mut neurogen_model::Silent,
        )
        .unwrap();
        runs.iter()
            .enumerate()
            .map(|(r, m)| {
                format!(
                    "{} {:?}",
                    neurogen_testkit::replicas::metrics_key(m.as_ref().unwrap()),
                    neurogen_testkit::replicas::replica_weights(&net, r)
                )
            })
            .collect()
    };
    for quirks in [false, true] {
        assert_eq!(run(1, quirks), run(7, quirks), "quirks {quirks}");
    }
}
