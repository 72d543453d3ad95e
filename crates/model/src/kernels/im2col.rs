//! im2col and its adjoint (col2im) for stride-1 convolutions of replica-batched activations in
//! the layout `[K, C, N, H, W]` (replica, channel, image, row, column), as candle custom ops with
//! a CPU and a CUDA implementation (`src/kernels/cuda/neurogen.cu`) that compute the same values.
//!
//! With these, a convolution of all K replicas is one im2col, one batched matrix product
//! `[K, Co, C·kh·kw] × [K, C·kh·kw, N·Ho·Wo]` and a bias-ReLU, and its output `[K, Co, N, Ho, Wo]`
//! is already the next layer's input layout: no transposes between layers. The gradient of
//! im2col is col2im and vice versa, so autograd sees one node per im2col.
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

use super::params::Geometry;
use super::{contiguous_slice, Elem};
use crate::error::{ModelError, Result};

/// CPU im2col; the same loop order and values as `ng_im2col_f32`.
fn im2col_cpu<T: Elem>(g: &Geometry, x: &[T]) -> Vec<T> {
    let (ho, wo) = (g.ho(), g.wo());
    let mut cols = vec![T::ZERO; g.cols_shape().elem_count()];
    let mut i = 0;
    for k in 0..g.k {
        for c in 0..g.c {
            for ky in 0..g.kh {
                for kx in 0..g.kw {
                    for n in 0..g.n {
                        let plane = &x[((k * g.c + c) * g.n + n) * g.h * g.w..][..g.h * g.w];
                        for oy in 0..ho {
                            let y = (oy + ky).wrapping_sub(g.pad);
                            for ox in 0..wo {
                                let xx = (ox + kx).wrapping_sub(g.pad);
                                if y < g.h && xx < g.w {
                                    cols[i] = plane[y * g.w + xx];
                                }
                                i += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    cols
}

/// CPU col2im (the adjoint of [`im2col_cpu`]); sums in the order ky, kx as `ng_col2im_f32`.
fn col2im_cpu<T: Elem>(g: &Geometry, cols: &[T]) -> Vec<T> {
    let (ho, wo, j) = (g.ho(), g.wo(), g.j());
    let mut x = vec![T::ZERO; g.x_shape().elem_count()];
    let mut i = 0;
    for k in 0..g.k {
        for c in 0..g.c {
            for n in 0..g.n {
                for y in 0..g.h {
                    for xx in 0..g.w {
                        let mut s = T::ZERO;
                        for ky in 0..g.kh {
                            let oy = (y + g.pad).wrapping_sub(ky);
                            if oy >= ho {
                                continue;
                            }
                            for kx in 0..g.kw {
                                let ox = (xx + g.pad).wrapping_sub(kx);
                                if ox >= wo {
                                    continue;
                                }
                                let row = (c * g.kh + ky) * g.kw + kx;
                                s += cols[((k * j + row) * g.n + n) * ho * wo + oy * wo + ox];
                            }
                        }
                        x[i] = s;
                        i += 1;
                    }
                }
            }
        }
    }
    x
}

/// `[K, C, N, H, W]` → `[K, C·kh·kw, N·Ho·Wo]`.
struct Im2col(Geometry);

/// `[K, C·kh·kw, N·Ho·Wo]` → `[K, C, N, H, W]` (sums the copies).
struct Col2im(Geometry);

fn check_input(name: &str, l: &Layout, want: &Shape) -> candle_core::Result<()> {
    if l.shape() != want {
        candle_core::bail!(
            "{name}: input has shape {:?}, expected {:?}",
            l.dims(),
            want.dims()
        );
    }
    Ok(())
}

impl CustomOp1 for Im2col {
    fn name(&self) -> &'static str {
        "neurogen-im2col"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let g = &self.0;
        check_input(self.name(), l, &g.x_shape())?;
        let out = match s {
            CpuStorage::F32(_) => CpuStorage::F32(im2col_cpu(g, contiguous_slice(s, l, "im2col")?)),
            CpuStorage::F64(_) => CpuStorage::F64(im2col_cpu(g, contiguous_slice(s, l, "im2col")?)),
            s => candle_core::bail!("{}: unsupported dtype {:?}", self.name(), s.dtype()),
        };
        Ok((out, g.cols_shape()))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s: &candle_core::CudaStorage,
        l: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        check_input(self.name(), l, &self.0.x_shape())?;
        Ok((
            super::cuda::im2col(s, l, &self.0, false)?,
            self.0.cols_shape(),
        ))
    }

    fn bwd(&self, _x: &Tensor, _y: &Tensor, dy: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(dy.contiguous()?.apply_op1(Col2im(self.0))?))
    }
}

impl CustomOp1 for Col2im {
    fn name(&self) -> &'static str {
        "neurogen-col2im"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let g = &self.0;
        check_input(self.name(), l, &g.cols_shape())?;
        let out = match s {
            CpuStorage::F32(_) => CpuStorage::F32(col2im_cpu(g, contiguous_slice(s, l, "col2im")?)),
            CpuStorage::F64(_) => CpuStorage::F64(col2im_cpu(g, contiguous_slice(s, l, "col2im")?)),
            s => candle_core::bail!("{}: unsupported dtype {:?}", self.name(), s.dtype()),
        };
        Ok((out, g.x_shape()))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s: &candle_core::CudaStorage,
        l: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        check_input(self.name(), l, &self.0.cols_shape())?;
        Ok((super::cuda::im2col(s, l, &self.0, true)?, self.0.x_shape()))
    }

    fn bwd(&self, _x: &Tensor, _y: &Tensor, dy: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(dy.contiguous()?.apply_op1(Im2col(self.0))?))
    }
}

fn geometry(x: &Tensor, kh: usize, kw: usize, pad: usize) -> Result<Geometry> {
    let (k, c, n, h, w) = x.dims5()?;
    super::check_kernel_fits((h, w), (kh, kw), pad)?;
    Ok(Geometry {
        k,
        c,
        n,
        h,
        w,
        kh,
        kw,
        pad,
    })
}

/// The column matrices of a stride-1 `kh`x`kw` convolution with zero padding `pad`:
/// `x` is `[K, C, N, H, W]`, the result `[K, C·kh·kw, N·Ho·Wo]` with row `(c·kh + ky)·kw + kx`
/// (the layout of a `[Co, C, kh, kw]` weight flattened to `[Co, C·kh·kw]`) and column
/// `(n·Ho + oy)·Wo + ox`. Differentiable (its gradient is [`col2im`]). f32 or f64, on the CPU
/// or CUDA.
///
/// ```
/// use candle_core::{Device, Tensor};
/// // One replica, one channel, one 2x2 image, 3x3 kernel, padding 1: 9 rows of 4 columns.
/// let x = Tensor::new(&[1f32, 2., 3., 4.], &Device::Cpu)?.reshape((1, 1, 1, 2, 2))?;
/// let cols = neurogen_model::kernels::im2col(&x, 3, 3, 1)?;
/// assert_eq!(cols.dims(), &[1, 9, 4]);
/// // The centre tap (row 4) is the image itself.
/// assert_eq!(cols.get(0)?.get(4)?.to_vec1::<f32>()?, vec![1., 2., 3., 4.]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn im2col(x: &Tensor, kh: usize, kw: usize, pad: usize) -> Result<Tensor> {
    let g = geometry(x, kh, kw, pad)?;
    Ok(x.contiguous()?.apply_op1(Im2col(g))?)
}

/// The adjoint of [`im2col`]: `cols` `[K, C·kh·kw, N·Ho·Wo]` back to `[K, C, N, H, W]`, each
/// activation summing the entries it was copied to. Differentiable (its gradient is
/// [`im2col`]).
#[allow(clippy::too_many_arguments)]
pub fn col2im(
    cols: &Tensor,
    channels: usize,
    images: usize,
    height: usize,
    width: usize,
    kh: usize,
    kw: usize,
    pad: usize,
) -> Result<Tensor> {
    let k = cols.dim(0)?;
    let probe = Geometry {
        k,
        c: channels,
        n: images,
        h: height,
        w: width,
        kh,
        kw,
        pad,
    };
    super::check_kernel_fits((height, width), (kh, kw), pad)?;
    if cols.shape() != &probe.cols_shape() {
        return Err(ModelError::Config(format!(
            "col2im: columns have shape {:?}, expected {:?}",
            cols.dims(),
            probe.cols_shape().dims()
        )));
    }
    Ok(cols.contiguous()?.apply_op1(Col2im(probe))?)
}
