//! Recognising what a path holds: the CIFAR-10 binary release, Fashion-MNIST IDX files, Hugging
//! Face parquet files or an image folder — each as a directory or a `.tar(.gz)` archive —
//! judged by file names (and, for archives, magic bytes), never by the path's name alone.
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::archive::{self, Entry};
use crate::error::DataError;
use crate::{cifar_binary, idx, image_folder, parquet};

/// The file format a dataset was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// The official CIFAR-10 binary release (`data_batch_*.bin`, `test_batch.bin`).
    CifarBinary,
    /// `train/<class>/*.jpg|png` and `test/<class>/*` image folders.
    ImageFolder,
    /// IDX files (Fashion-MNIST), gzip-compressed or not.
    Idx,
    /// Hugging Face parquet files (`train-*.parquet`, `test-*.parquet`).
    Parquet,
}

/// A format and whether it came packed in a `.tar(.gz)` archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceForm {
    /// The file format.
    pub format: Format,
    /// Whether the files came from a `.tar` / `.tar.gz` archive (else a directory).
    pub archive: bool,
}

impl SourceForm {
    /// Stable one-byte code (cache header).
    pub(crate) fn code(self) -> u8 {
        let f = match self.format {
            Format::CifarBinary => 0,
            Format::ImageFolder => 1,
            Format::Idx => 2,
            Format::Parquet => 3,
        };
        f | if self.archive { 0x10 } else { 0 }
    }

    /// Inverse of [`SourceForm::code`].
    pub(crate) fn from_code(code: u8) -> Option<Self> {
        let format = match code & 0x0f {
            0 => Format::CifarBinary,
            1 => Format::ImageFolder,
            2 => Format::Idx,
            3 => Format::Parquet,
            _ => return None,
        };
        Some(SourceForm {
            format,
            archive: code & 0x10 != 0,
        })
    }
}

impl std::fmt::Display for SourceForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.format {
            Format::CifarBinary => "CIFAR-10 binary release",
            Format::ImageFolder => "image folder",
            Format::Idx => "IDX files",
            Format::Parquet => "parquet files",
        };
        let container = if self.archive { "archive" } else { "directory" };
        write!(f, "{what} ({container})")
    }
}

/// What the supported forms are, for error messages.
pub const SUPPORTED: &str = "supported: the CIFAR-10 binary release (cifar-10-binary.tar.gz or a \
    folder with data_batch_1.bin .. data_batch_5.bin and test_batch.bin), an image folder \
    (train/<class>/*.jpg|png and test/<class>/*) or such a folder as .tar.gz, a folder of \
    Hugging Face parquet files (train-*.parquet, test-*.parquet), or Fashion-MNIST IDX files \
    (train-images-idx3-ubyte[.gz] etc.)";

/// Lists a source and recognises its format.
pub(crate) fn detect(path: &Path) -> Result<(SourceForm, Vec<Entry>), DataError> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    let entries = archive::list_source(path)?;
    let archive = !meta.is_dir();
    let format = detect_entries(path, &entries)?;
    Ok((SourceForm { format, archive }, entries))
}

/// Recognises the format of a source's files; `path` names the source in errors.
pub(crate) fn detect_entries(path: &Path, entries: &[Entry]) -> Result<Format, DataError> {
    Ok(if cifar_binary::matches(entries) {
        Format::CifarBinary
    } else if idx::matches(entries) {
        Format::Idx
    } else if parquet::matches(entries) {
        Format::Parquet
    } else if image_folder::matches(entries) {
        Format::ImageFolder
    } else {
        return Err(DataError::Unrecognised {
            path: path.to_path_buf(),
            msg: format!("found {} files but no dataset; {SUPPORTED}", entries.len()),
        });
    })
}
