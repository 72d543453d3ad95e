//! CIFAR-10 binary-release fixtures: six batch files of synthetic, deterministic records.
use std::path::Path;

/// The ten CIFAR-10 class names, in label order (as `batches.meta.txt` lists them).
pub const CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// The batch files of the binary release, in order (five training batches, then the test one).
pub const BATCH_FILES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];

/// A deterministic 3×32×32 CHW image for (label, index).
pub fn cifar_pixels(label: u8, i: usize) -> Vec<u8> {
    (0..3072)
        .map(|p| ((p * 7 + i * 13 + label as usize * 31) % 256) as u8)
        .collect()
}

/// One binary-release record: the label byte, then the image.
pub fn record(label: u8, i: usize) -> Vec<u8> {
    let mut r = vec![label];
    r.extend(cifar_pixels(label, i));
    r
}

/// Writes the six batch files and `batches.meta.txt` into `dir` (created if needed),
/// `per_batch` records each: record `k` of batch `b` has label `(b·per_batch + k) % 10` and
/// image index `b·per_batch + k`. So the training split holds `5·per_batch` images and the test
/// split `per_batch`.
///
/// # Panics
/// If the files cannot be written (a test fixture: failing loudly is the point).
///
/// ```
/// let dir = std::env::temp_dir().join(format!("testkit-doc-{}", std::process::id()));
/// neurogen_testkit::cifar::write_cifar_binary(&dir, 2);
/// let test = std::fs::read(dir.join("test_batch.bin")).unwrap();
/// assert_eq!(test.len(), 2 * 3073);
/// assert_eq!(test[0], 0); // the first test record's label: (5·2 + 0) % 10
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn write_cifar_binary(dir: &Path, per_batch: usize) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for (b, name) in BATCH_FILES.iter().enumerate() {
        let mut bytes = Vec::with_capacity(per_batch * 3073);
        for k in 0..per_batch {
            let i = b * per_batch + k;
            bytes.extend(record((i % 10) as u8, i));
        }
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let meta = dir.join("batches.meta.txt");
    std::fs::write(&meta, CLASSES.join("\n")).unwrap_or_else(|e| panic!("{}: {e}", meta.display()));
}
