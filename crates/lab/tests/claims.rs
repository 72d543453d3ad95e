//! Claims on hand-made numbers: each test kind against known values, the verdict rule with
//! Holm's correction, a claims table rendered to markdown, and bad input as errors.
//!
//! Reference values are those of neurogen-analysis's own reference tests, produced with scipy
//! 1.17.1 (crates/analysis/tests/stats_reference.rs and tests/single_directions.rs, script
//! crates/analysis/tests/reference/make_reference.py); each block quotes the scipy call.
use neurogen_lab::claims::{
    anova_test, correlation_test, decide, holm, paired_test, threshold_test, Claim, ClaimError,
    Expect, Finding, Observations, PairedText, Samples, Test, Value, Verdict,
};
use neurogen_lab::report::{ClaimRow, Report, TwoColumns};

fn close(got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "{got} != {want} (tol {tol})");
}

// stats_reference.rs's A, B, C.
const A: [f64; 8] = [5.1, 4.9, 6.2, 5.8, 6.0, 5.5, 5.3, 6.1];
const B: [f64; 7] = [6.8, 7.1, 6.5, 7.4, 6.9, 7.7, 6.6];
const C: [f64; 9] = [5.9, 6.3, 6.0, 6.6, 5.7, 6.4, 6.2, 6.1, 5.8];
// stats_reference.rs's paired case e1 (n = 10, exact Wilcoxon).
const E1_A: [f64; 10] = [91.2, 90.5, 92.1, 89.9, 91.7, 90.8, 91.5, 90.3, 91.9, 91.0];
const E1_B: [f64; 10] = [90.1, 90.7, 90.8, 89.4, 90.8, 90.9, 89.9, 89.5, 91.3, 90.3];
// single_directions.rs's X, Y.
const X: [f64; 8] = [0.62, 0.71, 0.55, 0.80, 0.68, 0.75, 0.59, 0.83];
const Y: [f64; 8] = [48.1, 52.3, 45.0, 55.2, 50.9, 51.0, 47.7, 56.4];

const AUC: Value = Value::new("auc", "ablation robustness", "", 3, true);
const LOSS: Value = Value::new("loss", "test loss", "nats", 3, false);

fn by_repeat(xs: &[f64]) -> Vec<(usize, f64)> {
    xs.iter().copied().enumerate().collect()
}

fn samples() -> Samples {
    let mut s = Samples::new();
    s.set(Value::TEST_ACCURACY, "a", &by_repeat(&A)).unwrap();
    s.set(Value::TEST_ACCURACY, "b", &by_repeat(&B)).unwrap();
    s.set(Value::TEST_ACCURACY, "c", &by_repeat(&C)).unwrap();
    s.set(Value::TEST_ACCURACY, "ngn", &by_repeat(&E1_A))
        .unwrap();
    s.set(Value::TEST_ACCURACY, "control", &by_repeat(&E1_B))
        .unwrap();
    s.set(AUC, "ngn", &by_repeat(&X)).unwrap();
    s.set(Value::GAP, "ngn", &by_repeat(&Y)).unwrap();
    s.name_group("ngn", "Neurogenesis")
        .name_group("control", "Control");
    s
}

#[test]
fn welch_claims_print_scipys_welch_test_and_decide_by_the_paired_test() {
    // stats.ttest_ind(A, B, equal_var=False) -> t -5.857579016292012, p 5.6318884728571524e-05;
    // mean(A) - mean(B) = -1.3875 (Tukey's A − B below).
    let obs = samples();
    let c = Claim::welch(
        "B beats A",
        "difference {d} points",
        Value::TEST_ACCURACY,
        "b",
        "a",
        Expect::Better,
    );
    let f = c.evaluate(&obs).unwrap();
    assert_eq!(f.found, "difference +1.39 points, Welch p = 0.0001");
    // The paired part pairs repeats 0..6 (B has 7), and it decides the verdict.
    let paired = f.paired.as_ref().unwrap();
    assert!(
        paired.long.contains("n = 7, paired t p = "),
        "{}",
        paired.long
    );
    assert_eq!(f.diffs.as_ref().unwrap().values.len(), 7);
    assert_eq!(f.verdict, Verdict::Holds);
}

#[test]
fn paired_claims_match_scipys_ttest_rel_wilcoxon_and_d_z() {
    // e1: ttest_rel -> mean 0.72, CI (0.3156141410322588, 1.1243858589677418),
    // p 0.002983188535343153; wilcoxon p 0.009765625; d_z 1.2736770113911569.
    // Detectable at 80 %: paired_mde(10) · sd; sd 0.5652924513520031 and
    // paired_mde(10, 0.05, 0.8) from scipy's nct (power.rs): 0.99·0.565 ≈ 0.56.
    let pc = paired_test(&E1_A, &E1_B).unwrap();
    close(pc.diff.mean, 0.72, 1e-9);
    close(pc.t_test.p, 0.002983188535343153, 1e-6);
    close(pc.wilcoxon.p, 0.009765625, 1e-9);
    close(pc.d_z, 1.2736770113911569, 1e-9);

    let obs = samples();
    let c = Claim::paired(
        "Neurogenesis raises test accuracy",
        "difference {d} points",
        Value::TEST_ACCURACY,
        "ngn",
        "control",
        Expect::Better,
    );
    let f = c.evaluate(&obs).unwrap();
    assert_eq!(
        f.found, "difference +0.72 points, paired t p = 0.0030",
        "{f:?}"
    );
    let t = f.paired.as_ref().unwrap();
    assert!(
        t.long.starts_with(
            "+0.72 [+0.32, +1.12], n = 10, paired t p = 0.0030, Wilcoxon p = 0.0098, d_z = +1.27, detects ±0."
        ),
        "{}",
        t.long
    );
    assert!(t.long.ends_with(" at 80 % power"), "{}", t.long);
    let d = f.diffs.as_ref().unwrap();
    assert_eq!(d.label, "Neurogenesis − Control");
    assert_eq!(f.verdict, Verdict::Holds);
    // The other way round the same test does not hold.
    let worse = Claim::paired(
        "x",
        "{d}",
        Value::TEST_ACCURACY,
        "control",
        "ngn",
        Expect::Better,
    );
    assert_eq!(worse.evaluate(&obs).unwrap().verdict, Verdict::DoesNotHold);
    let not_worse = Claim::paired(
        "x",
        "{d}",
        Value::TEST_ACCURACY,
        "control",
        "ngn",
        Expect::NotWorse,
    );
    assert_eq!(
        not_worse.evaluate(&obs).unwrap().verdict,
        Verdict::DoesNotHold
    );
}

#[test]
fn anova_claims_match_scipys_f_oneway_and_tukey_hsd() {
    // stats.f_oneway(A, B, C) -> F 22.204579232777665, p 6.593221971360164e-06;
    // stats.tukey_hsd(A, B, C): every pair differs (p adj 4.4e-06, 0.0492, 0.0008).
    let (a, pairs) = anova_test(&[
        ("A".into(), A.to_vec()),
        ("B".into(), B.to_vec()),
        ("C".into(), C.to_vec()),
    ])
    .unwrap();
    close(a.f, 22.204579232777665, 1e-6 * 22.2);
    close(a.p, 6.593221971360164e-06, 1e-4);
    close(pairs[1].p_adj, 0.04915627269838663, 1e-4);

    let obs = samples();
    let differ = Claim::anova("They differ", Value::TEST_ACCURACY, &["a", "b", "c"], true);
    let f = differ.evaluate(&obs).unwrap();
    assert!(
        f.found.starts_with("F(2, 21) = 22.205, p = 0.0000; Tukey's HSD: a − b -1.39 (p adj = 0.0000), a − c -0.50 (p adj = 0.0492), b − c +0.89 (p adj = 0.0008)"),
        "{}",
        f.found
    );
    assert_eq!(f.verdict, Verdict::Holds);
    let same = Claim::anova("They do not", Value::TEST_ACCURACY, &["a", "b", "c"], false);
    assert_eq!(same.evaluate(&obs).unwrap().verdict, Verdict::DoesNotHold);
}

#[test]
fn correlation_claims_match_scipys_pearsonr_with_its_interval() {
    // pearsonr(X, Y) -> r 0.9710358504494156, p 5.9434690622640944e-05,
    // confidence_interval(0.95) (0.8436219036012085, 0.9949212806367932).
    let c = correlation_test(&X, &Y, false).unwrap();
    close(c.corr.r, 0.9710358504494156, 1e-12);
    close(c.lo, 0.8436219036012085, 1e-9);
    close(c.hi, 0.9949212806367932, 1e-9);
    // spearmanr(X, Y) -> 0.9761904761904763.
    close(
        correlation_test(&X, &Y, true).unwrap().corr.r,
        0.9761904761904763,
        1e-12,
    );

    let obs = samples();
    let claim = Claim::correlation("Robust nets generalise", AUC, Value::GAP, &["ngn"], true);
    let f = claim.evaluate(&obs).unwrap();
    assert!(
        f.found.starts_with(
            "Pearson r = +0.971 [95 % CI +0.844, +0.995], p = 0.0001, n = 8; detects |r| ≥ 0."
        ),
        "{}",
        f.found
    );
    assert_eq!(f.verdict, Verdict::Holds);
    let negative = Claim::correlation("x", AUC, Value::GAP, &["ngn"], false);
    assert_eq!(
        negative.evaluate(&obs).unwrap().verdict,
        Verdict::DoesNotHold
    );
}

#[test]
fn threshold_claims_are_scipys_one_sample_t_test() {
    // ttest_1samp(E1_A - E1_B, 0) is ttest_rel(E1_A, E1_B): t 4.027720359392282,
    // p 0.002983188535343153; shifting values and bound by 50 changes nothing.
    let d: Vec<f64> = E1_A.iter().zip(&E1_B).map(|(a, b)| a - b + 50.0).collect();
    let (s, t) = threshold_test(&d, 50.0).unwrap();
    close(s.mean, 0.72, 1e-9);
    close(t.t, 4.027720359392282, 1e-6);
    close(t.p, 0.002983188535343153, 1e-6);
    assert_eq!(t.df, 9.0);

    let mut obs = Samples::new();
    obs.set(LOSS, "ngn", &by_repeat(&d)).unwrap();
    // A loss above 50 nats is worse than 50 (lower is better).
    let worse = Claim::threshold("Loss stays above 50", LOSS, "ngn", 50.0, Expect::Worse);
    let f = worse.evaluate(&obs).unwrap();
    assert_eq!(
        f.found,
        "mean − 50.000 = +0.720 [+0.316, +1.124], n = 10, t(9) = 4.028, p = 0.0030"
    );
    assert_eq!(f.verdict, Verdict::Holds);
    let better = Claim::threshold("Loss below 50", LOSS, "ngn", 50.0, Expect::Better);
    assert_eq!(better.evaluate(&obs).unwrap().verdict, Verdict::DoesNotHold);
}

#[test]
fn the_verdict_rule_follows_the_values_direction() {
    use Verdict::*;
    let (acc, gap) = (Value::TEST_ACCURACY, Value::GAP);
    assert_eq!(Expect::Better.verdict(acc, 2.0, 0.01), Holds);
    assert_eq!(Expect::Better.verdict(acc, 2.0, 0.2), DirectionOnly);
    assert_eq!(Expect::Better.verdict(acc, -2.0, 0.01), DoesNotHold);
    assert_eq!(Expect::Better.verdict(acc, -2.0, 0.2), DoesNotHold);
    assert_eq!(Expect::Better.verdict(gap, -2.0, 0.01), Holds);
    assert_eq!(Expect::Worse.verdict(acc, -2.0, 0.01), Holds);
    assert_eq!(Expect::Worse.verdict(gap, -2.0, 0.01), DoesNotHold);
    assert_eq!(Expect::NotWorse.verdict(acc, -2.0, 0.2), Holds);
    assert_eq!(Expect::NotWorse.verdict(acc, -2.0, 0.01), DoesNotHold);
    assert_eq!(Expect::NotWorse.verdict(gap, -2.0, 0.01), Holds);
    assert_eq!(Expect::Better.verdict(acc, f64::NAN, 0.01), Untestable);
    assert_eq!(Expect::Better.verdict(acc, 1.0, f64::NAN), Untestable);
    // p exactly at α is not significant.
    assert_eq!(Verdict::from_test(1.0, 0.05, true), DirectionOnly);
}

fn with_p(p: f64) -> Finding {
    Finding {
        found: String::new(),
        paired: Some(PairedText {
            long: String::new(),
            short: String::new(),
            p,
        }),
        diffs: None,
        verdict: Verdict::Holds,
    }
}

#[test]
fn holm_adjusts_the_finite_paired_ps_of_a_table_only() {
    // statsmodels multipletests([0.01, 0.04, 0.03], method="holm") -> [0.03, 0.06, 0.06]:
    // sorted 0.01·3, max(0.03·2, ·), max(0.04·1, 0.06).
    let (a, b, c) = (with_p(0.01), with_p(0.04), with_p(0.03));
    let nan = with_p(f64::NAN);
    let analysis = Finding::analysis("by hand".into(), Verdict::Holds);
    let h = holm(&[
        Some(&a),
        Some(&analysis),
        Some(&b),
        None,
        Some(&nan),
        Some(&c),
    ]);
    let want = [Some(0.03), None, Some(0.06), None, None, Some(0.06)];
    for (g, w) in h.iter().zip(want) {
        match (g, w) {
            (Some(g), Some(w)) => close(*g, w, 1e-12),
            (None, None) => {}
            _ => panic!("{h:?}"),
        }
    }
}

#[test]
fn a_claims_table_renders_to_markdown_in_claim_order_with_holm() {
    let obs = samples();
    let claims = vec![
        Claim::analysis("Decided by hand"),
        Claim::paired(
            "Neurogenesis raises test accuracy",
            "{d} points vs control",
            Value::TEST_ACCURACY,
            "ngn",
            "control",
            Expect::Better,
        ),
        Claim::welch(
            "B beats A",
            "{d} points",
            Value::TEST_ACCURACY,
            "b",
            "a",
            Expect::Better,
        ),
    ];
    let decided = decide(
        &obs,
        &claims,
        vec![("Decided by hand", "found so".into(), Verdict::DoesNotHold)],
    )
    .unwrap();
    let mut rep = Report::new("Toy");
    rep.style_mut().claim_column = "claim (Toy et al. 2030)".into();
    rep.add_claims(decided);
    let plots = rep.paired_plots();
    let md = rep.finish();
    let lines: Vec<&str> = md.lines().collect();
    let head = lines
        .iter()
        .position(|l| *l == "## The paper's claims and this run")
        .unwrap();
    assert_eq!(lines[head + 2], "| claim (Toy et al. 2030) | found here (paper's test) | paired by repeat: a − b [95 % CI], tests, d_z, Holm p | verdict |");
    assert_eq!(
        lines[head + 4],
        "| Decided by hand | found so | – | does not hold at this scale |"
    );
    let ngn = lines[head + 5];
    assert!(
        ngn.starts_with("| Neurogenesis raises test accuracy | +0.72 points vs control, paired t p = 0.0030 | +0.72 [+0.32, +1.12], n = 10,"),
        "{ngn}"
    );
    // Two paired tests: Holm doubles the smaller p (both tiny, so 0.00xx).
    assert!(ngn.contains(", Holm p = 0.0"), "{ngn}");
    assert!(ngn.ends_with("| holds |"), "{ngn}");
    assert!(lines[head + 6].starts_with("| B beats A | +1.39 points, Welch p = 0.0001 |"));
    assert!(
        md.contains("\n\"Holds\" means the paper's direction"),
        "{md}"
    );
    // Both comparisons are in points: one forest plot.
    assert_eq!(plots.len(), 1);
    assert_eq!(plots[0].0, "paired_differences");
    assert_eq!(plots[0].1.rows.len(), 2);
}

#[test]
fn a_two_column_table_marks_shared_tests_and_adjusts_each_column() {
    let obs = samples();
    let claim = Claim::paired(
        "Neurogenesis raises test accuracy",
        "{d}",
        Value::TEST_ACCURACY,
        "ngn",
        "control",
        Expect::Better,
    );
    let main = claim.evaluate(&obs).unwrap();
    let variant = claim
        .with_comparison(neurogen_lab::claims::Comparison::new(
            Value::TEST_ACCURACY,
            "control",
            "ngn",
        ))
        .unwrap()
        .evaluate(&obs)
        .unwrap();
    let mut rep = Report::new("Toy");
    rep.style_mut().two_columns = Some(TwoColumns {
        heading: "Both ways".into(),
        intro: "Each cell: a test.".into(),
        first: "as described".into(),
        second: "as coded".into(),
        first_details: "As described".into(),
        second_details: "As coded".into(),
        shared: "(shared)".into(),
    });
    rep.push_claim(ClaimRow {
        claim: "ngn".into(),
        how: None,
        main: main.clone(),
        variant: Some(variant),
    });
    rep.push_claim(ClaimRow {
        claim: "same".into(),
        how: None,
        main,
        variant: None,
    });
    rep.push_claim(ClaimRow {
        claim: "own".into(),
        how: None,
        main: Finding::analysis("so".into(), Verdict::Holds),
        variant: None,
    });
    rep.set_variant_analysis("own", "not so".into(), Verdict::DoesNotHold)
        .unwrap();
    assert!(rep
        .set_variant_analysis("ngn", String::new(), Verdict::Holds)
        .is_err());
    let md = rep.finish();
    assert!(md.contains("## Both ways\n\nEach cell: a test.\n\n| claim | as described | as coded |\n|---|---|---|\n"), "{md}");
    let row = md
        .lines()
        .find(|l| l.starts_with("| ngn | +0.72 ["))
        .unwrap();
    assert!(row.contains("**holds** | -0.72 ["), "{row}");
    assert!(row.ends_with("**does not hold at this scale** |"), "{row}");
    assert!(md.contains("| same | +0.72 ["), "{md}");
    assert!(md.contains("**holds** | (shared) |"), "{md}");
    assert!(md.contains("| own | so: **holds** | not so: **does not hold at this scale** |"));
    assert!(md.contains("\n### As described: every test\n\n"));
    assert!(md.contains("\n### As coded: every test\n\n"));
}

#[test]
fn values_in_other_units_get_their_own_forest_plot() {
    let mut obs = samples();
    obs.set(AUC, "control", &by_repeat(&Y)).unwrap();
    obs.set(LOSS, "ngn", &by_repeat(&X)).unwrap();
    obs.set(LOSS, "control", &by_repeat(&Y)).unwrap();
    let claims = [
        Claim::paired("auc", "{d}", AUC, "ngn", "control", Expect::Better),
        Claim::paired("loss", "{d}", LOSS, "ngn", "control", Expect::Better),
    ];
    let mut rep = Report::new("Toy");
    rep.add_claims(decide(&obs, &claims, vec![]).unwrap());
    let stems: Vec<String> = rep.paired_plots().into_iter().map(|(s, _)| s).collect();
    assert_eq!(
        stems,
        [
            "paired_differences-ablation-robustness",
            "paired_differences-nats"
        ]
    );
}

#[test]
fn too_few_runs_are_untestable_and_say_why_without_nan() {
    let mut obs = samples();
    obs.set(Value::TEST_ACCURACY, "late", &[(0, 70.0)]).unwrap();
    let claims = [
        Claim::welch(
            "w",
            "{d}",
            Value::TEST_ACCURACY,
            "late",
            "a",
            Expect::Better,
        ),
        Claim::paired(
            "p",
            "{d}",
            Value::TEST_ACCURACY,
            "late",
            "a",
            Expect::Better,
        ),
        Claim::anova("a", Value::TEST_ACCURACY, &["late", "a"], true),
        Claim::correlation("c", AUC, Value::GAP, &["late"], true),
        Claim::threshold("t", Value::TEST_ACCURACY, "late", 50.0, Expect::Better),
        Claim::welch(
            "none",
            "{d}",
            Value::TEST_ACCURACY,
            "nobody",
            "a",
            Expect::Better,
        ),
    ];
    for c in &claims {
        let f = c.evaluate(&obs).unwrap();
        assert_eq!(f.verdict, Verdict::Untestable, "{}: {f:?}", c.text);
        assert!(
            f.found.contains("not computed ("),
            "{}: {}",
            c.text,
            f.found
        );
        assert!(!f.found.contains("NaN"), "{}", f.found);
    }
    let f = claims[2].evaluate(&obs).unwrap();
    assert!(f.found.contains("group \"late\""), "{}", f.found);
    let mut rep = Report::new("Interim");
    rep.add_claims(decide(&obs, &claims, vec![]).unwrap());
    let md = rep.finish();
    assert!(!md.contains("NaN"), "{md}");
}

#[test]
fn bad_input_is_a_clear_error_not_a_panic() {
    let mut s = Samples::new();
    let e = s
        .set(Value::TEST_ACCURACY, "a", &[(0, 1.0), (1, f64::NAN)])
        .unwrap_err();
    assert!(matches!(e, ClaimError::NonFinite { repeat: 1, .. }));
    assert!(
        e.to_string()
            .contains("test accuracy of group \"a\", repeat 1"),
        "{e}"
    );
    let e = s
        .set(Value::TEST_ACCURACY, "a", &[(0, 1.0), (0, 2.0)])
        .unwrap_err();
    assert!(e.to_string().contains("given twice"), "{e}");
    // Unequal pairs, n < 2, NaN, no variance: the statistics refuse, with the reason.
    let e = paired_test(&[1.0, 2.0, 3.0], &[1.0, 2.0]).unwrap_err();
    assert!(e.to_string().starts_with("paired comparison: "), "{e}");
    assert!(e.to_string().contains("expected length 3, got 2"), "{e}");
    assert!(paired_test(&[1.0], &[2.0]).is_err());
    assert!(paired_test(&[1.0, f64::NAN], &[2.0, 3.0]).is_err());
    assert!(paired_test(&[1.0, 2.0], &[0.0, 1.0]).is_err());
    assert!(threshold_test(&[1.0], 0.0).is_err());
    assert!(threshold_test(&[1.0, f64::INFINITY], 0.0).is_err());
    assert!(correlation_test(&X[..3], &Y[..3], false).is_err());
    assert!(correlation_test(&X, &Y[..7], false).is_err());
    let e = anova_test(&[("A".into(), A.to_vec()), ("B".into(), vec![1.0])]).unwrap_err();
    assert!(e.to_string().contains("group \"B\""), "{e}");
    // An analysis claim needs exactly its verdict.
    let obs = samples();
    let claims = [Claim::analysis("A")];
    assert!(matches!(
        decide(&obs, &claims, vec![]),
        Err(ClaimError::NotAnalysed(_))
    ));
    assert!(matches!(
        decide(
            &obs,
            &claims,
            vec![
                ("A", String::new(), Verdict::Holds),
                ("B", String::new(), Verdict::Holds)
            ]
        ),
        Err(ClaimError::NoSuchAnalysisClaim(_))
    ));
    assert!(claims[0].evaluate(&obs).is_err());
}

#[test]
fn claims_name_their_groups_and_can_be_moved_to_other_groups() {
    let c = Claim::welch("w", "{d}", Value::GAP, "a", "b", Expect::Worse);
    assert_eq!(c.groups(), ["a", "b"]);
    let moved = c
        .with_comparison(neurogen_lab::claims::Comparison::new(Value::GAP, "a2", "b"))
        .unwrap();
    assert_eq!(moved.comparison().unwrap().a, "a2");
    assert!(matches!(
        moved.test,
        Test::Welch {
            expect: Expect::Worse,
            ..
        }
    ));
    assert!(Claim::analysis("x")
        .with_comparison(neurogen_lab::claims::Comparison::new(Value::GAP, "a", "b"))
        .is_none());
    assert_eq!(
        Claim::anova("a", Value::GAP, &["x", "y", "z"], true).groups(),
        ["x", "y", "z"]
    );
    // Observations of a group never set are empty, not an error.
    assert!(samples().values(Value::TRAIN_ACCURACY, "a").is_empty());
}

#[test]
fn a_claim_tested_several_ways_gets_a_test_column_and_bold_verdicts() {
    let obs = samples();
    let claims = [
        Claim::spearman("(1) They correlate", AUC, Value::GAP, &["ngn"], true)
            .with_how("ρ(auc, gap) > 0"),
        Claim::paired(
            "(1) They correlate",
            "{d}",
            Value::TEST_ACCURACY,
            "ngn",
            "control",
            Expect::Better,
        ),
    ];
    let mut rep = Report::new("Toy");
    let style = rep.style_mut();
    style.how_column = Some("test".into());
    style.bold_verdicts = true;
    rep.add_claims(decide(&obs, &claims, vec![]).unwrap());
    let md = rep.finish();
    assert!(md.contains("| claim | test | found here (paper's test) | paired by repeat: a − b [95 % CI], tests, d_z, Holm p | verdict |\n|---|---|---|---|---|\n"), "{md}");
    // spearmanr(X, Y) -> 0.9761904761904763, p 3.314396026200098e-05 (single_directions.rs).
    let row = md
        .lines()
        .find(|l| l.starts_with("| (1) They correlate | ρ(auc, gap) > 0 | Spearman ρ = +0.976 ["))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(row.contains("p = 0.0000, n = 8; detects |ρ| ≥ 0."), "{row}");
    assert!(row.ends_with("| – | **holds** |"), "{row}");
    let paired = md
        .lines()
        .find(|l| l.starts_with("| (1) They correlate | – | +0.72"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(paired.ends_with("| **holds** |"), "{paired}");
}
