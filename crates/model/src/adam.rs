//! Adam with PyTorch's semantics (`torch.optim.Adam`, `amsgrad=False`) for K replicas, with
//! per-parameter, per-replica state that regularisers can read and reset.
//!
//! For each parameter `p` of replica `r` with gradient `g`, at its own step count `t`
//! (starting at 1):
//! ```text
//! g = g + weight_decay · p                  (L2 penalty, PyTorch's `weight_decay`)
//! m = β1 · m + (1 − β1) · g
//! v = β2 · v + (1 − β2) · g²
//! p = p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + ε)
//! ```
//! Unlike `candle_nn::AdamW`, the default weight decay is 0, the decay is L2 (added to the
//! gradient, not decoupled), and the moments are public so that neurogenesis can reset exactly
//! the rows and columns of new units. Parameters without a gradient are skipped, as in PyTorch.
//! Moments are stacked like the parameters (`[K, ...]`), step counts and frozen parameters
//! are kept per replica; when every replica is at the same step (the usual case) one fused
//! update serves all of them, so replica `r` is updated exactly as a network of its own.
//!
//! # Subnormal moments
//! One departure from PyTorch: a moment that falls below the smallest normal number of its
//! dtype (`f32::MIN_POSITIVE`, 1.18e-38, for f32) is stored as zero. A parameter whose
//! gradient is exactly zero for a long time (the weights of a dead ReLU unit) has moments that
//! decay geometrically (`m` by β1, `v` by β2 each step) and, without this rule, spend ~140
//! (`m`) and ~16,000 (`v`) steps as subnormal numbers, which x86 CPUs without flush-to-zero
//! compute in microcode: measured on a 2-core Intel Xeon, an Adam pass with 10 % subnormal
//! moments took ~10x as long, and whole training runs 2–3x as long (docs/performance.md). The
//! rule changes no parameter in practice: a flushed `m` is below 1.18e-38, so its share of an
//! update is below 1.18e-38 / ε · lr / (1 − β1) ≈ 2.4e-33 (lost in the rounding of any
//! parameter larger than ~1e-25), and a flushed `v` moves `sqrt(v) / sqrt(1 − β2^t)` by at
//! most 3.5e-18, far below half an ulp of ε (4.4e-16), so the denominator rounds the same
//! except in rare near-ties (a full training run at the paper's data size came out bit for bit
//! the same, docs/performance.md). The fused CPU kernel, the CUDA
//! kernel and the tensor form here all apply it, so they stay bit-identical to each other.
use std::collections::{BTreeMap, BTreeSet};

use candle_core::backprop::GradStore;
use candle_core::{DType, IndexOp, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::kernels::{self, AdamCoefficients};

/// Adam's settings. `Default` is the paper's: lr 2e-4, betas (0.9, 0.999), eps 1e-8, no decay.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to the denominator for stability.
    pub eps: f64,
    /// L2 penalty added to the gradient (PyTorch's `weight_decay`).
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 2e-4,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

impl AdamConfig {
    /// Checks the ranges PyTorch checks, naming the value that is out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ModelError::Config(m));
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!(
                "learning rate must be a finite number > 0, got {}",
                self.lr
            ));
        }
        for (n, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return bad(format!("{n} must be in [0, 1), got {b}"));
            }
        }
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return bad(format!("eps must be >= 0, got {}", self.eps));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(format!(
                "weight_decay must be >= 0, got {}",
                self.weight_decay
            ));
        }
        Ok(())
    }

    /// The fused kernel's scalars for update number `step` (from 1).
    pub fn coefficients(&self, step: u64) -> AdamCoefficients {
        AdamCoefficients::new(
            self.lr,
            self.beta1,
            self.beta2,
            self.eps,
            self.weight_decay,
            step,
        )
    }
}

/// One replica's state of one parameter (PyTorch's `exp_avg`, `exp_avg_sq`, `step`).
#[derive(Debug, Clone)]
pub struct ParamState {
    /// First moment (the parameter's shape).
    pub m: Tensor,
    /// Second moment (the parameter's shape).
    pub v: Tensor,
    /// Number of updates applied to this parameter.
    pub step: u64,
}

/// The state of one parameter for all replicas.
#[derive(Debug, Clone)]
pub(crate) struct StackedState {
    /// `[K, ...]`.
    pub(crate) m: Tensor,
    /// `[K, ...]`.
    pub(crate) v: Tensor,
    /// Per replica.
    pub(crate) steps: Vec<u64>,
}

/// The optimiser of a model of K replicas.
#[derive(Debug, Clone)]
pub struct Adam {
    config: AdamConfig,
    replicas: usize,
    state: BTreeMap<String, StackedState>,
    frozen: Vec<BTreeSet<String>>,
}

impl Adam {
    /// An optimiser for `replicas` replicas with empty state (state is created on a
    /// parameter's first update).
    pub fn new(config: AdamConfig, replicas: usize) -> Result<Self> {
        config.validate()?;
        if replicas == 0 {
            return Err(ModelError::Config(
                "an optimiser needs at least one replica".into(),
            ));
        }
        Ok(Adam {
            config,
            replicas,
            state: BTreeMap::new(),
            frozen: vec![BTreeSet::new(); replicas],
        })
    }

    /// The settings (shared by every replica).
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// Changes the learning rate.
    pub fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    /// Number of replicas.
    pub fn replicas(&self) -> usize {
        self.replicas
    }

    /// Replica `r`'s state of parameter `name` (a copy), if it has been updated at least once.
    pub fn state(&self, name: &str, r: usize) -> Result<Option<ParamState>> {
        self.check_replica(r)?;
        self.state
            .get(name)
            .map(|st| {
                Ok(ParamState {
                    m: st.m.i(r)?,
                    v: st.v.i(r)?,
                    step: st.steps[r],
                })
            })
            .transpose()
    }

    /// Replaces (or creates) replica `r`'s state of parameter `name`; the shapes must be those
    /// of the other replicas' state (use a [`crate::StepCx`] to grow a layer).
    pub fn set_state(&mut self, name: &str, r: usize, state: ParamState) -> Result<()> {
        self.check_replica(r)?;
        let mut ms: Vec<Option<Tensor>> = vec![None; self.replicas];
        let mut vs = ms.clone();
        let mut steps: Vec<Option<u64>> = vec![None; self.replicas];
        ms[r] = Some(state.m);
        vs[r] = Some(state.v);
        steps[r] = Some(state.step);
        self.replace_state(name, ms, vs, steps)
    }

    /// Sets the state of parameter `name` replica by replica: `Some` values replace that
    /// replica's moments or step, `None` keeps them (zeros for a replica without state yet).
    /// Every replica's moments end with the same shape.
    pub(crate) fn replace_state(
        &mut self,
        name: &str,
        ms: Vec<Option<Tensor>>,
        vs: Vec<Option<Tensor>>,
        steps: Vec<Option<u64>>,
    ) -> Result<()> {
        let template = ms
            .iter()
            .flatten()
            .next()
            .cloned()
            .ok_or_else(|| ModelError::Config(format!("no state given for {name}")))?;
        let old = self.state.get(name);
        let pick = |new: &[Option<Tensor>], r: usize, old_t: Option<&Tensor>| -> Result<Tensor> {
            match (&new[r], old_t) {
                (Some(t), _) => Ok(t.clone()),
                (None, Some(o)) => Ok(o.i(r)?),
                (None, None) => Ok(template.zeros_like()?),
            }
        };
        let mut m = Vec::with_capacity(self.replicas);
        let mut v = Vec::with_capacity(self.replicas);
        let mut st = Vec::with_capacity(self.replicas);
        for (r, step) in steps.iter().enumerate().take(self.replicas) {
            m.push(pick(&ms, r, old.map(|o| &o.m))?);
            v.push(pick(&vs, r, old.map(|o| &o.v))?);
            st.push(step.unwrap_or_else(|| old.map_or(0, |o| o.steps[r])));
        }
        for (r, t) in m.iter().chain(&v).enumerate() {
            if t.shape() != template.shape() {
                return Err(ModelError::Config(format!(
                    "optimiser state for {name}: replica {} has shape {:?}, another {:?}; replicas must keep one shape",
                    r % self.replicas,
                    t.dims(),
                    template.dims()
                )));
            }
        }
        let stack = |ts: &[Tensor]| -> Result<Tensor> {
            Ok(if ts.len() == 1 {
                ts[0].unsqueeze(0)?
            } else {
                Tensor::stack(ts, 0)?
            })
        };
        let new = StackedState {
            m: stack(&m)?,
            v: stack(&v)?,
            steps: st,
        };
        self.state.insert(name.to_string(), new);
        Ok(())
    }

    /// Names of the parameters that have state, sorted.
    pub fn state_names(&self) -> Vec<String> {
        self.state.keys().cloned().collect()
    }

    /// Stops (true) or resumes (false) updating parameter `name` of replica `r`. A frozen
    /// parameter keeps its value and state; this reproduces optimisers that lost track of a
    /// parameter.
    pub fn set_frozen(&mut self, name: &str, r: usize, frozen: bool) -> Result<()> {
        self.check_replica(r)?;
        if frozen {
            self.frozen[r].insert(name.to_string());
        } else {
            self.frozen[r].remove(name);
        }
        Ok(())
    }

    /// Whether parameter `name` of replica `r` is frozen.
    pub fn is_frozen(&self, name: &str, r: usize) -> bool {
        self.frozen.get(r).is_some_and(|f| f.contains(name))
    }

    fn check_replica(&self, r: usize) -> Result<()> {
        if r >= self.replicas {
            return Err(ModelError::Config(format!(
                "replica {r} does not exist (the optimiser has {})",
                self.replicas
            )));
        }
        Ok(())
    }

    /// One update of every parameter in `params` (stacked `[K, ...]`, as
    /// [`crate::Cnn::named_params`] lists them) that has a gradient in `grads`, for the
    /// replicas where `live[r]` is true (the others keep their parameters and state).
    pub fn step<'a>(
        &mut self,
        params: impl IntoIterator<Item = (&'a str, &'a Var)>,
        grads: &GradStore,
        live: &[bool],
    ) -> Result<()> {
        let c = self.config;
        for (name, var) in params {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let active: Vec<bool> = (0..self.replicas)
                .map(|r| live.get(r).copied().unwrap_or(false) && !self.frozen[r].contains(name))
                .collect();
            if !active.iter().any(|&a| a) {
                continue;
            }
            let p = var.as_detached_tensor();
            let st = match self.state.get_mut(name) {
                Some(st) => {
                    if st.m.shape() != p.shape() || st.v.shape() != p.shape() {
                        return Err(ModelError::Config(format!(
                            "optimiser state for {name} has shape {:?} but the parameter has {:?}; resize the state when a layer grows",
                            st.m.dims(),
                            p.dims()
                        )));
                    }
                    st
                }
                None => self.state.entry(name.to_string()).or_insert(StackedState {
                    m: p.zeros_like()?,
                    v: p.zeros_like()?,
                    steps: vec![0; self.replicas],
                }),
            };
            for (r, a) in active.iter().enumerate() {
                if *a {
                    st.steps[r] += 1;
                }
            }
            let uniform = active.iter().all(|&a| a) && st.steps.iter().all(|&s| s == st.steps[0]);
            if uniform {
                // The fused kernel applies the L2 penalty itself: it takes the raw gradient.
                let coef = c.coefficients(st.steps[0]);
                if let Some((m, v)) = kernels::adam_update(var.as_tensor(), g, &st.m, &st.v, &coef)?
                {
                    st.m = m;
                    st.v = v;
                    continue;
                }
                let (np, m, v) = adam_tensor_update(&p, g, &st.m, &st.v, &c, st.steps[0])?;
                var.set(&np)?;
                st.m = m;
                st.v = v;
                continue;
            }
            // Replicas at different steps (or some skipped): one update per replica.
            let (mut ps, mut ms, mut vs) = (Vec::new(), Vec::new(), Vec::new());
            for (r, a) in active.iter().enumerate() {
                let (pr, mr, vr) = (p.i(r)?, st.m.i(r)?, st.v.i(r)?);
                if *a {
                    let (np, m, v) = adam_tensor_update(&pr, &g.i(r)?, &mr, &vr, &c, st.steps[r])?;
                    ps.push(np);
                    ms.push(m);
                    vs.push(v);
                } else {
                    ps.push(pr);
                    ms.push(mr);
                    vs.push(vr);
                }
            }
            var.set(&Tensor::stack(&ps, 0)?)?;
            st.m = Tensor::stack(&ms, 0)?;
            st.v = Tensor::stack(&vs, 0)?;
        }
        Ok(())
    }
}

/// One Adam update of parameter `p` from its raw gradient `g` (the L2 penalty is added here)
/// and moments `m`, `v` at update number `step` (from 1), with tensor ops on any device:
/// returns the new parameter and moments.
pub(crate) fn adam_tensor_update(
    p: &Tensor,
    g: &Tensor,
    m: &Tensor,
    v: &Tensor,
    c: &AdamConfig,
    step: u64,
) -> Result<(Tensor, Tensor, Tensor)> {
    let g = if c.weight_decay != 0.0 {
        (g + (p * c.weight_decay)?)?
    } else {
        g.clone()
    };
    let m = flush_subnormal(&((m * c.beta1)? + (&g * (1.0 - c.beta1))?)?)?;
    let v = flush_subnormal(&((v * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?)?;
    let t = step.min(i32::MAX as u64) as i32;
    let bc1 = 1.0 - c.beta1.powi(t);
    let bc2_sqrt = (1.0 - c.beta2.powi(t)).sqrt();
    let denom = ((v.sqrt()? / bc2_sqrt)? + c.eps)?;
    let update = ((&m / &denom)? * (c.lr / bc1))?;
    Ok(((p - update)?, m, v))
}

/// `t` with every subnormal element (nonzero, below the dtype's smallest normal number in
/// magnitude) set to zero; NaN and infinities are kept. The tensor form of
/// `kernels::adam::flush_subnormal` (see "Subnormal moments" in the module documentation).
fn flush_subnormal(t: &Tensor) -> Result<Tensor> {
    let smallest_normal = match t.dtype() {
        // bf16 has f32's exponent range, so the same smallest normal, 2^-126.
        DType::F32 | DType::BF16 => f64::from(f32::MIN_POSITIVE),
        DType::F64 => f64::MIN_POSITIVE,
        // 2^-14, f16's smallest normal.
        DType::F16 => 6.103515625e-5,
        _ => return Ok(t.clone()),
    };
    let tiny = t.abs()?.lt(smallest_normal)?;
    Ok(tiny.where_cond(&t.zeros_like()?, t)?)
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

    /// The IEEE rule without the flush, in f32 in the kernel's order: `(p, m, v)` after one step.
    fn unflushed(c: &AdamCoefficients, p: f32, g: f32, m: f32, v: f32) -> (f32, f32, f32) {
        let m = m * c.beta1 + g * c.one_minus_beta1;
        let v = v * c.beta2 + (g * g) * c.one_minus_beta2;
        let denom = v.sqrt() * c.inv_bias_correction2_sqrt + c.eps;
        (p - (m / denom) * c.step_size, m, v)
    }

    /// Moments that decay into (or start in) the subnormal range are stored as zero by the
    /// fused kernel and by the tensor form alike; every parameter, and every moment that stays
    /// normal, equals the IEEE rule without the flush bit for bit (parameters of magnitude
    /// 0.01 and above, as trained weights are); NaN is kept.
    #[test]
    fn subnormal_moments_are_flushed_and_parameters_are_unchanged() {
        let tiny = f32::MIN_POSITIVE;
        // (p, g, m, v): dead units (g = 0) whose moments cross below 2^-126 this step, start
        // there, or stay above it; live units; a NaN gradient.
        let mut cases: Vec<(f32, f32, f32, f32)> = vec![
            (0.03, 0.0, 1.05 * tiny, 1.0005 * tiny),
            (-0.2, 0.0, -1.01 * tiny, 1e-40),
            (0.5, 0.0, 1e-41, 3e-39),
            (1e-3, 0.0, 2.0 * tiny, 2.0 * tiny),
            (0.07, 1e-3, 1e-40, 1e-40),
            (0.01, -2e-2, 1e-4, 1e-7),
            (-0.4, 0.0, 0.0, 0.0),
            (0.1, f32::NAN, 1e-4, 1e-7),
        ];
        // Enough elements that the kernel also runs its parallel chunks.
        for i in 0..70_000 {
            let s = i as f32 / 70_000.0;
            cases.push((
                if i % 2 == 0 { 0.05 + s } else { -0.05 - s },
                if i % 3 == 0 { 0.0 } else { 1e-3 * s },
                tiny * (0.5 + s),
                tiny * (2.0 * s),
            ));
        }
        let n = cases.len();
        let col =
            |k: usize| -> Vec<f32> { cases.iter().map(|c| [c.0, c.1, c.2, c.3][k]).collect() };
        let dev = Device::Cpu;
        let t = |k: usize| Tensor::from_vec(col(k), n, &dev).unwrap();
        let cfg = AdamConfig::default();
        let step = 3;
        let c = cfg.coefficients(step);

        let var = Var::from_tensor(&t(0)).unwrap();
        let (km, kv) = kernels::adam_update(var.as_tensor(), &t(1), &t(2), &t(3), &c)
            .unwrap()
            .expect("the kernel applies to contiguous f32 CPU tensors");
        let (tp, tm, tv) = adam_tensor_update(&t(0), &t(1), &t(2), &t(3), &cfg, step).unwrap();

        let bits = |t: &Tensor| -> Vec<u32> {
            t.to_vec1::<f32>()
                .unwrap()
                .iter()
                .map(|x| x.to_bits())
                .collect()
        };
        let (kp, km, kv) = (bits(var.as_tensor()), bits(&km), bits(&kv));
        assert_eq!(kp, bits(&tp), "kernel and tensor form: parameters");
        assert_eq!(km, bits(&tm), "kernel and tensor form: first moments");
        assert_eq!(kv, bits(&tv), "kernel and tensor form: second moments");
        let mut flushed = 0;
        for (i, &(p, g, m, v)) in cases.iter().enumerate() {
            let (ep, em, ev) = unflushed(&c, p, g, m, v);
            let got = (
                f32::from_bits(kp[i]),
                f32::from_bits(km[i]),
                f32::from_bits(kv[i]),
            );
            if g.is_nan() {
                assert!(
                    got.0.is_nan() && got.1.is_nan() && got.2.is_nan(),
                    "case {i}: NaN kept"
                );
                continue;
            }
            assert_eq!(got.0.to_bits(), ep.to_bits(), "case {i}: parameter");
            for (what, e, x) in [("m", em, got.1), ("v", ev, got.2)] {
                if e != 0.0 && e.abs() < tiny {
                    assert_eq!(
                        x.to_bits(),
                        0,
                        "case {i}: subnormal {what} {e:e} stored as +0"
                    );
                    flushed += 1;
                } else {
                    assert_eq!(x.to_bits(), e.to_bits(), "case {i}: normal {what}");
                }
            }
        }
        assert!(
            flushed > 20_000,
            "the cases exercise the flush ({flushed} moments)"
        );
        // The first case: both moments cross below 2^-126 during this very step.
        assert_eq!((km[0], kv[0]), (0, 0));
    }
}
