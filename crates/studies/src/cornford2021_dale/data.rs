//! Images as the authors' code feeds them: flattened, pixels / 255 in `[0, 1]` (no centring;
//! DANN's inputs are excitatory and must be non-negative). The workspace's
//! `Split::batch` applies Tran et al.'s `(x − 0.5)/0.5` instead, so this module reads the raw
//! bytes itself.
use candle_core::{Device, Tensor};
use neurogen_data::Split;

use super::error::{DaleError, Result};

/// The images `indices` of `split` as `x` `[n, C·H·W]` (f32 in `[0, 1]`) and `y` `[n]` (u32).
pub fn unit_tensors(split: &Split, indices: &[usize], device: &Device) -> Result<(Tensor, Tensor)> {
    let dim = split.shape().numel();
    let mut x = Vec::with_capacity(indices.len() * dim);
    let mut y = Vec::with_capacity(indices.len());
    for &i in indices {
        if i >= split.len() {
            return Err(DaleError::InvalidArgument(format!(
                "image index {i} out of range (split has {} images)",
                split.len()
            )));
        }
        x.extend(split.image(i).iter().map(|&p| p as f32 / 255.0));
        y.push(split.labels()[i] as u32);
    }
    Ok((
        Tensor::from_vec(x, (indices.len(), dim), device)?,
        Tensor::from_vec(y, indices.len(), device)?,
    ))
}
