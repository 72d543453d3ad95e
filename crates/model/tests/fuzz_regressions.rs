//! Checkpoints that broke (or could break) the loader under fuzzing (`fuzz/`, target
//! `checkpoint`; see docs/reliability.md), kept as regression tests: a small file must give a
//! typed error naming the problem, never a panic, an overflow or a huge allocation. Also keeps
//! the committed seed (`fuzz/corpus/checkpoint/`) valid; `NEUROGEN_WRITE_FUZZ_CORPUS=1 cargo
//! test -p neurogen-model --test fuzz_regressions` rewrites it.
use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use neurogen_model::checkpoint::{self, CheckpointMeta};
use neurogen_model::{Cnn, ModelConfig};

/// The smallest network the config allows: 1x4x4 input, two 1-channel convolutions, one
/// hidden layer of 2 units, 2 classes.
fn tiny_config() -> ModelConfig {
    ModelConfig {
        in_channels: 1,
        in_height: 4,
        in_width: 4,
        conv_channels: vec![1, 1],
        hidden_sizes: vec![2],
        num_classes: 2,
    }
}

/// Serialises `model`'s tensors with `meta` (possibly lying about the model) as a checkpoint.
fn checkpoint_bytes(model: &Cnn, meta: &CheckpointMeta) -> Vec<u8> {
    let tensors: Vec<(String, Tensor)> = model
        .named_params()
        .into_iter()
        .map(|(n, _)| (n.to_string(), model.value(n, 0).unwrap()))
        .collect();
    let md = HashMap::from([(
        checkpoint::META_KEY.to_string(),
        serde_json::to_string(meta).unwrap(),
    )]);
    safetensors::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), Some(md)).unwrap()
}

fn load_err(bytes: &[u8]) -> String {
    match checkpoint::load_bytes(bytes, Path::new("fuzzed.safetensors"), &Device::Cpu) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn metadata_claiming_a_huge_network_is_refused_before_allocating_it() {
    // The file holds the tiny network's tensors, its metadata claims a hidden layer of 2^40
    // units: the loader used to build (allocate) the claimed network before comparing shapes.
    let model = Cnn::new(&tiny_config(), 0, &Device::Cpu).unwrap();
    let mut meta = CheckpointMeta::for_model(&model);
    meta.model.hidden_sizes = vec![1 << 40];
    let e = load_err(&checkpoint_bytes(&model, &meta));
    assert!(
        e.contains("fuzzed.safetensors") && e.contains("fcs.0.weight") && e.contains("needs"),
        "{e}"
    );
    // Huge convolutions, likewise.
    let mut meta = CheckpointMeta::for_model(&model);
    meta.model.conv_channels = vec![1 << 30, 1 << 30];
    let e = load_err(&checkpoint_bytes(&model, &meta));
    assert!(e.contains("conv1.weight"), "{e}");
}

#[test]
fn metadata_whose_sizes_overflow_is_an_error_not_a_panic() {
    let model = Cnn::new(&tiny_config(), 0, &Device::Cpu).unwrap();
    let mut meta = CheckpointMeta::for_model(&model);
    // flatten_dim = channels * h * w overflows usize.
    meta.model.in_height = usize::MAX;
    meta.model.in_width = usize::MAX;
    meta.model.conv_channels = vec![3, 3];
    let e = load_err(&checkpoint_bytes(&model, &meta));
    assert!(e.contains("impossibly large"), "{e}");
    let mut meta = CheckpointMeta::for_model(&model);
    meta.model.hidden_sizes = vec![usize::MAX, usize::MAX];
    let e = load_err(&checkpoint_bytes(&model, &meta));
    assert!(e.contains("impossibly large"), "{e}");
}

#[test]
fn invalid_configs_are_reported_by_the_rule_they_break() {
    let model = Cnn::new(&tiny_config(), 0, &Device::Cpu).unwrap();
    let mut meta = CheckpointMeta::for_model(&model);
    meta.model.hidden_sizes = vec![0];
    let e = load_err(&checkpoint_bytes(&model, &meta));
    assert!(e.contains("hidden_sizes"), "{e}");
    let mut meta = CheckpointMeta::for_model(&model);
    // An odd number of convolutions (no convolution is an MLP, which is valid).
    meta.model.conv_channels = vec![1];
    let e = load_err(&checkpoint_bytes(&model, &meta));
    assert!(e.contains("conv_channels"), "{e}");
}

#[test]
fn seed_corpus_is_a_valid_checkpoint() {
    let model = Cnn::new(&tiny_config(), 0, &Device::Cpu).unwrap();
    let bytes = checkpoint_bytes(&model, &CheckpointMeta::for_model(&model));
    let ck = checkpoint::load_bytes(&bytes, Path::new("tiny.safetensors"), &Device::Cpu).unwrap();
    assert_eq!(ck.model.config(), &tiny_config());
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/checkpoint/tiny.safetensors");
    if std::env::var_os("NEUROGEN_WRITE_FUZZ_CORPUS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &bytes).unwrap();
    }
    match std::fs::read(&path) {
        Ok(committed) => {
            checkpoint::load_bytes(&committed, &path, &Device::Cpu).unwrap();
        }
        Err(_) => eprintln!(
            "SKIP: {} absent (NEUROGEN_WRITE_FUZZ_CORPUS=1 writes it)",
            path.display()
        ),
    }
}
