//! The decode cache: second load served from it, stale and corrupt caches detected and rebuilt,
//! atomic writes (no temporary files left behind).
mod common;

use common::*;
use neurogen_data::{cache, load, LoadOptions};

#[test]
fn second_load_is_served_from_the_cache() {
    let d = tmp();
    let c = tmp();
    write_image_folder(d.path(), 2, 1);
    let first = load(d.path(), &opts(c.path())).unwrap();
    assert!(!first.from_cache);
    let cp = first.cache_path.clone().unwrap();
    assert!(cp.starts_with(c.path()) && cp.is_file());
    let second = load(d.path(), &opts(c.path())).unwrap();
    assert!(second.from_cache);
    assert_eq!(second.cache_path.as_ref(), Some(&cp));
    assert_eq!(first.dataset, second.dataset);
    assert_eq!(first.form, second.form);
    // Only the cache file, no temporary leftovers.
    let names: Vec<_> = std::fs::read_dir(c.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn corrupt_or_truncated_cache_is_rebuilt() {
    let d = tmp();
    let c = tmp();
    write_cifar_binary(d.path(), 3);
    let first = load(d.path(), &opts(c.path())).unwrap();
    let cp = first.cache_path.clone().unwrap();
    let mut bytes = std::fs::read(&cp).unwrap();
    let n = bytes.len();
    bytes[n - 500] ^= 0xff; // a pixel of the test split
    std::fs::write(&cp, &bytes).unwrap();
    let again = load(d.path(), &opts(c.path())).unwrap();
    assert!(!again.from_cache);
    assert!(
        again.cache_note.as_deref().unwrap().contains("checksum"),
        "{:?}",
        again.cache_note
    );
    assert_eq!(again.dataset, first.dataset);
    assert!(load(d.path(), &opts(c.path())).unwrap().from_cache);

    std::fs::write(&cp, &bytes[..n / 2]).unwrap();
    let again = load(d.path(), &opts(c.path())).unwrap();
    assert!(!again.from_cache);
    assert_eq!(again.dataset, first.dataset);

    std::fs::write(&cp, b"garbage").unwrap();
    let again = load(d.path(), &opts(c.path())).unwrap();
    assert!(!again.from_cache);
    assert_eq!(again.dataset, first.dataset);
}

#[test]
fn changed_source_makes_the_cache_stale() {
    let d = tmp();
    let c = tmp();
    write_cifar_binary(d.path(), 3);
    let first = load(d.path(), &opts(c.path())).unwrap();
    // Rewrite one batch with different labels (size changes too, so mtime granularity is moot).
    let p = d.path().join("test_batch.bin");
    let mut b = Vec::new();
    for i in 0..4 {
        b.extend(record(9, i));
    }
    std::fs::write(&p, b).unwrap();
    let again = load(d.path(), &opts(c.path())).unwrap();
    assert!(!again.from_cache);
    assert!(again.cache_note.as_deref().unwrap().contains("stale"));
    assert_eq!(again.dataset.test.len(), 4);
    assert_eq!(again.dataset.test.labels(), &[9, 9, 9, 9]);
    assert_eq!(again.dataset.train, first.dataset.train);
    // An archive source: same rule by file size and mtime.
    let a = tmp();
    let archive = a.path().join("x.tar.gz");
    tar_gz(d.path(), "cifar-10-batches-bin", &archive);
    assert!(!load(&archive, &opts(c.path())).unwrap().from_cache);
    assert!(load(&archive, &opts(c.path())).unwrap().from_cache);
}

#[test]
fn cache_off_and_cache_key() {
    let d = tmp();
    write_idx(d.path(), 10, 10, true);
    let l = load(d.path(), &LoadOptions::no_cache()).unwrap();
    assert!(l.cache_path.is_none() && !l.from_cache);
    let a = cache::cache_file("/c".as_ref(), "/data/a.tar.gz".as_ref());
    let b = cache::cache_file("/c".as_ref(), "/other/a.tar.gz".as_ref());
    assert_ne!(a, b);
    assert!(a.starts_with("/c"));
}

#[test]
fn unwritable_cache_is_reported_not_fatal() {
    let d = tmp();
    write_idx(d.path(), 10, 10, false);
    let f = tmp();
    let blocker = f.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    // The cache "directory" is a regular file: writing fails, the load still succeeds.
    let l = load(d.path(), &opts(&blocker)).unwrap();
    assert_eq!(l.dataset.train.len(), 10);
    assert!(l.cache_note.as_deref().unwrap().contains("could not write"));
}

#[test]
fn cache_of_another_format_version_is_rebuilt() {
    let d = tmp();
    let c = tmp();
    write_cifar_binary(d.path(), 2);
    let first = load(d.path(), &opts(c.path())).unwrap();
    let cp = first.cache_path.clone().unwrap();
    let mut bytes = std::fs::read(&cp).unwrap();
    // The version follows the 8-byte magic (little-endian u32).
    let v = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    assert_eq!(v, cache::FORMAT_VERSION);
    bytes[8..12].copy_from_slice(&(v + 1).to_le_bytes());
    std::fs::write(&cp, &bytes).unwrap();
    let again = load(d.path(), &opts(c.path())).unwrap();
    assert!(!again.from_cache);
    assert!(
        again
            .cache_note
            .as_deref()
            .unwrap()
            .contains("another format version"),
        "{:?}",
        again.cache_note
    );
    assert_eq!(again.dataset, first.dataset);
    // Rewritten with the current version: served from the cache again.
    let bytes = std::fs::read(&cp).unwrap();
    assert_eq!(
        u32::from_le_bytes(bytes[8..12].try_into().unwrap()),
        cache::FORMAT_VERSION
    );
    assert!(load(d.path(), &opts(c.path())).unwrap().from_cache);
}
