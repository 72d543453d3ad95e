//! Replica training mechanics: the device-independent batched convolution against the CPU
//! kernel, one replica's divergence leaving the others untouched, loss terms, bad input.
//! (Equivalence with separate runs under every regulariser, on real data, is tested in the
//! regularizers crate, `tests/replica.rs`.)
mod common;

use candle_core::{Device, IndexOp, Tensor, Var};
use common::{max_diff, toy_split};
use neurogen_data::ImageShape;
use neurogen_model::replica::batched_conv_bias_relu;
use neurogen_model::{
    kernels, train, train_replicas, Cnn, ForwardCtx, ModelConfig, ModelError, NoRegularizer,
    Regularizer, ReplicaCnn, Result, Silent, StepCtx, TrainConfig,
};

#[test]
fn batched_conv_matches_the_kernel_per_replica_with_gradients() {
    let dev = Device::Cpu;
    for (k, n, ci, co, h, w) in [(3, 2, 3, 4, 8, 8), (2, 1, 2, 5, 5, 7), (1, 3, 4, 4, 3, 3)] {
        let x =
            Var::from_tensor(&Tensor::randn(0f32, 1.0, (k, n, ci, h, w), &dev).unwrap()).unwrap();
        let wt =
            Var::from_tensor(&Tensor::randn(0f32, 0.3, (k, co, ci, 3, 3), &dev).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::randn(0f32, 0.1, (k, co), &dev).unwrap()).unwrap();
        let y = batched_conv_bias_relu(x.as_tensor(), wt.as_tensor(), b.as_tensor(), 1).unwrap();
        assert_eq!(y.dims(), &[k, n, co, h, w]);
        let per: Vec<Tensor> = (0..k)
            .map(|r| {
                kernels::conv2d_bias_relu(
                    &x.as_tensor().i(r).unwrap(),
                    &wt.as_tensor().i(r).unwrap(),
                    &b.as_tensor().i(r).unwrap(),
                    1,
                )
                .unwrap()
            })
            .collect();
        let y2 = Tensor::stack(&per, 0).unwrap();
        assert!(max_diff(&y, &y2) < 1e-5, "forward differs");
        // Gradients of a weighted sum through both.
        let weights = Tensor::randn(0f32, 1.0, y.dims(), &dev).unwrap();
        let g1 = (&y * &weights)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let g2 = (&y2 * &weights)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for v in [&x, &wt, &b] {
            let (a, c) = (
                g1.get(v.as_tensor()).unwrap(),
                g2.get(v.as_tensor()).unwrap(),
            );
            assert!(
                max_diff(a, c) < 1e-4,
                "gradient differs: {}",
                max_diff(a, c)
            );
        }
    }
}

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

#[test]
fn replica_forward_splits_back_into_the_networks() {
    let (mc, split) = toy_setup();
    let models: Vec<Cnn> = (0..3)
        .map(|s| Cnn::new(&mc, s, &Device::Cpu).unwrap())
        .collect();
    let net = ReplicaCnn::stack(&models).unwrap();
    let idx: Vec<usize> = (0..5).collect();
    let (x, _) = split.batch(&idx, &Device::Cpu).unwrap();
    let xs = Tensor::stack(&[&x, &x, &x], 0).unwrap();
    let out = net
        .forward(&xs, &mut [NoRegularizer; 3], &ForwardCtx::eval())
        .unwrap();
    for (r, m) in models.iter().enumerate() {
        let single = m.predict(&x).unwrap();
        assert!(
            max_diff(&out.logits.i(r).unwrap(), &single) < 1e-5,
            "replica {r}"
        );
    }
    let e = net
        .forward(&x, &mut [NoRegularizer; 3], &ForwardCtx::eval())
        .unwrap_err()
        .to_string();
    assert!(e.contains("[3, batch, 1, 28, 28]"), "{e}");
    assert!(net
        .forward(&xs, &mut [NoRegularizer; 2], &ForwardCtx::eval())
        .is_err());
}

#[test]
fn a_diverging_replica_stops_alone() {
    let (mc, split) = toy_setup();
    let good = Cnn::new(&mc, 1, &Device::Cpu).unwrap();
    let mut bad = Cnn::new(&mc, 2, &Device::Cpu).unwrap();
    let w = bad.param("fc3.weight").unwrap().as_tensor().clone();
    let nan = (w.ones_like().unwrap() * f64::NAN).unwrap();
    bad.set_param("fc3.weight", &nan).unwrap();

    let mut alone = Cnn::new(&mc, 1, &Device::Cpu).unwrap();
    let (m_alone, _) = train(
        &mut alone,
        &split,
        Some(("test", &split)),
        &cfg(1),
        &mut NoRegularizer,
        &mut Silent,
    )
    .unwrap();
    let runs = train_replicas(
        vec![good, bad],
        &split,
        Some(("test", &split)),
        &[cfg(1), cfg(2)],
        &mut [NoRegularizer, NoRegularizer],
        &mut Silent,
    )
    .unwrap();
    match &runs[1].result {
        Err(ModelError::Diverged { step, what, .. }) => {
            assert_eq!(*step, 0);
            assert!(what.contains("loss"), "{what}");
        }
        other => panic!("replica 1 should have diverged: {other:?}"),
    }
    let (m0, _) = runs[0].result.as_ref().unwrap();
    assert_eq!(m0.steps, m_alone.steps);
    for ((n, a), (_, b)) in runs[0]
        .model
        .named_params()
        .iter()
        .zip(alone.named_params())
    {
        assert!(max_diff(a.as_tensor(), b.as_tensor()) < 1e-5, "{n}");
    }
}

/// An activity penalty (a loss term from the activations the forward hook saw).
struct ActivityPenalty(Option<Tensor>);

impl Regularizer for ActivityPenalty {
    fn name(&self) -> String {
        "activity".into()
    }
    fn activation(&mut self, layer: usize, a: Tensor, ctx: &ForwardCtx) -> Result<Tensor> {
        if ctx.train && layer == 1 {
            self.0 = Some(a.clone());
        }
        Ok(a)
    }
    fn loss_term(&mut self, _m: &Cnn, _c: &StepCtx) -> Result<Option<Tensor>> {
        Ok(match self.0.take() {
            Some(a) => Some((a.abs()?.mean_all()? * 0.5)?),
            None => None,
        })
    }
}

/// A penalty on a parameter (not supported with replicas).
struct ParamPenalty;

impl Regularizer for ParamPenalty {
    fn name(&self) -> String {
        "param-l2".into()
    }
    fn loss_term(&mut self, m: &Cnn, _c: &StepCtx) -> Result<Option<Tensor>> {
        Ok(Some(m.param("fc3.weight")?.as_tensor().sqr()?.sum_all()?))
    }
}

#[test]
fn activity_loss_terms_train_as_separate_runs_parameter_terms_are_refused() {
    let (mc, split) = toy_setup();
    let mut alone = Cnn::new(&mc, 3, &Device::Cpu).unwrap();
    let (ma, _) = train(
        &mut alone,
        &split,
        None,
        &cfg(3),
        &mut ActivityPenalty(None),
        &mut Silent,
    )
    .unwrap();
    let runs = train_replicas(
        vec![
            Cnn::new(&mc, 3, &Device::Cpu).unwrap(),
            Cnn::new(&mc, 4, &Device::Cpu).unwrap(),
        ],
        &split,
        None,
        &[cfg(3), cfg(4)],
        &mut [ActivityPenalty(None), ActivityPenalty(None)],
        &mut Silent,
    )
    .unwrap();
    let (mr, _) = runs[0].result.as_ref().unwrap();
    for (a, b) in mr.epochs.iter().zip(&ma.epochs) {
        assert!((a.train_loss - b.train_loss).abs() < 1e-5);
    }
    for ((n, a), (_, b)) in runs[0]
        .model
        .named_params()
        .iter()
        .zip(alone.named_params())
    {
        assert!(max_diff(a.as_tensor(), b.as_tensor()) < 1e-5, "{n}");
    }

    let e = train_replicas(
        vec![Cnn::new(&mc, 3, &Device::Cpu).unwrap()],
        &split,
        None,
        &[cfg(3)],
        &mut [ParamPenalty],
        &mut Silent,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("param-l2") && e.contains("parameters"), "{e}");
}

#[test]
fn replica_settings_must_agree() {
    let (mc, split) = toy_setup();
    let models = || {
        (0..2)
            .map(|s| Cnn::new(&mc, s, &Device::Cpu).unwrap())
            .collect::<Vec<_>>()
    };
    let mut other = cfg(1);
    other.batch_size = 8;
    let e = train_replicas(
        models(),
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
        models(),
        &split,
        None,
        &[cfg(0)],
        &mut [NoRegularizer; 2],
        &mut Silent,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("one config"), "{e}");
    let mut mixed = models();
    mixed[1] = Cnn::new(&mc.clone().with_hidden_width(8), 1, &Device::Cpu).unwrap();
    let e = ReplicaCnn::stack(&mixed).unwrap_err().to_string();
    assert!(e.contains("replica 1"), "{e}");
}
