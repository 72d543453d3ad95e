//! FlyModel checkpoints: the projection Θ, the output weights `W` and the settings in one
//! safetensors file, written atomically (the conventions of `neurogen_model::checkpoint`).
//!
//! Tensors: `projection.index` (`[m, s]` u32: the inputs each Kenyon cell sums) and `weights`
//! (`[classes, m]` f32). Metadata: `format` = `neurogen-flymodel` and `neurogen` = JSON of the
//! [`FlyConfig`] and the writing version. Loading validates every part (shapes, input indices
//! distinct and in range, weights finite and in `[0, 1]`, the settings' ranges) and names the
//! file and the problem; it never panics on a damaged file.
//!
//! ```
//! use neurogen_learners::{checkpoint, FlyConfig, FlyModel};
//! let fly = FlyModel::new(FlyConfig { kenyon_cells: 40, ..FlyConfig::new(4, 2) })?;
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("fly.safetensors");
//! checkpoint::save_fly(&fly, &path)?;
//! let back = checkpoint::load_fly(&path)?;
//! assert_eq!(back.weights(), fly.weights());
//! # Ok::<(), neurogen_learners::LearnerError>(())
//! ```
use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{LearnerError, Result};
use crate::fly::{FlyConfig, FlyModel, Projection};

/// The `format` metadata of a FlyModel checkpoint.
pub const FLY_FORMAT: &str = "neurogen-flymodel";
/// The metadata key of the JSON settings.
pub const META_KEY: &str = "neurogen";

/// What a FlyModel checkpoint records beside its tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlyMeta {
    /// The settings (sizes, winner-take-all, β, α, scaling, seed).
    pub config: FlyConfig,
    /// Version of neurogen that wrote the file.
    pub version: String,
}

fn bad(path: &Path, reason: impl Into<String>) -> LearnerError {
    LearnerError::Cache {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Saves `fly` (projection, weights, settings) to `path` atomically.
pub fn save_fly(fly: &FlyModel, path: &Path) -> Result<()> {
    use safetensors::{tensor::TensorView, Dtype};
    let p = fly.projection();
    let index: Vec<u8> = p.index().iter().flat_map(|v| v.to_le_bytes()).collect();
    let weights: Vec<u8> = fly.weights().iter().flat_map(|v| v.to_le_bytes()).collect();
    let meta = FlyMeta {
        config: fly.config().clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let json = serde_json::to_string(&meta).map_err(|e| bad(path, format!("metadata: {e}")))?;
    let metadata: HashMap<String, String> = [
        ("format".to_string(), FLY_FORMAT.to_string()),
        (META_KEY.to_string(), json),
    ]
    .into();
    let views = [
        (
            "projection.index",
            TensorView::new(Dtype::U32, vec![p.cells(), p.synapses()], &index),
        ),
        (
            "weights",
            TensorView::new(Dtype::F32, vec![fly.config().classes, p.cells()], &weights),
        ),
    ]
    .into_iter()
    .map(|(n, v)| v.map(|v| (n, v)))
    .collect::<std::result::Result<Vec<_>, _>>()
    .map_err(|e| bad(path, format!("serialising failed: {e}")))?;
    let bytes = safetensors::serialize(views, Some(metadata))
        .map_err(|e| bad(path, format!("serialising failed: {e}")))?;
    neurogen_io::write_atomic(path, &bytes).map_err(|e| bad(path, e.to_string()))
}

/// Loads a FlyModel checkpoint written by [`save_fly`], validating it (module documentation).
pub fn load_fly(path: &Path) -> Result<FlyModel> {
    let bytes = std::fs::read(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
    load_fly_bytes(&bytes, path)
}

/// [`load_fly`] from bytes in memory (`path` names the file in errors).
pub fn load_fly_bytes(bytes: &[u8], path: &Path) -> Result<FlyModel> {
    use safetensors::Dtype;
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(path, format!("not a safetensors file ({e})")))?;
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| bad(path, format!("not a safetensors file ({e})")))?;
    let meta = header.metadata().as_ref();
    let format = meta.and_then(|m| m.get("format"));
    if format.map(String::as_str) != Some(FLY_FORMAT) {
        return Err(bad(
            path,
            format!("format is {format:?}, not {FLY_FORMAT:?}: not a FlyModel checkpoint"),
        ));
    }
    let json = meta
        .and_then(|m| m.get(META_KEY))
        .ok_or_else(|| bad(path, format!("no `{META_KEY}` metadata")))?;
    let m: FlyMeta = serde_json::from_str(json)
        .map_err(|e| bad(path, format!("`{META_KEY}` metadata is not valid: {e}")))?;
    let c = &m.config;
    let tensor = |name: &str, dtype: Dtype, shape: [usize; 2]| {
        let t = st
            .tensor(name)
            .map_err(|_| bad(path, format!("missing tensor {name}")))?;
        if t.dtype() != dtype || t.shape() != shape {
            return Err(bad(
                path,
                format!(
                    "tensor {name} is {:?} {:?}, the settings need {dtype:?} {shape:?}",
                    t.dtype(),
                    t.shape()
                ),
            ));
        }
        Ok(t)
    };
    let index = tensor("projection.index", Dtype::U32, [c.kenyon_cells, c.synapses])?;
    let weights = tensor("weights", Dtype::F32, [c.classes, c.kenyon_cells])?;
    let index: Vec<usize> = index
        .data()
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let cells: Vec<Vec<usize>> = index
        .chunks(c.synapses.max(1))
        .map(<[usize]>::to_vec)
        .collect();
    let projection =
        Projection::from_cells(c.inputs, &cells).map_err(|e| bad(path, e.to_string()))?;
    let weights: Vec<f32> = weights
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    FlyModel::from_parts(m.config.clone(), projection, weights)
        .map_err(|e| bad(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Learner;
    use candle_core::{Device, Tensor};

    fn trained() -> FlyModel {
        let mut fly = FlyModel::new(FlyConfig {
            kenyon_cells: 64,
            seed: 3,
            ..FlyConfig::new(8, 3)
        })
        .unwrap();
        let x: Vec<f32> = (0..6 * 8).map(|i| ((i * 7) % 11) as f32).collect();
        let x = Tensor::from_vec(x, (6, 8), &Device::Cpu).unwrap();
        let y = Tensor::new(&[0u32, 1, 2, 0, 1, 2], &Device::Cpu).unwrap();
        fly.learn(&x, &y).unwrap();
        fly
    }

    #[test]
    fn round_trip_is_exact() {
        let fly = trained();
        assert!(fly.weights().iter().any(|&w| w > 0.0));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fly.safetensors");
        save_fly(&fly, &path).unwrap();
        let back = load_fly(&path).unwrap();
        assert_eq!(back.config(), fly.config());
        assert_eq!(back.projection(), fly.projection());
        assert_eq!(back.weights(), fly.weights());
        let x =
            Tensor::from_vec((0..16).map(|i| i as f32).collect(), (2, 8), &Device::Cpu).unwrap();
        let a: Vec<f32> = fly
            .scores(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let b: Vec<f32> = back
            .scores(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(a, b);
    }

    /// The file with one tensor replaced (re-serialised with the same metadata).
    fn with_tensor(
        fly: &FlyModel,
        name: &str,
        shape: Vec<usize>,
        data: Vec<u8>,
        dtype: safetensors::Dtype,
    ) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        save_fly(fly, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut views = Vec::new();
        for (n, v) in st.tensors() {
            if n == name {
                views.push((
                    n,
                    safetensors::tensor::TensorView::new(dtype, shape.clone(), &data).unwrap(),
                ));
            } else {
                views.push((n, v));
            }
        }
        safetensors::serialize(views, header.metadata().clone()).unwrap()
    }

    #[test]
    fn damaged_files_are_refused_by_name() {
        let fly = trained();
        let p = Path::new("fly.safetensors");
        let m = fly.config().kenyon_cells;
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"not a file".to_vec(), "not a safetensors file"),
            (Vec::new(), "not a safetensors file"),
            (
                with_tensor(
                    &fly,
                    "weights",
                    vec![3, m],
                    {
                        let mut w: Vec<u8> =
                            fly.weights().iter().flat_map(|v| v.to_le_bytes()).collect();
                        w[..4].copy_from_slice(&f32::NAN.to_le_bytes());
                        w
                    },
                    safetensors::Dtype::F32,
                ),
                "output weight 0 (class 0, cell 0) is NaN",
            ),
            (
                with_tensor(
                    &fly,
                    "weights",
                    vec![3, m],
                    {
                        let mut w: Vec<u8> =
                            fly.weights().iter().flat_map(|v| v.to_le_bytes()).collect();
                        w[4..8].copy_from_slice(&2f32.to_le_bytes());
                        w
                    },
                    safetensors::Dtype::F32,
                ),
                "is 2: the rule keeps W in [0, 1]",
            ),
            (
                with_tensor(
                    &fly,
                    "weights",
                    vec![2, m],
                    vec![0; 8 * m],
                    safetensors::Dtype::F32,
                ),
                "tensor weights is F32 [2, 64], the settings need F32 [3, 64]",
            ),
            (
                with_tensor(
                    &fly,
                    "projection.index",
                    vec![m, 8],
                    vec![0; 4 * 8 * m],
                    safetensors::Dtype::U32,
                ),
                "must be distinct",
            ),
            (
                with_tensor(
                    &fly,
                    "projection.index",
                    vec![m, 8],
                    (0..8 * m)
                        .flat_map(|i| ((i % 8 + 8 * (i == 0) as usize) as u32).to_le_bytes())
                        .collect(),
                    safetensors::Dtype::U32,
                ),
                "below 8",
            ),
        ];
        for (bytes, want) in cases {
            let e = load_fly_bytes(&bytes, p).expect_err(want).to_string();
            assert!(
                e.contains(want) && e.contains("fly.safetensors"),
                "{want}: {e}"
            );
        }
        // A model checkpoint of another kind (no FlyModel format).
        let other = safetensors::serialize(
            [(
                "w",
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &[0u8; 4])
                    .unwrap(),
            )],
            None,
        )
        .unwrap();
        let e = load_fly_bytes(&other, p).err().unwrap().to_string();
        assert!(e.contains("not a FlyModel checkpoint"), "{e}");
    }
}
