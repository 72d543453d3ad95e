//! Process-wide switches of the library, apart from the ops (`crate::kernels`): whether the
//! custom kernels run, candle's own CPU thread pool, glibc's allocator, and candle's cache of
//! CUDA kernel parameters. A binary sets them once at the start of `main` (`cargo xtask` and the
//! criterion benches do); a library user who leaves them alone gets the kernels on and the
//! process's defaults.
use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns the CPU kernels on (the default) or off for the whole process. Off, every op of
/// [`crate::kernels`] uses candle's own ops (and [`crate::Adam`] its tensor-op update), which is how
/// `cargo xtask bench throughput --reference-ops` measures plain candle.
pub fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Makes candle's own CPU worker pool single-threaded (`CANDLE_NUM_THREADS=1`) unless the
/// variable is already set, and returns the value in effect.
///
/// candle 0.11 runs large elementwise ops on a pool whose calling thread spin-waits for its
/// workers, while these kernels (like candle's matmul) use rayon. On a small machine the two
/// pools compete for the same cores: measured on 2 cores, training at batch 4 ran about 3x
/// faster with candle's pool off (see `docs/performance.md`). Call this at the very start of
/// `main`, before any thread is spawned or any tensor op has run (the pool is created on first
/// use, and changing the environment while other threads read it is not safe).
pub fn prefer_rayon_threads() -> String {
    const VAR: &str = "CANDLE_NUM_THREADS";
    match std::env::var(VAR) {
        Ok(v) => v,
        Err(_) => {
            std::env::set_var(VAR, "1");
            "1".into()
        }
    }
}

/// Makes glibc's allocator keep freed memory instead of returning it to the system (a no-op on
/// other platforms; calling it again does nothing).
///
/// This changes the whole process's allocator, so the library never does it on its own: a
/// binary that trains calls it first thing in `main`, next to [`prefer_rayon_threads`] (`cargo
/// xtask` and the criterion benches do).
///
/// A training step allocates and frees tens of megabytes of activations and gradients (at batch
/// 128). With glibc's defaults, blocks above the dynamic mmap threshold and the top of the heap
/// above the trim threshold go back to the kernel when freed, so every step page-faults the
/// same memory in again, and the kernel zeroes each page: measured at 15–20% of a batch-128
/// step (`perf`: `clear_page_erms`, `exc_page_fault`). With a fixed mmap threshold of 32 MiB
/// (glibc's largest) and no trimming, the memory is reused from step to step; the process keeps
/// its peak heap, which a training process reaches in its first step anyway.
pub fn tune_allocator() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only changes allocator parameters (it takes the arena lock itself).
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
            libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        }
    });
}

/// Whether the CPU kernels are on (see [`set_enabled`]).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// While the returned guard lives, candle caches the small host-to-device uploads it makes for
/// every strided CUDA op (each op's dims and strides), keyed by their contents, instead of
/// copying them again at every launch (`CudaDevice::enable_cuda_graph_htod_cache`). The set of
/// distinct shapes of a training step is small and fixed, so the cache stays small. Only code
/// that uploads no data of its own (the convolutional stack, the backward pass) runs under it:
/// a per-step mask of at most 4 KiB would be cached too. `None` off CUDA or with the kernels off.
pub fn cuda_param_cache(device: &candle_core::Device) -> Option<Box<dyn std::any::Any>> {
    #[cfg(feature = "cuda")]
    if let candle_core::Device::Cuda(d) = device {
        if enabled() {
            return Some(Box::new(d.enable_cuda_graph_htod_cache()));
        }
    }
    let _ = device;
    None
}
