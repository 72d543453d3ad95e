//! Autograd gradients of the whole network against central finite differences (f64).
mod common;

use candle_core::{DType, Device, Tensor};
use neurogen_data::ImageShape;
use neurogen_model::{Cnn, ForwardCtx, ModelConfig, NoHooks};

fn tiny() -> ModelConfig {
    ModelConfig {
        in_channels: 1,
        in_height: 8,
        in_width: 8,
        conv_channels: vec![2, 3, 2, 2],
        hidden_sizes: vec![5, 4],
        num_classes: 3,
    }
}

fn loss(model: &Cnn, x: &Tensor, y: &Tensor) -> Tensor {
    let out = model
        .forward(x, &mut NoHooks, &ForwardCtx::train(0, 0))
        .unwrap();
    candle_nn::loss::cross_entropy(&out.logits.squeeze(0).unwrap(), y).unwrap()
}

#[test]
fn gradients_match_finite_differences() {
    let dev = Device::Cpu;
    let model = Cnn::new_with_dtype(&tiny(), 7, &dev, DType::F64).unwrap();
    let split = common::toy_split(6, ImageShape::new(1, 8, 8), 3);
    let (x, y) = split.batch(&[0, 1, 2, 3, 4, 5], &dev).unwrap();
    let x = x.to_dtype(DType::F64).unwrap();
    let grads = loss(&model, &x, &y).backward().unwrap();
    let eps = 1e-6;
    let mut checked = 0;
    let mut bad = 0;
    for (name, var) in model.named_params() {
        let g = grads
            .get(var.as_tensor())
            .expect("every parameter gets a gradient");
        let g: Vec<f64> = g.flatten_all().unwrap().to_vec1().unwrap();
        let p0: Vec<f64> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        // Check a spread of coordinates of every parameter.
        for i in (0..p0.len()).step_by((p0.len() / 4).max(1)) {
            let mut plus = p0.clone();
            plus[i] += eps;
            var.set(&Tensor::from_vec(plus, var.shape(), &dev).unwrap())
                .unwrap();
            let lp = loss(&model, &x, &y).to_scalar::<f64>().unwrap();
            let mut minus = p0.clone();
            minus[i] -= eps;
            var.set(&Tensor::from_vec(minus, var.shape(), &dev).unwrap())
                .unwrap();
            let lm = loss(&model, &x, &y).to_scalar::<f64>().unwrap();
            var.set(&Tensor::from_vec(p0.clone(), var.shape(), &dev).unwrap())
                .unwrap();
            let fd = (lp - lm) / (2.0 * eps);
            let tol = 1e-6 + 1e-4 * fd.abs().max(g[i].abs());
            if (fd - g[i]).abs() >= tol {
                eprintln!("MISMATCH {name}[{i}]: autograd {} vs fd {fd}", g[i]);
                bad += 1;
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "checked {checked} coordinates");
    assert_eq!(bad, 0, "{bad} of {checked} coordinates disagree");
}
