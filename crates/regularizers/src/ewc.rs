//! Elastic weight consolidation (Kirkpatrick et al., PNAS 2017): after each task, the
//! parameters `θ*_t` and the diagonal of the (empirical) Fisher information `F_t` are kept, and
//! later training adds `λ/2 · Σ_t Σ_i F_t,i (θ_i − θ*_t,i)²` to the loss.
//!
//! The task boundary is not a training-loop event: whoever knows it (the class-incremental
//! harness, through `neurogen_learners::BackpropLearner::end_task`) computes the Fisher with
//! [`fisher_diagonal`] and calls [`Ewc::consolidate`]. Between boundaries `Ewc` is an ordinary
//! [`Regularizer`] whose loss term reads the live parameters.
use candle_core::{DType, Tensor};
use neurogen_model::{cross_entropy, Cnn, ForwardCtx, LossCx, ModelError, NoHooks, Regularizer};

use crate::error::RegError;

/// One task's anchor: per parameter, its value after the task and its Fisher diagonal.
#[derive(Debug, Clone)]
pub struct Anchor {
    /// `(name, θ*, F)` for every parameter, in PyTorch's shape (no replica axis).
    pub params: Vec<(String, Tensor, Tensor)>,
}

/// The EWC penalty with one [`Anchor`] per consolidated task.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use neurogen_model::{Cnn, ModelConfig};
/// use neurogen_regularizers::ewc::{fisher_diagonal, Ewc};
/// let net = Cnn::new(&ModelConfig::mlp(3, &[4], 2), 0, &Device::Cpu)?;
/// let x = Tensor::new(&[[[[0f32, 1., 2.]]], [[[1., 0., 1.]]]], &Device::Cpu)?; // [2, 1, 1, 3]
/// let y = Tensor::new(&[0u32, 1], &Device::Cpu)?;
/// let fisher = fisher_diagonal(&net, &x, &y)?;
/// let mut ewc = Ewc::new(100.0)?;
/// ewc.consolidate(&net, fisher)?;
/// assert_eq!(ewc.tasks(), 1);
/// // At the anchor the penalty is 0.
/// assert_eq!(ewc.penalty(|n| Ok(net.value(n, 0)?))?.unwrap().to_scalar::<f32>()?, 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Ewc {
    lambda: f64,
    anchors: Vec<Anchor>,
}

impl Ewc {
    /// EWC with strength `lambda` (finite, `>= 0`) and no anchor yet.
    pub fn new(lambda: f64) -> Result<Self, RegError> {
        if !(lambda.is_finite() && lambda >= 0.0) {
            return Err(RegError::Invalid {
                name: "ewc".into(),
                message: format!("lambda must be a finite number >= 0, got {lambda}"),
            });
        }
        Ok(Ewc {
            lambda,
            anchors: Vec::new(),
        })
    }

    /// The strength λ.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// Number of consolidated tasks.
    pub fn tasks(&self) -> usize {
        self.anchors.len()
    }

    /// The anchors, in task order.
    pub fn anchors(&self) -> &[Anchor] {
        &self.anchors
    }

    /// Keeps replica 0 of `net` (K = 1) as the anchor of a finished task, with its Fisher
    /// diagonal `fisher` (from [`fisher_diagonal`], one tensor per parameter).
    pub fn consolidate(
        &mut self,
        net: &Cnn,
        fisher: Vec<(String, Tensor)>,
    ) -> neurogen_model::Result<()> {
        let mut params = Vec::with_capacity(fisher.len());
        for (name, f) in fisher {
            let theta = net.value(&name, 0)?.copy()?;
            if theta.dims() != f.dims() {
                return Err(ModelError::Config(format!(
                    "Fisher of {name} has shape {:?}, the parameter {:?}",
                    f.dims(),
                    theta.dims()
                )));
            }
            params.push((name, theta, f));
        }
        self.anchors.push(Anchor { params });
        Ok(())
    }

    /// `λ/2 · Σ_t Σ F_t (θ − θ*_t)²` with the live parameters `param(name)`; None before the
    /// first anchor.
    pub fn penalty(
        &self,
        param: impl Fn(&str) -> neurogen_model::Result<Tensor>,
    ) -> neurogen_model::Result<Option<Tensor>> {
        let mut total: Option<Tensor> = None;
        for a in &self.anchors {
            for (name, theta, f) in &a.params {
                let d = (param(name)? - theta)?;
                let term = (d.sqr()? * f)?.sum_all()?;
                total = Some(match total {
                    None => term,
                    Some(t) => (t + term)?,
                });
            }
        }
        Ok(match total {
            None => None,
            Some(t) => Some(t.affine(self.lambda / 2.0, 0.0)?),
        })
    }
}

impl Regularizer for Ewc {
    fn name(&self) -> String {
        "ewc".into()
    }

    fn loss_term(&mut self, cx: &LossCx) -> neurogen_model::Result<Option<Tensor>> {
        self.penalty(|n| cx.param(n))
    }

    fn report(&self) -> serde_json::Value {
        serde_json::json!({ "lambda": self.lambda, "tasks": self.anchors.len() })
    }
}

/// The diagonal of the empirical Fisher information of `net` (K = 1) on the examples `x`
/// (`[n, C, H, W]`) with labels `y` (`[n]`): the mean over examples of the squared gradient of
/// each example's cross-entropy, per parameter (PyTorch's shapes), in evaluation mode.
pub fn fisher_diagonal(
    net: &Cnn,
    x: &Tensor,
    y: &Tensor,
) -> neurogen_model::Result<Vec<(String, Tensor)>> {
    if net.replicas() != 1 {
        return Err(ModelError::Config(format!(
            "the Fisher is computed for one network, this model has {} replicas",
            net.replicas()
        )));
    }
    let n = x.dim(0)?;
    if n == 0 || y.dims() != [n] {
        return Err(ModelError::Config(format!(
            "the Fisher needs at least one example and one label per example, got inputs {:?} and labels {:?}",
            x.dims(),
            y.dims()
        )));
    }
    let mut sums: Vec<Option<Tensor>> = vec![None; net.named_params().len()];
    for i in 0..n {
        let xi = x.narrow(0, i, 1)?;
        let yi = y.narrow(0, i, 1)?.unsqueeze(0)?;
        let out = net.forward(&xi, &mut NoHooks, &ForwardCtx::eval())?;
        let loss = cross_entropy(&out.logits, &yi)?.sum_all()?;
        let grads = loss.backward()?;
        for (slot, (name, var)) in sums.iter_mut().zip(net.named_params()) {
            let g = grads
                .get(var.as_tensor())
                .ok_or_else(|| ModelError::Config(format!("no gradient for {name}")))?
                .squeeze(0)?
                .sqr()?;
            *slot = Some(match slot.take() {
                None => g,
                Some(s) => (s + g)?,
            });
        }
    }
    net.named_params()
        .into_iter()
        .zip(sums)
        .map(|((name, _), s)| {
            let s = s.ok_or_else(|| ModelError::Config(format!("no Fisher for {name}")))?;
            Ok((
                name.to_string(),
                s.affine(1.0 / n as f64, 0.0)?.to_dtype(DType::F32)?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use neurogen_model::ModelConfig;

    #[test]
    fn penalty_is_hand_computed_fisher_weighted_distance() {
        let net = Cnn::new(&ModelConfig::mlp(2, &[2], 2), 0, &Device::Cpu).unwrap();
        let fisher: Vec<(String, Tensor)> = net
            .named_params()
            .into_iter()
            .map(|(n, v)| {
                let ones = v.as_tensor().squeeze(0).unwrap().ones_like().unwrap();
                (n.to_string(), (ones * 2.0).unwrap())
            })
            .collect();
        let mut ewc = Ewc::new(3.0).unwrap();
        ewc.consolidate(&net, fisher).unwrap();
        // Every parameter moved by +0.5: penalty = λ/2 · Σ F · 0.25 = 1.5 · 2 · 0.25 · count.
        let count = net.num_parameters() as f32;
        let p = ewc
            .penalty(|n| Ok((net.value(n, 0)? + 0.5)?))
            .unwrap()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!((p - 0.75 * count).abs() < 1e-4, "{p} vs {}", 0.75 * count);
        assert!(Ewc::new(-1.0).is_err());
        assert!(Ewc::new(1.0)
            .unwrap()
            .penalty(|_| unreachable!())
            .unwrap()
            .is_none());
    }

    #[test]
    fn fisher_of_one_example_is_its_squared_gradient() {
        // fc3 (no bias) on a 1-unit hidden layer: d loss / d W[c] = (softmax_c - 1[c = y]) h.
        let mut net = Cnn::new(&ModelConfig::mlp(1, &[1], 2), 5, &Device::Cpu).unwrap();
        let dev = Device::Cpu;
        net.set_param("fcs.0.weight", &Tensor::new(&[[[0.8f32]]], &dev).unwrap())
            .unwrap();
        net.set_param("fcs.0.bias", &Tensor::new(&[[0.4f32]], &dev).unwrap())
            .unwrap();
        net.set_param(
            "fc3.weight",
            &Tensor::new(&[[[0.3f32], [-0.2]]], &dev).unwrap(),
        )
        .unwrap();
        let x = Tensor::new(&[[[[1f32]]]], &Device::Cpu).unwrap();
        let y = Tensor::new(&[1u32], &Device::Cpu).unwrap();
        let f = fisher_diagonal(&net, &x, &y).unwrap();
        let w0: Vec<f32> = net
            .value("fcs.0.weight", 0)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let b0: Vec<f32> = net.value("fcs.0.bias", 0).unwrap().to_vec1().unwrap();
        let w3: Vec<f32> = net
            .value("fc3.weight", 0)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let h = (w0[0] + b0[0]).max(0.0);
        let (z0, z1) = (w3[0] * h, w3[1] * h);
        let p1 = z1.exp() / (z0.exp() + z1.exp());
        assert!((h - 1.2).abs() < 1e-6);
        let want = [((1.0 - p1) * h).powi(2), ((p1 - 1.0) * h).powi(2)]; // rows 0 and 1 of fc3
        let got: Vec<f32> = f
            .iter()
            .find(|(n, _)| n == "fc3.weight")
            .unwrap()
            .1
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert!(
            (got[0] - want[0]).abs() < 1e-5 && (got[1] - want[1]).abs() < 1e-5,
            "{got:?} vs {want:?}"
        );
        assert!(
            fisher_diagonal(&net, &x, &Tensor::new(&[1u32, 0], &Device::Cpu).unwrap()).is_err()
        );
    }
}
