//! Fixture builders shared by the behaviour tests: small CIFAR-10 binary batches, image
//! folders, IDX files, parquet files and tar.gz archives, written into temporary directories.
#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use neurogen_data::CIFAR10_CLASSES;

// CIFAR-10 binary-release records and batch files: the workspace's test kit.
#[allow(unused_imports)]
pub use neurogen_testkit::cifar::{cifar_pixels, record, write_cifar_binary};

/// Packs the directory `src` into a `.tar.gz` at `out`, with every member under `prefix`.
pub fn tar_gz(src: &Path, prefix: &str, out: &Path) {
    let f = fs::File::create(out).unwrap();
    let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    b.append_dir_all(prefix, src).unwrap();
    b.into_inner().unwrap().finish().unwrap();
}

/// A 32x32 RGB image (HWC) with a known pattern for (label, i).
pub fn rgb_image(label: u8, i: usize, size: u32) -> image::RgbImage {
    image::RgbImage::from_fn(size, size, |x, y| {
        image::Rgb([
            (x * 8) as u8,
            (y * 8) as u8,
            (label as usize * 20 + i) as u8,
        ])
    })
}

/// Encodes an image as PNG bytes.
pub fn png_bytes(img: &image::DynamicImage) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, image::ImageFormat::Png).unwrap();
    buf.into_inner()
}

/// Writes `train/<class>/NNNN.png` (`n_train` per class) and `test/<class>/NNNN.png` (`n_test`
/// per class) for the ten CIFAR-10 classes under `root`.
pub fn write_image_folder(root: &Path, n_train: usize, n_test: usize) {
    for (split, n) in [("train", n_train), ("test", n_test)] {
        for (label, class) in CIFAR10_CLASSES.iter().enumerate() {
            let dir = root.join(split).join(class);
            fs::create_dir_all(&dir).unwrap();
            for i in 0..n {
                let img = image::DynamicImage::ImageRgb8(rgb_image(label as u8, i, 32));
                fs::write(dir.join(format!("{i:04}.png")), png_bytes(&img)).unwrap();
            }
        }
    }
}

/// IDX bytes: magic `0x0000 08 ndims`, big-endian dims, data.
pub fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        b.extend(d.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

/// Gzip-compresses bytes.
pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Writes a small Fashion-MNIST in IDX form (`n_train` / `n_test` images, labels `i % 10`),
/// gzip-compressed when `compress`.
pub fn write_idx(dir: &Path, n_train: usize, n_test: usize, compress: bool) {
    fs::create_dir_all(dir).unwrap();
    for (prefix, n) in [("train", n_train), ("t10k", n_test)] {
        let pixels: Vec<u8> = (0..n * 784).map(|p| (p % 251) as u8).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let images = idx_bytes(&[n as u32, 28, 28], &pixels);
        let labels = idx_bytes(&[n as u32], &labels);
        let (ext, images, labels) = if compress {
            (".gz", gz(&images), gz(&labels))
        } else {
            ("", images, labels)
        };
        fs::write(dir.join(format!("{prefix}-images-idx3-ubyte{ext}")), images).unwrap();
        fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte{ext}")), labels).unwrap();
    }
}

/// Writes a parquet file shaped like the Hugging Face export of `uoft-cs/cifar10`: struct
/// column `img {bytes, path}` (optional fields) and `label` int64, snappy-compressed.
pub fn write_hf_parquet(path: &Path, images: &[Vec<u8>], labels: &[i64]) {
    write_parquet_with_image_column(path, "img", images, labels)
}

/// As [`write_hf_parquet`] with a chosen name for the image column.
pub fn write_parquet_with_image_column(
    path: &Path,
    column: &str,
    images: &[Vec<u8>],
    labels: &[i64],
) {
    use parquet::basic::Compression;
    use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;
    use std::sync::Arc;

    let schema = format!(
        "message schema {{
            optional group {column} {{
                optional binary bytes;
                optional binary path (STRING);
            }}
            optional int64 label;
        }}"
    );
    let schema = Arc::new(parse_message_type(&schema).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = fs::File::create(path).unwrap();
    let mut writer = SerializedFileWriter::new(file, schema, props).unwrap();
    let mut rg = writer.next_row_group().unwrap();
    let n = images.len();
    let mut col_idx = 0;
    while let Some(mut col) = rg.next_column().unwrap() {
        match col_idx {
            0 => {
                let vals: Vec<ByteArray> =
                    images.iter().map(|b| ByteArray::from(b.clone())).collect();
                col.typed::<ByteArrayType>()
                    .write_batch(&vals, Some(&vec![2; n]), None)
                    .unwrap();
            }
            1 => {
                let vals: Vec<ByteArray> = (0..n)
                    .map(|i| ByteArray::from(format!("{i}.png").as_str()))
                    .collect();
                col.typed::<ByteArrayType>()
                    .write_batch(&vals, Some(&vec![2; n]), None)
                    .unwrap();
            }
            _ => {
                col.typed::<Int64Type>()
                    .write_batch(labels, Some(&vec![1; n]), None)
                    .unwrap();
            }
        }
        col.close().unwrap();
        col_idx += 1;
    }
    rg.close().unwrap();
    writer.close().unwrap();
}

/// PNG-encoded CIFAR-like images and labels: `n` rows, label `i % 10`.
pub fn png_rows(n: usize) -> (Vec<Vec<u8>>, Vec<i64>) {
    let images = (0..n)
        .map(|i| {
            png_bytes(&image::DynamicImage::ImageRgb8(rgb_image(
                (i % 10) as u8,
                i,
                32,
            )))
        })
        .collect();
    let labels = (0..n).map(|i| (i % 10) as i64).collect();
    (images, labels)
}

/// A fresh temporary directory.
pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Load options with the decode cache in a private directory.
pub fn opts(cache: &Path) -> neurogen_data::LoadOptions {
    neurogen_data::LoadOptions::with_cache_dir(cache)
}

/// Loads without the cache and returns the error text (panics if loading succeeds).
pub fn load_err(path: &Path) -> String {
    match neurogen_data::load(path, &neurogen_data::LoadOptions::no_cache()) {
        Ok(l) => panic!(
            "expected an error for {}, got {} train / {} test images",
            path.display(),
            l.dataset.train.len(),
            l.dataset.test.len()
        ),
        Err(e) => e.to_string(),
    }
}

/// `p` as a `PathBuf`.
pub fn pb(p: &Path) -> PathBuf {
    p.to_path_buf()
}
