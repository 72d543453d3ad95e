//! Seeded draws for the initialisations: exponential and normal matrices as `f32` tensors.
use candle_core::{Device, Tensor};
use rand::Rng;
use rand_distr::{Distribution, Exp, Normal};

use super::error::{DaleError, Result};

/// A `rows × cols` tensor of i.i.d. draws from the exponential distribution with the given
/// `scale` (`β = 1/λ`, the mean and the standard deviation), as `np.random.exponential(scale)`.
pub fn exponential(
    rng: &mut impl Rng,
    scale: f64,
    rows: usize,
    cols: usize,
    device: &Device,
) -> Result<Tensor> {
    let d = Exp::new(1.0 / scale).map_err(|e| {
        DaleError::InvalidArgument(format!("exponential scale {scale} (must be > 0): {e}"))
    })?;
    let v: Vec<f32> = (0..rows * cols).map(|_| d.sample(rng) as f32).collect();
    Ok(Tensor::from_vec(v, (rows, cols), device)?)
}

/// A `rows × cols` tensor of i.i.d. draws from `N(0, std²)`.
pub fn normal(
    rng: &mut impl Rng,
    std: f64,
    rows: usize,
    cols: usize,
    device: &Device,
) -> Result<Tensor> {
    let d = Normal::new(0.0, std)
        .map_err(|e| DaleError::InvalidArgument(format!("normal std {std} (must be >= 0): {e}")))?;
    let v: Vec<f32> = (0..rows * cols).map(|_| d.sample(rng) as f32).collect();
    Ok(Tensor::from_vec(v, (rows, cols), device)?)
}
