//! Dataset sources as a flat list of files: a directory walked recursively, or a `.tar` /
//! `.tar.gz` archive read fully into memory (member by member, checking the gzip trailer so a
//! truncated download is an error, not a short dataset).
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use crate::error::DataError;

/// How deep a directory source is walked (root/prefix/train/class/file fits easily).
const MAX_DEPTH: usize = 6;

/// Where an entry's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// Already in memory (archive member).
    Bytes(Vec<u8>),
    /// A file on disk, read when needed.
    File(PathBuf),
}

/// One file of a source.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Path relative to the source root, `/`-separated.
    pub rel: String,
    /// Name for error messages: the file path, or `archive:member`.
    pub display: PathBuf,
    /// The bytes.
    pub content: Content,
}

impl Entry {
    /// The last path component.
    pub fn basename(&self) -> &str {
        self.rel.rsplit('/').next().unwrap_or(&self.rel)
    }

    /// The entry's bytes (reads the file for on-disk entries).
    pub fn read(&self) -> Result<std::borrow::Cow<'_, [u8]>, DataError> {
        match &self.content {
            Content::Bytes(b) => Ok(std::borrow::Cow::Borrowed(b)),
            Content::File(p) => std::fs::read(p)
                .map(std::borrow::Cow::Owned)
                .map_err(|e| DataError::io(p, e)),
        }
    }
}

/// Whether `path` is a (possibly gzip-compressed) tar archive, judged by its first bytes.
pub(crate) fn looks_like_archive(path: &Path) -> Result<bool, DataError> {
    let mut f = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut head = [0u8; 512];
    let mut n = 0;
    while n < head.len() {
        let k = f.read(&mut head[n..]).map_err(|e| DataError::io(path, e))?;
        if k == 0 {
            break;
        }
        n += k;
    }
    let gz = n >= 2 && head[0] == 0x1f && head[1] == 0x8b;
    let tar = n >= 262 && &head[257..262] == b"ustar";
    Ok(gz || tar)
}

/// Is the file gzip-compressed (magic `1f 8b`)?
pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}

/// Decompresses gzip bytes; `display` names the file in errors.
pub(crate) fn gunzip(bytes: &[u8], display: &Path) -> Result<Vec<u8>, DataError> {
    let mut out = Vec::with_capacity(bytes.len() * 4);
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| DataError::format(display, format!("corrupt gzip data: {e}")))?;
    Ok(out)
}

/// Largest buffer reserved up front for an archive member: a member's size comes from its tar
/// header, which a corrupt archive can make anything; beyond this the buffer grows only as
/// bytes actually arrive.
const MAX_MEMBER_RESERVE: u64 = 64 << 20;

/// Reads every regular file of a `.tar` or `.tar.gz` archive into memory.
pub(crate) fn read_archive(path: &Path) -> Result<Vec<Entry>, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    read_archive_from(BufReader::with_capacity(1 << 20, file), path)
}

/// Reads every regular file of a `.tar` or `.tar.gz` archive from `reader` (gzip detected by
/// its magic bytes); `path` names the archive in errors and entries.
pub(crate) fn read_archive_from<R: std::io::BufRead>(
    mut reader: R,
    path: &Path,
) -> Result<Vec<Entry>, DataError> {
    let bad = |msg: String| DataError::Archive {
        path: path.to_path_buf(),
        msg,
    };
    let mut magic = [0u8; 2];
    let gz = {
        let buf = reader.fill_buf().map_err(|e| DataError::io(path, e))?;
        if buf.len() >= 2 {
            magic.copy_from_slice(&buf[..2]);
        }
        magic == [0x1f, 0x8b]
    };
    let stream: Box<dyn Read + '_> = if gz {
        Box::new(GzDecoder::new(reader))
    } else {
        Box::new(reader)
    };
    let mut archive = tar::Archive::new(stream);
    let mut entries = Vec::new();
    let iter = archive
        .entries()
        .map_err(|e| bad(format!("cannot read tar entries: {e}")))?;
    for entry in iter {
        let mut entry = entry.map_err(|e| bad(format!("corrupt or truncated: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .map_err(|e| bad(format!("bad member name: {e}")))?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        let mut data = Vec::with_capacity(entry.size().min(MAX_MEMBER_RESERVE) as usize);
        entry
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("member {rel}: corrupt or truncated: {e}")))?;
        entries.push(Entry {
            display: PathBuf::from(format!("{}:{}", path.display(), rel)),
            rel,
            content: Content::Bytes(data),
        });
    }
    // Drain the rest of the stream so that a damaged gzip trailer (CRC, length) is noticed.
    let mut rest = archive.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink())
        .map_err(|e| bad(format!("corrupt or truncated: {e}")))?;
    if entries.is_empty() {
        return Err(bad("archive holds no files".into()));
    }
    Ok(entries)
}

/// Lists the files under `root` (recursively, hidden files and folders skipped), sorted by
/// relative path.
pub(crate) fn walk_dir(root: &Path) -> Result<Vec<Entry>, DataError> {
    let mut out = Vec::new();
    walk(root, root, 0, &mut out)?;
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<Entry>) -> Result<(), DataError> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let rd = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    for item in rd {
        let item = item.map_err(|e| DataError::io(dir, e))?;
        let name = item.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = item.path();
        // Follow symlinks (the Hugging Face cache links snapshot files to blobs).
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            // A dangling symlink is not part of any dataset.
            Err(_) if path.symlink_metadata().is_ok_and(|m| m.is_symlink()) => continue,
            Err(e) => return Err(DataError::io(&path, e)),
        };
        if meta.is_dir() {
            walk(root, &path, depth + 1, out)?;
        } else if meta.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push(Entry {
                rel,
                display: path.clone(),
                content: Content::File(path),
            });
        }
    }
    Ok(())
}

/// Lists a source: walks a directory, or reads an archive.
pub(crate) fn list_source(path: &Path) -> Result<Vec<Entry>, DataError> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    if meta.is_dir() {
        walk_dir(path)
    } else if looks_like_archive(path)? || has_archive_extension(path) {
        read_archive(path)
    } else {
        Err(DataError::Unrecognised {
            path: path.to_path_buf(),
            msg: "a file that is not a .tar or .tar.gz archive; pass an archive or a folder".into(),
        })
    }
}

/// Whether the file name ends in `.tar`, `.tar.gz` or `.tgz`.
pub(crate) fn has_archive_extension(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".tar") || name.ends_with(".tar.gz") || name.ends_with(".tgz")
}
