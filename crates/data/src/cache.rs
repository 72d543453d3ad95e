//! The decode cache: a dataset is decoded once and kept as one file of raw bytes, so the next
//! load is a single read. The file is keyed by the source's canonical path (file name) and
//! fingerprinted by the source's size and modification time (every file's, for a directory)
//! plus a format version; a header (magic, version, kind, shape, counts) and a CRC-32 of header
//! and payload mean a stale or corrupt cache is detected and rebuilt, never trusted. Files are
//! written atomically: temporary file in the same directory, fsync, rename.
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use crate::dataset::{Dataset, DatasetKind, ImageShape, Split};
use crate::detect::SourceForm;
use crate::error::DataError;

/// Magic bytes at the start of every cache file.
const MAGIC: &[u8; 8] = b"NGDCACHE";
/// Cache format version; bump whenever the layout or any decoder's output changes.
pub const FORMAT_VERSION: u32 = 1;
/// Largest header accepted (guards allocations against a corrupt length).
const MAX_HEADER: usize = 1 << 20;

/// The default cache directory: `$NEUROGEN_CACHE_DIR`, else `$XDG_CACHE_HOME/neurogen`, else
/// `~/.cache/neurogen`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let nonempty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    nonempty("NEUROGEN_CACHE_DIR")
        .or_else(|| nonempty("XDG_CACHE_HOME").map(|p| p.join("neurogen")))
        .or_else(|| nonempty("HOME").map(|p| p.join(".cache").join("neurogen")))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache file for a source (by canonical path): `<name>-<hash>.ngcache` in `dir`.
pub fn cache_file(dir: &Path, canonical_source: &Path) -> PathBuf {
    let digest = Sha256::digest(canonical_source.to_string_lossy().as_bytes());
    let name: String = canonical_source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".into())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect();
    dir.join(format!("{name}-{}.ngcache", &hex(&digest)[..16]))
}

fn stamp(path: &Path) -> Result<(u64, u128), DataError> {
    let m = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    let mtime = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok((m.len(), mtime))
}

/// Fingerprint of a source: format version, canonical path, and size + mtime of the file (or of
/// every non-hidden file under the directory).
pub fn fingerprint(canonical_source: &Path) -> Result<String, DataError> {
    let mut h = Sha256::new();
    h.update(format!(
        "v{FORMAT_VERSION}\n{}\n",
        canonical_source.display()
    ));
    if canonical_source.is_dir() {
        for e in crate::archive::walk_dir(canonical_source)? {
            let (size, mtime) = stamp(&e.display)?;
            h.update(format!("{}\t{size}\t{mtime}\n", e.rel));
        }
    } else {
        let (size, mtime) = stamp(canonical_source)?;
        h.update(format!("file\t{size}\t{mtime}\n"));
    }
    Ok(hex(&h.finalize()))
}

/// Outcome of a cache lookup.
pub(crate) enum Lookup {
    /// A valid cache for this fingerprint.
    Hit(Box<Dataset>, SourceForm),
    /// No usable cache, and why (missing, stale, corrupt, ...).
    Miss(String),
}

struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
    fn string(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        self.take(n)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
}

/// The header body (everything the checksum covers besides the payload).
fn header(ds: &Dataset, form: SourceForm, fingerprint: &str) -> Vec<u8> {
    let mut h = Vec::new();
    h.push(ds.kind.code());
    h.push(form.code());
    for v in [ds.shape.channels, ds.shape.height, ds.shape.width] {
        h.extend_from_slice(&(v as u32).to_le_bytes());
    }
    h.extend_from_slice(&(ds.train.len() as u64).to_le_bytes());
    h.extend_from_slice(&(ds.test.len() as u64).to_le_bytes());
    put_str(&mut h, fingerprint);
    h.extend_from_slice(&(ds.class_names.len() as u32).to_le_bytes());
    for c in &ds.class_names {
        put_str(&mut h, c);
    }
    h
}

/// Writes `ds` to `path` atomically ([`neurogen_io::write_atomic_with`]).
pub(crate) fn write(
    path: &Path,
    fingerprint: &str,
    ds: &Dataset,
    form: SourceForm,
) -> Result<(), DataError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let head = header(ds, form, fingerprint);
    let parts: [&[u8]; 4] = [
        ds.train.images(),
        ds.train.labels(),
        ds.test.images(),
        ds.test.labels(),
    ];
    let mut crc = crc32fast::Hasher::new();
    crc.update(&head);
    for p in parts {
        crc.update(p);
    }
    neurogen_io::write_atomic_with(path, |w| {
        w.write_all(MAGIC)?;
        w.write_all(&FORMAT_VERSION.to_le_bytes())?;
        w.write_all(&(head.len() as u32).to_le_bytes())?;
        w.write_all(&head)?;
        w.write_all(&crc.finalize().to_le_bytes())?;
        for p in parts {
            w.write_all(p)?;
        }
        Ok(())
    })
    .map_err(|e| match e {
        neurogen_io::IoError::Write { path, source } => DataError::io(path, source),
        other => DataError::io(path, std::io::Error::other(other.to_string())),
    })
}

/// Reads the cache at `path` if it exists, is intact and matches `fingerprint`.
pub(crate) fn read(path: &Path, fingerprint: &str) -> Lookup {
    match try_read(path, fingerprint) {
        Ok(hit) => hit,
        Err(e) => Lookup::Miss(format!("cache unreadable ({e})")),
    }
}

fn try_read(path: &Path, fingerprint: &str) -> std::io::Result<Lookup> {
    let miss = |m: &str| Ok(Lookup::Miss(m.to_string()));
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return miss("no cache yet"),
        Err(e) => return Err(e),
    };
    let file_len = f.metadata()?.len();
    let mut pre = [0u8; 16];
    if f.read_exact(&mut pre).is_err() || &pre[..8] != MAGIC {
        return miss("not a cache file (bad magic)");
    }
    if u32::from_le_bytes(pre[8..12].try_into().expect("4")) != FORMAT_VERSION {
        return miss("cache of another format version");
    }
    let head_len = u32::from_le_bytes(pre[12..16].try_into().expect("4")) as usize;
    if head_len > MAX_HEADER || 16 + head_len as u64 + 4 > file_len {
        return miss("corrupt cache header");
    }
    let mut head = vec![0u8; head_len + 4];
    f.read_exact(&mut head)?;
    let stored_crc = u32::from_le_bytes(head[head_len..].try_into().expect("4"));
    head.truncate(head_len);
    let parsed = (|| {
        let mut c = Cursor(&head);
        let kind = DatasetKind::from_code(*c.take(1)?.first()?)?;
        let form = SourceForm::from_code(*c.take(1)?.first()?)?;
        let shape = ImageShape::new(c.u32()? as usize, c.u32()? as usize, c.u32()? as usize);
        let (n_train, n_test) = (c.u64()?, c.u64()?);
        let fp = c.string()?;
        let n_classes = c.u32()? as usize;
        let names: Option<Vec<String>> = (0..n_classes.min(1024)).map(|_| c.string()).collect();
        Some((kind, form, shape, n_train, n_test, fp, names?))
    })();
    let Some((kind, form, shape, n_train, n_test, fp, names)) = parsed else {
        return miss("corrupt cache header");
    };
    if fp != fingerprint {
        return miss("stale cache (source changed)");
    }
    if shape != kind.shape() {
        return miss("corrupt cache header (shape)");
    }
    let numel = shape.numel() as u64;
    let payload = (n_train + n_test).checked_mul(numel + 1);
    if payload.map(|p| 16 + head_len as u64 + 4 + p) != Some(file_len) {
        return miss("corrupt cache (wrong length)");
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&head);
    let mut read_part = |n: u64| -> std::io::Result<Vec<u8>> {
        let mut v = vec![0u8; n as usize];
        f.read_exact(&mut v)?;
        crc.update(&v);
        Ok(v)
    };
    let train_images = read_part(n_train * numel)?;
    let train_labels = read_part(n_train)?;
    let test_images = read_part(n_test * numel)?;
    let test_labels = read_part(n_test)?;
    if crc.finalize() != stored_crc {
        return miss("corrupt cache (checksum mismatch)");
    }
    let build = || -> Result<Dataset, DataError> {
        let mut ds = Dataset::new(
            kind,
            Split::new(shape, train_images, train_labels)?,
            Split::new(shape, test_images, test_labels)?,
        )?;
        ds.class_names = names;
        Ok(ds)
    };
    match build() {
        Ok(ds) => Ok(Lookup::Hit(Box::new(ds), form)),
        Err(e) => Ok(Lookup::Miss(format!("corrupt cache ({e})"))),
    }
}
