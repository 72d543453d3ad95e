//! File-system helpers shared by every neurogen crate: atomic writes and per-directory locks.
//!
//! - [`write_atomic`] / [`write_atomic_with`]: a file is written to a uniquely named temporary
//!   file in the target's directory, `fsync`ed, renamed over the target and the directory is
//!   `fsync`ed, so a crash leaves the old file or the new one, never a mix. Every file the
//!   workspace writes (checkpoints, `runs.csv`, curves, reports, plots, the decode cache) goes
//!   through it.
//! - [`DirLock`]: an advisory lock (`flock`) on `DIR/.lock`, so two processes do not write the
//!   same output directory at once. The kernel releases it when the holder exits, however it
//!   exits; the file's text (pid, host, what) only names the holder in the error.
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("report.md");
//! neurogen_io::write_atomic(&path, b"first")?;
//! neurogen_io::write_atomic(&path, b"second")?;
//! assert_eq!(std::fs::read(&path)?, b"second");
//!
//! let lock = neurogen_io::DirLock::acquire(dir.path(), "an example")?;
//! let refused = neurogen_io::DirLock::acquire(dir.path(), "a second writer").unwrap_err();
//! assert!(refused.to_string().contains(&format!("pid {}", std::process::id())));
//! drop(lock);
//! neurogen_io::DirLock::acquire(dir.path(), "a third writer")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

// The README's examples (the crate's page on crates.io) run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The name of the lock file [`DirLock`] creates in a directory.
pub const LOCK_FILE: &str = ".lock";

/// What can go wrong in this crate. Every variant names the file concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The target of a write has no file name (it is empty, `/` or ends in `..`).
    #[error("{path}: not a file path")]
    NotAFile {
        /// The path given.
        path: PathBuf,
    },
    /// Writing (or syncing, or renaming into place) a file failed; the old file, if any, is
    /// unchanged.
    #[error("writing {path} failed (the previous file, if any, is unchanged): {source}")]
    Write {
        /// The file that was to be written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A lock file could not be created, read or locked.
    #[error("lock file {path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Another process (or another handle in this one) holds the directory's lock.
    #[error(
        "{dir} is in use: {holder} holds its lock {lock}; two processes must not write the same \
         directory at once (wait for it to finish, stop it, or use another directory)"
    )]
    Locked {
        /// The locked directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// Who holds it, as recorded in the lock file (`pid N on host H (what)`).
        holder: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, IoError>;

/// Writes `bytes` to `path` atomically; see [`write_atomic_with`].
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("runs.csv");
/// neurogen_io::write_atomic(&path, b"a,b\n1,2\n")?;
/// assert_eq!(std::fs::read_to_string(&path)?, "a,b\n1,2\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes `path` atomically with the contents `write` produces: a uniquely named temporary
/// file `.<name>.<pid>.<n>.tmp` is created in the same directory, filled by `write` (through a
/// buffer), `fsync`ed and renamed over `path`, then the directory is `fsync`ed. On any error
/// the temporary file is removed and `path` is left as it was. The directory must exist.
pub fn write_atomic_with<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
{
    let not_a_file = || IoError::NotAFile {
        path: path.to_path_buf(),
    };
    let name = path.file_name().ok_or_else(not_a_file)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let err = |source| IoError::Write {
        path: path.to_path_buf(),
        source,
    };
    let (tmp, file) = create_temp(dir, &name.to_string_lossy()).map_err(err)?;
    let result = (|| {
        let mut w = BufWriter::with_capacity(1 << 16, file);
        write(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() && tmp.exists() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Creates a new temporary file beside the target (never reusing an existing name).
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let pid = std::process::id();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{pid}.{n}.tmp"));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            // Left by an earlier process with the same pid: take the next number.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// `fsync`s a directory so that a rename in it is durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        // Some file systems cannot sync a directory; the rename itself has happened.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOTSUP)) => Ok(()),
        r => r,
    }
}

/// Directories cannot be opened as files here; the rename is as durable as the platform makes it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// An advisory, exclusive lock on a directory, held until dropped.
///
/// [`DirLock::acquire`] opens (creating it if needed) `DIR/.lock`, takes a non-blocking
/// exclusive `flock` on it and writes the holder's pid, host name and purpose into it. The
/// lock belongs to the open file, so the kernel releases it when the holder drops it or dies
/// (even by `SIGKILL`): a lock file left by a dead process does not block anyone. The file is
/// never deleted (deleting it would let two processes lock two different files); on drop its
/// text is cleared. Like every advisory lock it only excludes processes that also take it, and
/// on network file systems it is as reliable as their `flock` emulation. On non-Unix platforms
/// the file is written but not locked.
#[derive(Debug)]
pub struct DirLock {
    file: File,
    path: PathBuf,
}

impl DirLock {
    /// Locks `dir` (which must exist) for `what` (a short description such as
    /// `reproduce fig2`, shown to anyone refused). Fails with [`IoError::Locked`], naming the
    /// holder (pid, host, what) and the lock file, if the lock is held, including by another
    /// handle in this process.
    pub fn acquire(dir: &Path, what: &str) -> Result<DirLock> {
        let path = dir.join(LOCK_FILE);
        let err = |source| IoError::Lock {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(err)?;
        if !try_lock(&file).map_err(err)? {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(IoError::Locked {
                dir: dir.to_path_buf(),
                lock: path.clone(),
                holder: describe_holder(&text),
            });
        }
        let text = format!(
            "pid={}\nhost={}\nwhat={}\n",
            std::process::id(),
            host_name(),
            what.replace('\n', " ")
        );
        (|| {
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
            file.write_all(text.as_bytes())?;
            file.flush()
        })()
        .map_err(err)?;
        Ok(DirLock { file, path })
    }

    /// The lock file (`DIR/.lock`).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Clear the holder's text while still holding the lock; closing the file releases it.
        let _ = self.file.set_len(0);
    }
}

/// Takes a non-blocking exclusive lock: `Ok(false)` when someone else holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: flock on a file descriptor this `File` owns for the duration of the call.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(code) if code == libc::EWOULDBLOCK || code == libc::EAGAIN => return Ok(false),
            _ => return Err(e),
        }
    }
}

/// No advisory locks without Unix `flock`: the lock file is written but does not exclude.
#[cfg(not(unix))]
fn try_lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

/// `pid N on host H (what)` from a lock file's text, or a note that it names nobody.
fn describe_holder(text: &str) -> String {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    match (field("pid"), field("host")) {
        (None, None) => "another process (it has not written its pid yet)".to_string(),
        (pid, host) => {
            let mut s = format!(
                "pid {} on host {}",
                pid.unwrap_or("unknown"),
                host.unwrap_or("unknown")
            );
            if let Some(what) = field("what") {
                s.push_str(&format!(" ({what})"));
            }
            s
        }
    }
}

/// This machine's host name (`unknown` if it cannot be read).
pub fn host_name() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for `buf.len()` bytes; gethostname NUL-terminates
        // within it or truncates, and the last byte is never written below.
        let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
        if r == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len() - 1);
            let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
            if !name.is_empty() {
                return name;
            }
        }
    }
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .unwrap_or_else(|_| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_text_is_parsed() {
        assert_eq!(
            describe_holder("pid=12\nhost=box\nwhat=reproduce fig2\n"),
            "pid 12 on host box (reproduce fig2)"
        );
        assert_eq!(describe_holder("host=box\n"), "pid unknown on host box");
        assert!(describe_holder("").contains("not written its pid"));
    }
}
