//! The device-independent replica path (what CUDA and Metal run: batched im2col convolutions,
//! candle's pooling and Adam) exercised on the CPU by switching the CPU kernels off. Its own
//! test binary, because `kernels::set_enabled` acts on the whole process.
mod common;

use candle_core::{Device, IndexOp, Tensor};
use common::{max_diff, toy_split};
use neurogen_data::ImageShape;
use neurogen_model::{
    kernels, train, train_replicas, Cnn, ForwardCtx, ModelConfig, NoRegularizer, ReplicaCnn,
    Silent, TrainConfig,
};

#[test]
fn generic_replica_path_matches_separate_networks() {
    kernels::set_enabled(false);
    let shape = ImageShape {
        channels: 3,
        height: 32,
        width: 32,
    };
    let split = toy_split(24, shape, 10);
    let mc = ModelConfig::cifar10().with_hidden_width(12);

    // Forward and gradients of the whole network against each network alone.
    let models: Vec<Cnn> = (0..3)
        .map(|s| Cnn::new(&mc, s, &Device::Cpu).unwrap())
        .collect();
    let net = ReplicaCnn::stack(&models).unwrap();
    let idx: Vec<usize> = (0..3).collect();
    let (x, y) = split.batch(&idx, &Device::Cpu).unwrap();
    let xs = Tensor::stack(&[&x, &x, &x], 0).unwrap();
    let out = net
        .forward(&xs, &mut [NoRegularizer; 3], &ForwardCtx::train(0, 0))
        .unwrap();
    let ys = Tensor::stack(&[&y, &y, &y], 0).unwrap();
    let losses = neurogen_model::replica::replica_losses(&out.logits, &ys).unwrap();
    let grads = losses.sum_all().unwrap().backward().unwrap();
    for (r, m) in models.iter().enumerate() {
        let single = m
            .forward(&x, &mut NoRegularizer, &ForwardCtx::train(0, 0))
            .unwrap();
        assert!(max_diff(&out.logits.i(r).unwrap(), &single.logits) < 1e-5);
        let loss = candle_nn::loss::cross_entropy(&single.logits, &y).unwrap();
        let g1 = loss.backward().unwrap();
        for (name, v) in m.named_params() {
            let stacked = grads.get(net.param(&name).unwrap().as_tensor()).unwrap();
            let d = max_diff(&stacked.i(r).unwrap(), g1.get(v.as_tensor()).unwrap());
            assert!(d < 1e-5, "replica {r} {name}: gradient differs by {d}");
        }
    }

    // A short training run: replicas (tensor-op Adam on stacked tensors) vs separate runs.
    let cfg = |seed| TrainConfig {
        epochs: 1,
        batch_size: 4,
        seed,
        eval_train_at_end: false,
        ..TrainConfig::default()
    };
    let runs = train_replicas(
        (0..2)
            .map(|s| Cnn::new(&mc, s, &Device::Cpu).unwrap())
            .collect(),
        &split,
        None,
        &[cfg(0), cfg(1)],
        &mut [NoRegularizer; 2],
        &mut Silent,
    )
    .unwrap();
    for (r, run) in runs.iter().enumerate() {
        let mut alone = Cnn::new(&mc, r as u64, &Device::Cpu).unwrap();
        train(
            &mut alone,
            &split,
            None,
            &cfg(r as u64),
            &mut NoRegularizer,
            &mut Silent,
        )
        .unwrap();
        for ((n, a), (_, b)) in run.model.named_params().iter().zip(alone.named_params()) {
            let d = max_diff(a.as_tensor(), b.as_tensor());
            assert!(d < 1e-5, "replica {r} {n}: weights differ by {d}");
        }
    }
}
