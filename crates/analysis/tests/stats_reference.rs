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

// ---- paired comparisons: the `# --- paired comparisons` block of make_reference.py ----

// rng = np.random.default_rng(19); 6-decimal accuracies, no ties and no zeros in |a60 - b60|
const A60: [f64; 60] = [
    0.899301, 0.933868, 0.916797, 0.895215, 0.911933, 0.86164, 0.92433, 0.897827, 0.897353,
    0.90461, 0.897669, 0.924245, 0.90343, 0.912612, 0.95704, 0.928592, 0.878082, 0.869328,
    0.917442, 0.927026, 0.897603, 0.916539, 0.916327, 0.879097, 0.873527, 0.902626, 0.844831,
    0.887487, 0.876922, 0.907513, 0.942462, 0.883981, 0.899609, 0.885502, 0.906519, 0.886851,
    0.861257, 0.888281, 0.871547, 0.904904, 0.902045, 0.934538, 0.879691, 0.939115, 0.896173,
    0.920158, 0.881788, 0.934195, 0.914871, 0.915525, 0.918626, 0.846731, 0.928525, 0.919513,
    0.905691, 0.908697, 0.917045, 0.899975, 0.892966, 0.877528,
];
const B60: [f64; 60] = [
    0.8926, 0.919882, 0.908317, 0.887637, 0.913443, 0.870999, 0.91187, 0.888763, 0.912629,
    0.908782, 0.884655, 0.910567, 0.906839, 0.887077, 0.940023, 0.916039, 0.876359, 0.88024,
    0.906337, 0.906241, 0.885463, 0.924318, 0.90194, 0.882746, 0.892508, 0.896424, 0.868934,
    0.883356, 0.863802, 0.894129, 0.912253, 0.874283, 0.906442, 0.876347, 0.896727, 0.889677,
    0.875756, 0.889018, 0.875491, 0.90587, 0.900924, 0.923999, 0.870735, 0.921856, 0.898425,
    0.908107, 0.896231, 0.930939, 0.92772, 0.92137, 0.905189, 0.853244, 0.911127, 0.899345,
    0.897321, 0.908691, 0.923869, 0.905345, 0.890671, 0.884445,
];

/// One line pair `paired <name> ...` / `wilcoxon <name> ...` of make_reference.py.
struct PairedRef {
    n: usize,
    mean: f64,
    sd: f64,
    sem: f64,
    ci: (f64, f64),
    t: f64,
    df: f64,
    p_t: f64,
    d_z: f64,
    w_stat: f64,
    w_plus: f64,
    p_w: f64,
    z: Option<f64>,
    method: WilcoxonMethod,
    n_zero: usize,
}

fn check_paired(name: &str, a: &[f64], b: &[f64], e: PairedRef) {
    let r = paired_comparison(a, b).unwrap_or_else(|err| panic!("{name}: {err}"));
    let s = r.diff;
    assert_eq!(s.n, e.n, "{name}: n");
    rel(s.mean, e.mean);
    rel(s.sd, e.sd);
    rel(s.sem, e.sem);
    rel(s.ci95.0, e.ci.0);
    rel(s.ci95.1, e.ci.1);
    rel(r.t_test.t, e.t);
    assert_eq!(r.t_test.df, e.df, "{name}: df");
    pval(r.t_test.p, e.p_t);
    rel(r.t_test.p, e.p_t); // p far from 0: also relatively accurate
    rel(r.t_test.mean_diff, e.mean);
    rel(r.t_test.sem, e.sem);
    rel(r.d_z, e.d_z);
    let w = r.wilcoxon;
    assert_eq!(w.method, e.method, "{name}: Wilcoxon method");
    assert_eq!(
        (w.n, w.n_zero),
        (e.n, e.n_zero),
        "{name}: Wilcoxon n, zeros"
    );
    assert_eq!(w.statistic, e.w_stat, "{name}: Wilcoxon statistic");
    assert_eq!(w.w_plus, e.w_plus, "{name}: W+");
    let m = (e.n - e.n_zero) as f64;
    assert_eq!(w.w_plus + w.w_minus, m * (m + 1.0) / 2.0, "{name}: W+ + W-");
    pval(w.p, e.p_w);
    rel(w.p, e.p_w);
    match (w.z, e.z) {
        (Some(z), Some(ez)) => rel(z, ez),
        (None, None) => {}
        (got, want) => panic!("{name}: z {got:?}, scipy {want:?}"),
    }
    // the single-purpose entry points agree with the bundle
    assert_eq!(paired_summary(a, b).unwrap(), s);
    assert_eq!(paired_t_test(a, b).unwrap(), r.t_test);
    assert_eq!(wilcoxon_signed_rank(a, b).unwrap(), w);
    assert_eq!(cohens_dz(a, b).unwrap(), r.d_z);
}

#[test]
fn paired_exact_wilcoxon_matches_scipy() {
    // e1: positive effect, n = 10; e2: negative effect, n = 7 (no ties, no zeros -> exact)
    check_paired(
        "e1",
        &[91.2, 90.5, 92.1, 89.9, 91.7, 90.8, 91.5, 90.3, 91.9, 91.0],
        &[90.1, 90.7, 90.8, 89.4, 90.8, 90.9, 89.9, 89.5, 91.3, 90.3],
        PairedRef {
            n: 10,
            mean: 0.7200000000000003,
            sd: 0.5652924513520031,
            sem: 0.17876116903722597,
            ci: (0.3156141410322588, 1.1243858589677418),
            t: 4.027720359392282,
            df: 9.0,
            p_t: 0.002983188535343153,
            d_z: 1.2736770113911569,
            w_stat: 3.0,
            w_plus: 52.0,
            p_w: 0.009765625,
            z: None,
            method: WilcoxonMethod::Exact,
            n_zero: 0,
        },
    );
    check_paired(
        "e2",
        &[0.62, 0.58, 0.65, 0.60, 0.57, 0.63, 0.59],
        &[0.67, 0.61, 0.64, 0.67, 0.61, 0.65, 0.65],
        PairedRef {
            n: 7,
            mean: -0.03714285714285718,
            sd: 0.026903708365381994,
            sem: 0.010168645954315544,
            ci: (-0.06202463743856933, -0.012261076847145034),
            t: -3.6526846651686067,
            df: 6.0,
            p_t: 0.010672099020759433,
            d_z: -1.380585034539338,
            w_stat: 1.0,
            w_plus: 1.0,
            p_w: 0.03125,
            z: None,
            method: WilcoxonMethod::Exact,
            n_zero: 0,
        },
    );
}

#[test]
fn paired_permutation_wilcoxon_with_ties_and_zeros_matches_scipy() {
    // t1: tied |d|, n = 12; z1: two zero differences and ties, n = 9 (-> PermutationMethod)
    check_paired(
        "t1",
        &[12., 15., 11., 14., 13., 16., 12., 15., 14., 13., 17., 12.],
        &[10., 12., 12., 12., 12., 13., 14., 11., 13., 11., 14., 13.],
        PairedRef {
            n: 12,
            mean: 1.4166666666666667,
            sd: 1.8809249819912512,
            sem: 0.5429762723390705,
            ci: (0.22158394896649658, 2.6117493843668367),
            t: 2.609076563445126,
            df: 11.0,
            p_t: 0.0242974944723308,
            d_z: 0.7531755281206935,
            w_stat: 11.5,
            w_plus: 66.5,
            p_w: 0.03076171875,
            z: None,
            method: WilcoxonMethod::Permutation,
            n_zero: 0,
        },
    );
    check_paired(
        "z1",
        &[3.5, 4.0, 2.0, 3.0, 5.5, 4.0, 6.0, 4.5, 2.5],
        &[3.0, 3.0, 2.0, 3.5, 4.0, 4.0, 4.0, 3.5, 4.0],
        PairedRef {
            n: 9,
            mean: 0.4444444444444444,
            sd: 1.0736748938937604,
            sem: 0.3578916312979201,
            ci: (-0.38085513728352405, 1.2697440261724129),
            t: 1.2418408411301327,
            df: 8.0,
            p_t: 0.24946683266704767,
            d_z: 0.41394694704337753,
            w_stat: 7.0,
            w_plus: 21.0,
            p_w: 0.3125,
            z: None,
            method: WilcoxonMethod::Permutation,
            n_zero: 2,
        },
    );
}

#[test]
fn paired_normal_wilcoxon_with_ties_and_zeros_matches_scipy() {
    // t2: ties, n = 20; z2: three zeros and ties, n = 16 (-> normal approximation, tie correction)
    let b20 = [
        50., 52., 49., 51., 53., 50., 48., 52., 51., 50., 49., 53., 52., 50., 51., 49., 50., 52.,
        51., 50.,
    ];
    let d20 = [
        3., -1., 2., 4., 2., -2., 5., 1., 3., 2., -1., 4., 3., 1., 2., 6., -3., 2., 1., 3.,
    ];
    let a20: Vec<f64> = b20.iter().zip(d20).map(|(x, d)| x + d).collect();
    check_paired(
        "t2",
        &a20,
        &b20,
        PairedRef {
            n: 20,
            mean: 1.85,
            sd: 2.277463963548745,
            sem: 0.5092564238801096,
            ci: (0.7841140549569767, 2.9158859450430237),
            t: 3.6327474986069723,
            df: 19.0,
            p_t: 0.00177137620979073,
            d_z: 0.8123070351977512,
            w_stat: 28.5,
            w_plus: 181.5,
            p_w: 0.004039685661037775,
            z: Some(2.8750460571108203),
            method: WilcoxonMethod::Normal,
            n_zero: 0,
        },
    );
    let b16: Vec<f64> = (0..16).map(|i| 10.0 + 0.5 * i as f64).collect();
    let d16 = [
        0.25, -0.5, 0., 0.75, 1.0, 0.5, 0., -0.25, 1.25, 0.5, 0.75, 0., 1.5, -0.75, 1.0, 0.25,
    ];
    let a16: Vec<f64> = b16.iter().zip(d16).map(|(x, d)| x + d).collect();
    check_paired(
        "z2",
        &a16,
        &b16,
        PairedRef {
            n: 16,
            mean: 0.390625,
            sd: 0.6322496210622299,
            sem: 0.15806240526555748,
            ci: (0.05372295812664235, 0.7275270418733577),
            t: 2.471334023696013,
            df: 15.0,
            p_t: 0.025930372275281298,
            d_z: 0.6178335059240032,
            w_stat: 15.0,
            w_plus: 76.0,
            p_w: 0.03235302383630142,
            z: Some(2.140021567109151),
            method: WilcoxonMethod::Normal,
            n_zero: 3,
        },
    );
}

#[test]
fn paired_wilcoxon_exact_to_normal_boundary_matches_scipy() {
    // n = 50: exact; n = 51 and 60: normal approximation (scipy's method="auto")
    check_paired(
        "n50",
        &A60[..50],
        &B60[..50],
        PairedRef {
            n: 50,
            mean: 0.0036947000000000087,
            sd: 0.011705262394516828,
            sem: 0.0016553740829461467,
            ci: (0.00036810123472590887, 0.0070212987652741084),
            t: 2.2319426394693687,
            df: 49.0,
            p_t: 0.030223680896599596,
            d_z: 0.31564435511763844,
            w_stat: 419.0,
            w_plus: 856.0,
            p_w: 0.03453081197041463,
            z: None,
            method: WilcoxonMethod::Exact,
            n_zero: 0,
        },
    );
    check_paired(
        "n51",
        &A60[..51],
        &B60[..51],
        PairedRef {
            n: 51,
            mean: 0.0038857254901960873,
            sd: 0.01166764466390442,
            sem: 0.001633797045038104,
            ci: (0.0006041475480615057, 0.007167303432330669),
            t: 2.3783403832178327,
            df: 50.0,
            p_t: 0.0212526203002819,
            d_z: 0.3330342671659476,
            w_stat: 424.0,
            w_plus: 902.0,
            p_w: 0.025074140489837644,
            z: Some(2.2402585814186122),
            method: WilcoxonMethod::Normal,
            n_zero: 0,
        },
    );
    check_paired(
        "n60",
        &A60,
        &B60,
        PairedRef {
            n: 60,
            mean: 0.0036797500000000077,
            sd: 0.01143495644959951,
            sem: 0.0014762465297968664,
            ci: (0.000725787516957635, 0.00663371248304238),
            t: 2.4926392209750676,
            df: 59.0,
            p_t: 0.015506779272139348,
            d_z: 0.3217983396979955,
            w_stat: 590.0,
            w_plus: 1240.0,
            p_w: 0.016733071607703435,
            z: Some(2.3925209755286154),
            method: WilcoxonMethod::Normal,
            n_zero: 0,
        },
    );
}

#[test]
fn paired_tests_are_antisymmetric_in_a_and_b() {
    let (a, b) = (&A60[..20], &B60[..20]);
    let ab = paired_comparison(a, b).unwrap();
    let ba = paired_comparison(b, a).unwrap();
    assert_eq!(ab.t_test.t, -ba.t_test.t);
    assert_eq!(ab.d_z, -ba.d_z);
    assert_eq!(
        (ab.wilcoxon.w_plus, ab.wilcoxon.w_minus),
        (ba.wilcoxon.w_minus, ba.wilcoxon.w_plus)
    );
    assert_eq!(ab.wilcoxon.statistic, ba.wilcoxon.statistic);
    assert_eq!(ab.wilcoxon.p, ba.wilcoxon.p);
    assert_eq!(ab.t_test.p, ba.t_test.p);
}

#[test]
fn holm_matches_statsmodels() {
    // multipletests(p, method="holm")[1]
    let cases: [(&[f64], &[f64]); 6] = [
        (&[0.01, 0.04, 0.03, 0.005], &[0.03, 0.06, 0.06, 0.02]),
        (
            &[0.2, 0.5, 0.3, 0.9, 0.04],
            &[0.8, 1.0, 0.8999999999999999, 1.0, 0.2],
        ),
        (&[0.01, 0.01, 0.02], &[0.03, 0.03, 0.03]),
        (&[0.01, 0.012], &[0.02, 0.02]),
        (&[0.03], &[0.03]),
        (
            &[0.001, 0.6, 0.0004, 0.049, 0.02, 0.7],
            &[
                0.005,
                1.0,
                0.0024000000000000002,
                0.14700000000000002,
                0.08,
                1.0,
            ],
        ),
    ];
    for (p, expected) in cases {
        let adj = holm_bonferroni(p).unwrap();
        assert_eq!(adj.len(), expected.len());
        for (got, e) in adj.iter().zip(expected) {
            rel(*got, *e);
        }
        // never below the raw p-value, never above 1
        assert!(adj.iter().zip(p).all(|(q, p)| q >= p && *q <= 1.0));
    }
    assert!(holm_bonferroni(&[]).unwrap().is_empty());
}

#[test]
fn paired_bad_input_gives_typed_errors() {
    let err = paired_comparison(&[1.0, 2.0, 3.0], &[1.0, 2.0]).unwrap_err();
    assert!(matches!(
        err,
        AnalysisError::LengthMismatch {
            expected: 3,
            got: 2,
            ..
        }
    ));
    assert!(err.to_string().contains("one value per pair"), "{err}");
    assert!(matches!(
        paired_t_test(&[1.0], &[2.0]),
        Err(AnalysisError::TooFewObservations { min: 2, got: 1, .. })
    ));
    assert!(matches!(
        wilcoxon_signed_rank(&[], &[]),
        Err(AnalysisError::TooFewObservations { got: 0, .. })
    ));
    let err = cohens_dz(&[1.0, 2.0, 3.0], &[0.5, f64::NAN, 1.0]).unwrap_err();
    assert!(matches!(err, AnalysisError::NonFinite { index: 1, .. }));
    assert!(err.to_string().contains("paired sample b"), "{err}");
    assert!(matches!(
        paired_summary(&[f64::INFINITY, 1.0], &[0.0, 0.0]),
        Err(AnalysisError::NonFinite { index: 0, .. })
    ));
    // finite inputs whose difference overflows
    assert!(matches!(
        paired_differences(&[f64::MAX, 1.0], &[-f64::MAX, 0.0]),
        Err(AnalysisError::NonFinite { index: 0, .. })
    ));
    // constant differences: the t statistic and d_z divide by sd = 0
    let (a, b) = ([3.0, 4.0, 5.0], [2.0, 3.0, 4.0]);
    for err in [
        paired_t_test(&a, &b).unwrap_err(),
        cohens_dz(&a, &b).unwrap_err(),
        paired_comparison(&a, &b).unwrap_err(),
    ] {
        assert!(matches!(err, AnalysisError::ZeroVariance { .. }), "{err}");
        assert!(
            err.to_string().contains("every difference a - b is equal"),
            "{err}"
        );
    }
    // ... but the summary and the rank test are defined
    assert_eq!(paired_summary(&a, &b).unwrap().ci95, (1.0, 1.0));
    let w = wilcoxon_signed_rank(&a, &b).unwrap();
    assert_eq!((w.statistic, w.method), (0.0, WilcoxonMethod::Permutation));
    pval(w.p, 0.25); // "wilcoxon constant-differences": all three tied, 2 * 1/8
    let err = wilcoxon_signed_rank(&[1.0, 2.0], &[1.0, 2.0]).unwrap_err();
    assert!(matches!(err, AnalysisError::ZeroVariance { .. }));
    assert!(
        err.to_string().contains("every difference a - b is zero"),
        "{err}"
    );
    assert!(matches!(
        holm_bonferroni(&[0.01, f64::NAN]),
        Err(AnalysisError::NonFinite { index: 1, .. })
    ));
    let err = holm_bonferroni(&[0.01, 1.5]).unwrap_err();
    assert!(matches!(err, AnalysisError::InvalidArgument(_)));
    assert!(err.to_string().contains("index 1"), "{err}");
    assert!(holm_bonferroni(&[-0.1]).is_err());
}
