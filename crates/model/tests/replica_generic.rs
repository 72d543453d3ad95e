//! The device-independent path (what CUDA and Metal run: im2col convolutions for all replicas
//! at once, candle's pooling and tensor-op Adam) exercised on the CPU by switching the CPU
//! kernels off, against the kernel path and against separate networks. Its own test binary,
//! because `runtime::set_enabled` acts on the whole process.
mod common;

use candle_core::{Device, IndexOp, Tensor};
use common::{max_diff, toy_split};
use neurogen_data::{ImageShape, Split};
use neurogen_model::{
    cross_entropy, runtime, train, train_replicas, Cnn, ForwardCtx, ModelConfig, NoHooks,
    NoRegularizer, Silent, TrainConfig,
};

/// Logits `[K, B, C]` and each parameter's stacked gradient of the summed replica losses.
fn forward_and_grads(net: &Cnn, x: &Tensor, y: &Tensor) -> (Tensor, Vec<(String, Tensor)>) {
    let out = net
        .forward(x, &mut NoHooks, &ForwardCtx::train(0, 0))
        .unwrap();
    let losses = cross_entropy(&out.logits, y).unwrap();
    let grads = losses.sum_all().unwrap().backward().unwrap();
    let g = net
        .named_params()
        .into_iter()
        .map(|(n, v)| (n.to_string(), grads.get(v.as_tensor()).unwrap().clone()))
        .collect();
    (out.logits, g)
}

fn cfg(seed: u64) -> TrainConfig {
    TrainConfig {
        epochs: 1,
        batch_size: 4,
        seed,
        eval_train_at_end: false,
        ..TrainConfig::default()
    }
}

/// Two replicas trained together, and each seed alone.
fn train_both(mc: &ModelConfig, split: &Split) -> (Cnn, Vec<Cnn>) {
    let mut net = Cnn::from_seeds(mc, &[0, 1], &Device::Cpu).unwrap();
    let (runs, _) = train_replicas(
        &mut net,
        split,
        None,
        &[cfg(0), cfg(1)],
        &mut [NoRegularizer; 2],
        &mut Silent,
    )
    .unwrap();
    assert!(runs.iter().all(Result::is_ok));
    let alone = (0..2)
        .map(|s| {
            let mut m = Cnn::new(mc, s, &Device::Cpu).unwrap();
            train(
                &mut m,
                split,
                None,
                &cfg(s),
                &mut NoRegularizer,
                &mut Silent,
            )
            .unwrap();
            m
        })
        .collect();
    (net, alone)
}

#[test]
fn generic_path_matches_separate_networks_and_the_kernel_path() {
    let shape = ImageShape {
        channels: 3,
        height: 32,
        width: 32,
    };
    let split = toy_split(24, shape, 10);
    let mc = ModelConfig::cifar10().with_hidden_width(12);
    let net = Cnn::from_seeds(&mc, &[0, 1, 2], &Device::Cpu).unwrap();
    let idx: Vec<usize> = (0..3).collect();
    let (x, y) = split.batch(&idx, &Device::Cpu).unwrap();
    let xs = Tensor::stack(&[&x, &x, &x], 0).unwrap();
    let ys = Tensor::stack(&[&y, &y, &y], 0).unwrap();

    // The kernel path first, then everything again with the kernels off.
    assert!(runtime::enabled());
    let (kernel_logits, kernel_grads) = forward_and_grads(&net, &xs, &ys);
    let (kernel_net, _) = train_both(&mc, &split);
    runtime::set_enabled(false);
    assert!(!runtime::enabled());

    // Forward and gradients of the whole model against each network alone.
    let (logits, grads) = forward_and_grads(&net, &xs, &ys);
    for r in 0..3 {
        let single = net.replica(r).unwrap();
        let (sl, sg) = forward_and_grads(&single, &x, &y.unsqueeze(0).unwrap());
        assert!(max_diff(&logits.i(r).unwrap(), &sl.i(0).unwrap()) < 1e-5);
        for ((name, stacked), (_, one)) in grads.iter().zip(&sg) {
            let d = max_diff(&stacked.i(r).unwrap(), &one.i(0).unwrap());
            assert!(d < 1e-5, "replica {r} {name}: gradient differs by {d}");
        }
    }
    // ... and against the kernel path.
    let d = max_diff(&logits, &kernel_logits);
    assert!(d < 1e-5, "logits differ from the kernel path by {d}");
    for ((name, a), (_, b)) in grads.iter().zip(&kernel_grads) {
        let d = max_diff(a, b);
        assert!(
            d < 1e-5,
            "{name}: gradient differs from the kernel path by {d}"
        );
    }

    // A short training run: replicas (tensor-op Adam on stacked tensors) vs separate runs, and
    // vs the same run with the kernels on.
    let (together, alone) = train_both(&mc, &split);
    for (r, alone) in alone.iter().enumerate() {
        for (n, _) in alone.named_params() {
            let a = together.value(n, r).unwrap();
            let d = max_diff(&a, &alone.value(n, 0).unwrap());
            assert!(d < 1e-5, "replica {r} {n}: weights differ by {d}");
            let d = max_diff(&a, &kernel_net.value(n, r).unwrap());
            assert!(
                d < 1e-4,
                "replica {r} {n}: weights differ from the kernel path by {d}"
            );
        }
    }
}
