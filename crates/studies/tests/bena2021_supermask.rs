//! The edge-popup supermask of Béna & Goodman's weight-mask metric: global top-k selection,
//! the straight-through gradient, and a mask trained on a frozen community.
use candle_core::{Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use neurogen_studies::bena2021_modular::supermask::straight_through;
use neurogen_studies::bena2021_modular::{
    global_top_k, mask_metric, train_supermask, Community, CommunityConfig, ConnectionScheme,
    DigitPairs, Supermask, SupermaskConfig,
};

#[test]
fn top_k_is_chosen_globally_over_all_tensors() {
    // 6 scores, k = 0.5: j = ⌊0.5 · 6⌋ = 3, the three largest are kept wherever they are —
    // here all in the second tensor, none in the first.
    let keep = global_top_k(&[&[0.1, 0.2, 0.3], &[0.9, 0.8, 0.7]], 0.5).unwrap();
    assert_eq!(keep, vec![vec![false; 3], vec![true; 3]]);
    // k = 0.1 of 5: j = ⌊0.9 · 5⌋ = 4, one kept; k = 1 keeps everything.
    let keep = global_top_k(&[&[0.4, -1.0], &[3.0, 0.0, 2.0]], 0.1).unwrap();
    assert_eq!(keep, vec![vec![false, false], vec![true, false, false]]);
    let all = global_top_k(&[&[0.4, -1.0], &[3.0]], 1.0).unwrap();
    assert_eq!(all, vec![vec![true, true], vec![true]]);
    for k in [0.0, -0.5, 1.5, f64::NAN] {
        assert!(global_top_k(&[&[1.0, 2.0]], k).is_err(), "k = {k}");
    }
    assert!(global_top_k(&[&[1.0, f32::NAN]], 0.5).is_err());
}

#[test]
fn the_mask_passes_the_gradient_straight_through() {
    let dev = Device::Cpu;
    let score = Var::new(&[0.3f32, -0.2, 0.8], &dev).unwrap();
    let mask = straight_through(score.as_tensor(), &[true, false, true]).unwrap();
    assert_eq!(mask.to_vec1::<f32>().unwrap(), vec![1.0, 0.0, 1.0]);
    let w = Tensor::new(&[2.0f32, 3.0, 4.0], &dev).unwrap();
    let c = Tensor::new(&[1.0f32, 10.0, 100.0], &dev).unwrap();
    let loss = w.mul(&mask).unwrap().mul(&c).unwrap().sum_all().unwrap();
    assert_eq!(loss.to_scalar::<f32>().unwrap(), 402.0);
    let grads = loss.backward().unwrap();
    let g = grads
        .get(score.as_tensor())
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    // d loss / d mask = w · c, passed unchanged to the score — also where the mask is 0.
    assert_eq!(g, vec![2.0, 30.0, 400.0]);
    assert!(straight_through(score.as_tensor(), &[true]).is_err());
}

#[test]
fn a_trained_mask_keeps_k_of_the_weights_and_leaves_the_community_frozen() {
    let dev = Device::Cpu;
    let cfg = CommunityConfig {
        n_in: 12,
        n_hidden: 10,
        n_out: 10,
        n_steps: 2,
        p: 0.1,
        scheme: ConnectionScheme::DeepR,
    };
    let c = Community::new(cfg, 0, &dev).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut images = [Vec::new(), Vec::new()];
    let mut labels = [Vec::new(), Vec::new()];
    for _ in 0..64 {
        for a in 0..2 {
            let l: u8 = rng.random_range(0..10);
            labels[a].push(l);
            for px in 0..12 {
                images[a].push(if px == l as usize { 2.0 } else { 0.0 });
            }
        }
    }
    let pairs = DigitPairs::new(12, images, labels).unwrap();
    // 2 agents × (w_hh 100 + b_hh 10 + w_out 100 + b_out 10) = 440 scores; k = 0.1 keeps
    // 440 − ⌊0.9 · 440⌋ = 44 of them.
    let mask = Supermask::new(&c, 0.1, &mut rng).unwrap();
    let kept: usize = mask
        .masks()
        .unwrap()
        .iter()
        .map(|m| m.iter().filter(|&&b| b).count())
        .sum();
    assert_eq!(kept, 44);
    let share = mask.share().unwrap();
    assert!((share[0] + share[1] - 1.0).abs() < 1e-12);
    let before: Vec<f32> = c
        .agent(0)
        .w_hh
        .as_tensor()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let sc = SupermaskConfig {
        batch_size: 16,
        epochs: 2,
        ..SupermaskConfig::default()
    };
    let r = train_supermask(&c, &pairs, &pairs, 0, sc).unwrap();
    assert!((r.share[0] + r.share[1] - 1.0).abs() < 1e-12, "{r:?}");
    assert!((0.0..=1.0).contains(&r.accuracy));
    let after: Vec<f32> = c
        .agent(0)
        .w_hh
        .as_tensor()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert_eq!(before, after, "the community's weights must stay frozen");
    assert!(train_supermask(&c, &pairs, &pairs, 2, sc).is_err());
    let m = mask_metric(&c, &pairs, &pairs, sc).unwrap();
    for t in 0..2 {
        assert!((m.share[t][0] + m.share[t][1] - 1.0).abs() < 1e-12, "{m:?}");
    }
    // Agent n's score compares its share of its own sub-task's mask with the other's.
    let want = (m.share[0][0] - m.share[1][0]) / (m.share[0][0] + m.share[1][0]);
    assert!((m.specialization[0] - want).abs() < 1e-12, "{m:?}");
}
