//! A network trained by backprop as a [`Learner`]: `learn` is one `Trainer::step` (Adam,
//! the regularisers' hooks and loss terms), `scores` the evaluation-mode forward pass with the
//! regularisers' hooks. With EWC ([`BackpropConfig::ewc_lambda`]) the task boundary computes
//! the Fisher diagonal on the task's first [`BackpropConfig::fisher_samples`] training examples
//! and anchors the parameters ([`neurogen_regularizers::Ewc`]).
//!
//! Inputs are feature vectors `[n, dim]`; the network is `neurogen_model::Cnn` with the shape
//! [`neurogen_model::ModelConfig::mlp`] (no convolution), so the MLP is the workspace's one
//! network with its initialisation, Adam and hooks.
use std::cell::RefCell;

use candle_core::{Device, Tensor};
use neurogen_model::{
    AdamConfig, Cnn, ForwardCtx, HookSite, HookStep, LossCx, ModelConfig, PerReplica, Phase,
    Regularizer, StepCtx, StepCx, Trainer,
};
use neurogen_regularizers::{fisher_diagonal, Ewc, NoRegularizer};

use crate::error::{config, LearnerError, Result};
use crate::learner::{host_batch, host_inputs, Learner, TaskSample};

/// Settings of a [`BackpropLearner`].
#[derive(Debug, Clone, PartialEq)]
pub struct BackpropConfig {
    /// Input size.
    pub inputs: usize,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Number of classes.
    pub classes: usize,
    /// Adam settings (before the regularisers' `configure_optimizer`).
    pub adam: AdamConfig,
    /// Seed of the initial weights.
    pub seed: u64,
    /// EWC strength λ; None: no EWC.
    pub ewc_lambda: Option<f64>,
    /// Training examples of each task (its first, in training order) the Fisher is computed
    /// on.
    pub fisher_samples: usize,
}

impl BackpropConfig {
    /// An MLP of `hidden` widths with Adam (lr 1e-3), no EWC, 500 Fisher samples, seed 0.
    pub fn new(inputs: usize, hidden: &[usize], classes: usize) -> Self {
        BackpropConfig {
            inputs,
            hidden: hidden.to_vec(),
            classes,
            adam: AdamConfig {
                lr: 1e-3,
                ..AdamConfig::default()
            },
            seed: 0,
            ewc_lambda: None,
            fisher_samples: 500,
        }
    }
}

/// The regularisers of one step: the user's, then EWC's loss term.
struct Both<'a> {
    reg: &'a mut dyn Regularizer,
    ewc: Option<&'a mut Ewc>,
}

impl Regularizer for Both<'_> {
    fn name(&self) -> String {
        self.reg.name()
    }
    fn hook(&mut self, site: &HookSite) -> neurogen_model::Result<Vec<HookStep>> {
        self.reg.hook(site)
    }
    fn loss_term(&mut self, cx: &LossCx) -> neurogen_model::Result<Option<Tensor>> {
        let a = self.reg.loss_term(cx)?;
        let b = match self.ewc.as_mut() {
            Some(e) => e.loss_term(cx)?,
            None => None,
        };
        Ok(match (a, b) {
            (Some(a), Some(b)) => Some((a + b)?),
            (a, b) => a.or(b),
        })
    }
    fn on_step(&mut self, phase: Phase, cx: &mut StepCx) -> neurogen_model::Result<()> {
        self.reg.on_step(phase, cx)
    }
}

/// An MLP trained by backprop, one minibatch per [`Learner::learn`] (vanilla, or with EWC).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use neurogen_learners::{BackpropConfig, BackpropLearner, Learner};
/// let mut mlp = BackpropLearner::new(BackpropConfig::new(2, &[8], 2), Box::new(neurogen_regularizers::NoRegularizer))?;
/// let x = Tensor::new(&[[1f32, 0.], [0., 1.]], &Device::Cpu)?;
/// let y = Tensor::new(&[0u32, 1], &Device::Cpu)?;
/// for _ in 0..200 {
///     mlp.learn(&x, &y)?;
/// }
/// let s = mlp.scores(&x)?.to_vec2::<f32>()?;
/// assert!(s[0][0] > s[0][1] && s[1][1] > s[1][0]);
/// # Ok::<(), neurogen_learners::LearnerError>(())
/// ```
pub struct BackpropLearner {
    config: BackpropConfig,
    net: Cnn,
    opt: Option<neurogen_model::Adam>,
    reg: RefCell<Box<dyn Regularizer>>,
    ewc: Option<Ewc>,
    steps: usize,
    /// The current task's first `fisher_samples` examples (EWC only).
    task: TaskSample,
}

impl BackpropLearner {
    /// A fresh MLP of `config` (weights from `config.seed`) trained with `reg`'s hooks, loss
    /// term and optimiser settings (e.g. `Box::new(NoRegularizer)` for vanilla, a k-WTA
    /// regulariser).
    pub fn new(config: BackpropConfig, reg: Box<dyn Regularizer>) -> Result<Self> {
        if config.inputs == 0 {
            return crate::error::config("an MLP needs at least one input");
        }
        let net = Cnn::new(
            &ModelConfig::mlp(config.inputs, &config.hidden, config.classes),
            config.seed,
            &Device::Cpu,
        )?;
        Self::with_network(net, config, reg)
    }

    /// Any network of the workspace (K = 1, e.g. the paper's CNN) as a learner: inputs are its
    /// images flattened to `[n, C·H·W]` (as [`crate::FeatureSplit::from_pixels`] makes them)
    /// and reshaped to `[n, C, H, W]` for it. `config.inputs`, `config.hidden` and
    /// `config.classes` are taken from the network; `config.seed` is not used.
    ///
    /// ```
    /// use candle_core::Device;
    /// use neurogen_learners::{BackpropConfig, BackpropLearner, Learner};
    /// use neurogen_model::{Cnn, ModelConfig};
    /// let cnn = Cnn::new(&ModelConfig::fashion_mnist().with_hidden_width(8), 0, &Device::Cpu)?;
    /// let l = BackpropLearner::with_network(cnn, BackpropConfig::new(0, &[], 0), Box::new(neurogen_regularizers::NoRegularizer))?;
    /// assert_eq!((l.inputs(), l.classes()), (784, 10));
    /// # Ok::<(), neurogen_learners::LearnerError>(())
    /// ```
    pub fn with_network(
        net: Cnn,
        mut config: BackpropConfig,
        reg: Box<dyn Regularizer>,
    ) -> Result<Self> {
        if net.replicas() != 1 {
            return crate::error::config(format!(
                "a learner is one network; this model has {} replicas",
                net.replicas()
            ));
        }
        let shape = net.config().clone();
        config.inputs = shape.in_channels * shape.in_height * shape.in_width;
        config.hidden = shape.hidden_sizes.clone();
        config.classes = shape.num_classes;
        let mut net = net;
        let mut reg = reg;
        let mut adam = config.adam;
        reg.configure_optimizer(&mut adam);
        // The regulariser's Phase::Start hooks run once, with the fresh optimiser.
        let opt = Trainer::new(&mut net, adam, std::slice::from_mut(&mut reg))?.into_optimizer();
        let ewc = config.ewc_lambda.map(Ewc::new).transpose()?;
        Ok(BackpropLearner {
            config,
            net,
            opt: Some(opt),
            reg: RefCell::new(reg),
            ewc,
            steps: 0,
            task: TaskSample::default(),
        })
    }

    /// Input size `C·H·W` the learner takes.
    pub fn inputs(&self) -> usize {
        self.config.inputs
    }

    /// Vanilla: an MLP without regulariser.
    pub fn vanilla(config: BackpropConfig) -> Result<Self> {
        Self::new(config, Box::new(NoRegularizer))
    }

    /// The network.
    pub fn net(&self) -> &Cnn {
        &self.net
    }

    /// The EWC state, if EWC is on.
    pub fn ewc(&self) -> Option<&Ewc> {
        self.ewc.as_ref()
    }

    /// Optimiser steps taken.
    pub fn steps(&self) -> usize {
        self.steps
    }

    fn as_images(&self, x: &[f32], n: usize) -> Result<Tensor> {
        let c = self.net.config();
        Ok(Tensor::from_vec(
            x.to_vec(),
            (n, c.in_channels, c.in_height, c.in_width),
            &Device::Cpu,
        )?)
    }
}

impl Learner for BackpropLearner {
    fn name(&self) -> String {
        let reg = self.reg.borrow().name();
        let base = match &self.ewc {
            Some(_) => "ewc".to_string(),
            None => "mlp".to_string(),
        };
        if reg == "none" {
            base
        } else {
            format!("{base}+{reg}")
        }
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
        if self.ewc.is_some() {
            self.task.offer(self.config.fisher_samples, d, &xs, &ys);
        }
        let xb = self.as_images(&xs, n)?.unsqueeze(0)?;
        let yb = Tensor::from_vec(ys, (1, n), &Device::Cpu)?;
        let opt = self.opt.take().ok_or_else(|| {
            LearnerError::Config("the optimiser was lost by an earlier error".into())
        })?;
        let mut reg = self.reg.borrow_mut();
        let mut both = [Both {
            reg: &mut **reg,
            ewc: self.ewc.as_mut(),
        }];
        let mut trainer = Trainer::resume(&mut self.net, opt, &mut both)?;
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
            return config(format!("training step {} failed: {e}", self.steps));
        }
        self.steps += 1;
        Ok(())
    }

    fn scores(&self, x: &Tensor) -> Result<Tensor> {
        let xs = host_inputs(x, self.config.inputs)?;
        let n = xs.len() / self.config.inputs;
        let xb = self.as_images(&xs, n)?;
        let mut reg = self.reg.borrow_mut();
        let mut regs = [&mut **reg];
        let out = self
            .net
            .forward(&xb, &mut PerReplica(&mut regs), &ForwardCtx::eval())?;
        Ok(out.logits.squeeze(0)?)
    }

    fn begin_task(&mut self, _task: usize, _classes: &[usize]) -> Result<()> {
        self.task.clear();
        Ok(())
    }

    fn end_task(&mut self, _task: usize) -> Result<()> {
        if self.ewc.is_none() {
            return Ok(());
        }
        let n = self.task.len();
        if n == 0 {
            return config(
                "EWC: the task ended without a training example to compute the Fisher on",
            );
        }
        let (xs, ys) = self.task.take();
        let x = self.as_images(&xs, n)?;
        let y = Tensor::from_vec(ys, n, &Device::Cpu)?;
        let fisher = fisher_diagonal(&self.net, &x, &y)?;
        if let Some(ewc) = self.ewc.as_mut() {
            ewc.consolidate(&self.net, fisher)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two tasks in 4 dimensions: classes 0/1 separated along x0, classes 2/3 along x1.
    fn task(t: usize) -> (Tensor, Tensor) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..16 {
            let c = 2 * t + i % 2;
            let s = if i % 2 == 0 { 1.0 } else { -1.0 };
            let mut row = [0.1 * (i % 4) as f32; 4];
            row[t] += s;
            x.extend(row);
            y.push(c as u32);
        }
        (
            Tensor::from_vec(x, (16, 4), &Device::Cpu).unwrap(),
            Tensor::from_vec(y, 16, &Device::Cpu).unwrap(),
        )
    }

    fn distance_to(net: &Cnn, anchor: &Cnn) -> f32 {
        net.named_params()
            .into_iter()
            .map(|(n, _)| {
                let d = (net.value(n, 0).unwrap() - anchor.value(n, 0).unwrap()).unwrap();
                d.sqr()
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap()
            })
            .sum()
    }

    fn after_two_tasks(lambda: Option<f64>) -> (BackpropLearner, Cnn) {
        let cfg = BackpropConfig {
            ewc_lambda: lambda,
            fisher_samples: 8,
            adam: AdamConfig {
                lr: 1e-2,
                ..AdamConfig::default()
            },
            ..BackpropConfig::new(4, &[16], 4)
        };
        let mut l = BackpropLearner::vanilla(cfg).unwrap();
        let (x, y) = task(0);
        l.begin_task(0, &[0, 1]).unwrap();
        for _ in 0..100 {
            l.learn(&x, &y).unwrap();
        }
        l.end_task(0).unwrap();
        let anchor = l.net().replica(0).unwrap();
        let (x, y) = task(1);
        l.begin_task(1, &[2, 3]).unwrap();
        for _ in 0..100 {
            l.learn(&x, &y).unwrap();
        }
        (l, anchor)
    }

    #[test]
    fn vanilla_learns_and_ewc_anchors_at_the_task_boundary() {
        let (vanilla, anchor_v) = after_two_tasks(None);
        let (ewc, anchor_e) = after_two_tasks(Some(1e4));
        // Same seed, same first task: the anchors are the same network.
        assert_eq!(distance_to(&anchor_v, &anchor_e), 0.0);
        assert_eq!(vanilla.steps(), 200);
        assert!(vanilla.ewc().is_none());
        assert_eq!(ewc.ewc().unwrap().tasks(), 1);
        assert_eq!(ewc.name(), "ewc");
        assert_eq!(vanilla.name(), "mlp");
        // The Fisher-weighted anchor holds the weights near the first task's solution where it
        // matters: the Fisher-weighted distance (the penalty, same anchor and Fisher for both)
        // is far smaller with EWC.
        let anchor = ewc.ewc().unwrap();
        let pen = |net: &Cnn| {
            anchor
                .penalty(|n| net.value(n, 0))
                .unwrap()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        };
        let (pv, pe) = (pen(vanilla.net()), pen(ewc.net()));
        assert!(pe < 0.5 * pv, "EWC penalty {pe}, vanilla {pv}");
        assert!(distance_to(ewc.net(), &anchor_e) > 0.0);
        // Vanilla learnt task 1 (it predicts its classes on its data).
        let (x, _) = task(1);
        let s: Vec<Vec<f32>> = vanilla.scores(&x).unwrap().to_vec2().unwrap();
        for (i, row) in s.iter().enumerate() {
            let want = 2 + i % 2;
            let best = (0..4).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            assert_eq!(best, want, "row {i}: {row:?}");
        }
    }

    #[test]
    fn the_cnn_runs_through_the_harness() {
        use crate::harness::{run_class_incremental, FeatureSplit, HarnessConfig, TaskSequence};
        // 1x8x8 images: class c lights up row c.
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for i in 0..32 {
            let c = i % 4;
            for r in 0..8 {
                for col in 0..8 {
                    x.push(if r == 2 * c {
                        1.0
                    } else {
                        0.05 * ((i + col) % 3) as f32
                    });
                }
            }
            y.push(c as u32);
        }
        let data = FeatureSplit::new(64, x, y).unwrap();
        let cfg = ModelConfig {
            in_channels: 1,
            in_height: 8,
            in_width: 8,
            conv_channels: vec![4, 4],
            hidden_sizes: vec![16],
            num_classes: 4,
        };
        let cnn = Cnn::new(&cfg, 0, &Device::Cpu).unwrap();
        let bc = BackpropConfig {
            adam: AdamConfig {
                lr: 1e-2,
                ..AdamConfig::default()
            },
            ..BackpropConfig::new(0, &[], 0)
        };
        let mut l = BackpropLearner::with_network(cnn, bc, Box::new(NoRegularizer)).unwrap();
        let tasks = TaskSequence::offline(4).unwrap();
        let hc = HarnessConfig {
            epochs: 30,
            batch_size: 8,
            seed: 0,
        };
        let res = run_class_incremental(&mut l, &data, &data, &tasks, &hc, &mut |_, _| {}).unwrap();
        assert_eq!(l.steps(), 30 * 4);
        assert!(res.final_accuracy() > 0.9, "{res:?}");
        let wrong = Tensor::zeros((2, 63), candle_core::DType::F32, &Device::Cpu).unwrap();
        assert!(l.scores(&wrong).is_err());
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut l = BackpropLearner::vanilla(BackpropConfig::new(4, &[8], 3)).unwrap();
        let x = Tensor::zeros((2, 4), candle_core::DType::F32, &Device::Cpu).unwrap();
        let e = l
            .learn(&x, &Tensor::new(&[0u32, 3], &Device::Cpu).unwrap())
            .unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
        let x5 = Tensor::zeros((2, 5), candle_core::DType::F32, &Device::Cpu).unwrap();
        assert!(l.scores(&x5).is_err());
        assert!(BackpropLearner::vanilla(BackpropConfig::new(0, &[8], 3)).is_err());
        let mut e = BackpropLearner::vanilla(BackpropConfig {
            ewc_lambda: Some(1.0),
            ..BackpropConfig::new(4, &[8], 3)
        })
        .unwrap();
        assert!(e.end_task(0).is_err(), "no example seen: no Fisher");
        assert!(BackpropLearner::vanilla(BackpropConfig {
            ewc_lambda: Some(f64::NAN),
            ..BackpropConfig::new(4, &[8], 3)
        })
        .is_err());
    }
}
