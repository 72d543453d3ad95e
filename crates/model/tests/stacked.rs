//! The stacked model's own pieces: `Cnn::from_seeds`/`stack`/`replica`, step-hook edits of one
//! replica (`edit_replica`, `StepCx` staging, growth of all replicas through a phase), the
//! per-replica Adam state, and `check_finite_weights`.
mod common;

use candle_core::{DType, Device, IndexOp, Tensor};
use common::{replica_weights, vals};
use neurogen_model::{
    check_finite_weights, edit_replica, Adam, AdamConfig, Cnn, ModelConfig, ModelError, ParamState,
    Phase, Regularizer, Result, StepCtx, StepCx, Trainer,
};

fn small() -> ModelConfig {
    ModelConfig::fashion_mnist().with_hidden_width(6)
}

fn ctx() -> StepCtx {
    StepCtx {
        epoch: 0,
        batch: 0,
        step: 0,
        batches_per_epoch: 1,
    }
}

fn bits(v: &[(String, Vec<f32>)]) -> Vec<(String, Vec<u32>)> {
    v.iter()
        .map(|(n, x)| (n.clone(), x.iter().map(|f| f.to_bits()).collect()))
        .collect()
}

#[test]
fn from_seeds_stack_and_replica_round_trip() {
    let dev = Device::Cpu;
    let net = Cnn::from_seeds(&small(), &[5, 6, 7], &dev).unwrap();
    assert_eq!(net.replicas(), 3);
    assert_eq!(net.param("fcs.0.weight").unwrap().dims(), &[3, 6, 576]);
    assert_eq!(net.value("fcs.0.weight", 2).unwrap().dims(), &[6, 576]);
    let parts: Vec<Cnn> = (0..3).map(|r| net.replica(r).unwrap()).collect();
    for (r, (part, seed)) in parts.iter().zip([5, 6, 7]).enumerate() {
        assert_eq!(part.replicas(), 1);
        let fresh = Cnn::new(&small(), seed, &dev).unwrap();
        assert_eq!(
            bits(&replica_weights(part, 0)),
            bits(&replica_weights(&fresh, 0)),
            "replica {r} is the network of seed {seed}"
        );
    }
    let again = Cnn::stack(&parts).unwrap();
    for r in 0..3 {
        assert_eq!(
            bits(&replica_weights(&again, r)),
            bits(&replica_weights(&net, r))
        );
    }
    // Copies have parameters of their own.
    let before = bits(&replica_weights(&net, 1));
    let mut part = parts[1].clone();
    let w = part
        .param("fc3.weight")
        .unwrap()
        .as_tensor()
        .zeros_like()
        .unwrap();
    part.set_param("fc3.weight", &w).unwrap();
    let mut stacked = Cnn::stack(&parts).unwrap();
    let z = stacked
        .param("fc3.weight")
        .unwrap()
        .as_tensor()
        .zeros_like()
        .unwrap();
    stacked.set_param("fc3.weight", &z).unwrap();
    assert_eq!(bits(&replica_weights(&net, 1)), before);
    // A single model stacks to a copy of itself.
    let one = Cnn::stack(&parts[..1]).unwrap();
    assert_eq!(one.replicas(), 1);
    assert!(Cnn::from_seeds(&small(), &[], &dev).is_err());
    assert!(net.replica(3).is_err());
    assert!(net.value("fc3.weight", 3).is_err());
    // set_param takes every replica's value.
    let mut net2 = net.clone();
    let e = net2
        .set_param(
            "fc3.bias.nope",
            &Tensor::zeros((3, 2), DType::F32, &dev).unwrap(),
        )
        .unwrap_err();
    assert!(matches!(e, ModelError::UnknownParam(_)), "{e}");
    let e = net2
        .set_param(
            "fc3.weight",
            &Tensor::zeros((2, 10, 6), DType::F32, &dev).unwrap(),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("2 replicas"), "{e}");
}

#[test]
fn edit_replica_changes_only_its_replica_and_reads_back_what_it_staged() {
    let dev = Device::Cpu;
    let mut net = Cnn::from_seeds(&small(), &[0, 1, 2], &dev).unwrap();
    let mut adam = Adam::new(AdamConfig::default(), 3).unwrap();
    let before: Vec<_> = (0..3).map(|r| bits(&replica_weights(&net, r))).collect();
    let seen = edit_replica(&mut net, &mut adam, 1, ctx(), |cx| {
        assert_eq!(cx.replica(), 1);
        let w = cx.param("fc3.weight")?;
        let w2 = (w.ones_like()? * 0.25)?;
        cx.set_param("fc3.weight", &w2)?;
        // Reading back within the edit sees the staged value, not the model's.
        let back = cx.param("fc3.weight")?;
        // State and freezing are staged too.
        cx.set_optim_state(
            "fc3.weight",
            ParamState {
                m: w.ones_like()?,
                v: w.zeros_like()?,
                step: 4,
            },
        )?;
        assert_eq!(cx.optim_state("fc3.weight")?.unwrap().step, 4);
        assert!(!cx.is_frozen("fcs.0.bias"));
        cx.set_frozen("fcs.0.bias", true)?;
        assert!(cx.is_frozen("fcs.0.bias"));
        Ok(vals(&back))
    })
    .unwrap();
    assert!(seen.iter().all(|&x| x == 0.25));
    assert!(vals(&net.value("fc3.weight", 1).unwrap())
        .iter()
        .all(|&x| x == 0.25));
    for r in [0, 2] {
        assert_eq!(
            bits(&replica_weights(&net, r)),
            before[r],
            "replica {r} changed"
        );
        assert!(adam
            .state("fc3.weight", r)
            .unwrap()
            .is_some_and(|s| s.step == 0));
        assert!(!adam.is_frozen("fcs.0.bias", r));
    }
    // Everything else of replica 1 is unchanged.
    for ((n, a), (_, b)) in bits(&replica_weights(&net, 1)).iter().zip(&before[1]) {
        if n != "fc3.weight" {
            assert_eq!(a, b, "{n}");
        }
    }
    let st = adam.state("fc3.weight", 1).unwrap().unwrap();
    assert_eq!(st.step, 4);
    assert!(vals(&st.m).iter().all(|&x| x == 1.0));
    assert!(adam.is_frozen("fcs.0.bias", 1));

    // A failing edit commits nothing; unknown parameters and replicas are errors.
    let now = bits(&replica_weights(&net, 0));
    let e = edit_replica(&mut net, &mut adam, 0, ctx(), |cx| {
        let w = cx.param("fc3.weight")?;
        cx.set_param("fc3.weight", &w.zeros_like()?)?;
        Err::<(), _>(ModelError::Config("edit failed".into()))
    })
    .unwrap_err();
    assert!(e.to_string().contains("edit failed"));
    assert_eq!(bits(&replica_weights(&net, 0)), now);
    assert!(edit_replica(&mut net, &mut adam, 0, ctx(), |cx| cx.param("nope")).is_err());
    assert!(edit_replica(&mut net, &mut adam, 3, ctx(), |_| Ok(())).is_err());
    let mut one = Adam::new(AdamConfig::default(), 1).unwrap();
    assert!(edit_replica(&mut net, &mut one, 0, ctx(), |_| Ok(())).is_err());

    // Growing one replica alone is refused: replicas keep one shape.
    let e = edit_replica(&mut net, &mut adam, 2, ctx(), |cx| {
        let b = cx.param("fcs.1.bias")?;
        cx.set_param("fcs.1.bias", &Tensor::cat(&[&b, &b], 0)?)
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("one shape"), "{e}");
}

/// Adds one unit to hidden layer 0 at the end of each epoch, its incoming weights and bias
/// set to `value`, its outgoing weights 0.
struct GrowOne {
    value: f32,
}

impl Regularizer for GrowOne {
    fn name(&self) -> String {
        "grow-one".into()
    }
    fn on_step(&mut self, phase: Phase, cx: &mut StepCx) -> Result<()> {
        if phase != Phase::EndEpoch {
            return Ok(());
        }
        let (wi, b, wo) = cx.hidden_param_names(0)?;
        let w = cx.param(&wi)?;
        let row = (Tensor::ones((1, w.dim(1)?), DType::F32, cx.device())? * self.value as f64)?;
        cx.set_param(&wi, &Tensor::cat(&[&w, &row], 0)?)?;
        let bias = cx.param(&b)?;
        let one = (Tensor::ones(1, DType::F32, cx.device())? * self.value as f64)?;
        cx.set_param(&b, &Tensor::cat(&[&bias, &one], 0)?)?;
        let out = cx.param(&wo)?;
        let col = Tensor::zeros((out.dim(0)?, 1), DType::F32, cx.device())?;
        cx.set_param(&wo, &Tensor::cat(&[&out, &col], 1)?)?;
        assert_eq!(cx.hidden_width(0)?, w.dim(0)? + 1);
        Ok(())
    }
}

#[test]
fn growth_through_step_hooks_reaches_every_replica() {
    let dev = Device::Cpu;
    let mut net = Cnn::from_seeds(&small(), &[0, 1, 2], &dev).unwrap();
    let before: Vec<Tensor> = (0..3)
        .map(|r| net.value("fcs.0.weight", r).unwrap())
        .collect();
    let mut regs: Vec<GrowOne> = (0..3)
        .map(|r| GrowOne {
            value: r as f32 + 1.0,
        })
        .collect();
    {
        let mut t = Trainer::new(&mut net, AdamConfig::default(), &mut regs).unwrap();
        t.phase(Phase::EndEpoch, ctx()).unwrap();
        t.phase(Phase::EndEpoch, ctx()).unwrap();
        assert!(t.live().iter().all(|&l| l));
    }
    assert_eq!(net.config().hidden_sizes, vec![8, 6, 6]);
    net.check_shapes().unwrap();
    assert_eq!(net.param("fcs.0.weight").unwrap().dims(), &[3, 8, 576]);
    assert_eq!(net.param("fcs.1.weight").unwrap().dims(), &[3, 6, 8]);
    for (r, old) in before.iter().enumerate() {
        let w = net.value("fcs.0.weight", r).unwrap();
        assert_eq!(vals(&w.narrow(0, 0, 6).unwrap()), vals(old), "replica {r}");
        assert!(vals(&w.narrow(0, 6, 2).unwrap())
            .iter()
            .all(|&x| x == r as f32 + 1.0));
        let b = vals(&net.value("fcs.0.bias", r).unwrap());
        assert_eq!(&b[6..], &[r as f32 + 1.0; 2]);
        let out = net.value("fcs.1.weight", r).unwrap();
        assert!(vals(&out.i((.., 6..)).unwrap()).iter().all(|&x| x == 0.0));
    }
    // The grown model still runs.
    let x = Tensor::zeros((3, 2, 1, 28, 28), DType::F32, &dev).unwrap();
    assert_eq!(net.predict(&x).unwrap().dims(), &[3, 2, 10]);
}

/// The gradient of `sum(c ⊙ fc3.weight)` for every replica: `c` (different per replica).
fn grads_of(net: &Cnn) -> candle_core::backprop::GradStore {
    let var = net.param("fc3.weight").unwrap();
    let c = Tensor::arange(0f32, var.elem_count() as f32, &Device::Cpu)
        .unwrap()
        .reshape(var.shape())
        .unwrap()
        .affine(1e-3, -0.5)
        .unwrap();
    (var.as_tensor() * c)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap()
}

#[test]
fn adam_state_and_freezing_are_per_replica() {
    let dev = Device::Cpu;
    let net = Cnn::from_seeds(&small(), &[0, 1, 2], &dev).unwrap();
    let mut adam = Adam::new(AdamConfig::default(), 3).unwrap();
    assert_eq!(adam.replicas(), 3);
    assert!(adam.state("fc3.weight", 0).unwrap().is_none());
    assert!(adam.state("fc3.weight", 3).is_err());
    adam.step(net.named_params(), &grads_of(&net), &[true; 3])
        .unwrap();
    for r in 0..3 {
        let st = adam.state("fc3.weight", r).unwrap().unwrap();
        assert_eq!(st.step, 1);
        assert_eq!(st.m.dims(), &[10, 6]);
    }
    assert_eq!(adam.state_names(), vec!["fc3.weight".to_string()]);

    // Replica 0 of the stacked optimiser updates exactly as an optimiser of its own.
    let single = net.replica(0).unwrap();
    let alone = Cnn::from_seeds(&small(), &[0], &dev).unwrap();
    let mut one = Adam::new(AdamConfig::default(), 1).unwrap();
    one.step(alone.named_params(), &grads_of(&alone), &[true])
        .unwrap();
    assert_eq!(
        bits(&replica_weights(&single, 0)),
        bits(&replica_weights(&alone, 0))
    );

    // Freezing replica 1 and stopping replica 2 leave them untouched; replica 0 goes on.
    adam.set_frozen("fc3.weight", 1, true).unwrap();
    assert!(adam.is_frozen("fc3.weight", 1) && !adam.is_frozen("fc3.weight", 0));
    let w = |r| vals(&net.value("fc3.weight", r).unwrap());
    let (w0, w1, w2) = (w(0), w(1), w(2));
    adam.step(net.named_params(), &grads_of(&net), &[true, true, false])
        .unwrap();
    assert_ne!(w(0), w0);
    assert_eq!(w(1), w1);
    assert_eq!(w(2), w2);
    let steps: Vec<u64> = (0..3)
        .map(|r| adam.state("fc3.weight", r).unwrap().unwrap().step)
        .collect();
    assert_eq!(steps, vec![2, 1, 1]);
    adam.set_frozen("fc3.weight", 1, false).unwrap();
    adam.step(net.named_params(), &grads_of(&net), &[true; 3])
        .unwrap();
    assert_ne!(w(1), w1);
    assert!(adam.set_frozen("fc3.weight", 3, true).is_err());

    // set_state replaces one replica's state only.
    let m1 = vals(&adam.state("fc3.weight", 1).unwrap().unwrap().m);
    let zeros = Tensor::zeros((10, 6), DType::F32, &dev).unwrap();
    adam.set_state(
        "fc3.weight",
        2,
        ParamState {
            m: zeros.clone(),
            v: zeros.ones_like().unwrap(),
            step: 7,
        },
    )
    .unwrap();
    let st = adam.state("fc3.weight", 2).unwrap().unwrap();
    assert_eq!(st.step, 7);
    assert!(vals(&st.m).iter().all(|&x| x == 0.0));
    assert!(vals(&st.v).iter().all(|&x| x == 1.0));
    assert_eq!(vals(&adam.state("fc3.weight", 1).unwrap().unwrap().m), m1);
    let e = adam
        .set_state(
            "fc3.weight",
            0,
            ParamState {
                m: Tensor::zeros((10, 7), DType::F32, &dev).unwrap(),
                v: Tensor::zeros((10, 7), DType::F32, &dev).unwrap(),
                step: 1,
            },
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("one shape"), "{e}");
    // State for a parameter without any: the other replicas start from zeros.
    adam.set_state(
        "fcs.0.bias",
        1,
        ParamState {
            m: Tensor::ones(6, DType::F32, &dev).unwrap(),
            v: Tensor::ones(6, DType::F32, &dev).unwrap(),
            step: 3,
        },
    )
    .unwrap();
    let st0 = adam.state("fcs.0.bias", 0).unwrap().unwrap();
    assert_eq!(st0.step, 0);
    assert!(vals(&st0.m).iter().all(|&x| x == 0.0));
}

#[test]
fn check_finite_weights_names_the_parameter_and_the_replica() {
    let dev = Device::Cpu;
    let mut net = Cnn::from_seeds(&small(), &[0, 1, 2], &dev).unwrap();
    assert!(check_finite_weights(&net, 0, 0)
        .unwrap()
        .iter()
        .all(Option::is_none));
    // Replica 2: one infinite bias; replica 1: a NaN in a convolution.
    let mut b = vals(net.param("fcs.1.bias").unwrap().as_tensor());
    b[2 * 6 + 3] = f32::INFINITY;
    net.set_param("fcs.1.bias", &Tensor::from_vec(b, (3, 6), &dev).unwrap())
        .unwrap();
    let mut c = vals(net.param("conv2.weight").unwrap().as_tensor());
    let per = c.len() / 3;
    c[per + 5] = f32::NAN;
    let shape = net.param("conv2.weight").unwrap().shape().clone();
    net.set_param("conv2.weight", &Tensor::from_vec(c, shape, &dev).unwrap())
        .unwrap();
    let found = check_finite_weights(&net, 4, 17).unwrap();
    assert_eq!(found.len(), 3);
    assert!(found[0].is_none());
    for (r, name) in [(1, "conv2.weight"), (2, "fcs.1.bias")] {
        match &found[r] {
            Some(ModelError::Diverged { epoch, step, what }) => {
                assert_eq!((*epoch, *step), (4, 17));
                assert!(what.contains(name), "replica {r}: {what}");
            }
            other => panic!("replica {r}: {other:?}"),
        }
    }
}
