//! A whole dataset from the bytes of a `.tar` / `.tar.gz` archive: the archive reader, format
//! detection, and whichever reader the members select (image folders with PNG/JPEG decoding,
//! binary release, IDX, parquet).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = neurogen_data::memory::archive_dataset(data, "fuzz/cifar10.tar.gz".as_ref());
});
