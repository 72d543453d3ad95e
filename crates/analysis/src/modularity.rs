//! Structural and functional modularity of networks split into modules (Béna & Goodman 2021,
//! "Extreme sparsity gives rise to functional specialization", arXiv 2106.02626; authors' code
//! GabrielBena/community-of-agents at dbca3d3).
//!
//! Model-agnostic: every function takes plain slices (row-major matrices), so any network can
//! use them.
//!
//! - [`newman_q`]: Newman's modularity Q of a partition of a weighted graph. The convention is
//!   the **directed** one (Leicht & Newman 2008, PRL 100, 118703), with `A[i][j]` the weight of
//!   the edge i → j, `m = Σ_ij A_ij`, `k_i^out = Σ_j A_ij`, `k_j^in = Σ_i A_ij`:
//!   ```text
//!   Q = (1/m) Σ_ij [A_ij − k_i^out k_j^in / m] δ(c_i, c_j)
//!   ```
//!   Self-loops (`A_ii`) count like any edge. For a symmetric matrix (an undirected graph with
//!   each edge stored both ways) this is exactly Newman's undirected weighted Q (Newman 2004,
//!   PRE 70, 056131), `Q = (1/2m) Σ_ij [A_ij − k_i k_j / 2m] δ(c_i, c_j)`. The authors' code
//!   does not compute Q from a matrix: it plots the closed form [`two_module_q`], which is what
//!   this definition gives for their directed community (checked by a test).
//! - [`fixed_factor_correlation`] and [`correlation_specialization`]: the correlation metric of
//!   `community/funcspec/correlation.py` (`get_pearson_metrics`). Inputs are grouped by the
//!   value of one factor (the digit that agent k sees); each input's hidden-state vector is
//!   paired with another input of the same group, and the Pearson correlation across units of
//!   the two state vectors is averaged over all inputs. An agent specialised on its own digit
//!   has states that correlate strongly when its own digit is fixed and weakly when the other
//!   agent's digit is fixed.
//! - [`normalised_difference`]: `(own − other) / (own + other)`, the specialization score of
//!   both the correlation metric (`diff_metric` in `correlation.py`) and the bottleneck metric
//!   (`norm_diff` in `bottleneck.py`).
//!
//! Where ours differs from the authors' code (their pairing is a random permutation of a group
//! redrawn until it has no fixed point, but only for groups of more than 4 inputs):
//! every group is paired by a random *cyclic* derangement, so no input is ever paired with
//! itself, and groups of one input are skipped (counted in
//! [`FixedFactorCorrelation::skipped`]) instead of contributing a correlation of exactly 1.
use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{check_finite, AnalysisError, Result};

/// Newman's modularity Q of the partition `communities` (one label per node, any `usize`
/// values) of the directed weighted graph with row-major `n × n` adjacency matrix `adjacency`
/// (`adjacency[i * n + j]` = weight of the edge i → j; weights must be finite and
/// non-negative, with at least one positive). See the module docs for the formula; for a
/// symmetric matrix it is the undirected Q.
///
/// ```
/// use neurogen_analysis::modularity::newman_q;
/// // Two disconnected 2-cliques (undirected, stored both ways), split along the cliques.
/// let a = [
///     0.0, 1.0, 0.0, 0.0,
///     1.0, 0.0, 0.0, 0.0,
///     0.0, 0.0, 0.0, 1.0,
///     0.0, 0.0, 1.0, 0.0,
/// ];
/// let q = newman_q(&a, 4, &[0, 0, 1, 1]).unwrap();
/// assert!((q - 0.5).abs() < 1e-12);
/// ```
pub fn newman_q(adjacency: &[f64], n: usize, communities: &[usize]) -> Result<f64> {
    if n == 0 {
        return Err(AnalysisError::InvalidArgument(
            "modularity needs a graph with at least one node (n = 0)".into(),
        ));
    }
    if adjacency.len() != n * n {
        return Err(AnalysisError::LengthMismatch {
            what: format!("adjacency matrix (n × n = {n} × {n})"),
            expected: n * n,
            got: adjacency.len(),
        });
    }
    if communities.len() != n {
        return Err(AnalysisError::LengthMismatch {
            what: "community labels (one per node)".into(),
            expected: n,
            got: communities.len(),
        });
    }
    check_finite("adjacency matrix", adjacency)?;
    if let Some(i) = adjacency.iter().position(|&w| w < 0.0) {
        return Err(AnalysisError::InvalidArgument(format!(
            "adjacency matrix: weight {} at ({}, {}) is negative; modularity needs non-negative weights",
            adjacency[i],
            i / n,
            i % n
        )));
    }
    let m: f64 = adjacency.iter().sum();
    if m <= 0.0 {
        return Err(AnalysisError::InvalidArgument(
            "adjacency matrix has no edge (total weight 0): modularity is undefined".into(),
        ));
    }
    // Dense community indices.
    let mut index = BTreeMap::new();
    let comm: Vec<usize> = communities
        .iter()
        .map(|&c| {
            let next = index.len();
            *index.entry(c).or_insert(next)
        })
        .collect();
    let k = index.len();
    let mut inside = vec![0.0f64; k];
    let mut out_deg = vec![0.0f64; k];
    let mut in_deg = vec![0.0f64; k];
    for i in 0..n {
        let row = &adjacency[i * n..(i + 1) * n];
        for (j, &w) in row.iter().enumerate() {
            out_deg[comm[i]] += w;
            in_deg[comm[j]] += w;
            if comm[i] == comm[j] {
                inside[comm[i]] += w;
            }
        }
    }
    Ok((0..k)
        .map(|c| inside[c] / m - out_deg[c] * in_deg[c] / (m * m))
        .sum())
}

/// The authors' closed form of Q for two modules of equal size, each densely connected to
/// itself, with a fraction `p` of the possible connections in each direction between them:
/// `Q = (1 − p) / (2 (1 + p))` (`x_axis` in the plots of `bottleneck.py` and
/// `correlation.py`). `p` must lie in `[0, 1]`. It is [`newman_q`] of that graph.
///
/// ```
/// use neurogen_analysis::modularity::two_module_q;
/// assert_eq!(two_module_q(0.0).unwrap(), 0.5);
/// assert_eq!(two_module_q(1.0).unwrap(), 0.0);
/// ```
pub fn two_module_q(p: f64) -> Result<f64> {
    if !(0.0..=1.0).contains(&p) {
        return Err(AnalysisError::InvalidArgument(format!(
            "the fraction of inter-module connections p = {p} is not in [0, 1]"
        )));
    }
    Ok((1.0 - p) / (2.0 * (1.0 + p)))
}

/// The specialization score `(own − other) / (own + other)` of two performances or
/// correlations of one module: `own` on the sub-task of its own input, `other` on the other
/// module's. It is 1 when the module only serves its own sub-task, 0 when it serves both
/// equally and −1 when it only serves the other. Applied to losses (lower is better), as the
/// authors' bottleneck figure does, the score must be negated. Both values must be finite and
/// their sum non-zero.
///
/// ```
/// use neurogen_analysis::modularity::normalised_difference;
/// assert_eq!(normalised_difference(0.9, 0.1).unwrap(), 0.8);
/// ```
pub fn normalised_difference(own: f64, other: f64) -> Result<f64> {
    check_finite("normalised difference (own, other)", &[own, other])?;
    let sum = own + other;
    if sum == 0.0 {
        return Err(AnalysisError::InvalidArgument(format!(
            "normalised difference of own = {own} and other = {other}: their sum is 0"
        )));
    }
    Ok((own - other) / sum)
}

/// The mean correlation of hidden states across inputs that share one factor
/// ([`fixed_factor_correlation`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixedFactorCorrelation {
    /// Mean Pearson correlation over every paired input.
    pub mean: f64,
    /// Number of inputs that were paired (each contributes one correlation).
    pub n_pairs: usize,
    /// Inputs skipped because no other input shares their factor value.
    pub skipped: usize,
}

/// The mean correlation of hidden states over inputs that share the value of one factor.
///
/// `states` is an `N × n_units` row-major matrix (one hidden-state vector per input) and
/// `factor` gives each input's value of the fixed factor (e.g. the digit agent k sees). Inputs
/// are grouped by factor value; within each group, in an order shuffled with `seed`, input `i`
/// is paired with input `i + 1` (the last with the first), and the Pearson correlation of the
/// two state vectors across the `n_units` units is taken. The result averages these
/// correlations over all paired inputs (groups of one input are skipped). A state vector with
/// zero variance across units makes the correlation undefined and is an error.
///
/// ```
/// use neurogen_analysis::modularity::fixed_factor_correlation;
/// // Inputs 0 and 1 share factor 0 and have proportional states: r = 1.
/// let states = [1.0, 2.0, 3.0, 2.0, 4.0, 6.0];
/// let c = fixed_factor_correlation(&states, 3, &[0, 0], 1).unwrap();
/// assert!((c.mean - 1.0).abs() < 1e-12);
/// assert_eq!(c.n_pairs, 2);
/// ```
pub fn fixed_factor_correlation(
    states: &[f32],
    n_units: usize,
    factor: &[usize],
    seed: u64,
) -> Result<FixedFactorCorrelation> {
    if n_units < 2 {
        return Err(AnalysisError::InvalidArgument(format!(
            "a correlation across units needs at least 2 units (got n_units = {n_units})"
        )));
    }
    if states.len() != factor.len() * n_units {
        return Err(AnalysisError::LengthMismatch {
            what: format!(
                "states (factor.len() × n_units = {} × {n_units})",
                factor.len()
            ),
            expected: factor.len() * n_units,
            got: states.len(),
        });
    }
    if let Some(i) = states.iter().position(|s| !s.is_finite()) {
        return Err(AnalysisError::NonFinite {
            what: "hidden states".into(),
            index: i,
            value: states[i] as f64,
        });
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &f) in factor.iter().enumerate() {
        groups.entry(f).or_default().push(i);
    }
    let row = |i: usize| &states[i * n_units..(i + 1) * n_units];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut sum, mut n_pairs, mut skipped) = (0.0f64, 0usize, 0usize);
    for members in groups.values_mut() {
        if members.len() < 2 {
            skipped += members.len();
            continue;
        }
        members.shuffle(&mut rng);
        for (pos, &i) in members.iter().enumerate() {
            let j = members[(pos + 1) % members.len()];
            sum += unit_correlation(row(i), row(j)).ok_or_else(|| AnalysisError::ZeroVariance {
                what: format!("hidden state of input {i} or {j} (correlation across units)"),
            })?;
            n_pairs += 1;
        }
    }
    if n_pairs == 0 {
        return Err(AnalysisError::TooFewObservations {
            what: "inputs sharing a factor value with another input".into(),
            min: 2,
            got: 0,
        });
    }
    Ok(FixedFactorCorrelation {
        mean: sum / n_pairs as f64,
        n_pairs,
        skipped,
    })
}

/// Pearson correlation of two equally long vectors, `None` when either has zero variance.
fn unit_correlation(x: &[f32], y: &[f32]) -> Option<f64> {
    let n = x.len() as f64;
    let mx = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let my = y.iter().map(|&v| v as f64).sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (&a, &b) in x.iter().zip(y) {
        let (dx, dy) = (a as f64 - mx, b as f64 - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// One module's correlation metric ([`correlation_specialization`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelationSpecialization {
    /// Mean correlation of the module's states when its own input's label is fixed.
    pub own: FixedFactorCorrelation,
    /// Mean correlation of the module's states when the other module's input label is fixed.
    pub other: FixedFactorCorrelation,
    /// `normalised_difference(own.mean, other.mean)`: 1 for a module that only encodes its own
    /// input, 0 for one that encodes both alike.
    pub specialization: f64,
}

/// The correlation metric of one module: [`fixed_factor_correlation`] of its `states`
/// (`N × n_units`) with its own input's labels fixed (`own_labels`) and with the other
/// module's input labels fixed (`other_labels`), and their [`normalised_difference`]. Both
/// pairings use `seed`.
///
/// ```
/// use neurogen_analysis::modularity::correlation_specialization;
/// // A module whose 3-unit state is a pattern of its own label only.
/// let own = [0, 0, 1, 1];
/// let other = [0, 1, 0, 1];
/// let pattern = |l: usize| if l == 0 { [1.0f32, 0.0, -1.0] } else { [-1.0, 1.0, 0.0] };
/// let states: Vec<f32> = own.iter().flat_map(|&l| pattern(l)).collect();
/// let s = correlation_specialization(&states, 3, &own, &other, 0).unwrap();
/// assert!((s.own.mean - 1.0).abs() < 1e-12);
/// assert!((s.other.mean + 0.5).abs() < 1e-12);
/// ```
pub fn correlation_specialization(
    states: &[f32],
    n_units: usize,
    own_labels: &[usize],
    other_labels: &[usize],
    seed: u64,
) -> Result<CorrelationSpecialization> {
    if own_labels.len() != other_labels.len() {
        return Err(AnalysisError::LengthMismatch {
            what: "other module's labels (one per input, like own_labels)".into(),
            expected: own_labels.len(),
            got: other_labels.len(),
        });
    }
    let own = fixed_factor_correlation(states, n_units, own_labels, seed)?;
    let other = fixed_factor_correlation(states, n_units, other_labels, seed)?;
    let specialization = normalised_difference(own.mean, other.mean)?;
    Ok(CorrelationSpecialization {
        own,
        other,
        specialization,
    })
}
