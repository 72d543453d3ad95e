//! neurogen-learners: learners beside the backprop training loop, and a class-incremental
//! harness that runs any of them.
//!
//! - [`Learner`] (the seam; the repository's docs/ARCHITECTURE.md): `learn(x, y)`,
//!   `scores(x)`, task boundaries.
//! - [`FlyModel`]: the fruit-fly mushroom-body model of Shen, Dasgupta & Navlakha (arXiv
//!   2107.07617): sparse random projection ([`Projection`]), k-winner-take-all
//!   ([`kwta_top_k`], [`adaptive_threshold`]), associative output rule with partial freezing.
//! - [`features`]: a frozen extractor (the workspace's CNN trained on images the benchmark
//!   does not use) and the cache of its features.
//! - [`checkpoint`]: FlyModel checkpoints (projection, weights, settings) as safetensors.
//! - [`gem`]: the A-GEM baseline (gradient episodic memory with one constraint).
//! - [`harness`]: tasks as disjoint class sets, training task after task, the accuracy
//!   matrix, seen-class accuracy and memory loss.
//!
//! ```
//! use neurogen_learners::harness::{run_class_incremental, FeatureSplit, HarnessConfig, TaskSequence};
//! use neurogen_learners::{FlyConfig, FlyModel};
//! // Four classes, each a one-hot direction in 8 dimensions (plus a little offset).
//! let (mut x, mut y) = (Vec::new(), Vec::new());
//! for i in 0..40 {
//!     let c = i % 4;
//!     x.extend((0..8).map(|j| if j / 2 == c { 1.0 } else { 0.1 * (i % 3) as f32 }));
//!     y.push(c as u32);
//! }
//! let data = FeatureSplit::new(8, x, y)?;
//! let tasks = TaskSequence::in_order(4, 2)?;
//! let mut fly = FlyModel::new(FlyConfig { kenyon_cells: 320, synapses: 2, ..FlyConfig::new(8, 4) })?;
//! let cfg = HarnessConfig { epochs: 1, batch_size: 8, seed: 0 };
//! let res = run_class_incremental(&mut fly, &data, &data, &tasks, &cfg, &mut |_, _| {})?;
//! assert_eq!(res.accuracy.len(), 2);
//! assert!(res.final_accuracy() > 0.9);
//! # Ok::<(), neurogen_learners::LearnerError>(())
//! ```
#![warn(missing_docs)]

// The README's examples (the crate's page on crates.io) run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod backprop;
pub mod checkpoint;
pub mod error;
pub mod features;
pub mod fly;
pub mod gem;
pub mod harness;
pub mod learner;

pub use backprop::{BackpropConfig, BackpropLearner};
pub use error::{LearnerError, Result};
pub use fly::{
    adaptive_threshold, kwta_top_k, min_max_scale, FlyConfig, FlyModel, Projection, Wta,
};
pub use gem::{agem_project, AGem, AGemProjection, GemConfig};
pub use harness::{FeatureSplit, HarnessConfig, IncrementalResult, TaskSequence};
pub use learner::Learner;
