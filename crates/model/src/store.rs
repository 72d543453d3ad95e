//! What a step hook reads and changes, as a trait: a store of named parameters with their
//! optimiser state, and the hidden layers they form.
//!
//! Step hooks ([`crate::Regularizer::on_step`]: neurogenesis turnover, freezing, growth, a
//! gradient projection) see a [`crate::StepCx`], which reads and writes through a
//! [`ParamStore`]. Inside our training loop the store is one replica of a [`crate::Cnn`] with
//! its [`crate::Adam`]; for a model of one's own in `candle-nn` it is a
//! [`crate::VarMapStore`] over the model's `VarMap` and a [`crate::VarAdam`] (module
//! [`crate::varmap`]). The same regulariser code runs on both: see
//! `crates/regularizers/examples/candle_nn_mlp.rs`.
//!
//! Names and shapes are PyTorch's: a linear layer's weight is `[out, in]`, as in
//! `candle_nn::Linear`. A hidden layer is three parameters ([`HiddenLayer`]): its incoming
//! weight (one row per unit), its bias, and the next layer's weight (one column per unit).
use candle_core::{DType, Device, Tensor};

use crate::adam::ParamState;
use crate::error::{ModelError, Result};

/// The three parameters of one hidden fully connected layer that a unit of it owns: row `u` of
/// `weight` and element `u` of `bias` (its incoming weights), column `u` of `next_weight` (its
/// outgoing weights).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenLayer {
    /// The layer's weight, `[width, inputs]` (e.g. `fc1.weight`).
    pub weight: String,
    /// The layer's bias, `[width]` (e.g. `fc1.bias`).
    pub bias: String,
    /// The next layer's weight, `[outputs, width]` (e.g. `fc2.weight`).
    pub next_weight: String,
}

impl HiddenLayer {
    /// The hidden layers of a chain of linear layers named `{prefix}.weight` and
    /// `{prefix}.bias` (candle-nn's names under `vb.pp(prefix)`), input to output: every
    /// layer but the last is a hidden layer, whose next layer is the one after it.
    ///
    /// ```
    /// use neurogen_model::HiddenLayer;
    /// let layers = HiddenLayer::chain(&["fc1", "fc2", "out"]);
    /// assert_eq!(layers.len(), 2);
    /// assert_eq!(layers[1].weight, "fc2.weight");
    /// assert_eq!(layers[1].next_weight, "out.weight");
    /// ```
    pub fn chain(prefixes: &[&str]) -> Vec<HiddenLayer> {
        prefixes
            .windows(2)
            .map(|w| HiddenLayer {
                weight: format!("{}.weight", w[0]),
                bias: format!("{}.bias", w[0]),
                next_weight: format!("{}.weight", w[1]),
            })
            .collect()
    }
}

/// A store of named parameters and their optimiser state, as a step hook sees it: one replica
/// of our network, or a `candle-nn` model's `VarMap` ([`crate::VarMapStore`]).
///
/// Reads return detached tensors in PyTorch's shapes; writes replace a parameter's (or its
/// state's) whole value. A store may apply writes at once or stage them until the hook
/// returns (our replicas do, see [`crate::slot`]), but a read always returns what was last
/// written. Errors name the parameter.
pub trait ParamStore {
    /// The parameters' floating-point type.
    fn dtype(&self) -> DType;

    /// The parameters' device.
    fn device(&self) -> &Device;

    /// Which replica of a stacked model this is (0 for a model of its own).
    fn replica(&self) -> usize {
        0
    }

    /// The names of every parameter, in the model's order.
    fn param_names(&self) -> Vec<String>;

    /// The value of parameter `name` (detached).
    fn param(&self, name: &str) -> Result<Tensor>;

    /// Replaces the value of parameter `name`. A store may refuse a change of shape (a
    /// `VarMap` does: the model holds the old tensor).
    fn set_param(&mut self, name: &str, value: &Tensor) -> Result<()>;

    /// The optimiser state of parameter `name`; `None` before its first update.
    fn optim_state(&self, name: &str) -> Result<Option<ParamState>>;

    /// Replaces the optimiser state of parameter `name`.
    fn set_optim_state(&mut self, name: &str, state: ParamState) -> Result<()>;

    /// Whether the optimiser skips parameter `name`.
    fn is_frozen(&self, name: &str) -> bool;

    /// Stops (true) or resumes (false) optimiser updates of parameter `name`.
    fn set_frozen(&mut self, name: &str, frozen: bool) -> Result<()>;

    /// Number of hidden (fully connected) layers whose units hooks may replace.
    fn num_hidden(&self) -> usize;

    /// Names of hidden layer `layer`'s parameters: `(incoming weight, bias, outgoing weight)`.
    fn hidden_param_names(&self, layer: usize) -> Result<(String, String, String)>;

    /// Width of hidden layer `layer` (the rows of its incoming weight).
    fn hidden_width(&self, layer: usize) -> Result<usize> {
        let (w, _, _) = self.hidden_param_names(layer)?;
        Ok(self.param(&w)?.dim(0)?)
    }

    /// Whether [`ParamStore::grad`] and [`ParamStore::set_grad`] work now (in our loop: only
    /// in [`crate::Phase::AfterBackward`]).
    fn has_grads(&self) -> bool {
        false
    }

    /// The gradient of parameter `name` for the optimiser step that follows (`None`: it has
    /// none this step). An error where the store holds no gradients.
    fn grad(&self, name: &str) -> Result<Option<Tensor>> {
        Err(no_grads(name))
    }

    /// Replaces the gradient of parameter `name` for the optimiser step that follows. An error
    /// where the store holds no gradients.
    fn set_grad(&mut self, name: &str, _grad: &Tensor) -> Result<()> {
        Err(no_grads(name))
    }
}

fn no_grads(name: &str) -> ModelError {
    ModelError::Config(format!(
        "the gradient of {name} was asked for from a store that holds no gradients (our loop \
         has them in Phase::AfterBackward; a VarMapStore has them when built with_grads)"
    ))
}
