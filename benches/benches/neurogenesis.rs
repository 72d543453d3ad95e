//! One neurogenesis event (the paper's default: 8 random units of `fcs.1` replaced, with their
//! Adam state reset) on the CIFAR-10 network after one real training step.
use candle_core::Device;
use criterion::{BatchSize, Criterion};
use neurogen_model::{
    cross_entropy, edit_replica, Adam, AdamConfig, Cnn, ForwardCtx, ModelConfig, ModelError,
    NoHooks, StepCtx,
};
use neurogen_regularizers::neurogenesis::{Neurogenesis, NeurogenesisConfig};
use rand::SeedableRng;

mod common;

fn bench(c: &mut Criterion) {
    let Some(train) = common::cifar10_train() else {
        return;
    };
    let dev = Device::Cpu;
    let model = Cnn::new(&ModelConfig::cifar10(), 0, &dev).unwrap();
    let mut opt = Adam::new(AdamConfig::default(), 1).unwrap();
    let (x, y) = train.batch(&[0, 1, 2, 3], &dev).unwrap();
    let out = model
        .forward(&x, &mut NoHooks, &ForwardCtx::train(0, 0))
        .unwrap();
    let loss = cross_entropy(&out.logits, &y.unsqueeze(0).unwrap()).unwrap();
    let grads = loss.sum_all().unwrap().backward().unwrap();
    opt.step(model.named_params(), &grads, &[true]).unwrap();
    let ctx = StepCtx {
        epoch: 0,
        batch: 0,
        step: 1,
        batches_per_epoch: 1,
    };
    let mut ng = Neurogenesis::new(
        NeurogenesisConfig::default(),
        false,
        rand_chacha::ChaCha8Rng::seed_from_u64(0),
    )
    .unwrap();
    c.bench_function("neurogenesis_event", |b| {
        b.iter_batched(
            // A copy with parameters of its own (a clone would share them).
            || {
                (
                    Cnn::stack(std::slice::from_ref(&model)).unwrap(),
                    opt.clone(),
                )
            },
            |(mut m, mut o)| {
                edit_replica(&mut m, &mut o, 0, ctx, |cx| {
                    ng.event(cx).map(|_| ()).map_err(ModelError::from)
                })
                .unwrap();
                (m, o)
            },
            BatchSize::SmallInput,
        )
    });
}

fn main() {
    neurogen_model::runtime::prefer_rayon_threads();
    neurogen_model::runtime::tune_allocator();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
