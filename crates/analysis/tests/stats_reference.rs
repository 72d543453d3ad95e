//! Statistics checked against scipy 1.17.1 / statsmodels 0.15.0 reference values.
//! The script that produced every constant is `tests/reference/make_reference.py`
//! (printed lines quoted next to each block). Statistics to 1e-6 relative, p-values to 1e-4.
use neurogen_analysis::kde::{bandwidth, gaussian_kde, Bandwidth};
use neurogen_analysis::stats::*;
use neurogen_analysis::AnalysisError;

const A: [f64; 8] = [5.1, 4.9, 6.2, 5.8, 6.0, 5.5, 5.3, 6.1];
const B: [f64; 7] = [6.8, 7.1, 6.5, 7.4, 6.9, 7.7, 6.6];
const C: [f64; 9] = [5.9, 6.3, 6.0, 6.6, 5.7, 6.4, 6.2, 6.1, 5.8];

fn rel(actual: f64, expected: f64) {
    let tol = 1e-6 * expected.abs().max(1e-12);
    assert!(
        (actual - expected).abs() <= tol,
        "statistic {actual} != {expected} (rel tol 1e-6)"
    );
}

fn pval(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-4,
        "p-value {actual} != {expected} (abs tol 1e-4)"
    );
}

#[test]
fn welch_matches_scipy() {
    // stats.ttest_ind(A, B, equal_var=False) -> t, p, df
    let r = welch_t_test(&A, &B).unwrap();
    rel(r.t, -5.857579016292012);
    rel(r.df, 12.99014635318267);
    pval(r.p, 5.6318884728571524e-05);
    rel(r.p, 5.6318884728571524e-05); // p far from 0 or 1: statrs is also accurate relatively
}

#[test]
fn student_matches_scipy() {
    // stats.ttest_ind(A, B, equal_var=True)
    let r = student_t_test(&A, &B).unwrap();
    rel(r.t, -5.809131132507915);
    assert_eq!(r.df, 13.0);
    pval(r.p, 6.0825636051302015e-05);
}

#[test]
fn one_way_anova_matches_scipy() {
    // stats.f_oneway(A, B, C)
    let r = one_way_anova(&[&A, &B, &C]).unwrap();
    rel(r.f, 22.204579232777665);
    assert_eq!((r.df_between, r.df_within), (2.0, 21.0));
    pval(r.p, 6.593221971360164e-06);
}

#[test]
fn tukey_hsd_matches_scipy() {
    // t = stats.tukey_hsd(A, B, C); ci = t.confidence_interval(0.95)
    // (i, j, statistic[i,j], pvalue[i,j], ci.low[i,j], ci.high[i,j])
    let expected = [
        (
            -1.3875000000000002,
            4.434168142886108e-06,
            -1.916835001552692,
            -0.8581649984473082,
        ),
        (
            -0.4986111111111109,
            0.04915627269838663,
            -0.9955891620489455,
            -0.0016330601732762462,
        ),
        (
            0.8888888888888893,
            0.0007951606691054547,
            0.37346005186232656,
            1.404317725915452,
        ),
    ];
    let pairs = tukey_hsd(&[("A", &A), ("B", &B), ("C", &C)], 0.05).unwrap();
    assert_eq!(pairs.len(), 3);
    for (p, e) in pairs.iter().zip(expected) {
        rel(p.mean_diff, e.0);
        pval(p.p_adj, e.1);
        rel(p.ci_low, e.2);
        rel(p.ci_high, e.3);
    }
    assert_eq!(
        (pairs[0].group_a.as_str(), pairs[0].group_b.as_str()),
        ("A", "B")
    );
    assert!(pairs.iter().all(|p| p.reject));
}

#[test]
fn ptukey_matches_scipy_studentized_range() {
    // stats.studentized_range.cdf(q, k, df)
    let cases = [
        (3.5, 3.0, 20.0, 0.9441081509182501),
        (2.0, 2.0, 5.0, 0.7835627707303147),
        (4.0, 5.0, 10.0, 0.8980450947258651),
        (1.0, 4.0, 60.0, 0.10610520117726581),
        (5.5, 10.0, 30.0, 0.9841787707506147),
        (3.0, 3.0, 200.0, 0.9119016779765873),
        (3.3, 4.0, 1000.0, 0.9087785262377791),
        (0.5, 2.0, 2.0, 0.24253562503632994),
        (6.0, 20.0, 12.0, 0.9376120243795155),
        (3.6, 3.0, 30000.0, 0.9706174625618956),
        (3.6, 3.0, 3e6, 0.970629439218705),
        (2.9, 6.0, 12000.0, 0.6862591905599108),
    ];
    for (q, k, df, p) in cases {
        let got = ptukey(q, k, df);
        // Copenhaver & Holland's quadrature (as R's ptukey) loses a little accuracy at df = 2,
        // where the studentizing chi density makes the integrand non-smooth near 0.
        let tol = if df < 5.0 { 1e-5 } else { 1e-6 };
        assert!(
            (got - p).abs() < tol,
            "ptukey({q}, {k}, {df}) = {got}, scipy {p}"
        );
    }
}

#[test]
fn ptukey_k2_equals_folded_t() {
    // For k = 2 the studentized range is sqrt(2)|T_df|: P(Q <= q) = 2 F_t(q / sqrt 2; df) - 1.
    use statrs::distribution::{ContinuousCDF, StudentsT};
    for df in [3.0, 7.0, 25.0, 150.0] {
        let t = StudentsT::new(0.0, 1.0, df).unwrap();
        for q in [0.3, 1.2, 2.8, 4.5] {
            let exact = 2.0 * t.cdf(q / std::f64::consts::SQRT_2) - 1.0;
            let got = ptukey(q, 2.0, df);
            assert!(
                (got - exact).abs() < 1e-6,
                "q={q} df={df}: {got} vs {exact}"
            );
        }
    }
}

#[test]
fn qtukey_matches_scipy_studentized_range() {
    // stats.studentized_range.ppf(p, k, df)
    for (p, k, df, q) in [
        (0.95, 3.0, 21.0, 3.564624799059247),
        (0.95, 5.0, 10.0, 4.6542929978545375),
        (0.99, 4.0, 60.0, 4.5944429763039),
    ] {
        rel(qtukey(p, k, df).unwrap(), q);
    }
}

#[test]
fn summary_matches_scipy() {
    // a.mean(), a.std(ddof=1), stats.sem(a), stats.t.interval(0.95, n-1, loc=m, scale=sem)
    let s = summarize(&A).unwrap();
    assert_eq!(s.n, 8);
    rel(s.mean, 5.6125);
    rel(s.sd, 0.485320218294802);
    rel(s.sem, 0.171586608701595);
    rel(s.ci95.0, 5.206762143815647);
    rel(s.ci95.1, 6.018237856184353);
}

#[test]
fn z_scores_match_scipy() {
    // stats.zscore(a, ddof=1)
    let expected = [
        -1.056003810846158,
        -1.4681028589812424,
        1.2105409538968155,
        0.38634285762664305,
        0.7984419057617292,
        -0.23180571457598545,
        -0.6439047627110717,
        1.0044914298292715,
    ];
    for (z, e) in z_scores(&A).unwrap().into_iter().zip(expected) {
        rel(z, e);
    }
}

#[test]
fn correlations_match_scipy() {
    // stats.pearsonr(x, y), stats.spearmanr(x, y) (y has a tie)
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    let y = [2.1, 1.9, 3.5, 3.5, 4.8, 4.1, 7.2, 6.0];
    let p = pearson(&x, &y).unwrap();
    rel(p.r, 0.9102578652287825);
    pval(p.p, 0.0016874474051523506);
    let s = spearman(&x, &y).unwrap();
    rel(s.r, 0.9221722216732094);
    pval(s.p, 0.001110817357806172);
}

#[test]
fn kde_matches_scipy_gaussian_kde() {
    // k = stats.gaussian_kde(A, bw_method=bw); k.factor * std(A, ddof=1); k([4.5, 5, 5.5, 6, 6.5])
    let pts = [4.5, 5.0, 5.5, 6.0, 6.5];
    let cases = [
        (
            Bandwidth::Scott,
            0.32019193364900955,
            [
                0.10638123716503382,
                0.4517078408876749,
                0.5697782338860743,
                0.6240694963315112,
                0.23341063980543245,
            ],
        ),
        (
            Bandwidth::Silverman,
            0.33915492983255036,
            [
                0.11520633319582345,
                0.44264380706309114,
                0.5719480426070023,
                0.6071393543515238,
                0.24206491677908998,
            ],
        ),
    ];
    for (rule, h, dens) in cases {
        rel(bandwidth(&A, rule).unwrap(), h);
        let d = gaussian_kde(&A, &pts, rule).unwrap();
        for (got, e) in d.y.iter().zip(dens) {
            rel(*got, e);
        }
    }
}

fn cube(rows: &[[[f64; 2]; 2]]) -> Vec<Vec<Vec<f64>>> {
    rows.iter()
        .map(|s| s.iter().map(|a| a.to_vec()).collect())
        .collect()
}

#[test]
fn rm_anova_2x2_matches_statsmodels() {
    // AnovaRM(df, "y", "s", within=["a", "b"]).fit().anova_table for `data` (5 subjects, 2 x 2)
    let data = cube(&[
        [[0.71, 0.69], [0.74, 0.70]],
        [[0.68, 0.66], [0.73, 0.67]],
        [[0.70, 0.70], [0.75, 0.71]],
        [[0.72, 0.68], [0.77, 0.72]],
        [[0.69, 0.67], [0.72, 0.69]],
    ]);
    let r = rm_anova_2way(&data).unwrap();
    assert_eq!(r.n_subjects, 5);
    for (eff, f, p) in [
        (r.factor_a, 51.42857142857116, 0.0020018986134919437),
        (r.factor_b, 47.6279069767442, 0.002311841958375733),
        (r.interaction, 12.52173913043494, 0.024043528799373298),
    ] {
        rel(eff.f, f);
        pval(eff.p, p);
        assert_eq!((eff.df, eff.df_error), (1.0, 4.0));
    }
}

#[test]
fn rm_anova_3x2_matches_statsmodels() {
    // AnovaRM for `data3` (4 subjects, A at 3 levels, B at 2 levels)
    let raw = [
        [[1.0, 2.0], [2.5, 3.1], [3.2, 4.8]],
        [[1.4, 2.2], [2.1, 3.5], [3.9, 4.1]],
        [[0.9, 1.7], [2.8, 2.9], [3.1, 5.0]],
        [[1.2, 2.6], [2.2, 3.3], [3.6, 4.4]],
    ];
    let data: Vec<Vec<Vec<f64>>> = raw
        .iter()
        .map(|s| s.iter().map(|a| a.to_vec()).collect())
        .collect();
    let r = rm_anova_2way(&data).unwrap();
    for (eff, f, df, df_err, p) in [
        (
            r.factor_a,
            184.4696629213483,
            2.0,
            6.0,
            4.097988814323184e-06,
        ),
        (
            r.factor_b,
            202.30049261083818,
            1.0,
            3.0,
            0.0007530094847575963,
        ),
        (
            r.interaction,
            0.22724603640634122,
            2.0,
            6.0,
            0.8032810761523622,
        ),
    ] {
        rel(eff.f, f);
        pval(eff.p, p);
        assert_eq!((eff.df, eff.df_error), (df, df_err));
    }
}

#[test]
fn bad_input_gives_typed_errors() {
    assert!(matches!(
        welch_t_test(&[1.0], &B),
        Err(AnalysisError::TooFewObservations { .. })
    ));
    assert!(matches!(
        student_t_test(&A, &[1.0, f64::NAN]),
        Err(AnalysisError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        welch_t_test(&[2.0, 2.0], &[3.0, 3.0]),
        Err(AnalysisError::ZeroVariance { .. })
    ));
    assert!(matches!(
        one_way_anova(&[&A]),
        Err(AnalysisError::TooFewObservations { .. })
    ));
    assert!(matches!(
        one_way_anova(&[&[1.0, 1.0], &[2.0, 2.0]]),
        Err(AnalysisError::ZeroVariance { .. })
    ));
    assert!(matches!(
        tukey_hsd(&[("a", &A), ("b", &[1.0])], 0.05),
        Err(AnalysisError::TooFewObservations { .. })
    ));
    assert!(matches!(
        tukey_hsd(&[("a", &A), ("b", &B)], 1.5),
        Err(AnalysisError::InvalidArgument(_))
    ));
    assert!(matches!(
        pearson(&[1.0, 2.0, 3.0], &[1.0, 2.0]),
        Err(AnalysisError::LengthMismatch { .. })
    ));
    assert!(matches!(
        spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]),
        Err(AnalysisError::ZeroVariance { .. })
    ));
    assert!(matches!(
        summarize(&[1.0]),
        Err(AnalysisError::TooFewObservations { .. })
    ));
    assert!(matches!(
        z_scores(&[3.0, 3.0, 3.0]),
        Err(AnalysisError::ZeroVariance { .. })
    ));
    assert!(matches!(
        bandwidth(&[3.0, 3.0], Bandwidth::Scott),
        Err(AnalysisError::ZeroVariance { .. })
    ));
    let ragged = vec![
        vec![vec![1.0, 2.0], vec![3.0, 4.0]],
        vec![vec![1.0, 2.0], vec![3.0]],
    ];
    assert!(matches!(
        rm_anova_2way(&ragged),
        Err(AnalysisError::LengthMismatch { .. })
    ));
    let flat = vec![vec![vec![1.0, 1.0], vec![1.0, 1.0]]; 3];
    assert!(matches!(
        rm_anova_2way(&flat),
        Err(AnalysisError::ZeroVariance { .. })
    ));
    let with_nan = vec![vec![vec![1.0, 2.0], vec![3.0, f64::NAN]]; 3];
    assert!(matches!(
        rm_anova_2way(&with_nan),
        Err(AnalysisError::NonFinite { .. })
    ));
}
