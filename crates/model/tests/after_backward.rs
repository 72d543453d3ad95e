//! `Phase::AfterBackward`: a step hook reads and replaces its replica's gradients between the
//! backward pass and Adam. A zeroed gradient leaves its parameter where it was; a gradient
//! replaced by `g'` gives the step of a loss whose gradient is `g'`; replicas that edit their
//! gradients (or fail while doing so) train exactly as their own runs; and gradients exist in
//! no other phase.
mod common;

use candle_core::{DType, Device, Tensor};
use common::{assert_replica_equals_separate_run, replica_weights, toy_split};
use neurogen_data::ImageShape;
use neurogen_model::{
    AdamConfig, Cnn, LossCx, ModelConfig, ModelError, NoRegularizer, Phase, Regularizer, Result,
    StepCtx, StepCx, TrainConfig, Trainer,
};

/// A small MLP and its inputs `[1, batch, 1, 1, 6]`.
fn mlp() -> Cnn {
    Cnn::new(&ModelConfig::mlp(6, &[8], 3), 3, &Device::Cpu).unwrap()
}

fn batch(step: usize) -> (Tensor, Tensor) {
    let x: Vec<f32> = (0..4 * 6)
        .map(|i| ((i * 7 + step * 5) % 11) as f32 / 11.0 - 0.4)
        .collect();
    let y: Vec<u32> = (0..4).map(|i| ((i + step) % 3) as u32).collect();
    (
        Tensor::from_vec(x, (1, 4, 1, 1, 6), &Device::Cpu).unwrap(),
        Tensor::from_vec(y, (1, 4), &Device::Cpu).unwrap(),
    )
}

fn ctx(step: usize) -> StepCtx {
    StepCtx {
        epoch: 0,
        batch: step,
        step,
        batches_per_epoch: 0,
    }
}

/// Trains `net` (K = 1) for `steps` steps with `reg`, as the one loop does.
fn train_steps<R: Regularizer>(net: &mut Cnn, reg: R, steps: usize) -> R {
    let mut regs = [reg];
    {
        let mut t = Trainer::new(net, AdamConfig::default(), &mut regs).unwrap();
        for s in 0..steps {
            let (x, y) = batch(s);
            let losses = t.step(&x, &y, ctx(s)).unwrap();
            assert!(losses[0].1, "step {s}: {:?}", t.failures());
        }
    }
    let [reg] = regs;
    reg
}

fn bits(net: &Cnn) -> Vec<(String, Vec<u32>)> {
    replica_weights(net, 0)
        .into_iter()
        .map(|(n, v)| (n, v.iter().map(|x| x.to_bits()).collect()))
        .collect()
}

/// Zeroes the gradient of `name` and counts the phases with gradients.
struct ZeroGrad {
    name: &'static str,
    seen: usize,
}

impl Regularizer for ZeroGrad {
    fn name(&self) -> String {
        "zero-grad".into()
    }
    fn on_step(&mut self, phase: Phase, cx: &mut StepCx) -> Result<()> {
        if phase != Phase::AfterBackward {
            assert!(!cx.has_grads());
            let e = cx.grad(self.name).unwrap_err().to_string();
            assert!(e.contains("outside Phase::AfterBackward"), "{e}");
            return Ok(());
        }
        self.seen += 1;
        let g = cx.grad(self.name)?.expect("the parameter has a gradient");
        assert!(g.abs()?.sum_all()?.to_scalar::<f32>()? > 0.0);
        cx.set_grad(self.name, &g.zeros_like()?)?;
        // The replica reads back what it staged.
        let again = cx.grad(self.name)?.unwrap();
        assert_eq!(again.abs()?.sum_all()?.to_scalar::<f32>()?, 0.0);
        Ok(())
    }
}

#[test]
fn a_zeroed_gradient_leaves_its_parameter_unchanged() {
    let mut net = mlp();
    let before = bits(&net);
    let reg = train_steps(
        &mut net,
        ZeroGrad {
            name: "fcs.0.weight",
            seen: 0,
        },
        4,
    );
    assert_eq!(reg.seen, 4);
    let after = bits(&net);
    for ((name, a), (_, b)) in before.iter().zip(&after) {
        if name == "fcs.0.weight" {
            assert_eq!(a, b, "{name} moved although its gradient was zero");
        } else {
            assert_ne!(a, b, "{name} did not train");
        }
    }
}

/// Replaces the gradient `g` of `name` with `g + λ·w` (`w` the parameter).
struct AddDecay {
    name: &'static str,
    lambda: f64,
}

impl Regularizer for AddDecay {
    fn name(&self) -> String {
        "add-decay".into()
    }
    fn on_step(&mut self, phase: Phase, cx: &mut StepCx) -> Result<()> {
        if phase == Phase::AfterBackward {
            let g = cx.grad(self.name)?.unwrap();
            let w = cx.param(self.name)?;
            cx.set_grad(self.name, &(g + (w * self.lambda)?)?)?;
        }
        Ok(())
    }
}

/// The loss term `λ/2 · Σ w²` of `name`, whose gradient is `λ·w`.
struct DecayTerm {
    name: &'static str,
    lambda: f64,
}

impl Regularizer for DecayTerm {
    fn name(&self) -> String {
        "decay-term".into()
    }
    fn loss_term(&mut self, cx: &LossCx) -> Result<Option<Tensor>> {
        let w = cx.param(self.name)?;
        Ok(Some((w.sqr()?.sum_all()? * (self.lambda / 2.0))?))
    }
}

#[test]
fn a_replaced_gradient_steps_as_a_loss_with_that_gradient() {
    // λ a power of two, so `λ·w` is computed exactly on both sides.
    let (name, lambda) = ("fcs.0.weight", 0.5);
    let mut replaced = mlp();
    train_steps(&mut replaced, AddDecay { name, lambda }, 5);
    let mut by_loss = mlp();
    train_steps(&mut by_loss, DecayTerm { name, lambda }, 5);
    let mut plain = mlp();
    train_steps(&mut plain, NoRegularizer, 5);
    assert_eq!(bits(&replaced), bits(&by_loss));
    assert_ne!(bits(&replaced), bits(&plain));
}

/// A sign projection in replica 1 (seed 1), a failing gradient hook in replica 2 (seed 2) at
/// step 3, nothing in the others.
struct BySeed {
    seed: u64,
}

impl Regularizer for BySeed {
    fn name(&self) -> String {
        format!("by-seed-{}", self.seed)
    }
    fn on_step(&mut self, phase: Phase, cx: &mut StepCx) -> Result<()> {
        if phase != Phase::AfterBackward {
            return Ok(());
        }
        match self.seed {
            1 => {
                for name in cx.param_names() {
                    if let Some(g) = cx.grad(&name)? {
                        cx.set_grad(&name, &g.sign()?)?;
                    }
                }
            }
            2 if cx.ctx.step == 3 => {
                return Err(ModelError::Config("gradient hook fails at step 3".into()))
            }
            _ => {}
        }
        Ok(())
    }
}

#[test]
fn replicas_edit_their_own_gradients_only() {
    let shape = ImageShape {
        channels: 1,
        height: 28,
        width: 28,
    };
    let split = toy_split(24, shape, 10);
    let (_, runs) = assert_replica_equals_separate_run(
        &ModelConfig::fashion_mnist().with_hidden_width(6),
        &split,
        None,
        &[0, 1, 2, 3],
        |seed| TrainConfig {
            epochs: 1,
            batch_size: 4,
            seed,
            eval_train_at_end: false,
            eval_every_epoch: false,
            ..TrainConfig::default()
        },
        |seed| BySeed { seed },
        |_, _| {},
    );
    assert!(runs[0].is_ok() && runs[1].is_ok() && runs[3].is_ok());
    let e = runs[2].as_ref().unwrap_err().to_string();
    assert!(e.contains("gradient hook fails at step 3"), "{e}");
}

#[test]
fn gradients_are_checked_and_exist_only_in_their_phase() {
    struct BadShape;
    impl Regularizer for BadShape {
        fn name(&self) -> String {
            "bad-shape".into()
        }
        fn on_step(&mut self, phase: Phase, cx: &mut StepCx) -> Result<()> {
            if phase == Phase::AfterBackward {
                let e = cx
                    .set_grad("fcs.0.bias", &Tensor::zeros(3, DType::F32, cx.device())?)
                    .unwrap_err()
                    .to_string();
                assert!(e.contains("[8]") && e.contains("[3]"), "{e}");
                let b = cx.param("fcs.0.bias")?;
                let e = cx
                    .set_param("fcs.0.bias", &Tensor::cat(&[&b, &b], 0)?)
                    .unwrap_err()
                    .to_string();
                assert!(e.contains("cannot change shape"), "{e}");
                assert!(cx.grad("no.such.weight").is_err());
            }
            Ok(())
        }
    }
    let mut net = mlp();
    let mut regs = [BadShape];
    let mut t = Trainer::new(&mut net, AdamConfig::default(), &mut regs).unwrap();
    let (x, y) = batch(0);
    assert!(t.step(&x, &y, ctx(0)).unwrap()[0].1);
    assert!(t.failures()[0].is_none());
    let e = t
        .phase(Phase::AfterBackward, ctx(1))
        .unwrap_err()
        .to_string();
    assert!(e.contains("inside a training step"), "{e}");
}
