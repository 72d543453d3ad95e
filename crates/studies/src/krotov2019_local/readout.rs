//! The paper's supervised stage on the frozen hidden layer: `c = tanh(β·h·S)`, loss
//! `Σ_α |c_α − t_α|^m` per example (mean over the minibatch) with `t = ±1` one-hot, trained with
//! Adam. `h` are the power-ReLU activations ([`super::power_relu`]).
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use super::error::{check_batch, LocalRuleError, Result};

/// The read-out `S` `[hidden, classes]` with its optimiser.
pub struct PowerReadout {
    s: Var,
    opt: AdamW,
    beta: f64,
    m: f64,
    classes: usize,
}

impl std::fmt::Debug for PowerReadout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PowerReadout")
            .field("shape", &self.s.dims())
            .field("beta", &self.beta)
            .field("m", &self.m)
            .finish()
    }
}

impl PowerReadout {
    /// A zero read-out from `hidden` features to `classes` outputs, with `β`, the loss power
    /// `m` (`>= 2`) and Adam's learning rate `lr`.
    pub fn new(
        hidden: usize,
        classes: usize,
        beta: f64,
        m: f64,
        lr: f64,
        device: &Device,
    ) -> Result<Self> {
        if hidden == 0 || classes < 2 {
            return Err(LocalRuleError::InvalidArgument(format!(
                "the read-out needs >= 1 feature and >= 2 classes (got {hidden}, {classes})"
            )));
        }
        let ok = |v: f64, min: f64| v.is_finite() && v >= min;
        if !(ok(beta, 0.0) && beta > 0.0 && ok(m, 2.0) && ok(lr, 0.0) && lr > 0.0) {
            return Err(LocalRuleError::InvalidArgument(format!(
                "the read-out needs finite beta > 0, m >= 2 and lr > 0 (got {beta}, {m}, {lr})"
            )));
        }
        let s = Var::zeros((hidden, classes), DType::F32, device)?;
        let opt = AdamW::new(
            vec![s.clone()],
            ParamsAdamW {
                lr,
                weight_decay: 0.0,
                ..Default::default()
            },
        )?;
        Ok(PowerReadout {
            s,
            opt,
            beta,
            m,
            classes,
        })
    }

    /// `S` `[hidden, classes]`.
    pub fn weights(&self) -> &Tensor {
        self.s.as_tensor()
    }

    /// The outputs `c = tanh(β·h·S)` `[batch, classes]` of features `h` `[batch, hidden]`.
    pub fn outputs(&self, h: &Tensor) -> Result<Tensor> {
        check_batch("read-out features", h, self.s.dims()[0])?;
        Ok((h.matmul(self.s.as_tensor())? * self.beta)?.tanh()?)
    }

    /// The loss (mean over the batch of `Σ_α |c_α − t_α|^m`) of features `h` against labels
    /// `y` (`[batch]`, u32 below `classes`).
    pub fn loss(&self, h: &Tensor, y: &Tensor) -> Result<Tensor> {
        let c = self.outputs(h)?;
        let b = c.dims()[0];
        let labels: Vec<u32> = match y.dims() {
            [n] if *n == b => y.to_dtype(DType::U32)?.to_vec1()?,
            d => {
                return Err(LocalRuleError::Shape {
                    what: "labels".into(),
                    expected: format!("[{b}]"),
                    got: d.to_vec(),
                })
            }
        };
        let mut t = vec![-1f32; b * self.classes];
        for (i, &l) in labels.iter().enumerate() {
            if l as usize >= self.classes {
                return Err(LocalRuleError::InvalidArgument(format!(
                    "label {l} at position {i} is not a class index (classes: {})",
                    self.classes
                )));
            }
            t[i * self.classes + l as usize] = 1.0;
        }
        let t = Tensor::from_vec(t, (b, self.classes), h.device())?;
        Ok(((c - t)?.abs()?.powf(self.m)?.sum_all()? / b as f64)?)
    }

    /// One Adam step on the minibatch; returns its loss before the step.
    pub fn step(&mut self, h: &Tensor, y: &Tensor) -> Result<f32> {
        let loss = self.loss(h, y)?;
        self.opt.backward_step(&loss)?;
        Ok(loss.to_scalar::<f32>()?)
    }
}
