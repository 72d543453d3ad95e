//! Helpers shared by the regularisers' tests.
#![allow(dead_code)]
use std::sync::OnceLock;

use candle_core::{DType, Device, Tensor};
use neurogen_data::{LoadOptions, Split};
use neurogen_model::hooks::apply_all;
use neurogen_model::{
    edit_replica, Adam, AdamConfig, Cnn, ForwardCtx, HookSite, LayerInfo, LayerKind, ModelConfig,
    ParamState, Phase, Point, Regularizer, StepCtx,
};
use neurogen_regularizers::{Neurogenesis, NeurogenesisEvent, RegError};
use rand::SeedableRng;

/// A Fashion-MNIST-shaped network with hidden width `width`.
pub fn model(width: usize, seed: u64) -> Cnn {
    Cnn::new(
        &ModelConfig::fashion_mnist().with_hidden_width(width),
        seed,
        &Device::Cpu,
    )
    .unwrap()
}

/// An optimiser whose every parameter has non-zero, distinct moments (as after training).
pub fn adam_with_state(model: &Cnn, seed: u64) -> Adam {
    let mut adam = Adam::new(AdamConfig::default(), 1).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for (name, v) in model.named_params() {
        let dims = &v.dims()[1..];
        let mut st = |s: f64| {
            (neurogen_model::init::uniform(&mut rng, dims, 1.0, DType::F32, &Device::Cpu)
                .unwrap()
                .abs()
                .unwrap()
                + s)
                .unwrap()
        };
        let m = st(0.01);
        let w = st(0.02);
        adam.set_state(name, 0, ParamState { m, v: w, step: 17 })
            .unwrap();
    }
    adam
}

/// A tensor's values as f32.
pub fn vals(t: &Tensor) -> Vec<f32> {
    t.to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// Every parameter's values of replica 0 (a single network), by name.
pub fn params(model: &Cnn) -> Vec<(String, Vec<f32>)> {
    params_of(model, 0)
}

/// Every parameter's values of replica `r`, by name.
pub fn params_of(model: &Cnn, r: usize) -> Vec<(String, Vec<f32>)> {
    model
        .named_params()
        .into_iter()
        .map(|(n, _)| (n.to_string(), vals(&model.value(n, r).unwrap())))
        .collect()
}

/// Replica 0's value of parameter `name`.
pub fn value(model: &Cnn, name: &str) -> Tensor {
    model.value(name, 0).unwrap()
}

/// A step context with 10 minibatches per epoch.
pub fn ctx(epoch: usize, batch: usize, step: usize) -> StepCtx {
    StepCtx {
        epoch,
        batch,
        step,
        batches_per_epoch: 10,
    }
}

/// One neurogenesis event now on a single network (`step`, `epoch` are only recorded).
pub fn event(
    ng: &mut Neurogenesis,
    m: &mut Cnn,
    adam: &mut Adam,
    step: usize,
    epoch: usize,
) -> Result<NeurogenesisEvent, RegError> {
    let mut out = None;
    edit_replica(m, adam, 0, ctx(epoch, 0, step), |cx| {
        out = Some(ng.event(cx).cloned());
        Ok(())
    })
    .unwrap();
    out.unwrap()
}

/// The [`Phase::Start`] hook of `reg` on a single network (its settings check), as a message.
pub fn start<R: Regularizer>(reg: &mut R, m: &mut Cnn, adam: &mut Adam) -> Result<(), String> {
    edit_replica(m, adam, 0, ctx(0, 0, 0), |cx| reg.on_step(Phase::Start, cx))
        .map_err(|e| e.to_string())
}

/// Drives the step hooks of `reg` on a single network as the loop does, without data:
/// `epochs` epochs of `batches` minibatches, each [`Phase::BeforeBatch`] at the step about
/// to be taken, then [`Phase::AfterStep`] at the step just taken.
pub fn drive<R: Regularizer>(
    reg: &mut R,
    m: &mut Cnn,
    adam: &mut Adam,
    epochs: usize,
    batches: usize,
) {
    let mut step = 0;
    for epoch in 0..epochs {
        for batch in 0..batches {
            let c = StepCtx {
                epoch,
                batch,
                step,
                batches_per_epoch: batches,
            };
            edit_replica(m, adam, 0, c, |cx| reg.on_step(Phase::BeforeBatch, cx)).unwrap();
            step += 1;
            let c = StepCtx { step, ..c };
            edit_replica(m, adam, 0, c, |cx| reg.on_step(Phase::AfterStep, cx)).unwrap();
        }
    }
}

/// Real Fashion-MNIST (train, test) subsets, loaded once per test binary; `None` (after a
/// visible SKIP message) when the dataset is not installed, a failure then with
/// `NEUROGEN_REQUIRE_DATA=1`.
pub fn fashion(n_train: usize, n_test: usize) -> Option<(Split, Split)> {
    static DATA: OnceLock<Option<neurogen_data::Dataset>> = OnceLock::new();
    let data = DATA.get_or_init(|| {
        let dir = neurogen_data::fashion_mnist_dir()?;
        Some(
            neurogen_data::load(&dir, &LoadOptions::no_cache())
                .unwrap()
                .dataset,
        )
    });
    match data {
        None => {
            neurogen_testkit::data::skip(
                "Fashion-MNIST not installed (apt-get install -y dataset-fashion-mnist)",
            );
            None
        }
        Some(d) => Some((
            d.train.sample(n_train, 1).unwrap(),
            d.test.sample(n_test, 2).unwrap(),
        )),
    }
}

/// The forward hook of `reg` at `point` of hidden layer `layer`, applied to `x` (`[batch,
/// width]`) as the network applies it.
pub fn hooked<R: Regularizer>(
    reg: &mut R,
    layer: usize,
    point: Point,
    x: &Tensor,
    ctx: &ForwardCtx,
) -> Tensor {
    let (batch, width) = x.dims2().unwrap();
    let site = HookSite {
        layer: LayerInfo {
            index: layer,
            kind: LayerKind::Hidden,
            width,
        },
        point,
        batch,
        ctx: *ctx,
    };
    let steps = reg.hook(&site).unwrap();
    apply_all(&x.unsqueeze(0).unwrap(), &[steps])
        .unwrap()
        .squeeze(0)
        .unwrap()
}

/// [`hooked`] at the activations.
pub fn activation<R: Regularizer>(
    reg: &mut R,
    layer: usize,
    x: &Tensor,
    ctx: &ForwardCtx,
) -> Tensor {
    hooked(reg, layer, Point::Activation, x, ctx)
}

/// [`hooked`] at the pre-activations.
pub fn pre_activation<R: Regularizer>(
    reg: &mut R,
    layer: usize,
    x: &Tensor,
    ctx: &ForwardCtx,
) -> Tensor {
    hooked(reg, layer, Point::PreActivation, x, ctx)
}
