//! The report builder on hand-made numbers: summary tables, ANOVA with Tukey's HSD, Welch lines,
//! figures, and where the claims table and the closing figures go.
//!
//! Reference values: scipy 1.17.1 as in crates/analysis/tests/stats_reference.rs (A, B, C).
use neurogen_lab::claims::{decide, Claim, Expect, Samples, Value};
use neurogen_lab::report::Report;

const A: [f64; 8] = [5.1, 4.9, 6.2, 5.8, 6.0, 5.5, 5.3, 6.1];
const B: [f64; 7] = [6.8, 7.1, 6.5, 7.4, 6.9, 7.7, 6.6];
const C: [f64; 9] = [5.9, 6.3, 6.0, 6.6, 5.7, 6.4, 6.2, 6.1, 5.8];

#[test]
fn a_summary_table_has_dashes_where_a_group_is_short_of_values() {
    // [1, 2, 3]: mean 2, SD 1, CI 2 ± t(0.975, 2) / √3 = 2 ± 4.302653 · 0.577350 = [-0.48, 4.48].
    let mut rep = Report::new("T");
    rep.summary_table(
        "accuracy",
        &[
            ("A".into(), vec![1.0, 2.0, 3.0]),
            ("B".into(), vec![]),
            ("C".into(), vec![5.0]),
        ],
    );
    assert_eq!(
        rep.finish(),
        "# T\n\n| group | n | mean accuracy | SD | 95 % CI |\n|---|---|---|---|---|\n\
         | A | 3 | 2.00 | 1.00 | [-0.48, 4.48] |\n| B | 0 | – | – | – |\n| C | 1 | 5.00 | – | – |\n\n"
    );
}

#[test]
fn welch_lines_and_anova_tables_match_scipy() {
    // ttest_ind(A, B, equal_var=False): t -5.857579, df 12.990146, p 5.63e-05; mean A − B -1.3875.
    // f_oneway(A, B, C): F 22.204579, p 6.59e-06; tukey_hsd A − B: -1.3875 [-1.9168, -0.8582].
    let mut rep = Report::new("T");
    rep.welch_line("test accuracy", "A", &A, "B", &B);
    rep.anova_tukey(
        "test accuracy",
        &[
            ("A".into(), A.to_vec()),
            ("B".into(), B.to_vec()),
            ("C".into(), C.to_vec()),
        ],
    );
    rep.anova_tukey(
        "gap",
        &[("A".into(), A.to_vec()), ("Late".into(), vec![1.0])],
    );
    let md = rep.finish();
    assert!(md.contains(
        "Welch's t-test, test accuracy, A vs B: difference -1.39, t(13.0) = -5.858, p = 0.0001.\n\n"
    ), "{md}");
    assert!(md.contains("One-way ANOVA of test accuracy: F(2, 21) = 22.205, p = 0.0000.\n\nTukey's HSD (α = 0.05):\n\n| A | B | mean A − B | 95 % CI | q | p adj | significant |\n"), "{md}");
    assert!(md.contains("| A | B | -1.39 | [-1.92, -0.86] | "), "{md}");
    assert!(md.contains("One-way ANOVA of gap: not computed (\"Late\" has 1 run(s); at least 2 are needed).\n\nTukey's HSD: not computed (\"Late\""), "{md}");
}

#[test]
fn closing_figures_follow_the_claims_table_and_figures_name_their_png() {
    let mut obs = Samples::new();
    let by = |v: &[f64]| -> Vec<(usize, f64)> { v.iter().copied().enumerate().collect() };
    obs.set(Value::TEST_ACCURACY, "a", &by(&A)).unwrap();
    obs.set(Value::TEST_ACCURACY, "c", &by(&C)).unwrap();
    let claims = [Claim::welch(
        "C beats A",
        "{d} points",
        Value::TEST_ACCURACY,
        "c",
        "a",
        Expect::Better,
    )];
    let mut rep = Report::new("T");
    rep.section("Accuracy");
    rep.figure("acc.svg", "Accuracy");
    rep.closing_figure("paired.svg", "Paired");
    rep.add_claims(decide(&obs, &claims, vec![]).unwrap());
    assert_eq!(rep.claim_rows().len(), 1);
    let md = rep.finish();
    assert!(md.starts_with(
        "# T\n\n## Accuracy\n\n![Accuracy](acc.svg)\n\n*Accuracy* (also as `acc.png`)\n\n## The paper's claims and this run\n\n"
    ), "{md}");
    let table = md.find("| C beats A |").unwrap();
    let closing = md.find("![Paired](paired.svg)").unwrap();
    assert!(table < closing, "{md}");
    assert!(md.ends_with("*Paired* (also as `paired.png`)\n\n"), "{md}");
}
