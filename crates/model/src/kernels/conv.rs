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

use super::{
    check_conv_operands, check_kernel_fits, contiguous_slice, kernel_dtype_ok, with_cpu_slice, Elem,
};
use crate::error::Result;

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
    let fit = wci == ci && bias.dims() == [co];
    check_conv_operands(fit, "convolution", "", x, weight, bias)?;
    check_kernel_fits((h, w), (kh, kw), padding)?;
    if let Some(y) = fused(x, weight, bias, padding)? {
        return Ok(y);
    }
    super::relu(
        &x.conv2d(weight, padding, 1, 1, 1)?
            .broadcast_add(&bias.reshape((1, co, 1, 1))?)?,
    )
}

/// [`conv2d_bias_relu`] for K replicas at once, each with its own minibatch and weights, in
/// one kernel call: `x` is `[K, batch, in, h, w]`, `weight` `[K, out, in, kh, kw]`, `bias`
/// `[K, out]`, the result `[K, batch, out, ho, wo]`.
///
/// On the CPU (f32 or f64) all K·batch images are the tasks of one parallel loop, forward and
/// backward, and replica `r`'s values and gradients are bit for bit those of
/// `conv2d_bias_relu(x[r], weight[r], bias[r], padding)` (each image's arithmetic is the same,
/// and each replica's weight gradient is summed over its images in the tree a call of its own
/// uses). Elsewhere it is that call per replica, stacked.
///
/// ```
/// use candle_core::{Device, IndexOp, Tensor};
/// use neurogen_model::kernels::{conv2d_bias_relu, conv2d_bias_relu_replicas};
/// let x = Tensor::randn(0f32, 1.0, (2, 3, 4, 7, 7), &Device::Cpu)?;
/// let w = Tensor::randn(0f32, 1.0, (2, 5, 4, 3, 3), &Device::Cpu)?;
/// let b = Tensor::randn(0f32, 1.0, (2, 5), &Device::Cpu)?;
/// let y = conv2d_bias_relu_replicas(&x, &w, &b, 1)?;
/// assert_eq!(y.dims(), &[2, 3, 5, 7, 7]);
/// let y1 = conv2d_bias_relu(&x.i(1)?, &w.i(1)?, &b.i(1)?, 1)?;
/// assert_eq!(y.i(1)?.flatten_all()?.to_vec1::<f32>()?, y1.flatten_all()?.to_vec1::<f32>()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn conv2d_bias_relu_replicas(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    padding: usize,
) -> Result<Tensor> {
    let (k, _, ci, h, w) = x.dims5()?;
    let (wk, co, wci, kh, kw) = weight.dims5()?;
    let fit = wk == k && wci == ci && bias.dims() == [k, co];
    check_conv_operands(
        fit,
        "replica convolution",
        " ([K, batch, C, H, W])",
        x,
        weight,
        bias,
    )?;
    check_kernel_fits((h, w), (kh, kw), padding)?;
    if let Some(y) = fused(x, weight, bias, padding)? {
        return Ok(y);
    }
    let ys = (0..k)
        .map(|r| conv2d_bias_relu(&x.get(r)?, &weight.get(r)?, &bias.get(r)?, padding))
        .collect::<Result<Vec<_>>>()?;
    Ok(Tensor::stack(&ys, 0)?)
}

/// The fused CPU kernel's result, or None where it does not apply (another device or dtype,
/// mixed dtypes): the caller then composes candle's operations.
fn fused(x: &Tensor, weight: &Tensor, bias: &Tensor, padding: usize) -> Result<Option<Tensor>> {
    let same = x.dtype() == weight.dtype() && x.dtype() == bias.dtype();
    if !(same && kernel_dtype_ok(x) && x.device().same_device(weight.device())) {
        return Ok(None);
    }
    let (x, weight, bias) = (x.contiguous()?, weight.contiguous()?, bias.contiguous()?);
    Ok(Some(x.apply_op3(
        &weight,
        &bias,
        Conv2dBiasRelu { padding },
    )?))
}

/// The custom op (CPU only: [`conv2d_bias_relu`] and [`conv2d_bias_relu_replicas`] never hand
/// it a GPU tensor). Inputs of rank 4 are one network, of rank 5 K replicas.
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
                zero_edge_columns(dst, w, (oy0, oy1), (x0, x1));
            }
        }
    }
}

/// Sets columns `..x0` and `x1..w` of rows `oy0..oy1` of `m` (rows of `w`) to zero: the at most
/// `p` edge columns of every row, written column by column with strided stores. (Zeroing them
/// row by row compiled to a `memset` call of one or two elements per row, ~3 % of a batch-128
/// training step in im2col alone.)
fn zero_edge_columns<T: Elem>(
    m: &mut [T],
    w: usize,
    (oy0, oy1): (usize, usize),
    (x0, x1): (usize, usize),
) {
    if oy0 >= oy1 {
        return;
    }
    for ox in (0..x0).chain(x1..w) {
        for v in m[oy0 * w + ox..].iter_mut().step_by(w).take(oy1 - oy0) {
            *v = T::ZERO;
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
/// accumulated onto `dx` (zero it first for `dx = col2im(dcols)`). `dcols` is scratch: the
/// entries that read padding may be overwritten.
///
/// Every `dx` element receives the same terms in the same order whichever variant runs, so the
/// result is the same bit for bit as long as `dx` holds no `−0.0` on entry (the convolution's
/// backward pass always starts from `+0.0`).
fn col2im<T: Elem>(d: &Dims, dcols: &mut [T], dx: &mut [T]) {
    if d.wo == d.w {
        col2im_same(d, dcols, dx);
    } else {
        col2im_general(d, dcols, dx);
    }
}

/// [`col2im`] when the output is as wide as the input (the transpose of [`im2col_same`]): row
/// `(c, ky, kx)` of `dcols`, shifted by the constant offset `(ky − p)·w + (kx − p)`, is added
/// onto the channel plane in one contiguous pass over the valid output rows. The (at most `p`)
/// columns at each row's edges that would wrap around into the neighbouring input row are set
/// to zero first, so they add `+0.0` there, which leaves every value unchanged: `dx` starts at
/// `+0.0` and a sum that starts at `+0.0` is never `−0.0`, and `v + 0.0 = v` for every other `v`
/// (NaN included). This replaces a short, mostly scalar add per output row, which dominated
/// col2im on 8x8 and 16x16 images.
fn col2im_same<T: Elem>(d: &Dims, dcols: &mut [T], dx: &mut [T]) {
    let (n, w) = (d.n(), d.w);
    for c in 0..d.ci {
        let plane = &mut dx[c * d.h * w..(c + 1) * d.h * w];
        for ky in 0..d.kh {
            let oy0 = d.pad.saturating_sub(ky).min(d.ho);
            let oy1 = (d.h + d.pad).saturating_sub(ky).min(d.ho).max(oy0);
            for kx in 0..d.kw {
                let row = (c * d.kh + ky) * d.kw + kx;
                let src = &mut dcols[row * n..(row + 1) * n];
                let (x0, x1) = d.x_range(kx);
                if oy0 == oy1 || x0 == x1 {
                    continue;
                }
                zero_edge_columns(src, w, (oy0, oy1), (x0, x1));
                let d0 = oy0 * w + x0;
                let d1 = (oy1 - 1) * w + x1;
                let s0 = (oy0 + ky - d.pad) * w + x0 + kx - d.pad;
                for (o, &v) in plane[s0..s0 + (d1 - d0)].iter_mut().zip(&src[d0..d1]) {
                    *o += v;
                }
            }
        }
    }
}

/// [`col2im`] for any padding, one output row at a time.
fn col2im_general<T: Elem>(d: &Dims, dcols: &[T], dx: &mut [T]) {
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

/// Images per rayon task of the per-call engine, so that there are about as many tasks as
/// threads.
#[cfg(test)]
fn min_len(batch: usize) -> usize {
    batch.div_ceil(rayon::current_num_threads().max(1)).max(1)
}

/// How one run's weight-gradient sum over its `batch` images is grouped: the split tree that
/// rayon's `(0..batch).into_par_iter().with_min_len(min_len(batch)).fold(..).reduce(..)` builds
/// with `threads` workers (halve a range at `len / 2` while `len / 2 ≥ min` and the splitter,
/// which starts at `threads` and halves at every level, is not exhausted; every leaf folds its
/// images in order onto zeros, and the reduction adds each leaf onto zeros, then right halves
/// onto left halves).
///
/// The per-call kernel of earlier versions reduced exactly this way (rayon also splits a range
/// again when a task is stolen, but with `min = ⌈batch / threads⌉` the length bound always
/// stops the split first); keeping this tree keeps each replica's gradient bit for bit what a
/// network of its own computes, however the replicas' images are spread over the workers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SumTree {
    /// Images `lo..hi`, folded in order by one task.
    Leaf(usize, usize),
    /// Left half, then right half.
    Split(Box<SumTree>, Box<SumTree>),
}

impl SumTree {
    fn new(batch: usize, threads: usize) -> SumTree {
        let min = batch.div_ceil(threads.max(1)).max(1);
        Self::build(0, batch, min, threads.max(1))
    }

    fn build(lo: usize, hi: usize, min: usize, splits: usize) -> SumTree {
        let len = hi - lo;
        if len / 2 >= min && splits > 0 {
            let mid = lo + len / 2;
            SumTree::Split(
                Box::new(Self::build(lo, mid, min, splits / 2)),
                Box::new(Self::build(mid, hi, min, splits / 2)),
            )
        } else {
            SumTree::Leaf(lo, hi)
        }
    }

    /// The leaves' image ranges, left to right.
    fn leaves(&self, out: &mut Vec<(usize, usize)>) {
        match self {
            SumTree::Leaf(lo, hi) => out.push((*lo, *hi)),
            SumTree::Split(a, b) => {
                a.leaves(out);
                b.leaves(out);
            }
        }
    }

    /// Sums the leaves' accumulators (taken left to right from `accs`) in this tree's order.
    fn reduce<T: Elem>(&self, accs: &mut impl Iterator<Item = (Vec<T>, Vec<T>)>) -> Partial<T> {
        match self {
            SumTree::Leaf(..) => {
                let (dw, db) = accs.next().unwrap_or_default();
                // rayon's reduce starts every leaf from its identity (zeros).
                let mut z = (vec![T::ZERO; dw.len()], vec![T::ZERO; db.len()]);
                add_into(&mut z, (dw, db));
                z
            }
            SumTree::Split(a, b) => {
                let mut left = a.reduce(accs);
                let right = b.reduce(accs);
                add_into(&mut left, right);
                left
            }
        }
    }
}

/// A partial weight gradient (`dwᵀ` as `[k×co]`) and bias gradient.
type Partial<T> = (Vec<T>, Vec<T>);

/// `a += b` elementwise for both parts.
fn add_into<T: Elem>(a: &mut Partial<T>, b: Partial<T>) {
    for (x, y) in a.0.iter_mut().zip(b.0) {
        *x += y;
    }
    for (x, y) in a.1.iter_mut().zip(b.1) {
        *x += y;
    }
}

/// Forward pass of `reps` replicas of one convolution: `x` holds `reps · d.b` images (replica
/// major), `wt` `reps` weights `[co×k]`, `bias` `reps` biases `[co]`. Every image is one task
/// (im2col, one gemm onto the broadcast bias, ReLU), all replicas' images in one parallel loop;
/// an image's arithmetic does not depend on which worker runs it.
fn forward<T: ScratchElem>(d: &Dims, reps: usize, x: &[T], wt: &[T], bias: &[T]) -> Vec<T> {
    let (k, n) = (d.k(), d.n());
    let images = reps * d.b;
    let len = images * d.out_len();
    let mut out: Vec<T> = Vec::with_capacity(len);
    out.spare_capacity_mut()[..len]
        .par_chunks_mut(d.out_len().max(1))
        .enumerate()
        .with_max_len(1)
        .for_each(|(i, y)| {
            T::with_scratch((k * n, 0, 0), |s| {
                let cols = &mut s.cols[..k * n];
                let r = i / d.b.max(1);
                // The output starts as the bias broadcast over the image's pixels (the gemm
                // accumulates onto it), written here by the worker instead of on one thread.
                fill_rows(y, &bias[r * d.co..(r + 1) * d.co], n);
                // SAFETY: every element of `y` was written just above.
                let y: &mut [T] =
                    unsafe { std::slice::from_raw_parts_mut(y.as_mut_ptr().cast::<T>(), y.len()) };
                im2col(d, &x[i * d.in_len()..(i + 1) * d.in_len()], cols);
                let w = &wt[r * d.co * k..(r + 1) * d.co * k];
                // SAFETY: y is [co×n], w [co×k], cols [k×n], all row-major and disjoint.
                unsafe {
                    gemm_rs(
                        (d.co, n, k),
                        y.as_mut_ptr(),
                        n,
                        true,
                        w.as_ptr(),
                        (k, 1),
                        cols.as_ptr(),
                        (n, 1),
                    );
                }
                relu_in_place(y);
            })
        });
    // SAFETY: the loop above initialised all `len` elements (one chunk per image).
    unsafe { out.set_len(len) };
    out
}

/// One task of the backward pass.
#[derive(Clone, Copy)]
enum Task {
    /// Replica `r`'s weight and bias gradient over its images `lo..hi` (leaf `slot` of all
    /// replicas' leaves).
    Sum {
        r: usize,
        lo: usize,
        hi: usize,
        slot: usize,
    },
    /// The input gradient of image `i` (replica major over all replicas' images).
    Dx { i: usize },
}

/// Scratch buffers of one worker thread, kept from call to call (grown when a layer needs
/// more): an im2col matrix, a masked output gradient and a column gradient.
#[derive(Default)]
struct Scratch<T> {
    cols: Vec<T>,
    dz: Vec<T>,
    dcols: Vec<T>,
}

impl<T: Elem> Scratch<T> {
    /// Makes the buffers at least `cols`, `dz`, `dcols` long (new elements are zero; every
    /// user overwrites what it reads).
    fn ensure(&mut self, cols: usize, dz: usize, dcols: usize) {
        for (v, n) in [
            (&mut self.cols, cols),
            (&mut self.dz, dz),
            (&mut self.dcols, dcols),
        ] {
            if v.len() < n {
                v.resize(n, T::ZERO);
            }
        }
    }
}

/// The element types with per-thread [`Scratch`] buffers.
trait ScratchElem: Elem {
    /// Runs `f` on this thread's scratch buffers, sized by [`Scratch::ensure`] (on fresh
    /// buffers if this thread's are already in use).
    fn with_scratch<R>(sizes: (usize, usize, usize), f: impl FnMut(&mut Scratch<Self>) -> R) -> R;
}

macro_rules! scratch_elem {
    ($t:ty, $name:ident) => {
        thread_local! {
            static $name: std::cell::RefCell<Scratch<$t>> =
                std::cell::RefCell::new(Scratch::default());
        }
        impl ScratchElem for $t {
            fn with_scratch<R>(
                (a, b, c): (usize, usize, usize),
                mut f: impl FnMut(&mut Scratch<Self>) -> R,
            ) -> R {
                let out = $name
                    .try_with(|cell| {
                        cell.try_borrow_mut().ok().map(|mut s| {
                            s.ensure(a, b, c);
                            f(&mut s)
                        })
                    })
                    .ok()
                    .flatten();
                match out {
                    Some(r) => r,
                    None => {
                        let mut s = Scratch::default();
                        s.ensure(a, b, c);
                        f(&mut s)
                    }
                }
            }
        }
    };
}
scratch_elem!(f32, SCRATCH_F32);
scratch_elem!(f64, SCRATCH_F64);

/// Writes `values[c]` into every element of row `c` (rows of `n`) of the uninitialised `y`.
fn fill_rows<T: Elem>(y: &mut [std::mem::MaybeUninit<T>], values: &[T], n: usize) {
    for (row, &v) in y.chunks_mut(n.max(1)).zip(values) {
        for e in row {
            e.write(v);
        }
    }
}

/// `y = max(y, 0)` in place, written as a select (every element stored) so that it
/// vectorises; NaN stays NaN (so a diverging run is still detected) and `−0.0` stays `−0.0`,
/// as with the conditional store it replaces.
fn relu_in_place<T: Elem>(y: &mut [T]) {
    for v in y.iter_mut() {
        *v = if *v < T::ZERO { T::ZERO } else { *v };
    }
}

/// `db[c] += Σ_j dz[c·n + j]` for every row `c`, each row summed from zero in order (the same
/// sum as a plain loop per row). Eight rows at a time: their sums are independent chains, so
/// the additions overlap instead of each waiting for the previous one.
fn add_row_sums<T: Elem>(db: &mut [T], dz: &[T], n: usize) {
    const ROWS: usize = 8;
    let rows = db.len();
    let mut c = 0;
    while c + ROWS <= rows {
        let block = &dz[c * n..(c + ROWS) * n];
        let mut acc = [T::ZERO; ROWS];
        for j in 0..n {
            for (r, a) in acc.iter_mut().enumerate() {
                *a += block[r * n + j];
            }
        }
        for (o, a) in db[c..c + ROWS].iter_mut().zip(acc) {
            *o += a;
        }
        c += ROWS;
    }
    for (o, row) in db[c..].iter_mut().zip(dz[c * n..].chunks(n.max(1))) {
        let mut acc = T::ZERO;
        for &v in row {
            acc += v;
        }
        *o += acc;
    }
}

/// `dz = dy ⊙ [y > 0]` for one image.
fn relu_grad<T: Elem>(dz: &mut [T], y: &[T], dy: &[T]) {
    for ((z, &yv), &gv) in dz.iter_mut().zip(y).zip(dy) {
        *z = if yv > T::ZERO { gv } else { T::ZERO };
    }
}

/// Gradients `(dx, dw, db)` of `reps` replicas (laid out as in [`forward`]); `dx` only when
/// `need_dx`.
///
/// Each replica's `dw`, `db` are summed over its images exactly as a run of its own sums them
/// ([`SumTree`]: the same leaves, each folding its images in order, reduced in the same
/// order), so a replica's gradient does not depend on the other replicas. The leaves of all
/// replicas and the input gradients of all images (independent of each other: `dx` of an
/// image is `col2im(Wᵀ · dz)` of that image alone) are the tasks of one parallel loop, which
/// balances the two workers even at batch 4 with one replica.
fn backward<T: ScratchElem>(
    d: &Dims,
    reps: usize,
    x: &[T],
    wt: &[T],
    y: &[T],
    dy: &[T],
    need_dx: bool,
) -> (Option<Vec<T>>, Vec<T>, Vec<T>) {
    let (k, n) = (d.k(), d.n());
    let tree = SumTree::new(d.b, rayon::current_num_threads());
    let mut leaves = Vec::new();
    tree.leaves(&mut leaves);
    let mut tasks = Vec::with_capacity(reps * leaves.len() + if need_dx { reps * d.b } else { 0 });
    for r in 0..reps {
        for (j, &(lo, hi)) in leaves.iter().enumerate() {
            tasks.push(Task::Sum {
                r,
                lo,
                hi,
                slot: r * leaves.len() + j,
            });
        }
    }
    let mut dx: Vec<T> = Vec::new();
    if need_dx {
        dx.reserve_exact(reps * d.b * d.in_len());
        tasks.extend((0..reps * d.b).map(|i| Task::Dx { i }));
    }
    let dx_ptr = SendPtr(dx.as_mut_ptr());
    let in_len = d.in_len();
    let out_len = d.out_len();
    let sums: Vec<Option<(usize, Partial<T>)>> = tasks
        .par_iter()
        .with_max_len(1)
        .map(|task| {
            let sizes = (k * n, out_len, if need_dx { k * n } else { 0 });
            T::with_scratch(sizes, |s| match *task {
                Task::Sum { r, lo, hi, slot } => {
                    let mut dwt = vec![T::ZERO; d.co * k];
                    let mut db = vec![T::ZERO; d.co];
                    for bi in lo..hi {
                        let i = r * d.b + bi;
                        relu_grad(
                            &mut s.dz[..out_len],
                            &y[i * out_len..(i + 1) * out_len],
                            &dy[i * out_len..(i + 1) * out_len],
                        );
                        add_row_sums(&mut db, &s.dz[..out_len], n);
                        im2col(d, &x[i * in_len..(i + 1) * in_len], &mut s.cols[..k * n]);
                        // dwᵀ, stored as [k×co] (i.e. dw column-major), += dz [co×n] · colsᵀ.
                        // In this orientation gemm reads `cols` in place (pixels contiguous)
                        // and only packs the smaller `dz`.
                        // SAFETY: dwt is [k×co], dz [co×n] and cols [k×n], all in bounds and
                        // disjoint.
                        unsafe {
                            gemm::gemm(
                                d.co,
                                k,
                                n,
                                dwt.as_mut_ptr(),
                                d.co as isize,
                                1,
                                true,
                                s.dz.as_ptr(),
                                1,
                                n as isize,
                                s.cols.as_ptr(),
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
                    }
                    Some((slot, (dwt, db)))
                }
                Task::Dx { i } => {
                    let r = i / d.b.max(1);
                    relu_grad(
                        &mut s.dz[..out_len],
                        &y[i * out_len..(i + 1) * out_len],
                        &dy[i * out_len..(i + 1) * out_len],
                    );
                    let w = &wt[r * d.co * k..(r + 1) * d.co * k];
                    // SAFETY: dcols [k×n] = wᵀ · dz, w is [co×k] read with swapped strides.
                    unsafe {
                        gemm_rs(
                            (k, n, d.co),
                            s.dcols.as_mut_ptr(),
                            n,
                            false,
                            w.as_ptr(),
                            (1, k),
                            s.dz.as_ptr(),
                            (n, 1),
                        );
                    }
                    let p = dx_ptr;
                    // SAFETY: image i's slice of dx (reserved above) is written by this task
                    // only: zeroed here, then accumulated by col2im.
                    let dxi = unsafe {
                        let ptr = p.0.add(i * in_len);
                        std::ptr::write_bytes(ptr, 0, in_len);
                        std::slice::from_raw_parts_mut(ptr, in_len)
                    };
                    col2im(d, &mut s.dcols[..k * n], dxi);
                    None
                }
            })
        })
        .collect();
    if need_dx {
        // SAFETY: every image's slice was zeroed and written by its task (the zero bit
        // pattern is 0.0 for f32 and f64).
        unsafe { dx.set_len(reps * d.b * in_len) };
    }
    let mut accs: Vec<Option<Partial<T>>> = (0..reps * leaves.len()).map(|_| None).collect();
    for (slot, acc) in sums.into_iter().flatten() {
        accs[slot] = Some(acc);
    }
    let mut dw = vec![T::ZERO; reps * d.co * k];
    let mut db = Vec::with_capacity(reps * d.co);
    let mut accs = accs.into_iter().map(|a| a.unwrap_or_default());
    for r in 0..reps {
        let mut mine = accs.by_ref().take(leaves.len());
        let (dwt, dbr) = tree.reduce(&mut mine);
        // dwt is dwᵀ ([k×co]); the weight gradient is [co×k].
        let dwr = &mut dw[r * d.co * k..(r + 1) * d.co * k];
        for (kk, row) in dwt.chunks(d.co.max(1)).enumerate() {
            for (o, &v) in row.iter().enumerate() {
                dwr[o * k + kk] = v;
            }
        }
        db.extend(dbr);
    }
    (need_dx.then_some(dx), dw, db)
}

/// Replicas and per-replica dims of an input `[B, Ci, H, W]` (one replica) or `[K, B, Ci, H,
/// W]` with a weight `[Co, Ci, kh, kw]` or `[K, Co, Ci, kh, kw]`.
fn split_dims(x: &[usize], w: &[usize], pad: usize) -> candle_core::Result<(usize, Dims)> {
    match (x.len(), w.len()) {
        (4, 4) => Ok((1, Dims::new(x, w, pad))),
        (5, 5) => Ok((x[0], Dims::new(&x[1..], &w[1..], pad))),
        _ => candle_core::bail!("conv2d: input {x:?} and weight {w:?} have unexpected ranks"),
    }
}

fn cpu_forward<T: ScratchElem>(
    pad: usize,
    (s1, l1): (&CpuStorage, &Layout),
    (s2, l2): (&CpuStorage, &Layout),
    (s3, l3): (&CpuStorage, &Layout),
) -> candle_core::Result<(CpuStorage, Shape)> {
    let (reps, d) = split_dims(l1.dims(), l2.dims(), pad)?;
    let x = contiguous_slice::<T>(s1, l1, "conv2d input")?;
    let wt = contiguous_slice::<T>(s2, l2, "conv2d weight")?;
    let b = contiguous_slice::<T>(s3, l3, "conv2d bias")?;
    if x.len() != reps * d.b * d.in_len()
        || wt.len() != reps * d.co * d.k()
        || b.len() != reps * d.co
    {
        candle_core::bail!("conv2d: input, weight and bias sizes do not fit");
    }
    let out = forward(&d, reps, x, wt, b);
    let shape = if l1.dims().len() == 5 {
        Shape::from((reps, d.b, d.co, d.ho, d.wo))
    } else {
        Shape::from((d.b, d.co, d.ho, d.wo))
    };
    Ok((T::storage(out), shape))
}

type Grads3 = (Option<Tensor>, Option<Tensor>, Option<Tensor>);

fn cpu_backward<T: ScratchElem + candle_core::WithDType>(
    pad: usize,
    x: &Tensor,
    wt: &Tensor,
    b: &Tensor,
    y: &Tensor,
    dy: &Tensor,
) -> candle_core::Result<Grads3> {
    let (reps, d) = split_dims(x.dims(), wt.dims(), pad)?;
    let need_dx = x.track_op();
    let (dx, dw, db) = with_cpu_slice::<T, _>(x, "conv2d input", |xs| {
        with_cpu_slice::<T, _>(wt, "conv2d weight", |ws| {
            with_cpu_slice::<T, _>(y, "conv2d output", |ys| {
                with_cpu_slice::<T, _>(dy, "conv2d output gradient", |gs| {
                    Ok(backward(&d, reps, xs, ws, ys, gs, need_dx))
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

    /// Input and weight shapes, and padding, whose output is as wide as the input (where the
    /// contiguous im2col and col2im apply), odd sizes and edge cases included.
    const SAME_SHAPES: &[([usize; 4], [usize; 4], usize)] = &[
        ([1, 2, 5, 4], [1, 2, 3, 3], 1),
        ([1, 3, 8, 8], [1, 3, 3, 3], 1),
        ([1, 1, 1, 1], [1, 1, 3, 3], 1),
        ([1, 2, 2, 3], [1, 2, 5, 5], 2),
        ([1, 2, 6, 7], [1, 2, 1, 1], 0),
        ([1, 2, 4, 3], [1, 2, 3, 1], 0),
        ([1, 4, 16, 16], [1, 4, 3, 3], 1),
    ];

    /// The contiguous-copy im2col equals the row-by-row one wherever it applies.
    #[test]
    fn im2col_same_matches_general() {
        for &(x, w, pad) in SAME_SHAPES {
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

    /// The contiguous col2im equals the row-by-row one bit for bit, from a zeroed `dx`, with
    /// NaN, infinities and signed zeros among the column values.
    #[test]
    fn col2im_same_matches_general() {
        for &(x, w, pad) in SAME_SHAPES {
            let d = Dims::new(&x, &w, pad);
            assert_eq!(d.wo, d.w);
            let special = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 0.0];
            let c: Vec<f32> = (0..d.k() * d.n())
                .map(|i| match i % 11 {
                    3 => special[(i / 11) % special.len()],
                    _ => ((i as f32) * 0.37).sin(),
                })
                .collect();
            let mut a = vec![0f32; d.in_len()];
            let mut b = vec![0f32; d.in_len()];
            col2im_same(&d, &mut c.clone(), &mut a);
            col2im_general(&d, &c, &mut b);
            assert_eq!(bits(&a), bits(&b), "{x:?} {w:?} pad {pad}");
        }
    }

    /// The interleaved row sums equal a plain in-order loop per row bit for bit (rows in and
    /// out of the blocks of eight, NaN and signed zeros included), added onto `db`.
    #[test]
    fn row_sums_match_plain_loop() {
        for (rows, n) in [
            (0, 5),
            (1, 7),
            (8, 3),
            (13, 64),
            (16, 1024),
            (64, 1),
            (3, 0),
        ] {
            let dz: Vec<f32> = (0..rows * n)
                .map(|i| match i % 17 {
                    5 => -0.0,
                    9 if i > 500 => f32::NAN,
                    _ => ((i as f32) * 0.731).cos() * 1e3_f32.powi((i % 5) as i32 - 2),
                })
                .collect();
            let start: Vec<f32> = (0..rows).map(|r| r as f32 * 0.5 - 1.0).collect();
            let mut fast = start.clone();
            add_row_sums(&mut fast, &dz, n);
            let mut plain = start.clone();
            for (o, row) in plain.iter_mut().zip(dz.chunks(n.max(1))) {
                let mut acc = 0f32;
                for &v in row {
                    acc += v;
                }
                *o += acc;
            }
            assert_eq!(bits(&fast), bits(&plain), "{rows} rows of {n}");
        }
    }

    /// The select ReLU keeps NaN and `−0.0` and zeroes negatives, like a conditional store.
    #[test]
    fn relu_in_place_matches_conditional_store() {
        let v = [
            -1.5f32,
            -0.0,
            0.0,
            2.0,
            f32::NAN,
            f32::NEG_INFINITY,
            f32::INFINITY,
            -1e-40,
        ];
        let mut fast = v;
        relu_in_place(&mut fast);
        let mut plain = v;
        for x in &mut plain {
            if *x < 0.0 {
                *x = 0.0;
            }
        }
        assert_eq!(bits(&fast), bits(&plain));
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
        col2im(&d, &mut c.clone(), &mut dx);
        // <im2col(x), c> == <x, col2im(c)>
        let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
        assert!(
            (lhs - rhs).abs() < 1e-12 * lhs.abs().max(1.0),
            "{lhs} vs {rhs}"
        );
    }

    /// Deterministic test values in about [-1, 1], some exactly zero, of type `T`.
    fn values<T: Elem + From<f32>>(n: usize, seed: u32) -> Vec<T> {
        (0..n)
            .map(|i| {
                let v = ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) % 2001;
                T::from(v as f32 / 1000.0 - 1.0)
            })
            .collect()
    }

    fn bits<T: Elem + Into<f64>>(v: &[T]) -> Vec<u64> {
        v.iter().map(|&x| Into::<f64>::into(x).to_bits()).collect()
    }

    /// The batched engine on K replicas equals the per-call engine run on each replica alone,
    /// bit for bit (values, dx, dw, db), for odd shapes, f32 and f64, and 1 to 4 threads.
    fn batched_matches_per_call<T: ScratchElem + From<f32> + Into<f64>>() {
        for &(reps, b, ci, h, w, co, kh, pad) in &[
            (1, 4, 3, 8, 8, 5, 3, 1),
            (3, 4, 2, 5, 7, 4, 3, 1),
            (2, 5, 3, 6, 4, 3, 3, 1),
            (4, 1, 1, 3, 3, 2, 3, 1),
            (2, 3, 2, 4, 5, 3, 1, 0),
            (2, 7, 2, 5, 5, 3, 5, 2),
            (3, 2, 2, 6, 6, 2, 3, 0),
            (2, 0, 2, 4, 4, 3, 3, 1),
        ] {
            let d = Dims::new(&[b, ci, h, w], &[co, ci, kh, kh], pad);
            let x: Vec<T> = values(reps * b * d.in_len(), 1);
            let wt: Vec<T> = values(reps * co * d.k(), 2);
            let bias: Vec<T> = values(reps * co, 3);
            let dy: Vec<T> = values(reps * b * d.out_len(), 4);
            for threads in 1..=4 {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                pool.install(|| {
                    let y = forward(&d, reps, &x, &wt, &bias);
                    let (dx, dw, db) = backward(&d, reps, &x, &wt, &y, &dy, true);
                    let dx = dx.unwrap();
                    let (_, dw0, db0) = backward(&d, reps, &x, &wt, &y, &dy, false);
                    assert_eq!(bits(&dw0), bits(&dw));
                    assert_eq!(bits(&db0), bits(&db));
                    let (il, ol, wl) = (d.in_len() * b, d.out_len() * b, co * d.k());
                    for r in 0..reps {
                        let xr = &x[r * il..(r + 1) * il];
                        let wr = &wt[r * wl..(r + 1) * wl];
                        let yr = per_call::forward(&d, xr, wr, &bias[r * co..(r + 1) * co]);
                        assert_eq!(bits(&yr), bits(&y[r * ol..(r + 1) * ol]), "y, replica {r}");
                        let dyr = &dy[r * ol..(r + 1) * ol];
                        let (dxr, dwr, dbr) = per_call::backward(&d, xr, wr, &yr, dyr, true);
                        let what = format!("replica {r}, {threads} threads, batch {b}");
                        assert_eq!(
                            bits(&dxr.unwrap()),
                            bits(&dx[r * il..(r + 1) * il]),
                            "dx {what}"
                        );
                        assert_eq!(bits(&dwr), bits(&dw[r * wl..(r + 1) * wl]), "dw {what}");
                        assert_eq!(bits(&dbr), bits(&db[r * co..(r + 1) * co]), "db {what}");
                    }
                });
            }
        }
    }

    #[test]
    fn batched_engine_matches_per_call_engine_f32() {
        batched_matches_per_call::<f32>();
    }

    #[test]
    fn batched_engine_matches_per_call_engine_f64() {
        batched_matches_per_call::<f64>();
    }

    /// The emulated reduction tree is the one rayon builds for `with_min_len(⌈b / t⌉)`.
    #[test]
    fn sum_tree_shapes() {
        let leaves = |b, t| {
            let mut v = Vec::new();
            SumTree::new(b, t).leaves(&mut v);
            v
        };
        assert_eq!(leaves(4, 2), vec![(0, 2), (2, 4)]);
        assert_eq!(leaves(5, 2), vec![(0, 5)]);
        assert_eq!(leaves(4, 1), vec![(0, 4)]);
        assert_eq!(leaves(128, 2), vec![(0, 64), (64, 128)]);
        assert_eq!(leaves(4, 4), vec![(0, 1), (1, 2), (2, 3), (3, 4)]);
        assert_eq!(leaves(0, 2), vec![(0, 0)]);
    }

    /// The per-call engine of earlier versions (one call per replica, images split by rayon's
    /// `with_min_len(min_len(batch))`), kept verbatim as the reference that the batched engine
    /// must reproduce bit for bit.
    pub(super) mod per_call {
        use super::super::*;

        pub(super) fn forward<T: Elem>(d: &Dims, x: &[T], wt: &[T], bias: &[T]) -> Vec<T> {
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
        pub(super) fn backward<T: Elem>(
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
                        let dxi = unsafe {
                            std::slice::from_raw_parts_mut(p.0.add(bi * d.in_len()), d.in_len())
                        };
                        col2im_general(d, &a.dcols, dxi);
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
    }
}
