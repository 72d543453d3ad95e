//! Regularisers for the neurogen CNN (Tran et al., PNAS 2022, "Adult neurogenesis acts as a
//! neural regulariser"): neurogenesis (turnover, targeted, additive growth, excitability),
//! dropout with max-norm, weight decay and neural noise, combinable in a [`Stack`], with a
//! `reference_quirks` mode that reproduces the authors' code (`neurodl/cnn.py`).
//!
//! All of them implement [`Regularizer`], the trait of `neurogen_model::regularizer`
//! (re-exported here). Third-party crates implement that same trait to write their own
//! regulariser — see this crate's `examples/activity_l1.rs` and the repository's
//! `docs/regularizers.md` — and can combine it
//! with ours in a [`Stack`].
//!
//! ```
//! use neurogen_regularizers::{build, Regularizer, RegularizerSet};
//! let set = RegularizerSet::from_toml_str(r#"
//!     [[regularizer]]
//!     kind = "neurogenesis"
//!     n = 8
//!     every = 640
//!     [[regularizer]]
//!     kind = "dropout"
//! "#)?;
//! let mut stack = build(&set, 0)?;
//! // then: neurogen_model::train(&mut model, &train, eval, &config, &mut stack, &mut observer)
//! assert_eq!(stack.name(), "neurogenesis+dropout");
//! # Ok::<(), neurogen_regularizers::RegError>(())
//! ```
//!
//! The whole program (data → model → regularisers → train → evaluate → save) is
//! `examples/quickstart.rs`; [`save_trained`], [`load_trained`] and [`Trained::evaluate`]
//! save, load and evaluate a network as trained (module [`trained`]). On a `candle-nn` model of
//! one's own, the same regularisers run in one's own loop through
//! `neurogen_model::{VarAdam, VarMapStore, apply_hooks}`: `examples/candle_nn_mlp.rs`.
#![warn(missing_docs)]

// The README's examples (the crate's page on crates.io) run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod dropout;
pub mod error;
pub mod ewc;
pub mod freeze;
pub mod kwta;
pub mod maxnorm;
pub mod neural_noise;
pub mod neurogenesis;
pub mod plan;
pub mod spec;
pub mod stack;
pub mod trained;
pub mod units;
pub mod weight_decay;

pub use dropout::{Dropout, DropoutConfig};
pub use error::RegError;
pub use ewc::{fisher_diagonal, Ewc};
pub use freeze::{Freeze, FreezeConfig};
pub use kwta::{Kwta, KwtaConfig};
pub use maxnorm::renorm_l1;
pub use neural_noise::{NeuralNoise, NeuralNoiseConfig};
pub use neurogen_model::{ForwardCtx, NoRegularizer, Phase, Regularizer, StepCtx, StepCx};
pub use neurogenesis::{Growth, Neurogenesis, NeurogenesisConfig, NeurogenesisEvent, Selection};
pub use plan::{RunPlan, ScheduleWarning};
pub use spec::{build, build_for_run, RegularizerSet, RegularizerSpec};
pub use stack::Stack;
pub use trained::{
    evaluate_as_trained, load_trained, save_trained, RegularizerRecord, Trained, TrainedRun,
};
pub use units::UnitCount;
pub use weight_decay::{WeightDecay, WeightDecayConfig};
