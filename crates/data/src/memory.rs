//! In-memory entry points: a whole dataset from the bytes of a `.tar` / `.tar.gz` archive, and
//! the rows or splits of Hugging Face parquet files, with exactly the checks loading from disk
//! applies (the same readers run underneath). Used by the fuzz targets (`fuzz/`) and by callers
//! that already hold the bytes; `name` only labels error messages.
use std::path::{Path, PathBuf};

use crate::archive::{self, Content, Entry};
use crate::dataset::Dataset;
use crate::detect::{self, Format};
use crate::error::DataError;
use crate::{cifar_binary, idx, image_folder, parquet};

/// Reads a dataset (any supported format: binary release, image folders, IDX, parquet) from
/// the bytes of a `.tar` or `.tar.gz` archive. A corrupt or truncated archive, or members that
/// break their format, give an error naming `name:member`.
///
/// ```
/// let err = neurogen_data::memory::archive_dataset(b"not a tar", "x.tar.gz".as_ref())
///     .unwrap_err();
/// assert!(err.to_string().contains("x.tar.gz"));
/// ```
pub fn archive_dataset(bytes: &[u8], name: &Path) -> Result<Dataset, DataError> {
    let entries = archive::read_archive_from(bytes, name)?;
    match detect::detect_entries(name, &entries)? {
        Format::CifarBinary => cifar_binary::read(name, &entries),
        Format::Idx => idx::read(name, &entries),
        Format::Parquet => parquet::read(name, &entries),
        Format::ImageFolder => image_folder::read(name, &entries),
    }
}

fn entry(bytes: &[u8], name: &Path, rel: &str) -> Entry {
    Entry {
        rel: rel.to_string(),
        display: PathBuf::from(format!("{}:{rel}", name.display())),
        content: Content::Bytes(bytes.to_vec()),
    }
}

/// The encoded image bytes and label of every row of one parquet file held in memory (image
/// column `img` or `image`, struct `{bytes, path}` or binary; integer column `label`).
pub fn parquet_rows(bytes: &[u8], name: &Path) -> Result<(Vec<Vec<u8>>, Vec<i64>), DataError> {
    parquet::read_rows(&entry(bytes, name, "train.parquet"))
}

/// A dataset from one training and one test parquet file held in memory, checked and decoded
/// as [`crate::load`] does for a folder of parquet files.
pub fn parquet_dataset(train: &[u8], test: &[u8], name: &Path) -> Result<Dataset, DataError> {
    let entries = [
        entry(train, name, "train-00000.parquet"),
        entry(test, name, "test-00000.parquet"),
    ];
    parquet::read(name, &entries)
}
