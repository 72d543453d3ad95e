//! The candle-nn example (`examples/candle_nn_mlp.rs`) runs: on real CIFAR-10 where the
//! repository's archive is present (it skips with a message without), and on a small
//! synthetic split everywhere, so the loop is exercised in CI either way.
#[allow(dead_code)]
#[path = "../examples/candle_nn_mlp.rs"]
mod example;

use example::{run, train_and_evaluate, Options};
use neurogen_data::{ImageShape, Split};

#[test]
fn candle_nn_mlp_example_learns_on_cifar10_with_neurogenesis() {
    let Some(out) = run(Options::default()).unwrap() else {
        return; // the example printed why it skipped
    };
    // 62 steps, an event every 20: 3 events. One epoch on 2,000 images reaches about 0.19 on
    // the test subset; chance is 0.1.
    assert_eq!(out.events, 3, "{}", out.report);
    assert!(out.accuracy > 0.15, "test accuracy {}", out.accuracy);
}

#[test]
fn candle_nn_mlp_example_runs_its_hooks_on_synthetic_data() {
    // 64 images of two classes told apart by brightness.
    let shape = ImageShape {
        channels: 3,
        height: 32,
        width: 32,
    };
    let n = 64;
    let labels: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
    let images: Vec<u8> = labels
        .iter()
        .flat_map(|&l| {
            (0..3 * 32 * 32).map(move |j| {
                if l == 1 {
                    200 + (j % 50) as u8
                } else {
                    (j % 50) as u8
                }
            })
        })
        .collect();
    let split = Split::new(shape, images, labels).unwrap();
    let opts = Options {
        train: n,
        test: n,
        epochs: 5,
        batch: 8,
    };
    let out = train_and_evaluate(&split, &split, opts).unwrap();
    // 40 steps, an event every 20: 2 events.
    assert_eq!(out.events, 2, "{}", out.report);
    assert!(out.accuracy > 0.9, "accuracy {}", out.accuracy);
}
