//! The bottleneck metric of Béna & Goodman: a narrow linear readout retrained on fixed
//! features reads a label the features encode and cannot read one they do not.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use neurogen_studies::bena2021_modular::{retrain_readout, BottleneckConfig};

/// `n` examples of 10 features: a scaled one-hot of `label` (plus noise) when `encode`, else
/// noise alone; labels uniform in 0..10.
fn features(n: usize, encode: bool, seed: u64) -> (Vec<f32>, Vec<u8>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let l: u8 = rng.random_range(0..10);
        y.push(l);
        for u in 0..10 {
            let signal = if encode && u == l as usize { 3.0 } else { 0.0 };
            x.push(signal + rng.random_range(-0.5f32..0.5));
        }
    }
    (x, y)
}

#[test]
fn a_five_unit_bottleneck_reads_an_encoded_label_and_not_a_missing_one() {
    let cfg = BottleneckConfig {
        lr: 1e-2,
        epochs: 30,
        ..BottleneckConfig::default()
    };
    let (xe, ye) = features(600, true, 1);
    let (te, tye) = features(300, true, 2);
    let good = retrain_readout(&xe, &ye, &te, &tye, 10, 10, &cfg).unwrap();
    let (xn, yn) = features(600, false, 3);
    let (tn, tyn) = features(300, false, 4);
    let bad = retrain_readout(&xn, &yn, &tn, &tyn, 10, 10, &cfg).unwrap();
    assert!(good > 0.8, "encoded label read at {good}");
    assert!(bad < 0.25, "missing label read at {bad}");
}

#[test]
fn bottleneck_rejects_bad_input() {
    let cfg = BottleneckConfig::default();
    let (x, y) = features(20, true, 1);
    assert!(retrain_readout(&x[..50], &y, &x, &y, 10, 10, &cfg).is_err());
    assert!(
        retrain_readout(&x, &y, &x, &y, 10, 5, &cfg).is_err(),
        "labels >= n_classes"
    );
    let mut nan = x.clone();
    nan[3] = f32::NAN;
    assert!(retrain_readout(&nan, &y, &x, &y, 10, 10, &cfg).is_err());
    let zero = BottleneckConfig {
        n_bottleneck: 0,
        ..cfg
    };
    assert!(retrain_readout(&x, &y, &x, &y, 10, 10, &zero).is_err());
}
