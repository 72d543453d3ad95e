//! The class-incremental harness: tasks are disjoint class sets in a fixed (seeded) order; a
//! learner trains on each task in turn and, after each task, is evaluated on every class seen
//! so far, predicting among the seen classes only.
//!
//! Metrics ([`IncrementalResult`]): the accuracy matrix `acc[t][j]` (accuracy on the test
//! examples of task `j` after training on task `t`, `j <= t`), the mean accuracy on all seen
//! classes after each task, and the memory loss of each task (accuracy right after learning it
//! minus at the end). Offline i.i.d. training is the same harness with one task holding every
//! class ([`TaskSequence::offline`]).
use candle_core::{Device, Tensor};
use neurogen_data::{epoch_batches, Split};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{config, Result};
use crate::learner::Learner;

/// Feature vectors and labels: `n` rows of `dim` f32 values, labels `u32`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSplit {
    dim: usize,
    x: Vec<f32>,
    y: Vec<u32>,
}

impl FeatureSplit {
    /// A split from row-major features (`y.len() * dim` values, all finite) and labels.
    pub fn new(dim: usize, x: Vec<f32>, y: Vec<u32>) -> Result<Self> {
        if dim == 0 {
            return config("features need at least one dimension");
        }
        if x.len() != y.len() * dim {
            return config(format!(
                "{} feature values for {} labels of dimension {dim} (expected {})",
                x.len(),
                y.len(),
                y.len() * dim
            ));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return config(format!(
                "feature {} of row {} is not finite ({})",
                i % dim,
                i / dim,
                x[i]
            ));
        }
        Ok(FeatureSplit { dim, x, y })
    }

    /// Raw pixels as features: every image of `split` flattened (CHW) and scaled to `[0, 1]`.
    pub fn from_pixels(split: &Split) -> Self {
        let dim = split.shape().numel();
        FeatureSplit {
            dim,
            x: split.images().iter().map(|&v| v as f32 / 255.0).collect(),
            y: split.labels().iter().map(|&l| l as u32).collect(),
        }
    }

    /// Feature dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// All labels.
    pub fn labels(&self) -> &[u32] {
        &self.y
    }

    /// All features, row-major.
    pub fn features(&self) -> &[f32] {
        &self.x
    }

    /// Row `i`'s features.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        self.x.get(i * self.dim..(i + 1) * self.dim)
    }

    /// The rows at `indices` as `[b, dim]` features and `[b]` labels on the CPU.
    pub fn batch(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        let mut x = Vec::with_capacity(indices.len() * self.dim);
        let mut y = Vec::with_capacity(indices.len());
        for &i in indices {
            let r = self.row(i).ok_or_else(|| {
                crate::LearnerError::Config(format!(
                    "row {i} is out of range for a split of {} rows",
                    self.len()
                ))
            })?;
            x.extend_from_slice(r);
            y.push(self.y[i]);
        }
        Ok((
            Tensor::from_vec(x, (indices.len(), self.dim), &Device::Cpu)?,
            Tensor::from_vec(y, indices.len(), &Device::Cpu)?,
        ))
    }

    /// Indices of the rows whose label is in `classes`, ascending.
    pub fn indices_of(&self, classes: &[usize]) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| classes.contains(&(self.y[i] as usize)))
            .collect()
    }

    /// This split's rows followed by `other`'s with `label_offset` added to each of its labels:
    /// two datasets as one with disjoint classes (MNIST-20 is MNIST's classes 0–9 and
    /// Fashion-MNIST's as 10–19). The dimensions must agree.
    ///
    /// ```
    /// use neurogen_learners::FeatureSplit;
    /// let a = FeatureSplit::new(2, vec![0., 1., 2., 3.], vec![0, 1])?;
    /// let b = FeatureSplit::new(2, vec![4., 5.], vec![1])?;
    /// let ab = a.concat(&b, 10)?;
    /// assert_eq!(ab.labels(), &[0, 1, 11]);
    /// assert_eq!(ab.row(2), Some(&[4f32, 5.][..]));
    /// # Ok::<(), neurogen_learners::LearnerError>(())
    /// ```
    pub fn concat(&self, other: &FeatureSplit, label_offset: u32) -> Result<Self> {
        if other.dim != self.dim {
            return config(format!(
                "cannot join features of dimension {} and {}",
                self.dim, other.dim
            ));
        }
        let mut y = self.y.clone();
        for &l in &other.y {
            y.push(l.checked_add(label_offset).ok_or_else(|| {
                crate::LearnerError::Config(format!("label {l} + {label_offset} overflows"))
            })?);
        }
        let mut x = self.x.clone();
        x.extend_from_slice(&other.x);
        Ok(FeatureSplit {
            dim: self.dim,
            x,
            y,
        })
    }

    /// The rows at `indices`, in that order (indices out of range are an error).
    pub fn subset(&self, indices: &[usize]) -> Result<Self> {
        let mut x = Vec::with_capacity(indices.len() * self.dim);
        let mut y = Vec::with_capacity(indices.len());
        for &i in indices {
            let r = self.row(i).ok_or_else(|| {
                crate::LearnerError::Config(format!(
                    "row {i} is out of range for a split of {} rows",
                    self.len()
                ))
            })?;
            x.extend_from_slice(r);
            y.push(self.y[i]);
        }
        Ok(FeatureSplit {
            dim: self.dim,
            x,
            y,
        })
    }
}

/// The tasks of a class-incremental run: disjoint, non-empty class sets, in training order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSequence {
    tasks: Vec<Vec<usize>>,
}

impl TaskSequence {
    /// Tasks as given (each non-empty, no class in two tasks).
    pub fn new(tasks: Vec<Vec<usize>>) -> Result<Self> {
        if tasks.is_empty() || tasks.iter().any(Vec::is_empty) {
            return config(format!(
                "a task sequence needs at least one task and every task at least one class, got {tasks:?}"
            ));
        }
        let mut all: Vec<usize> = tasks.iter().flatten().copied().collect();
        all.sort_unstable();
        if let Some(w) = all.windows(2).find(|w| w[0] == w[1]) {
            return config(format!(
                "class {} is in two tasks of {tasks:?}: tasks must be disjoint",
                w[0]
            ));
        }
        Ok(TaskSequence { tasks })
    }

    /// Classes `0..classes` cut into tasks of `per_task` in order (`0, 1 | 2, 3 | ...`, the
    /// paper's split); `classes` must be a multiple of `per_task`.
    pub fn in_order(classes: usize, per_task: usize) -> Result<Self> {
        Self::from_order((0..classes).collect(), per_task)
    }

    /// Classes `0..classes` in a random order drawn from `seed` (ChaCha8), cut into tasks of
    /// `per_task`.
    pub fn shuffled(classes: usize, per_task: usize, seed: u64) -> Result<Self> {
        let mut order: Vec<usize> = (0..classes).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        Self::from_order(order, per_task)
    }

    /// One task holding classes `0..classes`: offline i.i.d. training, the upper bound.
    pub fn offline(classes: usize) -> Result<Self> {
        Self::new(vec![(0..classes).collect()])
    }

    fn from_order(order: Vec<usize>, per_task: usize) -> Result<Self> {
        if per_task == 0 || order.is_empty() || order.len() % per_task != 0 {
            return config(format!(
                "{} classes cannot be cut into tasks of {per_task}",
                order.len()
            ));
        }
        Self::new(order.chunks(per_task).map(<[usize]>::to_vec).collect())
    }

    /// The tasks, in order.
    pub fn tasks(&self) -> &[Vec<usize>] {
        &self.tasks
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether there is no task (never true for a built sequence).
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

/// How the harness trains on each task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HarnessConfig {
    /// Passes over each task's training data (the fly model: 1).
    pub epochs: usize,
    /// Minibatch size passed to [`Learner::learn`].
    pub batch_size: usize,
    /// Seed of the minibatch order (task `t`, epoch `e` uses shuffle `t · epochs + e`).
    pub seed: u64,
}

impl HarnessConfig {
    fn validate(&self) -> Result<()> {
        if self.epochs == 0 || self.batch_size == 0 {
            return config(format!(
                "epochs and batch size must be at least 1, got {} and {}",
                self.epochs, self.batch_size
            ));
        }
        Ok(())
    }
}

/// What a class-incremental run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncrementalResult {
    /// The learner's name.
    pub learner: String,
    /// The tasks, in training order.
    pub tasks: Vec<Vec<usize>>,
    /// `accuracy[t][j]`: accuracy on task `j`'s test examples after training on task `t`
    /// (`j <= t`; row `t` has `t + 1` entries), predicting among the classes seen by then.
    pub accuracy: Vec<Vec<f64>>,
    /// Accuracy on the test examples of all classes seen after each task.
    pub seen_accuracy: Vec<f64>,
}

impl IncrementalResult {
    /// Accuracy on all classes after the last task (the papers' headline number).
    pub fn final_accuracy(&self) -> f64 {
        self.seen_accuracy.last().copied().unwrap_or(f64::NAN)
    }

    /// Memory loss of every task but the last: `accuracy[j][j] − accuracy[T−1][j]`.
    pub fn memory_loss(&self) -> Vec<f64> {
        let t = self.accuracy.len();
        if t < 2 {
            return Vec::new();
        }
        (0..t - 1)
            .map(|j| self.accuracy[j][j] - self.accuracy[t - 1][j])
            .collect()
    }

    /// Mean memory loss over the tasks before the last (0 for a single task).
    pub fn mean_memory_loss(&self) -> f64 {
        let m = self.memory_loss();
        if m.is_empty() {
            0.0
        } else {
            m.iter().sum::<f64>() / m.len() as f64
        }
    }
}

/// Predictions of `learner` on `rows` of `split`, restricted to the classes `allowed`
/// (the highest-scoring allowed class; ties go to the first in `allowed`), in chunks of 1000.
pub fn predict_among(
    learner: &dyn Learner,
    split: &FeatureSplit,
    rows: &[usize],
    allowed: &[usize],
) -> Result<Vec<usize>> {
    if allowed.is_empty() {
        return config("prediction needs at least one allowed class");
    }
    if let Some(&c) = allowed.iter().find(|&&c| c >= learner.classes()) {
        return config(format!(
            "class {c} is out of range: {} has {} classes",
            learner.name(),
            learner.classes()
        ));
    }
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(1000) {
        let (x, _) = split.batch(chunk)?;
        let s: Vec<Vec<f32>> = learner.scores(&x)?.to_vec2()?;
        for row in s {
            let mut best = allowed[0];
            for &c in &allowed[1..] {
                if row[c] > row[best] {
                    best = c;
                }
            }
            out.push(best);
        }
    }
    Ok(out)
}

/// Trains `learner` on the tasks of `tasks` in order (each task: [`Learner::begin_task`],
/// `cfg.epochs` shuffled passes over the task's training rows in minibatches,
/// [`Learner::end_task`]) and evaluates it after each task on the test rows of every class seen
/// so far. `after_task(t, result so far)` is called after each evaluation (for progress).
pub fn run_class_incremental(
    learner: &mut dyn Learner,
    train: &FeatureSplit,
    test: &FeatureSplit,
    tasks: &TaskSequence,
    cfg: &HarnessConfig,
    after_task: &mut dyn FnMut(usize, &IncrementalResult),
) -> Result<IncrementalResult> {
    cfg.validate()?;
    if train.dim() != test.dim() {
        return config(format!(
            "training features have dimension {}, test features {}",
            train.dim(),
            test.dim()
        ));
    }
    let mut result = IncrementalResult {
        learner: learner.name(),
        tasks: tasks.tasks().to_vec(),
        accuracy: Vec::new(),
        seen_accuracy: Vec::new(),
    };
    let mut seen: Vec<usize> = Vec::new();
    for (t, classes) in tasks.tasks().iter().enumerate() {
        let rows = train.indices_of(classes);
        if rows.is_empty() {
            return config(format!(
                "task {t} (classes {classes:?}) has no training example"
            ));
        }
        learner.begin_task(t, classes)?;
        for e in 0..cfg.epochs {
            for b in epoch_batches(rows.len(), cfg.batch_size, cfg.seed, t * cfg.epochs + e) {
                let picked: Vec<usize> = b.iter().map(|&i| rows[i]).collect();
                let (x, y) = train.batch(&picked)?;
                learner.learn(&x, &y)?;
            }
        }
        learner.end_task(t)?;
        seen.extend_from_slice(classes);
        let test_rows = test.indices_of(&seen);
        if test_rows.is_empty() {
            return config(format!("no test example of the classes {seen:?}"));
        }
        let pred = predict_among(&*learner, test, &test_rows, &seen)?;
        let label = |i: usize| test.labels()[i] as usize;
        let correct = |keep: &dyn Fn(usize) -> bool| -> (usize, usize) {
            test_rows
                .iter()
                .zip(&pred)
                .filter(|(&i, _)| keep(label(i)))
                .fold((0, 0), |(c, n), (&i, &p)| {
                    (c + usize::from(p == label(i)), n + 1)
                })
        };
        let (c, n) = correct(&|_| true);
        result.seen_accuracy.push(c as f64 / n as f64);
        let row = tasks.tasks()[..=t]
            .iter()
            .map(|task| {
                let (c, n) = correct(&|l| task.contains(&l));
                if n == 0 {
                    f64::NAN
                } else {
                    c as f64 / n as f64
                }
            })
            .collect();
        result.accuracy.push(row);
        after_task(t, &result);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A learner with scripted answers, for hand-computed metrics: after task `t` it answers
    /// an example's own class (feature 0) when feature 1 is at most `t`, else `answer[t]`.
    struct Scripted {
        classes: usize,
        answer: Vec<usize>,
        task: usize,
        seen: Vec<(usize, Vec<u32>)>,
    }

    impl Learner for Scripted {
        fn name(&self) -> String {
            "scripted".into()
        }
        fn classes(&self) -> usize {
            self.classes
        }
        fn learn(&mut self, _x: &Tensor, y: &Tensor) -> Result<()> {
            self.seen.push((self.task, y.to_vec1()?));
            Ok(())
        }
        fn scores(&self, x: &Tensor) -> Result<Tensor> {
            let done = self.task.saturating_sub(1);
            let n = x.dim(0)?;
            let xs: Vec<Vec<f32>> = x.to_vec2()?;
            let mut out = vec![0f32; n * self.classes];
            for (i, r) in xs.iter().enumerate() {
                let own = r[0] as usize;
                let pick = if r[1] <= done as f32 {
                    own
                } else {
                    self.answer[done]
                };
                out[i * self.classes + pick] = 1.0;
            }
            Ok(Tensor::from_vec(out, (n, self.classes), &Device::Cpu)?)
        }
        fn end_task(&mut self, task: usize) -> Result<()> {
            assert_eq!(task, self.task);
            self.task += 1;
            Ok(())
        }
    }

    #[test]
    fn tasks_are_disjoint_and_seeded() {
        let t = TaskSequence::shuffled(10, 2, 7).unwrap();
        assert_eq!(t.len(), 5);
        let mut all: Vec<usize> = t.tasks().iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(t, TaskSequence::shuffled(10, 2, 7).unwrap());
        assert_ne!(t, TaskSequence::shuffled(10, 2, 8).unwrap());
        assert_eq!(
            TaskSequence::in_order(4, 2).unwrap().tasks(),
            &[vec![0, 1], vec![2, 3]]
        );
        assert!(TaskSequence::in_order(5, 2).is_err());
        assert!(TaskSequence::new(vec![vec![0, 1], vec![1, 2]]).is_err());
        assert!(TaskSequence::new(vec![vec![]]).is_err());
        assert_eq!(TaskSequence::offline(3).unwrap().tasks(), &[vec![0, 1, 2]]);
    }

    #[test]
    fn metrics_match_a_hand_computed_run() {
        // Test rows: feature 0 = class, feature 1 = the task after which the learner answers
        // it correctly (a large value: never). Classes 0..4, tasks {0,1}, {2,3}.
        let rows: [(u32, f32); 8] = [
            (0, 0.0),
            (0, 0.0),
            (1, 0.0),
            (1, 9.0), // wrong after task 0 (answer 0) and after task 1 (answer 3)
            (2, 1.0),
            (2, 1.0),
            (3, 1.0),
            (3, 1.0),
        ];
        let mut x = Vec::new();
        let mut y = Vec::new();
        for (c, t) in rows {
            x.extend([c as f32, t]);
            y.push(c);
        }
        let data = FeatureSplit::new(2, x, y).unwrap();
        let mut l = Scripted {
            classes: 4,
            answer: vec![0, 3],
            task: 0,
            seen: Vec::new(),
        };
        let tasks = TaskSequence::in_order(4, 2).unwrap();
        let cfg = HarnessConfig {
            epochs: 2,
            batch_size: 3,
            seed: 1,
        };
        let mut calls = Vec::new();
        let res = run_class_incremental(&mut l, &data, &data, &tasks, &cfg, &mut |t, r| {
            calls.push((t, r.seen_accuracy.len()))
        })
        .unwrap();
        assert_eq!(calls, vec![(0, 1), (1, 2)]);
        // After task 0: task 0 rows 3 of 4 right (row 3 answered 0, wrong).
        assert_eq!(res.accuracy[0], vec![0.75]);
        assert_eq!(res.seen_accuracy[0], 0.75);
        // After task 1: task 0 still 3/4 (row 3 answered 3), task 1 4/4; all seen 7/8.
        assert_eq!(res.accuracy[1], vec![0.75, 1.0]);
        assert_eq!(res.final_accuracy(), 0.875);
        assert_eq!(res.memory_loss(), vec![0.0]);
        // Training saw each task's classes only, twice over, in minibatches of at most 3.
        let task0: Vec<u32> = l
            .seen
            .iter()
            .filter(|(t, _)| *t == 0)
            .flat_map(|(_, y)| y.clone())
            .collect();
        assert_eq!(task0.len(), 8);
        assert!(task0.iter().all(|&c| c < 2));
        assert!(l.seen.iter().all(|(_, y)| y.len() <= 3));
    }

    #[test]
    fn memory_loss_is_diagonal_minus_last_row() {
        let r = IncrementalResult {
            learner: "x".into(),
            tasks: vec![vec![0], vec![1], vec![2]],
            accuracy: vec![vec![0.9], vec![0.5, 0.8], vec![0.3, 0.6, 0.7]],
            seen_accuracy: vec![0.9, 0.65, 0.5],
        };
        let m = r.memory_loss();
        assert!((m[0] - 0.6).abs() < 1e-12 && (m[1] - 0.2).abs() < 1e-12);
        assert!((r.mean_memory_loss() - 0.4).abs() < 1e-12);
        assert_eq!(r.final_accuracy(), 0.5);
    }

    #[test]
    fn prediction_is_restricted_to_allowed_classes() {
        struct Fixed;
        impl Learner for Fixed {
            fn name(&self) -> String {
                "fixed".into()
            }
            fn classes(&self) -> usize {
                3
            }
            fn learn(&mut self, _: &Tensor, _: &Tensor) -> Result<()> {
                Ok(())
            }
            fn scores(&self, x: &Tensor) -> Result<Tensor> {
                let n = x.dim(0)?;
                let v: Vec<f32> = (0..n).flat_map(|_| [0.1f32, 0.2, 0.9]).collect();
                Ok(Tensor::from_vec(v, (n, 3), &Device::Cpu)?)
            }
        }
        let data = FeatureSplit::new(1, vec![0.0, 0.0], vec![0, 1]).unwrap();
        assert_eq!(
            predict_among(&Fixed, &data, &[0, 1], &[0, 1]).unwrap(),
            vec![1, 1]
        );
        assert_eq!(
            predict_among(&Fixed, &data, &[0], &[0, 1, 2]).unwrap(),
            vec![2]
        );
        assert!(predict_among(&Fixed, &data, &[0], &[3]).is_err());
        assert!(predict_among(&Fixed, &data, &[5], &[0]).is_err());
        assert!(FeatureSplit::new(2, vec![0.0; 3], vec![0]).is_err());
        assert!(FeatureSplit::new(1, vec![f32::NAN], vec![0]).is_err());
    }
}
