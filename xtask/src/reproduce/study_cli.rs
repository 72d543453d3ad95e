//! What the command lines of the studies on the engine (`dale`, `gevb`, `modular`,
//! `attention`) share: loading Fashion-MNIST from `--data` (or its installed place) and printing
//! the engine's progress events as lines (`flymodel` uses the lines too).
use std::path::PathBuf;

use anyhow::Context;
use neurogen_lab::events::{duration, Event, Observer};

use super::args::{CommonArgs, IdxDataset};

/// Fashion-MNIST from `data` (default: the installed IDX files or `$NEUROGEN_FASHION_MNIST`),
/// decoded with `common`'s cache directory; a missing path is a clear error.
pub fn load_fashion_mnist(
    data: &Option<PathBuf>,
    common: &CommonArgs,
) -> anyhow::Result<neurogen_data::Loaded> {
    let data = match data {
        Some(p) => p.clone(),
        None => neurogen_data::fashion_mnist_dir().ok_or_else(|| {
            anyhow::anyhow!(
                "no Fashion-MNIST at /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist) or $NEUROGEN_FASHION_MNIST: pass --data DIR with the IDX files"
            )
        })?,
    };
    load_kind(&data, neurogen_data::DatasetKind::FashionMnist, common)
}

/// CIFAR-10 from `data` (default: the shared archive, [`neurogen_data::cifar10_archive`]),
/// decoded with `common`'s cache directory; a missing path is a clear error.
pub fn load_cifar10(
    data: &Option<PathBuf>,
    common: &CommonArgs,
) -> anyhow::Result<neurogen_data::Loaded> {
    let data = match data {
        Some(p) => p.clone(),
        None => neurogen_data::cifar10_archive().ok_or_else(|| {
            anyhow::anyhow!(
                "no CIFAR-10: pass --data PATH (the shared archive ../shared/data/cifar10-jpeg.tar.gz was not found)"
            )
        })?,
    };
    load_kind(&data, neurogen_data::DatasetKind::Cifar10, common)
}

/// The dataset `kind` from `data` (which must exist), decoded with `common`'s cache directory.
fn load_kind(
    data: &std::path::Path,
    kind: neurogen_data::DatasetKind,
    common: &CommonArgs,
) -> anyhow::Result<neurogen_data::Loaded> {
    anyhow::ensure!(
        data.exists(),
        "--data {}: no such file or directory",
        data.display()
    );
    let opts = match &common.cache_dir {
        Some(d) => neurogen_data::LoadOptions::with_cache_dir(d),
        None => neurogen_data::LoadOptions::default(),
    };
    neurogen_data::load_as(data, kind, &opts)
        .with_context(|| format!("loading {kind} from {}", data.display()))
}

/// The IDX dataset `dataset` names: Fashion-MNIST as [`load_fashion_mnist`] loads it, or
/// MNIST from `data`, which is then required (MNIST is not installed here).
pub fn load_idx(
    dataset: IdxDataset,
    data: &Option<PathBuf>,
    common: &CommonArgs,
) -> anyhow::Result<neurogen_data::Loaded> {
    match dataset {
        IdxDataset::FashionMnist => load_fashion_mnist(data, common),
        IdxDataset::Mnist => {
            let dir = data.as_ref().ok_or_else(|| {
                anyhow::anyhow!(
                    "--dataset mnist needs --data DIR with MNIST's IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each may end in .gz): MNIST is not installed here"
                )
            })?;
            load_kind(dir, neurogen_data::DatasetKind::Mnist, common)
        }
    }
}

/// Prints the engine's events as lines prefixed with the study's id (notes only without
/// `--quiet`).
pub struct Lines<'a> {
    /// The study's id (`dale`, ...).
    pub study: &'a str,
    /// `--quiet`.
    pub quiet: bool,
}

impl Observer for Lines<'_> {
    fn event(&mut self, event: &Event) {
        match event {
            Event::Started {
                file,
                total,
                recorded,
            } => eprintln!(
                "{}: {recorded} of {total} runs recorded in {}",
                self.study,
                file.display()
            ),
            Event::BatchRecorded {
                recorded,
                total,
                seconds_left,
                summaries,
                ..
            } => {
                let eta =
                    seconds_left.map_or(String::new(), |s| format!(", about {} left", duration(s)));
                for s in summaries {
                    eprintln!("{s} ({recorded} of {total} runs recorded{eta})");
                }
            }
            Event::Note(line) if !self.quiet => eprintln!("{line}"),
            _ => {}
        }
    }
}
