//! Specifications: command-line strings, TOML files, defaults, round trips and clear errors.
use neurogen_regularizers::{
    DropoutConfig, Growth, NeuralNoiseConfig, NeurogenesisConfig, RegularizerSet, RegularizerSpec,
    Selection, UnitCount, WeightDecayConfig,
};
use proptest::prelude::*;

fn parse(s: &str) -> RegularizerSpec {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn parse_err(s: &str) -> String {
    s.parse::<RegularizerSpec>().unwrap_err().to_string()
}

#[test]
fn bare_names_are_the_paper_defaults() {
    assert_eq!(
        parse("neurogenesis"),
        RegularizerSpec::Neurogenesis(NeurogenesisConfig {
            n: UnitCount::Count(8),
            every: 640,
            until_epoch: 10,
            layer: 1,
            mode: Selection::Random,
            portion: 0.5,
            growth: Growth::Turnover,
            excite: None,
        })
    );
    assert_eq!(
        parse("dropout"),
        RegularizerSpec::Dropout(DropoutConfig {
            p: 0.2,
            max_norm: 3.0,
            eval_renorm: true
        })
    );
    assert_eq!(
        parse("weight-decay"),
        RegularizerSpec::WeightDecay(WeightDecayConfig { lambda: 1e-5 })
    );
    assert_eq!(
        parse("noise"),
        RegularizerSpec::NeuralNoise(NeuralNoiseConfig {
            mean: -0.2,
            std: 0.5,
            layer: 0
        })
    );
}

#[test]
fn full_specifications_parse() {
    let s = parse("neurogenesis:n=0.05,every=100,until_epoch=3,layer=2,mode=targeted-high,portion=0.3,growth=turnover,excite=2.0");
    let RegularizerSpec::Neurogenesis(c) = s else {
        panic!()
    };
    assert_eq!(c.n, UnitCount::Fraction(0.05));
    assert_eq!((c.every, c.until_epoch, c.layer), (100, 3, 2));
    assert_eq!(c.mode, Selection::TargetedHigh);
    assert_eq!(c.excite, Some(2.0));
    assert_eq!(
        parse("weight-decay:lambda=1e-4"),
        RegularizerSpec::WeightDecay(WeightDecayConfig { lambda: 1e-4 })
    );
    assert_eq!(
        parse(" noise : mean=0, std=1 "),
        RegularizerSpec::NeuralNoise(NeuralNoiseConfig {
            mean: 0.0,
            std: 1.0,
            layer: 0
        })
    );
}

#[test]
fn invalid_settings_say_what_is_allowed() {
    let cases = [
        (
            "blur:p=1",
            "unknown regulariser `blur` (allowed: neurogenesis, dropout, weight-decay, noise, freeze, kwta)",
        ),
        (
            "dropout:q=0.1",
            "unknown key `q` for dropout (allowed: p, max_norm, eval_renorm)",
        ),
        ("dropout:p=1", "p must be in [0, 1), got 1"),
        ("dropout:p=-0.1", "p must be in [0, 1)"),
        ("dropout:p=abc", "p must be a number, got `abc`"),
        (
            "neurogenesis:every=0",
            "every must be a whole number of optimiser steps >= 1, got 0",
        ),
        ("neurogenesis:n=0", "n must be a count of units >= 1"),
        ("neurogenesis:n=1.5", "or a fraction of the layer in (0, 1)"),
        (
            "neurogenesis:mode=clever",
            "mode must be random, targeted-low or targeted-high",
        ),
        (
            "neurogenesis:growth=x",
            "growth must be turnover or additive",
        ),
        (
            "neurogenesis:excite=0",
            "excite must be a finite factor > 0",
        ),
        ("neurogenesis:portion=0", "portion must be in (0, 1]"),
        (
            "neurogenesis:growth=additive,mode=targeted-low",
            "needs growth=turnover",
        ),
        ("neurogenesis:n=8,n=9", "key `n` is given twice"),
        ("neurogenesis:n", "is not KEY=VALUE"),
        (
            "weight-decay:lambda=-1",
            "lambda must be a finite number >= 0",
        ),
        ("noise:std=-1", "std must be a finite number >= 0"),
        ("kwta:k=0", "k must be a count of units >= 1"),
        ("kwta:layer=x", "layer must be a whole number"),
        ("kwta:p=1", "unknown key `p` for kwta (allowed: k, layer)"),
    ];
    for (spec, want) in cases {
        let e = parse_err(spec);
        assert!(e.contains(want), "{spec}: {e}");
        assert!(
            e.starts_with(&format!("invalid regulariser `{spec}`")),
            "{e}"
        );
        assert!(!e.ends_with('.'), "{e}");
    }
}

#[test]
fn toml_files_parse_validate_and_round_trip() {
    let text = r#"
reference_quirks = true

[[regularizer]]
kind = "neurogenesis"
n = 0.05
every = 640
until_epoch = 10
mode = "targeted-low"
excite = 2.0

[[regularizer]]
kind = "dropout"
p = 0.3

[[regularizer]]
kind = "weight-decay"

[[regularizer]]
kind = "noise"
std = 0.4
"#;
    let set = RegularizerSet::from_toml_str(text).unwrap();
    assert!(set.reference_quirks);
    assert_eq!(set.specs.len(), 4);
    let RegularizerSpec::Neurogenesis(c) = &set.specs[0] else {
        panic!()
    };
    assert_eq!(c.n, UnitCount::Fraction(0.05));
    assert_eq!(c.mode, Selection::TargetedLow);
    assert_eq!(c.layer, 1, "missing keys keep the defaults");
    assert_eq!(
        set.specs[2],
        RegularizerSpec::WeightDecay(WeightDecayConfig::default())
    );
    // Written and read back, as TOML and JSON (checkpoint metadata, metrics.json).
    let again = RegularizerSet::from_toml_str(&set.to_toml_string().unwrap()).unwrap();
    assert_eq!(again, set);
    let json = serde_json::to_string(&set).unwrap();
    assert_eq!(serde_json::from_str::<RegularizerSet>(&json).unwrap(), set);
    // From a file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("regs.toml");
    std::fs::write(&path, text).unwrap();
    assert_eq!(RegularizerSet::from_toml_file(&path).unwrap(), set);
    let e = RegularizerSet::from_toml_file(&dir.path().join("missing.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.toml"), "{e}");
}

#[test]
fn toml_errors_are_clear() {
    let cases = [
        (
            "[[regularizer]]\nkind = \"blur\"\n",
            "unknown variant `blur`",
        ),
        (
            "[[regularizer]]\nkind = \"dropout\"\nq = 1\n",
            "unknown field `q`",
        ),
        (
            "[[regularizer]]\nkind = \"dropout\"\np = 1.0\n",
            "p must be in [0, 1)",
        ),
        (
            "[[regularizer]]\nkind = \"neurogenesis\"\nevery = 0\n",
            "every must be",
        ),
        ("quirks = true\n", "unknown field `quirks`"),
        (
            "[[regularizer]]\nkind = \"dropout\"\n[[regularizer]]\nkind = \"dropout\"\n",
            "dropout is given more than once",
        ),
    ];
    for (text, want) in cases {
        let e = RegularizerSet::from_toml_str(text).unwrap_err().to_string();
        assert!(e.contains(want), "{text:?}: {e}");
    }
}

#[test]
fn quirks_reject_what_the_reference_cannot_run() {
    let set = RegularizerSet::from_specs(["neurogenesis:growth=additive,excite=2"], true).unwrap();
    let e = neurogen_regularizers::build(&set, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot be reproduced"), "{e}");
    let set = RegularizerSet::from_specs(["neurogenesis:growth=additive,excite=2"], false).unwrap();
    assert!(neurogen_regularizers::build(&set, 0).is_ok());
}

fn arb_spec() -> impl Strategy<Value = RegularizerSpec> {
    let n = prop_oneof![
        (1usize..500).prop_map(UnitCount::Count),
        (0.001f64..0.999).prop_map(UnitCount::Fraction)
    ];
    let ngn = (
        n,
        1usize..10_000,
        0usize..50,
        0usize..3,
        prop_oneof![
            Just(Selection::Random),
            Just(Selection::TargetedLow),
            Just(Selection::TargetedHigh)
        ],
        0.01f64..=1.0,
        any::<bool>(),
        proptest::option::of(0.01f64..10.0),
    )
        .prop_map(
            |(n, every, until_epoch, layer, mode, portion, additive, excite)| {
                let growth = if additive && mode == Selection::Random {
                    Growth::Additive
                } else {
                    Growth::Turnover
                };
                RegularizerSpec::Neurogenesis(NeurogenesisConfig {
                    n,
                    every,
                    until_epoch,
                    layer,
                    mode,
                    portion,
                    growth,
                    excite,
                })
            },
        );
    prop_oneof![
        ngn,
        (0.0f64..0.999, 0.0f64..10.0, any::<bool>()).prop_map(|(p, max_norm, eval_renorm)| {
            RegularizerSpec::Dropout(DropoutConfig {
                p,
                max_norm,
                eval_renorm,
            })
        }),
        (0.0f64..1.0).prop_map(|lambda| RegularizerSpec::WeightDecay(WeightDecayConfig { lambda })),
        (-3.0f64..3.0, 0.0f64..3.0, 0usize..3).prop_map(|(mean, std, layer)| {
            RegularizerSpec::NeuralNoise(NeuralNoiseConfig { mean, std, layer })
        }),
        (1usize..100, proptest::option::of(0usize..3)).prop_map(|(k, layer)| {
            RegularizerSpec::Kwta(neurogen_regularizers::KwtaConfig {
                k: UnitCount::Count(k),
                layer,
            })
        }),
    ]
}

proptest! {
    #[test]
    fn display_round_trips_through_from_str(spec in arb_spec()) {
        let text = spec.to_string();
        let back: RegularizerSpec = text.parse().unwrap();
        prop_assert_eq!(back, spec);
    }
}
