//! The CIFAR-10 binary-release batch reader on arbitrary bytes: an error or a split, never a
//! panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(split) = neurogen_data::cifar_binary::parse(data, "fuzz/data_batch_1.bin".as_ref()) {
        assert_eq!(split.len() * 3073, data.len());
    }
});
