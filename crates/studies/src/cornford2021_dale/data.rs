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

/// The first `n` indices of `labels` taken class by class in turn: the first image of each
/// class (classes in increasing order), then the second of each, and so on, skipping classes
/// that ran out. The study picks CIFAR-10's images this way because the shared archive stores
/// them sorted by class, so its first `n` images would all be aeroplanes; a class-balanced
/// prefix keeps "the first `n`" meaningful and needs no seed.
///
/// ```
/// use neurogen_studies::cornford2021_dale::data::class_interleaved;
/// assert_eq!(class_interleaved(&[0, 0, 0, 1, 1, 2], 5), vec![0, 3, 5, 1, 4]);
/// assert_eq!(class_interleaved(&[1, 0], 9), vec![1, 0]);
/// ```
pub fn class_interleaved(labels: &[u8], n: usize) -> Vec<usize> {
    let mut by_class: Vec<Vec<usize>> = Vec::new();
    for (i, &l) in labels.iter().enumerate() {
        let l = l as usize;
        if by_class.len() <= l {
            by_class.resize_with(l + 1, Vec::new);
        }
        by_class[l].push(i);
    }
    let rounds = by_class.iter().map(Vec::len).max().unwrap_or(0);
    (0..rounds)
        .flat_map(|r| by_class.iter().filter_map(move |c| c.get(r).copied()))
        .take(n)
        .collect()
}
