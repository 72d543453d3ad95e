//! Forward hooks described as data, so that replica training applies the hooks of all K
//! replicas with a few batched operations instead of K separate ones.
//!
//! The built-in regularisers' training-mode hooks are all of three kinds: multiply by factors
//! drawn on the host (dropout masks, neural noise), scale whole units (excitability), and
//! rescale units whose L1 norm over the minibatch is too large (dropout's max-norm). A
//! regulariser that returns `true` from [`crate::Regularizer::plans_hooks`] describes each hook
//! as a list of [`HookStep`]s; [`crate::ReplicaCnn::forward`] then uploads the factors of all
//! replicas at once and applies each step to the `[K, batch, width]` activations in one
//! operation, which on a GPU replaces thousands of small kernel launches per step with a few.
use candle_core::{Device, Tensor};

use crate::error::{ModelError, Result};

/// Added to the norms before dividing (as `torch.renorm`).
pub const RENORM_EPS: f64 = 1e-7;

/// One step of a training-mode forward hook on activations of shape `[batch, width]`.
#[derive(Debug, Clone, PartialEq)]
pub enum HookStep {
    /// Multiply elementwise by these `batch · width` factors (row-major).
    Multiply(Vec<f32>),
    /// Multiply every row by these `width` per-unit factors.
    ScaleUnits(Vec<f32>),
    /// Rescale every unit (column) whose L1 norm over the batch exceeds this bound to the bound
    /// (`torch.renorm(x, p=1, dim=1, maxnorm)`, see [`renorm_l1`]).
    RenormL1(f64),
}

impl HookStep {
    /// Whether two steps can run as one batched operation (same kind; same bound).
    fn same_kind(&self, other: &HookStep) -> bool {
        match (self, other) {
            (HookStep::Multiply(_), HookStep::Multiply(_)) => true,
            (HookStep::ScaleUnits(_), HookStep::ScaleUnits(_)) => true,
            (HookStep::RenormL1(a), HookStep::RenormL1(b)) => a == b,
            _ => false,
        }
    }
}

/// `torch.renorm(x, p=1, dim, maxnorm)` over the rows of `dim`: every slice along the other
/// axes whose L1 norm over `dim` exceeds `max_norm` is scaled by `max_norm / (norm + 1e-7)`;
/// the others are left as they are. For `[batch, width]` activations, `dim = 0` renormalises
/// each unit over the minibatch; for `[K, batch, width]`, `dim = 1` does so per replica.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let x = Tensor::new(&[[1f32, 4.], [1., -4.]], &Device::Cpu)?;
/// let y = neurogen_model::hookplan::renorm_l1(&x, 0, 3.0)?;
/// // Column 0 has norm 2 (kept), column 1 norm 8 (scaled to 3).
/// let v = y.to_vec2::<f32>()?;
/// assert_eq!(v[0][0], 1.0);
/// assert!((v[0][1] - 1.5).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn renorm_l1(x: &Tensor, dim: usize, max_norm: f64) -> candle_core::Result<Tensor> {
    let norms = x.abs()?.sum_keepdim(dim)?;
    let over = norms.gt(max_norm)?;
    let factor = ((norms + RENORM_EPS)?.recip()? * max_norm)?;
    let scale = over.where_cond(&factor, &factor.ones_like()?)?;
    x.broadcast_mul(&scale)
}

/// Applies one replica's steps to its `[batch, width]` activations.
pub(crate) fn apply_one(x: &Tensor, steps: &[HookStep]) -> Result<Tensor> {
    let (b, w) = x.dims2()?;
    let mut x = x.clone();
    for s in steps {
        x = match s {
            HookStep::Multiply(f) => {
                check_len("Multiply", f.len(), b * w)?;
                let f = upload(f.clone(), (b, w), &x)?;
                (x * f)?
            }
            HookStep::ScaleUnits(f) => {
                check_len("ScaleUnits", f.len(), w)?;
                let f = upload(f.clone(), (1, w), &x)?;
                x.broadcast_mul(&f)?
            }
            HookStep::RenormL1(c) => renorm_l1(&x, 0, *c)?,
        };
    }
    Ok(x)
}

/// Applies replica `r`'s steps `plans[r]` to the `[K, batch, width]` activations: one
/// operation per step for all replicas when every replica's steps are of the same kinds (the
/// usual case: replicas of one experimental group), else replica by replica.
pub(crate) fn apply_all(x: &Tensor, plans: &[Vec<HookStep>]) -> Result<Tensor> {
    let (k, b, w) = x.dims3()?;
    if plans.len() != k {
        return Err(ModelError::Config(format!(
            "{} hook plans for {k} replicas",
            plans.len()
        )));
    }
    if plans.iter().all(|p| p.is_empty()) {
        return Ok(x.clone());
    }
    let first = &plans[0];
    let uniform = plans
        .iter()
        .all(|p| p.len() == first.len() && p.iter().zip(first).all(|(a, b)| a.same_kind(b)));
    if !uniform {
        let outs = plans
            .iter()
            .enumerate()
            .map(|(r, p)| apply_one(&x.get(r)?, p))
            .collect::<Result<Vec<_>>>()?;
        return Ok(Tensor::stack(&outs, 0)?);
    }
    let mut x = x.clone();
    for (i, step) in first.iter().enumerate() {
        x = match step {
            HookStep::Multiply(_) => {
                let mut all = Vec::with_capacity(k * b * w);
                for p in plans {
                    let HookStep::Multiply(f) = &p[i] else {
                        return Err(mixed());
                    };
                    check_len("Multiply", f.len(), b * w)?;
                    all.extend_from_slice(f);
                }
                let f = upload(all, (k, b, w), &x)?;
                (x * f)?
            }
            HookStep::ScaleUnits(_) => {
                let mut all = Vec::with_capacity(k * w);
                for p in plans {
                    let HookStep::ScaleUnits(f) = &p[i] else {
                        return Err(mixed());
                    };
                    check_len("ScaleUnits", f.len(), w)?;
                    all.extend_from_slice(f);
                }
                let f = upload(all, (k, 1, w), &x)?;
                x.broadcast_mul(&f)?
            }
            HookStep::RenormL1(c) => renorm_l1(&x, 1, *c)?,
        };
    }
    Ok(x)
}

fn mixed() -> ModelError {
    ModelError::Config("hook plans of different kinds in one batched step".into())
}

fn check_len(what: &str, got: usize, want: usize) -> Result<()> {
    if got != want {
        return Err(ModelError::Config(format!(
            "hook step {what} has {got} factors for activations that need {want}"
        )));
    }
    Ok(())
}

/// Factors as a tensor of `like`'s dtype and device (one upload).
fn upload<S: Into<candle_core::Shape>>(v: Vec<f32>, shape: S, like: &Tensor) -> Result<Tensor> {
    Ok(Tensor::from_vec(v, shape, &Device::Cpu)?
        .to_dtype(like.dtype())?
        .to_device(like.device())?)
}
