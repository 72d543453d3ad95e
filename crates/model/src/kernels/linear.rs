//! `y = x · wᵀ` for small minibatches (the fully connected layers at the paper's batch 4), as a
//! candle custom op on the CPU, with an optional leading replica axis.
//!
//! candle's matmul hands the product to `gemm`, which packs the whole weight (`[250, 1024]` for
//! `fcs.0`) on every call: at batch 4 that packing cost more than the arithmetic (~23% of a
//! training step in `perf`). Here each output is a dot product of an input row with a weight
//! row, read in place: forward `y[b, o] = x[b, :] · w[o, :]`; backward
//! `dx[b, :] = Σ_o dy[b, o] · w[o, :]` and `dw[o, :] = Σ_b dy[b, o] · x[b, :]`, each streaming
//! the weight once. With a replica axis (`x` `[K, B, I]`, `w` `[K, O, I]`) every replica uses
//! its own weight. Larger batches keep candle's matmul, where packing pays off.
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::{contiguous_slice, kernel_dtype_ok, with_cpu_slice, Elem};
use crate::error::{ModelError, Result};

/// Largest number of rows (per replica) the kernel takes; larger batches use candle's matmul.
pub const MAX_ROWS: usize = 32;

/// Multiply-adds below which one thread does the whole op.
const PAR_MIN: usize = 1 << 16;

/// `x · wᵀ`: `x` `[B, I]` with `w` `[O, I]` gives `[B, O]`; `x` `[K, B, I]` with `w`
/// `[K, O, I]` gives `[K, B, O]` (replica `k` uses `w[k]`). On the CPU (f32, f64) with at most
/// [`MAX_ROWS`] rows per replica this is the dot-product kernel with its own backward pass;
/// otherwise candle's `matmul`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use neurogen_model::kernels::linear;
/// let x = Tensor::randn(0f32, 1.0, (4, 16), &Device::Cpu)?;
/// let w = Tensor::randn(0f32, 1.0, (3, 16), &Device::Cpu)?;
/// assert_eq!(linear(&x, &w)?.dims(), &[4, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn linear(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    let (xd, wd) = (x.dims(), w.dims());
    let fits = match (xd.len(), wd.len()) {
        (2, 2) => xd[1] == wd[1],
        (3, 3) => xd[0] == wd[0] && xd[2] == wd[2],
        _ => false,
    };
    if !fits {
        return Err(ModelError::Config(format!(
            "linear layer shapes do not fit: input {xd:?}, weight {wd:?} (expected [B, I] with [O, I], or [K, B, I] with [K, O, I])"
        )));
    }
    let rows = xd[xd.len() - 2];
    if rows <= MAX_ROWS
        && x.dtype() == w.dtype()
        && kernel_dtype_ok(x)
        && w.device().same_device(x.device())
    {
        return Ok(x.contiguous()?.apply_op2(&w.contiguous()?, Linear)?);
    }
    Ok(x.matmul(&w.t()?)?)
}

/// The custom op (CPU only: [`linear`] never hands it other tensors).
struct Linear;

/// Sizes: `k` replicas, `b` rows, `i` inputs, `o` outputs.
#[derive(Clone, Copy)]
struct Dims {
    k: usize,
    b: usize,
    i: usize,
    o: usize,
}

impl Dims {
    fn new(x: &[usize], w: &[usize]) -> Self {
        let (k, b, i) = if x.len() == 3 {
            (x[0], x[1], x[2])
        } else {
            (1, x[0], x[1])
        };
        Dims {
            k,
            b,
            i,
            o: w[w.len() - 2],
        }
    }

    fn out_shape(&self, rank: usize) -> Shape {
        if rank == 3 {
            Shape::from((self.k, self.b, self.o))
        } else {
            Shape::from((self.b, self.o))
        }
    }

    fn work(&self) -> usize {
        self.k * self.b * self.i * self.o
    }
}

/// `Σ a[j]·b[j]` with 16 independent partial sums (so the compiler can vectorise it).
fn dot<T: Elem>(a: &[T], b: &[T]) -> T {
    const L: usize = 16;
    let mut acc = [T::ZERO; L];
    let n = a.len() / L * L;
    for (ca, cb) in a[..n].chunks_exact(L).zip(b[..n].chunks_exact(L)) {
        for j in 0..L {
            acc[j] += ca[j] * cb[j];
        }
    }
    let mut s = T::ZERO;
    for v in acc {
        s += v;
    }
    for j in n..a.len() {
        s += a[j] * b[j];
    }
    s
}

/// `y += a·x`.
fn axpy<T: Elem>(y: &mut [T], a: T, x: &[T]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// Runs `f(row_index, row)` over the rows of `out` (each `len` long), in parallel when the
/// op is large enough.
fn for_rows<T: Elem>(
    out: &mut [T],
    len: usize,
    parallel: bool,
    f: impl Fn(usize, &mut [T]) + Send + Sync,
) {
    if parallel {
        out.par_chunks_mut(len)
            .enumerate()
            .with_min_len(8)
            .for_each(|(r, row)| f(r, row));
    } else {
        out.chunks_mut(len)
            .enumerate()
            .for_each(|(r, row)| f(r, row));
    }
}

/// A new buffer of `n` elements whose rows of `len` (`n` a multiple of `len`) each start as
/// zeros and are then passed to `f` (like [`for_rows`] on `vec![0; n]`), zeroed by the worker
/// that fills the row instead of by one thread up front.
fn zeroed_rows<T: Elem>(
    n: usize,
    len: usize,
    parallel: bool,
    f: impl Fn(usize, &mut [T]) + Send + Sync,
) -> Vec<T> {
    if len == 0 || n % len != 0 {
        // No rows (an empty layer) or a ragged end: plain zeros, then the rows.
        let mut out = vec![T::ZERO; n];
        for_rows(&mut out, len.max(1), parallel, f);
        return out;
    }
    let mut out: Vec<T> = Vec::with_capacity(n);
    let run = |r: usize, row: &mut [std::mem::MaybeUninit<T>]| {
        for v in row.iter_mut() {
            v.write(T::ZERO);
        }
        // SAFETY: every element of the row was written just above.
        let row =
            unsafe { std::slice::from_raw_parts_mut(row.as_mut_ptr().cast::<T>(), row.len()) };
        f(r, row);
    };
    let spare = &mut out.spare_capacity_mut()[..n];
    if parallel {
        spare
            .par_chunks_mut(len)
            .enumerate()
            .with_min_len(8)
            .for_each(|(r, row)| run(r, row));
    } else {
        spare
            .chunks_mut(len)
            .enumerate()
            .for_each(|(r, row)| run(r, row));
    }
    // SAFETY: all `n` elements were initialised (every row above; `n` is a multiple of `len`).
    unsafe { out.set_len(n) };
    out
}

fn forward<T: Elem>(d: Dims, x: &[T], w: &[T]) -> Vec<T> {
    // yᵀ per replica ([k][o][b]): each weight row is read once, for all b rows of x.
    let mut yt = vec![T::ZERO; d.k * d.o * d.b];
    for_rows(&mut yt, d.b, d.work() >= PAR_MIN, |row, out| {
        let kk = row / d.o;
        let wr = &w[row * d.i..(row + 1) * d.i];
        for (bb, v) in out.iter_mut().enumerate() {
            let xr = (kk * d.b + bb) * d.i;
            *v = dot(&x[xr..xr + d.i], wr);
        }
    });
    let mut y = vec![T::ZERO; d.k * d.b * d.o];
    for kk in 0..d.k {
        for oo in 0..d.o {
            for bb in 0..d.b {
                y[(kk * d.b + bb) * d.o + oo] = yt[(kk * d.o + oo) * d.b + bb];
            }
        }
    }
    y
}

/// `(dx, dw)`; `dx` only when `need_dx`.
fn backward<T: Elem>(
    d: Dims,
    x: &[T],
    w: &[T],
    dy: &[T],
    need_dx: bool,
) -> (Option<Vec<T>>, Vec<T>) {
    let par = d.work() >= PAR_MIN;
    // dw[k][o][:] = Σ_b dy[k][b][o] · x[k][b][:]
    let dw = zeroed_rows(d.k * d.o * d.i, d.i, par, |row, out| {
        let (kk, oo) = (row / d.o, row % d.o);
        for bb in 0..d.b {
            let g = dy[(kk * d.b + bb) * d.o + oo];
            let xr = (kk * d.b + bb) * d.i;
            axpy(out, g, &x[xr..xr + d.i]);
        }
    });
    let dx = need_dx.then(|| {
        // dx[k][b][:] = Σ_o dy[k][b][o] · w[k][o][:]
        zeroed_rows(d.k * d.b * d.i, d.i, par, |row, out| {
            let kk = row / d.b;
            for oo in 0..d.o {
                let g = dy[row * d.o + oo];
                let wr = (kk * d.o + oo) * d.i;
                axpy(out, g, &w[wr..wr + d.i]);
            }
        })
    });
    (dx, dw)
}

fn cpu_forward<T: Elem>(
    (s1, l1): (&CpuStorage, &Layout),
    (s2, l2): (&CpuStorage, &Layout),
) -> candle_core::Result<(CpuStorage, Shape)> {
    let d = Dims::new(l1.dims(), l2.dims());
    let x = contiguous_slice::<T>(s1, l1, "linear input")?;
    let w = contiguous_slice::<T>(s2, l2, "linear weight")?;
    Ok((T::storage(forward(d, x, w)), d.out_shape(l1.dims().len())))
}

fn cpu_backward<T: Elem + candle_core::WithDType>(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
    let d = Dims::new(x.dims(), w.dims());
    let need_dx = x.track_op();
    let (dx, dw) = with_cpu_slice::<T, _>(x, "linear input", |xs| {
        with_cpu_slice::<T, _>(w, "linear weight", |ws| {
            with_cpu_slice::<T, _>(dy, "linear output gradient", |gs| {
                Ok(backward(d, xs, ws, gs, need_dx))
            })
        })
    })?;
    let dev = x.device();
    let dx = match dx {
        Some(v) => Some(Tensor::from_vec(v, x.shape(), dev)?),
        None => None,
    };
    Ok((dx, Some(Tensor::from_vec(dw, w.shape(), dev)?)))
}

impl CustomOp2 for Linear {
    fn name(&self) -> &'static str {
        "neurogen-linear"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        match s1 {
            CpuStorage::F32(_) => cpu_forward::<f32>((s1, l1), (s2, l2)),
            CpuStorage::F64(_) => cpu_forward::<f64>((s1, l1), (s2, l2)),
            s => candle_core::bail!("{}: unsupported dtype {:?}", self.name(), s.dtype()),
        }
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _y: &Tensor,
        dy: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        match x.dtype() {
            candle_core::DType::F32 => cpu_backward::<f32>(x, w, dy),
            candle_core::DType::F64 => cpu_backward::<f64>(x, w, dy),
            dt => candle_core::bail!("{}: unsupported dtype {dt:?}", self.name()),
        }
    }
}
