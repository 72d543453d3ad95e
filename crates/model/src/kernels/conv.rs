//! `relu(conv2d(x, w, stride 1, padding p) + b)` as one candle custom op on the CPU.
//!
//! Forward, per image: `cols = im2col(x)` (`[Ci·kh·kw, Ho·Wo]`), then
//! `y = relu(b·1ᵀ + W · cols)` with `W` as a `[Co, Ci·kh·kw]` matrix (one gemm). Backward, per
//! image, with `dz = dy ⊙ [y > 0]` (PyTorch's ReLU rule: no gradient where the pre-activation is
//! not positive): `db += dz·1`, `dW += dz · colsᵀ`, `dx = col2im(Wᵀ · dz)`. Images run in
//! parallel (rayon); each worker accumulates its own `dW`, `db`, summed at the end.
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::{contiguous_slice, kernel_dtype_ok, with_cpu_slice, Elem};
use crate::error::{ModelError, Result};

/// Fused convolution (stride 1, zero padding `padding`), bias and ReLU.
///
/// `x` is `[batch, in, h, w]`, `weight` `[out, in, kh, kw]`, `bias` `[out]`; the result is
/// `[batch, out, h + 2·padding − kh + 1, w + 2·padding − kw + 1]`. On the CPU (f32 or f64) this
/// runs the im2col + gemm kernel with its own backward pass; elsewhere it is candle's
/// `conv2d`, `broadcast_add` and `relu`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use neurogen_model::kernels::conv2d_bias_relu;
/// let x = Tensor::randn(0f32, 1.0, (2, 3, 7, 7), &Device::Cpu)?;
/// let w = Tensor::randn(0f32, 1.0, (4, 3, 3, 3), &Device::Cpu)?;
/// let b = Tensor::zeros(4, candle_core::DType::F32, &Device::Cpu)?;
/// assert_eq!(conv2d_bias_relu(&x, &w, &b, 1)?.dims(), &[2, 4, 7, 7]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn conv2d_bias_relu(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    padding: usize,
) -> Result<Tensor> {
    let (_, ci, h, w) = x.dims4()?;
    let (co, wci, kh, kw) = weight.dims4()?;
    if wci != ci || bias.dims() != [co] {
        return Err(ModelError::Config(format!(
            "convolution shapes do not fit: input {:?}, weight {:?}, bias {:?}",
            x.dims(),
            weight.dims(),
            bias.dims()
        )));
    }
    if h + 2 * padding < kh || w + 2 * padding < kw {
        return Err(ModelError::Config(format!(
            "a {kh}x{kw} kernel with padding {padding} does not fit a {h}x{w} input"
        )));
    }
    let same = x.dtype() == weight.dtype() && x.dtype() == bias.dtype();
    if same && kernel_dtype_ok(x) && x.device().same_device(weight.device()) {
        let x = x.contiguous()?;
        let weight = weight.contiguous()?;
        let bias = bias.contiguous()?;
        return Ok(x.apply_op3(&weight, &bias, Conv2dBiasRelu { padding })?);
    }
    super::relu(
        &x.conv2d(weight, padding, 1, 1, 1)?
            .broadcast_add(&bias.reshape((1, co, 1, 1))?)?,
    )
}

/// The custom op (CPU only: [`conv2d_bias_relu`] never hands it a GPU tensor).
struct Conv2dBiasRelu {
    padding: usize,
}

/// Sizes of one convolution.
#[derive(Clone, Copy)]
struct Dims {
    b: usize,
    ci: usize,
    h: usize,
    w: usize,
    co: usize,
    kh: usize,
    kw: usize,
    pad: usize,
    ho: usize,
    wo: usize,
}

impl Dims {
    fn new(x: &[usize], w: &[usize], pad: usize) -> Self {
        let (kh, kw) = (w[2], w[3]);
        Dims {
            b: x[0],
            ci: x[1],
            h: x[2],
            w: x[3],
            co: w[0],
            kh,
            kw,
            pad,
            ho: x[2] + 2 * pad + 1 - kh,
            wo: x[3] + 2 * pad + 1 - kw,
        }
    }
    /// Rows of the im2col matrix (`Ci·kh·kw`).
    fn k(&self) -> usize {
        self.ci * self.kh * self.kw
    }
    /// Output pixels per channel.
    fn n(&self) -> usize {
        self.ho * self.wo
    }
    fn in_len(&self) -> usize {
        self.ci * self.h * self.w
    }
    fn out_len(&self) -> usize {
        self.co * self.n()
    }
    /// Valid output columns `[x0, x1)` for kernel column `kx` (the rest reads padding).
    fn x_range(&self, kx: usize) -> (usize, usize) {
        let x0 = self.pad.saturating_sub(kx).min(self.wo);
        let x1 = (self.w + self.pad).saturating_sub(kx).min(self.wo).max(x0);
        (x0, x1)
    }
    /// Input row read by output row `oy` and kernel row `ky`, if inside the image.
    fn in_row(&self, oy: usize, ky: usize) -> Option<usize> {
        let iy = (oy + ky).checked_sub(self.pad)?;
        (iy < self.h).then_some(iy)
    }
}

/// `cols[(c, ky, kx), (oy, ox)] = x[c, oy + ky − p, ox + kx − p]` (zero outside the image).
fn im2col<T: Elem>(d: &Dims, x: &[T], cols: &mut [T]) {
    if d.wo == d.w {
        im2col_same(d, x, cols);
    } else {
        im2col_general(d, x, cols);
    }
}

/// [`im2col`] when the output is as wide as the input (`2·p = kw − 1`, the network's 3x3
/// convolutions with padding 1). Then `cols` row `(c, ky, kx)` is the channel plane shifted by
/// a constant offset `(ky − p)·w + (kx − p)`: one contiguous copy over the valid output rows,
/// after which only the (at most `p`) wrapped-around columns at each row's edges are zeroed.
/// Copying line by line instead costs a short `memcpy` and `memset` call per output row, which
/// dominated im2col on 8x8 and 16x16 images.
fn im2col_same<T: Elem>(d: &Dims, x: &[T], cols: &mut [T]) {
    let (n, w) = (d.n(), d.w);
    for c in 0..d.ci {
        let plane = &x[c * d.h * w..(c + 1) * d.h * w];
        for ky in 0..d.kh {
            // Valid output rows: 0 ≤ oy + ky − p < h.
            let oy0 = d.pad.saturating_sub(ky).min(d.ho);
            let oy1 = (d.h + d.pad).saturating_sub(ky).min(d.ho).max(oy0);
            for kx in 0..d.kw {
                let row = (c * d.kh + ky) * d.kw + kx;
                let dst = &mut cols[row * n..(row + 1) * n];
                let (x0, x1) = d.x_range(kx);
                dst[..oy0 * w].fill(T::ZERO);
                dst[oy1 * w..].fill(T::ZERO);
                if oy0 == oy1 || x0 == x1 {
                    dst[oy0 * w..oy1 * w].fill(T::ZERO);
                    continue;
                }
                // dst[oy·w + ox] = plane[(oy + ky − p)·w + ox + kx − p] for the valid span
                // from (oy0, x0) to (oy1 − 1, x1 − 1); both ends are inside the plane.
                let d0 = oy0 * w + x0;
                let d1 = (oy1 - 1) * w + x1;
                let s0 = (oy0 + ky - d.pad) * w + x0 + kx - d.pad;
                dst[d0..d1].copy_from_slice(&plane[s0..s0 + (d1 - d0)]);
                for oy in oy0..oy1 {
                    let line = &mut dst[oy * w..(oy + 1) * w];
                    for v in &mut line[..x0] {
                        *v = T::ZERO;
                    }
                    for v in &mut line[x1..] {
                        *v = T::ZERO;
                    }
                }
            }
        }
    }
}

/// [`im2col`] for any padding, one output row at a time.
fn im2col_general<T: Elem>(d: &Dims, x: &[T], cols: &mut [T]) {
    let n = d.n();
    for c in 0..d.ci {
        let plane = &x[c * d.h * d.w..(c + 1) * d.h * d.w];
        for ky in 0..d.kh {
            for kx in 0..d.kw {
                let row = (c * d.kh + ky) * d.kw + kx;
                let dst = &mut cols[row * n..(row + 1) * n];
                let (x0, x1) = d.x_range(kx);
                for oy in 0..d.ho {
                    let line = &mut dst[oy * d.wo..(oy + 1) * d.wo];
                    match d.in_row(oy, ky) {
                        None => line.fill(T::ZERO),
                        Some(iy) => {
                            line[..x0].fill(T::ZERO);
                            line[x1..].fill(T::ZERO);
                            let s = iy * d.w + x0 + kx - d.pad;
                            line[x0..x1].copy_from_slice(&plane[s..s + (x1 - x0)]);
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: `dx[c, oy + ky − p, ox + kx − p] += dcols[(c, ky, kx), (oy, ox)]`,
/// accumulated onto `dx` (zero it first for `dx = col2im(dcols)`).
fn col2im<T: Elem>(d: &Dims, dcols: &[T], dx: &mut [T]) {
    let n = d.n();
    for c in 0..d.ci {
        let plane = &mut dx[c * d.h * d.w..(c + 1) * d.h * d.w];
        for ky in 0..d.kh {
            for kx in 0..d.kw {
                let row = (c * d.kh + ky) * d.kw + kx;
                let src = &dcols[row * n..(row + 1) * n];
                let (x0, x1) = d.x_range(kx);
                for oy in 0..d.ho {
                    if let Some(iy) = d.in_row(oy, ky) {
                        let s = iy * d.w + x0 + kx - d.pad;
                        let line = &src[oy * d.wo + x0..oy * d.wo + x1];
                        for (o, &v) in plane[s..s + (x1 - x0)].iter_mut().zip(line) {
                            *o += v;
                        }
                    }
                }
            }
        }
    }
}

/// Row-major gemm: `dst[m×n] (+)= lhs[m×k] · rhs[k×n]`, every matrix given by its row and
/// column strides.
///
/// # Safety
/// The pointers must be valid for the given sizes and strides, and `dst` must not overlap the
/// inputs.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_rs<T: Elem>(
    (m, n, k): (usize, usize, usize),
    dst: *mut T,
    dst_rs: usize,
    accumulate: bool,
    lhs: *const T,
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: *const T,
    (rhs_rs, rhs_cs): (usize, usize),
) {
    gemm::gemm(
        m,
        n,
        k,
        dst,
        1,
        dst_rs as isize,
        accumulate,
        lhs,
        lhs_cs as isize,
        lhs_rs as isize,
        rhs,
        rhs_cs as isize,
        rhs_rs as isize,
        T::ONE,
        T::ONE,
        false,
        false,
        false,
        gemm::Parallelism::None,
    )
}

/// A pointer that may cross threads: each worker writes a disjoint part of its buffer.
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

/// Images per rayon task, so that there are about as many tasks as threads.
fn min_len(batch: usize) -> usize {
    batch.div_ceil(rayon::current_num_threads().max(1)).max(1)
}

fn forward<T: Elem>(d: &Dims, x: &[T], wt: &[T], bias: &[T]) -> Vec<T> {
    let (k, n) = (d.k(), d.n());
    // The output starts as the bias broadcast over each image's pixels (the gemm accumulates
    // onto it); written once here instead of zero-filled and then overwritten.
    let mut out = Vec::with_capacity(d.b * d.out_len());
    for _ in 0..d.b {
        for &bv in bias {
            out.extend(std::iter::repeat_n(bv, n));
        }
    }
    out.par_chunks_mut(d.out_len())
        .zip(x.par_chunks(d.in_len()))
        .with_min_len(min_len(d.b))
        .for_each_init(
            || vec![T::ZERO; k * n],
            |cols, (y, xi)| {
                im2col(d, xi, cols);
                // SAFETY: y is [co×n], wt [co×k], cols [k×n], all row-major and disjoint.
                unsafe {
                    gemm_rs(
                        (d.co, n, k),
                        y.as_mut_ptr(),
                        n,
                        true,
                        wt.as_ptr(),
                        (k, 1),
                        cols.as_ptr(),
                        (n, 1),
                    );
                }
                for v in y.iter_mut() {
                    // NaN stays NaN, so a diverging run is still detected.
                    if *v < T::ZERO {
                        *v = T::ZERO;
                    }
                }
            },
        );
    out
}

/// Per-worker state of the backward pass.
struct Acc<T> {
    dw: Vec<T>,
    db: Vec<T>,
    cols: Vec<T>,
    dz: Vec<T>,
    dcols: Vec<T>,
}

/// Gradients `(dx, dw, db)`; `dx` only when `need_dx`.
fn backward<T: Elem>(
    d: &Dims,
    x: &[T],
    wt: &[T],
    y: &[T],
    dy: &[T],
    need_dx: bool,
) -> (Option<Vec<T>>, Vec<T>, Vec<T>) {
    let (k, n) = (d.k(), d.n());
    let mut dx = if need_dx {
        vec![T::ZERO; d.b * d.in_len()]
    } else {
        Vec::new()
    };
    let dx_ptr = SendPtr(dx.as_mut_ptr());
    let init = || Acc {
        dw: vec![T::ZERO; d.co * k],
        db: vec![T::ZERO; d.co],
        cols: vec![T::ZERO; k * n],
        dz: vec![T::ZERO; d.out_len()],
        dcols: if need_dx {
            vec![T::ZERO; k * n]
        } else {
            Vec::new()
        },
    };
    let acc = (0..d.b)
        .into_par_iter()
        .with_min_len(min_len(d.b))
        .fold(init, |mut a, bi| {
            let yi = &y[bi * d.out_len()..(bi + 1) * d.out_len()];
            let gi = &dy[bi * d.out_len()..(bi + 1) * d.out_len()];
            for ((z, &yv), &gv) in a.dz.iter_mut().zip(yi).zip(gi) {
                *z = if yv > T::ZERO { gv } else { T::ZERO };
            }
            for (db, row) in a.db.iter_mut().zip(a.dz.chunks(n)) {
                let mut s = T::ZERO;
                for &v in row {
                    s += v;
                }
                *db += s;
            }
            im2col(d, &x[bi * d.in_len()..(bi + 1) * d.in_len()], &mut a.cols);
            // dwᵀ, stored as [k×co] (i.e. dw column-major), += dz [co×n] · colsᵀ. In this
            // orientation gemm reads `cols` in place (pixels contiguous) and only packs the
            // smaller `dz`; accumulating dw row-major instead made it transpose all of `cols`
            // for every image (measured: 12% of a batch-128 step).
            // SAFETY: dwt is [k×co], dz [co×n] and cols [k×n], all in bounds and disjoint.
            unsafe {
                gemm::gemm(
                    d.co,
                    k,
                    n,
                    a.dw.as_mut_ptr(),
                    d.co as isize,
                    1,
                    true,
                    a.dz.as_ptr(),
                    1,
                    n as isize,
                    a.cols.as_ptr(),
                    n as isize,
                    1,
                    T::ONE,
                    T::ONE,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            if need_dx {
                // SAFETY: dcols [k×n] = wtᵀ · dz, wt is [co×k] read with swapped strides.
                unsafe {
                    gemm_rs(
                        (k, n, d.co),
                        a.dcols.as_mut_ptr(),
                        n,
                        false,
                        wt.as_ptr(),
                        (1, k),
                        a.dz.as_ptr(),
                        (n, 1),
                    );
                }
                let p = dx_ptr;
                // SAFETY: image bi's slice of dx (zero from `vec!`) is written by this worker
                // only.
                let dxi =
                    unsafe { std::slice::from_raw_parts_mut(p.0.add(bi * d.in_len()), d.in_len()) };
                col2im(d, &a.dcols, dxi);
            }
            a
        })
        .map(|a| (a.dw, a.db))
        .reduce(
            || (vec![T::ZERO; d.co * k], vec![T::ZERO; d.co]),
            |(mut dw, mut db), (dw2, db2)| {
                for (a, b) in dw.iter_mut().zip(dw2) {
                    *a += b;
                }
                for (a, b) in db.iter_mut().zip(db2) {
                    *a += b;
                }
                (dw, db)
            },
        );
    // acc.0 holds dwᵀ ([k×co]); the weight gradient is [co×k].
    let mut dw = vec![T::ZERO; d.co * k];
    for (kk, row) in acc.0.chunks(d.co).enumerate() {
        for (o, &v) in row.iter().enumerate() {
            dw[o * k + kk] = v;
        }
    }
    (need_dx.then_some(dx), dw, acc.1)
}

fn cpu_forward<T: Elem>(
    pad: usize,
    (s1, l1): (&CpuStorage, &Layout),
    (s2, l2): (&CpuStorage, &Layout),
    (s3, l3): (&CpuStorage, &Layout),
) -> candle_core::Result<(CpuStorage, Shape)> {
    let d = Dims::new(l1.dims(), l2.dims(), pad);
    let x = contiguous_slice::<T>(s1, l1, "conv2d input")?;
    let wt = contiguous_slice::<T>(s2, l2, "conv2d weight")?;
    let b = contiguous_slice::<T>(s3, l3, "conv2d bias")?;
    let out = forward(&d, x, wt, b);
    Ok((T::storage(out), Shape::from((d.b, d.co, d.ho, d.wo))))
}

type Grads3 = (Option<Tensor>, Option<Tensor>, Option<Tensor>);

fn cpu_backward<T: Elem + candle_core::WithDType>(
    pad: usize,
    x: &Tensor,
    wt: &Tensor,
    b: &Tensor,
    y: &Tensor,
    dy: &Tensor,
) -> candle_core::Result<Grads3> {
    let d = Dims::new(x.dims(), wt.dims(), pad);
    let need_dx = x.track_op();
    let (dx, dw, db) = with_cpu_slice::<T, _>(x, "conv2d input", |xs| {
        with_cpu_slice::<T, _>(wt, "conv2d weight", |ws| {
            with_cpu_slice::<T, _>(y, "conv2d output", |ys| {
                with_cpu_slice::<T, _>(dy, "conv2d output gradient", |gs| {
                    Ok(backward(&d, xs, ws, ys, gs, need_dx))
                })
            })
        })
    })?;
    let dev = x.device();
    let dx = match dx {
        Some(v) => Some(Tensor::from_vec(v, x.shape(), dev)?),
        None => None,
    };
    Ok((
        dx,
        Some(Tensor::from_vec(dw, wt.shape(), dev)?),
        Some(Tensor::from_vec(db, b.shape(), dev)?),
    ))
}

impl CustomOp3 for Conv2dBiasRelu {
    fn name(&self) -> &'static str {
        "neurogen-conv2d-bias-relu"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let a = ((s1, l1), (s2, l2), (s3, l3));
        match s1 {
            CpuStorage::F32(_) => cpu_forward::<f32>(self.padding, a.0, a.1, a.2),
            CpuStorage::F64(_) => cpu_forward::<f64>(self.padding, a.0, a.1, a.2),
            s => candle_core::bail!("{}: unsupported dtype {:?}", self.name(), s.dtype()),
        }
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        y: &Tensor,
        dy: &Tensor,
    ) -> candle_core::Result<Grads3> {
        match x.dtype() {
            candle_core::DType::F32 => cpu_backward::<f32>(self.padding, x, w, b, y, dy),
            candle_core::DType::F64 => cpu_backward::<f64>(self.padding, x, w, b, y, dy),
            dt => candle_core::bail!("{}: unsupported dtype {dt:?}", self.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contiguous-copy im2col equals the row-by-row one wherever it applies.
    #[test]
    fn im2col_same_matches_general() {
        for (x, w, pad) in [
            ([1, 2, 5, 4], [1, 2, 3, 3], 1),
            ([1, 3, 8, 8], [1, 3, 3, 3], 1),
            ([1, 1, 1, 1], [1, 1, 3, 3], 1),
            ([1, 2, 2, 3], [1, 2, 5, 5], 2),
            ([1, 2, 6, 7], [1, 2, 1, 1], 0),
            ([1, 2, 4, 3], [1, 2, 3, 1], 0),
        ] {
            let d = Dims::new(&x, &w, pad);
            assert_eq!(d.wo, d.w);
            let xs: Vec<f64> = (0..d.in_len()).map(|i| 1.0 + i as f64).collect();
            let mut a = vec![f64::NAN; d.k() * d.n()];
            let mut b = vec![f64::NAN; d.k() * d.n()];
            im2col_same(&d, &xs, &mut a);
            im2col_general(&d, &xs, &mut b);
            assert_eq!(a, b, "{x:?} {w:?} pad {pad}");
        }
    }

    /// im2col followed by col2im adds each input pixel once per kernel tap that reads it.
    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        let d = Dims::new(&[1, 2, 5, 4], &[1, 2, 3, 3], 1);
        let x: Vec<f64> = (0..d.in_len()).map(|i| (i as f64 * 0.37).sin()).collect();
        let c: Vec<f64> = (0..d.k() * d.n())
            .map(|i| (i as f64 * 0.11).cos())
            .collect();
        let mut cols = vec![0.0; d.k() * d.n()];
        im2col(&d, &x, &mut cols);
        let mut dx = vec![0.0; d.in_len()];
        col2im(&d, &c, &mut dx);
        // <im2col(x), c> == <x, col2im(c)>
        let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
        assert!(
            (lhs - rhs).abs() < 1e-12 * lhs.abs().max(1.0),
            "{lhs} vs {rhs}"
        );
    }
}
