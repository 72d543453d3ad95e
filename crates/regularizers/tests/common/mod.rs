//! Helpers shared by the regularisers' tests.
#![allow(dead_code)]
use std::sync::OnceLock;

use candle_core::{DType, Device, Tensor};
use neurogen_data::{LoadOptions, Split};
use neurogen_model::{Adam, AdamConfig, Cnn, ModelConfig, ParamState};
use rand::SeedableRng;

/// A Fashion-MNIST-shaped network with hidden width `width`.
pub fn model(width: usize, seed: u64) -> Cnn {
    Cnn::new(
        &ModelConfig::fashion_mnist().with_hidden_width(width),
        seed,
        &Device::Cpu,
    )
    .unwrap()
}

/// An optimiser whose every parameter has non-zero, distinct moments (as after training).
pub fn adam_with_state(model: &Cnn, seed: u64) -> Adam {
    let mut adam = Adam::new(AdamConfig::default()).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for (name, v) in model.named_params() {
        let mut st = |s: f64| {
            (neurogen_model::init::uniform(&mut rng, v.dims(), 1.0, DType::F32, &Device::Cpu)
                .unwrap()
                .abs()
                .unwrap()
                + s)
                .unwrap()
        };
        let m = st(0.01);
        let w = st(0.02);
        adam.set_state(&name, ParamState { m, v: w, step: 17 });
    }
    adam
}

/// A tensor's values as f32.
pub fn vals(t: &Tensor) -> Vec<f32> {
    t.to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// Every parameter's values, by name.
pub fn params(model: &Cnn) -> Vec<(String, Vec<f32>)> {
    model
        .named_params()
        .into_iter()
        .map(|(n, v)| (n, vals(v.as_tensor())))
        .collect()
}

/// Real Fashion-MNIST (train, test) subsets, loaded once per test binary; `None` (after a
/// visible SKIP message) when the dataset is not installed.
pub fn fashion(n_train: usize, n_test: usize) -> Option<(Split, Split)> {
    static DATA: OnceLock<Option<neurogen_data::Dataset>> = OnceLock::new();
    let data = DATA.get_or_init(|| {
        let dir = neurogen_data::fashion_mnist_dir()?;
        Some(
            neurogen_data::load(&dir, &LoadOptions::no_cache())
                .unwrap()
                .dataset,
        )
    });
    match data {
        None => {
            eprintln!(
                "SKIP: Fashion-MNIST not installed (apt-get install -y dataset-fashion-mnist)"
            );
            None
        }
        Some(d) => Some((
            d.train.sample(n_train, 1).unwrap(),
            d.test.sample(n_test, 2).unwrap(),
        )),
    }
}
