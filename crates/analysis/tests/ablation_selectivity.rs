//! Ablation, importance and selectivity on a tiny hand-built 2-layer ReLU network whose
//! unit-silencing effects are worked out by hand.
//!
//! Network: input x = (x0, x1) >= 0; hidden h = relu(W1 x) with 5 units
//!   h0 = x0, h1 = x1, h2 = x0 (a duplicate of h0), h3 = x0 + x1 (fires for both classes),
//!   h4 = relu(-x0 - x1) = 0 (a dead unit);
//! logits l0 = h0 + h2, l1 = h1 (h3, h4 have zero output weights). The prediction is the
//! strict argmax; a tie counts as wrong (no decision).
//! Data: class 0 = (1, 0), (2, 0); class 1 = (0, 1), (0, 2).
//! By hand: nothing silenced -> acc 1; silencing h1 -> class 1 ties -> acc 0.5; silencing
//! h0 and h2 together -> class 0 ties -> acc 0.5; either of h0/h2 alone, h3 or h4 -> acc 1;
//! hence acc(S) = 1 - 0.5 [1 in S] - 0.5 [{0, 2} ⊆ S].
use neurogen_analysis::ablation::{ablation_curve, default_fractions, AblationOrder};
use neurogen_analysis::selectivity::{
    class_selectivity, selectivity_importance_correlation, unit_importance,
};
use neurogen_analysis::AnalysisError;

const W1: [[f32; 2]; 5] = [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]];
const W2: [[f32; 5]; 2] = [[1.0, 0.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0]];
const X: [[f32; 2]; 4] = [[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 2.0]];
const Y: [u8; 4] = [0, 0, 1, 1];

fn hidden(x: &[f32; 2], silenced: &[usize]) -> Vec<f32> {
    (0..5)
        .map(|u| {
            if silenced.contains(&u) {
                0.0
            } else {
                (W1[u][0] * x[0] + W1[u][1] * x[1]).max(0.0)
            }
        })
        .collect()
}

fn accuracy(silenced: &[usize]) -> Result<f64, std::convert::Infallible> {
    let correct = X
        .iter()
        .zip(Y)
        .filter(|(x, y)| {
            let h = hidden(x, silenced);
            let l: Vec<f32> = W2
                .iter()
                .map(|w| w.iter().zip(&h).map(|(a, b)| a * b).sum())
                .collect();
            let pred = if l[0] > l[1] {
                Some(0)
            } else if l[1] > l[0] {
                Some(1)
            } else {
                None
            };
            pred == Some(*y)
        })
        .count();
    Ok(correct as f64 / X.len() as f64)
}

fn hand_accuracy(silenced: &[usize]) -> f64 {
    let mut acc = 1.0;
    if silenced.contains(&1) {
        acc -= 0.5;
    }
    if silenced.contains(&0) && silenced.contains(&2) {
        acc -= 0.5;
    }
    acc
}

#[test]
fn network_matches_hand_analysis_on_every_subset() {
    for mask in 0u32..32 {
        let s: Vec<usize> = (0..5).filter(|u| mask & (1 << u) != 0).collect();
        assert_eq!(accuracy(&s).unwrap(), hand_accuracy(&s), "silenced {s:?}");
    }
}

#[test]
fn given_order_ablation_curve() {
    let fractions = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
    let curve = ablation_curve(
        5,
        &fractions,
        AblationOrder::Given(vec![0, 2, 1, 3, 4]),
        accuracy,
    )
    .unwrap();
    assert_eq!(curve.n_silenced, vec![0, 1, 2, 3, 4, 5]);
    // {} -> 1, {0} -> 1, {0,2} -> 0.5, {0,1,2} -> 0, ... -> 0
    assert_eq!(curve.accuracy_mean, vec![1.0, 1.0, 0.5, 0.0, 0.0, 0.0]);
    assert_eq!(curve.accuracy_sd, vec![0.0; 6]);
    assert_eq!(
        (curve.acc_none_silenced, curve.acc_all_silenced),
        (1.0, 0.0)
    );
    assert_eq!(
        curve.normalized.unwrap(),
        vec![1.0, 1.0, 0.5, 0.0, 0.0, 0.0]
    );

    // Least important first: the dead and the unselective unit cost nothing.
    let curve = ablation_curve(
        5,
        &fractions,
        AblationOrder::Given(vec![4, 3, 0, 1, 2]),
        accuracy,
    )
    .unwrap();
    assert_eq!(curve.accuracy_mean, vec![1.0, 1.0, 1.0, 1.0, 0.5, 0.0]);
}

#[test]
fn random_ablation_is_seeded_nested_and_matches_expectation() {
    // Record every silenced set handed to eval.
    let run = |seed: u64, draws: usize| {
        let mut calls: Vec<Vec<usize>> = Vec::new();
        let curve = ablation_curve(
            5,
            &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            AblationOrder::Random { draws, seed },
            |s: &[usize]| {
                calls.push(s.to_vec());
                accuracy(s)
            },
        )
        .unwrap();
        (curve, calls)
    };
    let (c1, calls1) = run(7, 3);
    let (c2, calls2) = run(7, 3);
    assert_eq!(c1, c2);
    assert_eq!(calls1, calls2);
    // 2 endpoint calls + 3 draws × 4 interior fractions (0 and 1 reuse the endpoints).
    assert_eq!(calls1.len(), 2 + 3 * 4);
    assert!(
        calls1.iter().all(|s| s.windows(2).all(|w| w[0] < w[1])),
        "sorted, distinct"
    );
    // Nested within a draw: the fraction loop is outer, so draw d's set at fraction i is
    // calls[2 + i*3 + d].
    for d in 0..3 {
        for i in 0..3 {
            let small = &calls1[2 + i * 3 + d];
            let big = &calls1[2 + (i + 1) * 3 + d];
            assert!(
                small.iter().all(|u| big.contains(u)),
                "{small:?} not in {big:?}"
            );
        }
    }
    let (c3, _) = run(8, 3);
    assert_ne!(calls1, run(8, 3).1);
    assert_eq!(c3.accuracy_mean[0], 1.0);

    // Expected accuracy for k random units out of 5: 1 - 0.5 k/5 - 0.5 k(k-1)/20.
    let (big, _) = run(123, 4000);
    for (k, m) in big.n_silenced.iter().zip(&big.accuracy_mean) {
        let k = *k as f64;
        let expected = 1.0 - 0.5 * k / 5.0 - 0.5 * k * (k - 1.0) / 20.0;
        assert!((m - expected).abs() < 0.02, "k={k}: {m} vs {expected}");
    }
    assert!(big.accuracy_sd[2] > 0.1 && big.accuracy_sd[0] == 0.0);
}

#[test]
fn default_fractions_are_five_percent_steps() {
    let f = default_fractions();
    assert_eq!(f.len(), 21);
    assert_eq!((f[0], f[1], f[20]), (0.0, 0.05, 1.0));
    let curve = ablation_curve(
        20,
        &f,
        AblationOrder::Random { draws: 2, seed: 0 },
        |s: &[usize]| Ok::<_, std::convert::Infallible>(1.0 - s.len() as f64 / 20.0),
    )
    .unwrap();
    assert_eq!(curve.n_silenced, (0..=20).collect::<Vec<_>>());
}

#[test]
fn ablation_rejects_bad_input_and_propagates_eval_errors() {
    let f = default_fractions();
    assert!(matches!(
        ablation_curve(5, &f, AblationOrder::Given(vec![0, 1, 1, 2, 3]), accuracy),
        Err(AnalysisError::InvalidArgument(_))
    ));
    assert!(matches!(
        ablation_curve(5, &f, AblationOrder::Given(vec![0, 1]), accuracy),
        Err(AnalysisError::LengthMismatch { .. })
    ));
    assert!(matches!(
        ablation_curve(
            5,
            &[0.5, 1.5],
            AblationOrder::Random { draws: 1, seed: 0 },
            accuracy
        ),
        Err(AnalysisError::InvalidArgument(_))
    ));
    assert!(matches!(
        ablation_curve(5, &f, AblationOrder::Random { draws: 0, seed: 0 }, accuracy),
        Err(AnalysisError::InvalidArgument(_))
    ));
    let err = ablation_curve(
        5,
        &f,
        AblationOrder::Random { draws: 1, seed: 0 },
        |_: &[usize]| Err::<f64, _>("model exploded"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("model exploded"), "{err}");
    let nan = ablation_curve(
        5,
        &f,
        AblationOrder::Random { draws: 1, seed: 0 },
        |_: &[usize]| Ok::<_, std::convert::Infallible>(f64::NAN),
    );
    assert!(matches!(nan, Err(AnalysisError::NonFinite { .. })));
    // Silencing changes nothing: the curve exists, normalisation is undefined.
    let flat = ablation_curve(
        5,
        &f,
        AblationOrder::Random { draws: 1, seed: 0 },
        |_: &[usize]| Ok::<_, std::convert::Infallible>(0.7),
    )
    .unwrap();
    assert!(flat.normalized.is_none());
}

fn activations() -> Vec<f32> {
    X.iter().flat_map(|x| hidden(x, &[])).collect()
}

#[test]
fn selectivity_of_hand_built_units() {
    // Class means: h0 = (1.5, 0), h1 = (0, 1.5), h2 = (1.5, 0), h3 = (1.5, 1.5), h4 = (0, 0).
    // Index: (max - rest) / (max + rest) = 1, 1, 1, 0, and 0 by definition for the dead h4.
    let s = class_selectivity(&activations(), 5, &Y, 2).unwrap();
    assert_eq!(s, vec![1.0, 1.0, 1.0, 0.0, 0.0]);
}

#[test]
fn selectivity_three_classes_by_hand() {
    // One unit, class means 3, 1, 0 -> mu_max = 3, mu_rest = 0.5 -> (3 - 0.5) / 3.5.
    let acts = [2.0, 4.0, 1.0, 1.0, 0.0, 0.0];
    let labels = [0, 0, 1, 1, 2, 2];
    let s = class_selectivity(&acts, 1, &labels, 3).unwrap();
    assert!((s[0] - 2.5 / 3.5).abs() < 1e-12);
}

#[test]
fn importance_and_correlation() {
    let base = accuracy(&[]).unwrap();
    let imp = unit_importance(5, base, accuracy).unwrap();
    assert_eq!(imp, vec![0.0, 0.5, 0.0, 0.0, 0.0]);
    let sel = class_selectivity(&activations(), 5, &Y, 2).unwrap();
    let c = selectivity_importance_correlation(&sel, &imp).unwrap();
    // sel = [1,1,1,0,0], imp = [0,.5,0,0,0]: Pearson r = cov / (sd sd) = 0.4082482904638631
    // (= 1/sqrt(6)); Spearman on average ranks gives the same here.
    // scipy: stats.pearsonr / stats.spearmanr([1,1,1,0,0], [0,.5,0,0,0]) -> 0.4082482904638631,
    // p = 0.4950253460597108 / 0.4950253460597111
    assert!((c.pearson.r - 1.0 / 6f64.sqrt()).abs() < 1e-12);
    assert!((c.spearman.r - 1.0 / 6f64.sqrt()).abs() < 1e-12);
    assert!((c.pearson.p - 0.4950253460597108).abs() < 1e-4);
    assert!((c.spearman.p - 0.4950253460597111).abs() < 1e-4);
    assert_eq!(c.pearson.n, 5);
}

#[test]
fn selectivity_rejects_bad_input() {
    let a = activations();
    assert!(matches!(
        class_selectivity(&a, 4, &Y, 2),
        Err(AnalysisError::LengthMismatch { .. })
    ));
    assert!(matches!(
        class_selectivity(&a, 5, &[0, 0, 0, 0], 2),
        Err(AnalysisError::TooFewObservations { .. })
    ));
    assert!(matches!(
        class_selectivity(&a, 5, &[0, 0, 1, 5], 2),
        Err(AnalysisError::InvalidArgument(_))
    ));
    let mut bad = a.clone();
    bad[3] = f32::NAN;
    assert!(matches!(
        class_selectivity(&bad, 5, &Y, 2),
        Err(AnalysisError::NonFinite { index: 3, .. })
    ));
}
