//! Lei, Benjamin & Kording (2021): scene composition, gating and inhibition of return, the
//! object-matching rule of the loss, BPTT gradients against finite differences, clear errors
//! on bad input, and short training runs.
use candle_core::{DType, Device, Tensor};
use neurogen_studies::lei2021_attention::*;

fn cpu() -> Device {
    Device::Cpu
}

/// `len` items; item `i` is the constant `0.1 + 0.05·i` on rows `r0..r0+rows`, 0 elsewhere,
/// label `i % 10` — every item tells itself apart by its value.
fn striped_items(len: usize, r0: usize, rows: usize) -> Items {
    let mut px = vec![0f32; len * ITEM * ITEM];
    for i in 0..len {
        for r in r0..r0 + rows {
            for c in 0..ITEM {
                px[i * ITEM * ITEM + r * ITEM + c] = 0.1 + 0.05 * i as f32;
            }
        }
    }
    Items::new(px, (0..len).map(|i| (i % 10) as u8).collect()).unwrap()
}

fn value_item(v: f32) -> usize {
    ((v - 0.1) / 0.05).round() as usize
}

// ---------------------------------------------------------------- scenes

#[test]
fn scenes_place_items_at_14_px_offsets_with_labels_in_position_order() {
    let items = striped_items(12, 5, 10);
    let cfg = SceneConfig {
        objects: 3,
        noise: 0.0,
    };
    assert_eq!((cfg.height(), cfg.width()), (28, 56));
    let s = Scenes::compose(&items, &cfg, 3).unwrap();
    assert_eq!(s.len(), 12);
    for i in 0..s.len() {
        let mut members = Vec::new();
        for k in 0..3 {
            let obj = s.object(i, k).unwrap();
            // Nonzero exactly on rows 5..15 and columns 14k..14k+28.
            for r in 0..28 {
                for c in 0..56 {
                    let inside = (5..15).contains(&r) && (14 * k..14 * k + 28).contains(&c);
                    assert_eq!(
                        obj[r * 56 + c] > 0.0,
                        inside,
                        "scene {i} object {k} ({r},{c})"
                    );
                }
            }
            let item = value_item(obj[5 * 56 + 14 * k]);
            assert_eq!(s.labels(i).unwrap()[k], (item % 10) as u8);
            members.push(item);
        }
        // Scene i holds item i (the code's `__getitem__(idx)`), at some position.
        assert!(members.contains(&i), "scene {i} holds {members:?}");
    }
}

#[test]
fn scenes_sum_and_clamp_overlaps_and_noise_only_the_background() {
    let cfg = SceneConfig::paper();
    // Two bright items that overlap on columns 14..28 of the canvas.
    let items = Items::new(vec![0.7; 2 * ITEM * ITEM], vec![3, 4]).unwrap();
    let s = Scenes::compose(&items, &cfg, 11).unwrap();
    for i in 0..s.len() {
        let x = s.scene(i).unwrap();
        for r in 0..28 {
            for c in 0..42 {
                let v = x[r * 42 + c];
                // 0.7 + 0.7 clamps to 1; one item alone is 0.7; no background here.
                let want = if (14..28).contains(&c) { 1.0 } else { 0.7 };
                assert!((v - want).abs() < 1e-6, "({r},{c}) = {v}");
            }
        }
    }
    // With background: noise in [0, 0.3) on empty pixels, none on the items' pixels.
    let items = striped_items(6, 10, 4);
    let s = Scenes::compose(&items, &cfg, 5).unwrap();
    let mut max_noise = 0f32;
    for i in 0..s.len() {
        let x = s.scene(i).unwrap();
        let (a, b) = (s.object(i, 0).unwrap(), s.object(i, 1).unwrap());
        for j in 0..cfg.pixels() {
            let sum = (a[j] + b[j]).clamp(0.0, 1.0);
            if sum > 0.0 {
                assert_eq!(x[j], sum, "an item pixel got noise");
            } else {
                assert!((0.0..0.3).contains(&x[j]), "noise {}", x[j]);
                max_noise = max_noise.max(x[j]);
            }
        }
    }
    assert!(max_noise > 0.25, "noise never came near 0.3: {max_noise}");
}

#[test]
fn scenes_are_seeded() {
    let items = striped_items(20, 3, 20);
    let cfg = SceneConfig::paper();
    let a = Scenes::compose(&items, &cfg, 7).unwrap();
    let b = Scenes::compose(&items, &cfg, 7).unwrap();
    let c = Scenes::compose(&items, &cfg, 8).unwrap();
    let all = |s: &Scenes| -> Vec<f32> {
        (0..s.len())
            .flat_map(|i| s.scene(i).unwrap().to_vec())
            .collect()
    };
    assert_eq!(all(&a), all(&b));
    assert_ne!(all(&a), all(&c));
    let sub = Scenes::compose_for(&items, &[4, 2], &cfg, 7).unwrap();
    assert_eq!(sub.len(), 2);
    assert_eq!(
        Scenes::compose_for(&items, &[4, 2], &cfg, 7)
            .unwrap()
            .scene(1),
        sub.scene(1)
    );
}

#[test]
fn bad_items_and_scenes_are_clear_errors() {
    let err = Items::new(vec![0.0; 10], vec![1]).unwrap_err();
    assert!(matches!(err, AttentionError::Shape(_)), "{err}");
    let err = Items::new(vec![0.0; ITEM * ITEM], vec![10]).unwrap_err();
    assert!(matches!(err, AttentionError::Label(_)), "{err}");
    let err = Items::new(vec![f32::NAN; ITEM * ITEM], vec![1]).unwrap_err();
    assert!(matches!(err, AttentionError::NonFinite(_)), "{err}");
    let items = striped_items(3, 0, 1);
    let err = Scenes::compose(
        &items,
        &SceneConfig {
            objects: 0,
            noise: 0.3,
        },
        0,
    )
    .unwrap_err();
    assert!(matches!(err, AttentionError::Config(_)), "{err}");
    let err = Scenes::compose(
        &items,
        &SceneConfig {
            objects: 2,
            noise: 2.0,
        },
        0,
    )
    .unwrap_err();
    assert!(err.to_string().contains("noise"), "{err}");
    let err = Scenes::compose_for(&items, &[3], &SceneConfig::paper(), 0).unwrap_err();
    assert!(err.to_string().contains("item 3"), "{err}");
    let s = Scenes::compose(&items, &SceneConfig::paper(), 0).unwrap();
    assert!(s.batch(&[5], &cpu()).is_err());
    assert!(s.batch(&[], &cpu()).is_err());
    let err = Scenes::from_parts(
        SceneConfig::paper(),
        vec![0.0; 5],
        vec![0.0; 10],
        vec![1, 2],
    )
    .unwrap_err();
    assert!(matches!(err, AttentionError::Shape(_)), "{err}");
}

// ---------------------------------------------------------------- gating and IOR

#[test]
fn gating_multiplies_by_one_minus_strength_times_mask() {
    let x = Tensor::new(&[[2f32, 2.0, 2.0, 0.5]], &cpu()).unwrap();
    let m = Tensor::new(&[[1f32, -1.0, 0.5, 0.0]], &cpu()).unwrap();
    let g = gate(&x, &m, 0.2).unwrap().to_vec2::<f32>().unwrap();
    let want = [1.6, 2.4, 1.8, 0.5];
    for (a, b) in g[0].iter().zip(want) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    let err = gate(&x, &Tensor::zeros((1, 3), DType::F32, &cpu()).unwrap(), 0.2).unwrap_err();
    assert!(matches!(err, AttentionError::Shape(_)), "{err}");
}

#[test]
fn ior_forces_full_suppression_and_collects_attended_units() {
    let m = Tensor::new(&[0.3f32, -0.9, 0.7, 0.49, 0.5], &cpu()).unwrap();
    let ior = Tensor::new(&[1f32, 0.0, 0.0, 1.0, 0.0], &cpu()).unwrap();
    // Forced to 1 where the IOR mask is set, untouched elsewhere.
    let s = suppress(&m, &ior).unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(s, vec![1.0, -0.9, 0.7, 1.0, 0.5]);
    // The IOR mask gains the units below 0.5 (not 0.5 itself) and keeps its own.
    let next = extend_ior(&ior, &m).unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(next, vec![1.0, 1.0, 0.0, 1.0, 0.0]);
    // Masks forced by `suppress` never leave the IOR mask.
    let again = extend_ior(&ior, &Tensor::new(s.as_slice(), &cpu()).unwrap())
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_eq!(again, vec![1.0, 1.0, 0.0, 1.0, 0.0]);
    assert!(suppress(&m, &Tensor::zeros(4, DType::F32, &cpu()).unwrap()).is_err());
}

fn tiny_config() -> AttentionConfig {
    AttentionConfig {
        height: 16,
        width: 19,
        strength: 0.2,
        iterations: 3,
    }
}

#[test]
fn attend_applies_the_ior_mask_to_every_gated_iteration() {
    let net = AttentionNet::new(tiny_config(), 1, &cpu()).unwrap();
    let sh = *net.shapes();
    assert_eq!(sh.conv1, (13, 16));
    assert_eq!(sh.pool1, (6, 8));
    assert_eq!(sh.conv2, (3, 5));
    assert_eq!(sh.pool2, (1, 2));
    let x = Tensor::rand(0f32, 1.0, (2, 1, 16, 19), &cpu()).unwrap();
    // A full IOR mask: the last iteration gates with masks of exactly 1 everywhere.
    let (o1, o2) = net.zero_masks(2).unwrap();
    let full = Ior {
        m1: o1.ones_like().unwrap(),
        m2: o2.ones_like().unwrap(),
    };
    let pass = net.attend(&x, &full).unwrap();
    let m1 = pass.m1.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert!(m1.iter().all(|&v| v == 1.0));
    let gated = pass.gated.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let xs = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    for (g, x) in gated.iter().zip(&xs) {
        assert!((g - 0.8 * x).abs() < 1e-6);
    }
    // The next IOR mask stays full.
    let next = pass.ior.m1.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert!(next.iter().all(|&v| v == 1.0));

    // Half an IOR mask: forced where set, the network's own mask where not; the new IOR mask
    // is the old one plus the units whose mask is below 0.5.
    let half: Vec<f32> = (0..2 * 16 * 19).map(|i| (i % 2) as f32).collect();
    let half = Ior {
        m1: Tensor::from_vec(half.clone(), (2, 1, 16, 19), &cpu()).unwrap(),
        m2: o2.clone(),
    };
    let pass = net.attend(&x, &half).unwrap();
    let m1 = pass.m1.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let next = pass.ior.m1.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let ior: Vec<f32> = (0..2 * 16 * 19).map(|i| (i % 2) as f32).collect();
    for j in 0..m1.len() {
        if ior[j] == 1.0 {
            assert_eq!(m1[j], 1.0);
            assert_eq!(next[j], 1.0);
        } else {
            assert!(m1[j] > -1.0 && m1[j] < 1.0);
            assert_eq!(next[j], if m1[j] < 0.5 { 1.0 } else { 0.0 });
        }
    }
    // The gated input is x·(1 − 0.2·m1) with that mask.
    let gated = pass.gated.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    for j in 0..m1.len() {
        assert!((gated[j] - xs[j] * (1.0 - 0.2 * m1[j])).abs() < 1e-6);
    }
}

#[test]
fn the_first_iteration_is_ungated_and_one_step_matches_attend() {
    let cfg = AttentionConfig {
        iterations: 1,
        ..tiny_config()
    };
    let net = AttentionNet::new(cfg, 2, &cpu()).unwrap();
    let x = Tensor::rand(0f32, 1.0, (1, 1, 16, 19), &cpu()).unwrap();
    let (m1, m2) = net.zero_masks(1).unwrap();
    let it = net.step(&x, &m1, &m2).unwrap();
    let pass = net.attend(&x, &net.empty_ior(1).unwrap()).unwrap();
    let d = it
        .logits
        .sub(&pass.logits)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap();
    assert_eq!(d.to_scalar::<f32>().unwrap(), 0.0);
    let d = pass
        .gated
        .sub(&x)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap();
    assert_eq!(d.to_scalar::<f32>().unwrap(), 0.0);
    // Masks are tanh outputs.
    for v in it.m1.flatten_all().unwrap().to_vec1::<f32>().unwrap() {
        assert!(v > -1.0 && v < 1.0);
    }
    assert_eq!(it.m2.dims(), &[1, 20, 6, 8]);
}

#[test]
fn bad_shapes_and_settings_are_clear_errors() {
    let net = AttentionNet::new(tiny_config(), 0, &cpu()).unwrap();
    let x = Tensor::zeros((2, 1, 16, 18), DType::F32, &cpu()).unwrap();
    let err = net.attend(&x, &net.empty_ior(2).unwrap()).unwrap_err();
    assert!(matches!(err, AttentionError::Shape(_)), "{err}");
    assert!(err.to_string().contains("[B ≥ 1, 1, 16, 19]"), "{err}");
    let x = Tensor::zeros((2, 1, 16, 19), DType::F32, &cpu()).unwrap();
    let err = net.attend(&x, &net.empty_ior(3).unwrap()).unwrap_err();
    assert!(err.to_string().contains("IOR"), "{err}");
    let x64 = x.to_dtype(DType::F64).unwrap();
    assert!(net.attend(&x64, &net.empty_ior(2).unwrap()).is_err());
    let (m1, _) = net.zero_masks(2).unwrap();
    let err = net.step(&x, &m1, &m1).unwrap_err();
    assert!(err.to_string().contains("masks"), "{err}");
    let err = AttentionNet::new(
        AttentionConfig {
            height: 12,
            ..tiny_config()
        },
        0,
        &cpu(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("too small"), "{err}");
    for bad in [
        AttentionConfig {
            strength: 1.5,
            ..tiny_config()
        },
        AttentionConfig {
            iterations: 0,
            ..tiny_config()
        },
    ] {
        let err = AttentionNet::new(bad, 0, &cpu()).unwrap_err();
        assert!(matches!(err, AttentionError::Config(_)), "{err}");
    }
    let ctl = FeedForwardNet::new(&SceneConfig::paper(), 0, &cpu()).unwrap();
    assert!(ctl.logits(&x).is_err());
    let bad = TrainConfig {
        batch: 0,
        ..TrainConfig::paper(0)
    };
    assert!(AttentionTrainer::new(net, &bad).is_err());
}

// ---------------------------------------------------------------- the loss

#[test]
fn the_attended_object_is_the_nearest_unreported_target() {
    // Two scenes of three pixels, two objects each.
    let gated = [0.0, 0.0, 1.0, /**/ 5.0, 5.0, 5.0];
    let targets = [
        0.0, 0.0, 0.0, /* obj 0 */ 0.0, 0.0, 1.1, /* obj 1 */
        5.0, 5.0, 5.0, /* obj 0 */ 5.0, 5.0, 5.0, /* obj 1: a tie */
    ];
    let mut reported = vec![false; 4];
    let pick = select_objects(&gated, &targets, 2, &mut reported).unwrap();
    // Scene 0: object 1 is nearer; scene 1: a tie goes to the first (torch.argmin).
    assert_eq!(pick, vec![1, 0]);
    assert_eq!(reported, vec![false, true, true, false]);
    // Already reported objects are excluded, however near.
    let pick = select_objects(&gated, &targets, 2, &mut reported).unwrap();
    assert_eq!(pick, vec![0, 1]);
    let err = select_objects(&gated, &targets, 2, &mut reported).unwrap_err();
    assert!(err.to_string().contains("already reported"), "{err}");
    let err = select_objects(&gated, &targets[..5], 2, &mut [false; 4]).unwrap_err();
    assert!(matches!(err, AttentionError::Shape(_)), "{err}");
    let err = select_objects(&gated, &targets, 2, &mut [false; 3]).unwrap_err();
    assert!(matches!(err, AttentionError::Shape(_)), "{err}");
}

#[test]
fn object_loss_is_cross_entropy_plus_penalty_times_mse_on_the_matched_object() {
    let cfg = SceneConfig::paper();
    let items = striped_items(4, 8, 8);
    let scenes = Scenes::compose(&items, &cfg, 2).unwrap();
    let batch = scenes.batch(&[0, 1, 2], &cpu()).unwrap();
    let targets = gating_targets(&batch, 0.2);
    // Targets are (1 − s)·x + s·d_k.
    let p = cfg.pixels();
    let j = 9 * 42 + 3;
    assert!(
        (targets[p + j] - (0.8 * batch.scenes()[j] + 0.2 * batch.objects()[p + j])).abs() < 1e-6
    );
    // Gate every scene exactly as object 1's target: object 1 is selected, MSE is 0.
    let mut gated = Vec::new();
    for i in 0..3 {
        gated.extend_from_slice(&targets[(i * 2 + 1) * p..(i * 2 + 2) * p]);
    }
    let gated = Tensor::from_vec(gated, (3, 1, 28, 42), &cpu()).unwrap();
    let logits = Tensor::new(
        &[
            [0f32; 10],
            [0.5; 10],
            [1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        ],
        &cpu(),
    )
    .unwrap();
    let mut reported = vec![false; 6];
    let l = object_loss(&logits, &gated, &batch, &targets, &mut reported, 1e3).unwrap();
    assert_eq!(l.selected, vec![1, 1, 1]);
    assert!(l.mask_loss.abs() < 1e-12);
    let labels: Vec<u32> = (0..3).map(|i| batch.labels()[i * 2 + 1] as u32).collect();
    assert_eq!(l.labels, labels);
    // Cross-entropy by hand.
    let lg = logits.to_vec2::<f32>().unwrap();
    let mut ce = 0f64;
    for (row, &y) in lg.iter().zip(&labels) {
        let lse = row.iter().map(|&v| (v as f64).exp()).sum::<f64>().ln();
        ce += lse - row[y as usize] as f64;
    }
    ce /= 3.0;
    assert!(
        (l.class_loss as f64 - ce).abs() < 1e-5,
        "{} vs {ce}",
        l.class_loss
    );
    // The second pass, same input: only object 0 is left, and the MSE counts.
    let l2 = object_loss(&logits, &gated, &batch, &targets, &mut reported, 1e3).unwrap();
    assert_eq!(l2.selected, vec![0, 0, 0]);
    let mut mse = 0f64;
    let g = gated.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    for i in 0..3 {
        for j in 0..p {
            let d = g[i * p + j] - targets[(i * 2) * p + j];
            mse += (d as f64) * (d as f64);
        }
    }
    mse /= (3 * p) as f64;
    assert!((l2.mask_loss as f64 - mse).abs() < 1e-6 * mse.max(1.0));
    let total = l2.loss.to_scalar::<f32>().unwrap() as f64;
    assert!((total - (l2.class_loss as f64 + 1e3 * l2.mask_loss as f64)).abs() < 1e-3 * total);
    // Wrong logits shape: a clear error.
    let mut reported = vec![false; 6];
    let err = object_loss(
        &logits.narrow(1, 0, 5).unwrap(),
        &gated,
        &batch,
        &targets,
        &mut reported,
        1e3,
    )
    .unwrap_err();
    assert!(err.to_string().contains("logits"), "{err}");
}

// ---------------------------------------------------------------- BPTT gradients

/// Loss of object pass `k` (after `k` earlier passes fixed the IOR mask) of the tiny f64 net.
fn pass_loss(
    net: &AttentionNet,
    x: &Tensor,
    batch: &SceneBatch,
    targets: &[f32],
    k: usize,
) -> Tensor {
    let mut reported = vec![false; batch.labels().len()];
    let mut ior = net.empty_ior(batch.len()).unwrap();
    let mut out = None;
    for _ in 0..=k {
        let pass = net.attend(x, &ior).unwrap();
        let l = object_loss(
            &pass.logits,
            &pass.gated,
            batch,
            targets,
            &mut reported,
            10.0,
        )
        .unwrap();
        ior = pass.ior;
        out = Some(l.loss);
    }
    out.unwrap()
}

#[test]
fn bptt_gradients_match_central_finite_differences() {
    // A 16×19 canvas, hand-made scenes of two objects, the network in f64. Every pixel
    // differs (a hash), so that no two conv outputs of a pooling window tie: at a tie the max
    // has no derivative and a finite difference cannot check it.
    let hash = |j: usize| ((j as f64 * 12.9898).sin() * 43758.5453).rem_euclid(1.0) as f32;
    let (h, w) = (16, 19);
    let p = h * w;
    let mut scenes = Vec::new();
    let mut objects = Vec::new();
    for i in 0..2 {
        let mut a = vec![0f32; p];
        let mut b = vec![0f32; p];
        for r in 3..12 {
            for c in 0..9 {
                a[r * w + c] = 0.3 + 0.4 * hash(i * p + r * w + c);
                b[r * w + c + 9] = 0.2 + 0.5 * hash(3 * p + i * p + r * w + c);
            }
        }
        scenes
            .extend((0..p).map(|j| (a[j] + b[j]).min(1.0) + 0.05 + 0.1 * hash(7 * p + i * p + j)));
        objects.extend(a);
        objects.extend(b);
    }
    let batch = SceneBatch::new(scenes, objects, vec![3, 7, 1, 1], 2, (h, w), &cpu()).unwrap();
    let acfg = AttentionConfig {
        height: h,
        width: w,
        strength: 0.2,
        iterations: 3,
    };
    let net = AttentionNet::new(acfg, 4, &cpu())
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap();
    let x = batch.x().to_dtype(DType::F64).unwrap();
    let targets = gating_targets(&batch, 0.2);
    let eps = 1e-6;
    let mut checked = 0;
    for k in 0..2 {
        let loss = pass_loss(&net, &x, &batch, &targets, k);
        let grads = loss.backward().unwrap();
        for (name, var) in net.named_params() {
            let g = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("no gradient for {name}"))
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            let orig = var
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            // A few entries of every parameter, spread over it.
            for &j in &[0, orig.len() / 3, orig.len() - 1] {
                let at = |v: f64| {
                    let mut q = orig.clone();
                    q[j] = v;
                    var.set(&Tensor::from_vec(q, var.shape(), &cpu()).unwrap())
                        .unwrap();
                    pass_loss(&net, &x, &batch, &targets, k)
                        .to_scalar::<f64>()
                        .unwrap()
                };
                let fd = (at(orig[j] + eps) - at(orig[j] - eps)) / (2.0 * eps);
                var.set(&Tensor::from_vec(orig.clone(), var.shape(), &cpu()).unwrap())
                    .unwrap();
                let tol = 1e-5 + 1e-3 * fd.abs().max(g[j].abs());
                assert!(
                    (fd - g[j]).abs() < tol,
                    "pass {k}, {name}[{j}]: autograd {} vs finite difference {fd}",
                    g[j]
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * 12 * 3);
}

// ---------------------------------------------------------------- training

#[test]
fn both_networks_train_on_hand_made_scenes_and_evaluate() {
    let cfg = SceneConfig::paper();
    let items = striped_items(16, 6, 12);
    let tc = TrainConfig {
        batch: 8,
        epochs: 1,
        max_steps: Some(2),
        ..TrainConfig::paper(3)
    };
    let net = AttentionNet::new(AttentionConfig::paper(&cfg), 0, &cpu()).unwrap();
    let mut t = AttentionTrainer::new(net, &tc).unwrap();
    let before = t.net().named_params()[0].1.as_tensor().sum_all().unwrap();
    let mut seen = Vec::new();
    let s = train(&mut t, &items, &cfg, &tc, &cpu(), |p| seen.push(*p)).unwrap();
    assert_eq!(s.steps, 2);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].step, 2);
    assert_eq!(seen[1].total_steps, 2);
    assert!(s.last.loss.is_finite() && s.seconds_per_step() > 0.0);
    let after = t.net().named_params()[0].1.as_tensor().sum_all().unwrap();
    assert_ne!(
        before.to_scalar::<f32>().unwrap(),
        after.to_scalar::<f32>().unwrap()
    );
    let test = Scenes::compose(&items, &cfg, 99).unwrap();
    let e = t.evaluate(&test, 5).unwrap();
    assert_eq!(e.scenes, 16);
    assert!((0.0..=1.0).contains(&e.accuracy));
    let (a, u) = (
        e.inhibition_attended.unwrap(),
        e.inhibition_unattended.unwrap(),
    );
    assert!((-1.0..=1.0).contains(&a) && (-1.0..=1.0).contains(&u));
    assert!(e
        .modulation
        .unwrap()
        .iter()
        .all(|m| m.is_finite() && *m >= 0.0));

    let ctl = FeedForwardNet::new(&cfg, 0, &cpu()).unwrap();
    let mut c = ControlTrainer::new(ctl, &tc).unwrap();
    let s = train(&mut c, &items, &cfg, &tc, &cpu(), |_| {}).unwrap();
    assert!(s.last.loss.is_finite());
    let e = c.evaluate(&test, 7).unwrap();
    assert!(e.inhibition_attended.is_none() && e.modulation.is_none());
    // Scenes of three objects for a two-object control: a clear error.
    let three = Scenes::compose(
        &items,
        &SceneConfig {
            objects: 3,
            noise: 0.3,
        },
        0,
    )
    .unwrap();
    assert!(c.evaluate(&three, 4).is_err());
}

#[test]
fn fashion_mnist_scenes_use_the_authors_split_sizes() {
    let Some(dir) = neurogen_data::fashion_mnist_dir() else {
        eprintln!("skipped: no Fashion-MNIST on this machine");
        return;
    };
    let ds = load_items(&dir, neurogen_data::DatasetKind::FashionMnist).unwrap();
    let (train, val, test) = paper_splits(&ds, 0).unwrap();
    assert_eq!(
        (train.len(), val.len(), test.len()),
        (42_000, 18_000, 10_000)
    );
    let items = Items::from_split(&val.sample(200, 1).unwrap()).unwrap();
    let s = Scenes::compose(&items, &SceneConfig::paper(), 0).unwrap();
    assert_eq!(s.len(), 200);
    let x = s.scene(0).unwrap();
    assert!(x.iter().all(|v| (0.0..=1.0 + 0.3).contains(v)));
    assert!(load_items(&dir, neurogen_data::DatasetKind::Cifar10).is_err());
}

// ---------------------------------------------------------------- analysis

#[test]
fn traces_follow_the_ior_sequence_and_draw_as_an_svg_grid() {
    let cfg = SceneConfig::paper();
    let items = striped_items(6, 4, 16);
    let scenes = Scenes::compose(&items, &cfg, 1).unwrap();
    let net = AttentionNet::new(AttentionConfig::paper(&cfg), 5, &cpu()).unwrap();
    let traces = trace_scenes(&net, &scenes, &[0, 3]).unwrap();
    assert_eq!(traces.len(), 2);
    for t in &traces {
        assert_eq!(
            t.scene,
            scenes
                .scene(traces.iter().position(|u| u == t).unwrap() * 3)
                .unwrap()
        );
        assert_eq!(t.passes.len(), 2);
        // The two passes name two different objects.
        assert_ne!(t.passes[0].selected, t.passes[1].selected);
        let (a, b) = (&t.passes[0], &t.passes[1]);
        for j in 0..cfg.pixels() {
            // IOR after pass 1 = {mask < 0.5}; pass 2's mask is 1 there; the IOR only grows.
            assert_eq!(a.ior[j], if a.mask[j] < 0.5 { 1.0 } else { 0.0 });
            if a.ior[j] == 1.0 {
                assert_eq!(b.mask[j], 1.0);
                assert_eq!(b.ior[j], 1.0);
            }
        }
    }
    let svg = mask_grid_svg(&traces, &neurogen_data::FASHION_MNIST_CLASSES).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("IOR after pass 2"));
    assert_eq!(svg.matches("reported").count(), 4);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("masks.svg");
    save_mask_grid(&path, &traces, &[]).unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().contains("pass 1"));
    assert!(mask_grid_svg(&[], &[]).is_err());
}

#[test]
fn training_is_deterministic_given_the_seed() {
    let cfg = SceneConfig::paper();
    let items = striped_items(10, 2, 20);
    let run = |seed: u64| -> Vec<f32> {
        let tc = TrainConfig {
            batch: 4,
            epochs: 2,
            max_steps: Some(3),
            ..TrainConfig::paper(seed)
        };
        let net = AttentionNet::new(AttentionConfig::paper(&cfg), 0, &cpu()).unwrap();
        let mut t = AttentionTrainer::new(net, &tc).unwrap();
        let mut epochs = Vec::new();
        train(&mut t, &items, &cfg, &tc, &cpu(), |p| epochs.push(p.epoch)).unwrap();
        // 10 items in batches of 4: three minibatches in the first epoch.
        assert_eq!(epochs, vec![0, 0, 0]);
        t.net()
            .named_params()
            .iter()
            .flat_map(|(_, v)| {
                v.as_tensor()
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap()
            })
            .collect()
    };
    let a = run(1);
    assert_eq!(a, run(1));
    assert_ne!(a, run(2));
}

// ---------------------------------------------------------------- tuning

#[test]
fn bars_lie_along_their_orientation() {
    let b = bar((28, 42), 0.0, 1.5, (14.0, 21.0), 20.0).unwrap();
    // Horizontal: peak 1 on row 14 within ±10 columns of the centre, nothing beyond.
    assert!((b[14 * 42 + 21] - 1.0).abs() < 1e-6);
    assert!((b[14 * 42 + 31] - 1.0).abs() < 1e-6);
    assert_eq!(b[14 * 42 + 32], 0.0);
    assert!(b[18 * 42 + 21] < 0.1 && b[15 * 42 + 21] > 0.7);
    // Vertical at 90°: peak down column 21.
    let v = bar((28, 42), 90.0, 1.5, (14.0, 21.0), 20.0).unwrap();
    assert!((v[5 * 42 + 21] - 1.0).abs() < 1e-6);
    assert!(v[14 * 42 + 26] < 0.01);
    assert!(bar((28, 42), 0.0, 0.0, (14.0, 21.0), 20.0).is_err());
}

#[test]
fn scaling_fit_recovers_gain_and_offset() {
    let x = [0.1, 0.5, 0.9, 1.4, 2.0];
    let y: Vec<f64> = x.iter().map(|v| 1.3 * v + 0.05).collect();
    let f = scaling_fit(&x, &y).unwrap();
    assert!((f.slope - 1.3).abs() < 1e-12 && (f.intercept - 0.05).abs() < 1e-12);
    assert!((f.r2 - 1.0).abs() < 1e-12);
    assert!(scaling_fit(&x, &y[..4]).is_err());
    assert!(scaling_fit(&[1.0, 1.0], &[0.0, 1.0]).is_err());
    assert!(scaling_fit(&[0.0, f64::NAN], &[0.0, 1.0]).is_err());
}

#[test]
fn tuning_curves_cover_every_unit_and_orientation() {
    let net = AttentionNet::new(tiny_config(), 3, &cpu()).unwrap();
    let (h, w) = (16, 19);
    let distractor: Vec<f32> = (0..h * w)
        .map(|j| {
            if j % w >= 10 && (3..13).contains(&(j / w)) {
                0.8
            } else {
                0.0
            }
        })
        .collect();
    let stimuli: Vec<Vec<Vec<f32>>> = [0.0, 45.0, 90.0]
        .iter()
        .map(|&d| {
            [3.0, 4.0]
                .iter()
                .map(|&cx| bar((h, w), d, 1.0, (8.0, cx), 8.0).unwrap())
                .collect()
        })
        .collect();
    let curves = tuning_curves(&net, &distractor, &stimuli, (6, 3), (1, 1)).unwrap();
    assert_eq!(curves.len(), 20 + 50);
    assert_eq!(curves[0].layer, "conv1");
    assert_eq!(curves[20].layer, "conv2");
    assert_eq!(curves[69].channel, 49);
    for c in &curves {
        assert_eq!(c.attended.len(), 3);
        // Every stimulus is attended twice, once per object: each orientation has both.
        for o in 0..3 {
            assert!(c.attended[o].is_some() && c.unattended[o].is_some());
            for v in [c.attended[o], c.unattended[o]].into_iter().flatten() {
                assert!(v >= 0.0 && v.is_finite());
            }
        }
    }
    let err = tuning_curves(&net, &distractor, &stimuli, (13, 0), (0, 0)).unwrap_err();
    assert!(matches!(err, AttentionError::Shape(_)), "{err}");
    assert!(tuning_curves(&net, &distractor[..5], &stimuli, (0, 0), (0, 0)).is_err());
}

fn unit(layer: &str, channel: usize, un: &[f64], att: &[f64]) -> TuningCurves {
    TuningCurves {
        layer: layer.into(),
        channel,
        attended: att.iter().map(|&v| Some(v)).collect(),
        unattended: un.iter().map(|&v| Some(v)).collect(),
    }
}

#[test]
fn tuning_summary_takes_medians_over_the_fitted_units_of_one_layer() {
    let base = [0.1, 0.4, 0.9, 0.4, 0.1];
    let scaled = |g: f64, c: f64| base.iter().map(|v| g * v + c).collect::<Vec<_>>();
    let mut missing = unit("conv2", 4, &base, &scaled(9.0, 0.0));
    missing.attended[2] = None;
    let curves = vec![
        unit("conv2", 0, &base, &scaled(1.2, 0.0)),
        unit("conv2", 1, &base, &scaled(1.5, 0.0)),
        unit("conv2", 2, &base, &scaled(2.0, 0.1)),
        // Left out: a flat unattended curve, a silent unit, a missing orientation, conv1.
        unit("conv2", 3, &[0.5; 5], &scaled(1.0, 0.0)),
        unit("conv2", 5, &base, &[0.0; 5]),
        missing,
        unit("conv1", 0, &base, &scaled(5.0, 0.0)),
    ];
    let s = summarize_tuning(&curves, "conv2").unwrap();
    assert_eq!(s.units, 3);
    assert!((s.slope - 1.5).abs() < 1e-9, "{s:?}");
    // Intercepts over mean attended responses: 0, 0 and 0.1 / (2 · 0.38 + 0.1).
    assert!(s.relative_intercept.abs() < 1e-9, "{s:?}");
    assert!((s.r2 - 1.0).abs() < 1e-9, "{s:?}");
    let c1 = summarize_tuning(&curves, "conv1").unwrap();
    assert_eq!((c1.units, (c1.slope * 1e6).round() / 1e6), (1, 5.0));
    assert!(summarize_tuning(&curves, "fc").is_none());
}

#[test]
fn the_study_bars_cover_twelve_orientations_at_three_places() {
    let bars = study_bars((28, 42)).unwrap();
    assert_eq!(bars.len(), 12);
    for set in &bars {
        assert_eq!(set.len(), 3);
        for b in set {
            assert_eq!(b.len(), 28 * 42);
            // The bar lies on the first object's place (columns 0..28), peak 1 on its axis.
            let peak = b.iter().cloned().fold(0f32, f32::max);
            assert!((peak - 1.0).abs() < 1e-6);
            assert!((0..28).all(|r| (30..42).all(|c| b[r * 42 + c] < 1e-3)));
        }
    }
    // A horizontal bar is wide, a vertical one tall.
    let extent = |b: &[f32], rows: bool| {
        (0..if rows { 28 } else { 42 })
            .filter(|&i| {
                (0..if rows { 42 } else { 28 }).any(|j| {
                    let v = if rows { b[i * 42 + j] } else { b[j * 42 + i] };
                    v > 0.5
                })
            })
            .count()
    };
    assert!(extent(&bars[0][1], false) > 3 * extent(&bars[0][1], true));
    assert!(extent(&bars[6][1], true) > 3 * extent(&bars[6][1], false));
}

#[test]
fn the_mask_grid_renders_the_traces_as_png_and_refuses_ragged_ones() {
    let pass = |v: f32| PassTrace {
        mask: vec![v; 6 * 8],
        gated: vec![0.5; 48],
        ior: vec![0.0; 48],
        selected: 0,
        label: 1,
        reported: 2,
    };
    let scene = SceneTrace {
        height: 6,
        width: 8,
        scene: vec![1.0; 48],
        passes: vec![pass(-0.5), pass(1.0)],
    };
    let grid = MaskGrid::new(vec![scene.clone(), scene.clone()], &["a", "b", "c"]).unwrap();
    // Seven images of 8·4 px and gaps across, two rows of 6·4 px and titles down.
    assert_eq!(grid.size(), (10 + 7 * (32 + 10), 30 + 2 * (24 + 30)));
    let png = neurogen_analysis::plot::to_png(&grid, (300, 200)).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let mut ragged = scene.clone();
    ragged.passes.pop();
    assert!(MaskGrid::new(vec![scene, ragged], &[]).is_err());
}
