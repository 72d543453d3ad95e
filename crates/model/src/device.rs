//! Choosing a compute device by name (`cpu`, `cuda`, `cuda:N`, `metal`).
use candle_core::Device;

use crate::error::{ModelError, Result};

/// Opens the device named `name`: `cpu`, `cuda` (= `cuda:0`), `cuda:N`, or `metal`.
///
/// A GPU device that this build was compiled without (cargo features `cuda`, `metal`) gives an
/// error that says how to enable it.
///
/// ```
/// let cpu = neurogen_model::parse_device("cpu")?;
/// assert!(cpu.is_cpu());
/// assert!(neurogen_model::parse_device("tpu").is_err());
/// # Ok::<(), neurogen_model::ModelError>(())
/// ```
pub fn parse_device(name: &str) -> Result<Device> {
    let lower = name.trim().to_ascii_lowercase();
    if lower == "cpu" {
        return Ok(Device::Cpu);
    }
    if let Some(rest) = lower.strip_prefix("cuda") {
        let ordinal = match rest.strip_prefix(':') {
            Some(n) => n.parse::<usize>().map_err(|_| {
                ModelError::Device(format!("bad CUDA device {name:?}: use cuda or cuda:N"))
            })?,
            None if rest.is_empty() => 0,
            None => {
                return Err(ModelError::Device(format!(
                    "unknown device {name:?}: use cpu, cuda, cuda:N or metal"
                )))
            }
        };
        if !candle_core::utils::cuda_is_available() {
            return Err(ModelError::Device(format!(
                "{name}: this build has no CUDA support; rebuild with `--features cuda` (see docs/cuda.md)"
            )));
        }
        return Device::new_cuda(ordinal).map_err(|e| ModelError::Device(format!("{name}: {e}")));
    }
    if lower == "metal" {
        if !candle_core::utils::metal_is_available() {
            return Err(ModelError::Device(format!(
                "{name}: this build has no Metal support; rebuild with `--features metal` on macOS"
            )));
        }
        return Device::new_metal(0).map_err(|e| ModelError::Device(format!("{name}: {e}")));
    }
    Err(ModelError::Device(format!(
        "unknown device {name:?}: use cpu, cuda, cuda:N or metal"
    )))
}

/// Opens the device named `name` as [`parse_device`] does and, on CUDA, switches off cudarc's
/// event tracking for the buffers made afterwards, unless the environment variable
/// `NEUROGEN_CUDA_EVENT_TRACKING` is set.
///
/// With tracking on (candle's default), every kernel launch records and waits on CUDA events
/// for each buffer it touches so that buffers can be shared between streams safely; a training
/// step of this small network launches a few hundred kernels, and at batch 4 this bookkeeping
/// is a visible part of the step. A program that uses the device's tensors from one thread
/// only runs all its work on that thread's stream, where the events order nothing.
///
/// # Safety
///
/// Every tensor of the returned device (and of any device opened later in the process on the
/// same GPU) must be created, used and dropped on the calling thread, so that all work is on
/// one CUDA stream. `cargo xtask` trains on its main thread and meets this.
pub unsafe fn parse_device_single_stream(name: &str) -> Result<Device> {
    let device = parse_device(name)?;
    #[cfg(feature = "cuda")]
    if let Device::Cuda(d) = &device {
        if std::env::var_os("NEUROGEN_CUDA_EVENT_TRACKING").is_none() {
            // SAFETY: the caller keeps all of this device's work on one thread (one stream).
            unsafe { d.disable_event_tracking() };
        }
    }
    Ok(device)
}

/// A short name of `device` for metadata and reports: `cpu`, `cuda:N` or `metal`.
pub fn device_name(device: &Device) -> String {
    match device.location() {
        candle_core::DeviceLocation::Cpu => "cpu".into(),
        candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
        candle_core::DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
    }
}
