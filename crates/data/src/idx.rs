//! Fashion-MNIST (and MNIST / KMNIST, whose files have the same names and layout: see
//! [`crate::load_as`]) in the IDX format (plain or gzip-compressed, detected by content): an image
//! file with magic `0x00000803` (u8, 3 dimensions: N × 28 × 28) and a label file with magic
//! `0x00000801` (u8, 1 dimension: N), labels 0..=9 in the official class order.
use std::path::Path;

use crate::archive::{gunzip, is_gzip, Entry};
use crate::dataset::{Dataset, DatasetKind, Split};
use crate::error::DataError;

/// Base names of the four Fashion-MNIST files (each may carry a `.gz` suffix).
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Whether a source's files look like the IDX release.
pub(crate) fn matches(entries: &[Entry]) -> bool {
    entries.iter().any(|e| {
        FILES
            .iter()
            .any(|f| e.basename().trim_end_matches(".gz") == *f)
    })
}

/// Parses an IDX file of unsigned bytes: checks the magic number (`0x0000 08 ndims`) and that
/// the data is exactly as long as the dimensions say. Returns the dimensions and the data.
pub(crate) fn parse_idx(
    display: &Path,
    bytes: &[u8],
    ndims: u8,
) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let owned;
    let bytes = if is_gzip(bytes) {
        owned = gunzip(bytes, display)?;
        &owned[..]
    } else {
        bytes
    };
    if bytes.len() < 4 {
        return Err(DataError::format(
            display,
            format!("truncated IDX header: {} bytes", bytes.len()),
        ));
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let expected = 0x0000_0800u32 | ndims as u32;
    if magic != expected {
        return Err(DataError::format(
            display,
            format!(
                "wrong magic number 0x{magic:08x} (expected 0x{expected:08x}: unsigned bytes, \
                 {ndims} dimension{})",
                if ndims == 1 { "" } else { "s" }
            ),
        ));
    }
    let header = 4 + 4 * ndims as usize;
    if bytes.len() < header {
        return Err(DataError::format(
            display,
            format!(
                "truncated IDX header: {} bytes, expected {header}",
                bytes.len()
            ),
        ));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let have = bytes.len() - header;
    // Checked: three u32 dimensions can multiply past usize (a corrupt header, not a real size).
    let Some(want) = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)) else {
        return Err(DataError::format(
            display,
            format!("dimensions {dims:?} are impossibly large ({have} bytes after the header)"),
        ));
    };
    if have != want {
        return Err(DataError::format(
            display,
            format!(
                "{} data: {have} bytes after the header, dimensions {dims:?} need {want}",
                if have < want { "truncated" } else { "too much" }
            ),
        ));
    }
    Ok((dims, bytes[header..].to_vec()))
}

/// Parses one IDX file of unsigned bytes held in memory (plain or gzip-compressed): checks the
/// magic number (`0x0000 08 ndims`) and that the data is exactly as long as the dimensions say.
/// `name` is used in error messages only. Returns the dimensions and the data.
///
/// ```
/// use std::path::Path;
/// let bytes = [0, 0, 8, 1, 0, 0, 0, 2, 4, 7]; // 1-D, 2 labels: 4 and 7
/// let (dims, data) = neurogen_data::idx::parse(&bytes, Path::new("labels"), 1)?;
/// assert_eq!((dims, data), (vec![2], vec![4, 7]));
/// # Ok::<(), neurogen_data::DataError>(())
/// ```
pub fn parse(bytes: &[u8], name: &Path, ndims: u8) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    parse_idx(name, bytes, ndims)
}

/// Parses one Fashion-MNIST split from the bytes of its image file (`N x 28 x 28`) and label
/// file (`N`), each plain or gzip-compressed, checking shape, count and label range as
/// loading from disk does. `images_name` / `labels_name` are used in error messages only.
pub fn parse_split(
    images: &[u8],
    images_name: &Path,
    labels: &[u8],
    labels_name: &Path,
) -> Result<Split, DataError> {
    split_from_bytes(images_name, images, labels_name, labels)
}

/// Reads one split (images + labels file) and checks shape, count and label range.
fn read_split(images: &Entry, labels: &Entry) -> Result<Split, DataError> {
    split_from_bytes(
        &images.display,
        &images.read()?,
        &labels.display,
        &labels.read()?,
    )
}

fn split_from_bytes(
    images_name: &Path,
    images: &[u8],
    labels_name: &Path,
    labels: &[u8],
) -> Result<Split, DataError> {
    let shape = DatasetKind::FashionMnist.shape();
    let (idims, pixels) = parse_idx(images_name, images, 3)?;
    if idims[1] != shape.height || idims[2] != shape.width {
        return Err(DataError::Image {
            path: images_name.to_path_buf(),
            msg: format!(
                "images are {}x{}, Fashion-MNIST images are {}x{}",
                idims[1], idims[2], shape.height, shape.width
            ),
        });
    }
    let (ldims, labs) = parse_idx(labels_name, labels, 1)?;
    if ldims[0] != idims[0] {
        return Err(DataError::format(
            labels_name,
            format!(
                "{} labels for {} images in {}",
                ldims[0],
                idims[0],
                images_name.display()
            ),
        ));
    }
    if idims[0] == 0 {
        return Err(DataError::missing(images_name, "empty split: 0 images"));
    }
    if let Some((i, &l)) = labs.iter().enumerate().find(|(_, &l)| l > 9) {
        return Err(DataError::LabelOutOfRange {
            path: labels_name.to_path_buf(),
            label: l as i64,
            max: 9,
            what: format!("label {}", i + 1),
        });
    }
    Split::new(shape, pixels, labs)
}

/// Reads Fashion-MNIST from a source's files (all four files are required).
pub(crate) fn read(root: &Path, entries: &[Entry]) -> Result<Dataset, DataError> {
    let find = |name: &str| -> Result<&Entry, DataError> {
        entries
            .iter()
            .find(|e| e.basename().trim_end_matches(".gz") == name)
            .ok_or_else(|| {
                DataError::missing(
                    root,
                    format!(
                        "the IDX release (Fashion-MNIST, MNIST or KMNIST) is missing {name}[.gz] (needs {})",
                        FILES.join(", ")
                    ),
                )
            })
    };
    let train = read_split(find(FILES[0])?, find(FILES[1])?)?;
    let test = read_split(find(FILES[2])?, find(FILES[3])?)?;
    Dataset::new(DatasetKind::FashionMnist, train, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_label_file() {
        let mut b = vec![0, 0, 8, 1, 0, 0, 0, 3];
        b.extend([1, 2, 3]);
        let (d, v) = parse_idx(Path::new("l"), &b, 1).unwrap();
        assert_eq!(d, vec![3]);
        assert_eq!(v, vec![1, 2, 3]);
        b.pop();
        let e = parse_idx(Path::new("l"), &b, 1).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
    }
}
