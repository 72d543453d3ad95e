//! Béna & Goodman, "Extreme sparsity gives rise to functional specialization" (arXiv
//! 2106.02626, 2021; later "Dynamics of specialization in neural modules under resource
//! constraints", Nature Communications 2025). Authors' code: GabrielBena/community-of-agents
//! at commit dbca3d3 (`scripts/main_funcspec.py`, `community/common/models/{agents,ensembles,
//! connections}.py`, `community/common/{training,decision,init}.py`,
//! `community/funcspec/{correlation,bottleneck}.py`); the task and data code
//! (`community/data/{tasks,process,datasets}.py`) is not in that commit and is read from the
//! next one, 39c23b0 (same day); Deep-R from the authors' `deepR` package (`deepR/models.py`).
//!
//! How much structural modularity does a network need before its modules specialise? Two
//! agents (one-layer tanh RNNs) each see one image and talk through sparse interconnections
//! that keep a fraction p of the possible connections; trained on `parity_digits`, each
//! agent's specialization on its own input is measured as p goes from one connection to dense.
//!
//! - [`model`]: the community ([`Community`], [`CommunityConfig`]); [`connections`]: the
//!   sparse interconnections, Deep-R and the fixed mask, the sweep of p
//!   ([`sparsity_levels`]); [`task`]: `parity_digits` and the max-output decision;
//!   [`data`]: image pairs; [`mod@train`]: the training loop; [`metrics`]: the correlation metric
//!   and Q (the model-agnostic parts live in [`neurogen_analysis::modularity`]);
//!   [`supermask`]: the weight-mask metric (edge-popup supermask); [`bottleneck`]: the
//!   bottleneck retraining metric; [`study`]: the sweep over p on the study engine, run by
//!   `cargo xtask reproduce modular --scale smoke|quick`.
//!
//! Settings — the paper's and the authors' code's: 784 → 100 tanh RNN per agent, untrained
//! 100 → 10 readout, p ∈ geomspace(1/100², 0.999, 10) rounded to 4 decimals, Deep-R with l1
//! 1e-4, noise 1e-4 · (1 − p), lr geomspace(0.1, 0.001) over the levels, γ 0.95; agents' Adam
//! 1e-3, StepLR γ 0.9, batch 64, up to 15 epochs with early stop at 0.9 test accuracy; the
//! decision at the last step from the agent with the larger max |output|. Ours: the input is
//! repeated T = 2 steps by default (the value; the data code at 39c23b0 repeats it 5
//! times, [`CommunityConfig::n_steps`] sets it); Fashion-MNIST class indices stand in for
//! MNIST digits where MNIST is absent (the authors' `multi` loader pairs an MNIST digit with a
//! Fashion-MNIST image; ours pairs two images of one dataset); the fixed mask has no bias;
//! Deep-R draws its initial connections without replacement and keeps dormant entries dormant
//! through the Adam step (see [`connections`]); the correlation metric pairs inputs by a
//! cyclic derangement (see [`neurogen_analysis::modularity`]).
pub mod bottleneck;
pub mod connections;
pub mod data;
pub mod error;
pub mod metrics;
pub mod model;
pub mod study;
pub mod supermask;
pub mod task;
pub mod train;

pub use bottleneck::{bottleneck_metric, retrain_readout, BottleneckConfig, BottleneckMetric};
pub use connections::{
    check_p, connection_count, geomspace, sparsity_levels, Connection, ConnectionScheme,
    DeepRConfig,
};
pub use data::DigitPairs;
pub use error::{ModularError, Result};
pub use metrics::correlation_metric;
pub use model::{Agent, AgentWeights, Community, CommunityConfig, CommunityOutput};
pub use supermask::{
    global_top_k, mask_metric, train_supermask, MaskMetric, MaskResult, Supermask, SupermaskConfig,
};
pub use task::{max_decision, parity_digits_target, parity_digits_targets, Decision};
pub use train::{
    evaluate, final_states, train, EpochRecord, Evaluation, TrainConfig, TrainReport, Trainer,
};
