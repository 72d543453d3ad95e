//! Max-norm renormalisation of activations, as the reference code applies it after dropout:
//! `torch.renorm(x, p=1, dim=1, maxnorm=3)`.
//!
//! PyTorch's documented semantics: every sub-tensor along dimension 1, `x[:, i]` (one unit's
//! activations across the minibatch), whose L1 norm exceeds `maxnorm` is rescaled by
//! `maxnorm / (norm + 1e-7)`; the others are left unchanged. The scale depends on the
//! activations, so gradients flow through the norm as in PyTorch's autograd.
use candle_core::Tensor;

/// The constant PyTorch adds to the norm before dividing (`renorm`'s CPU and CUDA kernels).
pub const RENORM_EPS: f64 = neurogen_model::hooks::RENORM_EPS;

/// `torch.renorm(x, p=1, dim=1, maxnorm=max_norm)` for a `[batch, units]` tensor: columns whose
/// L1 norm exceeds `max_norm` are scaled to norm `max_norm`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let x = Tensor::new(&[[1f32, 0.5], [-4.0, 0.5]], &Device::Cpu)?;
/// let y = neurogen_regularizers::renorm_l1(&x, 3.0)?;
/// let y: Vec<Vec<f32>> = y.to_vec2()?;
/// assert!((y[0][0] - 0.6).abs() < 1e-6 && (y[1][0] + 2.4).abs() < 1e-6);
/// assert_eq!((y[0][1], y[1][1]), (0.5, 0.5));
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn renorm_l1(x: &Tensor, max_norm: f64) -> candle_core::Result<Tensor> {
    neurogen_model::hooks::renorm_l1(x, 0, max_norm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    // Made with PyTorch 2.15.0 (CPU, float32):
    // ```python
    // import torch
    // torch.manual_seed(0)
    // x = torch.randn(4, 6) * torch.tensor([0.5, 1.5, 2.0, 1.0, 1.5, 2.5])
    // x[:, 5] = torch.tensor([1.0, -1.0, 0.5, 0.5])  # L1 norm exactly 3: untouched
    // x.requires_grad_(True)
    // y = torch.renorm(x, p=1, dim=1, maxnorm=3)
    // w = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 10 - 1
    // (y * w).sum().backward()
    // print([float(v) for v in x.detach().flatten()])  # X
    // print([float(v) for v in y.detach().flatten()])  # Y
    // print([float(v) for v in x.grad.flatten()])      # G
    // ```
    // Column L1 norms: 1.807, 6.294, 2.960, 1.116, 6.098, 3.0 (columns 1 and 4 are rescaled).
    #[allow(clippy::excessive_precision)] // PyTorch prints f32 values as f64
    const X: [f32; 24] = [
        -0.5629199147224426,
        -1.728540301322937,
        -0.5011571645736694,
        -0.4338788092136383,
        1.2730655670166016,
        1.0,
        -0.15800638496875763,
        -3.1728291511535645,
        0.9361928105354309,
        -0.1577124446630478,
        2.16549015045166,
        -1.0,
        0.08322767168283463,
        1.311572790145874,
        -0.28694769740104675,
        -0.1116093322634697,
        1.3977398872375488,
        0.5,
        1.0024902820587158,
        0.08060535788536072,
        1.2361133098602295,
        -0.41280221939086914,
        -1.2615971565246582,
        0.5,
    ];
    #[allow(clippy::excessive_precision)]
    const Y: [f32; 24] = [
        -0.5629199147224426,
        -0.8239582777023315,
        -0.5011571645736694,
        -0.4338788092136383,
        0.6263141632080078,
        1.0,
        -0.15800638496875763,
        -1.5124199390411377,
        0.9361928105354309,
        -0.1577124446630478,
        1.0653631687164307,
        -1.0,
        0.08322767168283463,
        0.6251987814903259,
        -0.28694769740104675,
        -0.1116093322634697,
        0.6876506209373474,
        0.5,
        1.0024902820587158,
        0.038422856479883194,
        1.2361133098602295,
        -0.41280221939086914,
        -0.6206719875335693,
        0.5,
    ];
    #[allow(clippy::excessive_precision)]
    const G: [f32; 24] = [
        -1.0,
        -0.20379145443439484,
        -0.800000011920929,
        -0.699999988079071,
        -0.17907752096652985,
        -0.5,
        -0.3999999761581421,
        0.08221573382616043,
        -0.19999998807907104,
        -0.10000002384185791,
        0.11610642820596695,
        0.10000002384185791,
        0.20000004768371582,
        -0.08221576362848282,
        0.3999999761581421,
        0.5,
        0.41129037737846375,
        0.7000000476837158,
        0.7999999523162842,
        0.20379145443439484,
        1.0,
        1.0999999046325684,
        0.47426146268844604,
        1.2999999523162842,
    ];

    #[test]
    fn renorm_matches_pytorch_values_and_gradient() {
        let x = Var::from_tensor(&Tensor::from_slice(&X, (4, 6), &Device::Cpu).unwrap()).unwrap();
        let y = renorm_l1(x.as_tensor(), 3.0).unwrap();
        let yv: Vec<f32> = y.flatten_all().unwrap().to_vec1().unwrap();
        for (i, (a, b)) in yv.iter().zip(Y.iter()).enumerate() {
            assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                "y[{i}] = {a}, PyTorch {b}"
            );
        }
        // Columns at or under the norm are bit-identical.
        for r in 0..4 {
            for c in [0, 2, 3, 5] {
                assert_eq!(yv[r * 6 + c], X[r * 6 + c]);
            }
        }
        let w: Vec<f32> = (0..24).map(|i| i as f32 / 10.0 - 1.0).collect();
        let w = Tensor::from_vec(w, (4, 6), &Device::Cpu).unwrap();
        let grads = (y * w).unwrap().sum_all().unwrap().backward().unwrap();
        let g: Vec<f32> = grads
            .get(x.as_tensor())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        for (i, (a, b)) in g.iter().zip(G.iter()).enumerate() {
            assert!((a - b).abs() <= 1e-5, "grad[{i}] = {a}, PyTorch {b}");
        }
    }
}
