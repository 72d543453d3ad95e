//! The combinator: several regularisers run together, in a stated order.
//!
//! Every hook runs on every member in the stack's order: `pre_activation` and `activation`
//! are chained (member `i+1` sees member `i`'s output), loss terms are summed,
//! `configure_optimizer`, `start_training`, `before_batch`, `after_step` and `end_epoch` run
//! one after another (the first error stops the step). [`crate::build`] puts the built-in
//! regularisers in the reference code's order (weight decay, neural noise, neurogenesis,
//! dropout), so that excitability acts before dropout and max-norm as in `NgnCnn.forward`;
//! [`Stack::new`] and [`Stack::push`] keep the order they are given.
use std::fmt;

use candle_core::Tensor;
use neurogen_model::{
    Adam, AdamConfig, Cnn, ForwardCtx, HookStep, Regularizer, Result, StepCtx, StepHook,
};

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

    /// A JSON array of the members' configurations, in order.
    fn config(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.0
                .iter()
                .map(|r| serde_json::json!({"name": r.name(), "config": r.config()}))
                .collect(),
        )
    }

    fn configure_optimizer(&self, config: &mut AdamConfig) {
        for r in &self.0 {
            r.configure_optimizer(config);
        }
    }

    fn start_training(&mut self, model: &mut Cnn, optimizer: &mut Adam) -> Result<()> {
        for r in &mut self.0 {
            r.start_training(model, optimizer)?;
        }
        Ok(())
    }

    fn modifies_model(&self, hook: StepHook, ctx: &StepCtx) -> bool {
        self.0.iter().any(|r| r.modifies_model(hook, ctx))
    }

    /// True when every member plans its hooks.
    fn plans_hooks(&self) -> bool {
        self.0.iter().all(|r| r.plans_hooks())
    }

    /// The members' steps, in order.
    fn plan_pre_activation(
        &mut self,
        layer: usize,
        dims: (usize, usize),
        ctx: &ForwardCtx,
    ) -> Result<Vec<HookStep>> {
        let mut steps = Vec::new();
        for r in &mut self.0 {
            steps.extend(r.plan_pre_activation(layer, dims, ctx)?);
        }
        Ok(steps)
    }

    /// The members' steps, in order.
    fn plan_activation(
        &mut self,
        layer: usize,
        dims: (usize, usize),
        ctx: &ForwardCtx,
    ) -> Result<Vec<HookStep>> {
        let mut steps = Vec::new();
        for r in &mut self.0 {
            steps.extend(r.plan_activation(layer, dims, ctx)?);
        }
        Ok(steps)
    }

    fn before_batch(&mut self, model: &mut Cnn, optimizer: &mut Adam, ctx: &StepCtx) -> Result<()> {
        for r in &mut self.0 {
            r.before_batch(model, optimizer, ctx)?;
        }
        Ok(())
    }

    fn pre_activation(&mut self, layer: usize, z: Tensor, ctx: &ForwardCtx) -> Result<Tensor> {
        let mut z = z;
        for r in &mut self.0 {
            z = r.pre_activation(layer, z, ctx)?;
        }
        Ok(z)
    }

    fn activation(&mut self, layer: usize, a: Tensor, ctx: &ForwardCtx) -> Result<Tensor> {
        let mut a = a;
        for r in &mut self.0 {
            a = r.activation(layer, a, ctx)?;
        }
        Ok(a)
    }

    /// The sum of the members' loss terms (`None` if no member has one).
    fn loss_term(&mut self, model: &Cnn, ctx: &StepCtx) -> Result<Option<Tensor>> {
        let mut total: Option<Tensor> = None;
        for r in &mut self.0 {
            if let Some(t) = r.loss_term(model, ctx)? {
                total = Some(match total {
                    Some(s) => (s + t)?,
                    None => t,
                });
            }
        }
        Ok(total)
    }

    fn after_step(&mut self, model: &mut Cnn, optimizer: &mut Adam, ctx: &StepCtx) -> Result<()> {
        for r in &mut self.0 {
            r.after_step(model, optimizer, ctx)?;
        }
        Ok(())
    }

    fn end_epoch(&mut self, model: &mut Cnn, optimizer: &mut Adam, epoch: usize) -> Result<()> {
        for r in &mut self.0 {
            r.end_epoch(model, optimizer, epoch)?;
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
