//! Atomic writes and directory locks, through the public API.
use std::path::Path;

use neurogen_io::{write_atomic, write_atomic_with, DirLock, IoError, LOCK_FILE};

/// Serialises the tests that take locks with the one that spawns a child process. Between
/// `fork` and `exec` a child holds a copy of every descriptor of this process, so a lock this
/// process releases stays held for that instant, and a re-acquisition in a parallel test
/// would be refused (CI saw exactly that: "another process (it has not written its pid yet)").
static LOCKS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    LOCKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn write_atomic_replaces_the_content_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.csv");
    write_atomic(&path, b"old content that is longer than the new one").unwrap();
    write_atomic(&path, b"new").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"new");
    write_atomic_with(&path, |w| {
        use std::io::Write;
        w.write_all(b"streamed ")?;
        w.write_all(&[b'x'; 100_000])
    })
    .unwrap();
    let got = std::fs::read(&path).unwrap();
    assert_eq!(&got[..9], b"streamed ");
    assert_eq!(got.len(), 9 + 100_000);
    assert_eq!(entries(dir.path()), ["runs.csv"]);
}

#[test]
fn a_failed_write_leaves_the_old_file_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.md");
    write_atomic(&path, b"kept").unwrap();
    let e = write_atomic_with(&path, |w| {
        use std::io::Write;
        w.write_all(b"half")?;
        Err(std::io::Error::other("the producer failed"))
    })
    .unwrap_err();
    assert!(e.to_string().contains("report.md"), "{e}");
    assert!(e.to_string().contains("the producer failed"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), b"kept");
    assert_eq!(entries(dir.path()), ["report.md"]);
}

#[test]
fn writing_into_a_missing_directory_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("model.safetensors");
    let e = write_atomic(&path, b"x").unwrap_err();
    assert!(matches!(e, IoError::Write { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(!dir.path().join("no-such-dir").exists());
    let e = write_atomic(Path::new("/"), b"x").unwrap_err();
    assert!(matches!(e, IoError::NotAFile { .. }), "{e:?}");
}

#[test]
fn a_second_lock_on_a_directory_is_refused_naming_the_holder() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let first = DirLock::acquire(dir.path(), "reproduce fig2").unwrap();
    assert_eq!(first.path(), dir.path().join(LOCK_FILE));
    let text = std::fs::read_to_string(first.path()).unwrap();
    assert!(
        text.contains(&format!("pid={}", std::process::id())),
        "{text}"
    );
    assert!(
        text.contains(&format!("host={}", neurogen_io::host_name())),
        "{text}"
    );
    // A second open file description of the same lock file, in the same process.
    let e = DirLock::acquire(dir.path(), "reproduce fig2 (second)").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, IoError::Locked { .. }), "{e:?}");
    for want in [
        format!("pid {}", std::process::id()),
        format!("host {}", neurogen_io::host_name()),
        "reproduce fig2".to_string(),
        dir.path().join(LOCK_FILE).display().to_string(),
    ] {
        assert!(msg.contains(&want), "{msg} lacks {want}");
    }
    drop(first);
    let again = DirLock::acquire(dir.path(), "after release").unwrap();
    assert!(std::fs::read_to_string(again.path())
        .unwrap()
        .contains("what=after release"));
}

#[test]
fn a_stale_lock_file_from_a_dead_process_does_not_block() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    // As left by a process that died while holding the lock: text, but no flock.
    std::fs::write(
        dir.path().join(LOCK_FILE),
        "pid=4194304\nhost=gone\nwhat=reproduce fig3\n",
    )
    .unwrap();
    let lock = DirLock::acquire(dir.path(), "reproduce fig3").unwrap();
    let text = std::fs::read_to_string(lock.path()).unwrap();
    assert!(
        text.contains(&format!("pid={}", std::process::id())),
        "{text}"
    );
    assert!(!text.contains("gone"), "{text}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_lock_held_by_another_process_is_refused_and_released_when_it_dies() {
    let _serial = serial();
    // `flock(1)` from util-linux holds the lock from a child process, if installed.
    if std::process::Command::new("flock")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: flock(1) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join(LOCK_FILE);
    std::fs::write(&lock, "pid=1\nhost=elsewhere\nwhat=the child\n").unwrap();
    let mut child = std::process::Command::new("flock")
        // -o: the lock stays with flock itself, not with `sleep`, so killing flock frees it.
        .args(["-x", "-o"])
        .arg(&lock)
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let refused = loop {
        match DirLock::acquire(dir.path(), "test") {
            Err(e @ IoError::Locked { .. }) => break e,
            Ok(l) => {
                drop(l);
                // Restore the text the acquisition replaced and wait for the child's lock.
                std::fs::write(&lock, "pid=1\nhost=elsewhere\nwhat=the child\n").unwrap();
                assert!(start.elapsed().as_secs() < 10, "flock never took the lock");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    };
    let msg = refused.to_string();
    assert!(msg.contains("pid 1 on host elsewhere"), "{msg}");
    child.kill().unwrap();
    child.wait().unwrap();
    // flock(1) forks `sleep`, which holds a copy of the lock until it closes it (`-o`); killed
    // at that instant, the orphan keeps the lock a moment longer. It must be free soon after.
    let start = std::time::Instant::now();
    while let Err(e) = DirLock::acquire(dir.path(), "after the child died") {
        assert!(matches!(e, IoError::Locked { .. }), "{e:?}");
        assert!(
            start.elapsed().as_secs() < 10,
            "the lock outlived its holder: {e}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
