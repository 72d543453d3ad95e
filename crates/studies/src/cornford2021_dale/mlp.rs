//! The unconstrained baseline: a dense layer `z = W x + b` (`DenseLayer` in
//! `ariamis/base_models.py`), initialised as `HeNormalInit`: `W ~ N(0, gain/n_in)` with gain 1
//! for the first layer and 2 for the others, `b = 0`; plain SGD.
use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use rand::Rng;

use super::error::{check_input, check_shape, DaleError, Result};
use super::init::normal;
use super::layer::{sgd, Layer};

/// One dense layer.
#[derive(Debug)]
pub struct DenseLayer {
    n_input: usize,
    n_output: usize,
    w: Var,
    b: Var,
}

impl DenseLayer {
    /// A layer initialised as `HeNormalInit` (`first` selects gain 1, else 2).
    pub fn init(
        n_input: usize,
        n_output: usize,
        first: bool,
        rng: &mut impl Rng,
        device: &Device,
    ) -> Result<Self> {
        if n_input == 0 || n_output == 0 {
            return Err(DaleError::InvalidArgument(format!(
                "a dense layer needs n_input, n_output >= 1 (got {n_input}, {n_output})"
            )));
        }
        let gain = if first { 1.0 } else { 2.0 };
        let w = normal(
            rng,
            (gain / n_input as f64).sqrt(),
            n_output,
            n_input,
            device,
        )?;
        let b = Tensor::zeros(n_output, DType::F32, device)?;
        Self::from_tensors(&w, &b)
    }

    /// A layer with `W` `[n_out, n_in]` and `b` `[n_out]`.
    pub fn from_tensors(w: &Tensor, b: &Tensor) -> Result<Self> {
        let (n_output, n_input) = w.dims2().map_err(|_| DaleError::Shape {
            what: "dense W".into(),
            expected: "[n_out, n_in]".into(),
            got: w.dims().to_vec(),
        })?;
        check_shape("dense b", b, &[n_output])?;
        Ok(DenseLayer {
            n_input,
            n_output,
            w: Var::from_tensor(&w.to_dtype(DType::F32)?)?,
            b: Var::from_tensor(&b.to_dtype(DType::F32)?)?,
        })
    }

    /// `W` `[n_out, n_in]`.
    pub fn w(&self) -> &Tensor {
        self.w.as_tensor()
    }

    /// `b` `[n_out]`.
    pub fn b(&self) -> &Tensor {
        self.b.as_tensor()
    }
}

impl Layer for DenseLayer {
    fn n_input(&self) -> usize {
        self.n_input
    }

    fn n_output(&self) -> usize {
        self.n_output
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_input("dense layer input", x, self.n_input)?;
        let z = x.matmul(&self.w().t()?)?;
        Ok(z.broadcast_add(&self.b().unsqueeze(0)?)?)
    }

    fn params(&self) -> Vec<(&'static str, &Var)> {
        vec![("W", &self.w), ("b", &self.b)]
    }

    fn sgd_step(&self, grads: &GradStore, lr: f64) -> Result<()> {
        let w = sgd(&self.w, grads.get(self.w.as_tensor()), lr)?;
        let b = sgd(&self.b, grads.get(self.b.as_tensor()), lr)?;
        self.w.set(&w)?;
        self.b.set(&b)?;
        Ok(())
    }

    fn synapses(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(vec![("W".into(), self.w().clone())])
    }
}
