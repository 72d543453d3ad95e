//! Deferred loss readback (`TrainConfig::loss_readback`, `Trainer::step_deferred`): reading the
//! losses every few steps instead of every step changes nothing a run reports — weights,
//! optimiser state, losses, evaluations, the error of a diverging replica and the step it
//! names — only when the host learns of it.
mod common;

use candle_core::{Device, Tensor};
use common::{metrics_key, replica_weights, toy_split, FailsAt};
use neurogen_data::{ImageShape, Split};
use neurogen_model::{
    default_loss_readback, train_replicas, Cnn, HookSite, HookStep, LossCx, ModelConfig,
    Regularizer, ReplicaResult, Result, Silent, TrainConfig,
};
use neurogen_testkit::replicas::adam_state_bits;

fn setup() -> (ModelConfig, Split) {
    let shape = ImageShape {
        channels: 1,
        height: 28,
        width: 28,
    };
    (
        ModelConfig::fashion_mnist().with_hidden_width(16),
        toy_split(48, shape, 10),
    )
}

/// A loss term on the activations (so the deferred terms are read too), NaN for seed `fail.fail_seed`
/// from step `nan_from` on, and (through [`FailsAt`]) a forward hook that fails for that seed
/// from step `fail.at`.
#[derive(Clone)]
struct Probe {
    nan_from: usize,
    fail: FailsAt,
}

impl Regularizer for Probe {
    fn name(&self) -> String {
        "probe".into()
    }
    fn hook(&mut self, site: &HookSite) -> Result<Vec<HookStep>> {
        self.fail.hook(site)
    }
    fn loss_term(&mut self, cx: &LossCx) -> Result<Option<Tensor>> {
        let term = (cx.hidden(1)?.abs()?.mean_all()? * 0.25)?;
        if self.fail.seed == self.fail.fail_seed && cx.ctx.step >= self.nan_from {
            return Ok(Some((term * f64::NAN)?));
        }
        Ok(Some(term))
    }
}

/// Trains seeds 0, 1, 2 as replicas (2 epochs of 12 steps) with losses read every `every`
/// steps; returns each run's clock-free metrics (or error), weights and optimiser state.
fn run(every: Option<usize>, nan_from: usize, fail_from: usize) -> Vec<String> {
    let (mc, split) = setup();
    let seeds = [0u64, 1, 2];
    let mut net = Cnn::from_seeds(&mc, &seeds, &Device::Cpu).unwrap();
    let configs: Vec<TrainConfig> = seeds
        .iter()
        .map(|&seed| TrainConfig {
            epochs: 2,
            seed,
            loss_readback: every,
            ..TrainConfig::default()
        })
        .collect();
    let mut regs: Vec<Probe> = seeds
        .iter()
        .map(|&seed| Probe {
            nan_from,
            fail: FailsAt {
                seed,
                fail_seed: 1,
                at: fail_from,
            },
        })
        .collect();
    let (runs, adam) = train_replicas(
        &mut net,
        &split,
        Some(("test", &split)),
        &configs,
        &mut regs,
        &mut Silent,
    )
    .unwrap();
    runs.iter()
        .enumerate()
        .map(|(r, res): (usize, &ReplicaResult)| match res {
            Ok(m) => format!(
                "{} {:?} {:?}",
                metrics_key(m),
                replica_weights(&net, r),
                adam_state_bits(&adam, r)
            ),
            Err(e) => format!("error: {e}"),
        })
        .collect()
}

#[test]
fn the_cpu_reads_every_step_by_default() {
    assert_eq!(default_loss_readback(&Device::Cpu), 1);
    assert_eq!(TrainConfig::default().loss_readback, None);
}

#[test]
fn deferred_readback_gives_the_same_runs() {
    let never = usize::MAX;
    let every_step = run(None, never, never);
    assert_eq!(every_step, run(Some(1), never, never));
    // 5 does not divide the 12 steps of an epoch (the last readback of each epoch is short);
    // 12 reads once per epoch; 100 (and usize::MAX) would span several epochs but are cut at
    // each epoch's end.
    for every in [5, 12, 100, usize::MAX] {
        assert_eq!(every_step, run(Some(every), never, never), "every {every}");
    }
    assert!(every_step.iter().all(|r| r.starts_with("steps 24")));
}

fn diverged(runs: &[String]) -> &str {
    assert!(runs[0].starts_with("steps 24") && runs[2].starts_with("steps 24"));
    &runs[1]
}

#[test]
fn a_replica_diverging_between_readbacks_names_the_step_where_it_diverged() {
    // Seed 1's loss is NaN from step 17 (epoch 1): read every 5 steps, the host sees it after
    // step 19 and stops the replica with the error of step 17; the others are unchanged.
    let now = run(Some(1), 17, usize::MAX);
    let e = diverged(&now);
    assert!(e.contains("epoch 1") && e.contains("step 17"), "{e}");
    for every in [5, 12] {
        assert_eq!(now, run(Some(every), 17, usize::MAX), "every {every}");
    }
}

#[test]
fn divergence_wins_over_a_later_hook_error_of_the_same_replica() {
    // Seed 1 diverges at step 6, and its hook would fail from step 8: read every step, the hook
    // never runs again; read every 12 steps, the hook fails first but the divergence (earlier)
    // is what the run reports.
    let now = run(Some(1), 6, 8);
    let e = diverged(&now);
    assert!(e.contains("step 6") && e.contains("loss is NaN"), "{e}");
    assert_eq!(now, run(Some(12), 6, 8));
    // A hook error before any divergence stays the replica's error.
    let hook_first = run(Some(12), 9, 4);
    assert!(diverged(&hook_first).contains("hook failed at step 4"));
    assert_eq!(hook_first, run(Some(1), 9, 4));
}

#[test]
fn a_zero_readback_interval_is_refused() {
    let (mc, split) = setup();
    let mut net = Cnn::new(&mc, 0, &Device::Cpu).unwrap();
    let cfg = TrainConfig {
        epochs: 1,
        loss_readback: Some(0),
        ..TrainConfig::default()
    };
    let e = neurogen_model::train(
        &mut net,
        &split,
        None,
        &cfg,
        &mut neurogen_model::NoRegularizer,
        &mut Silent,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("loss readback"), "{e}");
}
