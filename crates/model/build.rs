//! With the `cuda` feature, compiles `src/kernels/cuda/neurogen.cu` to PTX with nvcc (found on
//! PATH, or at $NVCC, or under $CUDA_ROOT/bin); the crate embeds it and the driver compiles it
//! for the GPU at run time. The PTX targets compute capability $CUDA_COMPUTE_CAP (default 70, so
//! it runs on Volta and every later GPU). Without the feature this script does nothing.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/kernels/cuda/neurogen.cu");
    println!("cargo:rerun-if-env-changed=NVCC");
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let nvcc = std::env::var_os("NVCC")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CUDA_ROOT")
                .map(|r| PathBuf::from(r).join("bin/nvcc"))
                .filter(|p| p.exists())
        })
        .unwrap_or_else(|| PathBuf::from("nvcc"));
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "70".into());
    let cap: String = cap.chars().filter(char::is_ascii_digit).collect();
    let ptx = out.join("neurogen.ptx");
    let status = Command::new(&nvcc)
        .args(["--ptx", "-O3", "--fmad=false", "-std=c++17"])
        .arg(format!("--gpu-architecture=compute_{cap}"))
        .arg("-o")
        .arg(&ptx)
        .arg("src/kernels/cuda/neurogen.cu")
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("nvcc ({}) failed with {s} compiling src/kernels/cuda/neurogen.cu", nvcc.display()),
        Err(e) => panic!(
            "the `cuda` feature needs nvcc to compile neurogen's kernels, but running {} failed: {e}; \
             put nvcc on PATH or set NVCC (see docs/cuda.md)",
            nvcc.display()
        ),
    }
}
