//! The real datasets: the full CIFAR-10 (`../shared/data/cifar10-jpeg.tar.gz`, decoded once per
//! run into a private cache, then served from it) and Fashion-MNIST from the
//! `dataset-fashion-mnist` package. Skipped, visibly, when absent.
use neurogen_data::{cifar10_archive, fashion_mnist_dir, load, DatasetKind, LoadOptions, Split};
use neurogen_testkit::data::or_skip;

/// Per-channel mean and standard deviation of pixel values scaled to [0, 1].
fn channel_stats(s: &Split) -> Vec<(f64, f64)> {
    let shape = s.shape();
    let plane = shape.height * shape.width;
    (0..shape.channels)
        .map(|c| {
            let (mut sum, mut sq, mut n) = (0f64, 0f64, 0f64);
            for i in 0..s.len() {
                for &v in &s.image(i)[c * plane..(c + 1) * plane] {
                    let x = v as f64 / 255.0;
                    sum += x;
                    sq += x * x;
                    n += 1.0;
                }
            }
            let mean = sum / n;
            (mean, (sq / n - mean * mean).sqrt())
        })
        .collect()
}

#[test]
fn real_cifar10_archive() {
    let Some(archive) = or_skip(
        cifar10_archive(),
        "../shared/data/cifar10-jpeg.tar.gz not found (set NEUROGEN_SHARED_DATA)",
    ) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let opts = LoadOptions::with_cache_dir(cache.path());
    let first = load(&archive, &opts).unwrap();
    assert!(!first.from_cache);
    let ds = &first.dataset;
    assert_eq!(ds.kind, DatasetKind::Cifar10);
    assert_eq!(ds.shape.to_string(), "3x32x32");
    assert_eq!(ds.train.len(), 50_000);
    assert_eq!(ds.test.len(), 10_000);
    assert_eq!(ds.train.class_counts(10), vec![5_000; 10]);
    assert_eq!(ds.test.class_counts(10), vec![1_000; 10]);
    assert!(ds
        .train
        .labels()
        .iter()
        .chain(ds.test.labels())
        .all(|&l| l < 10));
    // Known CIFAR-10 training-set channel statistics (official release: mean 0.4914, 0.4822,
    // 0.4465; std 0.2470, 0.2435, 0.2616); the JPEG copy is lossy, so allow a little slack.
    let stats = channel_stats(&ds.train);
    eprintln!("CIFAR-10 train channel (mean, std): {stats:?}");
    for ((m, s), (em, es)) in
        stats
            .iter()
            .zip([(0.4914, 0.2470), (0.4822, 0.2435), (0.4465, 0.2616)])
    {
        assert!((m - em).abs() < 0.01, "mean {m} vs {em}");
        assert!((s - es).abs() < 0.01, "std {s} vs {es}");
    }
    // Second load: from the cache, identical.
    let second = load(&archive, &opts).unwrap();
    assert!(second.from_cache);
    assert_eq!(&second.dataset, ds);
    // The paper's split.
    let (train, val) = ds.train_val_split(5_000, 0).unwrap();
    assert_eq!((train.len(), val.len()), (45_000, 5_000));
    let counts = val.class_counts(10);
    assert!(
        counts.iter().all(|&c| (400..600).contains(&c)),
        "{counts:?}"
    );
    let (x, y) = val.batch(&[0, 1, 2, 3], &candle_core::Device::Cpu).unwrap();
    assert_eq!(x.dims(), &[4, 3, 32, 32]);
    assert_eq!(y.dims(), &[4]);
}

#[test]
fn real_fashion_mnist() {
    let Some(dir) = or_skip(
        fashion_mnist_dir(),
        "/usr/share/datasets/fashion-mnist not found (apt-get install -y dataset-fashion-mnist)",
    ) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let l = load(&dir, &LoadOptions::with_cache_dir(cache.path())).unwrap();
    let ds = &l.dataset;
    assert_eq!(ds.kind, DatasetKind::FashionMnist);
    assert_eq!(ds.shape.to_string(), "1x28x28");
    assert_eq!((ds.train.len(), ds.test.len()), (60_000, 10_000));
    assert_eq!(ds.train.class_counts(10), vec![6_000; 10]);
    assert_eq!(ds.test.class_counts(10), vec![1_000; 10]);
    // Known Fashion-MNIST training-set statistics: mean 0.2860, std 0.3530.
    let (m, s) = channel_stats(&ds.train)[0];
    eprintln!("Fashion-MNIST train (mean, std): ({m}, {s})");
    assert!(
        (m - 0.2860).abs() < 0.001 && (s - 0.3530).abs() < 0.001,
        "{m} {s}"
    );
    let again = load(&dir, &LoadOptions::with_cache_dir(cache.path())).unwrap();
    assert!(again.from_cache);
    assert_eq!(&again.dataset, ds);
}
