//! NaN is never hidden: the ReLU keeps it, so a diverging layer reaches the loss and the
//! divergence checks, in single networks and in replicas.
use candle_core::{DType, Device, Tensor, Var};
use neurogen_model::{kernels, Cnn, ForwardCtx, ModelConfig, NoHooks};

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

/// Inputs with both signed zeros, infinities, tiny and ordinary values (NaN added by callers).
fn specials(n: usize) -> Vec<f32> {
    let mut v = vec![
        -0.0,
        0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        1e-45,
        -1e-45,
        f32::MAX,
        f32::MIN,
    ];
    let mut s = 12345u32;
    while v.len() < n {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        v.push((s as i32) as f32 / 1e9);
    }
    v
}

#[test]
fn candle_relu_hides_nan_and_ours_keeps_it() {
    let x = Tensor::new(&[f32::NAN, -1.0, 2.0], &Device::Cpu).unwrap();
    // The reason for kernels::relu: candle maps NaN to 0.
    assert_eq!(values(&x.relu().unwrap())[0], 0.0);
    let y = values(&kernels::relu(&x).unwrap());
    assert!(y[0].is_nan(), "{y:?}");
    assert_eq!(&y[1..], &[0.0, 2.0]);
    // f64, the where_cond path (bf16 here; other devices take it too), non-contiguous input.
    let x64 = Tensor::new(&[f64::NAN, -3.0, 0.5], &Device::Cpu).unwrap();
    let y64: Vec<f64> = kernels::relu(&x64).unwrap().to_vec1().unwrap();
    assert!(y64[0].is_nan() && y64[1] == 0.0 && y64[2] == 0.5, "{y64:?}");
    let bf = x.to_dtype(DType::BF16).unwrap();
    let ybf = values(&kernels::relu(&bf).unwrap().to_dtype(DType::F32).unwrap());
    assert!(ybf[0].is_nan() && ybf[1] == 0.0 && ybf[2] == 2.0, "{ybf:?}");
    let m = Tensor::new(&[[f32::NAN, -1.0], [3.0, -4.0]], &Device::Cpu)
        .unwrap()
        .t()
        .unwrap();
    let ym = values(&kernels::relu(&m).unwrap());
    assert!(ym[0].is_nan() && ym[1..] == [3.0, 0.0, 0.0], "{ym:?}");
}

#[test]
fn relu_equals_candle_bit_for_bit_on_non_nan_input_with_gradients() {
    // Small (one thread) and large (rayon chunks) tensors.
    for n in [64usize, 200_003] {
        let x = Var::from_tensor(&Tensor::new(specials(n), &Device::Cpu).unwrap()).unwrap();
        let dy = Tensor::new(specials(n + 7)[7..].to_vec(), &Device::Cpu).unwrap();
        let ours = kernels::relu(x.as_tensor()).unwrap();
        let theirs = x.as_tensor().relu().unwrap();
        let bits = |t: &Tensor| values(t).iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&ours), bits(&theirs), "forward, n = {n}");
        let g1 = (&ours * &dy)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let g2 = (&theirs * &dy)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let (g1, g2) = (g1.get(&x).unwrap(), g2.get(&x).unwrap());
        let fin = |t: &Tensor| {
            values(t)
                .iter()
                .map(|v| if v.is_nan() { u32::MAX } else { v.to_bits() })
                .collect::<Vec<_>>()
        };
        assert_eq!(fin(g1), fin(g2), "gradient, n = {n}");
    }
}

#[test]
fn a_nan_weight_reaches_the_logits_of_a_full_forward_pass() {
    let cfg = ModelConfig::fashion_mnist().with_hidden_width(6);
    let x = Tensor::randn(0f32, 1.0, (3, 1, 28, 28), &Device::Cpu).unwrap();
    let clean = Cnn::new(&cfg, 0, &Device::Cpu).unwrap();
    assert!(values(&clean.predict(&x).unwrap())
        .iter()
        .all(|v| v.is_finite()));
    // One NaN weight of the first hidden layer: unit 0 is NaN for every image, and so is
    // everything after it (with candle's relu the logits stayed finite).
    // (Fresh networks with the same seed: a clone shares its parameters' storage.)
    let mut fc = Cnn::new(&cfg, 0, &Device::Cpu).unwrap();
    let mut w: Vec<f32> = values(fc.param("fcs.0.weight").unwrap().as_tensor());
    w[0] = f32::NAN;
    let shape = fc
        .param("fcs.0.weight")
        .unwrap()
        .as_tensor()
        .dims()
        .to_vec();
    fc.set_param(
        "fcs.0.weight",
        &Tensor::from_vec(w, shape, &Device::Cpu).unwrap(),
    )
    .unwrap();
    let out = fc.forward(&x, &mut NoHooks, &ForwardCtx::eval()).unwrap();
    let h0 = out.hidden[0].squeeze(0).unwrap().to_vec2::<f32>().unwrap();
    assert!(h0.iter().all(|row| row[0].is_nan()), "{h0:?}");
    assert!(values(&out.logits).iter().all(|v| v.is_nan()));
    // A NaN bias of the first convolution: through the conv kernels and every ReLU.
    let mut conv = Cnn::new(&cfg, 0, &Device::Cpu).unwrap();
    let mut b = values(conv.param("conv1.bias").unwrap().as_tensor());
    b[0] = f32::NAN;
    let n = b.len();
    conv.set_param(
        "conv1.bias",
        &Tensor::from_vec(b, (1, n), &Device::Cpu).unwrap(),
    )
    .unwrap();
    assert!(values(&conv.predict(&x).unwrap())
        .iter()
        .all(|v| v.is_nan()));
    // Replicas: only the poisoned replica's logits are NaN.
    let xs = Tensor::stack(&[&x, &x, &x], 0).unwrap();
    let rep = Cnn::stack(&[clean, fc, conv]).unwrap();
    let out = rep.forward(&xs, &mut NoHooks, &ForwardCtx::eval()).unwrap();
    let logits = out.logits.to_vec3::<f32>().unwrap();
    assert!(logits[0].iter().flatten().all(|v| v.is_finite()));
    assert!(logits[1].iter().flatten().all(|v| v.is_nan()));
    assert!(logits[2].iter().flatten().all(|v| v.is_nan()));
}
