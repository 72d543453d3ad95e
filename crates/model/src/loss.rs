//! The loss: each replica's mean cross-entropy, as PyTorch's `nn.CrossEntropyLoss` (and
//! `candle_nn::loss::cross_entropy`) computes it for one network.
use candle_core::{Tensor, D};

use crate::error::Result;

/// Each replica's mean cross-entropy: `logits` `[K, batch, classes]`, `labels` `[K, batch]`
/// (u32); returns `[K]`, computed as `candle_nn::loss::cross_entropy` does for one network.
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let (_, b, _) = logits.dims3()?;
    let lsm = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = lsm.gather(&labels.unsqueeze(2)?, 2)?.squeeze(2)?;
    Ok(picked.sum(1)?.affine(-1f64 / b as f64, 0.)?)
}
