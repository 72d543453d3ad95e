//! Neurogenesis events: exact bookkeeping of weights and Adam moments, targeted selection,
//! additive growth, excitability, and the reference quirks (a)–(c).
mod common;

use candle_core::{DType, Device, Tensor};
use common::{activation, adam_with_state, drive, event, model, params, start, vals, value};
use neurogen_model::{Adam, Cnn};
use neurogen_regularizers::neurogenesis::{
    candidates, importance, reference_candidates, reference_event_size,
};
use neurogen_regularizers::spec::stream;
use neurogen_regularizers::{
    ForwardCtx, Growth, Neurogenesis, NeurogenesisConfig, Regularizer, Selection, UnitCount,
};
use proptest::prelude::*;

fn ngn(cfg: NeurogenesisConfig, quirks: bool, seed: u64) -> Neurogenesis {
    Neurogenesis::new(cfg, quirks, stream(seed, 2, 0)).unwrap()
}

fn state(adam: &Adam, name: &str) -> (Vec<f32>, Vec<f32>, u64) {
    let s = adam.state(name, 0).unwrap().unwrap();
    (vals(&s.m), vals(&s.v), s.step)
}

/// Whether flat index `i` of a `[rows, cols]` (or `[rows]`, cols = 1) tensor belongs to one of
/// `units` along `axis`.
fn in_units(i: usize, cols: usize, axis: usize, units: &[usize]) -> bool {
    let u = if axis == 0 { i / cols } else { i % cols };
    units.contains(&u)
}

/// Checks one turnover event (no quirks) of `layer` against the state before it.
fn check_turnover(
    before: &[(String, Vec<f32>)],
    adam_before: &Adam,
    m: &Cnn,
    adam: &Adam,
    layer: usize,
    units: &[usize],
) {
    let (w_name, b_name, out_name) = m.hidden_param_names(layer).unwrap();
    let width = m.hidden_width(layer).unwrap();
    for (name, old) in before {
        let new = vals(&value(m, name));
        let dims = value(m, name).dims().to_vec();
        let cols = if dims.len() == 2 { dims[1] } else { 1 };
        let (axis, bound) = if *name == w_name || *name == b_name {
            let fan_in = value(m, &w_name).dims()[1];
            (Some(0), 1.0 / (fan_in as f32).sqrt())
        } else if *name == out_name {
            (Some(1), 1.0 / (width as f32).sqrt())
        } else {
            (None, 0.0)
        };
        let (om, ov, ostep) = state(adam_before, name);
        let (nm, nv, nstep) = state(adam, name);
        assert_eq!(ostep, nstep, "{name}: Adam step count changed");
        for i in 0..old.len() {
            let selected = axis.is_some_and(|ax| in_units(i, cols, ax, units));
            if selected {
                assert!(
                    new[i].abs() <= bound,
                    "{name}[{i}] = {} outside ±{bound}",
                    new[i]
                );
                assert_eq!((nm[i], nv[i]), (0.0, 0.0), "{name}[{i}]: moments not reset");
            } else {
                assert_eq!(new[i].to_bits(), old[i].to_bits(), "{name}[{i}] changed");
                assert_eq!(nm[i].to_bits(), om[i].to_bits(), "{name}[{i}]: m changed");
                assert_eq!(nv[i].to_bits(), ov[i].to_bits(), "{name}[{i}]: v changed");
            }
        }
        if let Some(ax) = axis {
            // The fresh values are new draws, not the old ones.
            let changed = (0..old.len())
                .filter(|&i| in_units(i, cols, ax, units))
                .filter(|&i| new[i] != old[i])
                .count();
            let total = (0..old.len())
                .filter(|&i| in_units(i, cols, ax, units))
                .count();
            assert!(
                changed * 10 >= total * 9,
                "{name}: {changed}/{total} redrawn"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn turnover_touches_exactly_the_chosen_units(
        width in 3usize..24,
        layer in 0usize..3,
        n_frac in 0.05f64..1.0,
        mode in prop_oneof![
            Just(Selection::Random),
            Just(Selection::TargetedLow),
            Just(Selection::TargetedHigh)
        ],
        seed in 0u64..1000,
    ) {
        let mut m = model(width, seed);
        let mut adam = adam_with_state(&m, seed + 1);
        let n = ((n_frac * width as f64) as usize).max(1);
        let portion = if mode == Selection::Random { 0.5 } else { 1.0 };
        let cfg = NeurogenesisConfig {
            n: UnitCount::Count(n),
            layer,
            mode,
            portion,
            ..Default::default()
        };
        let mut ng = ngn(cfg, false, seed);
        let before = params(&m);
        let adam_before = adam.clone();
        let ev = event(&mut ng, &mut m, &mut adam, 5, 0).unwrap();
        prop_assert_eq!(ev.units.len(), n);
        prop_assert_eq!(&ev.units, &ev.removed);
        prop_assert!(ev.units.windows(2).all(|w| w[0] < w[1]) && ev.units.iter().all(|&u| u < width));
        prop_assert_eq!(m.hidden_width(layer).unwrap(), width);
        check_turnover(&before, &adam_before, &m, &adam, layer, &ev.units);
    }

    #[test]
    fn targeted_selection_draws_only_from_its_portion(
        width in 4usize..40,
        portion in 0.1f64..1.0,
        high in any::<bool>(),
        seed in 0u64..1000,
    ) {
        let mut m = model(width, seed);
        let mut adam = adam_with_state(&m, seed);
        let mode = if high { Selection::TargetedHigh } else { Selection::TargetedLow };
        let k = ((portion * width as f64).round() as usize).max(1);
        let n = (k / 2).max(1);
        let imp = importance(&value(&m, "fcs.1.weight")).unwrap();
        let pool = candidates(&imp, portion, mode);
        prop_assert_eq!(pool.len(), k);
        // The pool is exactly the k least (most) important units.
        let mut sorted = imp.clone();
        sorted.sort_by(f64::total_cmp);
        for (u, &iu) in imp.iter().enumerate() {
            let in_pool = pool.contains(&u);
            if high {
                if in_pool { prop_assert!(iu >= sorted[width - k]); }
                else { prop_assert!(iu <= sorted[width - k]); }
            } else if in_pool {
                prop_assert!(iu <= sorted[k - 1]);
            } else {
                prop_assert!(iu >= sorted[k - 1]);
            }
        }
        let cfg = NeurogenesisConfig { n: UnitCount::Count(n), mode, portion, ..Default::default() };
        let mut ng = ngn(cfg, false, seed);
        let ev = event(&mut ng, &mut m, &mut adam, 0, 0).unwrap();
        prop_assert!(ev.units.iter().all(|u| pool.contains(u)), "{:?} not in {:?}", ev.units, pool);
    }

    #[test]
    fn additive_growth_appends_units_and_zero_moments(
        width in 2usize..20,
        n in 1usize..6,
        layer in 0usize..3,
        seed in 0u64..1000,
    ) {
        let n = n.min(width);
        let mut m = model(width, seed);
        let mut adam = adam_with_state(&m, seed);
        let cfg = NeurogenesisConfig {
            n: UnitCount::Count(n),
            layer,
            growth: Growth::Additive,
            ..Default::default()
        };
        let mut ng = ngn(cfg, false, seed);
        let before = params(&m);
        let adam_before = adam.clone();
        let ev = event(&mut ng, &mut m, &mut adam, 0, 0).unwrap();
        prop_assert_eq!(&ev.units, &(width..width + n).collect::<Vec<_>>());
        prop_assert_eq!(m.hidden_width(layer).unwrap(), width + n);
        m.check_shapes().unwrap();
        let (w_name, b_name, out_name) = m.hidden_param_names(layer).unwrap();
        for (name, old) in &before {
            let t = value(&m, name);
            let st = adam.state(name, 0).unwrap().unwrap();
            let (om, ov, _) = state(&adam_before, name);
            if *name == w_name || *name == b_name {
                let fan_in = if t.rank() == 2 { t.dim(1).unwrap() } else { value(&m, &w_name).dim(1).unwrap() };
                let new = vals(&t);
                // Old rows first, bit-identical; new rows within bounds; moments zero-extended.
                prop_assert_eq!(&new[..old.len()], &old[..]);
                let b = 1.0 / (fan_in as f32).sqrt();
                prop_assert!(new[old.len()..].iter().all(|x| x.abs() <= b));
                prop_assert_eq!(&vals(&st.m)[..old.len()], &om[..]);
                prop_assert!(vals(&st.m)[old.len()..].iter().all(|&x| x == 0.0));
                prop_assert!(vals(&st.v)[old.len()..].iter().all(|&x| x == 0.0));
                prop_assert_eq!(st.m.dims(), t.dims());
            } else if *name == out_name {
                let (rows, cols) = t.dims2().unwrap();
                prop_assert_eq!(cols, width + n);
                let new = vals(&t);
                let mv = vals(&st.m);
                let vv = vals(&st.v);
                let b = 1.0 / ((width + n) as f32).sqrt();
                for r in 0..rows {
                    for c in 0..cols {
                        let i = r * cols + c;
                        if c < width {
                            prop_assert_eq!(new[i].to_bits(), old[r * width + c].to_bits());
                            prop_assert_eq!(mv[i].to_bits(), om[r * width + c].to_bits());
                            prop_assert_eq!(vv[i].to_bits(), ov[r * width + c].to_bits());
                        } else {
                            prop_assert!(new[i].abs() <= b);
                            prop_assert_eq!((mv[i], vv[i]), (0.0, 0.0));
                        }
                    }
                }
            } else {
                prop_assert_eq!(&vals(&t), old);
                prop_assert_eq!(vals(&st.m), om);
            }
        }
    }
}

#[test]
fn fraction_and_width_validation() {
    let mut m = model(10, 0);
    let mut adam = adam_with_state(&m, 0);
    let cfg = NeurogenesisConfig {
        n: UnitCount::Fraction(0.35),
        ..Default::default()
    };
    let ev = event(&mut ngn(cfg, false, 0), &mut m, &mut adam, 0, 0).unwrap();
    assert_eq!(ev.units.len(), 3, "floor(0.35 * 10)");
    let too_many = NeurogenesisConfig {
        n: UnitCount::Count(11),
        ..Default::default()
    };
    let e = start(&mut ngn(too_many, false, 0), &mut m, &mut adam).unwrap_err();
    assert!(e.contains("n=11 is larger than layer 1 (10 units)"), "{e}");
    let no_layer = NeurogenesisConfig {
        layer: 3,
        ..Default::default()
    };
    let e = start(&mut ngn(no_layer, false, 0), &mut m, &mut adam).unwrap_err();
    assert!(e.contains("layer=3 does not exist"), "{e}");
    let narrow = NeurogenesisConfig {
        n: UnitCount::Count(4),
        mode: Selection::TargetedLow,
        portion: 0.2,
        ..Default::default()
    };
    let e = start(&mut ngn(narrow, false, 0), &mut m, &mut adam).unwrap_err();
    assert!(e.contains("raise portion or lower n"), "{e}");
}

#[test]
fn schedule_every_f_steps_until_epoch() {
    let mut m = model(8, 0);
    let mut adam = adam_with_state(&m, 0);
    let cfg = NeurogenesisConfig {
        n: UnitCount::Count(2),
        every: 3,
        until_epoch: 2,
        ..Default::default()
    };
    let mut ng = ngn(cfg, false, 0);
    drive(&mut ng, &mut m, &mut adam, 4, 10);
    let steps: Vec<usize> = ng.events().iter().map(|e| e.step).collect();
    assert_eq!(
        steps,
        vec![3, 6, 9, 12, 15, 18],
        "events in epochs 0 and 1 only"
    );
    assert_eq!(ng.report()["events"], 6);
    assert_eq!(ng.report()["units"], 12);
}

#[test]
fn quirk_a_fires_before_every_minibatch_of_epoch_0_only() {
    let mut m = model(8, 0);
    let mut adam = adam_with_state(&m, 0);
    let cfg = NeurogenesisConfig {
        n: UnitCount::Count(2),
        every: 640,
        until_epoch: 10,
        ..Default::default()
    };
    let mut ng = ngn(cfg, true, 0);
    drive(&mut ng, &mut m, &mut adam, 3, 10);
    let at: Vec<(usize, usize)> = ng.events().iter().map(|e| (e.epoch, e.step)).collect();
    assert_eq!(at, (0..10).map(|s| (0, s)).collect::<Vec<_>>());
    // With every = 1 it fires before every minibatch of every epoch below until_epoch.
    let cfg1 = NeurogenesisConfig {
        n: UnitCount::Count(1),
        every: 2,
        until_epoch: 3,
        ..Default::default()
    };
    let mut ng = ngn(cfg1, true, 0);
    drive(&mut ng, &mut m, &mut adam, 4, 2);
    let epochs: Vec<usize> = ng.events().iter().map(|e| e.epoch).collect();
    assert_eq!(epochs, vec![0, 0, 2, 2]);
}

#[test]
fn quirk_b_freezes_the_layer_and_quirk_layout_compacts() {
    let width = 10;
    let mut m = model(width, 3);
    let mut adam = adam_with_state(&m, 3);
    let cfg = NeurogenesisConfig {
        n: UnitCount::Count(3),
        ..Default::default()
    };
    let mut ng = ngn(cfg, true, 5);
    let before = params(&m);
    let adam_before = adam.clone();
    for name in ["fcs.1.weight", "fcs.1.bias", "fcs.2.weight"] {
        assert!(!adam.is_frozen(name, 0));
    }
    let ev = event(&mut ng, &mut m, &mut adam, 0, 0).unwrap();
    for name in ["fcs.1.weight", "fcs.1.bias", "fcs.2.weight"] {
        assert!(adam.is_frozen(name, 0), "{name} should be frozen (quirk b)");
    }
    for name in [
        "fcs.0.weight",
        "fcs.0.bias",
        "fcs.2.bias",
        "fc3.weight",
        "conv1.weight",
    ] {
        assert!(!adam.is_frozen(name, 0), "{name}");
    }
    // New units at the end; survivors moved up in order, bit-identical.
    assert_eq!(ev.units, vec![7, 8, 9]);
    assert_eq!(ev.removed.len(), 3);
    let keep: Vec<usize> = (0..width).filter(|u| !ev.removed.contains(u)).collect();
    let get = |name: &str| before.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let (w_old, b_old, o_old) = (get("fcs.1.weight"), get("fcs.1.bias"), get("fcs.2.weight"));
    let w_new = vals(&value(&m, "fcs.1.weight"));
    let b_new = vals(&value(&m, "fcs.1.bias"));
    let o_new = vals(&value(&m, "fcs.2.weight"));
    let bound = 1.0 / (width as f32).sqrt();
    for (pos, &u) in keep.iter().enumerate() {
        assert_eq!(
            &w_new[pos * width..(pos + 1) * width],
            &w_old[u * width..(u + 1) * width]
        );
        assert_eq!(b_new[pos], b_old[u]);
        for r in 0..width {
            assert_eq!(o_new[r * width + pos], o_old[r * width + u]);
        }
    }
    for pos in 7..10 {
        assert!(w_new[pos * width..(pos + 1) * width]
            .iter()
            .all(|x| x.abs() <= bound));
        for r in 0..width {
            assert!(o_new[r * width + pos].abs() <= bound);
        }
    }
    // Frozen parameters' moments are left alone (the reference's optimiser holds stale ones).
    for name in ["fcs.1.weight", "fcs.2.weight"] {
        assert_eq!(state(&adam, name), state(&adam_before, name));
    }
}

/// Fig. 4 as the published code runs it (`c10-compare-targeted.py`: `neurogenesis = 10`,
/// `targeted_portion = 0.032`, 250 units): `add_new` cuts each event to
/// `round(0.032·250) − 3 = 5` units, drawn from all but the 7 most important units.
#[test]
fn quirks_reproduce_the_published_targeted_selection_and_event_size() {
    let width = 250;
    let mut m = model(width, 11);
    let mut adam = adam_with_state(&m, 11);
    let cfg = NeurogenesisConfig {
        n: UnitCount::Count(10),
        mode: Selection::TargetedLow,
        portion: 0.032,
        ..Default::default()
    };
    let mut ng = ngn(cfg, true, 4);
    for step in 0..20 {
        let imp = importance(&value(&m, "fcs.1.weight")).unwrap();
        let mut order: Vec<usize> = (0..width).collect();
        order.sort_by(|&a, &b| imp[b].total_cmp(&imp[a]));
        let top7 = &order[..7];
        let pool = reference_candidates(&imp, 0.032, Selection::TargetedLow);
        assert_eq!(pool.len(), 243, "all but the 7 most important");
        assert!(pool.iter().all(|u| !top7.contains(u)));
        let ev = event(&mut ng, &mut m, &mut adam, step, 0).unwrap();
        assert_eq!(
            ev.removed.len(),
            5,
            "event {step}: the reference's size logic"
        );
        assert!(
            ev.removed.iter().all(|u| !top7.contains(u)),
            "{:?}",
            ev.removed
        );
        assert_eq!(ev.units, (245..250).collect::<Vec<_>>());
    }
    // Without quirks: n as given, from the round(0.032·250) = 8 least important units.
    let mut ng = ngn(cfg, false, 4);
    let imp = importance(&value(&m, "fcs.1.weight")).unwrap();
    let err = event(&mut ng, &mut m, &mut adam, 0, 0).unwrap_err();
    assert!(err.to_string().contains("8 candidates"), "{err}");
    assert_eq!(candidates(&imp, 0.032, Selection::TargetedLow).len(), 8);
    // The size logic leaves n alone when the portion holds more than n units.
    assert_eq!(reference_event_size(8, 250, 0.2), Some(8));
    assert_eq!(reference_event_size(8, 250, 0.032), Some(5));
    // The flipped comparison for targeted-high: the k − 2 most important units.
    let high = reference_candidates(&imp, 0.2, Selection::TargetedHigh);
    assert_eq!(high.len(), 48);
    let low = reference_candidates(&imp, 0.2, Selection::TargetedLow);
    assert_eq!(low.len(), 201);
    // A size the reference cannot run is a clear error, not a panic.
    let tiny = NeurogenesisConfig {
        n: UnitCount::Count(10),
        mode: Selection::TargetedLow,
        portion: 0.01,
        ..Default::default()
    };
    let err = event(&mut ngn(tiny, true, 4), &mut m, &mut adam, 0, 0).unwrap_err();
    assert!(err.to_string().contains("cuts n=10"), "{err}");
}

fn ones(width: usize) -> Tensor {
    Tensor::ones((4, width), DType::F32, &Device::Cpu).unwrap()
}

fn column_factors(t: &Tensor) -> Vec<f32> {
    vals(&t.sum(0).unwrap()).iter().map(|x| x / 4.0).collect()
}

#[test]
fn quirk_c_excites_removed_indices_and_default_excites_new_units() {
    let width = 12;
    for quirks in [false, true] {
        let mut m = model(width, 1);
        let mut adam = adam_with_state(&m, 1);
        let cfg = NeurogenesisConfig {
            n: UnitCount::Count(3),
            excite: Some(2.5),
            until_epoch: 2,
            ..Default::default()
        };
        let mut ng = ngn(cfg, quirks, 9);
        // Before the first event: no excitability.
        let a = activation(&mut ng, 1, &ones(width), &ForwardCtx::train(0, 0));
        assert_eq!(column_factors(&a), vec![1.0; width]);
        let ev = event(&mut ng, &mut m, &mut adam, 0, 0).unwrap();
        let excited: Vec<usize> = if quirks {
            ev.removed.clone()
        } else {
            ev.units.clone()
        };
        assert_eq!(ng.excited_units(), excited.as_slice());
        if quirks {
            assert_eq!(ev.units, vec![9, 10, 11]);
            assert_ne!(
                ev.removed, ev.units,
                "this seed removes units other than the last ones"
            );
        }
        let a = activation(&mut ng, 1, &ones(width), &ForwardCtx::train(1, 5));
        let f = column_factors(&a);
        for (u, &fu) in f.iter().enumerate() {
            let want = if excited.contains(&u) { 2.5 } else { 1.0 };
            assert_eq!(fu, want, "quirks={quirks} unit {u}");
        }
        // Only in training, only on the neurogenesis layer, only while neurogenesis is on.
        for (layer, c) in [
            (1, ForwardCtx::eval()),
            (0, ForwardCtx::train(0, 1)),
            (1, ForwardCtx::train(2, 99)),
        ] {
            let a = activation(&mut ng, layer, &ones(width), &c);
            assert_eq!(column_factors(&a), vec![1.0; width], "{layer} {c:?}");
        }
    }
}

#[test]
fn events_are_reproducible_from_the_seed() {
    let run = |seed: u64| {
        let mut m = model(9, 0);
        let mut adam = adam_with_state(&m, 0);
        let mut ng = ngn(
            NeurogenesisConfig {
                n: UnitCount::Count(3),
                ..Default::default()
            },
            false,
            seed,
        );
        event(&mut ng, &mut m, &mut adam, 0, 0).unwrap();
        event(&mut ng, &mut m, &mut adam, 1, 0).unwrap();
        (ng.events().to_vec(), params(&m))
    };
    assert_eq!(run(4), run(4));
    assert_ne!(run(4).1, run(5).1);
}
