//! The Hugging Face parquet reader on arbitrary bytes: the rows of one file, and a dataset with
//! the input as both training and test file (image decoding, label range, kind detection).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name = std::path::Path::new("fuzz/train-00000-of-00001.parquet");
    if neurogen_data::memory::parquet_rows(data, name).is_ok() {
        let _ = neurogen_data::memory::parquet_dataset(data, data, name);
    }
});
