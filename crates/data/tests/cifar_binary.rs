//! The official CIFAR-10 binary release: folder and `cifar-10-binary.tar.gz` forms, record
//! layout, and every kind of bad batch file.
mod common;

use common::*;
use neurogen_data::{load, DatasetKind, Format, LoadOptions};

#[test]
fn reads_binary_folder_in_record_order() {
    let d = tmp();
    let src = d.path().join("cifar-10-batches-bin");
    write_cifar_binary(&src, 4);
    let l = load(&src, &LoadOptions::no_cache()).unwrap();
    assert_eq!(l.form.format, Format::CifarBinary);
    assert!(!l.form.archive);
    let ds = l.dataset;
    assert_eq!(ds.kind, DatasetKind::Cifar10);
    assert_eq!(ds.shape.to_string(), "3x32x32");
    assert_eq!(ds.train.len(), 20);
    assert_eq!(ds.test.len(), 4);
    // Batches 1..5 in order, records in file order; images stored as R, G, B planes.
    for i in 0..20 {
        assert_eq!(ds.train.labels()[i], (i % 10) as u8);
        assert_eq!(ds.train.image(i), &cifar_pixels((i % 10) as u8, i)[..]);
    }
    assert_eq!(ds.test.image(0), &cifar_pixels(0, 20)[..]);
    assert_eq!(ds.class_names[0], "airplane");
    assert_eq!(ds.class_names[9], "truck");
}

#[test]
fn reads_the_release_archive_like_the_folder() {
    let d = tmp();
    let src = d.path().join("bin");
    write_cifar_binary(&src, 3);
    let archive = d.path().join("cifar-10-binary.tar.gz");
    tar_gz(&src, "cifar-10-batches-bin", &archive);
    let a = load(&archive, &LoadOptions::no_cache()).unwrap();
    let f = load(&src, &LoadOptions::no_cache()).unwrap();
    assert!(a.form.archive);
    assert_eq!(a.form.format, Format::CifarBinary);
    assert_eq!(a.dataset, f.dataset);
    // Also a folder that holds the batches one level down.
    let parent = load(d.path(), &LoadOptions::no_cache());
    // d.path() holds both the folder and the archive: the batch files are found in the folder.
    assert_eq!(parent.unwrap().dataset, f.dataset);
}

#[test]
fn truncated_record_is_an_error_naming_the_file() {
    let d = tmp();
    write_cifar_binary(d.path(), 2);
    let p = d.path().join("data_batch_4.bin");
    let mut b = std::fs::read(&p).unwrap();
    b.truncate(b.len() - 100);
    std::fs::write(&p, b).unwrap();
    let e = load_err(d.path());
    assert!(e.contains("data_batch_4.bin"), "{e}");
    assert!(e.contains("truncated record 2"), "{e}");
}

#[test]
fn label_out_of_range_is_an_error() {
    let d = tmp();
    write_cifar_binary(d.path(), 2);
    let p = d.path().join("test_batch.bin");
    let mut b = std::fs::read(&p).unwrap();
    b[3073] = 10; // label of record 2
    std::fs::write(&p, b).unwrap();
    let e = load_err(d.path());
    assert!(e.contains("test_batch.bin"), "{e}");
    assert!(e.contains("label 10 out of range"), "{e}");
    assert!(e.contains("record 2"), "{e}");
}

#[test]
fn missing_or_empty_batch_is_an_error() {
    let d = tmp();
    write_cifar_binary(d.path(), 2);
    std::fs::remove_file(d.path().join("data_batch_3.bin")).unwrap();
    let e = load_err(d.path());
    assert!(e.contains("missing data_batch_3.bin"), "{e}");

    let d = tmp();
    write_cifar_binary(d.path(), 2);
    std::fs::write(d.path().join("test_batch.bin"), b"").unwrap();
    let e = load_err(d.path());
    assert!(e.contains("test_batch.bin") && e.contains("empty"), "{e}");
}

#[test]
fn truncated_archive_is_an_error() {
    let d = tmp();
    let src = d.path().join("bin");
    write_cifar_binary(&src, 3);
    let archive = d.path().join("cifar-10-binary.tar.gz");
    tar_gz(&src, "cifar-10-batches-bin", &archive);
    let b = std::fs::read(&archive).unwrap();
    let cut = d.path().join("cut.tar.gz");
    std::fs::write(&cut, &b[..b.len() * 2 / 3]).unwrap();
    let e = load_err(&cut);
    assert!(
        e.contains("cut.tar.gz") && e.contains("unreadable archive"),
        "{e}"
    );
}

#[test]
fn the_test_kit_writes_the_class_names_the_reader_expects() {
    assert_eq!(
        neurogen_testkit::cifar::CLASSES,
        neurogen_data::CIFAR10_CLASSES
    );
}
