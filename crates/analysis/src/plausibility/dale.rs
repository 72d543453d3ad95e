//! Dale compliance: the fraction of units whose outgoing weights share one sign (Dale's
//! principle: a neuron releases the same transmitter at all its synapses, so it is either
//! excitatory or inhibitory; Eccles 1954, Cornford et al. ICLR 2021).
//!
//! A unit's outgoing weights are one row or one column of a weight matrix, depending on the
//! convention: for a PyTorch-style `W` of shape `out × in` (`y = W x`), presynaptic unit `j`'s
//! outgoing weights are column `j` ([`OutgoingAxis::Columns`]). Weights with `|w| ≤ tol` count
//! as absent. A unit is **excitatory** when all its present weights are positive,
//! **inhibitory** when all are negative, **mixed** otherwise, and **silent** when it has no
//! present weight. The compliance fraction is `(excitatory + inhibitory) / (units − silent)`:
//! silent units neither obey nor break the principle.
use serde::Serialize;

use crate::error::{check_finite, AnalysisError, Result};

/// Which axis of the row-major matrix holds a unit's outgoing weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutgoingAxis {
    /// Row `i` holds unit `i`'s outgoing weights (`W` of shape `units × targets`).
    Rows,
    /// Column `j` holds unit `j`'s outgoing weights (PyTorch's `out × in` layout).
    Columns,
}

/// How many units obey Dale's principle.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DaleCompliance {
    /// Units (presynaptic neurons) in the matrix.
    pub n_units: usize,
    /// Units whose present outgoing weights are all positive.
    pub excitatory: usize,
    /// Units whose present outgoing weights are all negative.
    pub inhibitory: usize,
    /// Units with outgoing weights of both signs.
    pub mixed: usize,
    /// Units with no outgoing weight above `tol` in magnitude.
    pub silent: usize,
    /// `(excitatory + inhibitory) / (n_units − silent)`; `None` when every unit is silent.
    pub fraction: Option<f64>,
    /// The magnitude at or below which a weight counted as absent.
    pub tol: f64,
}

/// Dale compliance of a row-major `rows × cols` weight matrix whose outgoing weights run along
/// `axis`; weights with `|w| ≤ tol` are ignored (`tol ≥ 0`, finite).
///
/// ```
/// use neurogen_analysis::plausibility::{dale_compliance, OutgoingAxis};
/// // 2 targets × 3 presynaptic units (PyTorch layout): unit 0 excitatory, 1 mixed, 2 inhibitory.
/// let w = [0.5, 0.2, -0.1, 0.3, -0.4, -0.2];
/// let d = dale_compliance(&w, 2, 3, OutgoingAxis::Columns, 0.0).unwrap();
/// assert_eq!((d.excitatory, d.mixed, d.inhibitory), (1, 1, 1));
/// assert_eq!(d.fraction, Some(2.0 / 3.0));
/// ```
pub fn dale_compliance(
    weights: &[f64],
    rows: usize,
    cols: usize,
    axis: OutgoingAxis,
    tol: f64,
) -> Result<DaleCompliance> {
    if rows == 0 || cols == 0 {
        return Err(AnalysisError::InvalidArgument(format!(
            "Dale compliance needs a non-empty matrix (got {rows} × {cols})"
        )));
    }
    if weights.len() != rows * cols {
        return Err(AnalysisError::LengthMismatch {
            what: format!("weights ({rows} × {cols} row-major)"),
            expected: rows * cols,
            got: weights.len(),
        });
    }
    if !(tol >= 0.0 && tol.is_finite()) {
        return Err(AnalysisError::InvalidArgument(format!(
            "Dale compliance tolerance must be finite and >= 0, got {tol}"
        )));
    }
    check_finite("weights", weights)?;
    let n_units = match axis {
        OutgoingAxis::Rows => rows,
        OutgoingAxis::Columns => cols,
    };
    let (mut pos, mut neg) = (vec![false; n_units], vec![false; n_units]);
    for r in 0..rows {
        for c in 0..cols {
            let w = weights[r * cols + c];
            let unit = match axis {
                OutgoingAxis::Rows => r,
                OutgoingAxis::Columns => c,
            };
            if w > tol {
                pos[unit] = true;
            } else if w < -tol {
                neg[unit] = true;
            }
        }
    }
    let (mut excitatory, mut inhibitory, mut mixed, mut silent) = (0, 0, 0, 0);
    for (&p, &n) in pos.iter().zip(&neg) {
        match (p, n) {
            (true, false) => excitatory += 1,
            (false, true) => inhibitory += 1,
            (true, true) => mixed += 1,
            (false, false) => silent += 1,
        }
    }
    let active = n_units - silent;
    Ok(DaleCompliance {
        n_units,
        excitatory,
        inhibitory,
        mixed,
        silent,
        fraction: (active > 0).then(|| (excitatory + inhibitory) as f64 / active as f64),
        tol,
    })
}
