//! Replicas train exactly as separate runs: K replicas trained together with
//! `train_replicas` are bit-identical to each seed trained alone with `train` (K = 1), with
//! several seeds, a diverging or failing replica (which stops alone), growth alike in every
//! replica, and loss terms on activations and on parameters; plus the checks on bad input.
//! (Equivalence under every built-in regulariser, on real data, is tested in the regularizers
//! crate, `tests/replica.rs`.)
mod common;

use candle_core::{DType, Device, IndexOp, Tensor};
use common::{assert_replica_equals_separate_run, max_diff, toy_split, FailsAt};
use neurogen_data::ImageShape;
use neurogen_model::{
    train_replicas, Cnn, ForwardCtx, LossCx, ModelConfig, ModelError, NoHooks, NoRegularizer,
    ParamState, PerReplica, Phase, Regularizer, Result, Silent, StepCx, TrainConfig,
};

fn toy_setup() -> (ModelConfig, neurogen_data::Split) {
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

fn cfg(seed: u64) -> TrainConfig {
    TrainConfig {
        epochs: 2,
        batch_size: 4,
        seed,
        eval_train_at_end: false,
        eval_every_epoch: true,
        ..TrainConfig::default()
    }
}

fn no_prep(_: u64, _: &mut Cnn) {}

#[test]
fn several_seeds_train_as_separate_runs() {
    let (mc, split) = toy_setup();
    let (net, runs) = assert_replica_equals_separate_run(
        &mc,
        &split,
        Some(("test", &split)),
        &[0, 1, 2],
        |s| TrainConfig {
            eval_train_at_end: true,
            ..cfg(s)
        },
        |_| NoRegularizer,
        no_prep,
    );
    assert_eq!(net.replicas(), 3);
    for run in &runs {
        let m = run.as_ref().unwrap();
        assert_eq!(m.steps, 2 * 12);
        assert!(m.final_train.is_some() && m.final_eval.is_some());
    }
    // Different seeds, different networks.
    assert!(
        max_diff(
            &net.value("fc3.weight", 0).unwrap(),
            &net.value("fc3.weight", 1).unwrap()
        ) > 0.0
    );
}

#[test]
fn replica_forward_splits_back_into_the_networks() {
    let (mc, split) = toy_setup();
    let net = Cnn::from_seeds(&mc, &[0, 1, 2], &Device::Cpu).unwrap();
    let idx: Vec<usize> = (0..5).collect();
    let (x, _) = split.batch(&idx, &Device::Cpu).unwrap();
    let xs = Tensor::stack(&[&x, &x, &x], 0).unwrap();
    let out = net.forward(&xs, &mut NoHooks, &ForwardCtx::eval()).unwrap();
    assert_eq!(out.logits.dims(), &[3, 5, 10]);
    for r in 0..3 {
        let single = Cnn::new(&mc, r as u64, &Device::Cpu)
            .unwrap()
            .predict(&x)
            .unwrap();
        assert!(
            max_diff(&out.logits.i(r).unwrap(), &single) < 1e-5,
            "replica {r}"
        );
    }
    let e = net
        .forward(&x, &mut NoHooks, &ForwardCtx::eval())
        .unwrap_err()
        .to_string();
    assert!(e.contains("[3, batch, 1, 28, 28]"), "{e}");
    assert!(net
        .forward(
            &xs,
            &mut PerReplica(&mut [NoRegularizer; 2]),
            &ForwardCtx::eval()
        )
        .is_err());
}

#[test]
fn a_diverging_replica_stops_alone() {
    let (mc, split) = toy_setup();
    // Seed 2's network starts with NaN output weights: its loss is NaN at the first step.
    let poison = |s: u64, m: &mut Cnn| {
        if s == 2 {
            let w = m.param("fc3.weight").unwrap().as_tensor().clone();
            let nan = (w.ones_like().unwrap() * f64::NAN).unwrap();
            m.set_param("fc3.weight", &nan).unwrap();
        }
    };
    let (_, runs) = assert_replica_equals_separate_run(
        &mc,
        &split,
        Some(("test", &split)),
        &[1, 2, 3],
        cfg,
        |_| NoRegularizer,
        poison,
    );
    match &runs[1] {
        Err(ModelError::Diverged { step, what, .. }) => {
            assert_eq!(*step, 0);
            assert!(what.contains("loss"), "{what}");
        }
        other => panic!("replica 1 should have diverged: {other:?}"),
    }
    assert_eq!(runs[0].as_ref().unwrap().steps, 24);
    assert_eq!(runs[2].as_ref().unwrap().steps, 24);
}

#[test]
fn a_failing_regulariser_stops_its_replica_alone() {
    let (mc, split) = toy_setup();
    let (_, runs) = assert_replica_equals_separate_run(
        &mc,
        &split,
        None,
        &[4, 5, 6],
        cfg,
        |seed| FailsAt {
            seed,
            fail_seed: 5,
            at: 7,
        },
        no_prep,
    );
    let e = runs[1].as_ref().unwrap_err().to_string();
    assert!(e.contains("hook failed at step 7"), "{e}");
    assert!(runs[0].is_ok() && runs[2].is_ok());
}

/// Additive growth: after every 5th step, `add` units join hidden layer 1, with incoming
/// weights from the regulariser's seed, zero bias and outgoing weights, and zero moments (as
/// neurogenesis resets them).
struct Grow {
    seed: u64,
    add: usize,
    events: usize,
}

fn grow_state(
    cx: &StepCx,
    name: &str,
    grow: impl Fn(&Tensor) -> Result<Tensor>,
) -> Result<Option<ParamState>> {
    Ok(match cx.optim_state(name)? {
        Some(st) => Some(ParamState {
            m: grow(&st.m)?,
            v: grow(&st.v)?,
            step: st.step,
        }),
        None => None,
    })
}

impl Regularizer for Grow {
    fn name(&self) -> String {
        "grow".into()
    }
    fn on_step(&mut self, phase: Phase, cx: &mut StepCx) -> Result<()> {
        if phase != Phase::AfterStep || cx.ctx.step % 5 != 0 {
            return Ok(());
        }
        let (w_in, b, w_out) = cx.hidden_param_names(1)?;
        let (dt, dev) = (cx.dtype(), cx.device().clone());
        let add = self.add;
        let wi = cx.param(&w_in)?;
        let fan_in = wi.dim(1)?;
        let rows = (Tensor::ones((add, fan_in), dt, &dev)? * (0.01 * (self.seed + 1) as f64))?;
        let wi = Tensor::cat(&[&wi, &rows], 0)?;
        let bi = cx.param(&b)?;
        let bi = Tensor::cat(&[&bi, &Tensor::zeros(add, dt, &dev)?], 0)?;
        let wo = cx.param(&w_out)?;
        let out = wo.dim(0)?;
        let wo = Tensor::cat(&[&wo, &Tensor::zeros((out, add), dt, &dev)?], 1)?;
        let rows0 = |t: &Tensor| -> Result<Tensor> {
            let z = Tensor::zeros((add, t.dim(1)?), t.dtype(), t.device())?;
            Ok(Tensor::cat(&[t, &z], 0)?)
        };
        let bias0 = |t: &Tensor| -> Result<Tensor> {
            Ok(Tensor::cat(
                &[t, &Tensor::zeros(add, t.dtype(), t.device())?],
                0,
            )?)
        };
        let cols0 = |t: &Tensor| -> Result<Tensor> {
            let z = Tensor::zeros((t.dim(0)?, add), t.dtype(), t.device())?;
            Ok(Tensor::cat(&[t, &z], 1)?)
        };
        let states = [
            grow_state(cx, &w_in, rows0)?,
            grow_state(cx, &b, bias0)?,
            grow_state(cx, &w_out, cols0)?,
        ];
        cx.set_param(&w_in, &wi)?;
        cx.set_param(&b, &bi)?;
        cx.set_param(&w_out, &wo)?;
        // Within the phase, the replica reads back what it staged.
        assert_eq!(cx.hidden_width(1)?, wi.dim(0)?);
        for (name, st) in [&w_in, &b, &w_out].into_iter().zip(states) {
            if let Some(st) = st {
                cx.set_optim_state(name, st)?;
            }
        }
        self.events += 1;
        Ok(())
    }
    fn report(&self) -> serde_json::Value {
        serde_json::json!({ "events": self.events })
    }
}

#[test]
fn growth_is_alike_in_every_replica_and_equals_separate_runs() {
    let (mc, split) = toy_setup();
    let (net, runs) = assert_replica_equals_separate_run(
        &mc,
        &split,
        Some(("test", &split)),
        &[7, 8, 9],
        cfg,
        |seed| Grow {
            seed,
            add: 2,
            events: 0,
        },
        no_prep,
    );
    // 24 steps: growth after steps 5, 10, 15, 20.
    assert_eq!(net.config().hidden_sizes, vec![16, 16 + 4 * 2, 16]);
    net.check_shapes().unwrap();
    for run in &runs {
        assert_eq!(run.as_ref().unwrap().regularizer["events"], 4);
    }
}

/// An activity penalty: a loss term from the activations the forward pass produced.
struct ActivityPenalty;

impl Regularizer for ActivityPenalty {
    fn name(&self) -> String {
        "activity".into()
    }
    fn loss_term(&mut self, cx: &LossCx) -> Result<Option<Tensor>> {
        Ok(Some((cx.hidden(1)?.abs()?.mean_all()? * 0.5)?))
    }
}

/// A penalty on a live parameter (its gradient reaches the parameter).
struct ParamPenalty;

impl Regularizer for ParamPenalty {
    fn name(&self) -> String {
        "param-l2".into()
    }
    fn loss_term(&mut self, cx: &LossCx) -> Result<Option<Tensor>> {
        Ok(Some((cx.param("fc3.weight")?.sqr()?.sum_all()? * 0.01)?))
    }
}

#[test]
fn activity_and_parameter_loss_terms_train_as_separate_runs() {
    let (mc, split) = toy_setup();
    let (_, with_activity) = assert_replica_equals_separate_run(
        &mc,
        &split,
        None,
        &[3, 4],
        cfg,
        |_| ActivityPenalty,
        no_prep,
    );
    let (_, with_param) = assert_replica_equals_separate_run(
        &mc,
        &split,
        None,
        &[3, 4],
        cfg,
        |_| ParamPenalty,
        no_prep,
    );
    let (_, plain) = assert_replica_equals_separate_run(
        &mc,
        &split,
        None,
        &[3, 4],
        cfg,
        |_| NoRegularizer,
        no_prep,
    );
    // The terms are in the training loss.
    let loss =
        |runs: &[neurogen_model::ReplicaResult]| runs[0].as_ref().unwrap().epochs[0].train_loss;
    assert_ne!(loss(&with_activity), loss(&plain));
    assert_ne!(loss(&with_param), loss(&plain));
}

#[test]
fn replica_settings_must_agree() {
    let (mc, split) = toy_setup();
    let models = || Cnn::from_seeds(&mc, &[0, 1], &Device::Cpu).unwrap();
    let mut other = cfg(1);
    other.batch_size = 8;
    let e = train_replicas(
        &mut models(),
        &split,
        None,
        &[cfg(0), other],
        &mut [NoRegularizer; 2],
        &mut Silent,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("replica 1") && e.contains("seed"), "{e}");
    let e = train_replicas(
        &mut models(),
        &split,
        None,
        &[cfg(0)],
        &mut [NoRegularizer; 2],
        &mut Silent,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("one config"), "{e}");
    let mixed = [
        Cnn::new(&mc, 0, &Device::Cpu).unwrap(),
        Cnn::new(&mc.clone().with_hidden_width(8), 1, &Device::Cpu).unwrap(),
    ];
    let e = Cnn::stack(&mixed).unwrap_err().to_string();
    assert!(e.contains("model 1"), "{e}");
    let f64_model = Cnn::new_with_dtype(&mc, 1, &Device::Cpu, DType::F64).unwrap();
    let e = Cnn::stack(&[mixed[0].clone(), f64_model])
        .unwrap_err()
        .to_string();
    assert!(e.contains("model 1"), "{e}");
    assert!(Cnn::stack(&[]).is_err());
}
