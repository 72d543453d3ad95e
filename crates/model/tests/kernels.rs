//! The CPU kernels (`neurogen_model::kernels`) against candle's reference ops, the reference
//! max-pool and finite differences: forward values and gradients, on random shapes including
//! batch 1 and odd sizes.
use candle_core::{DType, Device, Tensor, Var};
use neurogen_model::kernels::{
    adam_update, conv2d_bias_relu, linear, max_pool2x2, LINEAR_MAX_ROWS,
};
use neurogen_model::AdamConfig;
use rand::{Rng, SeedableRng};

fn rng(seed: u64) -> rand_chacha::ChaCha8Rng {
    rand_chacha::ChaCha8Rng::seed_from_u64(seed)
}

fn random(r: &mut impl Rng, dims: &[usize], scale: f64, dtype: DType) -> Tensor {
    let n: usize = dims.iter().product();
    let v: Vec<f64> = (0..n).map(|_| r.random_range(-scale..scale)).collect();
    Tensor::from_vec(v, dims, &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

fn vec64(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// Asserts `a ≈ b` elementwise: |a − b| ≤ rel·max(|a|, |b|) + rel·max|b| (the second term
/// absorbs cancellation in sums of many terms).
fn assert_close(what: &str, a: &[f64], b: &[f64], rel: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    let scale = b.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-30);
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let tol = rel * x.abs().max(y.abs()) + rel * scale;
        assert!((x - y).abs() <= tol, "{what}[{i}]: {x} vs {y} (tol {tol})");
    }
}

/// candle's own ops: conv2d, bias, ReLU.
fn reference_conv(x: &Tensor, w: &Tensor, b: &Tensor, pad: usize) -> Tensor {
    let co = b.dim(0).unwrap();
    x.conv2d(w, pad, 1, 1, 1)
        .unwrap()
        .broadcast_add(&b.reshape((1, co, 1, 1)).unwrap())
        .unwrap()
        .relu()
        .unwrap()
}

/// Shapes (batch, in, h, w, out, kernel, padding) covering batch 1, odd sizes, 1-channel
/// input, non-square images and the network's own layers.
const SHAPES: &[(usize, usize, usize, usize, usize, usize, usize)] = &[
    (1, 1, 7, 7, 2, 3, 1),
    (3, 2, 5, 8, 3, 3, 1),
    (2, 3, 32, 32, 16, 3, 1),
    (4, 16, 16, 16, 32, 3, 1),
    (1, 5, 9, 6, 4, 3, 0),
    (2, 3, 7, 7, 5, 5, 2),
    (5, 32, 8, 8, 64, 3, 1),
];

#[test]
fn conv_forward_and_gradients_match_candle() {
    let mut r = rng(1);
    for &(b, ci, h, w, co, k, pad) in SHAPES {
        let what = format!("b{b} ci{ci} {h}x{w} co{co} k{k} p{pad}");
        let fan = (ci * k * k) as f64;
        let x = Var::from_tensor(&random(&mut r, &[b, ci, h, w], 1.0, DType::F32)).unwrap();
        let wt = Var::from_tensor(&random(
            &mut r,
            &[co, ci, k, k],
            1.0 / fan.sqrt(),
            DType::F32,
        ))
        .unwrap();
        let bias = Var::from_tensor(&random(&mut r, &[co], 0.3, DType::F32)).unwrap();
        let ours = conv2d_bias_relu(&x, &wt, &bias, pad).unwrap();
        let theirs = reference_conv(&x, &wt, &bias, pad);
        assert_eq!(ours.dims(), theirs.dims(), "{what}");
        assert_close(
            &format!("{what} forward"),
            &vec64(&ours),
            &vec64(&theirs),
            1e-5,
        );
        // A loss whose gradient is a random tensor, so every output's gradient differs.
        let dy = random(&mut r, ours.dims(), 1.0, DType::F32);
        let g1 = (ours * &dy).unwrap().sum_all().unwrap().backward().unwrap();
        let g2 = (theirs * &dy)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for (name, v) in [("x", &x), ("weight", &wt), ("bias", &bias)] {
            let a = vec64(g1.get(v).unwrap());
            let c = vec64(g2.get(v).unwrap());
            assert_close(&format!("{what} d{name}"), &a, &c, 1e-5);
        }
    }
}

#[test]
fn conv_gradients_match_finite_differences_f64() {
    let mut r = rng(2);
    for &(b, ci, h, w, co, k, pad) in &[(1, 2, 7, 7, 3, 3, 1), (2, 1, 6, 5, 2, 3, 1)] {
        let x = random(&mut r, &[b, ci, h, w], 1.0, DType::F64);
        let wt = random(&mut r, &[co, ci, k, k], 0.5, DType::F64);
        let bias = random(&mut r, &[co], 0.3, DType::F64);
        let dy = random(
            &mut r,
            &[b, co, h + 2 * pad + 1 - k, w + 2 * pad + 1 - k],
            1.0,
            DType::F64,
        );
        let vars = [
            Var::from_tensor(&x).unwrap(),
            Var::from_tensor(&wt).unwrap(),
            Var::from_tensor(&bias).unwrap(),
        ];
        let loss = |v: &[Var; 3]| -> Tensor {
            (conv2d_bias_relu(&v[0], &v[1], &v[2], pad).unwrap() * &dy)
                .unwrap()
                .sum_all()
                .unwrap()
        };
        let grads = loss(&vars).backward().unwrap();
        let eps = 1e-6;
        for var in &vars {
            let g = vec64(grads.get(var).unwrap());
            let p0 = vec64(var.as_tensor());
            for i in 0..p0.len() {
                let mut p = p0.clone();
                p[i] += eps;
                var.set(&Tensor::from_vec(p.clone(), var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
                let lp = loss(&vars).to_scalar::<f64>().unwrap();
                p[i] -= 2.0 * eps;
                var.set(&Tensor::from_vec(p, var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
                let lm = loss(&vars).to_scalar::<f64>().unwrap();
                var.set(&Tensor::from_vec(p0.clone(), var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
                let fd = (lp - lm) / (2.0 * eps);
                let tol = 1e-6 + 1e-5 * fd.abs().max(g[i].abs());
                assert!(
                    (fd - g[i]).abs() < tol,
                    "[{i}] autograd {} vs fd {fd}",
                    g[i]
                );
            }
        }
    }
}

#[test]
fn max_pool_matches_reference_forward_and_gradient() {
    let mut r = rng(3);
    for dims in [
        [1, 1, 2, 2],
        [2, 3, 8, 8],
        [1, 4, 7, 7],
        [3, 2, 6, 5],
        [4, 16, 32, 32],
    ] {
        for dtype in [DType::F32, DType::F64] {
            let x = Var::from_tensor(&random(&mut r, &dims, 1.0, dtype)).unwrap();
            let ours = max_pool2x2(&x).unwrap();
            let theirs = neurogen_model::max_pool2x2(&x).unwrap();
            assert_eq!(vec64(&ours), vec64(&theirs), "{dims:?} forward");
            let dy = random(&mut r, ours.dims(), 1.0, dtype);
            let g1 = (ours * &dy).unwrap().sum_all().unwrap().backward().unwrap();
            let g2 = (theirs * &dy)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            assert_eq!(
                vec64(g1.get(&x).unwrap()),
                vec64(g2.get(&x).unwrap()),
                "{dims:?} gradient"
            );
        }
    }
}

#[test]
fn max_pool_ties_follow_the_reference_rule() {
    // After a ReLU whole windows are zero: every tied position gets the gradient, as in the
    // reference (reshape + max) pool.
    let x = Var::from_tensor(
        &Tensor::from_vec(
            vec![
                0f32, 0., 1., 3., 0., 0., 3., 2., 5., 5., 0., 0., 5., 4., 0., 0.,
            ],
            (1, 1, 4, 4),
            &Device::Cpu,
        )
        .unwrap(),
    )
    .unwrap();
    let g1 = max_pool2x2(&x)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let g2 = neurogen_model::max_pool2x2(&x)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(vec64(g1.get(&x).unwrap()), vec64(g2.get(&x).unwrap()));
}

/// Adam written with candle tensor ops, as `Adam::step` does for tensors the kernel skips.
fn adam_tensor_ops(
    p: &Tensor,
    g: &Tensor,
    m: &Tensor,
    v: &Tensor,
    c: &AdamConfig,
    t: i32,
) -> (Tensor, Tensor, Tensor) {
    let g = if c.weight_decay != 0.0 {
        (g + (p * c.weight_decay).unwrap()).unwrap()
    } else {
        g.clone()
    };
    let m = ((m * c.beta1).unwrap() + (&g * (1.0 - c.beta1)).unwrap()).unwrap();
    let v = ((v * c.beta2).unwrap() + (g.sqr().unwrap() * (1.0 - c.beta2)).unwrap()).unwrap();
    let bc1 = 1.0 - c.beta1.powi(t);
    let bc2_sqrt = (1.0 - c.beta2.powi(t)).sqrt();
    let denom = ((v.sqrt().unwrap() / bc2_sqrt).unwrap() + c.eps).unwrap();
    let update = ((&m / &denom).unwrap() * (c.lr / bc1)).unwrap();
    ((p - update).unwrap(), m, v)
}

#[test]
fn fused_adam_equals_tensor_ops() {
    let mut r = rng(4);
    for (n, wd) in [(7usize, 0.0), (1000, 1e-2), (100_003, 0.0), (70_001, 5e-4)] {
        let cfg = AdamConfig {
            lr: 1e-3,
            weight_decay: wd,
            ..AdamConfig::default()
        };
        let var = Var::from_tensor(&random(&mut r, &[n], 1.0, DType::F32)).unwrap();
        let mut pr = var.as_tensor().copy().unwrap();
        let zeros = Tensor::zeros(n, DType::F32, &Device::Cpu).unwrap();
        let (mut m, mut v) = (zeros.clone(), zeros.clone());
        let (mut mr, mut vr) = (zeros.clone(), zeros);
        for t in 1..=4u64 {
            let g = random(&mut r, &[n], 0.1, DType::F32);
            let coef = cfg.coefficients(t);
            let m_before = vec64(&m);
            let (m2, v2) = adam_update(var.as_tensor(), &g, &m, &v, &coef)
                .unwrap()
                .expect("the kernel applies to contiguous f32 CPU tensors");
            // The old moments are not modified in place.
            assert_eq!(vec64(&m), m_before);
            (m, v) = (m2, v2);
            (pr, mr, vr) = adam_tensor_ops(&pr, &g, &mr, &vr, &cfg, t as i32);
        }
        assert_close("param", &vec64(var.as_tensor()), &vec64(&pr), 1e-6);
        assert_close("m", &vec64(&m), &vec64(&mr), 1e-6);
        assert_close("v", &vec64(&v), &vec64(&vr), 1e-6);
    }
}

#[test]
fn fused_adam_declines_other_dtypes() {
    let p = Tensor::zeros(4, DType::F64, &Device::Cpu).unwrap();
    let c = AdamConfig::default().coefficients(1);
    assert!(adam_update(&p, &p.ones_like().unwrap(), &p, &p, &c)
        .unwrap()
        .is_none());
}

/// The small-batch linear kernel against candle's matmul: values and both gradients, with and
/// without a replica axis, at and past the row limit (where candle's matmul takes over), f32
/// and f64.
#[test]
fn linear_matches_matmul_with_gradients() {
    let mut r = rng(41);
    let cases: &[(&[usize], &[usize])] = &[
        (&[4, 1024], &[250, 1024]),
        (&[1, 7], &[3, 7]),
        (&[LINEAR_MAX_ROWS, 33], &[5, 33]),
        (&[LINEAR_MAX_ROWS + 1, 20], &[6, 20]),
        (&[3, 5, 17], &[3, 6, 17]),
        (&[2, 4, 250], &[2, 10, 250]),
    ];
    for &(dtype, rel) in &[(DType::F32, 1e-5), (DType::F64, 1e-12)] {
        for &(xd, wd) in cases {
            let x = Var::from_tensor(&random(&mut r, xd, 1.0, dtype)).unwrap();
            let w = Var::from_tensor(&random(&mut r, wd, 0.5, dtype)).unwrap();
            let y = linear(x.as_tensor(), w.as_tensor()).unwrap();
            let y2 = x.as_tensor().matmul(&w.as_tensor().t().unwrap()).unwrap();
            let what = format!("{dtype:?} {xd:?}x{wd:?}");
            assert_eq!(y.dims(), y2.dims(), "{what}");
            assert_close(&format!("{what} forward"), &vec64(&y), &vec64(&y2), rel);
            let weights = random(&mut r, y.dims(), 1.0, dtype);
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
            for (name, v) in [("dx", &x), ("dw", &w)] {
                let (a, b) = (
                    g1.get(v.as_tensor()).unwrap(),
                    g2.get(v.as_tensor()).unwrap(),
                );
                assert_close(&format!("{what} {name}"), &vec64(a), &vec64(b), rel);
            }
        }
    }
    let bad = linear(
        &Tensor::zeros((4, 8), DType::F32, &Device::Cpu).unwrap(),
        &Tensor::zeros((3, 9), DType::F32, &Device::Cpu).unwrap(),
    )
    .unwrap_err()
    .to_string();
    assert!(bad.contains("[4, 8]") && bad.contains("[3, 9]"), "{bad}");
}

#[test]
fn im2col_convolution_matches_candle_for_every_replica() {
    // conv_bias_relu_cnhw (im2col + batched matmul, layout [K, C, N, H, W]) against candle's
    // conv2d per replica: values and the gradients of x, w and b (through col2im).
    let mut r = rng(41);
    for &(n, ci, h, w, co, k, pad) in SHAPES {
        let reps = 2;
        let x = Var::from_tensor(&random(&mut r, &[reps, ci, n, h, w], 1.0, DType::F64)).unwrap();
        let wt = Var::from_tensor(&random(&mut r, &[reps, co, ci, k, k], 0.5, DType::F64)).unwrap();
        let b = Var::from_tensor(&random(&mut r, &[reps, co], 0.5, DType::F64)).unwrap();
        let y = neurogen_model::kernels::conv_bias_relu_cnhw(&x, &wt, &b, pad).unwrap();
        let weights = random(&mut r, y.dims(), 1.0, DType::F64);
        let grads = (&y * &weights)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for rep in 0..reps {
            let xr = Var::from_tensor(
                &x.get(rep)
                    .unwrap()
                    .transpose(0, 1)
                    .unwrap()
                    .contiguous()
                    .unwrap(),
            )
            .unwrap();
            let wr = Var::from_tensor(&wt.get(rep).unwrap()).unwrap();
            let br = Var::from_tensor(&b.get(rep).unwrap()).unwrap();
            let yr = reference_conv(&xr, &wr, &br, pad);
            let ours = y.get(rep).unwrap().transpose(0, 1).unwrap();
            let what = format!("shape {:?} replica {rep}", (n, ci, h, w, co, k, pad));
            assert_close(
                &format!("{what} forward"),
                &vec64(&ours),
                &vec64(&yr),
                1e-12,
            );
            let wr_grad = weights.get(rep).unwrap().transpose(0, 1).unwrap();
            let g = (&yr * &wr_grad)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            let dx = grads
                .get(&x)
                .unwrap()
                .get(rep)
                .unwrap()
                .transpose(0, 1)
                .unwrap();
            assert_close(
                &format!("{what} dx"),
                &vec64(&dx),
                &vec64(g.get(&xr).unwrap()),
                1e-10,
            );
            let dw = grads.get(&wt).unwrap().get(rep).unwrap();
            assert_close(
                &format!("{what} dw"),
                &vec64(&dw),
                &vec64(g.get(&wr).unwrap()),
                1e-10,
            );
            let db = grads.get(&b).unwrap().get(rep).unwrap();
            assert_close(
                &format!("{what} db"),
                &vec64(&db),
                &vec64(g.get(&br).unwrap()),
                1e-10,
            );
        }
    }
}

#[test]
fn col2im_is_the_adjoint_of_im2col() {
    // <im2col(x), c> = <x, col2im(c)> for random x and c, and bad shapes are errors.
    use neurogen_model::kernels::{col2im, im2col};
    let mut r = rng(43);
    for &(n, ci, h, w, _, k, pad) in SHAPES {
        let x = random(&mut r, &[3, ci, n, h, w], 1.0, DType::F64);
        let cols = im2col(&x, k, k, pad).unwrap();
        let c = random(&mut r, cols.dims(), 1.0, DType::F64);
        let back = col2im(&c, ci, n, h, w, k, k, pad).unwrap();
        assert_eq!(back.dims(), x.dims());
        let lhs: f64 = (&cols * &c)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        let rhs: f64 = (&x * &back)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!(
            (lhs - rhs).abs() <= 1e-9 * lhs.abs().max(1.0),
            "{lhs} vs {rhs}"
        );
        // f32 gives the same columns.
        let c32 = im2col(&x.to_dtype(DType::F32).unwrap(), k, k, pad).unwrap();
        assert_close("f32 columns", &vec64(&c32), &vec64(&cols), 1e-6);
    }
    let x = random(&mut r, &[1, 1, 1, 2, 2], 1.0, DType::F32);
    let e = im2col(&x, 5, 5, 0).unwrap_err().to_string();
    assert!(e.contains("does not fit"), "{e}");
    let bad = random(&mut r, &[1, 9, 5], 1.0, DType::F32);
    let e = col2im(&bad, 1, 1, 2, 2, 3, 3, 1).unwrap_err().to_string();
    assert!(e.contains("expected"), "{e}");
}

/// Bit patterns of a tensor's values (as f64, exact for f32 and f64).
fn bits(t: &Tensor) -> Vec<u64> {
    vec64(t).iter().map(|v| v.to_bits()).collect()
}

/// `conv2d_bias_relu_replicas` (one call for K replicas) equals K separate
/// `conv2d_bias_relu` calls bit for bit, values and all three gradients through autograd, on
/// odd shapes in f32 and f64; and it matches candle's conv2d to rounding.
#[test]
fn replica_conv_is_bitwise_separate_calls() {
    use candle_core::IndexOp;
    use neurogen_model::kernels::conv2d_bias_relu_replicas;
    let mut r = rng(7);
    for dtype in [DType::F32, DType::F64] {
        for &(k, b, ci, h, w, co, ks, pad) in &[
            (3, 4, 3, 8, 8, 5, 3, 1),
            (2, 5, 2, 7, 5, 3, 3, 1),
            (4, 1, 1, 3, 3, 2, 3, 1),
            (2, 3, 2, 6, 6, 4, 5, 2),
            (3, 2, 3, 5, 4, 2, 1, 0),
            (1, 7, 2, 4, 4, 3, 3, 1),
        ] {
            let what = format!("{dtype:?} K{k} b{b} ci{ci} {h}x{w} co{co} k{ks} p{pad}");
            let x = Var::from_tensor(&random(&mut r, &[k, b, ci, h, w], 1.0, dtype)).unwrap();
            let wt = Var::from_tensor(&random(&mut r, &[k, co, ci, ks, ks], 0.4, dtype)).unwrap();
            let bias = Var::from_tensor(&random(&mut r, &[k, co], 0.3, dtype)).unwrap();
            let y = conv2d_bias_relu_replicas(&x, &wt, &bias, pad).unwrap();
            let dy = random(&mut r, y.dims(), 1.0, dtype);
            let g = (&y * &dy).unwrap().sum_all().unwrap().backward().unwrap();
            for rep in 0..k {
                let xr = Var::from_tensor(&x.as_tensor().i(rep).unwrap()).unwrap();
                let wr = Var::from_tensor(&wt.as_tensor().i(rep).unwrap()).unwrap();
                let br = Var::from_tensor(&bias.as_tensor().i(rep).unwrap()).unwrap();
                let yr = conv2d_bias_relu(&xr, &wr, &br, pad).unwrap();
                assert_eq!(bits(&y.i(rep).unwrap()), bits(&yr), "{what} y[{rep}]");
                let theirs = reference_conv(&xr, &wr, &br, pad);
                let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
                assert_close(
                    &format!("{what} vs candle"),
                    &vec64(&yr),
                    &vec64(&theirs),
                    tol,
                );
                let dyr = dy.i(rep).unwrap();
                let gr = (&yr * &dyr).unwrap().sum_all().unwrap().backward().unwrap();
                for (name, all, one) in [("x", &x, &xr), ("weight", &wt, &wr), ("bias", &bias, &br)]
                {
                    let a = g.get(all).unwrap().i(rep).unwrap();
                    let c = gr.get(one).unwrap();
                    assert_eq!(bits(&a), bits(c), "{what} d{name}[{rep}]");
                }
            }
        }
    }
}

#[test]
fn replica_conv_rejects_bad_shapes() {
    use neurogen_model::kernels::conv2d_bias_relu_replicas;
    let z = |d: &[usize]| Tensor::zeros(d, DType::F32, &Device::Cpu).unwrap();
    // Replica counts differ.
    assert!(
        conv2d_bias_relu_replicas(&z(&[2, 1, 3, 5, 5]), &z(&[3, 4, 3, 3, 3]), &z(&[3, 4]), 1)
            .is_err()
    );
    // Channels differ.
    assert!(
        conv2d_bias_relu_replicas(&z(&[2, 1, 3, 5, 5]), &z(&[2, 4, 2, 3, 3]), &z(&[2, 4]), 1)
            .is_err()
    );
    // Bias shape.
    assert!(
        conv2d_bias_relu_replicas(&z(&[2, 1, 3, 5, 5]), &z(&[2, 4, 3, 3, 3]), &z(&[4]), 1).is_err()
    );
    // Kernel larger than the padded input.
    assert!(
        conv2d_bias_relu_replicas(&z(&[1, 1, 1, 2, 2]), &z(&[1, 1, 1, 5, 5]), &z(&[1, 1]), 0)
            .is_err()
    );
    // Wrong rank.
    assert!(
        conv2d_bias_relu_replicas(&z(&[1, 3, 5, 5]), &z(&[1, 4, 3, 3, 3]), &z(&[1, 4]), 1).is_err()
    );
}
