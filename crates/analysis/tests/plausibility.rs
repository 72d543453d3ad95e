//! Biological-plausibility measures: distribution fits on seeded synthetic samples, KS
//! p-values against the Kolmogorov distribution's tabulated critical values and a hand-worked
//! case, Dale compliance of a hand-built matrix, sparsity, and bad input.
use neurogen_analysis::plausibility::{
    activity_sparsity, dale_compliance, fit_exponential, fit_families, fit_log_normal, fit_normal,
    histogram, histogram_in, kolmogorov_sf, ks_statistic, ks_test, weight_sparsity, Family,
    FitParams, OutgoingAxis,
};
use neurogen_analysis::AnalysisError;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal};
use statrs::distribution::{Continuous, LogNormal as SLogNormal};

fn sample<D: Distribution<f64>>(d: D, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| d.sample(&mut rng)).collect()
}

#[test]
fn log_normal_sample_recovers_parameters_and_is_chosen() {
    let xs = sample(LogNormal::new(-2.0, 0.5).unwrap(), 5000, 1);
    let s = fit_families(&xs).unwrap();
    assert_eq!(s.best, Family::LogNormal, "{s:#?}");
    assert!(s.skipped.is_empty());
    let ln = s.get(Family::LogNormal).unwrap();
    let FitParams::LogNormal { mu, sigma } = ln.params else {
        panic!("{:?}", ln.params)
    };
    assert!((mu + 2.0).abs() < 0.03, "mu {mu}");
    assert!((sigma - 0.5).abs() < 0.02, "sigma {sigma}");
    // The log-likelihood is the sum of statrs' log densities at the MLE.
    let d = SLogNormal::new(mu, sigma).unwrap();
    let ll: f64 = xs.iter().map(|&x| d.ln_pdf(x)).sum();
    assert!(
        (ln.log_likelihood - ll).abs() < 1e-6 * ll.abs(),
        "{} vs {ll}",
        ln.log_likelihood
    );
    assert!((ln.aic - (4.0 - 2.0 * ll)).abs() < 1e-6 * ll.abs());
    // The true family passes its KS test; a skewed sample fails the normal fit's.
    assert!(ln.ks.p_value > 0.01, "log-normal KS p {}", ln.ks.p_value);
    assert!(s.get(Family::Normal).unwrap().ks.p_value < 1e-6);
    assert_eq!(
        s.delta_aic.iter().cloned().fold(f64::INFINITY, f64::min),
        0.0
    );
}

#[test]
fn normal_sample_recovers_parameters_and_is_chosen() {
    // mean 5, sd 0.5: all positive, so all three families are fitted and compared.
    let xs = sample(Normal::new(5.0, 0.5).unwrap(), 5000, 2);
    let s = fit_families(&xs).unwrap();
    assert_eq!(s.fits.len(), 3);
    assert_eq!(s.best, Family::Normal, "{s:#?}");
    let FitParams::Normal { mean, sd } = s.get(Family::Normal).unwrap().params else {
        panic!()
    };
    assert!((mean - 5.0).abs() < 0.03, "mean {mean}");
    assert!((sd - 0.5).abs() < 0.02, "sd {sd}");
    assert!(s.get(Family::Normal).unwrap().ks.p_value > 0.01);
    assert!(s.get(Family::Exponential).unwrap().ks.p_value < 1e-6);
}

#[test]
fn exponential_sample_recovers_rate_and_is_chosen() {
    let xs = sample(Exp::new(4.0).unwrap(), 5000, 3);
    let s = fit_families(&xs).unwrap();
    assert_eq!(s.best, Family::Exponential, "{s:#?}");
    let FitParams::Exponential { rate } = s.get(Family::Exponential).unwrap().params else {
        panic!()
    };
    assert!((rate - 4.0).abs() < 0.15, "rate {rate}");
    let e = fit_exponential(&xs).unwrap();
    let n = xs.len() as f64;
    assert!((e.log_likelihood - (n * rate.ln() - n)).abs() < 1e-9 * n);
}

#[test]
fn signed_sample_fits_normal_only_and_says_why() {
    let xs = sample(Normal::new(0.0, 1.0).unwrap(), 500, 4);
    let s = fit_families(&xs).unwrap();
    assert_eq!(s.best, Family::Normal);
    assert_eq!(s.fits.len(), 1);
    let skipped: Vec<Family> = s.skipped.iter().map(|(f, _)| *f).collect();
    assert_eq!(skipped, vec![Family::LogNormal, Family::Exponential]);
    assert!(s.skipped[0].1.contains("x > 0"), "{}", s.skipped[0].1);
}

#[test]
fn kolmogorov_sf_matches_tabulated_critical_values() {
    // Critical values of the Kolmogorov distribution (Smirnov 1948; e.g. scipy.stats.kstwobign):
    // P(K > 1.22385) = 0.10, P(K > 1.35810) = 0.05, P(K > 1.62762) = 0.01; median 0.82757.
    for (lambda, p) in [
        (1.22385, 0.10),
        (1.35810, 0.05),
        (1.62762, 0.01),
        (0.8275735551899077, 0.5),
    ] {
        let q = kolmogorov_sf(lambda);
        assert!((q - p).abs() < 2e-5, "Q({lambda}) = {q}, expected {p}");
    }
    assert_eq!(kolmogorov_sf(0.0), 1.0);
    assert!(kolmogorov_sf(5.0) < 1e-20);
}

#[test]
fn ks_test_hand_worked_case() {
    // Sample {0.2, 0.5, 0.9} against Exp(1): F = 1 - e^{-x} = 0.181269, 0.393469, 0.593430;
    // D = max over i of (i/n - F, F - (i-1)/n) = 1 - 0.593430 = 0.406570 (at i = 3).
    let cdf = |x: f64| 1.0 - (-x).exp();
    let d = ks_statistic(&[0.9, 0.2, 0.5], cdf).unwrap();
    let expected_d = (-0.9f64).exp();
    assert!((d - expected_d).abs() < 1e-12, "D = {d}");
    let t = ks_test(&[0.2, 0.5, 0.9], cdf).unwrap();
    let s3 = 3f64.sqrt();
    let lambda = (s3 + 0.12 + 0.11 / s3) * expected_d;
    assert!((t.p_value - kolmogorov_sf(lambda)).abs() < 1e-12);
    assert!(t.p_value > 0.5 && t.p_value < 0.65, "p {}", t.p_value);
}

#[test]
fn ks_p_values_are_calibrated_under_the_null() {
    // 400 samples of 40 from Exp(1) against the true CDF: about 5 % fall below 0.05.
    let cdf = |x: f64| 1.0 - (-x).exp();
    let rejections = (0..400)
        .filter(|&seed| {
            let xs = sample(Exp::new(1.0).unwrap(), 40, 100 + seed);
            ks_test(&xs, cdf).unwrap().p_value < 0.05
        })
        .count();
    assert!(
        (8..=35).contains(&rejections),
        "{rejections} of 400 rejected"
    );
}

#[test]
fn dale_compliance_of_a_hand_built_matrix() {
    // 3 presynaptic units (rows, Rows layout) × 4 targets:
    // unit 0 excitatory (one weight below tol), unit 1 inhibitory, unit 2 mixed;
    // unit 3 in a second matrix is silent.
    let w = [
        0.5, 0.1, 1e-9, 0.2, //
        -0.3, -0.1, -0.2, 0.0, //
        0.4, -0.5, 0.1, 0.1,
    ];
    let d = dale_compliance(&w, 3, 4, OutgoingAxis::Rows, 1e-6).unwrap();
    assert_eq!(
        (d.n_units, d.excitatory, d.inhibitory, d.mixed, d.silent),
        (3, 1, 1, 1, 0)
    );
    assert_eq!(d.fraction, Some(2.0 / 3.0));
    // The same matrix read by columns: 4 units; column 1 (0.1, -0.1, -0.5) is mixed, column 3
    // (0.2, 0.0, 0.1) excitatory.
    let d = dale_compliance(&w, 3, 4, OutgoingAxis::Columns, 1e-6).unwrap();
    assert_eq!(
        (d.n_units, d.excitatory, d.inhibitory, d.mixed),
        (4, 1, 0, 3)
    );
    // Silent units are left out of the fraction; an all-silent matrix has none.
    let w = [1.0, 0.0, 1.0, 0.0];
    let d = dale_compliance(&w, 2, 2, OutgoingAxis::Columns, 0.0).unwrap();
    assert_eq!((d.silent, d.fraction), (1, Some(1.0)));
    let d = dale_compliance(&[0.0; 4], 2, 2, OutgoingAxis::Rows, 0.0).unwrap();
    assert_eq!(d.fraction, None);
}

#[test]
fn sparsity_measures() {
    // 3 inputs × 4 units. Input 0 drives only unit 0 (Hoyer 1), input 1 drives all equally
    // (Hoyer 0), input 2 is silent. Unit 3 never fires.
    let acts = [
        2.0, 0.0, 0.0, 0.0, //
        1.0, 1.0, 1.0, 1.0, //
        0.0, 0.0, 0.0, 0.0,
    ];
    // Unit 3 fires only for input 1: not dead. Make it dead by zeroing that entry.
    let mut acts = acts.to_vec();
    acts[7] = 0.0;
    let s = activity_sparsity(&acts, 4, 0.0).unwrap();
    assert_eq!(
        (s.n_samples, s.n_units, s.silent_samples, s.dead_units),
        (3, 4, 1, 1)
    );
    assert!((s.fraction_near_zero - 8.0 / 12.0).abs() < 1e-12);
    // Input 1 is now (1, 1, 1, 0): Hoyer = (2 - 3/√3)/(2 - 1) = 2 - √3.
    let expected_pop = (1.0 + (2.0 - 3f64.sqrt())) / 2.0;
    assert!((s.population_hoyer.unwrap() - expected_pop).abs() < 1e-12);
    // Unit 0 responds (2, 1, 0): ratio = 1 / (5/3) = 0.6, S = 0.4 / (2/3) = 0.6;
    // units 1 and 2 respond (0, 1, 0): S = 1.
    let expected_life = (0.6 + 1.0 + 1.0) / 3.0;
    assert!((s.lifetime.unwrap() - expected_life).abs() < 1e-12);

    let w = weight_sparsity(&[0.0, 0.5, -0.5, 1e-8], 1e-6).unwrap();
    assert_eq!(w.fraction_near_zero, 0.5);
}

#[test]
fn histograms() {
    let h = histogram(&[1.0, 2.0, 2.5, 4.0], 3).unwrap();
    assert_eq!(h.edges, vec![1.0, 2.0, 3.0, 4.0]);
    assert_eq!(h.counts, vec![1, 2, 1]);
    let integral: f64 = h.density.iter().sum::<f64>() * 1.0;
    assert!((integral - 1.0).abs() < 1e-12);
    let h = histogram_in(&[-1.0, 0.5, 3.0], 0.0, 1.0, 2).unwrap();
    assert_eq!((h.below, h.counts.clone(), h.above), (1, vec![0, 1], 1));
    let h = histogram(&[2.0, 2.0], 2).unwrap();
    assert_eq!(h.counts, vec![0, 2]);
}

#[test]
fn bad_input_is_a_typed_error() {
    assert!(matches!(
        fit_families(&[]),
        Err(AnalysisError::TooFewObservations { .. })
    ));
    assert!(matches!(
        fit_normal(&[1.0, f64::NAN, 2.0]),
        Err(AnalysisError::NonFinite { index: 1, .. })
    ));
    let e = fit_log_normal(&[1.0, 0.0, 2.0]).unwrap_err();
    assert!(
        matches!(e, AnalysisError::OutsideSupport { index: 1, value, .. } if value == 0.0),
        "{e}"
    );
    assert!(e.to_string().contains("x > 0"), "{e}");
    assert!(matches!(
        fit_log_normal(&[1.0, -3.0]),
        Err(AnalysisError::OutsideSupport { index: 1, .. })
    ));
    assert!(matches!(
        fit_exponential(&[1.0, -3.0]),
        Err(AnalysisError::OutsideSupport { .. })
    ));
    assert!(matches!(
        fit_normal(&[2.0, 2.0, 2.0]),
        Err(AnalysisError::ZeroVariance { .. })
    ));
    assert!(matches!(
        fit_exponential(&[0.0, 0.0]),
        Err(AnalysisError::ZeroVariance { .. })
    ));
    assert!(matches!(
        dale_compliance(&[1.0; 5], 2, 3, OutgoingAxis::Rows, 0.0),
        Err(AnalysisError::LengthMismatch { .. })
    ));
    assert!(matches!(
        dale_compliance(&[1.0, f64::INFINITY], 1, 2, OutgoingAxis::Rows, 0.0),
        Err(AnalysisError::NonFinite { .. })
    ));
    assert!(matches!(
        dale_compliance(&[1.0, 1.0], 1, 2, OutgoingAxis::Rows, -1.0),
        Err(AnalysisError::InvalidArgument(_))
    ));
    assert!(matches!(
        activity_sparsity(&[1.0, 2.0, 3.0], 2, 0.0),
        Err(AnalysisError::InvalidArgument(_))
    ));
    assert!(matches!(
        activity_sparsity(&[1.0, f64::NAN, 3.0, 4.0], 2, 0.0),
        Err(AnalysisError::NonFinite { .. })
    ));
    assert!(matches!(
        histogram(&[1.0], 0),
        Err(AnalysisError::InvalidArgument(_))
    ));
    assert!(matches!(
        ks_test(&[], |x| x),
        Err(AnalysisError::TooFewObservations { .. })
    ));
}
