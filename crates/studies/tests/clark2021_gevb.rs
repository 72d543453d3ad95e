//! Tests of the GEVB study's library core (issue #42, item 6): the GEVB update against its
//! formula, vectorized backprop against finite differences, the "+" clamp, DFA's fixed
//! feedback, the alignment measure, clear errors, and a short training on real Fashion-MNIST.
use candle_core::{DType, Device, Tensor, Var};
use neurogen_model::AdamConfig;
use neurogen_studies::clark2021_gevb::{
    alignment, apply_updates, flat_batch, rule_alignment, AlignmentLog, ConvNet, ConvNetConfig, Fc,
    FcConfig, Rule, RuleNetwork, RuleTrainer, VecConv, VecConvConfig, VecConvLayer, VecFc,
    VecFcConfig,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn cpu() -> Device {
    Device::Cpu
}

fn random_batch(b: usize, d: usize, k: usize, seed: u64) -> (Tensor, Tensor) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x: Vec<f32> = (0..b * d).map(|_| rng.random_range(-1.0..1.0)).collect();
    let y: Vec<u32> = (0..b).map(|_| rng.random_range(0..k as u32)).collect();
    (
        Tensor::from_vec(x, (b, d), &cpu()).unwrap(),
        Tensor::from_vec(y, b, &cpu()).unwrap(),
    )
}

/// Random values in every parameter (so that no layer is trivially zero), weights past the
/// first layer ≥ 0 when `mono`.
fn randomize(params: &[(String, Var)], seed: u64, mono: bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for (name, v) in params {
        let n = v.elem_count();
        let positive = mono && !name.starts_with("fc0.") && name.ends_with("weight");
        let data: Vec<f32> = (0..n)
            .map(|_| {
                let r: f32 = rng.random_range(-0.8..0.8);
                if positive {
                    r.abs()
                } else {
                    r
                }
            })
            .collect();
        v.set(&Tensor::from_vec(data, v.dims(), &cpu()).unwrap())
            .unwrap();
    }
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// The GEVB formula written out with scalar loops, independently of the tensor code: the
/// forward pass of the vectorized network (the first layer as the authors' block-diagonal
/// expansion), then `ΔW_ij = (1/B) Σ_b G_i (e·H_j)`, `ΔB_ki = (1/B) Σ_b G_i e_k`.
fn gevb_by_hand(net: &VecFc, x: &[Vec<f32>], y: &[u32]) -> Vec<Vec<f32>> {
    let cfg = net.config().clone();
    let (k, d) = (cfg.classes, cfg.input_dim);
    let layers = net.layers();
    let w: Vec<Vec<f32>> = (0..layers)
        .map(|l| values(net.weight(l).unwrap()))
        .collect();
    let bias: Vec<Vec<f32>> = (0..layers).map(|l| values(net.bias(l).unwrap())).collect();
    let t: Vec<Vec<f32>> = (0..layers - 1)
        .map(|l| values(net.signs(l).unwrap()))
        .collect();
    let mut widths = cfg.hidden.clone();
    widths.push(1);
    let bsz = x.len();
    let mut out: Vec<Vec<f32>> = Vec::new();
    for l in 0..layers {
        let n_in = if l == 0 { d } else { widths[l - 1] };
        out.push(vec![
            0.0;
            if l == 0 {
                k * widths[0] * d
            } else {
                widths[l] * n_in
            }
        ]);
        out.push(vec![0.0; k * widths[l]]);
    }
    for b in 0..bsz {
        // Forward: h[l] is [K][n] (the input of layer l+1); gates per hidden layer.
        let mut hs: Vec<Vec<Vec<f32>>> = Vec::new();
        let mut gates: Vec<Vec<f32>> = Vec::new();
        let mut logits = vec![0f32; k];
        for l in 0..layers {
            let n = widths[l];
            let mut z = vec![vec![0f32; n]; k];
            for (kk, zk) in z.iter_mut().enumerate() {
                for (i, zi) in zk.iter_mut().enumerate() {
                    let mut s = bias[l][kk * n + i];
                    if l == 0 {
                        for j in 0..d {
                            s += w[0][(kk * n + i) * d + j] * x[b][j];
                        }
                    } else {
                        let n_in = widths[l - 1];
                        for j in 0..n_in {
                            s += w[l][i * n_in + j] * hs[l - 1][kk][j];
                        }
                    }
                    *zi = s;
                }
            }
            if l == layers - 1 {
                for kk in 0..k {
                    logits[kk] = z[kk][0];
                }
            } else {
                let g: Vec<f32> = (0..n)
                    .map(|i| {
                        let s: f32 = (0..k).map(|kk| t[l][kk * n + i] * z[kk][i]).sum();
                        if s >= 0.0 {
                            1.0
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let h: Vec<Vec<f32>> = z
                    .iter()
                    .map(|zk| zk.iter().zip(&g).map(|(a, gi)| a * gi).collect())
                    .collect();
                hs.push(h);
                gates.push(g);
            }
        }
        let m = logits.iter().cloned().fold(f32::MIN, f32::max);
        let s: f32 = logits.iter().map(|v| (v - m).exp()).sum();
        let e: Vec<f32> = (0..k)
            .map(|kk| (logits[kk] - m).exp() / s - if kk == y[b] as usize { 1.0 } else { 0.0 })
            .collect();
        for l in 0..layers {
            let n = widths[l];
            let g = |i: usize| if l == layers - 1 { 1.0 } else { gates[l][i] };
            for i in 0..n {
                for kk in 0..k {
                    out[2 * l + 1][kk * n + i] += g(i) * e[kk] / bsz as f32;
                }
                if l == 0 {
                    for kk in 0..k {
                        for j in 0..d {
                            out[0][(kk * n + i) * d + j] += g(i) * e[kk] * x[b][j] / bsz as f32;
                        }
                    }
                } else {
                    let n_in = widths[l - 1];
                    for j in 0..n_in {
                        let dot: f32 = (0..k).map(|kk| e[kk] * hs[l - 1][kk][j]).sum();
                        out[2 * l][i * n_in + j] += g(i) * dot / bsz as f32;
                    }
                }
            }
        }
    }
    out
}

#[test]
fn gevb_update_equals_the_formula() {
    for mono in [false, true] {
        let cfg = VecFcConfig {
            classes: 3,
            input_dim: 5,
            hidden: vec![4, 6],
            mono,
        };
        let net = VecFc::new(&cfg, 7, &cpu()).unwrap();
        randomize(&net.named_params(), 11, mono);
        let (x, y) = random_batch(6, 5, 3, 3);
        let got = net.updates(Rule::Gevb, &x, &y).unwrap().updates;
        let xs: Vec<Vec<f32>> = x.to_vec2().unwrap();
        let want = gevb_by_hand(&net, &xs, &y.to_vec1().unwrap());
        assert_eq!(got.len(), want.len());
        for ((name, u), w) in got.iter().zip(&want) {
            let u = values(u);
            assert_eq!(u.len(), w.len(), "{name}");
            let scale = w.iter().fold(0f32, |a, v| a.max(v.abs()));
            assert!(scale > 0.0, "{name}: the case exercises the update");
            for (i, (a, b)) in u.iter().zip(w).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-5 + 1e-4 * scale,
                    "{name}[{i}]: {a} vs {b} (mono {mono})"
                );
            }
        }
    }
}

/// A literal case: one example, so the output layer's bias update is `e` itself, and its
/// weight update is `Σ_k e_k H_kj` — the same as backprop's (the output unit's G ≡ 1).
#[test]
fn output_layer_update_is_the_output_error() {
    let cfg = VecFcConfig {
        classes: 2,
        input_dim: 1,
        hidden: vec![2],
        mono: false,
    };
    let net = VecFc::new(&cfg, 0, &cpu()).unwrap();
    // All zero: logits 0, softmax (1/2, 1/2), label 0 → e = (−1/2, 1/2).
    for (_, v) in net.named_params() {
        v.set(&v.as_tensor().zeros_like().unwrap()).unwrap();
    }
    let x = Tensor::new(&[[1f32]], &cpu()).unwrap();
    let y = Tensor::new(&[0u32], &cpu()).unwrap();
    let u = net.updates(Rule::Gevb, &x, &y).unwrap().updates;
    assert_eq!(values(u.get("fc1.bias").unwrap()), vec![-0.5, 0.5]);
    // Hidden Z = 0: both gates open (t·0 ≥ 0); its bias update is G_i e_k = e_k.
    assert_eq!(
        values(u.get("fc0.bias").unwrap()),
        vec![-0.5, -0.5, 0.5, 0.5]
    );
    // ΔW0[k, i, 0] = G_i e_k x = e_k.
    assert_eq!(
        values(u.get("fc0.weight").unwrap()),
        vec![-0.5, -0.5, 0.5, 0.5]
    );
    // H = 0, so nothing reaches the output weights.
    assert_eq!(values(u.get("fc1.weight").unwrap()), vec![0.0, 0.0]);
}

#[test]
fn first_layer_equals_the_block_diagonal_expansion() {
    let (k, d, n, b) = (3, 4, 6, 5);
    let cfg = VecFcConfig {
        classes: k,
        input_dim: d,
        hidden: vec![n],
        mono: false,
    };
    let net = VecFc::new(&cfg, 2, &cpu()).unwrap();
    let (x, _) = random_batch(b, d, k, 1);
    let fwd = net.forward(&x).unwrap();
    // The authors' form: expand_input [B, K, K·d] times a dense [n, K·d] matrix.
    let w = values(net.weight(0).unwrap()); // [K, n, d]
    let mut dense = vec![0f32; n * k * d];
    for kk in 0..k {
        for i in 0..n {
            for j in 0..d {
                dense[i * k * d + kk * d + j] = w[(kk * n + i) * d + j];
            }
        }
    }
    let xs: Vec<Vec<f32>> = x.to_vec2().unwrap();
    let mut expanded = vec![0f32; b * k * k * d];
    for bb in 0..b {
        for kk in 0..k {
            for j in 0..d {
                expanded[(bb * k + kk) * k * d + kk * d + j] = xs[bb][j];
            }
        }
    }
    let e = Tensor::from_vec(expanded, (b * k, k * d), &cpu()).unwrap();
    let dw = Tensor::from_vec(dense, (n, k * d), &cpu()).unwrap();
    let z = e
        .matmul(&dw.t().unwrap())
        .unwrap()
        .reshape((b, k, n))
        .unwrap();
    let g = &fwd.gates[0];
    let h = z.broadcast_mul(&g.unsqueeze(1).unwrap()).unwrap();
    let diff = (h - &fwd.inputs[1])
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap();
    assert!(diff.to_scalar::<f32>().unwrap() < 1e-5);
    // The first layer's init: std 1/sqrt(K·d) scaled by √K = 1/sqrt(d), and ON/OFF rows paired
    // only in "+" networks.
    let var = w.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / w.len() as f64;
    assert!(
        var > 0.05 && var < 0.6,
        "variance {var} (expected about 1/d = 0.25)"
    );
}

fn loss_of(net: &VecFc, x: &Tensor, y: &Tensor) -> (f64, Vec<Vec<f32>>) {
    let fwd = net.forward(x).unwrap();
    let lsm = candle_nn::ops::log_softmax(&fwd.logits, candle_core::D::Minus1).unwrap();
    let l: Vec<Vec<f32>> = lsm.to_vec2().unwrap();
    let labels: Vec<u32> = y.to_vec1().unwrap();
    let loss = -labels
        .iter()
        .enumerate()
        .map(|(b, &c)| l[b][c as usize] as f64)
        .sum::<f64>()
        / labels.len() as f64;
    let gates = fwd.gates.iter().map(values).collect();
    (loss, gates)
}

#[test]
fn vectorized_backprop_equals_finite_differences() {
    let cfg = VecFcConfig {
        classes: 3,
        input_dim: 4,
        hidden: vec![4, 4],
        mono: false,
    };
    let net = VecFc::new(&cfg, 5, &cpu()).unwrap();
    randomize(&net.named_params(), 8, false);
    let (x, y) = random_batch(5, 4, 3, 9);
    let grads = net.updates(Rule::Backprop, &x, &y).unwrap().updates;
    let (_, gates0) = loss_of(&net, &x, &y);
    let eps = 2e-3f32;
    let (mut checked, mut skipped) = (0, 0);
    for (name, var) in net.named_params() {
        let base = values(var.as_tensor());
        let g = values(grads.get(&name).unwrap());
        for i in 0..base.len() {
            let at = |delta: f32| {
                let mut p = base.clone();
                p[i] += delta;
                var.set(&Tensor::from_vec(p, var.dims(), &cpu()).unwrap())
                    .unwrap();
                loss_of(&net, &x, &y)
            };
            let (lp, gp) = at(eps);
            let (lm, gm) = at(-eps);
            var.set(&Tensor::from_vec(base.clone(), var.dims(), &cpu()).unwrap())
                .unwrap();
            if gp != gates0 || gm != gates0 {
                // A gate flipped inside the step: the loss is not smooth there.
                skipped += 1;
                continue;
            }
            let fd = (lp - lm) / (2.0 * eps as f64);
            assert!(
                (fd - g[i] as f64).abs() < 2e-3 + 0.02 * fd.abs(),
                "{name}[{i}]: backprop {} vs finite difference {fd}",
                g[i]
            );
            checked += 1;
        }
    }
    assert!(
        checked + skipped == 95 && checked >= 85,
        "checked {checked}, skipped {skipped}"
    );
}

#[test]
fn mono_clamp_keeps_weights_nonnegative() {
    let cfg = VecFcConfig {
        classes: 4,
        input_dim: 6,
        hidden: vec![8, 8],
        mono: true,
    };
    let net = VecFc::new(&cfg, 3, &cpu()).unwrap();
    for l in 1..net.layers() {
        let w = values(net.weight(l).unwrap());
        assert!(w.iter().all(|&v| v >= 0.0), "layer {l} starts >= 0");
    }
    let mut opt = neurogen_model::Adam::new(
        AdamConfig {
            lr: 0.05,
            ..Default::default()
        },
        1,
    )
    .unwrap();
    let mut went_negative = false;
    for s in 0..5 {
        let (x, y) = random_batch(16, 6, 4, 100 + s);
        let out = net.updates(Rule::Gevb, &x, &y).unwrap();
        apply_updates(&net, &mut opt, &out.updates).unwrap();
        went_negative |=
            (1..net.layers()).any(|l| values(net.weight(l).unwrap()).iter().any(|&v| v < 0.0));
        net.after_step().unwrap();
        for l in 1..net.layers() {
            assert!(values(net.weight(l).unwrap()).iter().all(|&v| v >= 0.0));
        }
    }
    assert!(
        went_negative,
        "Adam's steps alone push some weight below 0: the clamp acts"
    );
    // The first layer is not constrained.
    assert!(values(net.weight(0).unwrap()).iter().any(|&v| v < 0.0));

    // The conventional "+" network keeps the same constraint under DFA.
    let fc = Fc::new(
        &FcConfig {
            classes: 4,
            input_dim: 6,
            hidden: vec![8],
            mono: true,
        },
        1,
        &cpu(),
    )
    .unwrap();
    let mut t = RuleTrainer::new(
        fc,
        Rule::Dfa,
        AdamConfig {
            lr: 0.05,
            ..Default::default()
        },
    )
    .unwrap();
    for s in 0..5 {
        let (x, y) = random_batch(16, 6, 4, 200 + s);
        t.step(&x, &y).unwrap();
        assert!(values(t.net().weight(1).unwrap()).iter().all(|&v| v >= 0.0));
    }
}

#[test]
fn dfa_feedback_is_fixed_and_drives_the_hidden_updates() {
    let cfg = FcConfig {
        classes: 3,
        input_dim: 5,
        hidden: vec![6, 4],
        mono: false,
    };
    let fc = Fc::new(&cfg, 4, &cpu()).unwrap();
    let f0 = values(fc.feedback());
    assert_eq!(fc.feedback().dims(), &[3, 6]);
    assert!(f0.iter().all(|&v| (-1.0..1.0).contains(&v)));
    let mut t = RuleTrainer::new(
        fc,
        Rule::Dfa,
        AdamConfig {
            lr: 0.01,
            ..Default::default()
        },
    )
    .unwrap();
    let w_before = values(t.net().weight(0).unwrap());
    for s in 0..4 {
        let (x, y) = random_batch(8, 5, 3, 50 + s);
        t.step(&x, &y).unwrap();
    }
    assert_eq!(
        values(t.net().feedback()),
        f0,
        "the feedback matrix never changes"
    );
    assert_ne!(
        values(t.net().weight(0).unwrap()),
        w_before,
        "DFA trains the first layer"
    );

    // The last hidden layer's bias update is (1/B) Σ_b mask ⊙ (e F[:, :4]), by hand.
    let (x, y) = random_batch(3, 5, 3, 77);
    let fwd = t.net().forward(&x).unwrap();
    let u = t.net().updates(Rule::Dfa, &x, &y).unwrap().updates;
    let p: Vec<Vec<f32>> = candle_nn::ops::softmax_last_dim(&fwd.logits)
        .unwrap()
        .to_vec2()
        .unwrap();
    let labels: Vec<u32> = y.to_vec1().unwrap();
    let mask: Vec<Vec<f32>> = fwd.masks[1].to_vec2().unwrap();
    let f: Vec<Vec<f32>> = t.net().feedback().to_vec2().unwrap();
    let mut want = [0f32; 4];
    for b in 0..3 {
        for (i, wi) in want.iter_mut().enumerate() {
            let proj: f32 = (0..3)
                .map(|k| (p[b][k] - if labels[b] as usize == k { 1.0 } else { 0.0 }) * f[k][i])
                .sum();
            *wi += mask[b][i] * proj / 3.0;
        }
    }
    let got = values(u.get("fc1.bias").unwrap());
    for i in 0..4 {
        assert!((got[i] - want[i]).abs() < 1e-5, "{got:?} vs {want:?}");
    }
    // DFA's hidden updates are not backprop's.
    let g = t.net().updates(Rule::Backprop, &x, &y).unwrap().updates;
    assert_ne!(
        values(g.get("fc0.weight").unwrap()),
        values(u.get("fc0.weight").unwrap())
    );
}

#[test]
fn alignment_is_zero_degrees_when_the_update_is_the_gradient() {
    let cfg = VecFcConfig {
        classes: 3,
        input_dim: 5,
        hidden: vec![6, 4],
        mono: true,
    };
    let net = VecFc::new(&cfg, 9, &cpu()).unwrap();
    let (x, y) = random_batch(12, 5, 3, 4);
    let g = net.updates(Rule::Backprop, &x, &y).unwrap().updates;
    let same = alignment(&g, &g).unwrap();
    assert_eq!(same.len(), 6);
    for a in &same {
        let angle = a.angle_degrees.expect("nonzero gradients");
        assert!(angle < 1e-3, "{}: {angle}", a.name);
        assert_eq!(a.sign_agreement, Some(1.0), "{}", a.name);
    }
    assert_eq!(rule_alignment(&net, Rule::Backprop, &x, &y).unwrap(), same);
    // GEVB: at the output unit (G ≡ 1) its update is the gradient; below, it is not.
    let gevb = rule_alignment(&net, Rule::Gevb, &x, &y).unwrap();
    let out_w = gevb.iter().find(|a| a.name == "fc2.weight").unwrap();
    assert!(out_w.angle_degrees.unwrap() < 1e-3);
    let first = gevb.iter().find(|a| a.name == "fc0.weight").unwrap();
    assert_eq!(first.layer, 0);
    assert!(first.angle_degrees.unwrap() > 1e-2);
    // A mismatched pair of update sets is an error, not a number.
    let other = Fc::new(
        &FcConfig {
            classes: 3,
            input_dim: 5,
            hidden: vec![6, 4],
            mono: false,
        },
        0,
        &cpu(),
    )
    .unwrap();
    let h = other.updates(Rule::Backprop, &x, &y).unwrap().updates;
    let e = alignment(&g, &h).unwrap_err().to_string();
    assert!(e.contains("differ in shape"), "{e}");
}

#[test]
fn bad_shapes_labels_and_settings_are_clear_errors() {
    let cfg = VecFcConfig {
        classes: 3,
        input_dim: 4,
        hidden: vec![4],
        mono: true,
    };
    let net = VecFc::new(&cfg, 0, &cpu()).unwrap();
    let (x, y) = random_batch(2, 4, 3, 0);
    let err = |r: neurogen_studies::clark2021_gevb::Result<_>| -> String {
        match r {
            Ok(()) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    };
    let wrong_d = Tensor::zeros((2, 5), DType::F32, &cpu()).unwrap();
    let e = err(net.updates(Rule::Gevb, &wrong_d, &y).map(|_| ()));
    assert!(e.contains("[batch, 4]"), "{e}");
    let images = Tensor::zeros((2, 1, 2, 2), DType::F32, &cpu()).unwrap();
    let e = err(net.forward(&images).map(|_| ()));
    assert!(e.contains("flattened"), "{e}");
    let bad_label = Tensor::new(&[0u32, 3], &cpu()).unwrap();
    let e = err(net.updates(Rule::Gevb, &x, &bad_label).map(|_| ()));
    assert!(
        e.contains("label 3 at position 1") && e.contains("3 classes"),
        "{e}"
    );
    let short = Tensor::new(&[0u32], &cpu()).unwrap();
    let e = err(net.updates(Rule::Backprop, &x, &short).map(|_| ()));
    assert!(e.contains("expected 2 labels"), "{e}");
    let e = err(net.updates(Rule::Dfa, &x, &y).map(|_| ()));
    assert!(
        e.contains("DFA does not apply to a vectorized network"),
        "{e}"
    );
    let e = err(RuleTrainer::new(net.clone(), Rule::Dfa, AdamConfig::default()).map(|_| ()));
    assert!(e.contains("DFA"), "{e}");
    let e = err(VecFc::new(
        &VecFcConfig {
            hidden: vec![4, 5],
            ..cfg.clone()
        },
        0,
        &cpu(),
    )
    .map(|_| ()));
    assert!(e.contains("hidden layer 1 has width 5"), "{e}");
    let e = err(VecFc::new(
        &VecFcConfig {
            classes: 1,
            ..cfg.clone()
        },
        0,
        &cpu(),
    )
    .map(|_| ()));
    assert!(e.contains("at least 2 classes"), "{e}");
    let e = err(Fc::new(
        &FcConfig {
            classes: 3,
            input_dim: 4,
            hidden: vec![4],
            mono: true,
        },
        0,
        &cpu(),
    )
    .map(|_| ()));
    assert!(e.contains("number of classes must be even"), "{e}");
    let fc = Fc::new(
        &FcConfig {
            classes: 3,
            input_dim: 4,
            hidden: vec![4],
            mono: false,
        },
        0,
        &cpu(),
    )
    .unwrap();
    let e = err(fc.updates(Rule::Gevb, &x, &y).map(|_| ()));
    assert!(
        e.contains("GEVB does not apply to a conventional network"),
        "{e}"
    );
    // A diverged network stops with an error naming the loss, before any update.
    let mut t = RuleTrainer::new(net, Rule::Gevb, AdamConfig::default()).unwrap();
    let nan = Tensor::new(&[[f32::NAN, 0., 0., 0.], [0., 0., 0., 0.]], &cpu()).unwrap();
    let before = values(t.net().weight(1).unwrap());
    let e = err(t.step(&nan, &y).map(|_| ()));
    assert!(e.contains("non-finite") && e.contains("loss"), "{e}");
    assert_eq!(values(t.net().weight(1).unwrap()), before);
}

/// A short training on a few hundred real Fashion-MNIST images lowers the training loss for
/// GEVB+ and vectorized BP (18 steps, narrow layers) and for DFA+ (96 steps at the paper's
/// widths `1024 → 512`: DFA first aligns the output layer with its feedback, and the loss rises
/// for its first ~30 steps before it falls). Adam lr 3e-4 (the paper's), batch 64 (ours).
#[test]
fn short_training_on_fashion_mnist_lowers_the_loss() {
    let Some(dir) = neurogen_data::fashion_mnist_dir() else {
        eprintln!("SKIP: Fashion-MNIST not installed (apt-get install -y dataset-fashion-mnist)");
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let data = neurogen_data::load(
        &dir,
        &neurogen_data::LoadOptions::with_cache_dir(cache.path()),
    )
    .unwrap()
    .dataset;
    let train = data.train.sample(384, 0).unwrap();
    let idx: Vec<usize> = (0..train.len()).collect();
    let (x, y) = flat_batch(&train, &idx, &cpu()).unwrap();
    let adam = neurogen_studies::clark2021_gevb::paper_adam();
    let vec_cfg = |mono| VecFcConfig {
        classes: 10,
        input_dim: 784,
        hidden: vec![64, 32],
        mono,
    };
    fn run<N: RuleNetwork>(
        mut t: RuleTrainer<N>,
        epochs: usize,
        x: &Tensor,
        y: &Tensor,
    ) -> (f64, f64) {
        let before = t.evaluate(x, y, 128).unwrap().loss;
        for _epoch in 0..epochs {
            for s in (0..x.dim(0).unwrap()).step_by(64) {
                let xb = x.narrow(0, s, 64).unwrap();
                let yb = y.narrow(0, s, 64).unwrap();
                t.step(&xb, &yb).unwrap();
            }
        }
        (before, t.evaluate(x, y, 128).unwrap().loss)
    }
    let gevb = RuleTrainer::new(
        VecFc::new(&vec_cfg(true), 0, &cpu()).unwrap(),
        Rule::Gevb,
        adam,
    );
    let bp = RuleTrainer::new(
        VecFc::new(&vec_cfg(false), 0, &cpu()).unwrap(),
        Rule::Backprop,
        adam,
    );
    let dfa = RuleTrainer::new(
        Fc::new(&FcConfig::mnist(true), 0, &cpu()).unwrap(),
        Rule::Dfa,
        adam,
    );
    let results = [
        ("GEVB+", 18, run(gevb.unwrap(), 3, &x, &y)),
        ("BP (vectorized)", 18, run(bp.unwrap(), 3, &x, &y)),
        ("DFA+", 96, run(dfa.unwrap(), 16, &x, &y)),
    ];
    for (name, steps, (before, after)) in results {
        eprintln!("Fashion-MNIST 384 images, {steps} steps, {name}: training loss {before:.3} -> {after:.3}");
        assert!(after < 0.8 * before, "{name}: loss {before} -> {after}");
    }
}

fn tiny_conv(mono: bool) -> VecConvConfig {
    VecConvConfig {
        classes: 2,
        in_channels: 1,
        height: 4,
        width: 4,
        convs: vec![
            VecConvLayer {
                channels: 2,
                kernel: 3,
                stride: 1,
                padding: 1,
                pool: 2,
            },
            VecConvLayer {
                channels: 2,
                kernel: 2,
                stride: 1,
                padding: 0,
                pool: 1,
            },
        ],
        hidden: vec![2],
        mono,
    }
}

/// The convolution updates of GEVB against the formula written with loops:
/// `ΔW[o, c, i, j] = (1/B) Σ_b Σ_{y,x} G[b, o, y, x]·Σ_k e_k(b)·H[b, k, c, y + i − p, x + j − p]`
/// (stride 1), the first layer's per component `k` with the image itself, and
/// `ΔB[k, o] = (1/B) Σ_b e_k(b) Σ_{y,x} G[b, o, y, x]`.
#[test]
fn conv_gevb_update_equals_the_formula() {
    let net = VecConv::new(&tiny_conv(false), 3, &cpu()).unwrap();
    randomize(&net.named_params(), 21, false);
    let (b, k) = (3, 2);
    let (xf, y) = random_batch(b, 16, k, 5);
    let x = xf.reshape((b, 1, 4, 4)).unwrap();
    let fwd = net.forward(&x).unwrap();
    let u = net.updates(Rule::Gevb, &x, &y).unwrap().updates;
    let p: Vec<Vec<f32>> = candle_nn::ops::softmax_last_dim(&fwd.logits)
        .unwrap()
        .to_vec2()
        .unwrap();
    let labels: Vec<u32> = y.to_vec1().unwrap();
    let e: Vec<Vec<f32>> = (0..b)
        .map(|bb| {
            (0..k)
                .map(|kk| p[bb][kk] - if labels[bb] as usize == kk { 1.0 } else { 0.0 })
                .collect()
        })
        .collect();
    let cfg = tiny_conv(false);
    for (l, c) in cfg.convs.iter().enumerate() {
        let g = fwd.conv_gates[l].to_dtype(DType::F32).unwrap();
        let (_, o_n, ho, wo) = g.dims4().unwrap();
        let gv = values(&g);
        let input = values(&fwd.conv_inputs[l]);
        let ci = if l == 0 { 1 } else { 2 };
        let (hi, wi) = if l == 0 { (4, 4) } else { (2, 2) };
        // Input value of example bb, component kk (ignored in layer 0), channel cc at (yy, xx).
        let inp = |bb: usize, kk: usize, cc: usize, yy: isize, xx: isize| -> f32 {
            if yy < 0 || xx < 0 || yy >= hi as isize || xx >= wi as isize {
                return 0.0;
            }
            let (yy, xx) = (yy as usize, xx as usize);
            if l == 0 {
                input[((bb * ci + cc) * hi + yy) * wi + xx]
            } else {
                input[(((bb * k + kk) * ci + cc) * hi + yy) * wi + xx]
            }
        };
        let ks = c.kernel;
        let pad = c.padding as isize;
        let dw = values(u.get(&format!("conv{l}.weight")).unwrap());
        let db = values(u.get(&format!("conv{l}.bias")).unwrap());
        let mut scale = 0f32;
        let mut want_w = vec![0f32; dw.len()];
        for bb in 0..b {
            for o in 0..o_n {
                for yy in 0..ho {
                    for xx in 0..wo {
                        let gg = gv[((bb * o_n + o) * ho + yy) * wo + xx] / b as f32;
                        for cc in 0..ci {
                            for i in 0..ks {
                                for j in 0..ks {
                                    let (sy, sx) = (
                                        yy as isize + i as isize - pad,
                                        xx as isize + j as isize - pad,
                                    );
                                    if l == 0 {
                                        for (kk, ek) in e[bb].iter().enumerate() {
                                            let idx =
                                                (((kk * o_n + o) * ci + cc) * ks + i) * ks + j;
                                            want_w[idx] += gg * ek * inp(bb, 0, cc, sy, sx);
                                        }
                                    } else {
                                        let v: f32 = (0..k)
                                            .map(|kk| e[bb][kk] * inp(bb, kk, cc, sy, sx))
                                            .sum();
                                        want_w[((o * ci + cc) * ks + i) * ks + j] += gg * v;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for (i, (a, w)) in dw.iter().zip(&want_w).enumerate() {
            scale = scale.max(w.abs());
            assert!((a - w).abs() < 1e-5, "conv{l}.weight[{i}]: {a} vs {w}");
        }
        assert!(scale > 0.0, "conv{l}: the case exercises the update");
        for kk in 0..k {
            for o in 0..o_n {
                let want: f32 = (0..b)
                    .map(|bb| {
                        e[bb][kk]
                            * (0..ho * wo)
                                .map(|s| gv[(bb * o_n + o) * ho * wo + s])
                                .sum::<f32>()
                            / b as f32
                    })
                    .sum();
                assert!((db[kk * o_n + o] - want).abs() < 1e-5, "conv{l}.bias");
            }
        }
    }
}

/// The Conv-Vec forward pass against its definition written with loops, layer by layer from
/// the input the network recorded: `Z[b, k, o, y, x] = bias[k, o] + Σ_{c,i,j} W·H` (the
/// first layer with component `k`'s own kernel on the image, later ones with the shared kernel
/// on component `k`), `G = 1[Σ_k t[k, o]·Z[b, k, o, y, x] ≥ 0]`, then the average pool of
/// `G·Z` — which is the next layer's input (the first FC input after the last, here 1×1).
#[test]
fn conv_forward_equals_the_definition() {
    let cfg = tiny_conv(false);
    let net = VecConv::new(&cfg, 7, &cpu()).unwrap();
    randomize(&net.named_params(), 22, false);
    let (b, k) = (3, 2);
    let (xf, _) = random_batch(b, 16, k, 8);
    let fwd = net.forward(&xf.reshape((b, 1, 4, 4)).unwrap()).unwrap();
    let params: std::collections::HashMap<String, Vec<f32>> = net
        .named_params()
        .into_iter()
        .map(|(n, v)| (n, values(v.as_tensor())))
        .collect();
    let (mut ci, mut hi) = (1, 4);
    for (l, c) in cfg.convs.iter().enumerate() {
        let input = values(&fwd.conv_inputs[l]);
        let w = &params[&format!("conv{l}.weight")];
        let bias = &params[&format!("conv{l}.bias")];
        let t = values(net.conv_signs(l).unwrap());
        let (o_n, ks, pad) = (c.channels, c.kernel, c.padding as isize);
        let ho = hi + 2 * c.padding + 1 - ks;
        let mut z = vec![0f32; b * k * o_n * ho * ho];
        let zi = |bb: usize, kk: usize, o: usize, y: usize, x: usize| {
            (((bb * k + kk) * o_n + o) * ho + y) * ho + x
        };
        for bb in 0..b {
            for kk in 0..k {
                for o in 0..o_n {
                    for y in 0..ho {
                        for x in 0..ho {
                            let mut v = bias[kk * o_n + o];
                            for cc in 0..ci {
                                for i in 0..ks {
                                    for j in 0..ks {
                                        let (sy, sx) = (
                                            y as isize + i as isize - pad,
                                            x as isize + j as isize - pad,
                                        );
                                        if sy < 0
                                            || sx < 0
                                            || sy >= hi as isize
                                            || sx >= hi as isize
                                        {
                                            continue;
                                        }
                                        let (sy, sx) = (sy as usize, sx as usize);
                                        let (wv, hv) = if l == 0 {
                                            (
                                                w[(((kk * o_n + o) * ci + cc) * ks + i) * ks + j],
                                                input[((bb * ci + cc) * hi + sy) * hi + sx],
                                            )
                                        } else {
                                            (
                                                w[((o * ci + cc) * ks + i) * ks + j],
                                                input[(((bb * k + kk) * ci + cc) * hi + sy) * hi
                                                    + sx],
                                            )
                                        };
                                        v += wv * hv;
                                    }
                                }
                            }
                            z[zi(bb, kk, o, y, x)] = v;
                        }
                    }
                }
            }
        }
        let gates = values(&fwd.conv_gates[l]);
        let mut g = vec![0f32; b * o_n * ho * ho];
        for bb in 0..b {
            for o in 0..o_n {
                for s in 0..ho * ho {
                    let (y, x) = (s / ho, s % ho);
                    let dot: f32 = (0..k)
                        .map(|kk| t[kk * o_n + o] * z[zi(bb, kk, o, y, x)])
                        .sum();
                    let idx = (bb * o_n + o) * ho * ho + s;
                    g[idx] = if dot >= 0.0 { 1.0 } else { 0.0 };
                    assert!(
                        g[idx] == gates[idx] || dot.abs() < 1e-5,
                        "conv{l} gate [{bb}, {o}, {y}, {x}]: Σ t·Z = {dot}, network {}",
                        gates[idx]
                    );
                }
            }
        }
        let (p, hp) = (c.pool, ho / c.pool);
        let got = if l + 1 < cfg.convs.len() {
            values(&fwd.conv_inputs[l + 1])
        } else {
            values(&fwd.fc_inputs[0])
        };
        assert_eq!(got.len(), b * k * o_n * hp * hp);
        for bb in 0..b {
            for kk in 0..k {
                for o in 0..o_n {
                    for y in 0..hp {
                        for x in 0..hp {
                            let mut want = 0f32;
                            for dy in 0..p {
                                for dx in 0..p {
                                    let (yy, xx) = (y * p + dy, x * p + dx);
                                    want += g[(bb * o_n + o) * ho * ho + yy * ho + xx]
                                        * z[zi(bb, kk, o, yy, xx)];
                                }
                            }
                            want /= (p * p) as f32;
                            // [B, K, O, h, w] between convolutions; the last map is 1×1, so its
                            // flattened (y, x, c) order is the channel order.
                            let a = got[(((bb * k + kk) * o_n + o) * hp + y) * hp + x];
                            assert!((a - want).abs() < 1e-5, "conv{l} output: {a} vs {want}");
                        }
                    }
                }
            }
        }
        assert!(
            g.contains(&1.0) && g.contains(&0.0),
            "conv{l}: both gate values occur"
        );
        (ci, hi) = (o_n, hp);
    }
}

#[test]
fn conv_backprop_equals_finite_differences_and_clamp_holds() {
    let net = VecConv::new(&tiny_conv(false), 4, &cpu()).unwrap();
    randomize(&net.named_params(), 30, false);
    let (xf, y) = random_batch(4, 16, 2, 6);
    let x = xf.reshape((4, 1, 4, 4)).unwrap();
    let grads = net.updates(Rule::Backprop, &x, &y).unwrap().updates;
    let loss = |net: &VecConv| {
        let fwd = net.forward(&x).unwrap();
        let lsm = candle_nn::ops::log_softmax(&fwd.logits, candle_core::D::Minus1).unwrap();
        let l: Vec<Vec<f32>> = lsm.to_vec2().unwrap();
        let labels: Vec<u32> = y.to_vec1().unwrap();
        let v = -labels
            .iter()
            .enumerate()
            .map(|(b, &c)| l[b][c as usize] as f64)
            .sum::<f64>()
            / labels.len() as f64;
        let gates: Vec<Vec<f32>> = fwd
            .conv_gates
            .iter()
            .chain(&fwd.fc_gates)
            .map(values)
            .collect();
        (v, gates)
    };
    let (_, gates0) = loss(&net);
    let eps = 2e-3f32;
    let (mut checked, mut skipped, mut total) = (0, 0, 0);
    for (name, var) in net.named_params() {
        let base = values(var.as_tensor());
        let g = values(grads.get(&name).unwrap());
        for i in 0..base.len() {
            total += 1;
            let at = |delta: f32| {
                let mut p = base.clone();
                p[i] += delta;
                var.set(&Tensor::from_vec(p, var.dims(), &cpu()).unwrap())
                    .unwrap();
                loss(&net)
            };
            let (lp, gp) = at(eps);
            let (lm, gm) = at(-eps);
            var.set(&Tensor::from_vec(base.clone(), var.dims(), &cpu()).unwrap())
                .unwrap();
            if gp != gates0 || gm != gates0 {
                skipped += 1;
                continue;
            }
            let fd = (lp - lm) / (2.0 * eps as f64);
            assert!(
                (fd - g[i] as f64).abs() < 2e-3 + 0.02 * fd.abs(),
                "{name}[{i}]: backprop {} vs finite difference {fd}",
                g[i]
            );
            checked += 1;
        }
    }
    assert_eq!(total, 72);
    assert!(checked >= 60, "checked {checked}, skipped {skipped}");

    // "+": kernels past the first and FC weights start and stay ≥ 0.
    let mono = VecConv::new(&tiny_conv(true), 5, &cpu()).unwrap();
    let nonneg = |n: &VecConv| {
        values(n.conv_weight(1).unwrap()).iter().all(|&v| v >= 0.0)
            && (0..2).all(|l| values(n.fc_weight(l).unwrap()).iter().all(|&v| v >= 0.0))
    };
    assert!(nonneg(&mono));
    let mut t = RuleTrainer::new(
        mono,
        Rule::Gevb,
        AdamConfig {
            lr: 0.05,
            ..Default::default()
        },
    )
    .unwrap();
    for s in 0..4 {
        let (xf, y) = random_batch(8, 16, 2, 60 + s);
        t.step(&xf.reshape((8, 1, 4, 4)).unwrap(), &y).unwrap();
        assert!(nonneg(t.net()));
    }
    // Bad images and settings are named.
    let e = t.net().forward(&xf).unwrap_err().to_string();
    assert!(e.contains("[batch ≥ 1, 1, 4, 4]"), "{e}");
    let mut bad = tiny_conv(true);
    bad.convs[0].pool = 3;
    let e = VecConv::new(&bad, 0, &cpu()).unwrap_err().to_string();
    assert!(e.contains("pooling window 3"), "{e}");
    bad = tiny_conv(true);
    bad.convs[1].channels = 3;
    let e = VecConv::new(&bad, 0, &cpu()).unwrap_err().to_string();
    assert!(e.contains("convolution 1 has 3 channels"), "{e}");
}

/// A narrow Conv-Vec (8 and 8 channels, FC 64) trained by GEVB+ for 24 steps (batch 32, lr
/// 3e-3: ours, to stay within seconds) on 192 real Fashion-MNIST images lowers its training
/// loss.
#[test]
fn conv_vec_gevb_lowers_the_loss_on_fashion_mnist() {
    let Some(dir) = neurogen_data::fashion_mnist_dir() else {
        eprintln!("SKIP: Fashion-MNIST not installed (apt-get install -y dataset-fashion-mnist)");
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let data = neurogen_data::load(
        &dir,
        &neurogen_data::LoadOptions::with_cache_dir(cache.path()),
    )
    .unwrap()
    .dataset;
    let train = data.train.sample(192, 1).unwrap();
    let idx: Vec<usize> = (0..train.len()).collect();
    let (x, y) = train.batch(&idx, &cpu()).unwrap();
    let mut cfg = VecConvConfig::mnist(true);
    cfg.convs[0].channels = 8;
    cfg.convs[1].channels = 8;
    cfg.hidden = vec![64];
    let adam = AdamConfig {
        lr: 3e-3,
        ..Default::default()
    };
    let mut t = RuleTrainer::new(VecConv::new(&cfg, 0, &cpu()).unwrap(), Rule::Gevb, adam).unwrap();
    let before = t.evaluate(&x, &y, 192).unwrap().loss;
    for _ in 0..4 {
        for s in (0..192).step_by(32) {
            t.step(&x.narrow(0, s, 32).unwrap(), &y.narrow(0, s, 32).unwrap())
                .unwrap();
        }
    }
    let after = t.evaluate(&x, &y, 192).unwrap().loss;
    eprintln!("Fashion-MNIST 192 images, 24 steps, Conv-Vec GEVB+: training loss {before:.3} -> {after:.3}");
    assert!(after < 0.8 * before, "loss {before} -> {after}");
}

/// DFA in the conventional CNN: each convolution's update is the outer product of its input
/// and `δ = mask ⊙ reshape(e·F[:, :O·H'·W'])`, written out with loops; the feedback is fixed
/// across steps and the "+" clamp holds.
#[test]
fn conv_dfa_update_equals_the_formula() {
    let cfg = ConvNetConfig::like(&tiny_conv(false));
    let net = ConvNet::new(&cfg, 2, &cpu()).unwrap();
    randomize(&net.named_params(), 40, false);
    // Zero biases (the authors' initialisation), so that the random kernels decide the masks.
    for (name, v) in net.named_params() {
        if name.ends_with("bias") {
            v.set(&v.as_tensor().zeros_like().unwrap()).unwrap();
        }
    }
    let (b, k) = (3, 2);
    let (xf, y) = random_batch(b, 16, k, 8);
    let x = xf.reshape((b, 1, 4, 4)).unwrap();
    let fwd = net.forward(&x).unwrap();
    let u = net.updates(Rule::Dfa, &x, &y).unwrap().updates;
    let p: Vec<Vec<f32>> = candle_nn::ops::softmax_last_dim(&fwd.logits)
        .unwrap()
        .to_vec2()
        .unwrap();
    let labels: Vec<u32> = y.to_vec1().unwrap();
    let e = |bb: usize, kk: usize| p[bb][kk] - if labels[bb] as usize == kk { 1.0 } else { 0.0 };
    let f: Vec<Vec<f32>> = net.feedback().to_vec2().unwrap();
    assert_eq!(
        f[0].len(),
        2 * 4 * 4,
        "the widest hidden layer is conv0's 2×4×4 map"
    );
    for (l, c) in cfg.convs.iter().enumerate() {
        let m = values(&fwd.conv_masks[l]);
        let (_, o_n, ho, wo) = fwd.conv_masks[l].dims4().unwrap();
        let input = values(&fwd.conv_inputs[l]);
        let (_, ci, hi, wi) = fwd.conv_inputs[l].dims4().unwrap();
        let ks = c.kernel;
        let pad = c.padding as isize;
        let mut want_w = vec![0f32; o_n * ci * ks * ks];
        let mut want_b = vec![0f32; o_n];
        for bb in 0..b {
            for o in 0..o_n {
                for yy in 0..ho {
                    for xx in 0..wo {
                        let s = (o * ho + yy) * wo + xx;
                        let proj: f32 = (0..k).map(|kk| e(bb, kk) * f[kk][s]).sum();
                        let delta = m[bb * o_n * ho * wo + s] * proj / b as f32;
                        want_b[o] += delta;
                        for cc in 0..ci {
                            for i in 0..ks {
                                for j in 0..ks {
                                    let sy = yy as isize + i as isize - pad;
                                    let sx = xx as isize + j as isize - pad;
                                    if sy < 0 || sx < 0 || sy >= hi as isize || sx >= wi as isize {
                                        continue;
                                    }
                                    let v = input
                                        [((bb * ci + cc) * hi + sy as usize) * wi + sx as usize];
                                    want_w[((o * ci + cc) * ks + i) * ks + j] += delta * v;
                                }
                            }
                        }
                    }
                }
            }
        }
        let dw = values(u.get(&format!("conv{l}.weight")).unwrap());
        let db = values(u.get(&format!("conv{l}.bias")).unwrap());
        assert!(
            want_w.iter().any(|v| *v != 0.0),
            "conv{l}: the case exercises the update"
        );
        for (i, (a, w)) in dw.iter().zip(&want_w).enumerate() {
            assert!((a - w).abs() < 1e-5, "conv{l}.weight[{i}]: {a} vs {w}");
        }
        for (a, w) in db.iter().zip(&want_b) {
            assert!((a - w).abs() < 1e-5, "conv{l}.bias: {a} vs {w}");
        }
    }

    // "+": fixed non-negative feedback, weights past the first convolution stay ≥ 0.
    let mono = ConvNet::new(&ConvNetConfig::like(&tiny_conv(true)), 3, &cpu()).unwrap();
    let f0 = values(mono.feedback());
    assert!(f0.iter().all(|&v| (0.0..1.0).contains(&v)));
    let mut t = RuleTrainer::new(
        mono,
        Rule::Dfa,
        AdamConfig {
            lr: 0.05,
            ..Default::default()
        },
    )
    .unwrap();
    for s in 0..4 {
        let (xf, y) = random_batch(8, 16, 2, 90 + s);
        t.step(&xf.reshape((8, 1, 4, 4)).unwrap(), &y).unwrap();
        assert!(values(t.net().conv_weight(1).unwrap())
            .iter()
            .all(|&v| v >= 0.0));
    }
    assert_eq!(values(t.net().feedback()), f0);
    let e = t.net().updates(Rule::Gevb, &x, &y).unwrap_err().to_string();
    assert!(e.contains("GEVB does not apply"), "{e}");
    let e = t.net().forward(&xf).unwrap_err().to_string();
    assert!(e.contains("[batch ≥ 1, 1, 4, 4]"), "{e}");
}

/// The paper's mechanism on one example: in a "+" network every backpropagated unit error
/// `g_i` is ≥ 0 (non-negative weights below a G ≡ 1 output), so each entry of the exact
/// gradient is either 0 or of the sign of GEVB's update; in a plain network it is not.
#[test]
fn gevb_is_sign_matched_to_the_gradient_in_plus_networks() {
    let disagreements = |mono: bool, seed: u64| -> (usize, usize) {
        let cfg = VecFcConfig {
            classes: 4,
            input_dim: 6,
            hidden: vec![8, 8],
            mono,
        };
        let net = VecFc::new(&cfg, seed, &cpu()).unwrap();
        let (mut bad, mut nonzero) = (0, 0);
        for s in 0..5 {
            let (x, y) = random_batch(1, 6, 4, seed * 10 + s);
            let u = net.updates(Rule::Gevb, &x, &y).unwrap().updates;
            let g = net.updates(Rule::Backprop, &x, &y).unwrap().updates;
            for (name, ut) in u.iter() {
                for (a, b) in values(ut).iter().zip(values(g.get(name).unwrap())) {
                    if b.abs() > 1e-7 {
                        nonzero += 1;
                        if a * b < 0.0 {
                            bad += 1;
                        }
                    }
                }
            }
        }
        (bad, nonzero)
    };
    for seed in 0..3 {
        let (bad, nonzero) = disagreements(true, seed);
        assert!(nonzero > 100, "the case has gradients ({nonzero})");
        assert_eq!(
            bad, 0,
            "\"+\" network, seed {seed}: {bad} of {nonzero} entries disagree"
        );
    }
    let (bad, nonzero) = disagreements(false, 0);
    assert!(
        bad > nonzero / 20,
        "plain network: only {bad} of {nonzero} disagree"
    );
}

/// The alignment log records a rule's angles epoch by epoch, gives a series to plot, and
/// round-trips through its JSON file.
#[test]
fn alignment_log_records_and_saves() {
    let cfg = VecFcConfig {
        classes: 3,
        input_dim: 5,
        hidden: vec![6, 4],
        mono: true,
    };
    let mut t = RuleTrainer::new(
        VecFc::new(&cfg, 1, &cpu()).unwrap(),
        Rule::Gevb,
        AdamConfig {
            lr: 0.01,
            ..Default::default()
        },
    )
    .unwrap();
    let (x, y) = random_batch(16, 5, 3, 12);
    let mut log = AlignmentLog::default();
    for epoch in 0..3 {
        log.record(epoch, t.net(), Rule::Gevb, &x, &y).unwrap();
        t.step(&x, &y).unwrap();
    }
    let series = log.angle_series("fc0.weight");
    assert_eq!(
        series.iter().map(|s| s.0).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert!(series
        .iter()
        .all(|s| s.1.is_some_and(|a| (0.0..=180.0).contains(&a))));
    // The output unit's update is the gradient at every epoch.
    assert!(log
        .angle_series("fc2.weight")
        .iter()
        .all(|s| s.1.unwrap() < 1e-3));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alignment.json");
    log.save_json(&path).unwrap();
    let back: AlignmentLog = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(back, log);
}
