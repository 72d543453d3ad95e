//! Safetensors checkpoints that load into the reference PyTorch model.
//!
//! Tensors are named and shaped as in PyTorch (`conv1.weight` … `fc3.weight`), stored as f32.
//! The safetensors metadata (`__metadata__`, string to string) holds `format` = `pt` and
//! `neurogen` = a JSON [`CheckpointMeta`] (model config, regulariser config, epoch, seed,
//! dataset, metrics, version). Writes are atomic ([`neurogen_io::write_atomic`]), so an
//! existing checkpoint is never left half-written.
//!
//! In Python: `torch_model.load_state_dict(safetensors.torch.load_file("model.safetensors"))`.
use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::config::ModelConfig;
use crate::error::{ModelError, Result};
use crate::net::{param_shapes, Cnn};

/// The metadata key holding neurogen's JSON metadata.
pub const META_KEY: &str = "neurogen";

/// What a checkpoint records beside the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// The network's shape (hidden widths after any growth).
    pub model: ModelConfig,
    /// The regularisers' settings and report (JSON; `cargo xtask` writes the specification set
    /// and the run's `Regularizer::report`).
    pub regularizer: serde_json::Value,
    /// Number of epochs trained.
    pub epoch: usize,
    /// Seed of the initial weights.
    pub seed: u64,
    /// Dataset name (e.g. `cifar10`).
    pub dataset: String,
    /// Metrics of the run (JSON; `TrainMetrics` when written by `cargo xtask train`).
    pub metrics: serde_json::Value,
    /// Version of neurogen that wrote the file.
    pub version: String,
}

impl CheckpointMeta {
    /// Metadata for `model` with everything else empty.
    pub fn for_model(model: &Cnn) -> Self {
        CheckpointMeta {
            model: model.config().clone(),
            regularizer: serde_json::Value::Null,
            epoch: 0,
            seed: 0,
            dataset: String::new(),
            metrics: serde_json::Value::Null,
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// Saves the weights of `model` (one network; save `model.replica(r)` of a model of several
/// replicas) as f32 in PyTorch's names and shapes, and `meta`, to `path`, atomically.
pub fn save(model: &Cnn, meta: &CheckpointMeta, path: &Path) -> Result<()> {
    if model.replicas() != 1 {
        return Err(ModelError::Config(format!(
            "a checkpoint holds one network, this model has {} replicas: save model.replica(r)",
            model.replicas()
        )));
    }
    let tensors: Vec<(String, Tensor)> = model
        .named_params()
        .into_iter()
        .map(|(n, v)| {
            Ok((
                n.to_string(),
                v.as_tensor()
                    .squeeze(0)?
                    .to_dtype(DType::F32)?
                    .to_device(&Device::Cpu)?,
            ))
        })
        .collect::<Result<_>>()?;
    let json =
        serde_json::to_string(meta).map_err(|e| ModelError::Config(format!("metadata: {e}")))?;
    let metadata: HashMap<String, String> = [
        ("format".to_string(), "pt".to_string()),
        (META_KEY.to_string(), json),
    ]
    .into();
    let bytes =
        safetensors::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata))
            .map_err(|e| ModelError::Checkpoint {
                path: path.to_path_buf(),
                reason: format!("serialising failed: {e}"),
            })?;
    Ok(neurogen_io::write_atomic(path, &bytes)?)
}

/// A loaded checkpoint.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The network, on the requested device.
    pub model: Cnn,
    /// Its metadata.
    pub meta: CheckpointMeta,
}

/// Loads a checkpoint written by [`save`], validating names, shapes and dtypes, and refusing
/// NaN or infinite weights ([`ModelError::NonFiniteWeights`], naming the tensor).
pub fn load(path: &Path, device: &Device) -> Result<Checkpoint> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    load_bytes(&bytes, path, device)
}

/// Like [`load`] from bytes in memory; `path` is used in error messages.
pub fn load_bytes(bytes: &[u8], path: &Path, device: &Device) -> Result<Checkpoint> {
    let bad = |reason: String| ModelError::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
    let json = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get(META_KEY))
        .ok_or_else(|| bad(format!("no `{META_KEY}` metadata: not written by neurogen")))?;
    let meta: CheckpointMeta = serde_json::from_str(json)
        .map_err(|e| bad(format!("`{META_KEY}` metadata is not valid: {e}")))?;
    // Before anything is allocated for the model (or `validate` multiplies sizes), check that
    // the config's parameter shapes are computable and are exactly the tensors the file holds:
    // a corrupt config must not make a small file allocate a huge network.
    let expected = param_shapes(&meta.model).ok_or_else(|| {
        bad(format!(
            "model config is impossibly large (sizes overflow): {:?}",
            meta.model
        ))
    })?;
    meta.model.validate().map_err(|e| bad(e.to_string()))?;
    for (name, dims) in &expected {
        let view = st
            .tensor(name)
            .map_err(|_| bad(format!("missing tensor {name}")))?;
        if view.shape() != dims.as_slice() {
            return Err(bad(format!(
                "tensor {name} has shape {:?}, the model config needs {:?}",
                view.shape(),
                dims
            )));
        }
    }
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        let dtype = view.dtype();
        if !matches!(
            dtype,
            safetensors::Dtype::F32
                | safetensors::Dtype::F64
                | safetensors::Dtype::F16
                | safetensors::Dtype::BF16
        ) {
            return Err(bad(format!(
                "tensor {name} has dtype {dtype:?}, expected F32"
            )));
        }
        let t = candle_core::safetensors::Load::load(&view, &Device::Cpu)
            .map_err(|e| bad(format!("tensor {name}: {e}")))?
            .to_dtype(DType::F32)?;
        tensors.insert(name, t);
    }
    for (name, _) in &expected {
        check_finite(&tensors[name], name, path)?;
    }
    let model = Cnn::from_tensors(&meta.model, &tensors, device).map_err(|e| bad(e.to_string()))?;
    Ok(Checkpoint { model, meta })
}

/// Fails with [`ModelError::NonFiniteWeights`] if the (f32, CPU) tensor `t` holds a NaN or an
/// infinity.
fn check_finite(t: &Tensor, name: &str, path: &Path) -> Result<()> {
    let values = t.flatten_all()?.to_vec1::<f32>()?;
    let mut bad = values.iter().enumerate().filter(|(_, v)| !v.is_finite());
    if let Some((index, &value)) = bad.next() {
        return Err(ModelError::NonFiniteWeights {
            path: path.to_path_buf(),
            tensor: name.to_string(),
            count: 1 + bad.count(),
            index,
            value,
        });
    }
    Ok(())
}
