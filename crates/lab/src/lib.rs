//! neurogen-lab: the study engine of neurogen as a library.
//!
//! A study declares its arms (keyed groups × repeats, each with a serialisable run spec whose
//! hash is the resume key), its claims and its report; the engine owns the run store, the
//! schedule, the claims with their statistics and the report. The engine depends on no model
//! and no candle: a study's own crate brings the model and the training loop.
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod claims;
pub mod events;
pub mod export;
pub mod interim;
pub mod plot;
pub mod report;
pub mod schedule;
pub mod shard;
pub mod store;
pub mod study;
pub mod summary;

pub use claims::{Claim, Value, Verdict};
pub use events::{Event, Observer};
pub use report::Report;
pub use schedule::{run_study, RunError};
pub use store::{Row, RunStatus, RunStore, StoreError};
pub use study::{Arm, RunCx, RunSpec, Study};
