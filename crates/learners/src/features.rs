//! Features from a frozen extractor, and their cache.
//!
//! The papers run the fly model and its baselines on features of a network trained on other
//! data (MNIST-20: LeNet-5 trained on KMNIST; CIFAR-100: ResNet-18). Here the extractor is the
//! workspace's CNN (`neurogen_model::Cnn`, the paper's network by default) trained by the one
//! training loop on an extractor split that shares no image with the benchmark, then frozen:
//! the features of an image are the activations of one hidden layer (by default the last, 250
//! units) in evaluation mode.
//!
//! [`extract`] trains the extractor, measures its accuracy on a held-out split, computes the
//! features of the benchmark's training and test images, and caches them in one safetensors
//! file keyed by [`cache_key`] (the extractor's settings and a SHA-256 of every image and label
//! involved): a later call with the same key reads the file instead of training. The file is
//! written atomically and validated on load (metadata key, shapes, labels equal to the
//! benchmark's, a SHA-256 of the tensor data, finite values); a file that fails validation is
//! recomputed and replaced, and [`CacheStatus::Recomputed`] says why.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Device;
use neurogen_data::Split;
use neurogen_model::{
    evaluate, hidden_activations, train, AdamConfig, Cnn, ModelConfig, NoRegularizer, TrainConfig,
    TrainObserver, EVAL_BATCH,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{config, LearnerError, Result};
use crate::harness::FeatureSplit;

/// Version of the cache file layout (part of the key: a new layout never reads an old file).
const CACHE_VERSION: &str = "neurogen-features-v1";
/// The safetensors metadata key holding the [`ExtractorReport`] JSON.
const META_REPORT: &str = "extractor";
/// The metadata key holding the cache key.
const META_KEY: &str = "key";
/// The metadata key holding the SHA-256 of the tensor data.
const META_SHA: &str = "sha256";

/// How the extractor is built and trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractorConfig {
    /// The network (e.g. `ModelConfig::cifar10()`: six convolutions, three hidden layers of
    /// 250).
    pub model: ModelConfig,
    /// The hidden layer whose activations (after ReLU) are the features (0-based).
    pub layer: usize,
    /// Training epochs over the extractor split.
    pub epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Seed of the initial weights and the minibatch order.
    pub seed: u64,
}

impl ExtractorConfig {
    /// The paper's CNN for `model`'s input, features from its last hidden layer, Adam lr 1e-3,
    /// batch 32, `epochs` epochs, seed 0.
    pub fn last_hidden(model: ModelConfig, epochs: usize) -> Self {
        let layer = model.hidden_sizes.len().saturating_sub(1);
        ExtractorConfig {
            model,
            layer,
            epochs,
            batch_size: 32,
            lr: 1e-3,
            seed: 0,
        }
    }

    /// Checks every setting, naming what is out of range.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        if self.layer >= self.model.hidden_sizes.len() {
            return config(format!(
                "the feature layer {} does not exist: the network has {} hidden layers",
                self.layer,
                self.model.hidden_sizes.len()
            ));
        }
        if self.epochs == 0 || self.batch_size == 0 {
            return config(format!(
                "the extractor needs at least 1 epoch and a batch size of at least 1, got {} and {}",
                self.epochs, self.batch_size
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return config(format!(
                "the extractor's learning rate must be a finite number > 0, got {}",
                self.lr
            ));
        }
        Ok(())
    }

    /// Feature dimension: the width of [`ExtractorConfig::layer`].
    pub fn dim(&self) -> usize {
        self.model
            .hidden_sizes
            .get(self.layer)
            .copied()
            .unwrap_or(0)
    }
}

/// The splits an extraction involves.
#[derive(Debug, Clone, Copy)]
pub struct FeatureJob<'a> {
    /// The extractor's settings.
    pub config: &'a ExtractorConfig,
    /// What the extractor is trained on (no image of the benchmark's).
    pub extractor_train: &'a Split,
    /// What its accuracy is measured on (e.g. the test split).
    pub extractor_eval: &'a Split,
    /// The benchmark's training images (their features are the learners' training data).
    pub train: &'a Split,
    /// The benchmark's test images.
    pub test: &'a Split,
}

/// What the extraction measured (stored in the cache beside the features).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractorReport {
    /// The extractor's settings.
    pub config: ExtractorConfig,
    /// Images the extractor was trained on.
    pub train_images: usize,
    /// Images its accuracy was measured on.
    pub eval_images: usize,
    /// Its accuracy on those images (all classes, eval mode).
    pub eval_accuracy: f64,
    /// Seconds spent training it.
    pub train_seconds: f64,
    /// Seconds spent computing the benchmark's features.
    pub feature_seconds: f64,
    /// The cache key ([`cache_key`]).
    pub key: String,
}

/// The benchmark's features and how they were made.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// Features of the benchmark's training images, with their labels.
    pub train: FeatureSplit,
    /// Features of the benchmark's test images, with their labels.
    pub test: FeatureSplit,
    /// The extractor's settings and measurements.
    pub report: ExtractorReport,
}

/// Where the features came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStatus {
    /// Read from this valid cache file; nothing was trained.
    Hit(PathBuf),
    /// Computed and written to this file.
    Written(PathBuf),
    /// The file existed but failed validation (the reason); recomputed and replaced.
    Recomputed {
        /// The cache file.
        path: PathBuf,
        /// Why it was not used.
        reason: String,
    },
    /// Computed, but the cache could not be written (the reason).
    NotWritten(String),
    /// Computed; no cache directory was given.
    Off,
}

/// SHA-256 (hex) of the layout version, the extractor's settings and every image and label of
/// the job's four splits: the same key means the same features.
pub fn cache_key(job: &FeatureJob) -> Result<String> {
    let mut h = Sha256::new();
    h.update(CACHE_VERSION.as_bytes());
    let cfg = serde_json::to_string(job.config)
        .map_err(|e| LearnerError::Config(format!("extractor settings: {e}")))?;
    h.update((cfg.len() as u64).to_le_bytes());
    h.update(cfg.as_bytes());
    for split in [job.extractor_train, job.extractor_eval, job.train, job.test] {
        let s = split.shape();
        for v in [s.channels, s.height, s.width, split.len()] {
            h.update((v as u64).to_le_bytes());
        }
        h.update(split.images());
        h.update(split.labels());
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache file of `key` in `dir`.
pub fn cache_file(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!(
        "features-{}.safetensors",
        &key[..key.len().min(16)]
    ))
}

/// Trains the extractor of `job` and computes the benchmark's features, or reads them from
/// `cache_dir` (see the module documentation). `observer` sees the extractor's training.
pub fn extract(
    job: &FeatureJob,
    cache_dir: Option<&Path>,
    observer: &mut dyn TrainObserver,
) -> Result<(Features, CacheStatus)> {
    job.config.validate()?;
    let m = &job.config.model;
    for (name, split) in [
        ("extractor training", job.extractor_train),
        ("extractor evaluation", job.extractor_eval),
        ("benchmark training", job.train),
        ("benchmark test", job.test),
    ] {
        let s = split.shape();
        if (s.channels, s.height, s.width) != (m.in_channels, m.in_height, m.in_width) {
            return config(format!(
                "the {name} split holds {s} images, the extractor takes {}x{}x{}",
                m.in_channels, m.in_height, m.in_width
            ));
        }
        if split.is_empty() {
            return config(format!("the {name} split is empty"));
        }
        if let Some(&l) = split
            .labels()
            .iter()
            .find(|&&l| l as usize >= m.num_classes)
        {
            return config(format!(
                "the {name} split has label {l}, the extractor has {} classes",
                m.num_classes
            ));
        }
    }
    let key = cache_key(job)?;
    let path = cache_dir.map(|d| cache_file(d, &key));
    let mut recompute_reason = None;
    if let Some(p) = &path {
        if p.exists() {
            match load(p, &key, job.train.labels(), job.test.labels()) {
                Ok(f) => return Ok((f, CacheStatus::Hit(p.clone()))),
                Err(e) => recompute_reason = Some(e.to_string()),
            }
        }
    }
    let features = compute(job, key, observer)?;
    let status = match (&path, cache_dir) {
        (Some(p), Some(d)) => {
            let written = std::fs::create_dir_all(d)
                .map_err(|e| format!("cannot create {}: {e}", d.display()))
                .and_then(|_| save(p, &features).map_err(|e| e.to_string()));
            match (written, recompute_reason) {
                (Err(e), _) => CacheStatus::NotWritten(e),
                (Ok(()), Some(reason)) => CacheStatus::Recomputed {
                    path: p.clone(),
                    reason,
                },
                (Ok(()), None) => CacheStatus::Written(p.clone()),
            }
        }
        _ => CacheStatus::Off,
    };
    Ok((features, status))
}

fn to_features(split: &Split, values: Vec<f32>, dim: usize) -> Result<FeatureSplit> {
    FeatureSplit::new(
        dim,
        values,
        split.labels().iter().map(|&l| l as u32).collect(),
    )
}

fn compute(job: &FeatureJob, key: String, observer: &mut dyn TrainObserver) -> Result<Features> {
    let c = job.config;
    let mut net = Cnn::new(&c.model, c.seed, &Device::Cpu)?;
    let t0 = Instant::now();
    let tc = TrainConfig {
        epochs: c.epochs,
        batch_size: c.batch_size,
        adam: AdamConfig {
            lr: c.lr,
            ..AdamConfig::default()
        },
        seed: c.seed,
        eval_every_epoch: false,
        eval_train_at_end: false,
        eval_batch_size: EVAL_BATCH,
        loss_readback: None,
    };
    train(
        &mut net,
        job.extractor_train,
        None,
        &tc,
        &mut NoRegularizer,
        observer,
    )?;
    let train_seconds = t0.elapsed().as_secs_f64();
    let eval = evaluate(&net, job.extractor_eval, EVAL_BATCH)?;
    let t1 = Instant::now();
    let dim = c.dim();
    let train = to_features(
        job.train,
        hidden_activations(&net, job.train, c.layer, EVAL_BATCH)?,
        dim,
    )?;
    let test = to_features(
        job.test,
        hidden_activations(&net, job.test, c.layer, EVAL_BATCH)?,
        dim,
    )?;
    Ok(Features {
        train,
        test,
        report: ExtractorReport {
            config: c.clone(),
            train_images: job.extractor_train.len(),
            eval_images: job.extractor_eval.len(),
            eval_accuracy: eval.accuracy,
            train_seconds,
            feature_seconds: t1.elapsed().as_secs_f64(),
            key,
        },
    })
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn u32_bytes(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The four tensors of a cache file, in file order: name, dtype, shape, bytes.
fn tensors(f: &Features) -> Vec<(&'static str, safetensors::Dtype, Vec<usize>, Vec<u8>)> {
    use safetensors::Dtype;
    let mut out = Vec::new();
    for (names, s) in [
        (["test.features", "test.labels"], &f.test),
        (["train.features", "train.labels"], &f.train),
    ] {
        let rows = vec![s.len(), s.dim()];
        out.push((names[0], Dtype::F32, rows, f32_bytes(s.features())));
        out.push((names[1], Dtype::U32, vec![s.len()], u32_bytes(s.labels())));
    }
    out
}

fn data_sha(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex(&h.finalize())
}

/// Writes `features` to `path` atomically as safetensors: `train.features` `[n, d]` f32,
/// `train.labels` `[n]` u32, the same for `test`, and metadata with the key, the
/// [`ExtractorReport`] (JSON) and a SHA-256 of the tensor data.
pub fn save(path: &Path, features: &Features) -> Result<()> {
    let ts = tensors(features);
    let sha = data_sha(&ts.iter().map(|t| t.3.as_slice()).collect::<Vec<_>>());
    let report = serde_json::to_string(&features.report)
        .map_err(|e| LearnerError::Config(format!("extractor report: {e}")))?;
    let meta: HashMap<String, String> = [
        (META_KEY.to_string(), features.report.key.clone()),
        (META_REPORT.to_string(), report),
        (META_SHA.to_string(), sha),
    ]
    .into();
    let views = ts
        .iter()
        .map(|(n, d, s, b)| {
            safetensors::tensor::TensorView::new(*d, s.clone(), b).map(|v| (n.to_string(), v))
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| cache_err(path, format!("serialising failed: {e}")))?;
    let bytes = safetensors::serialize(views, Some(meta))
        .map_err(|e| cache_err(path, format!("serialising failed: {e}")))?;
    neurogen_io::write_atomic(path, &bytes).map_err(|e| cache_err(path, e.to_string()))
}

fn cache_err(path: &Path, reason: String) -> LearnerError {
    LearnerError::Cache {
        path: path.to_path_buf(),
        reason,
    }
}

/// Reads a cache file written by [`save`] and validates it: its key must be `key`, its labels
/// `train_labels` and `test_labels`, its data must match its SHA-256 and every feature must be
/// finite. Any failure is a [`LearnerError::Cache`] naming the file and the problem.
pub fn load(path: &Path, key: &str, train_labels: &[u8], test_labels: &[u8]) -> Result<Features> {
    let bytes = std::fs::read(path).map_err(|e| cache_err(path, format!("cannot read: {e}")))?;
    load_bytes(&bytes, path, key, train_labels, test_labels)
}

/// [`load`] from bytes in memory (`path` names the file in errors).
pub fn load_bytes(
    bytes: &[u8],
    path: &Path,
    key: &str,
    train_labels: &[u8],
    test_labels: &[u8],
) -> Result<Features> {
    let bad = |reason: String| cache_err(path, reason);
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
    let meta = header
        .metadata()
        .as_ref()
        .ok_or_else(|| bad("no metadata: not a neurogen feature cache".into()))?;
    let get = |k: &str| {
        meta.get(k)
            .ok_or_else(|| bad(format!("no `{k}` metadata: not a neurogen feature cache")))
    };
    let file_key = get(META_KEY)?;
    if file_key != key {
        return Err(bad(format!(
            "it holds the features of key {file_key}, this run needs {key}"
        )));
    }
    let report: ExtractorReport = serde_json::from_str(get(META_REPORT)?)
        .map_err(|e| bad(format!("`{META_REPORT}` metadata is not valid: {e}")))?;
    let dim = report.config.dim();
    if dim == 0 {
        return Err(bad("the recorded extractor has no feature layer".into()));
    }
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut splits = Vec::new();
    for (prefix, labels) in [("test", test_labels), ("train", train_labels)] {
        let n = labels.len();
        let fx = st
            .tensor(&format!("{prefix}.features"))
            .map_err(|_| bad(format!("missing tensor {prefix}.features")))?;
        let fy = st
            .tensor(&format!("{prefix}.labels"))
            .map_err(|_| bad(format!("missing tensor {prefix}.labels")))?;
        if fx.dtype() != safetensors::Dtype::F32 || fx.shape() != [n, dim] {
            return Err(bad(format!(
                "{prefix}.features is {:?} {:?}, expected F32 [{n}, {dim}]",
                fx.dtype(),
                fx.shape()
            )));
        }
        if fy.dtype() != safetensors::Dtype::U32 || fy.shape() != [n] {
            return Err(bad(format!(
                "{prefix}.labels is {:?} {:?}, expected U32 [{n}]",
                fy.dtype(),
                fy.shape()
            )));
        }
        let x: Vec<f32> = fx
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let y: Vec<u32> = fy
            .data()
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(i) = y.iter().zip(labels).position(|(&a, &b)| a != b as u32) {
            return Err(bad(format!(
                "{prefix} label {i} is {}, the data's is {}",
                y[i], labels[i]
            )));
        }
        parts.push(fx.data().to_vec());
        parts.push(fy.data().to_vec());
        splits.push(FeatureSplit::new(dim, x, y).map_err(|e| bad(format!("{prefix}: {e}")))?);
    }
    let sha = data_sha(&parts.iter().map(Vec::as_slice).collect::<Vec<_>>());
    if &sha != get(META_SHA)? {
        return Err(bad(
            "its data does not match its checksum (damaged or truncated)".into(),
        ));
    }
    let train = splits.pop().expect("two splits were read");
    let test = splits.pop().expect("two splits were read");
    Ok(Features {
        train,
        test,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurogen_data::ImageShape;
    use neurogen_model::Silent;

    fn split(n: usize, offset: usize) -> Split {
        let shape = ImageShape::new(1, 4, 4);
        let images = (0..n * 16)
            .map(|i| ((i * 37 + offset * 11) % 251) as u8)
            .collect();
        let labels = (0..n).map(|i| ((i + offset) % 3) as u8).collect();
        Split::new(shape, images, labels).unwrap()
    }

    fn cfg() -> ExtractorConfig {
        let model = ModelConfig {
            in_channels: 1,
            in_height: 4,
            in_width: 4,
            conv_channels: vec![2, 2],
            hidden_sizes: vec![6, 5],
            num_classes: 3,
        };
        ExtractorConfig {
            batch_size: 4,
            ..ExtractorConfig::last_hidden(model, 1)
        }
    }

    #[test]
    fn extracts_caches_and_revalidates() {
        let (a, b, c, d) = (split(12, 0), split(6, 1), split(9, 2), split(5, 3));
        let cfg = cfg();
        let job = FeatureJob {
            config: &cfg,
            extractor_train: &a,
            extractor_eval: &b,
            train: &c,
            test: &d,
        };
        let dir = tempfile::tempdir().unwrap();
        let (f, s) = extract(&job, Some(dir.path()), &mut Silent).unwrap();
        let path = match s {
            CacheStatus::Written(p) => p,
            s => panic!("{s:?}"),
        };
        assert_eq!((f.train.len(), f.train.dim(), f.test.len()), (9, 5, 5));
        assert_eq!(f.report.train_images, 12);
        assert!(f.train.features().iter().all(|&v| v >= 0.0)); // after ReLU
                                                               // Same job: read from the cache, equal bit for bit.
        let (g, s) = extract(&job, Some(dir.path()), &mut Silent).unwrap();
        assert_eq!(s, CacheStatus::Hit(path.clone()));
        assert_eq!(g, f);
        // Other settings: another key, another file.
        let cfg2 = ExtractorConfig {
            seed: 1,
            ..cfg.clone()
        };
        let job2 = FeatureJob {
            config: &cfg2,
            ..job
        };
        assert_ne!(cache_key(&job2).unwrap(), cache_key(&job).unwrap());
        // A damaged file (the low bit of one feature flipped: still finite): refused with a
        // reason, then recomputed.
        let mut bytes = std::fs::read(&path).unwrap();
        let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        bytes[8 + header + 8] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        let e = load(&path, &f.report.key, c.labels(), d.labels())
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not match its checksum"), "{e}");
        let (h, s) = extract(&job, Some(dir.path()), &mut Silent).unwrap();
        assert!(matches!(s, CacheStatus::Recomputed { .. }), "{s:?}");
        assert_eq!(h.train, f.train); // deterministic on the CPU
                                      // Truncated and garbage files: clear errors, no panic.
        for bad in [&bytes[..bytes.len() / 2], b"garbage".as_slice(), &[]] {
            let e = load_bytes(bad, &path, &f.report.key, c.labels(), d.labels())
                .unwrap_err()
                .to_string();
            assert!(e.contains(&path.display().to_string()), "{e}");
        }
        // The wrong key or labels.
        let e = load(&path, "other", c.labels(), d.labels())
            .unwrap_err()
            .to_string();
        assert!(e.contains("this run needs other"), "{e}");
        let e = load(&path, &f.report.key, d.labels(), d.labels())
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected F32 [5, 5]"), "{e}");
    }

    #[test]
    fn refuses_mismatched_inputs() {
        let cfg = cfg();
        let (a, c) = (split(12, 0), split(9, 2));
        let rgb = Split::new(ImageShape::new(3, 4, 4), vec![0; 48], vec![0]).unwrap();
        let job = FeatureJob {
            config: &cfg,
            extractor_train: &a,
            extractor_eval: &a,
            train: &c,
            test: &rgb,
        };
        let e = extract(&job, None, &mut Silent).unwrap_err().to_string();
        assert!(e.contains("benchmark test split holds 3x4x4"), "{e}");
        let bad = ExtractorConfig {
            layer: 2,
            ..cfg.clone()
        };
        let job = FeatureJob {
            config: &bad,
            test: &c,
            ..job
        };
        let e = extract(&job, None, &mut Silent).unwrap_err().to_string();
        assert!(e.contains("feature layer 2 does not exist"), "{e}");
    }
}
