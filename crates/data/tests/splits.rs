//! The paper's seeded validation split, seeded minibatch order and normalised candle batches.
mod common;

use candle_core::Device;
use common::*;
use neurogen_data::{epoch_batches, load, LoadOptions};

#[test]
fn validation_split_is_seeded_disjoint_and_complete() {
    let d = tmp();
    write_cifar_binary(d.path(), 10); // 50 train images, each image unique
    let ds = load(d.path(), &LoadOptions::no_cache()).unwrap().dataset;
    let (train, val) = ds.train_val_split(5, 3).unwrap();
    assert_eq!((train.len(), val.len()), (45, 5));
    let (t2, v2) = ds.train_val_split(5, 3).unwrap();
    assert_eq!((&train, &val), (&t2, &v2));
    let (_, v3) = ds.train_val_split(5, 4).unwrap();
    assert_ne!(val, v3);
    let mut seen: Vec<&[u8]> = (0..45).map(|i| train.image(i)).collect();
    seen.extend((0..5).map(|i| val.image(i)));
    seen.sort();
    let mut all: Vec<&[u8]> = (0..50).map(|i| ds.train.image(i)).collect();
    all.sort();
    assert_eq!(seen, all);
    assert!(ds.train_val_split(0, 1).is_err());
    assert!(ds.train_val_split(50, 1).is_err());
}

#[test]
fn batches_are_normalised_tensors() {
    let d = tmp();
    write_cifar_binary(d.path(), 2);
    let ds = load(d.path(), &LoadOptions::no_cache()).unwrap().dataset;
    let (x, y) = ds.train.batch(&[3, 0], &Device::Cpu).unwrap();
    assert_eq!(x.dims(), &[2, 3, 32, 32]);
    assert_eq!(x.dtype(), candle_core::DType::F32);
    assert_eq!(y.dtype(), candle_core::DType::U32);
    assert_eq!(y.to_vec1::<u32>().unwrap(), vec![3, 0]);
    let v: Vec<f32> = x.flatten_all().unwrap().to_vec1().unwrap();
    let raw = ds.train.image(3);
    for k in [0, 1, 1024, 3071] {
        let want = (raw[k] as f32 / 255.0 - 0.5) / 0.5;
        assert!((v[k] - want).abs() < 1e-6);
    }
    assert!(v.iter().all(|&a| (-1.0..=1.0).contains(&a)));
    let e = ds.train.batch(&[10], &Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("out of range"), "{e}");
}

#[test]
fn epoch_batches_reproducible_and_cover_every_index() {
    let a = epoch_batches(45_000, 128, 1, 0);
    assert_eq!(a.len(), 352);
    assert_eq!(a.last().unwrap().len(), 45_000 - 351 * 128);
    assert_eq!(a, epoch_batches(45_000, 128, 1, 0));
    assert_ne!(a, epoch_batches(45_000, 128, 1, 1));
    let mut all: Vec<usize> = a.into_iter().flatten().collect();
    all.sort_unstable();
    assert!(all.iter().enumerate().all(|(i, &v)| i == v));
}
