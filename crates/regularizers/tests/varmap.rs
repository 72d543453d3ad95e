//! Our step hooks on a `candle-nn` model of one's own (a `VarMap` with [`VarAdam`], through
//! [`VarMapStore`]) do exactly what they do on one replica of our network: same weights, same
//! seed, same step give bit-identical weights and Adam moments after Adam steps, a neurogenesis
//! turnover event, and freezing.
//!
//! Bit-for-bit, with no tolerance: both sides run the same code on the same values — the event
//! draws its units and fresh weights from the same seeded generator and selects the untouched
//! elements unchanged, and `VarAdam` calls the same fused Adam kernel as `Adam`, elementwise,
//! on a `[out, in]` tensor where `Adam` sees `[1, out, in]`.
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use neurogen_model::{
    edit_replica, Adam, AdamConfig, Cnn, HiddenLayer, ModelConfig, ParamState, Phase, StepCtx,
    StepCx, VarAdam, VarMapStore,
};
use neurogen_regularizers::{
    Freeze, FreezeConfig, Neurogenesis, NeurogenesisConfig, Regularizer, UnitCount,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Our network (one replica), its optimiser, and a `VarMap` + `VarAdam` holding copies of the
/// same weights under the same names.
struct Pair {
    net: Cnn,
    adam: Adam,
    varmap: VarMap,
    var_adam: VarAdam,
    layers: Vec<HiddenLayer>,
}

fn pair() -> Pair {
    let dev = Device::Cpu;
    let net = Cnn::new(&ModelConfig::fashion_mnist(), 11, &dev).unwrap();
    let varmap = VarMap::new();
    {
        let mut data = varmap.data().lock().unwrap();
        for (name, _) in net.named_params() {
            let t = net.value(name, 0).unwrap().copy().unwrap();
            data.insert(name.to_string(), Var::from_tensor(&t).unwrap());
        }
    }
    let layers = (0..net.num_hidden())
        .map(|l| {
            let (weight, bias, next_weight) = net.hidden_param_names(l).unwrap();
            HiddenLayer {
                weight,
                bias,
                next_weight,
            }
        })
        .collect();
    let var_adam = VarAdam::new(varmap.all_vars(), AdamConfig::default()).unwrap();
    Pair {
        net,
        adam: Adam::new(AdamConfig::default(), 1).unwrap(),
        varmap,
        var_adam,
        layers,
    }
}

/// A deterministic "gradient" per parameter and step: the loss `Σ p ⊙ c` has gradient `c`.
fn coefficients(shape: &[usize], step: usize, name: &str) -> Tensor {
    let n: usize = shape.iter().product();
    let salt = name.len() as f32;
    let v: Vec<f32> = (0..n)
        .map(|i| ((i as f32 * 0.731 + step as f32 * 1.37 + salt).sin()) * 1e-2)
        .collect();
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

impl Pair {
    fn var(&self, name: &str) -> Var {
        self.varmap.data().lock().unwrap()[name].clone()
    }

    /// One Adam step on both sides with the same gradients.
    fn adam_step(&mut self, step: usize) {
        let names: Vec<String> = self
            .net
            .named_params()
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        let mut ours = Tensor::zeros((), DType::F32, &Device::Cpu).unwrap();
        let mut theirs = ours.clone();
        for name in &names {
            let var = self.net.param(name).unwrap();
            let c = coefficients(&var.dims()[1..], step, name);
            ours = (ours
                + (var.as_tensor() * c.unsqueeze(0).unwrap())
                    .unwrap()
                    .sum_all())
            .unwrap();
            let v = self.var(name);
            theirs = (theirs + (v.as_tensor() * c).unwrap().sum_all()).unwrap();
        }
        let g = ours.backward().unwrap();
        self.adam
            .step(self.net.named_params(), &g, &[true])
            .unwrap();
        let g = theirs.backward().unwrap();
        self.var_adam.update(&g).unwrap();
    }

    /// Runs `reg`'s step hook in `phase` at `ctx` on our network, and `twin`'s on the VarMap.
    fn on_step<R: Regularizer>(&mut self, reg: &mut R, twin: &mut R, phase: Phase, ctx: StepCtx) {
        edit_replica(&mut self.net, &mut self.adam, 0, ctx, |cx| {
            reg.on_step(phase, cx)
        })
        .unwrap();
        let mut store =
            VarMapStore::new(&self.varmap, &mut self.var_adam, self.layers.clone()).unwrap();
        twin.on_step(phase, &mut StepCx::over(&mut store, ctx))
            .unwrap();
    }

    /// Asserts that every weight and every Adam moment and step count is bit-identical.
    fn assert_identical(&self, when: &str) {
        let bits = |t: &Tensor| -> Vec<u32> {
            t.flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
                .iter()
                .map(|x| x.to_bits())
                .collect()
        };
        for (name, _) in self.net.named_params() {
            let var = self.var(name);
            assert_eq!(
                bits(&self.net.value(name, 0).unwrap()),
                bits(var.as_tensor()),
                "{when}: weight {name}"
            );
            let ours = self.adam.state(name, 0).unwrap();
            let theirs = self.var_adam.state(&var);
            match (ours, theirs) {
                (None, None) => {}
                (Some(a), Some(b)) => {
                    assert_eq!(bits(&a.m), bits(&b.m), "{when}: first moment of {name}");
                    assert_eq!(bits(&a.v), bits(&b.v), "{when}: second moment of {name}");
                    assert_eq!(a.step, b.step, "{when}: step count of {name}");
                }
                (a, b) => panic!(
                    "{when}: {name} has state {} in our network, {} in the VarMap",
                    a.is_some(),
                    b.is_some()
                ),
            }
        }
    }
}

fn ctx(step: usize) -> StepCtx {
    StepCtx {
        epoch: 0,
        batch: step,
        step,
        batches_per_epoch: 100,
    }
}

fn neurogenesis(seed: u64) -> Neurogenesis {
    let config = NeurogenesisConfig {
        n: UnitCount::Count(8),
        every: 3,
        ..NeurogenesisConfig::default()
    };
    Neurogenesis::new(config, false, ChaCha8Rng::seed_from_u64(seed)).unwrap()
}

#[test]
fn turnover_on_a_varmap_equals_turnover_on_our_network() {
    let mut p = pair();
    p.assert_identical("at the start");
    let (mut ours, mut theirs) = (neurogenesis(5), neurogenesis(5));
    p.on_step(&mut ours, &mut theirs, Phase::Start, ctx(0));
    let (mut before, mut after_event) = (None, None);
    for step in 1..=4 {
        p.adam_step(step);
        p.assert_identical(&format!("after Adam step {step}"));
        // A copy: the value shares the parameter's storage, which Adam updates in place.
        let w = || p.net.value("fcs.1.weight", 0).unwrap().copy().unwrap();
        if step == 3 {
            before = Some(w());
        }
        p.on_step(&mut ours, &mut theirs, Phase::AfterStep, ctx(step));
        if step == 3 {
            after_event = Some(p.net.value("fcs.1.weight", 0).unwrap().copy().unwrap());
        }
        p.assert_identical(&format!("after the step hooks of step {step}"));
    }
    let (before, after_event) = (before.unwrap(), after_event.unwrap());
    // The event at step 3 happened on both sides, to the same units.
    assert_eq!(ours.events().len(), 1);
    assert_eq!(ours.events(), theirs.events());
    let units = &ours.events()[0].units;
    assert_eq!(units.len(), 8);
    // It changed the chosen rows and only those (a real event, not two no-ops that agree) ...
    let changed = (before - &after_event)
        .unwrap()
        .abs()
        .unwrap()
        .sum(1)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    for (u, d) in changed.iter().enumerate() {
        assert_eq!(*d > 0.0, units.contains(&u), "unit {u}: change {d}");
    }
    // ... and the new units' moments were reset to zero, then moved by one Adam step (step 4).
    let var = p.var("fcs.1.bias");
    let st = p.var_adam.state(&var).unwrap();
    assert_eq!(st.step, 4, "turnover keeps the step count");
}

#[test]
fn turnover_zeroes_the_new_units_moments_in_the_varmap_optimiser() {
    let mut p = pair();
    p.adam_step(1);
    let mut reg = neurogenesis(9);
    let mut store = VarMapStore::new(&p.varmap, &mut p.var_adam, p.layers.clone()).unwrap();
    let ev = reg
        .event(&mut StepCx::over(&mut store, ctx(1)))
        .unwrap()
        .clone();
    let m = p
        .var_adam
        .state_of("fcs.1.weight", &p.varmap)
        .unwrap()
        .unwrap()
        .m
        .abs()
        .unwrap()
        .sum(1)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    for (u, row) in m.iter().enumerate() {
        if ev.units.contains(&u) {
            assert_eq!(*row, 0.0, "new unit {u}'s moment is zero");
        } else {
            assert!(*row > 0.0, "unit {u} keeps its moment");
        }
    }
}

#[test]
fn freezing_a_varmap_layer_equals_freezing_ours() {
    let mut p = pair();
    let (mut ours, mut theirs) = (
        Freeze::new(FreezeConfig::reference()),
        Freeze::new(FreezeConfig::reference()),
    );
    p.on_step(&mut ours, &mut theirs, Phase::Start, ctx(0));
    let before = p.var("fcs.1.weight").as_tensor().copy().unwrap();
    for step in 1..=2 {
        p.adam_step(step);
        p.assert_identical(&format!("frozen, after Adam step {step}"));
    }
    let after = p.var("fcs.1.weight");
    assert_eq!(
        (before - after.as_tensor())
            .unwrap()
            .abs()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap(),
        0.0
    );
    assert!(
        p.var_adam.state(&after).is_none(),
        "a frozen Var is never updated"
    );
    assert!(p.var_adam.state(&p.var("fcs.0.weight")).is_some());
}

#[test]
fn a_varmap_refuses_growth_and_unknown_names_with_clear_errors() {
    let mut p = pair();
    let config = NeurogenesisConfig {
        growth: neurogen_regularizers::Growth::Additive,
        ..NeurogenesisConfig::default()
    };
    let mut grow = Neurogenesis::new(config, false, ChaCha8Rng::seed_from_u64(0)).unwrap();
    let mut store = VarMapStore::new(&p.varmap, &mut p.var_adam, p.layers.clone()).unwrap();
    let err = grow
        .event(&mut StepCx::over(&mut store, ctx(1)))
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot change shape in a VarMap"), "{err}");

    let bad = vec![HiddenLayer {
        weight: "fc9.weight".into(),
        bias: "fcs.1.bias".into(),
        next_weight: "fcs.2.weight".into(),
    }];
    let err = VarMapStore::new(&p.varmap, &mut p.var_adam, bad)
        .err()
        .expect("an unknown name is an error")
        .to_string();
    assert!(err.contains("fc9.weight"), "{err}");

    let var = p.var("fcs.1.bias");
    let wrong = ParamState {
        m: Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap(),
        v: Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap(),
        step: 1,
    };
    let err = p.var_adam.set_state(&var, wrong).unwrap_err().to_string();
    assert!(err.contains("shape"), "{err}");
}
