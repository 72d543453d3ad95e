//! Shared by the benchmarks: the real CIFAR-10 training split, or a visible skip.
use neurogen_data::{LoadOptions, Split};

/// The CIFAR-10 training split from the shared archive, or `None` (with a message) without it.
pub fn cifar10_train() -> Option<Split> {
    let Some(path) = neurogen_data::cifar10_archive() else {
        eprintln!("SKIP: CIFAR-10 archive (../shared/data/cifar10-jpeg.tar.gz) not found");
        return None;
    };
    match neurogen_data::load(&path, &LoadOptions::default()) {
        Ok(l) => Some(l.dataset.train),
        Err(e) => {
            eprintln!("SKIP: cannot load {}: {e}", path.display());
            None
        }
    }
}
