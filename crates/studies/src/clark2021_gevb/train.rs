//! Training a network with a rule and the workspace's Adam (`neurogen_model::Adam`), the
//! authors' `train_epoch` step: updates from the rule, one Adam step on them, then the "+"
//! clamp.
use candle_core::Tensor;
use neurogen_model::{Adam, AdamConfig};

use super::data::{correct, cross_entropy};
use super::error::{GevbError, Result};
use super::rules::{Rule, RuleNetwork, Updates};

/// The paper's optimiser: Adam, lr 3e-4, PyTorch's other defaults (`train_models.py`).
pub fn paper_adam() -> AdamConfig {
    AdamConfig {
        lr: 3e-4,
        ..AdamConfig::default()
    }
}

/// One Adam step of `net`'s parameters on `updates` (fed as their gradients).
pub fn apply_updates<N: RuleNetwork + ?Sized>(
    net: &N,
    opt: &mut Adam,
    updates: &Updates,
) -> Result<()> {
    let params = net.named_params();
    let store = updates.to_grad_store(&params)?;
    opt.step(params.iter().map(|(n, v)| (n.as_str(), v)), &store, &[true])?;
    Ok(())
}

/// What one training step measured (before its update).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// Mean cross-entropy of the minibatch.
    pub loss: f32,
    /// Fraction of the minibatch classified correctly.
    pub accuracy: f64,
}

/// Loss and accuracy on a labelled set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalStats {
    /// Mean cross-entropy.
    pub loss: f64,
    /// Fraction classified correctly.
    pub accuracy: f64,
}

/// A network, its rule and its optimiser.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use neurogen_studies::clark2021_gevb::{paper_adam, Rule, RuleTrainer, VecFc, VecFcConfig};
/// let cfg = VecFcConfig { classes: 3, input_dim: 4, hidden: vec![4], mono: true };
/// let net = VecFc::new(&cfg, 0, &Device::Cpu)?;
/// let mut t = RuleTrainer::new(net, Rule::Gevb, paper_adam())?;
/// let x = Tensor::ones((2, 4), candle_core::DType::F32, &Device::Cpu)?;
/// let y = Tensor::new(&[0u32, 2], &Device::Cpu)?;
/// let stats = t.step(&x, &y)?;
/// assert!(stats.loss.is_finite());
/// # Ok::<(), neurogen_studies::clark2021_gevb::GevbError>(())
/// ```
#[derive(Debug)]
pub struct RuleTrainer<N> {
    net: N,
    rule: Rule,
    opt: Adam,
}

impl<N: RuleNetwork> RuleTrainer<N> {
    /// A trainer of `net` by `rule` (which the network must support) with a fresh Adam.
    pub fn new(net: N, rule: Rule, adam: AdamConfig) -> Result<Self> {
        if !net.rules().contains(&rule) {
            return Err(GevbError::Config(format!(
                "rule {rule} does not apply to this network (it supports {:?})",
                net.rules()
            )));
        }
        Ok(RuleTrainer {
            net,
            rule,
            opt: Adam::new(adam, 1)?,
        })
    }

    /// The network.
    pub fn net(&self) -> &N {
        &self.net
    }

    /// The rule.
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// The optimiser.
    pub fn optimizer(&self) -> &Adam {
        &self.opt
    }

    /// One step on a minibatch: the rule's updates, Adam, the "+" clamp. A non-finite loss
    /// stops with an error before anything changes.
    pub fn step(&mut self, x: &Tensor, y: &Tensor) -> Result<StepStats> {
        let out = self.net.updates(self.rule, x, y)?;
        if !out.loss.is_finite() {
            return Err(GevbError::NonFinite(format!(
                "the training loss is {} ({} network diverged)",
                out.loss, self.rule
            )));
        }
        apply_updates(&self.net, &mut self.opt, &out.updates)?;
        self.net.after_step()?;
        Ok(StepStats {
            loss: out.loss,
            accuracy: out.correct as f64 / x.dim(0)? as f64,
        })
    }

    /// Loss and accuracy of the network on `x` `[N, d]`, `y` `[N]`, in minibatches of `batch`.
    pub fn evaluate(&self, x: &Tensor, y: &Tensor, batch: usize) -> Result<EvalStats> {
        evaluate(&self.net, x, y, batch)
    }
}

/// Loss and accuracy of `net` on `x` `[N, d]`, `y` `[N]`, in minibatches of `batch` (≥ 1).
pub fn evaluate<N: RuleNetwork + ?Sized>(
    net: &N,
    x: &Tensor,
    y: &Tensor,
    batch: usize,
) -> Result<EvalStats> {
    if batch == 0 {
        return Err(GevbError::Config("evaluation batch size is 0".into()));
    }
    let labels = net.check_batch(x, y)?;
    let n = labels.len();
    let (mut loss, mut right) = (0f64, 0usize);
    for start in (0..n).step_by(batch) {
        let len = batch.min(n - start);
        let logits = net.logits(&x.narrow(0, start, len)?)?.detach();
        let l = &labels[start..start + len];
        loss += cross_entropy(&logits, l)?.to_scalar::<f32>()? as f64 * len as f64;
        right += correct(&logits, l)?;
    }
    Ok(EvalStats {
        loss: loss / n as f64,
        accuracy: right as f64 / n as f64,
    })
}
