//! Image decoding (JPEG, PNG) into the crate's CHW `u8` layout, with the size and colour type
//! checked against the dataset's (CIFAR-10: 32x32 RGB8; Fashion-MNIST: 28x28 L8) — an image
//! is never silently converted or resized.
use std::path::Path;

use image::{ColorType, DynamicImage};

use crate::dataset::ImageShape;
use crate::error::DataError;

/// Colour type a shape requires (1 channel: 8-bit gray; 3 channels: 8-bit RGB).
fn wanted_color(shape: ImageShape) -> Option<ColorType> {
    match shape.channels {
        1 => Some(ColorType::L8),
        3 => Some(ColorType::Rgb8),
        _ => None,
    }
}

/// Largest width or height decoded: dataset images are 32x32 or 28x28, and a corrupt header
/// must not make a tiny file allocate gigabytes.
const MAX_SIDE: u32 = 4096;
/// Largest allocation the decoder may make for one image.
const MAX_ALLOC: u64 = 128 << 20;

/// Decodes an encoded image (format guessed from its bytes).
pub(crate) fn decode(display: &Path, bytes: &[u8]) -> Result<DynamicImage, DataError> {
    let err = |e: image::ImageError| DataError::Image {
        path: display.to_path_buf(),
        msg: format!("cannot decode image: {e}"),
    };
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| err(e.into()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    reader.decode().map_err(err)
}

/// Decodes an encoded image into `out` (`shape.numel()` bytes, CHW), checking size and colour.
pub(crate) fn decode_into(
    display: &Path,
    bytes: &[u8],
    shape: ImageShape,
    out: &mut [u8],
) -> Result<(), DataError> {
    let img = decode(display, bytes)?;
    write_chw(display, &img, shape, out)
}

/// Copies a decoded image into `out` as CHW after checking its size and colour type.
pub(crate) fn write_chw(
    display: &Path,
    img: &DynamicImage,
    shape: ImageShape,
    out: &mut [u8],
) -> Result<(), DataError> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if (w, h) != (shape.width, shape.height) {
        return Err(DataError::Image {
            path: display.to_path_buf(),
            msg: format!(
                "image is {w}x{h} pixels, expected {}x{}",
                shape.width, shape.height
            ),
        });
    }
    let want = wanted_color(shape);
    if Some(img.color()) != want {
        return Err(DataError::Image {
            path: display.to_path_buf(),
            msg: format!(
                "image has colour type {:?}, expected {:?} ({} channel{})",
                img.color(),
                want,
                shape.channels,
                if shape.channels == 1 { "" } else { "s" }
            ),
        });
    }
    let hwc = img.as_bytes();
    let (c, plane) = (shape.channels, w * h);
    if c == 1 {
        out.copy_from_slice(hwc);
    } else {
        for (p, px) in hwc.chunks_exact(c).enumerate() {
            for (ch, &v) in px.iter().enumerate() {
                out[ch * plane + p] = v;
            }
        }
    }
    Ok(())
}

/// The dataset shape an image's size and colour type suggest (32x32 RGB8 → 3x32x32, 28x28 L8
/// → 1x28x28), if any.
pub(crate) fn shape_of(img: &DynamicImage) -> (ImageShape, ColorType) {
    let c = match img.color() {
        ColorType::L8 => 1,
        ColorType::Rgb8 => 3,
        other => other.channel_count() as usize,
    };
    (
        ImageShape::new(c, img.height() as usize, img.width() as usize),
        img.color(),
    )
}
