//! The paper's CNN runner, shared by the CNN studies (Tran et al.'s figures, [`crate::tran2022`];
//! Morcos et al.'s single directions): what one run of the paper's CNN with regularisers is
//! ([`spec::RunSpec`], hashed for resuming), its row of `runs.csv` ([`csv::RunRecord`]),
//! preparing and training a batch of runs as replicas of one model ([`mod@train`]), and saving a
//! finished run's checkpoint and curves ([`mod@record`]).
//!
//! This is a piece the studies use, not part of the engine: the engine ([`neurogen_lab`]) owns
//! the run store, the schedule and the reports, and knows nothing of candle; this module is
//! where a run meets the model crate (`Cnn`, `train_replicas`, checkpoints).
//!
//! The formats are those of every output directory written so far: [`spec::RunSpec`]'s JSON is
//! the config hash (pinned by a test), and [`csv::RUNS_COLUMNS`] are `runs.csv`'s columns (the
//! Python package reads them).
//!
//! ```
//! use neurogen_model::ModelConfig;
//! use neurogen_studies::cnn::RunSpec;
//!
//! let spec = RunSpec {
//!     figure: "fig4".into(),
//!     group: "Control".into(),
//!     repeat: 0,
//!     specs: vec![],
//!     reference_quirks: false,
//!     epochs: 2,
//!     batch_size: 4,
//!     lr: 1e-3,
//!     dataset: "CIFAR-10".into(),
//!     train_images: 320,
//!     test_images: 200,
//!     curve_split: "test".into(),
//!     model: ModelConfig::for_input(3, 32, 32, 10),
//! };
//! assert_eq!(spec.hash(), "931d8ec9d85f5e01");
//! assert_eq!(spec.stem(), "control-r00");
//! ```
use neurogen_data::Split;
use neurogen_model::ModelConfig;

pub mod csv;
pub mod error;
pub mod record;
pub mod spec;
pub mod train;

pub use csv::{ok_values, read_runs, write_runs, RunRecord, RunStatus, RUNS_COLUMNS};
pub use error::CnnError;
pub use record::{event_count, read_curves, record, BatchTiming, RunCurves};
pub use spec::{slug, stem, RunSpec};
pub use train::{prepare, train, Outcome, Prepared};

/// The data a figure trains and tests on.
pub struct FigureData {
    /// Dataset name (e.g. `CIFAR-10`).
    pub dataset: String,
    /// Training images.
    pub train: Split,
    /// Held-out images for per-epoch curves (validation, or test when `validation` is false).
    pub curve: Split,
    /// Name of the curve split.
    pub curve_name: String,
    /// Test images.
    pub test: Split,
    /// The network for this data.
    pub model: ModelConfig,
}

/// Rebuilds a checkpoint's regularisers (for evaluation-mode hooks such as the reference's
/// dropout max-norm) from its metadata (seeded 0); no regulariser if the metadata records none.
/// The analyses of trained networks (fig. 5's, single directions') evaluate with them.
pub fn regularizers_of(
    meta: &serde_json::Value,
) -> Result<Box<dyn neurogen_model::Regularizer>, CnnError> {
    Ok(
        match neurogen_regularizers::RegularizerRecord::from_json(meta)? {
            Some(record) => Box::new(neurogen_regularizers::build(&record.config, 0)?),
            None => Box::new(neurogen_model::NoRegularizer),
        },
    )
}
