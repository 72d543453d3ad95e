//! Schedules checked against the planned run: a setting that cannot act in a run of the planned
//! length — neurogenesis every 640 steps in a run of 500, an `until_epoch` at or past the run's
//! last epoch — does nothing without failing, so it is reported before training
//! ([`crate::RegularizerSet::schedule_warnings`], [`crate::build_for_run`]) and in the
//! regulariser's report (a `warnings` field, present only when there is one).
//!
//! ```
//! use neurogen_regularizers::{RegularizerSet, RunPlan};
//! let set = RegularizerSet::from_specs(["neurogenesis"], false)?; // every=640, until_epoch=10
//! // 1 epoch of 500 steps: no event would happen.
//! let w = set.schedule_warnings(&RunPlan::new(1, 500));
//! assert!(w.iter().any(|w| w.setting == "every"));
//! // The paper's 14 epochs of 390 steps: nothing to say.
//! assert!(set.schedule_warnings(&RunPlan::new(14, 390)).is_empty());
//! # Ok::<(), neurogen_regularizers::RegError>(())
//! ```
use std::fmt;

use neurogen_model::train::{training_batches, TrainConfig};
use serde::{Deserialize, Serialize};

/// The length of a planned training run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunPlan {
    /// Number of epochs.
    pub epochs: usize,
    /// Optimiser steps (minibatches) per epoch.
    pub steps_per_epoch: usize,
}

impl RunPlan {
    /// A run of `epochs` epochs of `steps_per_epoch` optimiser steps each.
    pub fn new(epochs: usize, steps_per_epoch: usize) -> Self {
        RunPlan {
            epochs,
            steps_per_epoch,
        }
    }

    /// The run [`neurogen_model::train()`] makes with `config` on `train_images` training images
    /// (minibatches as [`neurogen_model::training_batches`] forms them: a last, smaller
    /// minibatch is dropped when there are several).
    ///
    /// ```
    /// use neurogen_model::TrainConfig;
    /// use neurogen_regularizers::RunPlan;
    /// let cfg = TrainConfig { epochs: 2, batch_size: 4, ..TrainConfig::default() };
    /// assert_eq!(RunPlan::for_training(&cfg, 2001), RunPlan::new(2, 500));
    /// ```
    pub fn for_training(config: &TrainConfig, train_images: usize) -> Self {
        let steps = if config.batch_size == 0 {
            0
        } else {
            training_batches(train_images, config.batch_size, config.seed, 0).len()
        };
        RunPlan::new(config.epochs, steps)
    }

    /// Optimiser steps of the whole run.
    pub fn total_steps(&self) -> usize {
        self.epochs.saturating_mul(self.steps_per_epoch)
    }
}

/// A setting of a regulariser that does nothing in the planned run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleWarning {
    /// The regulariser (`neurogenesis`).
    pub regularizer: String,
    /// The setting that does nothing (`every`, `until_epoch`).
    pub setting: String,
    /// What happens instead, and what to change.
    pub message: String,
}

impl ScheduleWarning {
    pub(crate) fn new(regularizer: &str, setting: &str, message: String) -> Self {
        ScheduleWarning {
            regularizer: regularizer.into(),
            setting: setting.into(),
            message,
        }
    }
}

impl fmt::Display for ScheduleWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.regularizer, self.message)
    }
}
