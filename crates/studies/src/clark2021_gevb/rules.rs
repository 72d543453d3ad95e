//! The learning rules, each producing one update per parameter: exact backprop (autograd), GEVB
//! (in vectorized networks) and DFA (in conventional ones).
//!
//! # GEVB (the authors' `vnn.set_model_grads(..., learning_rule = "df")`)
//! With `e = softmax(y) − onehot(label)` (`[B, K]`, from detached logits) and `G^ℓ` the gate of
//! the units layer `ℓ` feeds (`G ≡ 1` at the output unit), the update of a layer with input
//! `H^{ℓ−1}` (`[B, K, n_{ℓ−1}]`) is
//! ```text
//! ΔW^ℓ_ij = (1/B)·Σ_b G^ℓ_i(b)·(e(b)·H^{ℓ−1}_j(b))        (e·H: the dot product over K)
//! ΔB^ℓ_ki = (1/B)·Σ_b G^ℓ_i(b)·e_k(b)
//! ```
//! and in the first layer, whose component `k` sees the input `x` through its own block,
//! `ΔW^0_kij = (1/B)·Σ_b G^0_i(b)·e_k(b)·x_j(b)`. These are gradient-like (Adam subtracts
//! them): the paper's `ΔW = −η·(...)` is Adam's step on them. Exact backprop in the same
//! network has the same form with `G^ℓ_i` replaced by the backpropagated scalar `g^ℓ_i` (the
//! error of unit `i` is `e·g_i` in every component, since weights and gates are shared over
//! K): GEVB broadcasts the one error vector `e` instead of transporting weights backwards.
//!
//! # DFA (the authors' `dfa_util`, after TinyDFA)
//! In a conventional network, hidden layer `ℓ`'s error is `δ^ℓ = mask^ℓ ⊙ (e·F_{:, :n_ℓ})` with
//! the fixed random feedback matrix `F` (`[K, max n_ℓ]`), the output layer's is `e`;
//! `ΔW^ℓ = (1/B)·δ^ℓᵀ·h^{ℓ−1}`, `Δb^ℓ = (1/B)·Σ_b δ^ℓ(b)`.
//!
//! # Why updates go to Adam through a filled `GradStore`
//! [`neurogen_model::Adam::step`] takes parameters and a candle `GradStore`; `GradStore`
//! is public with `Default` and `insert`, so a rule fills one with its updates and the
//! optimiser steps exactly as it does on autograd's gradients (same state, same fused kernel,
//! same PyTorch semantics) — no surrogate loss, and no change to the model crate. The same
//! [`Updates`] will plug into the training loop's `Phase::AfterBackward` hook once the study
//! engine has it: the rule replaces the gradients between backward and Adam.
use candle_core::backprop::GradStore;
use candle_core::{DType, Tensor, Var};

use super::data::{correct, cross_entropy, output_error};
use super::error::{GevbError, Result};
use super::fc::Fc;
use super::vnn::VecFc;

/// A learning rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Rule {
    /// Exact backprop (autograd); any network.
    Backprop,
    /// Global error-vector broadcasting; vectorized networks.
    Gevb,
    /// Direct feedback alignment; conventional networks.
    Dfa,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Rule::Backprop => "BP",
            Rule::Gevb => "GEVB",
            Rule::Dfa => "DFA",
        })
    }
}

/// One update per parameter (a gradient or a rule's pseudo-gradient), named as the network's
/// parameters, in their order; every tensor contiguous and of its parameter's shape.
#[derive(Debug, Clone)]
pub struct Updates(Vec<(String, Tensor)>);

impl Updates {
    /// Updates from `(name, tensor)` pairs (made contiguous).
    pub fn new(pairs: Vec<(String, Tensor)>) -> Result<Self> {
        pairs
            .into_iter()
            .map(|(n, t)| Ok((n, t.contiguous()?)))
            .collect::<Result<Vec<_>>>()
            .map(Updates)
    }

    /// The update of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// `(name, update)` pairs in parameter order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.0.iter().map(|(n, t)| (n.as_str(), t))
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no update.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A `GradStore` holding each update as the gradient of its parameter in `params`, for
    /// [`neurogen_model::Adam::step`]. Every parameter needs an update of its shape, finite.
    pub fn to_grad_store(&self, params: &[(String, Var)]) -> Result<GradStore> {
        let mut store = GradStore::default();
        for (name, var) in params {
            let u = self
                .get(name)
                .ok_or_else(|| GevbError::Shape(format!("no update for parameter {name}")))?;
            if u.dims() != var.dims() {
                return Err(GevbError::Shape(format!(
                    "update of {name} has shape {:?}, the parameter {:?}",
                    u.dims(),
                    var.dims()
                )));
            }
            let s = u
                .sqr()?
                .sum_all()?
                .to_dtype(DType::F64)?
                .to_scalar::<f64>()?;
            if !s.is_finite() {
                return Err(GevbError::NonFinite(format!("the update of {name}")));
            }
            store.insert(var.as_tensor(), u.clone());
        }
        Ok(store)
    }
}

/// What a rule computed on one minibatch.
#[derive(Debug, Clone)]
pub struct RuleOutput {
    /// Mean cross-entropy of the minibatch before the update.
    pub loss: f32,
    /// Correctly classified examples of the minibatch before the update.
    pub correct: usize,
    /// One update per parameter.
    pub updates: Updates,
}

/// A network some of the rules can train: the seat a study's training loop (or the engine's
/// `Phase::AfterBackward`) calls.
pub trait RuleNetwork {
    /// The rules this network supports.
    fn rules(&self) -> &'static [Rule];
    /// Number of classes K.
    fn classes(&self) -> usize;
    /// Parameters with their names.
    fn named_params(&self) -> Vec<(String, Var)>;
    /// `[B, K]` logits of `[B, d]` inputs.
    fn logits(&self, x: &Tensor) -> Result<Tensor>;
    /// Checks a labelled minibatch; returns the labels.
    fn check_batch(&self, x: &Tensor, y: &Tensor) -> Result<Vec<u32>>;
    /// The rule's updates on a minibatch (`x` `[B, d]` f32, `y` `[B]` u32).
    fn updates(&self, rule: Rule, x: &Tensor, y: &Tensor) -> Result<RuleOutput>;
    /// What follows every optimiser step (the "+" clamp).
    fn after_step(&self) -> Result<()>;
}

/// The body every network's [`RuleNetwork::updates`] shares: checks that `net` (a `what`)
/// supports `rule` and the minibatch, runs `forward` (which returns what the network's own rule
/// needs and the `[B, K]` logits), takes the mean cross-entropy, then gets the updates from
/// autograd (backprop) or from `local`, the network's own rule (GEVB or DFA) given the forward
/// pass and the output error `e = softmax(y) − onehot(label)`.
pub(crate) fn rule_output<N, F>(
    net: &N,
    what: &str,
    rule: Rule,
    (x, y): (&Tensor, &Tensor),
    forward: impl FnOnce(&Tensor) -> Result<(F, Tensor)>,
    local: impl FnOnce(&F, &Tensor) -> Result<Updates>,
) -> Result<RuleOutput>
where
    N: RuleNetwork + ?Sized,
{
    if !net.rules().contains(&rule) {
        return Err(unsupported(rule, what, net.rules()));
    }
    let labels = net.check_batch(x, y)?;
    let (fwd, logits) = forward(x)?;
    let loss = cross_entropy(&logits, &labels)?;
    let updates = match rule {
        Rule::Backprop => backprop_updates(&loss, &net.named_params())?,
        _ => local(&fwd, &output_error(&logits, &labels)?)?,
    };
    Ok(RuleOutput {
        loss: loss.to_scalar::<f32>()?,
        correct: correct(&logits, &labels)?,
        updates,
    })
}

fn unsupported(rule: Rule, what: &str, rules: &[Rule]) -> GevbError {
    GevbError::Config(format!(
        "rule {rule} does not apply to a {what}; it supports {}",
        rules
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Exact gradients of `loss` for `params` (autograd); a parameter the loss does not reach gets
/// zeros.
pub fn backprop_updates(loss: &Tensor, params: &[(String, Var)]) -> Result<Updates> {
    let grads = loss.backward()?;
    Updates::new(
        params
            .iter()
            .map(|(n, v)| {
                let g = match grads.get(v.as_tensor()) {
                    Some(g) => g.clone(),
                    None => v.as_tensor().zeros_like()?,
                };
                Ok((n.clone(), g))
            })
            .collect::<Result<Vec<_>>>()?,
    )
}

/// GEVB's updates of a vectorized network from a forward pass and the output error `e`
/// (`[B, K]`); see the module documentation for the formula.
pub fn gevb_updates(net: &VecFc, fwd: &super::VecForward, e: &Tensor) -> Result<Updates> {
    let (b, k) = e.dims2()?;
    let inv_b = 1.0 / b as f64;
    let mut pairs = Vec::with_capacity(2 * net.layers());
    // The first layer: ΔW_kij = (1/B) Σ_b (G_i e_k)(b) x_j(b), [K·n, B] × [B, d].
    let (x, g) = (fwd.inputs[0].detach(), &fwd.gates[0]);
    let (n, d) = (g.dim(1)?, x.dim(1)?);
    let ge = e.unsqueeze(2)?.broadcast_mul(&g.unsqueeze(1)?)?; // [B, K, n]
    let dw = (ge.reshape((b, k * n))?.t()?.matmul(&x)? * inv_b)?.reshape((k, n, d))?;
    pairs.push(("fc0.weight".to_string(), dw));
    pairs.push(("fc0.bias".to_string(), (e.t()?.matmul(g)? * inv_b)?));
    gevb_shared_layers(e, &fwd.inputs[1..], &fwd.gates[1..], 1, &mut pairs)?;
    Updates::new(pairs)
}

/// GEVB's updates of gated layers of shared weights, the last one the output unit (`G ≡ 1`),
/// from their `inputs` and `gates` (as [`super::vnn`]'s `shared_layers` records them), appended
/// to `pairs` as `fc{first + i}.weight` and `.bias`.
pub(crate) fn gevb_shared_layers(
    e: &Tensor,
    inputs: &[Tensor],
    gates: &[Tensor],
    first: usize,
    pairs: &mut Vec<(String, Tensor)>,
) -> Result<()> {
    let b = e.dim(0)?;
    let inv_b = 1.0 / b as f64;
    for (i, input) in inputs.iter().enumerate() {
        let g = match gates.get(i) {
            Some(g) => g.clone(),
            None => Tensor::ones((b, 1), DType::F32, e.device())?,
        };
        let (dw, db) = gevb_shared_linear(e, &input.detach(), &g, inv_b)?;
        pairs.push((format!("fc{}.weight", first + i), dw));
        pairs.push((format!("fc{}.bias", first + i), db));
    }
    Ok(())
}

/// GEVB's update of a layer of shared scalar weights: input `[B, K, n_in]`, gate `[B, n]`;
/// returns `(ΔW [n, n_in], ΔB [K, n])` with `ΔW_ij = inv_b·Σ_b G_i(b)·(e(b)·H_j(b))`.
pub(crate) fn gevb_shared_linear(
    e: &Tensor,
    input: &Tensor,
    g: &Tensor,
    inv_b: f64,
) -> Result<(Tensor, Tensor)> {
    let dots = e.unsqueeze(2)?.broadcast_mul(input)?.sum(1)?; // [B, n_in]
    let dw = (g.t()?.matmul(&dots)? * inv_b)?;
    let db = (e.t()?.matmul(g)? * inv_b)?;
    Ok((dw, db))
}

/// DFA's updates of a conventional network from a forward pass and the output error `e`
/// (`[B, K]`); see the module documentation.
pub fn dfa_updates(net: &Fc, fwd: &super::FcForward, e: &Tensor) -> Result<Updates> {
    let mut pairs = Vec::with_capacity(2 * net.layers());
    dfa_layers(e, net.feedback(), &fwd.inputs, &fwd.masks, &mut pairs)?;
    Updates::new(pairs)
}

/// DFA's updates of `aReLU` layers, the last one the output layer (its error is `e`), from
/// their `inputs` and `masks` (as [`super::fc`]'s `arelu_layers` records them) and the fixed
/// `feedback` `[K, max n]`, appended to `pairs` as `fc{ℓ}.weight` and `.bias`.
pub(crate) fn dfa_layers(
    e: &Tensor,
    feedback: &Tensor,
    inputs: &[Tensor],
    masks: &[Tensor],
    pairs: &mut Vec<(String, Tensor)>,
) -> Result<()> {
    let inv_b = 1.0 / e.dim(0)? as f64;
    for (l, input) in inputs.iter().enumerate() {
        let delta = match masks.get(l) {
            Some(m) => (e.matmul(&feedback.narrow(1, 0, m.dim(1)?)?)? * m)?,
            None => e.clone(),
        };
        let input = input.detach();
        pairs.push((
            format!("fc{l}.weight"),
            (delta.t()?.matmul(&input)? * inv_b)?,
        ));
        pairs.push((format!("fc{l}.bias"), (delta.sum(0)? * inv_b)?));
    }
    Ok(())
}

impl RuleNetwork for VecFc {
    fn rules(&self) -> &'static [Rule] {
        &[Rule::Backprop, Rule::Gevb]
    }

    fn classes(&self) -> usize {
        self.config().classes
    }

    fn named_params(&self) -> Vec<(String, Var)> {
        VecFc::named_params(self)
    }

    fn logits(&self, x: &Tensor) -> Result<Tensor> {
        VecFc::logits(self, x)
    }

    fn check_batch(&self, x: &Tensor, y: &Tensor) -> Result<Vec<u32>> {
        VecFc::check_batch(self, x, y)
    }

    fn updates(&self, rule: Rule, x: &Tensor, y: &Tensor) -> Result<RuleOutput> {
        rule_output(
            self,
            "vectorized network",
            rule,
            (x, y),
            |x| {
                self.forward(x).map(|f| {
                    let l = f.logits.clone();
                    (f, l)
                })
            },
            |fwd, e| gevb_updates(self, fwd, e),
        )
    }

    fn after_step(&self) -> Result<()> {
        self.clamp()
    }
}

impl RuleNetwork for Fc {
    fn rules(&self) -> &'static [Rule] {
        &[Rule::Backprop, Rule::Dfa]
    }

    fn classes(&self) -> usize {
        self.config().classes
    }

    fn named_params(&self) -> Vec<(String, Var)> {
        Fc::named_params(self)
    }

    fn logits(&self, x: &Tensor) -> Result<Tensor> {
        Fc::logits(self, x)
    }

    fn check_batch(&self, x: &Tensor, y: &Tensor) -> Result<Vec<u32>> {
        Fc::check_batch(self, x, y)
    }

    fn updates(&self, rule: Rule, x: &Tensor, y: &Tensor) -> Result<RuleOutput> {
        rule_output(
            self,
            "conventional network",
            rule,
            (x, y),
            |x| {
                self.forward(x).map(|f| {
                    let l = f.logits.clone();
                    (f, l)
                })
            },
            |fwd, e| dfa_updates(self, fwd, e),
        )
    }

    fn after_step(&self) -> Result<()> {
        self.clamp()
    }
}
