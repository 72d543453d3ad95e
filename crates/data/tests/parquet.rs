//! Hugging Face parquet exports (as `uoft-cs/cifar10` has them), the hub-cache lookup, and the
//! offline failure message. The parquet files are written by the test with the parquet crate.
mod common;

use common::*;
use neurogen_data::{load, load_default, DatasetKind, Format, LoadOptions};

fn hf_layout(root: &std::path::Path, n_train: usize, n_test: usize) {
    let (im, lb) = png_rows(n_train);
    write_hf_parquet(
        &root.join("plain_text/train-00000-of-00001.parquet"),
        &im,
        &lb,
    );
    let (im, lb) = png_rows(n_test);
    write_hf_parquet(
        &root.join("plain_text/test-00000-of-00001.parquet"),
        &im,
        &lb,
    );
}

#[test]
fn reads_hf_parquet_folder() {
    let d = tmp();
    hf_layout(d.path(), 25, 10);
    let l = load(d.path(), &LoadOptions::no_cache()).unwrap();
    assert_eq!(l.form.format, Format::Parquet);
    let ds = l.dataset;
    assert_eq!(ds.kind, DatasetKind::Cifar10);
    assert_eq!((ds.train.len(), ds.test.len()), (25, 10));
    assert_eq!(ds.train.labels()[13], 3);
    let img = ds.train.image(13);
    let expect = rgb_image(3, 13, 32);
    let px = expect.get_pixel(4, 7).0;
    let p = 7 * 32 + 4;
    assert_eq!([img[p], img[1024 + p], img[2048 + p]], px);
}

#[test]
fn shards_are_concatenated_in_name_order() {
    let d = tmp();
    let (im, lb) = png_rows(12);
    write_hf_parquet(
        &d.path().join("train-00001-of-00002.parquet"),
        &im[6..],
        &lb[6..],
    );
    write_hf_parquet(
        &d.path().join("train-00000-of-00002.parquet"),
        &im[..6],
        &lb[..6],
    );
    write_parquet_with_image_column(&d.path().join("test-0.parquet"), "image", &im, &lb);
    let ds = load(d.path(), &LoadOptions::no_cache()).unwrap().dataset;
    assert_eq!(ds.train.labels(), ds.test.labels());
    assert_eq!(ds.train, ds.test);
}

#[test]
fn bad_parquet_input() {
    // Label out of range.
    let d = tmp();
    hf_layout(d.path(), 5, 5);
    let (im, mut lb) = png_rows(5);
    lb[3] = 11;
    write_hf_parquet(
        &d.path().join("plain_text/test-00000-of-00001.parquet"),
        &im,
        &lb,
    );
    let e = load_err(d.path());
    assert!(e.contains("test-00000-of-00001.parquet (row 3)"), "{e}");
    assert!(e.contains("label 11 out of range"), "{e}");

    // No image column.
    let d = tmp();
    hf_layout(d.path(), 5, 5);
    let (im, lb) = png_rows(5);
    write_parquet_with_image_column(
        &d.path().join("plain_text/train-x.parquet"),
        "pixels",
        &im,
        &lb,
    );
    let e = load_err(d.path());
    assert!(
        e.contains("train-x.parquet") && e.contains("no image column"),
        "{e}"
    );

    // Wrong image size in one row.
    let d = tmp();
    hf_layout(d.path(), 5, 5);
    let (mut im, lb) = png_rows(5);
    im[2] = png_bytes(&image::DynamicImage::ImageRgb8(rgb_image(2, 2, 24)));
    write_hf_parquet(
        &d.path().join("plain_text/train-00000-of-00001.parquet"),
        &im,
        &lb,
    );
    let e = load_err(d.path());
    assert!(e.contains("(row 2)") && e.contains("24x24"), "{e}");

    // Not a parquet file.
    let d = tmp();
    hf_layout(d.path(), 5, 5);
    std::fs::write(
        d.path().join("plain_text/test-00000-of-00001.parquet"),
        b"PAR1junk",
    )
    .unwrap();
    let e = load_err(d.path());
    assert!(
        e.contains("test-00000-of-00001.parquet") && e.contains("parquet"),
        "{e}"
    );

    // Empty split: no test files.
    let d = tmp();
    hf_layout(d.path(), 5, 5);
    std::fs::remove_file(d.path().join("plain_text/test-00000-of-00001.parquet")).unwrap();
    let e = load_err(d.path());
    assert!(e.contains("empty split"), "{e}");
}

#[test]
fn load_default_uses_the_hub_cache_and_fails_offline_with_advice() {
    // A hub cache laid out as hf-hub leaves it.
    let hub = tmp();
    let repo = hub.path().join("datasets--uoft-cs--cifar10");
    let rev = "0123456789abcdef0123456789abcdef01234567";
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), rev).unwrap();
    hf_layout(&repo.join("snapshots").join(rev), 10, 10);
    let cache = tmp();
    let opts = LoadOptions {
        hub_cache_dir: Some(hub.path().to_path_buf()),
        // Any download attempt would fail: nothing listens there.
        hub_endpoint: Some("http://127.0.0.1:9".into()),
        ..opts(cache.path())
    };
    let l = load_default(&opts).unwrap();
    assert_eq!(l.dataset.train.len(), 10);
    assert!(l.source.ends_with(format!("snapshots/{rev}")));

    // An empty hub cache and no network: a clear error that says how to pass a local copy.
    let empty = tmp();
    let opts = LoadOptions {
        hub_cache_dir: Some(empty.path().to_path_buf()),
        hub_endpoint: Some("http://127.0.0.1:9".into()),
        ..LoadOptions::no_cache()
    };
    let e = load_default(&opts).unwrap_err().to_string();
    assert!(e.contains("uoft-cs/cifar10"), "{e}");
    assert!(e.contains("--data PATH"), "{e}");
}
