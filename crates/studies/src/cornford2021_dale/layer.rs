//! What the network needs of a layer: a forward pass, its parameters, one SGD step with the
//! layer's own gradient scaling and clamps, and its synapses with their signs.
use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use super::error::Result;

/// A fully connected layer of one of the study's networks (DANN, ColumnEI, MLP).
pub trait Layer {
    /// Width of the input.
    fn n_input(&self) -> usize;
    /// Width of the output (the units the next layer sees).
    fn n_output(&self) -> usize;
    /// The pre-activation `z` (`[batch, n_output]`) of `x` (`[batch, n_input]`); the network
    /// applies the ReLU.
    fn forward(&self, x: &Tensor) -> Result<Tensor>;
    /// The trainable parameters with their names in the authors' code (`Wex`, `W_pos`, `b`, ...).
    fn params(&self) -> Vec<(&'static str, &Var)>;
    /// One SGD step, `p ← p − lr · grad(p)`, with the layer's gradient scaling before it and
    /// its clamps after it. A parameter without a gradient in `grads` is not moved.
    fn sgd_step(&self, grads: &GradStore, lr: f64) -> Result<()>;
    /// The layer's synapses as signed matrices in the `out × in` layout (presynaptic units are
    /// columns), named by population (e.g. `E<-x`), for Dale compliance and weight statistics.
    fn synapses(&self) -> Result<Vec<(String, Tensor)>>;
}

/// `p ← p − lr · g` (returns the new value without writing it).
pub(crate) fn sgd(p: &Var, g: Option<&Tensor>, lr: f64) -> Result<Tensor> {
    Ok(match g {
        Some(g) => (p.as_tensor() - (g * lr)?)?,
        None => p.as_tensor().clone(),
    })
}
