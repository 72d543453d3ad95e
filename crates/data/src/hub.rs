//! CIFAR-10 from the Hugging Face Hub (`uoft-cs/cifar10`, parquet files with PNG images): found
//! in the usual hub cache (`$HF_HOME/hub` or `~/.cache/huggingface/hub`) when a previous run
//! downloaded it, downloaded there otherwise (hf-hub's blocking ureq client, no async runtime).
use std::path::{Path, PathBuf};

use crate::archive::walk_dir;
use crate::error::DataError;

/// The Hub dataset repository used when no local copy is given.
pub const HUB_REPO: &str = "uoft-cs/cifar10";

/// The hub cache directory: `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
pub fn default_hub_cache_dir() -> PathBuf {
    hf_hub::Cache::from_env().path().clone()
}

/// Whether `dir` holds `train*.parquet` and `test*.parquet` files.
fn has_both_splits(dir: &Path) -> bool {
    let Ok(entries) = walk_dir(dir) else {
        return false;
    };
    let has = |prefix: &str| {
        entries.iter().any(|e| {
            let b = e.basename().to_ascii_lowercase();
            b.starts_with(prefix) && b.ends_with(".parquet")
        })
    };
    has("train") && has("test")
}

/// The snapshot folder of [`HUB_REPO`] in `hub_dir` with both splits, if a previous download
/// left one (the `main` ref first, then any snapshot).
pub fn find_cached(hub_dir: &Path) -> Option<PathBuf> {
    let repo_dir = hub_dir.join(format!("datasets--{}", HUB_REPO.replace('/', "--")));
    let snapshots = repo_dir.join("snapshots");
    if let Ok(rev) = std::fs::read_to_string(repo_dir.join("refs").join("main")) {
        let dir = snapshots.join(rev.trim());
        if has_both_splits(&dir) {
            return Some(dir);
        }
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&snapshots)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter().find(|d| has_both_splits(d))
}

/// The message for a failed download: what went wrong and how to pass a local copy.
fn offline_message(what: &str) -> String {
    format!(
        "cannot download dataset {HUB_REPO} ({what}); no network? Pass a local copy instead \
         (`cargo xtask data summary --data PATH`, or neurogen_data::load(PATH, ..)) — {}",
        crate::detect::SUPPORTED
    )
}

/// Downloads the parquet files of [`HUB_REPO`] into `hub_dir` and returns the snapshot folder.
/// `endpoint` overrides the Hub URL (default `$HF_ENDPOINT`, else `https://huggingface.co`).
pub fn download(hub_dir: &Path, endpoint: Option<&str>) -> Result<PathBuf, DataError> {
    let mut builder =
        hf_hub::api::sync::ApiBuilder::from_cache(hf_hub::Cache::new(hub_dir.to_path_buf()))
            .with_progress(true);
    if let Some(e) = endpoint
        .map(str::to_string)
        .or_else(|| std::env::var("HF_ENDPOINT").ok())
    {
        builder = builder.with_endpoint(e);
    }
    let api = builder
        .build()
        .map_err(|e| DataError::Hub(offline_message(&e.to_string())))?;
    let repo = api.dataset(HUB_REPO.to_string());
    let info = repo
        .info()
        .map_err(|e| DataError::Hub(offline_message(&e.to_string())))?;
    let files: Vec<String> = info
        .siblings
        .into_iter()
        .map(|s| s.rfilename)
        .filter(|f| {
            let base = f.rsplit('/').next().unwrap_or(f).to_ascii_lowercase();
            base.ends_with(".parquet") && (base.starts_with("train") || base.starts_with("test"))
        })
        .collect();
    if files.is_empty() {
        return Err(DataError::Hub(format!(
            "{HUB_REPO} lists no train*/test* parquet files"
        )));
    }
    let mut snapshot = None;
    for f in &files {
        let local = repo
            .get(f)
            .map_err(|e| DataError::Hub(offline_message(&format!("{f}: {e}"))))?;
        // The snapshot folder is the local path minus the file's path inside the repo.
        let mut dir = local.clone();
        for _ in f.split('/') {
            dir.pop();
        }
        snapshot = Some(dir);
    }
    snapshot.ok_or_else(|| DataError::Hub(format!("{HUB_REPO}: nothing downloaded")))
}
