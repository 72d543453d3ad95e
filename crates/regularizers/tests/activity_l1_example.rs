//! The third-party example (`examples/activity_l1.rs`) compiles against the public API, its
//! penalty is what it claims, gradients flow through it, and it trains in a stack with ours.
#[allow(dead_code)]
#[path = "../examples/activity_l1.rs"]
mod example;

use candle_core::{DType, Device, Tensor};
use example::ActivityL1;
use neurogen_model::{Cnn, ModelConfig};
use neurogen_regularizers::{ForwardCtx, Regularizer, StepCtx};

#[test]
fn penalty_is_lambda_times_mean_abs_activation_and_has_gradients() {
    let model = Cnn::new(
        &ModelConfig::fashion_mnist().with_hidden_width(16),
        0,
        &Device::Cpu,
    )
    .unwrap();
    let x = Tensor::rand(0f32, 1.0, (3, 1, 28, 28), &Device::Cpu).unwrap();
    let mut reg = ActivityL1::new(1, 0.5);
    let ctx = StepCtx {
        epoch: 0,
        batch: 0,
        step: 0,
        batches_per_epoch: 1,
    };
    // Evaluation passes leave no penalty.
    model.forward(&x, &mut reg, &ForwardCtx::eval()).unwrap();
    assert!(reg.loss_term(&model, &ctx).unwrap().is_none());
    let out = model
        .forward(&x, &mut reg, &ForwardCtx::train(0, 0))
        .unwrap();
    let term = reg.loss_term(&model, &ctx).unwrap().unwrap();
    let a: Vec<f32> = out.hidden[1].flatten_all().unwrap().to_vec1().unwrap();
    let want = 0.5 * a.iter().map(|v| v.abs() as f64).sum::<f64>() / a.len() as f64;
    let got = term
        .to_dtype(DType::F64)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap();
    assert!((got - want).abs() < 1e-6 * want.max(1.0), "{got} vs {want}");
    let grads = term.backward().unwrap();
    let g = grads
        .get(model.param("fcs.1.weight").unwrap().as_tensor())
        .unwrap();
    let g = g
        .abs()
        .unwrap()
        .sum_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(g > 0.0, "the penalty must reach fcs.1.weight");
}

#[test]
fn example_runs_on_real_data() {
    let Some(report) = example::run().unwrap() else {
        return;
    };
    assert_eq!(report[0]["name"], "activity-l1");
    assert_eq!(report[0]["report"]["steps"], 50, "200 images / batch 4");
    assert!(report[0]["report"]["mean_penalty"].as_f64().unwrap() > 0.0);
    assert_eq!(report[1]["name"], "dropout");
}
