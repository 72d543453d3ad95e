//! The official CIFAR-10 binary release (`cifar-10-binary.tar.gz` / `cifar-10-batches-bin/`):
//! `data_batch_1.bin` … `data_batch_5.bin` (train) and `test_batch.bin` (test), each a run of
//! 3073-byte records: 1 label byte (0..=9) then 3072 pixel bytes, the R, G and B planes of a
//! 32x32 image in row-major order — already the CHW layout this crate stores.
use crate::archive::Entry;
use crate::dataset::{Dataset, DatasetKind, Split};
use crate::error::DataError;

/// Bytes per image (3 × 32 × 32).
pub const IMAGE_BYTES: usize = 3 * 32 * 32;
/// Bytes per record: label byte + image.
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;
/// Training batch files, in order.
pub const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// Test batch file.
pub const TEST_FILE: &str = "test_batch.bin";

/// Whether a source's files look like the binary release.
pub(crate) fn matches(entries: &[Entry]) -> bool {
    entries
        .iter()
        .any(|e| e.basename() == TEST_FILE || TRAIN_FILES.contains(&e.basename()))
}

/// Appends the records of one batch file to `images` / `labels`.
pub(crate) fn parse_batch(
    display: &std::path::Path,
    bytes: &[u8],
    images: &mut Vec<u8>,
    labels: &mut Vec<u8>,
) -> Result<(), DataError> {
    if bytes.is_empty() {
        return Err(DataError::format(display, "empty batch file (no records)"));
    }
    let full = bytes.len() / RECORD_BYTES;
    let rest = bytes.len() % RECORD_BYTES;
    if rest != 0 {
        return Err(DataError::format(
            display,
            format!(
                "truncated record {}: {} bytes, expected {RECORD_BYTES} (1 label + 3072 pixels); \
                 file is {} bytes, not a multiple of {RECORD_BYTES}",
                full + 1,
                rest,
                bytes.len()
            ),
        ));
    }
    images.reserve(full * IMAGE_BYTES);
    labels.reserve(full);
    for (i, rec) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
        let label = rec[0];
        if label > 9 {
            return Err(DataError::LabelOutOfRange {
                path: display.to_path_buf(),
                label: label as i64,
                max: 9,
                what: format!("record {}", i + 1),
            });
        }
        labels.push(label);
        images.extend_from_slice(&rec[1..]);
    }
    Ok(())
}

/// Parses one batch file of the binary release held in memory (`data_batch_N.bin` or
/// `test_batch.bin`: 3073-byte records, label 0..=9 then the R, G, B planes) into a split.
/// `name` is used in error messages only. A truncated record, an empty file or a label
/// above 9 is an error that names the record.
///
/// ```
/// use std::path::Path;
/// let mut rec = vec![3u8]; // label 3 (cat)
/// rec.extend([0u8; 3072]);
/// let split = neurogen_data::cifar_binary::parse(&rec, Path::new("test_batch.bin"))?;
/// assert_eq!(split.labels(), &[3]);
/// # Ok::<(), neurogen_data::DataError>(())
/// ```
pub fn parse(bytes: &[u8], name: &std::path::Path) -> Result<Split, DataError> {
    let (mut images, mut labels) = (Vec::new(), Vec::new());
    parse_batch(name, bytes, &mut images, &mut labels)?;
    Split::new(DatasetKind::Cifar10.shape(), images, labels)
}

/// Reads the binary release from a source's files (all six batch files are required).
pub(crate) fn read(root: &std::path::Path, entries: &[Entry]) -> Result<Dataset, DataError> {
    let find = |name: &str| -> Result<&Entry, DataError> {
        let mut hits = entries.iter().filter(|e| e.basename() == name);
        let first = hits.next().ok_or_else(|| {
            DataError::missing(
                root,
                format!(
                    "CIFAR-10 binary release is missing {name} (needs data_batch_1.bin .. \
                     data_batch_5.bin and test_batch.bin)"
                ),
            )
        })?;
        if let Some(second) = hits.next() {
            return Err(DataError::format(
                root,
                format!("{name} found twice: {} and {}", first.rel, second.rel),
            ));
        }
        Ok(first)
    };
    let shape = DatasetKind::Cifar10.shape();
    let split = |names: &[&str]| -> Result<Split, DataError> {
        let (mut images, mut labels) = (Vec::new(), Vec::new());
        for name in names {
            let e = find(name)?;
            parse_batch(&e.display, &e.read()?, &mut images, &mut labels)?;
        }
        Split::new(shape, images, labels)
    };
    let train = split(&TRAIN_FILES)?;
    let test = split(&[TEST_FILE])?;
    Dataset::new(DatasetKind::Cifar10, train, test)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn parses_records_in_chw_order() {
        let mut rec = vec![7u8];
        rec.extend((0..IMAGE_BYTES).map(|i| (i / 1024) as u8)); // R=0, G=1, B=2 planes
        let (mut im, mut lb) = (Vec::new(), Vec::new());
        parse_batch(Path::new("x.bin"), &rec, &mut im, &mut lb).unwrap();
        assert_eq!(lb, vec![7]);
        assert_eq!(im[0], 0);
        assert_eq!(im[1024], 1);
        assert_eq!(im[2048], 2);
    }
}
