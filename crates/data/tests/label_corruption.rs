//! Label corruption (Morcos et al. 2018, after Zhang et al. 2017): exactly round(f·n) examples
//! get a uniformly random label, chosen and drawn by a seed; nested sets as f grows.
use neurogen_data::{corrupted_labels, corruption_indices, ImageShape, Split};

fn labels(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 10) as u8).collect()
}

#[test]
fn exactly_round_f_n_examples_are_chosen_and_sets_are_nested() {
    let n = 1000;
    let mut prev: Vec<usize> = Vec::new();
    for (f, k) in [
        (0.0, 0),
        (0.2, 200),
        (0.4, 400),
        (0.6, 600),
        (0.8, 800),
        (1.0, 1000),
    ] {
        let idx = corruption_indices(n, f, 3);
        assert_eq!(idx.len(), k, "f = {f}");
        assert!(idx.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
        assert!(
            prev.iter().all(|i| idx.binary_search(i).is_ok()),
            "f = {f}: not nested"
        );
        prev = idx;
    }
    assert_eq!(corruption_indices(7, 0.5, 1).len(), 4, "round(3.5) = 4");
    assert_ne!(corruption_indices(n, 0.2, 3), corruption_indices(n, 0.2, 4));
}

#[test]
fn only_the_chosen_labels_change_and_random_labels_are_uniform() {
    let n = 20_000;
    let clean = labels(n);
    let noisy = corrupted_labels(&clean, 0.5, 10, 11).unwrap();
    let chosen = corruption_indices(n, 0.5, 11);
    let mut counts = [0usize; 10];
    for i in 0..n {
        if chosen.binary_search(&i).is_ok() {
            counts[noisy[i] as usize] += 1;
        } else {
            assert_eq!(noisy[i], clean[i], "example {i} was not chosen but changed");
        }
    }
    // 10,000 uniform draws over 10 classes: each count 1,000 ± 30 (SD); allow 5 SD.
    for (c, &k) in counts.iter().enumerate() {
        assert!((850..=1150).contains(&k), "class {c}: {k} of 10,000");
    }
    // A random label equals the true one with probability 1/10: about 9 in 10 chosen changed.
    let changed = chosen.iter().filter(|&&i| noisy[i] != clean[i]).count();
    assert!(
        (8_800..=9_200).contains(&changed),
        "{changed} of 10,000 changed"
    );
}

#[test]
fn corruption_is_deterministic_in_the_seed() {
    let clean = labels(500);
    let a = corrupted_labels(&clean, 0.6, 10, 5).unwrap();
    assert_eq!(a, corrupted_labels(&clean, 0.6, 10, 5).unwrap());
    assert_ne!(a, corrupted_labels(&clean, 0.6, 10, 6).unwrap());
    assert_eq!(corrupted_labels(&clean, 0.0, 10, 5).unwrap(), clean);
}

#[test]
fn bad_fractions_and_class_counts_are_refused_with_the_value() {
    let clean = labels(10);
    for f in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
        let e = corrupted_labels(&clean, f, 10, 0).unwrap_err().to_string();
        assert!(e.contains("fraction") && e.contains("[0, 1]"), "{f}: {e}");
    }
    let e = corrupted_labels(&clean, 0.5, 0, 0).unwrap_err().to_string();
    assert!(e.contains("0"), "{e}");
}

#[test]
fn a_split_keeps_its_images_and_corrupts_its_labels() {
    let shape = ImageShape::new(1, 2, 2);
    let n = 50;
    let images: Vec<u8> = (0..n * 4).map(|i| i as u8).collect();
    let split = Split::new(shape, images.clone(), labels(n)).unwrap();
    let noisy = split.with_corrupted_labels(1.0, 10, 2).unwrap();
    assert_eq!(noisy.len(), n);
    assert_eq!(noisy.images(), split.images());
    assert_eq!(
        noisy.labels(),
        corrupted_labels(&labels(n), 1.0, 10, 2).unwrap().as_slice()
    );
    assert!(split.with_corrupted_labels(2.0, 10, 2).is_err());
}
