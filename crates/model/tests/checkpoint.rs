//! Checkpoint round trips and bad checkpoints.
use candle_core::{DType, Device, Tensor};
use neurogen_model::checkpoint::{self, CheckpointMeta};
use neurogen_model::{Cnn, ModelConfig};

fn meta(model: &Cnn) -> CheckpointMeta {
    CheckpointMeta {
        regularizer: serde_json::json!({"dropout": {"p": 0.2}}),
        epoch: 3,
        seed: 11,
        dataset: "cifar10".into(),
        metrics: serde_json::json!({"test_accuracy": 0.5}),
        ..CheckpointMeta::for_model(model)
    }
}

#[test]
fn round_trip_keeps_weights_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let model = Cnn::new(&ModelConfig::cifar10(), 11, &Device::Cpu).unwrap();
    checkpoint::save(&model, &meta(&model), &path).unwrap();
    let ck = checkpoint::load(&path, &Device::Cpu).unwrap();
    assert_eq!(ck.meta, meta(&model));
    for ((n1, v1), (n2, v2)) in model
        .named_params()
        .into_iter()
        .zip(ck.model.named_params())
    {
        assert_eq!(n1, n2);
        let a: Vec<f32> = v1.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f32> = v2.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(a, b, "{n1}");
    }
    // The file is plain safetensors with PyTorch names and shapes, and format=pt metadata.
    let bytes = std::fs::read(&path).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    assert_eq!(
        header.metadata().as_ref().unwrap().get("format").unwrap(),
        "pt"
    );
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("fcs.0.weight").unwrap().shape(), &[250, 1024]);
    assert_eq!(st.tensor("fc3.weight").unwrap().shape(), &[10, 250]);
    assert!(st.tensor("fc3.bias").is_err());
    // No temporary files are left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn grown_network_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grown.safetensors");
    let mut model = Cnn::new(
        &ModelConfig::fashion_mnist().with_hidden_width(6),
        0,
        &Device::Cpu,
    )
    .unwrap();
    model
        .set_param(
            "fcs.1.weight",
            &Tensor::ones((1, 8, 6), DType::F32, &Device::Cpu).unwrap(),
        )
        .unwrap();
    model
        .set_param(
            "fcs.1.bias",
            &Tensor::ones((1, 8), DType::F32, &Device::Cpu).unwrap(),
        )
        .unwrap();
    model
        .set_param(
            "fcs.2.weight",
            &Tensor::ones((1, 6, 8), DType::F32, &Device::Cpu).unwrap(),
        )
        .unwrap();
    checkpoint::save(&model, &meta(&model), &path).unwrap();
    let ck = checkpoint::load(&path, &Device::Cpu).unwrap();
    assert_eq!(ck.model.config().hidden_sizes, vec![6, 8, 6]);
}

fn write_tensors(
    path: &std::path::Path,
    tensors: Vec<(String, Tensor)>,
    meta_json: Option<String>,
) {
    let md = meta_json.map(|j| std::collections::HashMap::from([("neurogen".to_string(), j)]));
    let bytes = safetensors::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), md).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn bad_checkpoints_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = Cnn::new(
        &ModelConfig::fashion_mnist().with_hidden_width(6),
        0,
        &Device::Cpu,
    )
    .unwrap();
    let meta_json = serde_json::to_string(&meta(&model)).unwrap();
    let all: Vec<(String, Tensor)> = model
        .named_params()
        .into_iter()
        .map(|(n, _)| (n.to_string(), model.value(n, 0).unwrap()))
        .collect();
    let err = |path: &std::path::Path| {
        checkpoint::load(path, &Device::Cpu)
            .unwrap_err()
            .to_string()
    };

    let p = dir.path().join("not.safetensors");
    std::fs::write(&p, b"this is not a checkpoint").unwrap();
    let e = err(&p);
    assert!(
        e.contains("not a safetensors file") && e.contains("not.safetensors"),
        "{e}"
    );

    let p = dir.path().join("truncated.safetensors");
    checkpoint::save(&model, &meta(&model), &p).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    assert!(err(&p).contains("not a safetensors file"), "{}", err(&p));

    let p = dir.path().join("missing.safetensors");
    write_tensors(
        &p,
        all.iter()
            .filter(|(n, _)| n != "fcs.1.bias")
            .cloned()
            .collect(),
        Some(meta_json.clone()),
    );
    assert!(err(&p).contains("missing tensor fcs.1.bias"), "{}", err(&p));

    let p = dir.path().join("shape.safetensors");
    let mut wrong = all.clone();
    wrong[0].1 = Tensor::zeros((16, 1, 5, 5), DType::F32, &Device::Cpu).unwrap();
    write_tensors(&p, wrong, Some(meta_json.clone()));
    let e = err(&p);
    assert!(
        e.contains("conv1.weight") && e.contains("[16, 1, 5, 5]"),
        "{e}"
    );

    let p = dir.path().join("dtype.safetensors");
    let mut wrong = all.clone();
    wrong[1].1 = Tensor::zeros(16, DType::U8, &Device::Cpu).unwrap();
    write_tensors(&p, wrong, Some(meta_json.clone()));
    assert!(err(&p).contains("conv1.bias has dtype"), "{}", err(&p));

    let p = dir.path().join("nometa.safetensors");
    write_tensors(&p, all.clone(), None);
    assert!(err(&p).contains("not written by neurogen"), "{}", err(&p));

    let p = dir.path().join("extra.safetensors");
    let mut extra = all.clone();
    extra.push((
        "fc3.bias".into(),
        Tensor::zeros(10, DType::F32, &Device::Cpu).unwrap(),
    ));
    write_tensors(&p, extra, Some(meta_json));
    assert!(
        err(&p).contains("unexpected tensor fc3.bias"),
        "{}",
        err(&p)
    );

    assert!(err(&dir.path().join("absent.safetensors")).contains("absent.safetensors"));
}

#[test]
fn a_checkpoint_with_a_nan_or_inf_weight_is_refused_naming_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let model = Cnn::new(
        &ModelConfig::fashion_mnist().with_hidden_width(6),
        0,
        &Device::Cpu,
    )
    .unwrap();
    let good = dir.path().join("good.safetensors");
    checkpoint::save(&model, &meta(&model), &good).unwrap();
    checkpoint::load(&good, &Device::Cpu).unwrap();
    // Edit the saved file's bytes: one value of fcs.1.weight (and, in a second file, of
    // conv2.bias) becomes NaN / +inf, everything else (metadata included) as saved.
    let bytes = std::fs::read(&good).unwrap();
    let poisoned = |tensor: &str, at: usize, value: f32| -> Vec<u8> {
        let (header_len, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let info = header.info(tensor).unwrap();
        let start = 8 + header_len + info.data_offsets.0 + 4 * at;
        let mut b = bytes.clone();
        b[start..start + 4].copy_from_slice(&value.to_le_bytes());
        b
    };
    for (tensor, at, value) in [
        ("fcs.1.weight", 7, f32::NAN),
        ("conv2.bias", 0, f32::INFINITY),
    ] {
        let path = dir.path().join(format!("{tensor}.safetensors"));
        std::fs::write(&path, poisoned(tensor, at, value)).unwrap();
        let e = checkpoint::load(&path, &Device::Cpu).unwrap_err();
        match &e {
            neurogen_model::ModelError::NonFiniteWeights {
                path: p,
                tensor: t,
                count,
                index,
                ..
            } => {
                assert_eq!(p, &path);
                assert_eq!(t, tensor);
                assert_eq!((*count, *index), (1, at));
            }
            other => panic!("{tensor}: expected NonFiniteWeights, got {other:?}"),
        }
        let msg = e.to_string();
        assert!(
            msg.contains(tensor) && msg.contains(&path.display().to_string()),
            "{msg}"
        );
        let e = checkpoint::load_bytes(&std::fs::read(&path).unwrap(), &path, &Device::Cpu)
            .unwrap_err();
        assert!(e.to_string().contains(tensor), "{e}");
    }
}
