//! The combinator: several regularisers run together, in a stated order.
//!
//! Every hook runs on every member in the stack's order: forward-hook steps are chained
//! (member `i+1`'s steps act on member `i`'s output), loss terms are summed,
//! `configure_optimizer` and the step hooks run one after another (the first error stops the
//! step). [`crate::build`] puts the built-in
//! regularisers in the reference code's order (weight decay, neural noise, neurogenesis,
//! dropout), so that excitability acts before dropout and max-norm as in `NgnCnn.forward`;
//! [`Stack::new`] and [`Stack::push`] keep the order they are given.
use std::fmt;

use candle_core::Tensor;
use neurogen_model::{AdamConfig, HookSite, HookStep, LossCx, Phase, Regularizer, Result, StepCx};

/// Several regularisers applied in order; itself a [`Regularizer`].
///
/// ```
/// use neurogen_regularizers::{NoRegularizer, Regularizer, Stack, WeightDecay, WeightDecayConfig};
/// let mut stack = Stack::new(vec![Box::new(NoRegularizer)]);
/// stack.push(Box::new(WeightDecay::new(WeightDecayConfig::default())?));
/// let mut adam = neurogen_model::AdamConfig::default();
/// stack.configure_optimizer(&mut adam);
/// assert_eq!(adam.weight_decay, 1e-5);
/// assert_eq!(stack.name(), "none+weight-decay");
/// # Ok::<(), neurogen_regularizers::RegError>(())
/// ```
#[derive(Default)]
pub struct Stack(pub Vec<Box<dyn Regularizer>>);

impl Stack {
    /// A stack running `regs` in this order.
    pub fn new(regs: Vec<Box<dyn Regularizer>>) -> Self {
        Stack(regs)
    }

    /// Appends a regulariser (it runs after the others).
    pub fn push(&mut self, reg: Box<dyn Regularizer>) {
        self.0.push(reg);
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the stack has no member (plain training).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The members, in order.
    pub fn members(&self) -> &[Box<dyn Regularizer>] {
        &self.0
    }
}

impl fmt::Debug for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|r| r.name()))
            .finish()
    }
}

impl Regularizer for Stack {
    /// The members' names joined by `+` (`none` when empty).
    fn name(&self) -> String {
        if self.0.is_empty() {
            return "none".into();
        }
        self.0
            .iter()
            .map(|r| r.name())
            .collect::<Vec<_>>()
            .join("+")
    }

    fn configure_optimizer(&self, config: &mut AdamConfig) {
        for r in &self.0 {
            r.configure_optimizer(config);
        }
    }

    /// The members' steps, in order.
    fn hook(&mut self, site: &HookSite) -> Result<Vec<HookStep>> {
        let mut steps = Vec::new();
        for r in &mut self.0 {
            steps.extend(r.hook(site)?);
        }
        Ok(steps)
    }

    /// The sum of the members' loss terms (`None` if no member has one).
    fn loss_term(&mut self, cx: &LossCx) -> Result<Option<Tensor>> {
        let mut total: Option<Tensor> = None;
        for r in &mut self.0 {
            if let Some(t) = r.loss_term(cx)? {
                total = Some(match total {
                    Some(s) => (s + t)?,
                    None => t,
                });
            }
        }
        Ok(total)
    }

    fn on_step(&mut self, phase: Phase, cx: &mut StepCx) -> Result<()> {
        for r in &mut self.0 {
            r.on_step(phase, cx)?;
        }
        Ok(())
    }

    /// A JSON array of the members' reports, in order.
    fn report(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.0
                .iter()
                .map(|r| serde_json::json!({"name": r.name(), "report": r.report()}))
                .collect(),
        )
    }
}
