//! PyTorch's default initialisation of `nn.Conv2d` and `nn.Linear`, seeded.
//!
//! PyTorch draws weights with `kaiming_uniform_(w, a=sqrt(5))`, i.e. uniform in
//! `±gain·sqrt(3/fan_in)` with `gain = sqrt(2/(1+a²)) = sqrt(1/3)`, which is `±1/sqrt(fan_in)`,
//! and biases uniform in `±1/sqrt(fan_in)`. `fan_in` is `in_features` for a linear layer and
//! `in_channels·kh·kw` for a convolution.
use candle_core::{DType, Device, Tensor};
use rand::Rng;

use crate::error::Result;

/// The bound `1/sqrt(fan_in)` of PyTorch's default weight and bias initialisation.
pub fn default_bound(fan_in: usize) -> f64 {
    1.0 / (fan_in.max(1) as f64).sqrt()
}

/// A tensor of `shape` drawn uniformly from `[-bound, bound)` with `rng` (CPU-side, so that
/// results do not depend on the device's random generator), then moved to `device`.
pub fn uniform<R: Rng + ?Sized>(
    rng: &mut R,
    shape: &[usize],
    bound: f64,
    dtype: DType,
    device: &Device,
) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let b = bound as f32;
    let data: Vec<f32> = (0..n).map(|_| rng.random_range(-b..b)).collect();
    Ok(Tensor::from_vec(data, shape, &Device::Cpu)?
        .to_dtype(dtype)?
        .to_device(device)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn uniform_respects_bound_and_seed() {
        let mut r1 = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut r2 = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let a = uniform(&mut r1, &[50, 20], 0.1, DType::F32, &Device::Cpu).unwrap();
        let b = uniform(&mut r2, &[50, 20], 0.1, DType::F32, &Device::Cpu).unwrap();
        let va: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
        let vb: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(va, vb);
        assert!(va.iter().all(|x| x.abs() <= 0.1));
        let mean = va.iter().sum::<f32>() / va.len() as f32;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((default_bound(1024) - 1.0 / 32.0).abs() < 1e-12);
    }
}
