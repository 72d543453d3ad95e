//! The gating arithmetic and inhibition of return, on tensors of any shape.
//!
//! A top-down mask `m` (tanh, so in `(−1, 1)`) multiplies activity by `1 − s·m`: with the
//! authors' strength `s = 0.2` the gain lies in `(0.8, 1.2)`, `m = 1` being the strongest
//! suppression. After each object the pixels (units) with `m < 0.5`, the attended ones, join a
//! binary inhibition-of-return (IOR) mask; while attending the next objects the masks are
//! forced to `1` (maximal suppression) wherever the IOR mask is set:
//! `m ← (1 − ior)·m + ior` (`Net.forward`'s `out_mask` branch and `Runner.train`).
use candle_core::Tensor;

use super::error::{shape, Result};

/// The mask value below which a unit counts as attended and joins the IOR mask (0.5).
pub const IOR_THRESHOLD: f64 = 0.5;

fn same_shape(what: &str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.dims() != b.dims() {
        return Err(shape(format!(
            "{what}: activity {:?} and mask {:?} differ in shape",
            a.dims(),
            b.dims()
        )));
    }
    Ok(())
}

/// `x·(1 − strength·mask)`, element by element; `x` and `mask` must have the same shape.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use neurogen_studies::lei2021_attention::gate;
/// let x = Tensor::new(&[1f32, 1.0, 2.0], &Device::Cpu)?;
/// let m = Tensor::new(&[1f32, -1.0, 0.0], &Device::Cpu)?;
/// assert_eq!(gate(&x, &m, 0.2)?.to_vec1::<f32>()?, vec![0.8, 1.2, 2.0]);
/// # Ok::<(), neurogen_studies::lei2021_attention::AttentionError>(())
/// ```
pub fn gate(x: &Tensor, mask: &Tensor, strength: f64) -> Result<Tensor> {
    same_shape("gating", x, mask)?;
    Ok(x.mul(&mask.affine(-strength, 1.0)?)?)
}

/// The masks forced to maximal suppression where `ior` is 1: `(1 − ior)·mask + ior`.
pub fn suppress(mask: &Tensor, ior: &Tensor) -> Result<Tensor> {
    same_shape("inhibition of return", mask, ior)?;
    Ok(ior.affine(-1.0, 1.0)?.mul(mask)?.add(ior)?)
}

/// The IOR mask after an object: `ior ∪ {mask < 0.5}` as 0/1 values (f32), detached from
/// the graph (the code's integer mask), in `ior`'s dtype.
pub fn extend_ior(ior: &Tensor, mask: &Tensor) -> Result<Tensor> {
    same_shape("inhibition of return", mask, ior)?;
    let attended = mask.detach().lt(IOR_THRESHOLD)?.to_dtype(ior.dtype())?;
    let sum = ior.detach().add(&attended)?;
    Ok(sum.gt(0.5)?.to_dtype(ior.dtype())?)
}
