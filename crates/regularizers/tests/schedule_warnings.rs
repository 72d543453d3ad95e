//! Schedules that cannot act in the planned run are reported before training and in the
//! regulariser's report; schedules that act are not, and planning a run changes no result.
use candle_core::Device;
use neurogen_data::{ImageShape, Split};
use neurogen_model::{train, Cnn, ModelConfig, Silent, TrainConfig};
use neurogen_regularizers::{
    build, build_for_run, NeurogenesisConfig, Regularizer, RegularizerSet, RunPlan,
};

fn set(specs: &[&str], quirks: bool) -> RegularizerSet {
    RegularizerSet::from_specs(specs, quirks).unwrap()
}

fn cfg(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 4,
        seed: 3,
        eval_every_epoch: false,
        eval_train_at_end: false,
        ..TrainConfig::default()
    }
}

/// `n` synthetic 1×28×28 images of 10 classes (the schedules do not depend on the pixels).
fn split(n: usize) -> Split {
    let shape = ImageShape {
        channels: 1,
        height: 28,
        width: 28,
    };
    let images = (0..n * 784).map(|i| (i * 31 % 253) as u8).collect();
    Split::new(shape, images, (0..n).map(|i| (i % 10) as u8).collect()).unwrap()
}

/// Trains a 16-unit network on `split` with `stack` and returns the neurogenesis report.
fn train_report(stack: &mut dyn Regularizer, split: &Split, epochs: usize) -> serde_json::Value {
    let mut m = Cnn::new(
        &ModelConfig::fashion_mnist().with_hidden_width(16),
        0,
        &Device::Cpu,
    )
    .unwrap();
    let (metrics, _) = train(&mut m, split, None, &cfg(epochs), stack, &mut Silent).unwrap();
    metrics.regularizer[0]["report"].clone()
}

#[test]
fn every_longer_than_a_500_step_run_warns_naming_the_setting() {
    // 2,000 images at batch 4, one epoch: 500 optimiser steps; the paper's every=640.
    let plan = RunPlan::for_training(&cfg(1), 2_000);
    assert_eq!(plan, RunPlan::new(1, 500));
    let s = set(&["neurogenesis:every=640"], false);
    let warnings = s.schedule_warnings(&plan);
    let every: Vec<_> = warnings.iter().filter(|w| w.setting == "every").collect();
    assert_eq!(every.len(), 1, "{warnings:?}");
    let text = every[0].to_string();
    assert!(text.starts_with("neurogenesis: every=640"), "{text}");
    assert!(text.contains("500 optimiser steps") && text.contains("no neurogenesis event"));
    // Nothing else: with no event, that until_epoch=10 is past the only epoch does not matter.
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    // build_for_run returns the same warnings and puts them in the report.
    let (stack, built) = build_for_run(&s, 0, &plan).unwrap();
    assert_eq!(built, warnings);
    let report = &stack.report()[0]["report"];
    assert_eq!(report["warnings"][0]["setting"], "every");
    assert_eq!(report["warnings"].as_array().unwrap().len(), warnings.len());
}

#[test]
fn a_normal_run_has_no_warning() {
    // The paper's run: 14 epochs at batch 4 on 50,000 images, every=640 until epoch 10.
    let plan = RunPlan::for_training(&TrainConfig::default(), 50_000);
    assert_eq!(plan, RunPlan::new(14, 12_500));
    for quirks in [false, true] {
        let s = set(&["neurogenesis", "dropout", "weight-decay"], quirks);
        assert_eq!(s.schedule_warnings(&plan), vec![], "quirks {quirks}");
        let (stack, warnings) = build_for_run(&s, 0, &plan).unwrap();
        assert!(warnings.is_empty());
        let report = stack.report();
        assert!(report[0]["report"].get("warnings").is_none(), "{report}");
    }
    // Regularisers without a schedule have nothing to say even in a one-step run.
    let s = set(&["dropout", "noise", "freeze", "kwta"], false);
    assert!(s.schedule_warnings(&RunPlan::new(1, 1)).is_empty());
}

#[test]
fn every_setting_that_does_nothing_is_named() {
    let ng = |spec: &str| match &set(&[spec], false).specs[0] {
        neurogen_regularizers::RegularizerSpec::Neurogenesis(c) => *c,
        _ => unreachable!(),
    };
    // until_epoch=0: off from the start, whatever `every`.
    let w = ng("neurogenesis:every=1,until_epoch=0").schedule_warnings(&RunPlan::new(3, 50), false);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].setting, "until_epoch");
    // The first event (step 100, epoch 1) comes after until_epoch=1 stopped neurogenesis.
    let c = ng("neurogenesis:every=100,until_epoch=1");
    let w = c.schedule_warnings(&RunPlan::new(3, 50), false);
    assert_eq!(c.planned_events(&RunPlan::new(3, 50), false), 0);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].setting, "every");
    assert!(w[0].message.contains("until_epoch=1"), "{}", w[0]);
    // Quirks mode fires before every minibatch of epoch 0: every=640 acts there.
    let c = NeurogenesisConfig::default();
    assert_eq!(c.planned_events(&RunPlan::new(14, 100), true), 100);
    assert!(c.schedule_warnings(&RunPlan::new(14, 100), true).is_empty());
    // until_epoch=10 (the default) past a 3-epoch run's last epoch: neurogenesis never stops.
    let w = c.schedule_warnings(&RunPlan::new(3, 500), false);
    assert_eq!(c.planned_events(&RunPlan::new(3, 500), false), 2);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].setting, "until_epoch");
    assert!(w[0].message.contains("until_epoch=10"), "{}", w[0]);
    // Excitability is named when it never stops.
    let w = ng("neurogenesis:every=10,until_epoch=5,excite=2")
        .schedule_warnings(&RunPlan::new(5, 50), false);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].message.contains("excitability"), "{}", w[0]);
}

#[test]
fn planned_events_are_the_events_of_the_run() {
    // 16 images at batch 4: 4 steps an epoch, 3 epochs.
    let data = split(16);
    for (spec, quirks) in [
        // Steps 3 and 6 fire; step 9 is in epoch 2, past until_epoch=2.
        ("neurogenesis:n=2,every=3,until_epoch=2", false),
        ("neurogenesis:n=2,every=1,until_epoch=2", false),
        // Quirks: before every minibatch of epochs 0 and 1, or of epoch 0 only (every=2).
        ("neurogenesis:n=2,every=1,until_epoch=2", true),
        ("neurogenesis:n=2,every=2,until_epoch=2", true),
        // None: every=13 is past the 12 steps.
        ("neurogenesis:n=2,every=13,until_epoch=3", false),
    ] {
        let s = set(&[spec], quirks);
        let plan = RunPlan::for_training(&cfg(3), data.len());
        assert_eq!(plan, RunPlan::new(3, 4));
        let planned = match &s.specs[0] {
            neurogen_regularizers::RegularizerSpec::Neurogenesis(c) => {
                c.planned_events(&plan, quirks)
            }
            _ => unreachable!(),
        };
        let (mut planned_stack, warnings) = build_for_run(&s, 5, &plan).unwrap();
        let with_plan = train_report(&mut planned_stack, &data, 3);
        assert_eq!(with_plan["events"], planned, "{spec}: {with_plan}");
        assert_eq!(warnings.is_empty(), planned > 0, "{spec}: {warnings:?}");
        // Planning changes no result: the same events as the stack `build` makes.
        let without = train_report(&mut build(&s, 5).unwrap(), &data, 3);
        assert_eq!(with_plan["event_log"], without["event_log"], "{spec}");
        assert_eq!(with_plan["final_width"], without["final_width"], "{spec}");
        if planned == 0 {
            assert_eq!(with_plan["warnings"][0]["setting"], "every", "{with_plan}");
            assert!(with_plan["final_width"].is_null());
        } else {
            assert!(with_plan.get("warnings").is_none(), "{with_plan}");
        }
    }
}
