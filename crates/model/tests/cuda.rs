//! The CUDA kernels and the GPU training path against the CPU (feature `cuda`; each test skips
//! with a message when no GPU is present). Run on a GPU machine:
//! `cargo test --release --features cuda -p neurogen-model --test cuda` (see docs/cuda.md).
#![cfg(feature = "cuda")]
mod common;

use candle_core::{Device, Tensor, Var};
use common::{max_diff, toy_split};
use neurogen_data::ImageShape;
use neurogen_model::kernels::{adam_update, col2im, im2col, max_pool2x2};
use neurogen_model::{
    train, train_replicas, AdamConfig, Cnn, ForwardCtx, ModelConfig, NoHooks, NoRegularizer,
    Silent, TrainConfig,
};
use rand::{Rng, SeedableRng};

fn gpu() -> Option<Device> {
    match Device::new_cuda(0) {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!("SKIPPED: no CUDA device ({e})");
            None
        }
    }
}

fn random(seed: u64, dims: &[usize], scale: f32) -> Tensor {
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n: usize = dims.iter().product();
    let v: Vec<f32> = (0..n).map(|_| r.random_range(-scale..scale)).collect();
    Tensor::from_vec(v, dims, &Device::Cpu).unwrap()
}

fn exact(what: &str, a: &Tensor, b: &Tensor) {
    let d = max_diff(
        &a.to_device(&Device::Cpu).unwrap(),
        &b.to_device(&Device::Cpu).unwrap(),
    );
    assert!(d == 0.0, "{what}: GPU and CPU differ by {d}");
}

#[test]
fn im2col_and_col2im_equal_the_cpu() {
    let Some(g) = gpu() else { return };
    for (i, &(k, c, n, h, w, kk, pad)) in [
        (2, 3, 4, 7, 6, 3, 1),
        (1, 16, 4, 32, 32, 3, 1),
        (3, 2, 1, 5, 5, 3, 0),
        (1, 1, 2, 6, 9, 5, 2),
    ]
    .iter()
    .enumerate()
    {
        let x = random(i as u64, &[k, c, n, h, w], 1.0);
        let cpu = im2col(&x, kk, kk, pad).unwrap();
        let gx = x.to_device(&g).unwrap();
        exact("im2col", &im2col(&gx, kk, kk, pad).unwrap(), &cpu);
        let cols = random(100 + i as u64, cpu.dims(), 1.0);
        let back = col2im(&cols, c, n, h, w, kk, kk, pad).unwrap();
        let gback = col2im(&cols.to_device(&g).unwrap(), c, n, h, w, kk, kk, pad).unwrap();
        exact("col2im", &gback, &back);
    }
}

#[test]
fn max_pool_equals_the_cpu_with_gradient() {
    let Some(g) = gpu() else { return };
    for (i, dims) in [[3usize, 4, 9, 8], [2, 16, 32, 32], [1, 1, 2, 2]]
        .iter()
        .enumerate()
    {
        let x = random(7 + i as u64, dims, 1.0);
        let xv = Var::from_tensor(&x).unwrap();
        let gxv = Var::from_tensor(&x.to_device(&g).unwrap()).unwrap();
        let y = max_pool2x2(&xv).unwrap();
        let gy = max_pool2x2(&gxv).unwrap();
        exact("max-pool forward", &gy, &y);
        let wts = random(50 + i as u64, y.dims(), 1.0);
        let dx = (&y * &wts).unwrap().sum_all().unwrap().backward().unwrap();
        let gdx = (&gy * &wts.to_device(&g).unwrap())
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        exact(
            "max-pool gradient",
            gdx.get(gxv.as_tensor()).unwrap(),
            dx.get(xv.as_tensor()).unwrap(),
        );
    }
}

#[test]
fn adam_kernel_equals_the_cpu_kernel() {
    let Some(g) = gpu() else { return };
    // The third case: dead units (zero gradient) whose moments are near f32's smallest normal
    // number, so many decay below it this step and are flushed to zero on both devices.
    for (wd, dead) in [(0.0, false), (0.01, false), (0.0, true)] {
        let cfg = AdamConfig {
            weight_decay: wd,
            ..AdamConfig::default()
        };
        let coef = cfg.coefficients(3);
        let p = random(1, &[1000], 1.0);
        let (grad, scale) = if dead {
            (p.zeros_like().unwrap(), 2.4e-38)
        } else {
            (random(2, &[1000], 1.0), 0.1)
        };
        let m = random(3, &[1000], scale);
        let v = random(4, &[1000], scale).abs().unwrap();
        let cp = Var::from_tensor(&p).unwrap();
        let (cm, cv) = adam_update(cp.as_tensor(), &grad, &m, &v, &coef)
            .unwrap()
            .unwrap();
        let gp = Var::from_tensor(&p.to_device(&g).unwrap()).unwrap();
        let up = |t: &Tensor| t.to_device(&g).unwrap();
        let (gm, gv) = adam_update(gp.as_tensor(), &up(&grad), &up(&m), &up(&v), &coef)
            .unwrap()
            .expect("the CUDA kernel applies to contiguous f32 CUDA tensors");
        exact("adam parameter", gp.as_tensor(), cp.as_tensor());
        exact("adam m", &gm, &cm);
        exact("adam v", &gv, &cv);
    }
}

#[test]
fn network_forward_and_gradients_match_the_cpu() {
    let Some(g) = gpu() else { return };
    let mc = ModelConfig::cifar10().with_hidden_width(24);
    let cpu = Cnn::new(&mc, 3, &Device::Cpu).unwrap();
    let gpu_net = Cnn::new(&mc, 3, &g).unwrap();
    let shape = ImageShape {
        channels: 3,
        height: 32,
        width: 32,
    };
    let split = toy_split(8, shape, 10);
    let idx: Vec<usize> = (0..8).collect();
    let run = |net: &Cnn, dev: &Device| {
        let (x, y) = split.batch(&idx, dev).unwrap();
        let out = net
            .forward(&x, &mut NoHooks, &ForwardCtx::train(0, 0))
            .unwrap();
        let logits = out.logits.squeeze(0).unwrap();
        let loss = candle_nn::loss::cross_entropy(&logits, &y).unwrap();
        let grads = loss.backward().unwrap();
        let all: Vec<Tensor> = net
            .named_params()
            .iter()
            .map(|(_, v)| {
                grads
                    .get(v.as_tensor())
                    .unwrap()
                    .to_device(&Device::Cpu)
                    .unwrap()
            })
            .collect();
        (logits.to_device(&Device::Cpu).unwrap(), all)
    };
    let (cl, cg) = run(&cpu, &Device::Cpu);
    let (gl, gg) = run(&gpu_net, &g);
    let d = max_diff(&gl, &cl);
    assert!(d < 1e-4, "logits differ by {d}");
    for ((name, _), (a, b)) in cpu.named_params().iter().zip(gg.iter().zip(&cg)) {
        let scale = common::vals(b).iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = max_diff(a, b);
        assert!(
            d <= 1e-3 * scale.max(1e-3),
            "{name}: gradient differs by {d} (scale {scale})"
        );
    }
}

#[test]
fn training_on_the_gpu_follows_the_cpu_and_replicas_follow_separate_runs() {
    let Some(g) = gpu() else { return };
    let shape = ImageShape {
        channels: 3,
        height: 32,
        width: 32,
    };
    let split = toy_split(40, shape, 10);
    let mc = ModelConfig::cifar10().with_hidden_width(16);
    let cfg = |seed| TrainConfig {
        epochs: 1,
        batch_size: 4,
        seed,
        eval_train_at_end: false,
        ..TrainConfig::default()
    };
    let mut on_cpu = Cnn::new(&mc, 0, &Device::Cpu).unwrap();
    train(
        &mut on_cpu,
        &split,
        None,
        &cfg(0),
        &mut NoRegularizer,
        &mut Silent,
    )
    .unwrap();
    let mut on_gpu = Cnn::new(&mc, 0, &g).unwrap();
    train(
        &mut on_gpu,
        &split,
        None,
        &cfg(0),
        &mut NoRegularizer,
        &mut Silent,
    )
    .unwrap();
    for ((n, a), (_, b)) in on_gpu.named_params().iter().zip(on_cpu.named_params()) {
        let d = max_diff(
            &a.as_tensor().to_device(&Device::Cpu).unwrap(),
            b.as_tensor(),
        );
        assert!(
            d < 1e-4,
            "{n}: GPU and CPU weights differ by {d} after 10 steps"
        );
    }

    let mut replicas = Cnn::from_seeds(&mc, &[0, 1, 2], &g).unwrap();
    let (runs, _) = train_replicas(
        &mut replicas,
        &split,
        None,
        &[cfg(0), cfg(1), cfg(2)],
        &mut [NoRegularizer; 3],
        &mut Silent,
    )
    .unwrap();
    for (r, run) in runs.iter().enumerate() {
        run.as_ref().expect("replica trained");
        let mut alone = Cnn::new(&mc, r as u64, &g).unwrap();
        train(
            &mut alone,
            &split,
            None,
            &cfg(r as u64),
            &mut NoRegularizer,
            &mut Silent,
        )
        .unwrap();
        for (n, _) in alone.named_params() {
            let d = max_diff(
                &replicas
                    .value(n, r)
                    .unwrap()
                    .to_device(&Device::Cpu)
                    .unwrap(),
                &alone.value(n, 0).unwrap().to_device(&Device::Cpu).unwrap(),
            );
            assert!(
                d < 1e-4,
                "replica {r} {n}: weights differ from a separate GPU run by {d}"
            );
        }
    }
}
