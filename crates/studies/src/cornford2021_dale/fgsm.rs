//! Adversarial robustness by the fast gradient sign method (Goodfellow, Shlens & Szegedy,
//! ICLR 2015): `x_adv = clip(x + ε · sign(∇ₓ L(f(x), y)), lo, hi)` with `L` the mean
//! cross-entropy (the mean's `1/batch` does not change the sign), and accuracy on `x_adv` as a
//! function of `ε`. Works for any differentiable classifier given as a closure from inputs to
//! logits.
use candle_core::{DType, Tensor, Var, D};
use serde::Serialize;

use super::error::{DaleError, Result};
use super::train::cross_entropy;

/// Accuracy under an FGSM attack of one strength.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FgsmPoint {
    /// `ε` (in input units; pixels in `[0, 1]`).
    pub epsilon: f64,
    /// Accuracy on the perturbed inputs.
    pub accuracy: f64,
}

/// The FGSM perturbation of `x` (`[batch, …]`, f32) against labels `y` (`[batch]`, u32) for the
/// classifier `logits`; the result is clipped to `clip` (e.g. `Some((0.0, 1.0))` for pixels)
/// when given. `ε ≥ 0`.
pub fn fgsm(
    logits: impl Fn(&Tensor) -> Result<Tensor>,
    x: &Tensor,
    y: &Tensor,
    epsilon: f64,
    clip: Option<(f64, f64)>,
) -> Result<Tensor> {
    if !(epsilon >= 0.0 && epsilon.is_finite()) {
        return Err(DaleError::InvalidArgument(format!(
            "FGSM epsilon must be finite and >= 0, got {epsilon}"
        )));
    }
    let xv = Var::from_tensor(&x.to_dtype(DType::F32)?)?;
    let loss = cross_entropy(&logits(xv.as_tensor())?, y)?;
    let grads = loss.backward()?;
    let g = match grads.get(xv.as_tensor()) {
        Some(g) => g.clone(),
        None => xv.as_tensor().zeros_like()?,
    };
    let adv = (x.to_dtype(DType::F32)? + (g.sign()? * epsilon)?)?;
    Ok(match clip {
        Some((lo, hi)) => adv.clamp(lo as f32, hi as f32)?,
        None => adv,
    })
}

/// Accuracy of `logits` on FGSM-perturbed `x` for each `ε` in `epsilons` (inputs clipped to
/// `clip`), in chunks of 500 examples.
pub fn fgsm_curve(
    logits: impl Fn(&Tensor) -> Result<Tensor>,
    x: &Tensor,
    y: &Tensor,
    epsilons: &[f64],
    clip: Option<(f64, f64)>,
) -> Result<Vec<FgsmPoint>> {
    let n = x.dim(0)?;
    if n == 0 || y.dims() != [n] {
        return Err(DaleError::Shape {
            what: "FGSM labels (one per input, at least one input)".into(),
            expected: format!("[{n}]"),
            got: y.dims().to_vec(),
        });
    }
    let mut out = Vec::with_capacity(epsilons.len());
    for &epsilon in epsilons {
        let mut correct = 0usize;
        for start in (0..n).step_by(500) {
            let len = (n - start).min(500);
            let (xb, yb) = (x.narrow(0, start, len)?, y.narrow(0, start, len)?);
            let adv = fgsm(&logits, &xb, &yb, epsilon, clip)?;
            let pred = logits(&adv)?.detach().argmax(D::Minus1)?;
            correct += pred
                .eq(&yb)?
                .to_dtype(DType::U32)?
                .sum_all()?
                .to_scalar::<u32>()? as usize;
        }
        out.push(FgsmPoint {
            epsilon,
            accuracy: correct as f64 / n as f64,
        });
    }
    Ok(out)
}
