//! Inputs that broke (or could break) the readers under fuzzing (`fuzz/`, see
//! docs/reliability.md), kept as regression tests: each must give a typed error that names the
//! problem, never a panic, an overflow or a huge allocation. Also keeps the committed seed
//! corpora (`fuzz/corpus/<target>/`) valid; `NEUROGEN_WRITE_FUZZ_CORPUS=1 cargo test -p
//! neurogen-data --test fuzz_regressions` rewrites them.
mod common;

use std::path::{Path, PathBuf};

use common::*;
use neurogen_data::{cifar_binary, idx, memory, DatasetKind};

fn name() -> &'static Path {
    Path::new("fuzzed")
}

#[test]
fn idx_dimensions_whose_product_overflows_are_an_error() {
    // 3-D header with dims 2^32-1 each: the product overflows usize.
    let bytes = idx_bytes(&[u32::MAX, u32::MAX, u32::MAX], &[0; 8]);
    let e = idx::parse(&bytes, name(), 3).unwrap_err().to_string();
    assert!(
        e.contains("impossibly large") && e.contains("fuzzed"),
        "{e}"
    );
    // A product that fits but is far more than the file holds.
    let bytes = idx_bytes(&[60_000, 28, 28], &[0; 10]);
    let e = idx::parse(&bytes, name(), 3).unwrap_err().to_string();
    assert!(e.contains("truncated data"), "{e}");
}

#[test]
fn idx_split_with_wrong_image_size_or_counts_is_an_error() {
    let images = idx_bytes(&[1, 2, 2], &[0; 4]);
    let labels = idx_bytes(&[1], &[0]);
    let e = idx::parse_split(&images, name(), &labels, Path::new("labels"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("2x2"), "{e}");
    let images = idx_bytes(&[0, 28, 28], &[]);
    let labels = idx_bytes(&[0], &[]);
    let e = idx::parse_split(&images, name(), &labels, Path::new("labels"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("0 images"), "{e}");
    let images = idx_bytes(&[1, 28, 28], &[0; 784]);
    let labels = idx_bytes(&[1], &[10]);
    let e = idx::parse_split(&images, name(), &labels, Path::new("labels"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("label 10 out of range"), "{e}");
}

#[test]
fn cifar_batch_errors_name_the_record() {
    let e = cifar_binary::parse(&[], name()).unwrap_err().to_string();
    assert!(e.contains("empty batch file"), "{e}");
    let mut b = record(3, 0);
    b.extend(&record(4, 1)[..100]);
    let e = cifar_binary::parse(&b, name()).unwrap_err().to_string();
    assert!(e.contains("truncated record 2"), "{e}");
    let mut b = record(3, 0);
    b.extend(record(200, 1));
    let e = cifar_binary::parse(&b, name()).unwrap_err().to_string();
    assert!(e.contains("label 200") && e.contains("record 2"), "{e}");
}

/// A tar header (ustar) for one regular file of `size` bytes (octal), with a valid checksum.
fn tar_header(path: &str, size_field: &[u8]) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..path.len()].copy_from_slice(path.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..124 + size_field.len()].copy_from_slice(size_field);
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

#[test]
fn tar_member_claiming_a_huge_size_is_an_error_not_a_huge_allocation() {
    // Octal 77777777777 = 8 GiB, in a file of 1 KiB: the reader used to reserve the claimed
    // size up front. Now the buffer grows only with the bytes that arrive: truncated member.
    let mut t = tar_header("train/cat/0.png", b"77777777777");
    t.extend([0u8; 512]);
    for bytes in [t.clone(), gz(&t)] {
        let e = memory::archive_dataset(&bytes, Path::new("x.tar.gz"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.tar.gz") && e.contains("truncated"), "{e}");
    }
    // Base-256 size field (GNU extension) with the top bit set: an absurd 2^62 bytes.
    let mut field = [0u8; 12];
    field[0] = 0x80;
    field[4] = 0x40;
    let mut t = tar_header("train/cat/0.png", &[]);
    t[124..136].copy_from_slice(&field);
    t[148..156].copy_from_slice(b"        ");
    let sum: u32 = t.iter().map(|&b| b as u32).sum();
    t[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    t.extend([0u8; 1024]);
    let e = memory::archive_dataset(&t, Path::new("y.tar"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("y.tar"), "{e}");
}

/// A PNG whose header claims `w` x `h` pixels, with no image data.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB
    let crc = crc32fast::hash(&ihdr);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(13u32.to_be_bytes());
    png.extend(&ihdr);
    png.extend(crc.to_be_bytes());
    png
}

#[test]
fn image_headers_claiming_huge_sizes_are_refused_before_decoding() {
    // 100000 x 100000 RGB would be 30 GB: refused by the decoder's limits.
    let dir = tmp();
    let root = dir.path().join("ds");
    write_image_folder(&root, 1, 1);
    std::fs::write(
        root.join("train/cat/0000.png"),
        png_header_only(100_000, 100_000),
    )
    .unwrap();
    let archive = dir.path().join("ds.tar.gz");
    tar_gz(&root, "ds", &archive);
    let bytes = std::fs::read(&archive).unwrap();
    let e = memory::archive_dataset(&bytes, &archive)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("train/cat/0000.png") && e.contains("cannot decode image"),
        "{e}"
    );
}

#[test]
fn parquet_garbage_is_a_typed_error() {
    for bytes in [
        &b""[..],
        b"PAR1",
        b"PAR1\0\0\0\0PAR1",
        b"PAR1\xff\xff\xff\x7fPAR1",
    ] {
        let e = memory::parquet_rows(bytes, name()).unwrap_err().to_string();
        assert!(e.contains("fuzzed") && e.contains("parquet"), "{e}");
    }
}

// ---- seed corpora -------------------------------------------------------------------------

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

/// A 28x28 grayscale PNG of one flat colour (a few dozen bytes).
fn flat_gray_png(v: u8) -> Vec<u8> {
    png_bytes(&image::DynamicImage::ImageLuma8(
        image::GrayImage::from_pixel(28, 28, image::Luma([v])),
    ))
}

/// Small valid inputs for each data fuzz target: (target, file name, bytes).
fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let mut out = Vec::new();
    // CIFAR-10 binary: two records.
    let mut b = record(1, 0);
    b.extend(record(9, 1));
    out.push(("cifar_binary", "two_records.bin", b));
    // IDX: a label file, and a split (u16 cut, image file, label file), plain and gzip.
    out.push(("idx", "labels.idx1", idx_bytes(&[3], &[0, 5, 9])));
    for (file, compress) in [("split_plain", false), ("split_gzip", true)] {
        let pixels: Vec<u8> = (0..2 * 784).map(|p| (p % 7) as u8).collect();
        let (mut im, mut lb) = (idx_bytes(&[2, 28, 28], &pixels), idx_bytes(&[2], &[3, 4]));
        if compress {
            (im, lb) = (gz(&im), gz(&lb));
        }
        let mut b = (im.len() as u16).to_be_bytes().to_vec();
        b.extend(im);
        b.extend(lb);
        out.push(("idx", file, b));
    }
    // Archives: a Fashion-MNIST image folder of flat PNGs, a binary release and IDX files.
    let dir = tmp();
    let folder = dir.path().join("folder");
    for split in ["train", "test"] {
        for (i, class) in neurogen_data::FASHION_MNIST_CLASSES.iter().enumerate() {
            let d = folder.join(split).join(class.replace('/', "-"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("0.png"), flat_gray_png(20 * i as u8)).unwrap();
        }
    }
    let bin = dir.path().join("bin");
    write_cifar_binary(&bin, 1);
    let idxd = dir.path().join("idx");
    write_idx(&idxd, 2, 1, true);
    for (file, src, prefix) in [
        ("image_folder.tar.gz", &folder, "fmnist"),
        ("cifar_binary.tar.gz", &bin, "cifar-10-batches-bin"),
        ("idx.tar.gz", &idxd, "fashion-mnist"),
    ] {
        let p = dir.path().join(file);
        tar_gz(src, prefix, &p);
        out.push(("archive", file, std::fs::read(&p).unwrap()));
    }
    // Parquet: two rows of flat grayscale PNGs (Fashion-MNIST shaped).
    let p = dir.path().join("train.parquet");
    write_hf_parquet(&p, &[flat_gray_png(0), flat_gray_png(200)], &[0, 7]);
    out.push(("parquet", "two_rows.parquet", std::fs::read(&p).unwrap()));
    out
}

#[test]
fn seed_corpora_are_valid_inputs() {
    let write = std::env::var_os("NEUROGEN_WRITE_FUZZ_CORPUS").is_some();
    for (target, file, bytes) in seeds() {
        // Every seed is accepted by its reader (so the fuzzer starts from valid inputs).
        match target {
            "cifar_binary" => {
                cifar_binary::parse(&bytes, name()).unwrap();
            }
            "idx" if file.starts_with("split") => {
                let at = u16::from_be_bytes([bytes[0], bytes[1]]) as usize;
                let (im, lb) = bytes[2..].split_at(at);
                idx::parse_split(im, name(), lb, name()).unwrap();
            }
            "idx" => {
                idx::parse(&bytes, name(), 1).unwrap();
            }
            "archive" => {
                memory::archive_dataset(&bytes, name()).unwrap();
            }
            "parquet" => {
                let ds = memory::parquet_dataset(&bytes, &bytes, name()).unwrap();
                assert_eq!(ds.kind, DatasetKind::FashionMnist);
            }
            _ => unreachable!(),
        }
        let path = corpus_dir(target).join(file);
        if write {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        }
        // The committed seeds are readable too (they may lag the generator only in bytes that
        // encoders are free to choose, so they are checked by reading, not by comparison).
        if path.exists() {
            let committed = std::fs::read(&path).unwrap();
            let ok = match target {
                "cifar_binary" => cifar_binary::parse(&committed, name()).is_ok(),
                "idx" => committed.len() == bytes.len(),
                "archive" => memory::archive_dataset(&committed, name()).is_ok(),
                _ => memory::parquet_rows(&committed, name()).is_ok(),
            };
            assert!(ok, "committed seed {} is not valid", path.display());
        } else {
            eprintln!(
                "SKIP: {} absent (NEUROGEN_WRITE_FUZZ_CORPUS=1 writes it)",
                path.display()
            );
        }
    }
}

#[test]
fn parquet_with_negative_column_offsets_is_an_error_not_a_panic() {
    // Found by `cargo fuzz run parquet`: the parquet crate asserts that column offsets are
    // non-negative (`ColumnChunkMetaData::byte_range`) and panicked on this file.
    let bytes = include_bytes!("fixtures/fuzz-parquet-negative-offset.parquet");
    let e = neurogen_data::memory::parquet_rows(bytes, name()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("corrupt"), "{msg}");
}

#[test]
fn a_panic_inside_the_parquet_crate_is_an_error_naming_the_file() {
    // Found by `cargo fuzz run parquet`: the parquet crate panics in `util/bit_util.rs` while
    // decoding this corrupt file; the reader turns the panic into an error.
    let bytes = include_bytes!("fixtures/fuzz-parquet-bit-util-panic.parquet");
    let e = neurogen_data::memory::parquet_rows(bytes, name()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("corrupt") && msg.contains("fuzzed"), "{msg}");
}
