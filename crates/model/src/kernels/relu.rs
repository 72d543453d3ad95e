//! A ReLU that keeps NaN, so that a diverging network is still detected.
//!
//! candle's `relu` is `max(x, 0)`, which maps NaN to 0 on the CPU (`f32::max`) and on CUDA
//! (`fmaxf`): a layer whose pre-activations went NaN would pass on zeros and the divergence
//! would stay hidden. [`relu`] returns NaN for NaN and, for every other input, exactly what
//! candle's `relu` returns (the same `max(x, 0)`), with candle's gradient rule
//! (`grad · [x >= 0]`), so training results are bit-identical to candle's `relu` whenever no
//! NaN occurs.
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::contiguous_slice;
use crate::error::Result;

/// Elements per rayon task (smaller tensors are done on the calling thread).
const CHUNK: usize = 1 << 15;

/// `max(x, 0)` elementwise, NaN kept as NaN (candle's `relu` turns it into 0).
///
/// On the CPU (f32, f64) this is a custom op; on other devices and dtypes it is
/// `where(x < 0, 0, x)` from candle ops, which also keeps NaN. Autograd works in both.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let x = Tensor::new(&[-1f32, 0.0, 2.5, f32::NAN], &Device::Cpu)?;
/// let y: Vec<f32> = neurogen_model::kernels::relu(&x)?.to_vec1()?;
/// assert_eq!(&y[..3], &[0.0, 0.0, 2.5]);
/// assert!(y[3].is_nan());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn relu(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && matches!(x.dtype(), DType::F32 | DType::F64) {
        let x = x.contiguous()?;
        return Ok(x.apply_op1(Relu)?);
    }
    Ok(x.lt(0.0)?.where_cond(&x.zeros_like()?, x)?)
}

struct Relu;

fn forward<T: Copy + Send + Sync>(x: &[T], f: impl Fn(T) -> T + Sync) -> Vec<T> {
    if x.len() < 2 * CHUNK {
        return x.iter().map(|&v| f(v)).collect();
    }
    let mut out = x.to_vec();
    out.par_chunks_mut(CHUNK)
        .for_each(|c| c.iter_mut().for_each(|v| *v = f(*v)));
    out
}

impl CustomOp1 for Relu {
    fn name(&self) -> &'static str {
        "neurogen-relu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let shape = l.shape().clone();
        match s {
            CpuStorage::F32(_) => {
                let x = contiguous_slice::<f32>(s, l, "relu input")?;
                let y = forward(x, |v| if v.is_nan() { v } else { v.max(0.0) });
                Ok((CpuStorage::F32(y), shape))
            }
            CpuStorage::F64(_) => {
                let x = contiguous_slice::<f64>(s, l, "relu input")?;
                let y = forward(x, |v| if v.is_nan() { v } else { v.max(0.0) });
                Ok((CpuStorage::F64(y), shape))
            }
            s => candle_core::bail!("{}: unsupported dtype {:?}", self.name(), s.dtype()),
        }
    }

    fn bwd(&self, x: &Tensor, _y: &Tensor, dy: &Tensor) -> candle_core::Result<Option<Tensor>> {
        // candle's own rule for `relu` (backprop.rs), so gradients match it bit for bit.
        let mask = x.ge(&x.zeros_like()?)?.to_dtype(x.dtype())?;
        Ok(Some((dy * mask)?))
    }
}
