//! Morcos et al. (2018) robustness summaries: area under curves, noise-perturbation curves and
//! correlations with confidence intervals, on hand-computed cases and scipy's values.
use neurogen_analysis::perturbation::{area_under_curve, default_noise_levels, noise_curve};
use neurogen_analysis::stats::correlation::{mean_correlation, pearson_ci, spearman_ci};
use neurogen_analysis::AnalysisError;

fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} vs {b}");
}

#[test]
fn area_is_the_trapezoid_area_over_the_range() {
    // By hand: [0, .5]: .5 · (1 + .9) / 2 = .475; [.5, 1]: .5 · 1.4 / 2 = .35;
    // [1, 2]: 1 · .7 / 2 = .35; total 1.175 over a range of 2 -> 0.5875.
    let a = area_under_curve(&[0.0, 0.5, 1.0, 2.0], &[1.0, 0.9, 0.5, 0.2]).unwrap();
    close(a, 0.5875, 1e-15);
    // A step-free curve over [0, 1] keeps its plain area (fig5's robustness).
    let f: Vec<f64> = (0..=20).map(|i| i as f64 / 20.0).collect();
    let y: Vec<f64> = f.iter().map(|x| 1.0 - x).collect();
    close(area_under_curve(&f, &y).unwrap(), 0.5, 1e-15);
}

#[test]
fn area_refuses_bad_input() {
    assert!(matches!(
        area_under_curve(&[0.0], &[1.0]),
        Err(AnalysisError::TooFewObservations { .. })
    ));
    assert!(matches!(
        area_under_curve(&[0.0, 1.0], &[1.0]),
        Err(AnalysisError::LengthMismatch { .. })
    ));
    assert!(matches!(
        area_under_curve(&[0.0, 1.0], &[1.0, f64::NAN]),
        Err(AnalysisError::NonFinite { .. })
    ));
    assert!(matches!(
        area_under_curve(&[1.0, 0.0], &[1.0, 0.5]),
        Err(AnalysisError::InvalidArgument(_))
    ));
}

#[test]
fn noise_curve_averages_draws_with_their_seeds() {
    // A toy "network" whose accuracy depends on the level and the draw's seed: each draw's
    // value is known, so the means and SDs are computed by hand.
    let mut calls = Vec::new();
    let c = noise_curve(&[0.0, 1.0, 2.0], 2, 10, |s: f64, seed: u64| {
        calls.push((s, seed));
        Ok::<f64, std::convert::Infallible>(1.0 - 0.2 * s - 0.1 * (seed - 10) as f64)
    })
    .unwrap();
    // Level 0 is evaluated once; levels 1 and 2 with seeds 10 and 11.
    assert_eq!(
        calls,
        vec![(0.0, 10), (1.0, 10), (1.0, 11), (2.0, 10), (2.0, 11)]
    );
    // Level 1: 0.8 and 0.7 -> mean 0.75, SD sqrt(0.005); level 2: 0.6, 0.5 -> 0.55.
    close(c.accuracy_mean[0], 1.0, 1e-15);
    close(c.accuracy_mean[1], 0.75, 1e-12);
    close(c.accuracy_mean[2], 0.55, 1e-12);
    assert_eq!(c.accuracy_sd[0], 0.0);
    close(c.accuracy_sd[1], 0.005f64.sqrt(), 1e-12);
    assert_eq!(default_noise_levels().len(), 9);
}

#[test]
fn noise_curve_refuses_bad_input() {
    let ok = |_: f64, _: u64| Ok::<f64, std::convert::Infallible>(0.5);
    assert!(noise_curve(&[], 1, 0, ok).is_err());
    assert!(noise_curve(&[0.0, 1.0], 0, 0, ok).is_err());
    assert!(noise_curve(&[0.0, -1.0], 1, 0, ok).is_err());
    assert!(noise_curve(&[1.0, 0.5], 1, 0, ok).is_err());
    assert!(noise_curve(&[0.0, f64::NAN], 1, 0, ok).is_err());
    let nan = noise_curve(&[0.0], 1, 0, |_: f64, _: u64| {
        Ok::<f64, std::convert::Infallible>(f64::NAN)
    });
    assert!(matches!(nan, Err(AnalysisError::NonFinite { .. })));
    let failing = noise_curve(&[0.0], 1, 0, |_: f64, _: u64| Err::<f64, _>("boom"));
    assert!(matches!(failing, Err(AnalysisError::Eval(_))));
}

const X: [f64; 8] = [0.62, 0.71, 0.55, 0.80, 0.68, 0.75, 0.59, 0.83];
const Y: [f64; 8] = [48.1, 52.3, 45.0, 55.2, 50.9, 51.0, 47.7, 56.4];

#[test]
fn pearson_interval_matches_scipy() {
    // scipy 1.17: r = pearsonr(X, Y); r.statistic, r.pvalue, r.confidence_interval(0.95)
    // -> 0.9710358504494156, 5.9434690622640944e-05, (0.8436219036012085, 0.9949212806367932)
    let c = pearson_ci(&X, &Y, 0.95).unwrap();
    close(c.corr.r, 0.9710358504494156, 1e-12);
    close(c.corr.p, 5.9434690622640944e-05, 1e-9);
    close(c.lo, 0.8436219036012085, 1e-9);
    close(c.hi, 0.9949212806367932, 1e-9);
    assert_eq!(c.corr.n, 8);
}

#[test]
fn spearman_interval_is_fisher_z_with_the_fieller_se() {
    // scipy: spearmanr(X, Y) -> 0.9761904761904763, p 3.314396026200098e-05; by hand
    // tanh(atanh(ρ) ∓ norm.ppf(0.975) · sqrt(1.06 / 5)) -> 0.8635105718945653, 0.9960440864579445
    let c = spearman_ci(&X, &Y, 0.95).unwrap();
    close(c.corr.r, 0.9761904761904763, 1e-12);
    close(c.corr.p, 3.314396026200098e-05, 1e-9);
    close(c.lo, 0.8635105718945653, 1e-9);
    close(c.hi, 0.9960440864579445, 1e-9);
}

#[test]
fn mean_correlation_matches_a_t_interval_on_fisher_z() {
    // numpy/scipy: zs = arctanh([.1, -.3, .05, -.2, 0]); tanh(zs.mean()) = -0.07224891023976458,
    // tanh(mean ∓ t.ppf(.975, 4) · sd/√5) = -0.2824661327242956, 0.14458954426574536,
    // ttest_1samp(zs, 0).pvalue = 0.4087851805909272
    let m = mean_correlation(&[0.1, -0.3, 0.05, -0.2, 0.0], 0.95).unwrap();
    close(m.r, -0.07224891023976458, 1e-12);
    close(m.lo, -0.2824661327242956, 1e-9);
    close(m.hi, 0.14458954426574536, 1e-9);
    close(m.p, 0.4087851805909272, 1e-9);
    assert_eq!(m.n, 5);
}

#[test]
fn intervals_refuse_bad_input() {
    assert!(matches!(
        pearson_ci(&X[..3], &Y[..3], 0.95),
        Err(AnalysisError::TooFewObservations { .. })
    ));
    assert!(pearson_ci(&X, &Y, 1.0).is_err());
    let mut y = Y;
    y[2] = f64::NAN;
    assert!(matches!(
        spearman_ci(&X, &y, 0.95),
        Err(AnalysisError::NonFinite { .. })
    ));
    assert!(mean_correlation(&[0.2], 0.95).is_err());
    assert!(mean_correlation(&[0.2, 1.5], 0.95).is_err());
    assert!(matches!(
        mean_correlation(&[0.2, 0.2], 0.95),
        Err(AnalysisError::ZeroVariance { .. })
    ));
}
