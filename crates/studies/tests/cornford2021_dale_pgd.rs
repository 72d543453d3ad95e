//! PGD beside FGSM: one full step is FGSM, a binary linear model's PGD is the closed form, the
//! iterates stay in the ε-ball and the input range, the curve at ε = 0 is the clean accuracy,
//! and bad settings are errors.
use candle_core::{DType, Device, Tensor};
use neurogen_studies::cornford2021_dale::{
    fgsm, pgd, pgd_curve, DaleError, DaleNet, NetConfig, NetKind, Result as DaleResult,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn uniform(seed: u64, rows: usize, cols: usize) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let v: Vec<f32> = (0..rows * cols).map(|_| rng.random::<f32>()).collect();
    Tensor::from_vec(v, (rows, cols), &Device::Cpu).unwrap()
}

fn linear(w: &[f32], classes: usize, dim: usize) -> impl Fn(&Tensor) -> DaleResult<Tensor> {
    let wt = Tensor::from_slice(w, (classes, dim), &Device::Cpu).unwrap();
    move |x: &Tensor| Ok(x.matmul(&wt.t()?)?)
}

#[test]
fn one_full_step_is_fgsm() {
    let f = linear(
        &[
            0.5, -1.0, 0.2, 0.0, -0.3, 0.4, 0.9, -0.7, 1.2, 0.1, -0.5, 0.3,
        ],
        3,
        4,
    );
    let x = uniform(1, 5, 4);
    let y = Tensor::from_slice(&[0u32, 2, 1, 1, 0], 5, &Device::Cpu).unwrap();
    let a = pgd(&f, &x, &y, 0.1, 0.1, 1, Some((0.0, 1.0))).unwrap();
    let b = fgsm(&f, &x, &y, 0.1, Some((0.0, 1.0))).unwrap();
    assert_eq!(a.to_vec2::<f32>().unwrap(), b.to_vec2::<f32>().unwrap());
}

/// Two classes, `f(x) = W x`: the gradient of the cross-entropy of class `y` is
/// `p_{1−y}·(w_{1−y} − w_y)`, whose sign never changes, so PGD ends at `x + ε·sign(w_{1−y} − w_y)`
/// (clipped) whatever the number of steps, once `steps·α ≥ ε`.
#[test]
fn binary_linear_model_matches_the_closed_form() {
    let w = [0.5f32, -1.0, 0.2, 0.7, -0.3, 0.4, 0.9, -0.7];
    let f = linear(&w, 2, 4);
    let x = uniform(2, 3, 4);
    let ys = [0u32, 1, 0];
    let y = Tensor::from_slice(&ys, 3, &Device::Cpu).unwrap();
    let eps = 0.15;
    let adv = pgd(&f, &x, &y, eps, 0.5 * eps, 5, Some((0.0, 1.0)))
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    let xs = x.to_vec2::<f32>().unwrap();
    for (i, &yi) in ys.iter().enumerate() {
        let (own, other) = if yi == 0 { (0, 4) } else { (4, 0) };
        for j in 0..4 {
            let s = (w[other + j] - w[own + j]).signum();
            let expected = (xs[i][j] + eps as f32 * s).clamp(0.0, 1.0);
            assert!(
                (adv[i][j] - expected).abs() < 1e-6,
                "x[{i}][{j}]: {} vs {expected}",
                adv[i][j]
            );
        }
    }
}

#[test]
fn iterates_stay_in_the_ball_and_the_range_and_the_curve_starts_clean() {
    let cfg = NetConfig {
        n_input: 6,
        n_classes: 3,
        ne: 10,
        ni: 1,
        hidden_layers: 2,
        ..NetConfig::paper(NetKind::Dann, 4)
    };
    let net = DaleNet::new(&cfg, &Device::Cpu).unwrap();
    let f = |x: &Tensor| -> DaleResult<Tensor> { Ok(net.forward(x)?.logits) };
    let x = uniform(3, 20, 6);
    let y = Tensor::from_vec(
        (0..20u32).map(|i| i % 3).collect::<Vec<_>>(),
        20,
        &Device::Cpu,
    )
    .unwrap();
    let eps = 0.08;
    let adv = pgd(f, &x, &y, eps, 0.05, 7, Some((0.0, 1.0))).unwrap();
    let gap = (&adv - &x)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(gap <= eps as f32 + 1e-6, "left the ball: {gap}");
    let v = adv.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert!(v.iter().all(|&a| (0.0..=1.0).contains(&a)));
    let curve = pgd_curve(f, &x, &y, &[0.0, 0.3], 5, Some((0.0, 1.0))).unwrap();
    let clean = f(&x)
        .unwrap()
        .argmax(1)
        .unwrap()
        .eq(&y)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        .mean_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap() as f64;
    assert!((curve[0].accuracy - clean).abs() < 1e-6);
    assert!(curve[1].accuracy <= curve[0].accuracy);
}

#[test]
fn bad_settings_are_errors() {
    let f = linear(&[1.0, 0.0, 0.0, 1.0], 2, 2);
    let x = uniform(4, 2, 2);
    let y = Tensor::from_slice(&[0u32, 1], 2, &Device::Cpu).unwrap();
    for (eps, step, steps) in [(-0.1, 0.1, 1), (0.1, f64::NAN, 1), (0.1, 0.1, 0)] {
        assert!(matches!(
            pgd(&f, &x, &y, eps, step, steps, None),
            Err(DaleError::InvalidArgument(_))
        ));
    }
    let y1 = Tensor::from_slice(&[0u32], 1, &Device::Cpu).unwrap();
    assert!(pgd_curve(&f, &x, &y1, &[0.1], 3, None).is_err());
}
