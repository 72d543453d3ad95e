//! Fast CPU (and CUDA) kernels for the paper's CNN, as candle custom ops so that autograd keeps
//! working.
//!
//! The network's rule is unchanged: every convolution is
//! `relu(conv2d(x, w, stride 1, padding 1) + b)` and every second one is followed by a 2x2 max-pool with stride 2 (floor mode), and
//! the optimiser is Adam with PyTorch's semantics (see [`crate::adam`]). On the CPU, candle 0.11
//! computes the convolution's backward pass with a direct `conv_transpose2d` loop and a second
//! convolution, and runs Adam as a dozen separate tensor ops per parameter; together these
//! dominate a training step. This module replaces them, on the CPU only, with the following.
//!
//! - [`conv2d_bias_relu`]: convolution (im2col + the `gemm` crate), bias and ReLU fused in one
//!   [`candle_core::CustomOp3`], whose backward pass computes the weight, bias and input
//!   gradients with two gemms per image (images in parallel with rayon), and
//!   [`conv2d_bias_relu_replicas`], the same op for K replicas in one call (all replicas'
//!   images in one parallel loop; each replica bit for bit its own call);
//! - [`max_pool2x2`]: the 2x2 max-pool as a [`candle_core::CustomOp1`] with the same gradient
//!   rule as [`reference_max_pool2x2`] (every tied maximum receives the gradient);
//! - [`linear`]: `x · wᵀ` for at most [`LINEAR_MAX_ROWS`] rows (per replica) as dot products
//!   of rows read in place, with its own backward pass (candle's matmul packed the whole weight
//!   on every call, which dominated the fully connected layers at batch 4);
//! - [`relu`]: `max(x, 0)` that keeps NaN (candle's `relu` maps NaN to 0, which would hide a
//!   diverging layer from the divergence checks), on every device and whether or not the
//!   kernels are enabled; every ReLU of the network and the replicas goes through it;
//! - [`adam_update`]: one fused pass over contiguous f32 buffers that updates a parameter in
//!   place and returns its new moments, with the same f32 arithmetic as the tensor version.
//!
//! - [`im2col`] / [`col2im`]: the column matrices of a stride-1 convolution of replica-batched
//!   activations `[K, C, N, H, W]` and their adjoint, each the other's gradient (used by the
//!   replica and GPU convolution [`conv_bias_relu_cnhw`]).
//!
//! With the `cuda` feature, [`im2col`], [`col2im`], [`max_pool2x2`] and [`adam_update`] also run
//! as CUDA kernels on f32 GPU tensors (`src/kernels/cuda/neurogen.cu`, compiled to PTX by
//! build.rs with `--fmad=false`, equal to the CPU code bit for bit; `tests/cuda.rs`).
//!
//! The module graph has no cycle: `params` (Adam's scalars, the im2col geometry) is a leaf,
//! the CUDA launchers use only it, and the ops use the launchers. The process-wide switches
//! (kernels on or off, candle's thread pool, the allocator, candle's CUDA parameter cache) are
//! not ops: they live in [`crate::runtime`].
//!
//! On Metal, and for layouts the kernels do not cover, the functions fall back to candle's own
//! ops, so results never depend on whether a kernel ran (up to float rounding).
//! `tests/kernels.rs` checks forward values and gradients against candle's `conv2d`, the
//! reference max-pool and finite differences.
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, Layout, Storage, Tensor};

mod adam;
mod conv;
#[cfg(feature = "cuda")]
mod cuda;
mod im2col;
mod linear;
mod params;
mod pool;
mod relu;
mod replica_conv;

pub use adam::adam_update;
pub use conv::{conv2d_bias_relu, conv2d_bias_relu_replicas};
pub use im2col::{col2im, im2col};
pub use linear::{linear, MAX_ROWS as LINEAR_MAX_ROWS};
pub use params::AdamCoefficients;
pub use pool::{max_pool2x2, reference_max_pool2x2};
pub use relu::relu;
pub use replica_conv::{conv_bias_relu_cnhw, features_cnhw};

/// Float types the kernels are written for (f32 for training, f64 for gradient checks).
pub(crate) trait Elem:
    Copy
    + Send
    + Sync
    + 'static
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::AddAssign
{
    const ZERO: Self;
    const ONE: Self;
    /// The storage's data if it holds this type.
    fn slice(s: &CpuStorage) -> Option<&[Self]>;
    /// Wraps a buffer as candle storage.
    fn storage(v: Vec<Self>) -> CpuStorage;
}

impl Elem for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn slice(s: &CpuStorage) -> Option<&[Self]> {
        match s {
            CpuStorage::F32(v) => Some(v),
            _ => None,
        }
    }
    fn storage(v: Vec<Self>) -> CpuStorage {
        CpuStorage::F32(v)
    }
}

impl Elem for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn slice(s: &CpuStorage) -> Option<&[Self]> {
        match s {
            CpuStorage::F64(v) => Some(v),
            _ => None,
        }
    }
    fn storage(v: Vec<Self>) -> CpuStorage {
        CpuStorage::F64(v)
    }
}

/// The contiguous data of a CPU storage under `layout`, or an error naming `what`.
pub(crate) fn contiguous_slice<'a, T: Elem>(
    s: &'a CpuStorage,
    layout: &Layout,
    what: &str,
) -> candle_core::Result<&'a [T]> {
    let data = T::slice(s).ok_or_else(|| {
        candle_core::Error::Msg(format!("{what}: unexpected dtype {:?}", s.dtype()))
    })?;
    match layout.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => Err(candle_core::Error::Msg(format!(
            "{what}: the kernel needs a contiguous tensor, got strides {:?}",
            layout.stride()
        ))),
    }
}

/// Runs `f` on the contiguous CPU data of `t` (made contiguous first if needed).
pub(crate) fn with_cpu_slice<T: Elem, R>(
    t: &Tensor,
    what: &str,
    f: impl FnOnce(&[T]) -> candle_core::Result<R>,
) -> candle_core::Result<R> {
    let t = if t.is_contiguous() {
        t.clone()
    } else {
        t.contiguous()?
    };
    let (s, l) = t.storage_and_layout();
    match &*s {
        Storage::Cpu(cs) => f(contiguous_slice(cs, l, what)?),
        _ => Err(candle_core::Error::Msg(format!(
            "{what}: the kernel runs on the CPU only"
        ))),
    }
}

/// Whether the CUDA kernels apply to `t` (an f32 CUDA tensor, kernels on, built with `cuda`).
pub(crate) fn gpu_kernel_ok(t: &Tensor) -> bool {
    cfg!(feature = "cuda")
        && crate::runtime::enabled()
        && t.device().is_cuda()
        && t.dtype() == candle_core::DType::F32
}

/// Whether the CPU kernels apply to tensors of this device and dtype.
pub(crate) fn kernel_dtype_ok(t: &Tensor) -> bool {
    crate::runtime::enabled()
        && t.device().is_cpu()
        && matches!(t.dtype(), candle_core::DType::F32 | candle_core::DType::F64)
}

/// An error unless a `kh x kw` kernel (neither side 0) with zero padding `pad` fits an
/// `h x w` input.
pub(crate) fn check_kernel_fits(
    (h, w): (usize, usize),
    (kh, kw): (usize, usize),
    pad: usize,
) -> crate::error::Result<()> {
    if h + 2 * pad < kh || w + 2 * pad < kw || kh == 0 || kw == 0 {
        return Err(crate::error::ModelError::Config(format!(
            "a {kh}x{kw} kernel with padding {pad} does not fit a {h}x{w} input"
        )));
    }
    Ok(())
}

/// An error naming the operands of a convolution (`what`, e.g. `replica convolution`; the
/// input's axes `layout`, e.g. ` ([K, C, N, H, W])`) unless their shapes `fit` (channels,
/// replicas and bias agree).
pub(crate) fn check_conv_operands(
    fit: bool,
    what: &str,
    layout: &str,
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
) -> crate::error::Result<()> {
    if fit {
        return Ok(());
    }
    Err(crate::error::ModelError::Config(format!(
        "{what} shapes do not fit: input {:?}{layout}, weight {:?}, bias {:?}",
        x.dims(),
        weight.dims(),
        bias.dims()
    )))
}
