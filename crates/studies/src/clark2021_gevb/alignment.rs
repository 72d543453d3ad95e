//! How well a rule's update points along the exact gradient, per parameter: the angle between
//! the two (as biotorch reports it for feedback-alignment rules) and the fraction of entries
//! whose signs agree — the paper's mechanism (GEVB's update is sign-matched to the gradient in
//! "+" networks) made measurable during training.
use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};

use super::error::{GevbError, Result};
use super::rules::{Rule, RuleNetwork, Updates};

/// The alignment of one parameter's update with its gradient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamAlignment {
    /// Parameter name (`fcℓ.weight`, `fcℓ.bias`).
    pub name: String,
    /// The layer `ℓ` the parameter belongs to.
    pub layer: usize,
    /// Number of entries.
    pub numel: usize,
    /// Angle in degrees between update and gradient (0 = same direction, 90 = orthogonal),
    /// `None` when either is exactly zero.
    pub angle_degrees: Option<f64>,
    /// Among the entries where update or gradient is nonzero, the fraction with the same sign
    /// (`None` when both are zero everywhere).
    pub sign_agreement: Option<f64>,
}

/// Angle in degrees between two vectors of the same length (computed in f64), `None` when
/// either is zero.
pub fn angle_degrees(a: &[f32], b: &[f32]) -> Option<f64> {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x as f64, y as f64);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        return None;
    }
    let cos = (ab / (aa.sqrt() * bb.sqrt())).clamp(-1.0, 1.0);
    Some(cos.acos().to_degrees())
}

/// Among entries where `a` or `b` is nonzero, the fraction with the same sign (`None` when
/// there is none).
pub fn sign_agreement(a: &[f32], b: &[f32]) -> Option<f64> {
    let (mut agree, mut count) = (0usize, 0usize);
    for (&x, &y) in a.iter().zip(b) {
        if x != 0.0 || y != 0.0 {
            count += 1;
            if (x > 0.0 && y > 0.0) || (x < 0.0 && y < 0.0) {
                agree += 1;
            }
        }
    }
    (count > 0).then(|| agree as f64 / count as f64)
}

fn flat(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?)
}

fn layer_of(name: &str) -> Result<usize> {
    name.strip_prefix("fc")
        .and_then(|r| r.split('.').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| GevbError::Shape(format!("parameter {name} is not named fcℓ.*")))
}

/// The alignment of every parameter's `update` with its `gradient` (same names and shapes).
pub fn alignment(update: &Updates, gradient: &Updates) -> Result<Vec<ParamAlignment>> {
    if update.len() != gradient.len() {
        return Err(GevbError::Shape(format!(
            "{} updates but {} gradients",
            update.len(),
            gradient.len()
        )));
    }
    update
        .iter()
        .map(|(name, u)| {
            let g = gradient
                .get(name)
                .ok_or_else(|| GevbError::Shape(format!("no gradient for {name}")))?;
            if u.dims() != g.dims() {
                return Err(GevbError::Shape(format!(
                    "{name}: update {:?} and gradient {:?} differ in shape",
                    u.dims(),
                    g.dims()
                )));
            }
            let (a, b) = (flat(u)?, flat(g)?);
            Ok(ParamAlignment {
                name: name.to_string(),
                layer: layer_of(name)?,
                numel: a.len(),
                angle_degrees: angle_degrees(&a, &b),
                sign_agreement: sign_agreement(&a, &b),
            })
        })
        .collect()
}

/// The alignment of `rule`'s update with the exact gradient on one minibatch (nothing is
/// changed): what to log during training, e.g. GEVB's per layer each epoch.
pub fn rule_alignment<N: RuleNetwork + ?Sized>(
    net: &N,
    rule: Rule,
    x: &Tensor,
    y: &Tensor,
) -> Result<Vec<ParamAlignment>> {
    let u = net.updates(rule, x, y)?.updates;
    let g = net.updates(Rule::Backprop, x, y)?.updates;
    alignment(&u, &g)
}

/// One measurement of a rule's alignment (e.g. at the end of an epoch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlignmentRecord {
    /// The epoch (or any counter the caller uses) of the measurement.
    pub epoch: usize,
    /// The rule compared with the exact gradient.
    pub rule: Rule,
    /// Per parameter.
    pub params: Vec<ParamAlignment>,
}

/// Alignment measured during training, epoch after epoch: what the study logs and plots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlignmentLog {
    /// The measurements, in order.
    pub records: Vec<AlignmentRecord>,
}

impl AlignmentLog {
    /// Measures `rule`'s alignment with the exact gradient on one minibatch (nothing changes
    /// in the network) and appends it as `epoch`'s record.
    pub fn record<N: RuleNetwork + ?Sized>(
        &mut self,
        epoch: usize,
        net: &N,
        rule: Rule,
        x: &Tensor,
        y: &Tensor,
    ) -> Result<&AlignmentRecord> {
        let params = rule_alignment(net, rule, x, y)?;
        self.records.push(AlignmentRecord {
            epoch,
            rule,
            params,
        });
        Ok(self.records.last().expect("just pushed"))
    }

    /// The angle of parameter `name` over the records: `(epoch, degrees)` (`None` where it
    /// was undefined), ready to plot.
    pub fn angle_series(&self, name: &str) -> Vec<(usize, Option<f64>)> {
        self.records
            .iter()
            .filter_map(|r| {
                r.params
                    .iter()
                    .find(|p| p.name == name)
                    .map(|p| (r.epoch, p.angle_degrees))
            })
            .collect()
    }

    /// Writes the log as JSON, atomically.
    pub fn save_json(&self, path: &std::path::Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|source| GevbError::Json {
            what: "the alignment log".into(),
            source,
        })?;
        neurogen_io::write_atomic(path, &bytes)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn angles_and_signs_of_simple_vectors() {
        assert!(angle_degrees(&[1.0, 2.0], &[2.0, 4.0]).unwrap() < 1e-5);
        let a = angle_degrees(&[1.0, 0.0], &[0.0, 3.0]).unwrap();
        assert!((a - 90.0).abs() < 1e-12);
        let a = angle_degrees(&[1.0, 1.0], &[-1.0, -1.0]).unwrap();
        assert!((a - 180.0).abs() < 1e-5);
        assert_eq!(angle_degrees(&[0.0, 0.0], &[1.0, 1.0]), None);
        assert_eq!(
            sign_agreement(&[1.0, -1.0, 0.0, 2.0], &[3.0, 1.0, 0.0, 0.0]),
            Some(1.0 / 3.0)
        );
        assert_eq!(sign_agreement(&[0.0], &[0.0]), None);
        assert!(layer_of("bias").is_err());
        assert_eq!(layer_of("fc12.weight").unwrap(), 12);
    }
}
