//! The community's specialization metrics, on top of the model-agnostic ones in
//! [`neurogen_analysis::modularity`].
//!
//! - Correlation (`community/funcspec/correlation.py`): for each agent, the mean correlation of
//!   its last-step hidden states across pairs that share its own input's label, against pairs
//!   that share the other agent's label, and their normalised difference.
//! - Structural: p and Newman's Q ([`Community::modularity_q`]).
use neurogen_analysis::modularity::{correlation_specialization, CorrelationSpecialization};

use super::data::DigitPairs;
use super::error::Result;
use super::model::Community;
use super::train::final_states;

/// The correlation metric of both agents (`[agent 0, agent 1]`) on `pairs`, pairing inputs
/// with `seed`. The authors' code labels the same quantity `Pearson_Label`.
pub fn correlation_metric(
    community: &Community,
    pairs: &DigitPairs,
    batch_size: usize,
    seed: u64,
) -> Result<[CorrelationSpecialization; 2]> {
    let states = final_states(community, pairs, batch_size)?;
    let n_hidden = community.config().n_hidden;
    let labels = |a: usize| -> Vec<usize> { pairs.labels(a).iter().map(|&l| l as usize).collect() };
    let (l0, l1) = (labels(0), labels(1));
    Ok([
        correlation_specialization(&states[0], n_hidden, &l0, &l1, seed)?,
        correlation_specialization(&states[1], n_hidden, &l1, &l0, seed)?,
    ])
}
