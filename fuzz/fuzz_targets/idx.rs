//! The IDX reader (plain and gzip) on arbitrary bytes: one file as 1-D and 3-D, and a whole
//! split from an image file and a label file: the first two bytes (big-endian) say where the
//! image file ends in the rest of the input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name = std::path::Path::new("fuzz/train-images-idx3-ubyte");
    let _ = neurogen_data::idx::parse(data, name, 1);
    let _ = neurogen_data::idx::parse(data, name, 3);
    if data.len() >= 2 {
        let (cut, rest) = data.split_at(2);
        let at = (u16::from_be_bytes([cut[0], cut[1]]) as usize).min(rest.len());
        let (images, labels) = rest.split_at(at);
        let _ = neurogen_data::idx::parse_split(
            images,
            name,
            labels,
            "fuzz/train-labels-idx1-ubyte".as_ref(),
        );
    }
});
