//! The frozen-layers control, and what the published code's neurogenesis does to the same
//! three tensors (issue #19): with `reference_quirks`, `fcs.1.weight`, `fcs.1.bias` and
//! `fcs.2.weight` are never trained — no optimiser update reaches them, and their final values
//! are the last redraw of epoch 0's events applied to the initial weights.
use candle_core::Device;
use neurogen_data::{ImageShape, Split};
use neurogen_model::{
    edit_replica, train, Adam, AdamConfig, Cnn, ModelConfig, Silent, StepCtx, TrainConfig,
};
use neurogen_regularizers::{build, Neurogenesis, NeurogenesisConfig, RegularizerSet, UnitCount};

const FROZEN: [&str; 3] = ["fcs.1.weight", "fcs.1.bias", "fcs.2.weight"];

/// 48 synthetic 1x28x28 images with labels 0..9 (12 steps an epoch at batch 4).
fn split() -> Split {
    let shape = ImageShape {
        channels: 1,
        height: 28,
        width: 28,
    };
    let images: Vec<u8> = (0..48 * 784)
        .map(|i| ((i * 7 + i / 784) % 251) as u8)
        .collect();
    let labels: Vec<u8> = (0..48).map(|i| (i % 10) as u8).collect();
    Split::new(shape, images, labels).unwrap()
}

fn cfg() -> ModelConfig {
    ModelConfig::fashion_mnist().with_hidden_width(16)
}

fn vals(m: &Cnn, name: &str) -> Vec<f32> {
    m.value(name, 0)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

fn train_with(specs: &[&str], quirks: bool, seed: u64) -> (Cnn, Adam, serde_json::Value) {
    let set = RegularizerSet::from_specs(specs, quirks).unwrap();
    let mut reg = build(&set, seed).unwrap();
    let mut model = Cnn::new(&cfg(), seed, &Device::Cpu).unwrap();
    let s = split();
    let config = TrainConfig {
        epochs: 2,
        seed,
        adam: AdamConfig {
            lr: 1e-3,
            ..AdamConfig::default()
        },
        eval_train_at_end: false,
        ..TrainConfig::default()
    };
    let (metrics, adam) = train(&mut model, &s, None, &config, &mut reg, &mut Silent).unwrap();
    (model, adam, metrics.regularizer)
}

#[test]
fn frozen_layers_keep_their_initial_values_and_the_rest_trains() {
    let init = Cnn::new(&cfg(), 3, &Device::Cpu).unwrap();
    let (model, adam, _) = train_with(&["freeze"], false, 3);
    for (name, _) in init.named_params() {
        let same = vals(&model, name) == vals(&init, name);
        assert_eq!(same, FROZEN.contains(&name), "{name}");
        // No optimiser update ever reached a frozen tensor.
        assert_eq!(
            adam.state(name, 0).unwrap().is_none(),
            FROZEN.contains(&name),
            "{name}"
        );
    }
    let bad = RegularizerSet::from_specs(["freeze:layer=3"], false).unwrap();
    let mut reg = build(&bad, 0).unwrap();
    let mut m = Cnn::new(&cfg(), 0, &Device::Cpu).unwrap();
    let e = train(
        &mut m,
        &split(),
        None,
        &TrainConfig {
            epochs: 1,
            ..TrainConfig::default()
        },
        &mut reg,
        &mut Silent,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("layer=3 does not exist"), "{e}");
}

#[test]
fn published_neurogenesis_never_trains_the_three_tensors() {
    let seed = 5;
    let spec = "neurogenesis:n=4,every=1,until_epoch=1";
    let (model, adam, report) = train_with(&[spec], true, seed);
    // Quirk (a): an event before each of epoch 0's 12 minibatches, none after.
    let log = report[0]["report"]["event_log"].as_array().unwrap().clone();
    assert_eq!(log.len(), 12);
    assert!(log.iter().all(|e| e["epoch"] == 0));
    // Quirk (b): the first event comes before the first optimiser step, so Adam never holds
    // state for the three tensors.
    for name in FROZEN {
        assert!(adam.state(name, 0).unwrap().is_none(), "{name} was updated");
    }
    // Their final values are the 12 redraws applied to the initial weights, nothing else:
    // replay the same events (same random stream as `build`) on the untrained network.
    let set = RegularizerSet::from_specs([spec], true).unwrap();
    let ng_cfg = match &set.specs[0] {
        neurogen_regularizers::RegularizerSpec::Neurogenesis(c) => *c,
        _ => unreachable!(),
    };
    assert_eq!(ng_cfg.n, UnitCount::Count(4));
    let mut replay = Neurogenesis::new(
        NeurogenesisConfig { ..ng_cfg },
        true,
        neurogen_regularizers::spec::stream(seed, 2, 0),
    )
    .unwrap();
    let mut net = Cnn::new(&cfg(), seed, &Device::Cpu).unwrap();
    let mut opt = Adam::new(AdamConfig::default(), 1).unwrap();
    for batch in 0..12 {
        let ctx = StepCtx {
            epoch: 0,
            batch,
            step: batch,
            batches_per_epoch: 12,
        };
        edit_replica(&mut net, &mut opt, 0, ctx, |cx| {
            replay.event(cx).map(|_| ()).map_err(Into::into)
        })
        .unwrap();
    }
    for name in FROZEN {
        assert_eq!(vals(&model, name), vals(&net, name), "{name}");
    }
    // Everything else did train.
    assert_ne!(vals(&model, "fcs.0.weight"), vals(&net, "fcs.0.weight"));
    assert_ne!(vals(&model, "fc3.weight"), vals(&net, "fc3.weight"));
}
