//! Launchers of the CUDA kernels in `src/kernels/cuda/neurogen.cu` (feature `cuda`).
//!
//! build.rs compiles the file to PTX with nvcc (`--fmad=false`); it is embedded here and loaded
//! once per device as a candle custom module. Every kernel takes contiguous f32 buffers and
//! computes what the CPU code of the same op computes, in the same order.
use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{CudaSlice, CudaView, LaunchConfig, PushKernelArg};
use candle_core::cuda_backend::{CudaDevice, CudaStorageSlice, WrapErr};
use candle_core::op::BackpropOp;
use candle_core::{CudaStorage, InplaceOp1, Layout, Storage, Tensor};

use super::params::{AdamCoefficients, Geometry};

/// The PTX of `neurogen.cu`.
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/neurogen.ptx"));
/// The module's name in candle's per-device cache.
const MODULE: &str = "neurogen";

/// A grid-stride launch of 256-thread blocks over `n` elements.
fn launch_config(n: usize) -> LaunchConfig {
    let blocks = n.div_ceil(256).clamp(1, 65_535 * 16);
    LaunchConfig {
        grid_dim: (blocks as u32, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    }
}

fn to_i32(v: usize, what: &str) -> candle_core::Result<i32> {
    i32::try_from(v).map_err(|_| candle_core::Error::Msg(format!("{what} = {v} is too large")))
}

/// The f32 data of a contiguous storage, from its layout's offset.
fn input<'a>(s: &'a CudaStorage, l: &Layout, what: &str) -> candle_core::Result<CudaView<'a, f32>> {
    let (a, b) = l.contiguous_offsets().ok_or_else(|| {
        candle_core::Error::Msg(format!("{what}: the CUDA kernel needs a contiguous tensor"))
    })?;
    match &s.slice {
        CudaStorageSlice::F32(v) => Ok(v.slice(a..b)),
        _ => candle_core::bail!("{what}: the CUDA kernel takes f32, got {:?}", s.dtype()),
    }
}

/// im2col (or, with `adjoint`, col2im) of `g` on the GPU.
pub(crate) fn im2col(
    s: &CudaStorage,
    l: &Layout,
    g: &Geometry,
    adjoint: bool,
) -> candle_core::Result<CudaStorage> {
    let dev = s.device();
    let src = input(s, l, if adjoint { "col2im" } else { "im2col" })?;
    let n_out = if adjoint {
        g.x_shape().elem_count()
    } else {
        g.cols_shape().elem_count()
    };
    let name = if adjoint {
        "ng_col2im_f32"
    } else {
        "ng_im2col_f32"
    };
    let func = dev.get_or_load_custom_func(name, MODULE, PTX)?;
    // SAFETY: every element is written by the kernel.
    let out = unsafe { dev.alloc::<f32>(n_out)? };
    let dims = [
        to_i32(g.k, "replicas")?,
        to_i32(g.c, "channels")?,
        to_i32(g.n, "images")?,
        to_i32(g.h, "height")?,
        to_i32(g.w, "width")?,
        to_i32(g.kh, "kernel height")?,
        to_i32(g.kw, "kernel width")?,
        to_i32(g.pad, "padding")?,
        to_i32(g.ho(), "output height")?,
        to_i32(g.wo(), "output width")?,
    ];
    let mut b = func.builder();
    b.arg(&src);
    b.arg(&out);
    for d in &dims {
        b.arg(d);
    }
    // SAFETY: the buffers have the sizes the kernel indexes (checked shapes above).
    unsafe { b.launch(launch_config(n_out)) }.w()?;
    Ok(CudaStorage::wrap_cuda_slice(out, dev.clone()))
}

/// 2x2 max-pool with stride 2 of contiguous `[B, C, H, W]` f32.
pub(crate) fn max_pool2x2(s: &CudaStorage, l: &Layout) -> candle_core::Result<CudaStorage> {
    let dev = s.device();
    let src = input(s, l, "max-pool")?;
    let d = l.dims();
    let (planes, h, w) = (d[0] * d[1], d[2], d[3]);
    let n_out = planes * (h / 2) * (w / 2);
    let func = dev.get_or_load_custom_func("ng_max_pool2x2_f32", MODULE, PTX)?;
    // SAFETY: every element is written by the kernel.
    let out = unsafe { dev.alloc::<f32>(n_out)? };
    let (h, w) = (to_i32(h, "height")?, to_i32(w, "width")?);
    let mut b = func.builder();
    b.arg(&src);
    b.arg(&out);
    b.arg(&planes);
    b.arg(&h);
    b.arg(&w);
    // SAFETY: sizes as the kernel indexes them.
    unsafe { b.launch(launch_config(n_out)) }.w()?;
    Ok(CudaStorage::wrap_cuda_slice(out, dev.clone()))
}

/// Gradient of [`max_pool2x2`]: `x` `[B, C, H, W]`, `y` and `dy` `[B, C, H/2, W/2]`.
pub(crate) fn max_pool2x2_backward(
    x: (&CudaStorage, &Layout),
    y: (&CudaStorage, &Layout),
    dy: (&CudaStorage, &Layout),
) -> candle_core::Result<CudaStorage> {
    let dev = x.0.device();
    let xs = input(x.0, x.1, "max-pool input")?;
    let ys = input(y.0, y.1, "max-pool output")?;
    let gs = input(dy.0, dy.1, "max-pool gradient")?;
    let d = x.1.dims();
    let (planes, h, w) = (d[0] * d[1], d[2], d[3]);
    let n_out = planes * h * w;
    let func = dev.get_or_load_custom_func("ng_max_pool2x2_bwd_f32", MODULE, PTX)?;
    // SAFETY: every element is written by the kernel.
    let out = unsafe { dev.alloc::<f32>(n_out)? };
    let (h, w) = (to_i32(h, "height")?, to_i32(w, "width")?);
    let mut b = func.builder();
    b.arg(&xs);
    b.arg(&ys);
    b.arg(&gs);
    b.arg(&out);
    b.arg(&planes);
    b.arg(&h);
    b.arg(&w);
    // SAFETY: sizes as the kernel indexes them.
    unsafe { b.launch(launch_config(n_out)) }.w()?;
    Ok(CudaStorage::wrap_cuda_slice(out, dev.clone()))
}

/// The device and the new first and second moments written by the Adam kernel.
type Moments = (CudaDevice, CudaSlice<f32>, CudaSlice<f32>);

/// The in-place Adam op on the parameter (see [`adam_update`]).
struct Update<'a> {
    c: AdamCoefficients,
    g: CudaView<'a, f32>,
    m: CudaView<'a, f32>,
    v: CudaView<'a, f32>,
    out: std::sync::Mutex<Option<Moments>>,
}

impl InplaceOp1 for Update<'_> {
    fn name(&self) -> &'static str {
        "neurogen-adam-cuda"
    }

    fn cpu_fwd(&self, _: &mut candle_core::CpuStorage, _: &Layout) -> candle_core::Result<()> {
        candle_core::bail!("neurogen-adam-cuda runs on CUDA tensors only")
    }

    fn cuda_fwd(&self, s: &mut CudaStorage, l: &Layout) -> candle_core::Result<()> {
        let dev = s.device().clone();
        let (a, b_end) = l
            .contiguous_offsets()
            .ok_or_else(|| candle_core::Error::Msg("adam: parameter is not contiguous".into()))?;
        let n = b_end - a;
        if self.g.len() != n || self.m.len() != n || self.v.len() != n {
            candle_core::bail!("adam: parameter, gradient and state sizes differ");
        }
        let CudaStorageSlice::F32(p) = &mut s.slice else {
            candle_core::bail!("adam: parameter is not f32");
        };
        let mut p = p.slice_mut(a..b_end);
        // SAFETY: every element is written by the kernel.
        let mo = unsafe { dev.alloc::<f32>(n)? };
        let vo = unsafe { dev.alloc::<f32>(n)? };
        let func = dev.get_or_load_custom_func("ng_adam_f32", MODULE, PTX)?;
        let c = &self.c;
        let mut b = func.builder();
        b.arg(&n);
        b.arg(&mut p);
        b.arg(&self.g);
        b.arg(&self.m);
        b.arg(&self.v);
        b.arg(&mo);
        b.arg(&vo);
        for x in [
            &c.beta1,
            &c.one_minus_beta1,
            &c.beta2,
            &c.one_minus_beta2,
            &c.inv_bias_correction2_sqrt,
            &c.eps,
            &c.step_size,
            &c.weight_decay,
        ] {
            b.arg(x);
        }
        // SAFETY: all buffers hold n f32.
        unsafe { b.launch(launch_config(n)) }.w()?;
        drop(b);
        *self
            .out
            .lock()
            .map_err(|_| candle_core::Error::Msg("adam: poisoned output lock".into()))? =
            Some((dev, mo, vo));
        Ok(())
    }
}

/// Whether `t` is a contiguous f32 CUDA tensor.
pub(crate) fn is_cuda_f32(t: &Tensor) -> bool {
    t.device().is_cuda() && t.dtype() == candle_core::DType::F32 && t.is_contiguous()
}

/// One fused Adam step on the GPU (see [`super::adam_update`]); `None` when the tensors are not
/// all contiguous f32 CUDA tensors of one shape.
pub(crate) fn adam_update(
    param: &Tensor,
    grad: &Tensor,
    m: &Tensor,
    v: &Tensor,
    c: &AdamCoefficients,
) -> candle_core::Result<Option<(Tensor, Tensor)>> {
    if !(is_cuda_f32(param) && is_cuda_f32(grad) && is_cuda_f32(m) && is_cuda_f32(v)) {
        return Ok(None);
    }
    let shape = param.shape();
    if grad.shape() != shape || m.shape() != shape || v.shape() != shape {
        return Ok(None);
    }
    let out = {
        let (gs, gl) = grad.storage_and_layout();
        let (ms, ml) = m.storage_and_layout();
        let (vs, vl) = v.storage_and_layout();
        let (Storage::Cuda(gs), Storage::Cuda(ms), Storage::Cuda(vs)) = (&*gs, &*ms, &*vs) else {
            return Ok(None);
        };
        let op = Update {
            c: *c,
            g: input(gs, gl, "adam gradient")?,
            m: input(ms, ml, "adam first moment")?,
            v: input(vs, vl, "adam second moment")?,
            out: std::sync::Mutex::new(None),
        };
        param.inplace_op1(&op)?;
        let out = op
            .out
            .into_inner()
            .map_err(|_| candle_core::Error::Msg("adam: poisoned output lock".into()))?;
        out.ok_or_else(|| candle_core::Error::Msg("adam: the CUDA kernel did not run".into()))?
    };
    let (dev, mo, vo) = out;
    let wrap = |s| {
        Tensor::from_storage(
            Storage::Cuda(CudaStorage::wrap_cuda_slice(s, dev.clone())),
            shape.clone(),
            BackpropOp::none(),
            false,
        )
    };
    Ok(Some((wrap(mo), wrap(vo))))
}
