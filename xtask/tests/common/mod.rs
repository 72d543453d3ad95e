//! Fixtures shared by the command-line tests.
#![allow(dead_code)]
use std::path::{Path, PathBuf};

/// A CIFAR-10 binary release with `per_batch` records in each of the six batch files (the
/// workspace's test kit), in `dir/cifar-10-batches-bin`; returns that directory.
pub fn tiny_cifar(dir: &Path, per_batch: usize) -> PathBuf {
    let root = dir.join("cifar-10-batches-bin");
    neurogen_testkit::cifar::write_cifar_binary(&root, per_batch);
    root
}

/// Copies the directory `from` (recursively) to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

pub mod runs;
pub mod study;
