//! Image folders (`train/<class>/*`, `test/<class>/*`) as directories and `.tar.gz`, and bad
//! image-folder input: unknown class, wrong size or colour type, empty split, bad archive.
mod common;

use common::*;
use neurogen_data::{load, DatasetKind, Format, LoadOptions};

#[test]
fn reads_png_folder_with_official_labels_and_chw_layout() {
    let d = tmp();
    write_image_folder(d.path(), 3, 2);
    let l = load(d.path(), &LoadOptions::no_cache()).unwrap();
    assert_eq!(l.form.format, Format::ImageFolder);
    let ds = l.dataset;
    assert_eq!(ds.kind, DatasetKind::Cifar10);
    assert_eq!((ds.train.len(), ds.test.len()), (30, 20));
    assert_eq!(ds.train.class_counts(10), vec![3; 10]);
    assert_eq!(ds.test.class_counts(10), vec![2; 10]);
    // Sorted by class then file name: image 7 is class 2 ("bird"), file 0001.png.
    assert_eq!(ds.train.labels()[7], 2);
    let img = ds.train.image(7);
    let expect = rgb_image(2, 1, 32);
    for (x, y) in [(0u32, 0u32), (5, 9), (31, 31)] {
        let px = expect.get_pixel(x, y);
        let p = (y * 32 + x) as usize;
        assert_eq!(
            [img[p], img[1024 + p], img[2048 + p]],
            px.0,
            "pixel ({x},{y})"
        );
    }
}

#[test]
fn folder_archive_and_jpeg_images() {
    let d = tmp();
    let src = d.path().join("src");
    write_image_folder(&src, 2, 1);
    // One JPEG among the PNGs (RGB JPEG decodes to Rgb8).
    let jpg = src.join("train/cat/0002.jpg");
    let img = image::DynamicImage::ImageRgb8(rgb_image(3, 2, 32));
    img.save_with_format(&jpg, image::ImageFormat::Jpeg)
        .unwrap();
    let archive = d.path().join("cifar10-png.tar.gz");
    tar_gz(&src, "cifar10", &archive);
    let a = load(&archive, &LoadOptions::no_cache()).unwrap();
    let f = load(&src, &LoadOptions::no_cache()).unwrap();
    assert!(a.form.archive && !f.form.archive);
    assert_eq!(a.dataset, f.dataset);
    assert_eq!(a.dataset.train.class_counts(10)[3], 3);
}

#[test]
fn unknown_class_folder() {
    let d = tmp();
    write_image_folder(d.path(), 1, 1);
    std::fs::rename(d.path().join("train/cat"), d.path().join("train/cats")).unwrap();
    let e = load_err(d.path());
    assert!(e.contains("unknown class folder 'cats'"), "{e}");
    assert!(e.contains("train/cats") && e.contains("airplane"), "{e}");
}

#[test]
fn wrong_size_and_colour_type() {
    let d = tmp();
    write_image_folder(d.path(), 1, 1);
    let p = d.path().join("test/dog/0000.png");
    let small = image::DynamicImage::ImageRgb8(rgb_image(5, 0, 16));
    std::fs::write(&p, png_bytes(&small)).unwrap();
    let e = load_err(d.path());
    assert!(
        e.contains("test/dog/0000.png") && e.contains("16x16"),
        "{e}"
    );

    let d = tmp();
    write_image_folder(d.path(), 1, 1);
    let p = d.path().join("train/ship/0000.png");
    let gray = image::DynamicImage::ImageLuma8(image::GrayImage::new(32, 32));
    std::fs::write(&p, png_bytes(&gray)).unwrap();
    let e = load_err(d.path());
    assert!(
        e.contains("train/ship/0000.png") && e.contains("colour type L8"),
        "{e}"
    );

    let d = tmp();
    write_image_folder(d.path(), 1, 1);
    let p = d.path().join("train/ship/0000.png");
    let rgba = image::DynamicImage::ImageRgba8(image::RgbaImage::new(32, 32));
    std::fs::write(&p, png_bytes(&rgba)).unwrap();
    let e = load_err(d.path());
    assert!(e.contains("colour type Rgba8"), "{e}");
}

#[test]
fn undecodable_image() {
    let d = tmp();
    write_image_folder(d.path(), 1, 1);
    std::fs::write(d.path().join("train/frog/0000.png"), b"not a png at all").unwrap();
    let e = load_err(d.path());
    assert!(
        e.contains("train/frog/0000.png") && e.contains("cannot decode"),
        "{e}"
    );
}

#[test]
fn empty_split_and_missing_class() {
    let d = tmp();
    write_image_folder(d.path(), 1, 1);
    std::fs::remove_dir_all(d.path().join("test")).unwrap();
    let e = load_err(d.path());
    assert!(e.contains("empty split") && e.contains("test/"), "{e}");

    let d = tmp();
    write_image_folder(d.path(), 1, 1);
    std::fs::remove_dir_all(d.path().join("test/horse")).unwrap();
    let e = load_err(d.path());
    assert!(e.contains("no images of class 'horse'"), "{e}");
}

#[test]
fn unreadable_archive_and_unrecognised_folder() {
    let d = tmp();
    let p = d.path().join("garbage.tar.gz");
    std::fs::write(&p, vec![0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).unwrap();
    let e = load_err(&p);
    assert!(
        e.contains("garbage.tar.gz") && e.contains("unreadable archive"),
        "{e}"
    );

    let p = d.path().join("text.tar.gz");
    std::fs::write(&p, "hello").unwrap();
    let e = load_err(&p);
    assert!(
        e.contains("text.tar.gz") && e.contains("unreadable archive"),
        "{e}"
    );

    let empty = d.path().join("nothing");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "x").unwrap();
    let e = load_err(&empty);
    assert!(
        e.contains("not a recognised dataset") && e.contains("supported"),
        "{e}"
    );

    let e = load_err(&d.path().join("does-not-exist"));
    assert!(e.contains("does-not-exist"), "{e}");
}
