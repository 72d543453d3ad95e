//! Hugging Face parquet exports (e.g. `uoft-cs/cifar10`: `plain_text/train-*.parquet`,
//! `plain_text/test-*.parquet`): one row per image, the encoded image (PNG) in a struct column
//! `img` (or `image`) `{bytes, path}` and the class index in `label`. Files whose name starts
//! with `train` / `test` form the splits (shards concatenated in name order). The dataset kind
//! follows from the images: 32x32 RGB is CIFAR-10, 28x28 grayscale is Fashion-MNIST.
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use rayon::prelude::*;

use crate::archive::{Content, Entry};
use crate::dataset::{Dataset, DatasetKind, Split};
use crate::decode;
use crate::error::DataError;

/// Image column names tried, in order.
const IMAGE_COLUMNS: [&str; 2] = ["img", "image"];

/// Whether a source's files include parquet files.
pub(crate) fn matches(entries: &[Entry]) -> bool {
    entries.iter().any(is_parquet)
}

fn is_parquet(e: &Entry) -> bool {
    e.basename().to_ascii_lowercase().ends_with(".parquet")
}

/// 0 for train files, 1 for test files, `None` for others (validation, ...).
fn split_of(e: &Entry) -> Option<usize> {
    let name = e.basename().to_ascii_lowercase();
    if name.starts_with("train") {
        Some(0)
    } else if name.starts_with("test") {
        Some(1)
    } else {
        None
    }
}

fn perr(path: &Path, msg: impl Into<String>) -> DataError {
    DataError::Parquet {
        path: path.to_path_buf(),
        msg: msg.into(),
    }
}

/// Encoded image bytes and label of every row of one parquet file.
///
/// The parquet crate panics on some corrupt files (e.g. negative column offsets, found by
/// fuzzing): column-chunk ranges are checked against the file size first, and any remaining
/// panic inside the parquet crate is turned into an error naming the file.
pub(crate) fn read_rows(e: &Entry) -> Result<(Vec<Vec<u8>>, Vec<i64>), DataError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_rows_checked(e))) {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown error".into());
            Err(perr(&e.display, format!("corrupt parquet file ({msg})")))
        }
    }
}

/// Checks that every column chunk's byte range lies inside a file of `len` bytes.
fn check_column_ranges(reader: &dyn FileReader, len: u64, path: &Path) -> Result<(), DataError> {
    for (g, rg) in reader.metadata().row_groups().iter().enumerate() {
        for (c, col) in rg.columns().iter().enumerate() {
            let start = col
                .dictionary_page_offset()
                .unwrap_or(col.data_page_offset());
            let size = col.compressed_size();
            let end = (start as i128) + (size as i128);
            if start < 0 || size < 0 || end > len as i128 {
                return Err(perr(
                    path,
                    format!(
                        "row group {g}, column {c}: byte range {start}+{size} lies outside the file ({len} bytes); the file is corrupt"
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn read_rows_checked(e: &Entry) -> Result<(Vec<Vec<u8>>, Vec<i64>), DataError> {
    let path = &e.display;
    let (reader, len): (Box<dyn FileReader>, u64) = match &e.content {
        Content::File(p) => {
            let f = std::fs::File::open(p).map_err(|err| DataError::io(p, err))?;
            let len = f.metadata().map_err(|err| DataError::io(p, err))?.len();
            (
                Box::new(SerializedFileReader::new(f).map_err(|err| perr(path, err.to_string()))?),
                len,
            )
        }
        Content::Bytes(b) => (
            Box::new(
                SerializedFileReader::new(bytes::Bytes::from(b.clone()))
                    .map_err(|err| perr(path, err.to_string()))?,
            ),
            b.len() as u64,
        ),
    };
    check_column_ranges(reader.as_ref(), len, path)?;
    let fields: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let img_col = IMAGE_COLUMNS
        .iter()
        .find(|c| fields.iter().any(|f| f == *c))
        .ok_or_else(|| {
            perr(
                path,
                format!("no image column (expected 'img' or 'image'; columns: {fields:?})"),
            )
        })?;
    if !fields.iter().any(|f| f == "label") {
        return Err(perr(
            path,
            format!("no 'label' column (columns: {fields:?})"),
        ));
    }
    let rows = reader
        .get_row_iter(None)
        .map_err(|err| perr(path, err.to_string()))?;
    let (mut images, mut labels) = (Vec::new(), Vec::new());
    for (i, row) in rows.enumerate() {
        let row = row.map_err(|err| perr(path, format!("row {i}: {err}")))?;
        let (mut img, mut label) = (None, None);
        for (name, field) in row.get_column_iter() {
            if name == img_col {
                img = Some(image_bytes(field).ok_or_else(|| {
                    perr(
                        path,
                        format!("row {i}: column '{img_col}' holds no image bytes ({field})"),
                    )
                })?);
            } else if name == "label" {
                label = Some(int_value(field).ok_or_else(|| {
                    perr(
                        path,
                        format!("row {i}: 'label' is not an integer ({field})"),
                    )
                })?);
            }
        }
        images.push(img.ok_or_else(|| perr(path, format!("row {i}: no image")))?);
        labels.push(label.ok_or_else(|| perr(path, format!("row {i}: no label")))?);
    }
    Ok((images, labels))
}

/// Encoded bytes from a `{bytes, path}` struct or a plain binary field.
fn image_bytes(field: &Field) -> Option<Vec<u8>> {
    match field {
        Field::Bytes(b) => Some(b.data().to_vec()),
        Field::Group(g) => g
            .get_column_iter()
            .find_map(|(n, f)| match (n.as_str(), f) {
                ("bytes", Field::Bytes(b)) => Some(b.data().to_vec()),
                _ => None,
            }),
        _ => None,
    }
}

fn int_value(field: &Field) -> Option<i64> {
    Some(match *field {
        Field::Byte(v) => v as i64,
        Field::Short(v) => v as i64,
        Field::Int(v) => v as i64,
        Field::Long(v) => v,
        Field::UByte(v) => v as i64,
        Field::UShort(v) => v as i64,
        Field::UInt(v) => v as i64,
        Field::ULong(v) => i64::try_from(v).ok()?,
        _ => return None,
    })
}

/// Reads a parquet dataset from a source's files.
pub(crate) fn read(root: &Path, entries: &[Entry]) -> Result<Dataset, DataError> {
    let mut files: [Vec<&Entry>; 2] = [Vec::new(), Vec::new()];
    for e in entries.iter().filter(|e| is_parquet(e)) {
        if let Some(s) = split_of(e) {
            files[s].push(e);
        }
    }
    let mut raw: Vec<Vec<(std::path::PathBuf, Vec<u8>, i64)>> = Vec::new();
    for (s, name) in ["train", "test"].iter().enumerate() {
        files[s].sort_by(|a, b| a.rel.cmp(&b.rel));
        let mut rows = Vec::new();
        for e in &files[s] {
            let (imgs, labs) = read_rows(e)?;
            for (i, (img, lab)) in imgs.into_iter().zip(labs).enumerate() {
                let display = format!("{} (row {i})", e.display.display());
                rows.push((display.into(), img, lab));
            }
        }
        if rows.is_empty() {
            return Err(DataError::missing(
                root,
                format!("empty split: no rows in {name}*.parquet files"),
            ));
        }
        raw.push(rows);
    }
    // The kind follows from the first training image.
    let (p0, b0, _) = &raw[0][0];
    let first = decode::decode(p0, b0)?;
    let (shape, color) = decode::shape_of(&first);
    let kind = [DatasetKind::Cifar10, DatasetKind::FashionMnist]
        .into_iter()
        .find(|k| k.shape() == shape)
        .ok_or_else(|| DataError::Image {
            path: p0.clone(),
            msg: format!(
                "first image is {}x{} {color:?}: neither CIFAR-10 (32x32 Rgb8) nor \
                 Fashion-MNIST (28x28 L8)",
                shape.width, shape.height
            ),
        })?;
    let num_classes = kind.class_names().len();
    let mut splits = Vec::new();
    for rows in &raw {
        let mut labels = Vec::with_capacity(rows.len());
        for (p, _, l) in rows {
            if *l < 0 || *l >= num_classes as i64 {
                return Err(DataError::LabelOutOfRange {
                    path: p.clone(),
                    label: *l,
                    max: num_classes - 1,
                    what: format!("{kind} has {num_classes} classes"),
                });
            }
            labels.push(*l as u8);
        }
        let mut images = vec![0u8; rows.len() * shape.numel()];
        images
            .par_chunks_mut(shape.numel())
            .zip(rows.par_iter())
            .try_for_each(|(out, (p, b, _))| decode::decode_into(p, b, shape, out))?;
        splits.push(Split::new(shape, images, labels)?);
    }
    let test = splits.pop().expect("two splits");
    let train = splits.pop().expect("two splits");
    Dataset::new(kind, train, test)
}
