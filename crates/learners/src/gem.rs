//! Gradient episodic memory as a baseline: the single-constraint variant A-GEM (Chaudhry et al.,
//! "Efficient lifelong learning with A-GEM", ICLR 2019) of GEM (Lopez-Paz & Ranzato, "Gradient
//! episodic memory for continual learning", NeurIPS 2017).
//!
//! GEM keeps an episodic memory of examples of every past task and, at each step, projects the
//! gradient so that the loss on no past task's memory increases (one inequality per task,
//! solved as a quadratic program). A-GEM keeps one constraint: the loss on the memory as a
//! whole. With `g` the minibatch gradient and `g_ref` the gradient on a sample of the memory:
//!
//! ```text
//! g̃ = g − (gᵀ g_ref / g_refᵀ g_ref) g_ref   if gᵀ g_ref < 0,   else g̃ = g
//! ```
//!
//! ([`agem_project`]). This module implements A-GEM, not the quadratic program of GEM. The
//! network is the workspace's MLP (`neurogen_model::Cnn` with `ModelConfig::mlp`, PyTorch's
//! initialisation), trained by the workspace's one training loop (`neurogen_model::Trainer`),
//! so the projected gradient goes to the same Adam as the vanilla and EWC baselines (the papers
//! use plain SGD). The projection is a plugin of that loop, [`AGemProjection`]: a
//! [`Regularizer`] whose `Phase::AfterBackward` hook replaces the minibatch's gradient with its
//! projection, as Avalanche's A-GEM plugin does in `after_backward`. The memory holds each
//! finished task's first [`GemConfig::memory_per_task`] training examples (in training order);
//! each step draws [`GemConfig::memory_batch`] of them (seeded) for `g_ref`, computed before the
//! step on the current weights.
use candle_core::{backprop::GradStore, DType, Device, Tensor};
use neurogen_model::{
    cross_entropy, Adam, AdamConfig, Cnn, ForwardCtx, ModelConfig, ModelError, NoHooks, Phase,
    Regularizer, StepCtx, StepCx, Trainer,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{config, LearnerError, Result};
use crate::learner::{host_batch, host_inputs, Learner, TaskSample};

/// The A-GEM projection of `g` against the reference gradient `g_ref` (in place): when they
/// conflict (`gᵀ g_ref < 0`), `g` loses its component along `g_ref`, so the projected step
/// does not increase the memory's loss to first order. Returns whether `g` was projected. A
/// zero `g_ref` never projects. Dot products are accumulated in f64.
///
/// ```
/// let mut g = vec![1.0, -1.0];
/// assert!(neurogen_learners::gem::agem_project(&mut g, &[0.0, 1.0]));
/// assert_eq!(g, vec![1.0, 0.0]); // the conflicting component is removed
/// let mut h = vec![1.0, 1.0];
/// assert!(!neurogen_learners::gem::agem_project(&mut h, &[0.0, 1.0]));
/// assert_eq!(h, vec![1.0, 1.0]); // no conflict: unchanged
/// ```
///
/// # Panics
/// If the two slices differ in length.
pub fn agem_project(g: &mut [f32], g_ref: &[f32]) -> bool {
    assert_eq!(g.len(), g_ref.len(), "gradients of different sizes");
    let dot: f64 = g
        .iter()
        .zip(g_ref)
        .map(|(&a, &b)| a as f64 * b as f64)
        .sum();
    let norm: f64 = g_ref.iter().map(|&b| b as f64 * b as f64).sum();
    if dot >= 0.0 || norm == 0.0 {
        return false;
    }
    let c = dot / norm;
    for (a, &b) in g.iter_mut().zip(g_ref) {
        *a = (*a as f64 - c * b as f64) as f32;
    }
    true
}

/// A-GEM's projection as a step hook of the one training loop: in `Phase::AfterBackward` it
/// reads every gradient of its replica (in [`StepCx::param_names`] order, a missing gradient as
/// zeros), projects it against the reference gradient given for this step
/// ([`AGemProjection::set_reference`], [`agem_project`]) and, when they conflict, replaces the
/// gradients with the projection, so Adam steps along it. Without a reference (no memory yet)
/// the gradients pass unchanged.
///
/// ```
/// use candle_core::Device;
/// use neurogen_learners::AGemProjection;
/// use neurogen_model::{Cnn, ModelConfig, Trainer, AdamConfig, StepCtx};
/// let mut net = Cnn::new(&ModelConfig::mlp(2, &[4], 2), 0, &Device::Cpu)?;
/// let n: usize = net.named_params().iter().map(|(_, v)| v.elem_count()).sum();
/// let mut proj = [AGemProjection::default()];
/// // A reference gradient along which the step must not increase the loss.
/// proj[0].set_reference(Some(vec![1.0; n]));
/// let mut trainer = Trainer::new(&mut net, AdamConfig::default(), &mut proj)?;
/// let x = candle_core::Tensor::new(&[[1f32, 0.], [0., 1.]], &Device::Cpu)?.reshape((1, 2, 1, 1, 2))?;
/// let y = candle_core::Tensor::new(&[[0u32, 1]], &Device::Cpu)?;
/// let ctx = StepCtx { epoch: 0, batch: 0, step: 0, batches_per_epoch: 1 };
/// trainer.step(&x, &y, ctx)?;
/// drop(trainer);
/// let _was_projected: bool = proj[0].projected();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct AGemProjection {
    reference: Option<Vec<f32>>,
    projected: bool,
}

impl AGemProjection {
    /// The reference gradient `g_ref` for the next step (every parameter's gradient,
    /// concatenated in [`StepCx::param_names`] order), or `None` for a plain step. It is used
    /// once: the step after that is plain unless a new one is given.
    pub fn set_reference(&mut self, reference: Option<Vec<f32>>) {
        self.reference = reference;
    }

    /// Whether the last step's gradient was projected.
    pub fn projected(&self) -> bool {
        self.projected
    }
}

impl Regularizer for AGemProjection {
    fn name(&self) -> String {
        "a-gem".into()
    }

    fn on_step(&mut self, phase: Phase, cx: &mut StepCx) -> neurogen_model::Result<()> {
        if phase != Phase::AfterBackward {
            return Ok(());
        }
        self.projected = false;
        let Some(reference) = self.reference.take() else {
            return Ok(());
        };
        let names = cx.param_names();
        let mut g = Vec::with_capacity(reference.len());
        for name in &names {
            match cx.grad(name)? {
                Some(t) => g.extend(t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?),
                None => g.extend(std::iter::repeat_n(0f32, cx.param(name)?.elem_count())),
            }
        }
        if g.len() != reference.len() {
            return Err(ModelError::Config(format!(
                "A-GEM: the reference gradient has {} values, the network's gradient {}",
                reference.len(),
                g.len()
            )));
        }
        if agem_project(&mut g, &reference) {
            self.projected = true;
            let mut at = 0;
            for name in &names {
                let p = cx.param(name)?;
                let k = p.elem_count();
                let t = Tensor::from_vec(g[at..at + k].to_vec(), p.shape(), &Device::Cpu)?;
                cx.set_grad(name, &t)?;
                at += k;
            }
        }
        Ok(())
    }
}

/// Settings of an [`AGem`] learner.
#[derive(Debug, Clone, PartialEq)]
pub struct GemConfig {
    /// Input size.
    pub inputs: usize,
    /// Hidden layer widths of the MLP.
    pub hidden: Vec<usize>,
    /// Number of classes.
    pub classes: usize,
    /// Adam settings.
    pub adam: AdamConfig,
    /// Seed of the initial weights and of the memory samples.
    pub seed: u64,
    /// Examples of each task kept in the episodic memory (its first, in training order).
    pub memory_per_task: usize,
    /// Memory examples drawn (with replacement) for each step's reference gradient.
    pub memory_batch: usize,
}

impl GemConfig {
    /// An MLP of `hidden` widths with Adam (lr 1e-3), 256 memory examples per task, reference
    /// batches of 256 (A-GEM's defaults), seed 0.
    pub fn new(inputs: usize, hidden: &[usize], classes: usize) -> Self {
        GemConfig {
            inputs,
            hidden: hidden.to_vec(),
            classes,
            adam: AdamConfig {
                lr: 1e-3,
                ..AdamConfig::default()
            },
            seed: 0,
            memory_per_task: 256,
            memory_batch: 256,
        }
    }
}

/// An MLP trained with A-GEM's projected gradients (see the module documentation).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use neurogen_learners::gem::{AGem, GemConfig};
/// use neurogen_learners::Learner;
/// let mut l = AGem::new(GemConfig { memory_per_task: 2, memory_batch: 2, ..GemConfig::new(2, &[8], 4) })?;
/// let x = Tensor::new(&[[1f32, 0.], [0., 1.]], &Device::Cpu)?;
/// l.begin_task(0, &[0, 1])?;
/// l.learn(&x, &Tensor::new(&[0u32, 1], &Device::Cpu)?)?;
/// l.end_task(0)?;
/// assert_eq!(l.memory_len(), 2);
/// # Ok::<(), neurogen_learners::LearnerError>(())
/// ```
pub struct AGem {
    config: GemConfig,
    net: Cnn,
    /// The optimiser between steps (taken by each step's [`Trainer`]).
    opt: Option<Adam>,
    /// The projection, the training loop's `Phase::AfterBackward` plugin.
    projection: AGemProjection,
    rng: ChaCha8Rng,
    /// The finished tasks' examples.
    memory: TaskSample,
    /// The current task's first `memory_per_task` examples.
    task: TaskSample,
    steps: usize,
    projected: usize,
}

impl AGem {
    /// A fresh MLP of `config` (weights from `config.seed`) with an empty memory.
    pub fn new(config: GemConfig) -> Result<Self> {
        if config.inputs == 0 || config.classes < 2 {
            return crate::error::config(format!(
                "A-GEM needs at least one input and two classes, got {} and {}",
                config.inputs, config.classes
            ));
        }
        if config.memory_batch == 0 {
            return crate::error::config("A-GEM's reference batch must hold at least one example");
        }
        let mut net = Cnn::new(
            &ModelConfig::mlp(config.inputs, &config.hidden, config.classes),
            config.seed,
            &Device::Cpu,
        )?;
        let mut projection = [AGemProjection::default()];
        let opt = Trainer::new(&mut net, config.adam, &mut projection)?.into_optimizer();
        let [projection] = projection;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(7);
        Ok(AGem {
            config,
            net,
            opt: Some(opt),
            projection,
            rng,
            memory: TaskSample::default(),
            task: TaskSample::default(),
            steps: 0,
            projected: 0,
        })
    }

    /// Examples in the episodic memory (of the finished tasks).
    pub fn memory_len(&self) -> usize {
        self.memory.len()
    }

    /// Optimiser steps taken, and how many of them were projected.
    pub fn steps(&self) -> (usize, usize) {
        (self.steps, self.projected)
    }

    /// The network.
    pub fn net(&self) -> &Cnn {
        &self.net
    }

    /// The gradients of the mean cross-entropy on `(x, y)` (`x` row-major `[n, inputs]`): the
    /// reference gradient's.
    fn gradients(&self, x: &[f32], y: &[u32]) -> Result<GradStore> {
        let n = y.len();
        let xb = Tensor::from_vec(x.to_vec(), (1, n, 1, 1, self.config.inputs), &Device::Cpu)?;
        let yb = Tensor::from_vec(y.to_vec(), (1, n), &Device::Cpu)?;
        let out = self
            .net
            .forward(&xb, &mut NoHooks, &ForwardCtx::train(0, self.steps))?;
        let loss = cross_entropy(&out.logits, &yb)?.sum_all()?;
        let l = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        if !l.is_finite() {
            return config(format!("A-GEM step {}: the loss is {l}", self.steps));
        }
        Ok(loss.backward()?)
    }

    /// Every parameter's gradient in `grads`, concatenated in `named_params` order (a missing
    /// gradient counts as zeros).
    fn flatten(&self, grads: &GradStore) -> Result<Vec<f32>> {
        let mut v = Vec::new();
        for (_, var) in self.net.named_params() {
            match grads.get(var.as_tensor()) {
                Some(g) => v.extend(g.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?),
                None => v.extend(std::iter::repeat_n(0f32, var.as_tensor().elem_count())),
            }
        }
        Ok(v)
    }
}

impl Learner for AGem {
    fn name(&self) -> String {
        "a-gem".into()
    }

    fn classes(&self) -> usize {
        self.config.classes
    }

    fn learn(&mut self, x: &Tensor, y: &Tensor) -> Result<()> {
        let d = self.config.inputs;
        let (xs, ys) = host_batch(x, y, d, self.config.classes)?;
        let n = ys.len();
        if n == 0 {
            return Ok(());
        }
        self.task.offer(self.config.memory_per_task, d, &xs, &ys);
        // The memory's gradient on the weights the step starts from.
        let reference = if self.memory.len() > 0 {
            let m = self.memory.len();
            let mut rx = Vec::with_capacity(self.config.memory_batch * d);
            let mut ry = Vec::with_capacity(self.config.memory_batch);
            for _ in 0..self.config.memory_batch {
                let i = self.rng.random_range(0..m);
                rx.extend_from_slice(&self.memory.x[i * d..(i + 1) * d]);
                ry.push(self.memory.y[i]);
            }
            Some(self.flatten(&self.gradients(&rx, &ry)?)?)
        } else {
            None
        };
        self.projection.set_reference(reference);
        // One step of the one training loop; the projection is its AfterBackward hook.
        let xb = Tensor::from_vec(xs, (1, n, 1, 1, d), &Device::Cpu)?;
        let yb = Tensor::from_vec(ys, (1, n), &Device::Cpu)?;
        let opt = self.opt.take().ok_or_else(|| {
            LearnerError::Config("the optimiser was lost by an earlier error".into())
        })?;
        let mut regs = [&mut self.projection];
        let mut trainer = Trainer::resume(&mut self.net, opt, &mut regs)?;
        let ctx = StepCtx {
            epoch: 0,
            batch: self.steps,
            step: self.steps,
            batches_per_epoch: 0,
        };
        let stepped = trainer.step(&xb, &yb, ctx);
        let failure = trainer.failures()[0].as_ref().map(|e| e.to_string());
        self.opt = Some(trainer.into_optimizer());
        stepped?;
        if let Some(e) = failure {
            return config(format!("A-GEM step {}: {e}", self.steps));
        }
        if self.projection.projected() {
            self.projected += 1;
        }
        self.steps += 1;
        Ok(())
    }

    fn scores(&self, x: &Tensor) -> Result<Tensor> {
        let xs = host_inputs(x, self.config.inputs)?;
        let n = xs.len() / self.config.inputs;
        let xb = Tensor::from_vec(xs, (n, 1, 1, self.config.inputs), &Device::Cpu)?;
        let out = self.net.forward(&xb, &mut NoHooks, &ForwardCtx::eval())?;
        Ok(out.logits.squeeze(0)?)
    }

    fn begin_task(&mut self, _task: usize, _classes: &[usize]) -> Result<()> {
        self.task.clear();
        Ok(())
    }

    fn end_task(&mut self, _task: usize) -> Result<()> {
        let (x, y) = self.task.take();
        self.memory.x.extend(x);
        self.memory.y.extend(y);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_by_hand() {
        // g = (2, -1, 0), g_ref = (0, 1, 1): gᵀg_ref = -1, |g_ref|² = 2, so
        // g̃ = g + ½ g_ref = (2, -0.5, 0.5), orthogonal to g_ref.
        let mut g = vec![2.0, -1.0, 0.0];
        let r = [0.0, 1.0, 1.0];
        assert!(agem_project(&mut g, &r));
        assert_eq!(g, vec![2.0, -0.5, 0.5]);
        let dot: f32 = g.iter().zip(&r).map(|(a, b)| a * b).sum();
        assert_eq!(dot, 0.0);
        // Projecting again changes nothing (no conflict left), nor does a zero reference.
        assert!(!agem_project(&mut g, &r));
        assert!(!agem_project(&mut g, &[0.0; 3]));
        assert_eq!(g, vec![2.0, -0.5, 0.5]);
        // Exactly opposite: the step vanishes.
        let mut h = vec![-1.0, -2.0];
        assert!(agem_project(&mut h, &[2.0, 4.0]));
        assert_eq!(h, vec![0.0, 0.0]);
    }

    /// Two tasks in 4 dimensions: classes 0/1 along x0, classes 2/3 along x1.
    fn task(t: usize) -> (Tensor, Tensor) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..16 {
            let c = 2 * t + i % 2;
            let mut row = [0.1 * (i % 4) as f32; 4];
            row[2 * t + i % 2] += 1.0;
            x.extend(row);
            y.push(c as u32);
        }
        (
            Tensor::from_vec(x, (16, 4), &Device::Cpu).unwrap(),
            Tensor::from_vec(y, 16, &Device::Cpu).unwrap(),
        )
    }

    fn accuracy(l: &AGem, x: &Tensor, y: &Tensor) -> f64 {
        let p: Vec<u32> = l.scores(x).unwrap().argmax(1).unwrap().to_vec1().unwrap();
        let y: Vec<u32> = y.to_vec1().unwrap();
        p.iter().zip(&y).filter(|(a, b)| a == b).count() as f64 / y.len() as f64
    }

    #[test]
    fn projects_only_after_a_task_and_keeps_the_memory() {
        let cfg = GemConfig {
            memory_per_task: 8,
            memory_batch: 8,
            adam: AdamConfig {
                lr: 1e-2,
                ..AdamConfig::default()
            },
            ..GemConfig::new(4, &[16], 4)
        };
        let mut l = AGem::new(cfg.clone()).unwrap();
        let (x0, y0) = task(0);
        l.begin_task(0, &[0, 1]).unwrap();
        for _ in 0..100 {
            l.learn(&x0, &y0).unwrap();
        }
        assert_eq!(l.steps(), (100, 0)); // no memory yet: plain steps
        l.end_task(0).unwrap();
        assert_eq!(l.memory_len(), 8);
        let (x1, y1) = task(1);
        l.begin_task(1, &[2, 3]).unwrap();
        for _ in 0..100 {
            l.learn(&x1, &y1).unwrap();
        }
        l.end_task(1).unwrap();
        let (steps, projected) = l.steps();
        assert_eq!((steps, l.memory_len()), (200, 16));
        assert!(
            projected > 0,
            "task 2's gradients never conflicted with task 1's"
        );
        assert_eq!(accuracy(&l, &x1, &y1), 1.0);
        // Deterministic: the same seed gives the same network.
        let mut m = AGem::new(cfg).unwrap();
        m.begin_task(0, &[0, 1]).unwrap();
        for _ in 0..100 {
            m.learn(&x0, &y0).unwrap();
        }
        m.end_task(0).unwrap();
        m.begin_task(1, &[2, 3]).unwrap();
        for _ in 0..100 {
            m.learn(&x1, &y1).unwrap();
        }
        let a: Vec<f32> = l
            .scores(&x0)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let b: Vec<f32> = m
            .scores(&x0)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(a, b);
    }

    /// FNV-1a over the bits of every parameter of `net` (in `named_params` order).
    fn param_bits_hash(net: &Cnn) -> u64 {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for (name, _) in net.named_params() {
            let v: Vec<f32> = net
                .value(name, 0)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            for x in v {
                for b in x.to_bits().to_le_bytes() {
                    h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
                }
            }
        }
        h
    }

    /// A-GEM bit for bit as the implementation before it became a plugin of the one training
    /// loop (`Phase::AfterBackward`): the numbers below were recorded from a run of that code
    /// (its own forward/backward/Adam step) on this tiny deterministic case.
    #[test]
    fn the_same_numbers_as_before_the_one_loop() {
        let cfg = GemConfig {
            memory_per_task: 8,
            memory_batch: 8,
            adam: AdamConfig {
                lr: 1e-2,
                ..AdamConfig::default()
            },
            ..GemConfig::new(4, &[16], 4)
        };
        let mut l = AGem::new(cfg).unwrap();
        for t in 0..2 {
            let (x, y) = task(t);
            l.begin_task(t, &[2 * t, 2 * t + 1]).unwrap();
            for _ in 0..25 {
                l.learn(&x, &y).unwrap();
            }
            l.end_task(t).unwrap();
        }
        let (x0, _) = task(0);
        let scores: Vec<u32> = l
            .scores(&x0)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .take(8)
            .map(|v| v.to_bits())
            .collect();
        let got = (l.steps(), param_bits_hash(l.net()), scores);
        let want = (
            (50, 25),
            7_263_279_057_176_096_925,
            vec![
                1065747040, 3205356844, 3201178502, 3199652519, 3216631480, 1065598391, 3201050737,
                3208529200,
            ],
        );
        assert_eq!(got, want);
    }

    #[test]
    fn refuses_bad_settings_and_input() {
        assert!(AGem::new(GemConfig::new(0, &[4], 2)).is_err());
        let e = AGem::new(GemConfig {
            memory_batch: 0,
            ..GemConfig::new(2, &[4], 2)
        })
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("reference batch"), "{e}");
        let mut l = AGem::new(GemConfig::new(2, &[4], 2)).unwrap();
        let x = Tensor::new(&[[1f32, 0., 0.]], &Device::Cpu).unwrap();
        let y = Tensor::new(&[0u32], &Device::Cpu).unwrap();
        let e = l.learn(&x, &y).unwrap_err().to_string();
        assert!(e.contains("[n, 2]"), "{e}");
    }
}
