//! The `parity_digits` task and the community's decision (`get_task_target` in
//! `community/data/tasks.py`, `get_decision` and `max_decision_2` in
//! `community/common/decision.py`).
//!
//! Each agent sees one image of a class in `0..10` (a digit in the paper; here also a
//! Fashion-MNIST class index, to which the parity rule applies unchanged). With
//! `parity = (d0 + d1) mod 2`, the target is `d0 · (1 − parity) + d1 · parity`: **the first
//! agent's class when the two classes have the same parity, the second's when they differ**.
//! This is the authors' code (the issue states the rule the other way round; the two are the
//! same task up to which agent is called first).
//!
//! The decision is read at the last time step from the agent whose output has the larger
//! maximum *absolute* value (`max_decision_2` takes `max |output|`); on a tie agent 0 decides.
use candle_core::{DType, Tensor, D};

use super::error::{invalid, Result};

/// Number of classes of each agent's input.
pub const N_CLASSES: usize = 10;

/// The `parity_digits` target of one pair of classes (see the module docs).
///
/// ```
/// use neurogen_studies::bena2021_modular::parity_digits_target;
/// assert_eq!(parity_digits_target(2, 4).unwrap(), 2); // same parity: first
/// assert_eq!(parity_digits_target(2, 7).unwrap(), 7); // parities differ: second
/// ```
pub fn parity_digits_target(first: u8, second: u8) -> Result<u8> {
    for (who, d) in [("first", first), ("second", second)] {
        if d as usize >= N_CLASSES {
            return Err(invalid(format!(
                "{who} agent's class {d} is not in 0..{N_CLASSES}"
            )));
        }
    }
    Ok(if (first + second) % 2 == 0 {
        first
    } else {
        second
    })
}

/// [`parity_digits_target`] of every pair (`first[i]`, `second[i]`).
pub fn parity_digits_targets(first: &[u8], second: &[u8]) -> Result<Vec<u8>> {
    if first.len() != second.len() {
        return Err(invalid(format!(
            "the agents' labels differ in length ({} and {})",
            first.len(),
            second.len()
        )));
    }
    first
        .iter()
        .zip(second)
        .map(|(&a, &b)| parity_digits_target(a, b))
        .collect()
}

/// The community's answer at one step.
#[derive(Debug)]
pub struct Decision {
    /// The deciding agent's output for each input, `batch × n_out` (differentiable).
    pub logits: Tensor,
    /// Which agent decided for each input (0 or 1).
    pub deciding: Vec<u8>,
}

/// The decision between the agents' outputs `outputs[a]` (`batch × n_out`): per input, the
/// agent with the larger `max |output|` answers (agent 0 on a tie).
pub fn max_decision(outputs: &[Tensor; 2]) -> Result<Decision> {
    if outputs[0].dims() != outputs[1].dims() || outputs[0].rank() != 2 {
        return Err(invalid(format!(
            "the agents' outputs must both be batch × n_out (got {:?} and {:?})",
            outputs[0].dims(),
            outputs[1].dims()
        )));
    }
    let m0 = outputs[0].abs()?.max(D::Minus1)?;
    let m1 = outputs[1].abs()?.max(D::Minus1)?;
    let pick1 = m1.gt(&m0)?; // u8, batch
    let deciding: Vec<u8> = pick1.to_vec1()?;
    let cond = pick1
        .unsqueeze(1)?
        .broadcast_as(outputs[0].shape())?
        .contiguous()?;
    let logits = cond.where_cond(&outputs[1], &outputs[0])?;
    Ok(Decision { logits, deciding })
}

/// Accuracy of `logits` (`batch × n_out`) against `targets`: the fraction of rows whose
/// largest logit is the target.
pub fn accuracy(logits: &Tensor, targets: &[u8]) -> Result<f64> {
    let pred: Vec<u32> = logits.argmax(D::Minus1)?.to_dtype(DType::U32)?.to_vec1()?;
    if pred.len() != targets.len() || targets.is_empty() {
        return Err(invalid(format!(
            "accuracy of {} predictions against {} targets",
            pred.len(),
            targets.len()
        )));
    }
    let hits = pred
        .iter()
        .zip(targets)
        .filter(|(&p, &t)| p == t as u32)
        .count();
    Ok(hits as f64 / targets.len() as f64)
}
