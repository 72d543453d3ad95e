//! The convolution stack for K replicas at once in the layout `[K, C, N, H, W]` (replica,
//! channel, image, row, column): one im2col and one batched matrix product per layer for all
//! replicas, so the number of kernel launches does not grow with K. This is how every network
//! runs its convolutions on a GPU; on the CPU each replica's slice runs
//! [`super::conv2d_bias_relu`] instead.
use candle_core::Tensor;

use crate::error::Result;

/// The convolutional stack of the paper's CNN (`relu(conv + b)`, a 2x2 max-pool after every
/// second convolution) for K replicas in the layout `[K, C, N, H, W]`; `layers` gives each
/// convolution's weight `[K, Co, Ci, 3, 3]` and bias `[K, Co]`. Returns `[K, C, N, h, w]`.
///
/// `after_relu(i, maps)` sees convolution `i`'s feature maps after the ReLU (before the pool)
/// and returns what the next layer gets (the identity for a plain forward pass; forward hooks
/// such as silencing feature maps otherwise).
pub fn features_cnhw(
    x: &Tensor,
    layers: impl Iterator<Item = (Tensor, Tensor)>,
    mut after_relu: impl FnMut(usize, Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    let mut h = x.clone();
    for (i, (w, b)) in layers.enumerate() {
        let (_, _, _, kh, _) = w.dims5()?;
        h = after_relu(i, conv_bias_relu_cnhw(&h, &w, &b, kh / 2)?)?;
        if i % 2 == 1 {
            let (k, ch, n, hh, ww) = h.dims5()?;
            let p = super::max_pool2x2(&h.reshape((k * ch, n, hh, ww))?)?;
            let (_, _, h2, w2) = p.dims4()?;
            h = p.reshape((k, ch, n, h2, w2))?;
        }
    }
    Ok(h)
}

/// `relu(conv2d(x, w, padding) + b)` for every replica at once in the layout `[K, C, N, H, W]`
/// (replica, channel, image, row, column): one [`super::im2col`] and one batched matrix
/// product for all K replicas, so the number of kernel launches does not grow with K. `x` is
/// `[K, Ci, N, H, W]`, `w` `[K, Co, Ci, kh, kw]`, `b` `[K, Co]`; the result `[K, Co, N, Ho, Wo]`
/// is the next layer's input layout.
///
/// On the CPU and on CUDA (f32) the im2col is neurogen's custom op; elsewhere, and with the
/// kernels switched off on a GPU, candle's own ops build the same matrix (shifted views).
/// Used for every network on a GPU (a single network is K = 1).
pub fn conv_bias_relu_cnhw(x: &Tensor, w: &Tensor, b: &Tensor, padding: usize) -> Result<Tensor> {
    let (k, ci, n, h, wd) = x.dims5()?;
    let (wk, co, wci, kh, kw) = w.dims5()?;
    let fit = wk == k && wci == ci && b.dims() == [k, co];
    super::check_conv_operands(fit, "replica convolution", " ([K, C, N, H, W])", x, w, b)?;
    super::check_kernel_fits((h, wd), (kh, kw), padding)?;
    let (ho, wo) = (h + 2 * padding - kh + 1, wd + 2 * padding - kw + 1);
    let cols = if x.device().is_cpu() || super::gpu_kernel_ok(x) {
        super::im2col(x, kh, kw, padding)?
    } else {
        im2col_candle_ops(x, kh, kw, padding)?
    };
    let y = super::relu(
        &w.reshape((k, co, ci * kh * kw))?
            .matmul(&cols)?
            .broadcast_add(&b.unsqueeze(2)?)?,
    )?;
    Ok(y.reshape((k, co, n, ho, wo))?)
}

/// [`super::im2col`] from candle ops (zero padding, one shifted view per kernel position,
/// stacked), for devices without neurogen's kernels.
fn im2col_candle_ops(x: &Tensor, kh: usize, kw: usize, padding: usize) -> Result<Tensor> {
    let (k, c, n, h, wd) = x.dims5()?;
    let (ho, wo) = (h + 2 * padding - kh + 1, wd + 2 * padding - kw + 1);
    let xp = x
        .reshape((k * c, n, h, wd))?
        .pad_with_zeros(2, padding, padding)?
        .pad_with_zeros(3, padding, padding)?;
    let mut shifted = Vec::with_capacity(kh * kw);
    for ky in 0..kh {
        for kx in 0..kw {
            shifted.push(xp.narrow(2, ky, ho)?.narrow(3, kx, wo)?);
        }
    }
    // [K·C, kh·kw, N, Ho, Wo]: row c·kh·kw + ky·kw + kx, column (n·Ho + oy)·Wo + ox.
    Ok(Tensor::stack(&shifted, 1)?.reshape((k, c * kh * kw, n * ho * wo))?)
}
