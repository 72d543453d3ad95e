//! Adam against an independent scalar implementation of PyTorch's update rule.
use candle_core::{DType, Device, Tensor, Var};
use neurogen_model::{Adam, AdamConfig, Cnn, ModelConfig};

/// PyTorch's `torch.optim.Adam` single-tensor update for one scalar, written out in f64.
fn scalar_adam(p: &mut f64, m: &mut f64, v: &mut f64, t: i32, g: f64, c: &AdamConfig) {
    let g = g + c.weight_decay * *p;
    *m = c.beta1 * *m + (1.0 - c.beta1) * g;
    *v = c.beta2 * *v + (1.0 - c.beta2) * g * g;
    let bc1 = 1.0 - c.beta1.powi(t);
    let bc2 = 1.0 - c.beta2.powi(t);
    let denom = v.sqrt() / bc2.sqrt() + c.eps;
    *p -= c.lr / bc1 * *m / denom;
}

/// f64 runs the tensor-op update, f32 the fused CPU kernel (which once added the L2 penalty
/// twice: the f32 case with weight decay 0.5 catches that).
#[test]
fn adam_matches_pytorch_rule_with_and_without_weight_decay() {
    for (dtype, wd, tol) in [
        (DType::F64, 0.0, 1e-12),
        (DType::F64, 1e-2, 1e-12),
        (DType::F32, 0.0, 2e-6),
        (DType::F32, 1e-2, 2e-6),
        (DType::F32, 0.5, 2e-6),
    ] {
        let cfg = AdamConfig {
            lr: 1e-2,
            weight_decay: wd,
            ..AdamConfig::default()
        };
        let dev = Device::Cpu;
        let model = Cnn::new_with_dtype(
            &ModelConfig::fashion_mnist().with_hidden_width(8),
            0,
            &dev,
            dtype,
        )
        .unwrap();
        let var: Var = model.param("fc3.weight").unwrap().clone();
        let f64s = |t: &Tensor| -> Vec<f64> {
            t.to_dtype(DType::F64)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap()
        };
        let mut p: Vec<f64> = f64s(var.as_tensor());
        let mut m = vec![0.0; p.len()];
        let mut v = vec![0.0; p.len()];
        let mut opt = Adam::new(cfg, 1).unwrap();
        for t in 1..=5 {
            // loss = sum(w * c) with c depending on t, so the gradient is c.
            let c: Vec<f64> = (0..p.len()).map(|i| ((i + t) % 7) as f64 - 3.0).collect();
            let ct = Tensor::from_vec(c.clone(), var.shape(), &dev)
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
            let loss = (var.as_tensor() * &ct).unwrap().sum_all().unwrap();
            let grads = loss.backward().unwrap();
            opt.step(model.named_params(), &grads, &[true]).unwrap();
            for i in 0..p.len() {
                scalar_adam(&mut p[i], &mut m[i], &mut v[i], t as i32, c[i], &cfg);
            }
        }
        let got: Vec<f64> = f64s(var.as_tensor());
        for i in 0..p.len() {
            assert!(
                (got[i] - p[i]).abs() < tol,
                "{dtype:?} wd {wd}, [{i}]: {} vs {}",
                got[i],
                p[i]
            );
        }
        let st = opt.state("fc3.weight", 0).unwrap().unwrap();
        assert_eq!(st.step, 5);
        let gm: Vec<f64> = f64s(&st.m);
        assert!((gm[3] - m[3]).abs() < tol);
        // Parameters without a gradient are untouched and get no state.
        assert!(opt.state("conv1.weight", 0).unwrap().is_none());
    }
}

#[test]
fn frozen_parameters_are_not_updated_and_bad_settings_are_rejected() {
    let dev = Device::Cpu;
    let model = Cnn::new(&ModelConfig::fashion_mnist().with_hidden_width(8), 0, &dev).unwrap();
    let var = model.param("fc3.weight").unwrap().clone();
    let before: Vec<f32> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
    let mut opt = Adam::new(AdamConfig::default(), 1).unwrap();
    opt.set_frozen("fc3.weight", 0, true).unwrap();
    let grads = var.as_tensor().sum_all().unwrap().backward().unwrap();
    opt.step(model.named_params(), &grads, &[true]).unwrap();
    let after: Vec<f32> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(before, after);
    assert!(Adam::new(
        AdamConfig {
            lr: -1.0,
            ..Default::default()
        },
        1
    )
    .unwrap_err()
    .to_string()
    .contains("learning rate"));
    assert!(Adam::new(
        AdamConfig {
            beta1: 1.0,
            ..Default::default()
        },
        1
    )
    .is_err());
    assert!(Adam::new(
        AdamConfig {
            weight_decay: f64::NAN,
            ..Default::default()
        },
        1
    )
    .is_err());
    assert!(Adam::new(AdamConfig::default(), 0).is_err());
}
