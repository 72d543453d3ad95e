//! 2x2 max-pooling with stride 2 (floor mode, as `nn.MaxPool2d(2, 2)`) as a candle custom op.
//!
//! The gradient rule is that of [`reference_max_pool2x2`] (the reshape-and-max reference
//! that fixes candle's `max_pool2d` gradient): each output's gradient goes to every input of
//! its window that equals the maximum, so ties (rare with continuous inputs; after a ReLU the
//! tied zeros get no gradient anyway) all receive it. Odd trailing rows and columns are
//! dropped and get a zero gradient.
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::{contiguous_slice, kernel_dtype_ok, with_cpu_slice, Elem};
use crate::error::Result;

/// 2x2 max-pool with stride 2 of a `[batch, channels, h, w]` tensor, giving
/// `[batch, channels, h / 2, w / 2]`. On the CPU (f32 or f64) and on CUDA (f32) this is a custom
/// op; elsewhere (and for inputs smaller than 2x2) it is [`reference_max_pool2x2`].
pub fn max_pool2x2(x: &Tensor) -> Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    if (kernel_dtype_ok(x) || super::gpu_kernel_ok(x)) && h >= 2 && w >= 2 {
        let x = x.contiguous()?;
        return Ok(x.apply_op1(MaxPool2x2)?);
    }
    reference_max_pool2x2(x)
}

/// 2x2 max-pooling with stride 2 (floor mode, as `nn.MaxPool2d(2, 2)`), written as a reshape and
/// two max-reductions of candle ops so that its gradient is right (the reference the kernel is
/// tested against).
///
/// candle 0.11's `Tensor::max_pool2d` scales its gradient by (number of maxima)/4 instead of
/// dividing by the number of maxima, so with a single maximum per window every gradient
/// upstream of a pool comes out 4x too small (16x before two pools); the finite-difference test
/// in `tests/gradients.rs` catches this. Ties (rare with continuous inputs) pass the gradient
/// to every tied position, where PyTorch picks one.
pub fn reference_max_pool2x2(x: &Tensor) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    let (h2, w2) = (h / 2, w / 2);
    let x = if h % 2 == 1 || w % 2 == 1 {
        x.narrow(2, 0, h2 * 2)?.narrow(3, 0, w2 * 2)?.contiguous()?
    } else {
        x.contiguous()?
    };
    Ok(x.reshape((b, c, h2, 2, w2, 2))?.max(5)?.max(3)?)
}

struct MaxPool2x2;

/// Planes per rayon task (about two tasks per thread).
fn min_planes(planes: usize) -> usize {
    planes
        .div_ceil(2 * rayon::current_num_threads().max(1))
        .max(1)
}

fn forward<T: Elem>(dims: &[usize], x: &[T]) -> (Vec<T>, Shape) {
    let (b, c, h, w) = (dims[0], dims[1], dims[2], dims[3]);
    let (h2, w2) = (h / 2, w / 2);
    let mut out = vec![T::ZERO; b * c * h2 * w2];
    out.par_chunks_mut(h2 * w2)
        .zip(x.par_chunks(h * w))
        .with_min_len(min_planes(b * c))
        .for_each(|(o, p)| {
            for oy in 0..h2 {
                let r0 = &p[2 * oy * w..2 * oy * w + w];
                let r1 = &p[(2 * oy + 1) * w..(2 * oy + 1) * w + w];
                for ox in 0..w2 {
                    let mut m = r0[2 * ox];
                    for v in [r0[2 * ox + 1], r1[2 * ox], r1[2 * ox + 1]] {
                        if v > m {
                            m = v;
                        }
                    }
                    o[oy * w2 + ox] = m;
                }
            }
        });
    (out, Shape::from((b, c, h2, w2)))
}

fn backward<T: Elem>(dims: &[usize], x: &[T], y: &[T], dy: &[T]) -> Vec<T> {
    let (b, c, h, w) = (dims[0], dims[1], dims[2], dims[3]);
    let (h2, w2) = (h / 2, w / 2);
    let mut dx = vec![T::ZERO; b * c * h * w];
    dx.par_chunks_mut(h * w)
        .zip(x.par_chunks(h * w))
        .zip(y.par_chunks(h2 * w2).zip(dy.par_chunks(h2 * w2)))
        .with_min_len(min_planes(b * c))
        .for_each(|((dp, p), (yp, gp))| {
            for oy in 0..h2 {
                for ox in 0..w2 {
                    let (m, g) = (yp[oy * w2 + ox], gp[oy * w2 + ox]);
                    for (iy, ix) in [
                        (2 * oy, 2 * ox),
                        (2 * oy, 2 * ox + 1),
                        (2 * oy + 1, 2 * ox),
                        (2 * oy + 1, 2 * ox + 1),
                    ] {
                        if p[iy * w + ix] == m {
                            dp[iy * w + ix] += g;
                        }
                    }
                }
            }
        });
    dx
}

fn cpu_backward<T: Elem + candle_core::WithDType>(
    x: &Tensor,
    y: &Tensor,
    dy: &Tensor,
) -> candle_core::Result<Option<Tensor>> {
    let dx = with_cpu_slice::<T, _>(x, "max-pool input", |xs| {
        with_cpu_slice::<T, _>(y, "max-pool output", |ys| {
            with_cpu_slice::<T, _>(dy, "max-pool output gradient", |gs| {
                Ok(backward(x.dims(), xs, ys, gs))
            })
        })
    })?;
    Ok(Some(Tensor::from_vec(dx, x.shape(), x.device())?))
}

impl CustomOp1 for MaxPool2x2 {
    fn name(&self) -> &'static str {
        "neurogen-max-pool2x2"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        match s {
            CpuStorage::F32(_) => {
                let (v, sh) = forward(l.dims(), contiguous_slice::<f32>(s, l, "max-pool input")?);
                Ok((CpuStorage::F32(v), sh))
            }
            CpuStorage::F64(_) => {
                let (v, sh) = forward(l.dims(), contiguous_slice::<f64>(s, l, "max-pool input")?);
                Ok((CpuStorage::F64(v), sh))
            }
            s => candle_core::bail!("{}: unsupported dtype {:?}", self.name(), s.dtype()),
        }
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s: &candle_core::CudaStorage,
        l: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        let d = l.dims();
        let out = super::cuda::max_pool2x2(s, l)?;
        Ok((out, Shape::from((d[0], d[1], d[2] / 2, d[3] / 2))))
    }

    fn bwd(&self, x: &Tensor, y: &Tensor, dy: &Tensor) -> candle_core::Result<Option<Tensor>> {
        if !x.device().is_cpu() {
            let dy = dy.contiguous()?;
            return Ok(Some(x.apply_op3_no_bwd(y, &dy, &MaxPool2x2Backward)?));
        }
        match x.dtype() {
            candle_core::DType::F32 => cpu_backward::<f32>(x, y, dy),
            candle_core::DType::F64 => cpu_backward::<f64>(x, y, dy),
            dt => candle_core::bail!("{}: unsupported dtype {dt:?}", self.name()),
        }
    }
}

/// The gradient of [`MaxPool2x2`] off the CPU: `(x, y, dy)` → `dx`.
struct MaxPool2x2Backward;

impl candle_core::CustomOp3 for MaxPool2x2Backward {
    fn name(&self) -> &'static str {
        "neurogen-max-pool2x2-backward"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ys: &CpuStorage,
        yl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let dx = match xs {
            CpuStorage::F32(_) => CpuStorage::F32(backward(
                xl.dims(),
                contiguous_slice::<f32>(xs, xl, "max-pool input")?,
                contiguous_slice::<f32>(ys, yl, "max-pool output")?,
                contiguous_slice::<f32>(gs, gl, "max-pool output gradient")?,
            )),
            s => candle_core::bail!("{}: unsupported dtype {:?}", self.name(), s.dtype()),
        };
        Ok((dx, xl.shape().clone()))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        xs: &candle_core::CudaStorage,
        xl: &Layout,
        ys: &candle_core::CudaStorage,
        yl: &Layout,
        gs: &candle_core::CudaStorage,
        gl: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        let dx = super::cuda::max_pool2x2_backward((xs, xl), (ys, yl), (gs, gl))?;
        Ok((dx, xl.shape().clone()))
    }
}
