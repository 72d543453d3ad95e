//! Fixtures shared by the command-line tests.
#![allow(dead_code)]
use std::path::{Path, PathBuf};

/// A CIFAR-10 binary release with `per_batch` records in each of the six batch files.
pub fn tiny_cifar(dir: &Path, per_batch: usize) -> PathBuf {
    let root = dir.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&root).unwrap();
    let names = [
        "data_batch_1.bin",
        "data_batch_2.bin",
        "data_batch_3.bin",
        "data_batch_4.bin",
        "data_batch_5.bin",
        "test_batch.bin",
    ];
    for (b, name) in names.iter().enumerate() {
        let mut bytes = Vec::new();
        for k in 0..per_batch {
            let i = b * per_batch + k;
            bytes.push((i % 10) as u8);
            bytes.extend((0..3072).map(|p| ((p * 7 + i * 13) % 256) as u8));
        }
        std::fs::write(root.join(name), bytes).unwrap();
    }
    root
}
pub mod runs;
