//! Fashion-MNIST IDX files, gzip-compressed or not, and bad IDX input.
mod common;

use common::*;
use neurogen_data::{load, load_as, DatasetKind, Format, LoadOptions};

#[test]
fn reads_plain_and_gzip_idx() {
    for compress in [false, true] {
        let d = tmp();
        write_idx(d.path(), 30, 20, compress);
        let l = load(d.path(), &LoadOptions::no_cache()).unwrap();
        assert_eq!(l.form.format, Format::Idx);
        let ds = l.dataset;
        assert_eq!(ds.kind, DatasetKind::FashionMnist);
        assert_eq!(ds.shape.to_string(), "1x28x28");
        assert_eq!((ds.train.len(), ds.test.len()), (30, 20));
        assert_eq!(ds.train.class_counts(10), vec![3; 10]);
        assert_eq!(ds.test.labels()[13], 3);
        assert_eq!(ds.train.image(1)[0], (784 % 251) as u8);
        assert_eq!(ds.class_names[9], "Ankle boot");
    }
}

#[test]
fn wrong_magic_number() {
    let d = tmp();
    write_idx(d.path(), 10, 10, false);
    let p = d.path().join("train-images-idx3-ubyte");
    let mut b = std::fs::read(&p).unwrap();
    b[2] = 0x0d; // float data type
    std::fs::write(&p, b).unwrap();
    let e = load_err(d.path());
    assert!(e.contains("train-images-idx3-ubyte"), "{e}");
    assert!(e.contains("wrong magic number 0x00000d03"), "{e}");
    // Labels file given where images are expected: magic 0x801, not 0x803.
    let d = tmp();
    write_idx(d.path(), 10, 10, false);
    std::fs::copy(
        d.path().join("t10k-labels-idx1-ubyte"),
        d.path().join("t10k-images-idx3-ubyte"),
    )
    .unwrap();
    let e = load_err(d.path());
    assert!(
        e.contains("t10k-images-idx3-ubyte") && e.contains("0x00000801"),
        "{e}"
    );
}

#[test]
fn truncated_gzip_and_truncated_data() {
    let d = tmp();
    write_idx(d.path(), 10, 10, true);
    let p = d.path().join("train-images-idx3-ubyte.gz");
    let b = std::fs::read(&p).unwrap();
    std::fs::write(&p, &b[..b.len() / 2]).unwrap();
    let e = load_err(d.path());
    assert!(
        e.contains("train-images-idx3-ubyte.gz") && e.contains("gzip"),
        "{e}"
    );

    let d = tmp();
    write_idx(d.path(), 10, 10, false);
    let p = d.path().join("t10k-images-idx3-ubyte");
    let b = std::fs::read(&p).unwrap();
    std::fs::write(&p, &b[..b.len() - 5]).unwrap();
    let e = load_err(d.path());
    assert!(
        e.contains("t10k-images-idx3-ubyte") && e.contains("truncated"),
        "{e}"
    );
}

#[test]
fn label_out_of_range_and_count_mismatch() {
    let d = tmp();
    write_idx(d.path(), 10, 10, false);
    let labels: Vec<u8> = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 12];
    std::fs::write(
        d.path().join("train-labels-idx1-ubyte"),
        idx_bytes(&[10], &labels),
    )
    .unwrap();
    let e = load_err(d.path());
    assert!(
        e.contains("train-labels-idx1-ubyte") && e.contains("label 12 out of range"),
        "{e}"
    );

    std::fs::write(
        d.path().join("train-labels-idx1-ubyte"),
        idx_bytes(&[9], &labels[..9]),
    )
    .unwrap();
    let e = load_err(d.path());
    assert!(e.contains("9 labels for 10 images"), "{e}");
}

#[test]
fn wrong_image_size_and_empty_split() {
    let d = tmp();
    write_idx(d.path(), 10, 10, false);
    std::fs::write(
        d.path().join("t10k-images-idx3-ubyte"),
        idx_bytes(&[10, 32, 32], &vec![0; 10 * 1024]),
    )
    .unwrap();
    let e = load_err(d.path());
    assert!(
        e.contains("t10k-images-idx3-ubyte") && e.contains("32x32"),
        "{e}"
    );

    let d = tmp();
    write_idx(d.path(), 10, 0, false);
    let e = load_err(d.path());
    assert!(e.contains("empty split"), "{e}");
}

#[test]
fn missing_file_is_named() {
    let d = tmp();
    write_idx(d.path(), 10, 10, true);
    std::fs::remove_file(d.path().join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let e = load_err(d.path());
    assert!(e.contains("missing t10k-labels-idx1-ubyte"), "{e}");
}

#[test]
fn mnist_and_kmnist_are_stated_not_detected() {
    let d = tmp();
    write_idx(d.path(), 30, 20, true);
    let cache = tmp();
    // The same files, read as each IDX kind (through the decode cache: the second and third
    // loads hit it and are relabelled all the same).
    for (kind, name7) in [
        (DatasetKind::FashionMnist, "Sneaker"),
        (DatasetKind::Mnist, "7"),
        (DatasetKind::Kmnist, "ya"),
    ] {
        let l = load_as(d.path(), kind, &opts(cache.path())).unwrap();
        assert_eq!(l.dataset.kind, kind);
        assert_eq!(l.dataset.class_names[7], name7);
        assert_eq!(l.dataset.shape.to_string(), "1x28x28");
        assert_eq!((l.dataset.train.len(), l.dataset.test.len()), (30, 20));
    }
    assert_eq!(DatasetKind::Kmnist.to_string(), "KMNIST");
    // Not IDX files: refused, naming what the source holds.
    let c = tmp();
    write_image_folder(c.path(), 10, 10);
    let e = load_as(c.path(), DatasetKind::Mnist, &LoadOptions::no_cache())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("holds CIFAR-10") && e.contains("not MNIST") && e.contains("IDX files"),
        "{e}"
    );
    // IDX files stated as CIFAR-10: refused too.
    let e = load_as(d.path(), DatasetKind::Cifar10, &LoadOptions::no_cache())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("holds Fashion-MNIST") && e.contains("not CIFAR-10"),
        "{e}"
    );
    // A missing file is named, whichever kind was stated.
    std::fs::remove_file(d.path().join("train-labels-idx1-ubyte.gz")).unwrap();
    let e = load_as(d.path(), DatasetKind::Kmnist, &LoadOptions::no_cache())
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing train-labels-idx1-ubyte"), "{e}");
}
