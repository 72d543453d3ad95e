//! Replica training (`neurogen_model::train_replicas`) equals separate `train` runs, with every
//! built-in regulariser, on real Fashion-MNIST subsets: same final weights up to float
//! rounding, same losses, same neurogenesis events, same accuracy.
mod common;

use candle_core::Device;
use common::{fashion, params};

use neurogen_model::{
    train, train_replicas, Cnn, ModelConfig, ReplicaRun, Silent, TrainConfig, TrainMetrics,
};
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

/// Trains each `(specs, seed)` as a separate run and all of them as replicas, and checks that
/// they agree. Returns the replica runs.
fn check_equivalent(runs: &[(&[&str], u64)], quirks: bool, epochs: usize) -> Option<()> {
    let (train_split, test_split) = fashion(160, 100)?;
    let model_cfg = ModelConfig::fashion_mnist().with_hidden_width(40);
    let mut separate: Vec<(TrainMetrics, Cnn)> = Vec::new();
    for (specs, seed) in runs {
        let mut m = Cnn::new(&model_cfg, *seed, &Device::Cpu).unwrap();
        let mut reg = regs(specs, quirks, *seed);
        let (metrics, _) = train(
            &mut m,
            &train_split,
            Some(("test", &test_split)),
            &cfg(*seed, epochs),
            &mut reg,
            &mut Silent,
        )
        .unwrap();
        separate.push((metrics, m));
    }
    let models: Vec<Cnn> = runs
        .iter()
        .map(|(_, s)| Cnn::new(&model_cfg, *s, &Device::Cpu).unwrap())
        .collect();
    let configs: Vec<TrainConfig> = runs.iter().map(|(_, s)| cfg(*s, epochs)).collect();
    let mut stacks: Vec<Stack> = runs.iter().map(|(sp, s)| regs(sp, quirks, *s)).collect();
    let replicas: Vec<ReplicaRun> = train_replicas(
        models,
        &train_split,
        Some(("test", &test_split)),
        &configs,
        &mut stacks,
        &mut Silent,
    )
    .unwrap();
    assert_eq!(replicas.len(), runs.len());
    for (r, (rep, (sep_metrics, sep_model))) in replicas.iter().zip(&separate).enumerate() {
        let (rep_metrics, _) = rep
            .result
            .as_ref()
            .unwrap_or_else(|e| panic!("replica {r}: {e}"));
        let label = format!("replica {r} ({:?})", runs[r].0);
        assert_eq!(rep.model.config(), sep_model.config(), "{label}: shapes");
        let mut worst = 0f32;
        for ((name, a), (_, b)) in params(&rep.model).iter().zip(params(sep_model).iter()) {
            assert_eq!(a.len(), b.len(), "{label}: {name}");
            for (x, y) in a.iter().zip(b) {
                worst = worst.max((x - y).abs());
            }
        }
        eprintln!("{label}: largest weight difference {worst:e}");
        assert!(worst < 1e-4, "{label}: weights differ by up to {worst}");
        for (e1, e2) in rep_metrics.epochs.iter().zip(&sep_metrics.epochs) {
            assert!(
                (e1.train_loss - e2.train_loss).abs() < 1e-4,
                "{label}: epoch {} loss {} vs {}",
                e1.epoch,
                e1.train_loss,
                e2.train_loss
            );
            let (a, b) = (e1.eval.unwrap(), e2.eval.unwrap());
            assert!(
                (a.accuracy - b.accuracy).abs() <= 0.011,
                "{label}: accuracy {} vs {}",
                a.accuracy,
                b.accuracy
            );
        }
        assert_eq!(rep_metrics.steps, sep_metrics.steps, "{label}: steps");
        assert_eq!(
            rep_metrics.regularizer.to_string().len() > 2,
            sep_metrics.regularizer.to_string().len() > 2
        );
        let events = |m: &TrainMetrics| {
            m.regularizer
                .get("members")
                .map(|v| v.to_string())
                .unwrap_or_else(|| m.regularizer.to_string())
        };
        // Same events (steps, units) and counts: the report serialises the event log.
        let (a, b) = (events(rep_metrics), events(sep_metrics));
        assert_eq!(a, b, "{label}: regulariser reports differ");
    }
    Some(())
}

#[test]
fn replicas_with_different_regularizers_equal_separate_runs() {
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
fn replicas_of_one_group_equal_separate_runs() {
    check_equivalent(
        &[
            (
                &[
                    "neurogenesis:n=4,every=10,until_epoch=2,mode=targeted",
                    "dropout",
                ],
                0,
            ),
            (
                &[
                    "neurogenesis:n=4,every=10,until_epoch=2,mode=targeted",
                    "dropout",
                ],
                1,
            ),
            (
                &[
                    "neurogenesis:n=4,every=10,until_epoch=2,mode=targeted",
                    "dropout",
                ],
                2,
            ),
        ],
        false,
        2,
    );
}

#[test]
fn replicas_with_additive_growth_and_weight_decay_equal_separate_runs() {
    check_equivalent(
        &[
            (
                &["neurogenesis:n=2,every=15,until_epoch=2,growth=additive"],
                7,
            ),
            (
                &["neurogenesis:n=2,every=15,until_epoch=2,growth=additive"],
                8,
            ),
        ],
        false,
        2,
    );
    check_equivalent(&[(&["weight-decay"], 1), (&["weight-decay"], 2)], false, 1);
}

#[test]
fn replicas_with_reference_quirks_equal_separate_runs() {
    // Quirk (a): events before every minibatch of epoch 0; quirk (b): Adam frozen for the
    // layer after the first event.
    check_equivalent(
        &[
            (&["neurogenesis:n=2,every=1,until_epoch=1"], 0),
            (&["neurogenesis:n=2,every=1,until_epoch=1"], 1),
        ],
        true,
        2,
    );
}

/// Forwards every hook of a stack but does not plan them, so replica training runs the hooks
/// replica by replica (the path third-party regularisers without plans take).
struct Unplanned(Stack);

impl neurogen_model::Regularizer for Unplanned {
    fn name(&self) -> String {
        self.0.name()
    }
    fn configure_optimizer(&self, c: &mut neurogen_model::AdamConfig) {
        self.0.configure_optimizer(c)
    }
    fn start_training(
        &mut self,
        m: &mut Cnn,
        o: &mut neurogen_model::Adam,
    ) -> neurogen_model::Result<()> {
        self.0.start_training(m, o)
    }
    fn modifies_model(&self, h: neurogen_model::StepHook, c: &neurogen_model::StepCtx) -> bool {
        self.0.modifies_model(h, c)
    }
    fn before_batch(
        &mut self,
        m: &mut Cnn,
        o: &mut neurogen_model::Adam,
        c: &neurogen_model::StepCtx,
    ) -> neurogen_model::Result<()> {
        self.0.before_batch(m, o, c)
    }
    fn pre_activation(
        &mut self,
        l: usize,
        z: candle_core::Tensor,
        c: &neurogen_model::ForwardCtx,
    ) -> neurogen_model::Result<candle_core::Tensor> {
        self.0.pre_activation(l, z, c)
    }
    fn activation(
        &mut self,
        l: usize,
        a: candle_core::Tensor,
        c: &neurogen_model::ForwardCtx,
    ) -> neurogen_model::Result<candle_core::Tensor> {
        self.0.activation(l, a, c)
    }
    fn after_step(
        &mut self,
        m: &mut Cnn,
        o: &mut neurogen_model::Adam,
        c: &neurogen_model::StepCtx,
    ) -> neurogen_model::Result<()> {
        self.0.after_step(m, o, c)
    }
    fn end_epoch(
        &mut self,
        m: &mut Cnn,
        o: &mut neurogen_model::Adam,
        e: usize,
    ) -> neurogen_model::Result<()> {
        self.0.end_epoch(m, o, e)
    }
    fn report(&self) -> serde_json::Value {
        self.0.report()
    }
}

#[test]
fn planned_hooks_equal_hooks_run_replica_by_replica() {
    // The batched hook plans (dropout masks + max-norm, noise, excitability) against the same
    // regularisers' hooks called on each replica's slice.
    let Some((train_split, _)) = common::fashion(80, 20) else {
        return;
    };
    let model_cfg = ModelConfig::fashion_mnist().with_hidden_width(40);
    let specs: [&[&str]; 3] = [
        &[
            "neurogenesis:n=4,every=5,until_epoch=1,excite=2",
            "dropout:p=0.2",
        ],
        &["dropout:p=0.3", "noise"],
        &["noise", "neurogenesis:n=2,every=3,until_epoch=1,excite=3"],
    ];
    let models = || -> Vec<Cnn> {
        (0..3)
            .map(|s| Cnn::new(&model_cfg, s, &Device::Cpu).unwrap())
            .collect()
    };
    let configs: Vec<TrainConfig> = (0..3).map(|s| cfg(s, 1)).collect();
    let mut planned: Vec<Stack> = (0..3).map(|s| regs(specs[s], false, s as u64)).collect();
    let a = train_replicas(
        models(),
        &train_split,
        None,
        &configs,
        &mut planned,
        &mut Silent,
    )
    .unwrap();
    let mut hooks: Vec<Unplanned> = (0..3)
        .map(|s| Unplanned(regs(specs[s], false, s as u64)))
        .collect();
    let b = train_replicas(
        models(),
        &train_split,
        None,
        &configs,
        &mut hooks,
        &mut Silent,
    )
    .unwrap();
    for (r, (x, y)) in a.iter().zip(&b).enumerate() {
        let mut worst = 0f32;
        for ((name, p), (_, q)) in params(&x.model).iter().zip(params(&y.model).iter()) {
            assert_eq!(p.len(), q.len(), "replica {r}: {name}");
            for (u, v) in p.iter().zip(q) {
                worst = worst.max((u - v).abs());
            }
        }
        assert!(
            worst < 1e-5,
            "replica {r}: planned and per-replica hooks differ by {worst}"
        );
        let (mx, _) = x.result.as_ref().unwrap();
        let (my, _) = y.result.as_ref().unwrap();
        assert_eq!(
            mx.regularizer, my.regularizer,
            "replica {r}: reports differ"
        );
    }
}
