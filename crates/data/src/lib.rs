//! neurogen-data: CIFAR-10 and Fashion-MNIST for the reproduction of Tran et al. (PNAS 2022).
//!
//! Reads CIFAR-10 from the official binary release (folder or `cifar-10-binary.tar.gz`), from
//! image folders (`train/<class>/*`, `test/<class>/*`, as a folder or `.tar.gz`) and from the
//! Hugging Face Hub's parquet export (`uoft-cs/cifar10`), and Fashion-MNIST from its IDX files.
//! Decoding runs once, in parallel, and is cached in one file, so later loads are a single read.
//! The paper's preprocessing — `(x - 0.5) / 0.5` per channel with `x` in `[0, 1]` — is applied
//! when batches become candle tensors; its validation split (45,000 / 5,000 of the CIFAR-10
//! training set) and the shuffled minibatch order are reproducible from seeds.
//!
//! ```no_run
//! use neurogen_data::{epoch_batches, load, LoadOptions};
//! # fn main() -> Result<(), neurogen_data::DataError> {
//! let loaded = load("cifar10-jpeg.tar.gz".as_ref(), &LoadOptions::default())?;
//! let ds = loaded.dataset;
//! let (train, val) = ds.train_val_split(5_000, 0)?;
//! for batch in epoch_batches(train.len(), 128, 0, 0) {
//!     let (x, y) = train.batch(&batch, &candle_core::Device::Cpu)?; // x: B×3×32×32 f32
//! #   let _ = (x, y, &val);
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

// The README's examples (the crate's page on crates.io) run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod archive;
mod batches;
pub mod cache;
pub mod cifar_binary;
mod dataset;
mod decode;
mod detect;
mod error;
pub mod hub;
pub mod idx;
mod image_folder;
pub mod memory;
mod parquet;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use batches::{corrupted_labels, corruption_indices, epoch_batches, sample_indices};
pub use dataset::{
    Dataset, DatasetKind, ImageShape, Split, CIFAR10_CLASSES, FASHION_MNIST_CLASSES,
    KMNIST_CLASSES, MNIST_CLASSES,
};
pub use detect::{Format, SourceForm, SUPPORTED};
pub use error::DataError;

/// How to load: where the decode cache lives and where the Hugging Face Hub cache is.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Decode-cache directory; `None` means [`cache::default_cache_dir`].
    pub cache_dir: Option<PathBuf>,
    /// Whether to read and write the decode cache at all.
    pub use_cache: bool,
    /// Hugging Face hub cache directory for [`load_default`]; `None` means
    /// [`hub::default_hub_cache_dir`] (`$HF_HOME/hub` or `~/.cache/huggingface/hub`).
    pub hub_cache_dir: Option<PathBuf>,
    /// Hub URL for downloads; `None` means `$HF_ENDPOINT` or `https://huggingface.co`.
    pub hub_endpoint: Option<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            cache_dir: None,
            use_cache: true,
            hub_cache_dir: None,
            hub_endpoint: None,
        }
    }
}

impl LoadOptions {
    /// Default options with the decode cache in `dir`.
    pub fn with_cache_dir(dir: impl Into<PathBuf>) -> Self {
        LoadOptions {
            cache_dir: Some(dir.into()),
            ..Self::default()
        }
    }

    /// Default options without the decode cache (always decode, never write).
    pub fn no_cache() -> Self {
        LoadOptions {
            use_cache: false,
            ..Self::default()
        }
    }
}

/// A loaded dataset and how it was loaded.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The dataset.
    pub dataset: Dataset,
    /// The source, as a canonical path.
    pub source: PathBuf,
    /// The format the source was (originally) decoded from.
    pub form: SourceForm,
    /// The decode-cache file for this source (`None` when the cache is off).
    pub cache_path: Option<PathBuf>,
    /// Whether this load was served from the decode cache.
    pub from_cache: bool,
    /// Why the cache was not used or not written, when that happened (e.g. "stale cache").
    pub cache_note: Option<String>,
    /// Wall time of the whole load.
    pub load_time: Duration,
}

/// Loads a dataset from `path` in any supported form (auto-detected; see [`SUPPORTED`]),
/// through the decode cache: a valid cache for this source (same canonical path, sizes and
/// modification times) is read instead of decoding; otherwise the source is decoded and the
/// cache (re)written. A cache that cannot be written is reported in [`Loaded::cache_note`].
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Loaded, DataError> {
    let t0 = Instant::now();
    let canonical = path.canonicalize().map_err(|e| DataError::io(path, e))?;
    let cache_path = if opts.use_cache {
        opts.cache_dir
            .clone()
            .or_else(cache::default_cache_dir)
            .map(|d| cache::cache_file(&d, &canonical))
    } else {
        None
    };
    let mut cache_note = None;
    let fp = match &cache_path {
        Some(_) => Some(cache::fingerprint(&canonical)?),
        None => None,
    };
    if let (Some(cp), Some(fp)) = (&cache_path, &fp) {
        match cache::read(cp, fp) {
            cache::Lookup::Hit(ds, form) => {
                return Ok(Loaded {
                    dataset: *ds,
                    source: canonical,
                    form,
                    cache_path,
                    from_cache: true,
                    cache_note: None,
                    load_time: t0.elapsed(),
                })
            }
            cache::Lookup::Miss(reason) => cache_note = Some(reason),
        }
    }
    let (form, entries) = detect::detect(path)?;
    let dataset = match form.format {
        Format::CifarBinary => cifar_binary::read(path, &entries)?,
        Format::Idx => idx::read(path, &entries)?,
        Format::Parquet => parquet::read(path, &entries)?,
        Format::ImageFolder => image_folder::read(path, &entries)?,
    };
    drop(entries);
    if let (Some(cp), Some(fp)) = (&cache_path, &fp) {
        if let Err(e) = cache::write(cp, fp, &dataset, form) {
            cache_note = Some(format!("could not write the cache: {e}"));
        }
    }
    Ok(Loaded {
        dataset,
        source: canonical,
        form,
        cache_path,
        from_cache: false,
        cache_note,
        load_time: t0.elapsed(),
    })
}

/// Loads `path` ([`load`]) as the dataset `kind` the caller states. MNIST, KMNIST and
/// Fashion-MNIST share their IDX file names and layout, so content cannot tell them apart: the
/// IDX release is read and labelled `kind` (its class names follow). A source that holds
/// another format than `kind`'s (e.g. CIFAR-10 images for `Mnist`) is refused, naming both.
///
/// ```no_run
/// use neurogen_data::{load_as, DatasetKind, LoadOptions};
/// let mnist = load_as("data/mnist".as_ref(), DatasetKind::Mnist, &LoadOptions::default())?;
/// assert_eq!(mnist.dataset.class_names[7], "7");
/// # Ok::<(), neurogen_data::DataError>(())
/// ```
pub fn load_as(path: &Path, kind: DatasetKind, opts: &LoadOptions) -> Result<Loaded, DataError> {
    let mut loaded = load(path, opts)?;
    let found = loaded.dataset.kind;
    let same_format = if kind.is_idx() {
        found.is_idx()
    } else {
        found == kind
    };
    if !same_format {
        return Err(DataError::InvalidArgument(format!(
            "{} holds {found} ({:?}), not {kind}{}",
            path.display(),
            loaded.form.format,
            if kind.is_idx() {
                ": expected the four IDX files (train-images-idx3-ubyte, ...)"
            } else {
                ""
            }
        )));
    }
    if found != kind {
        let d = loaded.dataset;
        loaded.dataset = Dataset::new(kind, d.train, d.test)?;
    }
    Ok(loaded)
}

/// Loads CIFAR-10 without a local path: from the Hugging Face hub cache when a previous
/// download put [`hub::HUB_REPO`] there, else by downloading it. Without network this fails
/// with a message that says how to pass a local copy.
pub fn load_default(opts: &LoadOptions) -> Result<Loaded, DataError> {
    let hub_dir = opts
        .hub_cache_dir
        .clone()
        .unwrap_or_else(hub::default_hub_cache_dir);
    let dir = match hub::find_cached(&hub_dir) {
        Some(d) => d,
        None => hub::download(&hub_dir, opts.hub_endpoint.as_deref())?,
    };
    load(&dir, opts)
}

/// The shared real-data folder of the neurogen repository's layout, for its tests, examples and
/// benchmarks: `$NEUROGEN_SHARED_DATA` if set, else `../shared/data` beside the workspace this
/// crate was built in, if that folder exists.
///
/// The fallback only applies when this crate is built from the neurogen workspace
/// (`crates/data` under a `Cargo.toml` that lists it as a member). Built from a registry
/// (crates.io, a vendored copy), the crate's own folder says nothing about where data lives, so
/// without `$NEUROGEN_SHARED_DATA` this returns `None`; a program of one's own passes a path to
/// [`load`] instead.
pub fn shared_data_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NEUROGEN_SHARED_DATA").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return p.is_dir().then_some(p);
    }
    let root = workspace_root(Path::new(env!("CARGO_MANIFEST_DIR")))?;
    let p = root.join("../shared/data");
    p.is_dir().then(|| p.canonicalize().unwrap_or(p))
}

/// The neurogen workspace root that holds the crate at `manifest_dir`: its grandparent, if the
/// crate sits at `<root>/crates/data` and `<root>/Cargo.toml` is a workspace listing
/// `crates/data` (the repository's layout); `None` for any other place, such as a registry's
/// source cache (`~/.cargo/registry/src/<index>/neurogen-data-<version>`).
fn workspace_root(manifest_dir: &Path) -> Option<PathBuf> {
    let crates = manifest_dir.parent()?;
    if manifest_dir.file_name()? != "data" || crates.file_name()? != "crates" {
        return None;
    }
    let root = crates.parent()?;
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).ok()?;
    (manifest.contains("[workspace]") && manifest.contains("\"crates/data\""))
        .then(|| root.to_path_buf())
}

/// The full CIFAR-10 as JPEG image folders (`cifar10-jpeg.tar.gz` in [`shared_data_dir`]), if
/// present.
pub fn cifar10_archive() -> Option<PathBuf> {
    shared_data_dir()
        .map(|d| d.join("cifar10-jpeg.tar.gz"))
        .filter(|p| p.is_file())
}

/// The real Fashion-MNIST IDX folder: `$NEUROGEN_FASHION_MNIST`, else
/// `/usr/share/datasets/fashion-mnist` (package `dataset-fashion-mnist`), if it exists.
pub fn fashion_mnist_dir() -> Option<PathBuf> {
    let p = std::env::var_os("NEUROGEN_FASHION_MNIST")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/datasets/fashion-mnist"));
    p.is_dir().then_some(p)
}

#[cfg(test)]
mod tests {
    use super::workspace_root;
    use std::path::Path;

    #[test]
    fn workspace_root_is_found_from_this_workspace_only() {
        // From the repository this crate is `<root>/crates/data`; from a package it is not.
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        match workspace_root(here) {
            Some(root) => assert!(root.join("crates/data/Cargo.toml").is_file()),
            None => assert!(!here.ends_with("crates/data"), "{}", here.display()),
        }

        let tmp = tempfile::tempdir().unwrap();
        // A registry's source cache: no workspace layout, whatever lies two levels up.
        let registry = tmp
            .path()
            .join("registry/src/index.crates.io-0/neurogen-data-0.1.0");
        std::fs::create_dir_all(&registry).unwrap();
        assert_eq!(workspace_root(&registry), None);

        // crates/data under a Cargo.toml that is not a workspace listing it (a vendored copy in
        // someone else's project, say).
        let other = tmp.path().join("project");
        std::fs::create_dir_all(other.join("crates/data")).unwrap();
        std::fs::write(other.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        assert_eq!(workspace_root(&other.join("crates/data")), None);
        std::fs::write(
            other.join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/data\"]\n",
        )
        .unwrap();
        assert_eq!(
            workspace_root(&other.join("crates/data")),
            Some(other.clone())
        );
    }
}
