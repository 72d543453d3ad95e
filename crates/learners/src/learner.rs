//! The learner seam: a classifier that learns from labelled examples without the training
//! loop's autograd and optimiser (docs/ARCHITECTURE.md, "The learner seam").
//!
//! A backprop network is one implementation ([`crate::BackpropLearner`]: `learn` = one
//! `Trainer::step`), the fruit-fly model another ([`crate::FlyModel`]: `learn` = its
//! associative rule). The class-incremental harness ([`crate::harness`]) takes any `Learner`.
use candle_core::Tensor;

use crate::error::Result;

/// A classifier that learns from labelled examples, one minibatch at a time.
///
/// Inputs are feature vectors, `x` of shape `[n, dim]` (f32), labels `y` of shape `[n]` (u32,
/// `0..classes`). Implementations check shapes and labels and return
/// [`crate::LearnerError::Config`] for bad input rather than panicking.
pub trait Learner {
    /// A short name for tables and errors, e.g. `flymodel`.
    fn name(&self) -> String;

    /// Number of classes the output layer has (labels are `0..classes`).
    fn classes(&self) -> usize;

    /// Learns from the minibatch `x` (`[n, dim]`) with labels `y` (`[n]`).
    fn learn(&mut self, x: &Tensor, y: &Tensor) -> Result<()>;

    /// Class scores `[n, classes]` in evaluation mode (higher = more likely).
    fn scores(&self, x: &Tensor) -> Result<Tensor>;

    /// A task begins (class-incremental learning): its index and its classes.
    fn begin_task(&mut self, _task: usize, _classes: &[usize]) -> Result<()> {
        Ok(())
    }

    /// The task `task` has ended (EWC takes its Fisher anchor here).
    fn end_task(&mut self, _task: usize) -> Result<()> {
        Ok(())
    }
}

impl<L: Learner + ?Sized> Learner for Box<L> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn classes(&self) -> usize {
        (**self).classes()
    }
    fn learn(&mut self, x: &Tensor, y: &Tensor) -> Result<()> {
        (**self).learn(x, y)
    }
    fn scores(&self, x: &Tensor) -> Result<Tensor> {
        (**self).scores(x)
    }
    fn begin_task(&mut self, task: usize, classes: &[usize]) -> Result<()> {
        (**self).begin_task(task, classes)
    }
    fn end_task(&mut self, task: usize) -> Result<()> {
        (**self).end_task(task)
    }
}

/// The first `cap` examples the current task presents, in training order, kept on the host
/// (EWC's Fisher sample, A-GEM's episodic memory): rows of `dim` features and their labels.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskSample {
    /// Rows, row-major.
    pub x: Vec<f32>,
    /// Labels.
    pub y: Vec<u32>,
}

impl TaskSample {
    /// Keeps as many of the minibatch's rows (`xs`, row-major with `dim` features; labels
    /// `ys`) as the sample still has room for under `cap`.
    pub fn offer(&mut self, cap: usize, dim: usize, xs: &[f32], ys: &[u32]) {
        let take = cap.saturating_sub(self.y.len()).min(ys.len());
        self.x.extend_from_slice(&xs[..take * dim]);
        self.y.extend_from_slice(&ys[..take]);
    }

    /// Examples kept.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Forgets every example (a new task begins).
    pub fn clear(&mut self) {
        self.x.clear();
        self.y.clear();
    }

    /// Hands the examples out, leaving the sample empty.
    pub fn take(&mut self) -> (Vec<f32>, Vec<u32>) {
        (std::mem::take(&mut self.x), std::mem::take(&mut self.y))
    }
}

/// Checks a minibatch (`x` `[n, dim]`, `y` `[n]` u32 below `classes`) and returns it as host
/// vectors: the rows of `x` row-major, and the labels.
pub fn host_batch(
    x: &Tensor,
    y: &Tensor,
    dim: usize,
    classes: usize,
) -> Result<(Vec<f32>, Vec<u32>)> {
    let xs = host_inputs(x, dim)?;
    let n = xs.len() / dim.max(1);
    if y.dims() != [n] {
        return crate::error::config(format!(
            "labels have shape {:?}, the inputs need [{n}]",
            y.dims()
        ));
    }
    let ys: Vec<u32> = y.to_dtype(candle_core::DType::U32)?.to_vec1()?;
    if let Some(&bad) = ys.iter().find(|&&c| c as usize >= classes) {
        return crate::error::config(format!(
            "label {bad} is out of range: this learner has {classes} classes (0..{classes})"
        ));
    }
    Ok((xs, ys))
}

/// Checks inputs `x` (`[n, dim]`, finite) and returns them row-major on the host as f32.
pub fn host_inputs(x: &Tensor, dim: usize) -> Result<Vec<f32>> {
    match x.dims() {
        [_, d] if *d == dim => {}
        d => {
            return crate::error::config(format!(
                "inputs have shape {d:?}; this learner takes [n, {dim}]"
            ))
        }
    }
    let v: Vec<f32> = x
        .to_dtype(candle_core::DType::F32)?
        .flatten_all()?
        .to_vec1()?;
    if let Some(i) = v.iter().position(|a| !a.is_finite()) {
        return crate::error::config(format!(
            "input value {} (row {}, column {}) is not finite",
            v[i],
            i / dim,
            i % dim
        ));
    }
    Ok(v)
}
