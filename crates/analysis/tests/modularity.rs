//! Newman's Q, the correlation specialization metric and the normalised difference on
//! hand-computed cases (module `neurogen_analysis::modularity`).
use neurogen_analysis::modularity::{
    correlation_specialization, fixed_factor_correlation, newman_q, normalised_difference,
    two_module_q,
};
use neurogen_analysis::AnalysisError;

/// Symmetric adjacency of an undirected, unweighted graph on `n` nodes.
fn undirected(n: usize, edges: &[(usize, usize)]) -> Vec<f64> {
    let mut a = vec![0.0; n * n];
    for &(i, j) in edges {
        a[i * n + j] = 1.0;
        a[j * n + i] = 1.0;
    }
    a
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn q_of_two_disconnected_triangles_is_one_half() {
    // Per triangle: 6 directed entries inside, m = 12, out = in = 6:
    // Q = 2 × (6/12 − 6·6/144) = 0.5.
    let a = undirected(6, &[(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)]);
    let q = newman_q(&a, 6, &[0, 0, 0, 1, 1, 1]).unwrap();
    assert!(close(q, 0.5), "{q}");
    // Labels are names only.
    assert!(close(newman_q(&a, 6, &[9, 9, 9, 4, 4, 4]).unwrap(), q));
    // The whole graph as one community: Q = 1 − 1 = 0.
    assert!(close(newman_q(&a, 6, &[0; 6]).unwrap(), 0.0));
}

#[test]
fn q_of_a_fully_connected_graph() {
    // K4 without self-loops, split in halves: inside 2 per half, m = 12, out = in = 6:
    // Q = 2 × (2/12 − 36/144) = −1/6.
    let a = undirected(4, &[(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]);
    let q = newman_q(&a, 4, &[0, 0, 1, 1]).unwrap();
    assert!(close(q, -1.0 / 6.0), "{q}");
    // All-ones matrix (self-loops included): every partition has Q = 0.
    let ones = vec![1.0; 16];
    for part in [[0, 0, 1, 1], [0, 1, 1, 1], [0, 1, 2, 3]] {
        assert!(close(newman_q(&ones, 4, &part).unwrap(), 0.0));
    }
}

#[test]
fn q_of_two_triangles_joined_by_an_edge_is_five_fourteenths() {
    // The textbook "barbell" example: 7 edges, each triangle holds 3 edges and degree sum 7:
    // Q = 2 × (3/7 − (7/14)²) = 5/14.
    let a = undirected(6, &[(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]);
    let q = newman_q(&a, 6, &[0, 0, 0, 1, 1, 1]).unwrap();
    assert!(close(q, 5.0 / 14.0), "{q}");
    // A worse split scores lower.
    assert!(newman_q(&a, 6, &[0, 0, 1, 1, 1, 1]).unwrap() < q);
}

#[test]
fn q_of_a_weighted_directed_graph() {
    // 0 →(2) 1, 1 →(1) 2, 2 →(1) 0; split {0, 1} | {2}. m = 4; community {0,1}: inside 2,
    // out 3, in 3; community {2}: inside 0, out 1, in 1: Q = 2/4 − 9/16 − 1/16 = −1/8.
    let a = [0.0, 2.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
    let q = newman_q(&a, 3, &[0, 0, 1]).unwrap();
    assert!(close(q, -0.125), "{q}");
}

#[test]
fn q_of_a_two_module_community_is_the_authors_closed_form() {
    // Two dense modules of 10 units (self-connections included) and k connections in each
    // direction between them, at arbitrary places: Q = (1 − p) / (2 (1 + p)), p = k / 100.
    let (h, n) = (10, 20);
    for k in [0usize, 1, 7, 50, 100] {
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                if (i < h) == (j < h) {
                    a[i * n + j] = 1.0;
                }
            }
        }
        for e in 0..k {
            // Two different bijections of 0..100 place the edges of each direction.
            let (f, b) = ((e * 7) % (h * h), (e * 37) % (h * h));
            a[(f / h) * n + h + f % h] = 1.0; // module 0 → module 1
            a[(h + b / h) * n + b % h] = 1.0; // module 1 → module 0
        }
        let counted_01: usize = (0..h)
            .flat_map(|i| (h..n).map(move |j| (i, j)))
            .filter(|&(i, j)| a[i * n + j] > 0.0)
            .count();
        let counted_10: usize = (h..n)
            .flat_map(|i| (0..h).map(move |j| (i, j)))
            .filter(|&(i, j)| a[i * n + j] > 0.0)
            .count();
        assert_eq!((counted_01, counted_10), (k, k));
        let p = counted_01 as f64 / (h * h) as f64;
        let part: Vec<usize> = (0..n).map(|i| usize::from(i >= h)).collect();
        let q = newman_q(&a, n, &part).unwrap();
        assert!(close(q, two_module_q(p).unwrap()), "k = {k}: {q}");
    }
}

#[test]
fn q_rejects_bad_input() {
    let a = undirected(3, &[(0, 1)]);
    assert!(matches!(
        newman_q(&a[..8], 3, &[0, 0, 1]),
        Err(AnalysisError::LengthMismatch { .. })
    ));
    assert!(matches!(
        newman_q(&a, 3, &[0, 0]),
        Err(AnalysisError::LengthMismatch { .. })
    ));
    let mut nan = a.clone();
    nan[4] = f64::NAN;
    assert!(matches!(
        newman_q(&nan, 3, &[0, 0, 1]),
        Err(AnalysisError::NonFinite { index: 4, .. })
    ));
    let mut neg = a.clone();
    neg[2] = -1.0;
    let e = newman_q(&neg, 3, &[0, 0, 1]).unwrap_err().to_string();
    assert!(e.contains("negative"), "{e}");
    assert!(matches!(
        newman_q(&[0.0; 9], 3, &[0, 0, 1]),
        Err(AnalysisError::InvalidArgument(_))
    ));
    assert!(newman_q(&[], 0, &[]).is_err());
    for p in [-0.1, 1.5, f64::NAN] {
        assert!(two_module_q(p).is_err(), "p = {p}");
    }
}

#[test]
fn normalised_difference_values_and_errors() {
    assert!(close(normalised_difference(1.0, 0.0).unwrap(), 1.0));
    assert!(close(normalised_difference(0.5, 0.5).unwrap(), 0.0));
    assert!(close(normalised_difference(0.2, 0.6).unwrap(), -0.5));
    assert!(normalised_difference(0.0, 0.0).is_err());
    assert!(normalised_difference(f64::NAN, 0.5).is_err());
}

#[test]
fn correlation_of_a_three_input_group_is_the_mean_of_its_cycle() {
    // a = [1,2,3], b = [3,2,1], c = [1,3,2]: r(a,b) = −1, r(a,c) = 0.5, r(b,c) = −0.5. A
    // cyclic pairing of three inputs uses each of the three pairs once, in either direction:
    // mean −1/3 whatever the seed.
    let states = [1.0, 2.0, 3.0, 3.0, 2.0, 1.0, 1.0, 3.0, 2.0];
    for seed in 0..5 {
        let c = fixed_factor_correlation(&states, 3, &[4, 4, 4], seed).unwrap();
        assert!(close(c.mean, -1.0 / 3.0), "seed {seed}: {}", c.mean);
        assert_eq!((c.n_pairs, c.skipped), (3, 0));
    }
}

#[test]
fn correlation_skips_lone_inputs_and_never_pairs_an_input_with_itself() {
    // Group 0 holds two anti-correlated inputs (r = −1 both ways); input 2 is alone. Pairing
    // an input with itself would give r = 1.
    let states = [1.0, 2.0, 3.0, 3.0, 2.0, 1.0, 5.0, 1.0, 0.0];
    let c = fixed_factor_correlation(&states, 3, &[0, 0, 1], 3).unwrap();
    assert!(close(c.mean, -1.0));
    assert_eq!((c.n_pairs, c.skipped), (2, 1));
}

#[test]
fn correlation_specialization_separates_a_specialised_module() {
    // 40 inputs, 4 labels per module; the module's 8-unit state is a fixed random pattern of
    // its own label plus small noise of the other label: own correlation near 1, other near
    // the correlation of unrelated patterns, specialization high.
    let n_units = 8;
    let patterns: Vec<Vec<f32>> = (0..4)
        .map(|l| {
            (0..n_units)
                .map(|u| (((l * 31 + u * 17) % 11) as f32 - 5.0) / 5.0)
                .collect()
        })
        .collect();
    let (mut own, mut other, mut states) = (vec![], vec![], vec![]);
    for i in 0..40usize {
        let (lo, lt) = (i % 4, (i / 4) % 4);
        own.push(lo);
        other.push(lt);
        for (u, &v) in patterns[lo].iter().enumerate() {
            states.push(v + 0.01 * ((lt * 3 + u) % 5) as f32);
        }
    }
    let s = correlation_specialization(&states, n_units, &own, &other, 11).unwrap();
    assert!(s.own.mean > 0.99, "{s:?}");
    assert!(s.other.mean < 0.5, "{s:?}");
    assert!(s.specialization > 0.3, "{s:?}");
    // The same states seen from the other module's labels: the roles swap.
    let swapped = correlation_specialization(&states, n_units, &other, &own, 11).unwrap();
    assert!(swapped.specialization < 0.0, "{swapped:?}");
}

#[test]
fn correlation_rejects_bad_input() {
    let states = [1.0, 2.0, 3.0, 3.0, 2.0, 1.0];
    assert!(matches!(
        fixed_factor_correlation(&states, 3, &[0, 0, 0], 0),
        Err(AnalysisError::LengthMismatch { .. })
    ));
    assert!(fixed_factor_correlation(&states, 1, &[0; 6], 0).is_err());
    let mut nan = states;
    nan[1] = f32::NAN;
    assert!(matches!(
        fixed_factor_correlation(&nan, 3, &[0, 0], 0),
        Err(AnalysisError::NonFinite { index: 1, .. })
    ));
    let flat = [1.0, 1.0, 1.0, 3.0, 2.0, 1.0];
    assert!(matches!(
        fixed_factor_correlation(&flat, 3, &[0, 0], 0),
        Err(AnalysisError::ZeroVariance { .. })
    ));
    assert!(matches!(
        fixed_factor_correlation(&states, 3, &[0, 1], 0),
        Err(AnalysisError::TooFewObservations { .. })
    ));
    assert!(matches!(
        correlation_specialization(&states, 3, &[0, 0], &[0], 0),
        Err(AnalysisError::LengthMismatch { .. })
    ));
}
