//! The checkpoint loader (`neurogen_model::checkpoint::load_bytes`) on arbitrary bytes:
//! safetensors parsing, the `neurogen` metadata JSON, model-config validation, tensor names,
//! shapes and dtypes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = neurogen_model::checkpoint::load_bytes(
        data,
        "fuzz/model.safetensors".as_ref(),
        &candle_core::Device::Cpu,
    );
});
