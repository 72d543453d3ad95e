//! Helpers shared by the model crate's tests.
#![allow(dead_code)]
use neurogen_data::{ImageShape, Split};

/// A small synthetic split (only for tests that check mechanics, never accuracy claims):
/// `n` images of `shape` whose class is encoded in their mean brightness.
pub fn toy_split(n: usize, shape: ImageShape, classes: u8) -> Split {
    let mut images = Vec::with_capacity(n * shape.numel());
    let mut labels = Vec::with_capacity(n);
    let mut s: u32 = 12345;
    for i in 0..n {
        let label = (i % classes as usize) as u8;
        labels.push(label);
        for _ in 0..shape.numel() {
            s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let noise = (s >> 16) % 64;
            images.push((label as u32 * 180 / classes as u32 + noise) as u8);
        }
    }
    Split::new(shape, images, labels).unwrap()
}

/// A tensor's values as f32.
pub fn vals(t: &candle_core::Tensor) -> Vec<f32> {
    t.to_dtype(candle_core::DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// The largest absolute difference between two tensors of one shape.
pub fn max_diff(a: &candle_core::Tensor, b: &candle_core::Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    vals(a)
        .iter()
        .zip(vals(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
