//! The convolutional network of Tran et al. (PNAS 2022), "Adult neurogenesis acts as a neural
//! regulariser", in candle: PyTorch-compatible initialisation and parameter names, Adam with
//! PyTorch's semantics and inspectable state, one training loop for one network or many
//! replicas, regulariser hooks, and safetensors checkpoints that load into PyTorch.
//!
//! Layers of the crate, each using only those above it: `runtime` (process-wide switches);
//! `kernels` (CPU and CUDA ops) and
//! `hooks` (forward hooks as data); `net` (the model, K ≥ 1 replicas) and `adam`; `slot` (a
//! step hook's view of one replica) and `regularizer` (the plug-in trait); `store` (what a step
//! hook reads and writes, as the [`ParamStore`] trait) and `varmap` (the same for a `candle-nn`
//! model of one's own: [`VarMapStore`] and the editable optimiser [`VarAdam`]); `loss`, `eval`
//! and `train` (the loop); `checkpoint`; `silence` and `perturb` (hooks for ablation and noise).
//!
//! ```
//! use candle_core::Device;
//! use neurogen_model::{Cnn, ModelConfig};
//! let model = Cnn::new(&ModelConfig::cifar10(), 42, &Device::Cpu)?;
//! assert_eq!(model.hidden_width(1)?, 250);
//! # Ok::<(), neurogen_model::ModelError>(())
//! ```
#![warn(missing_docs)]

// The README's examples (the crate's page on crates.io) run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod adam;
pub mod checkpoint;
pub mod config;
pub mod device;
pub mod error;
pub mod eval;
pub mod hooks;
pub mod init;
pub mod kernels;
pub mod loss;
pub mod metrics;
pub mod net;
pub mod perturb;
pub mod regularizer;
pub mod runtime;
pub mod silence;
pub mod slot;
pub mod store;
pub mod train;
pub mod varmap;

pub use adam::{Adam, AdamConfig, ParamState};
pub use checkpoint::{Checkpoint, CheckpointMeta};
pub use config::ModelConfig;
pub use device::{device_name, parse_device, parse_device_single_stream};
pub use error::{ModelError, Result};
pub use eval::{
    check_finite_weights, evaluate, evaluate_with, feature_map_activations, hidden_activations,
    CachedFeatures,
};
pub use hooks::{
    ForwardCtx, ForwardTransform, HookSite, HookStep, Hooks, LayerInfo, LayerKind, NoHooks, Point,
};
pub use kernels::reference_max_pool2x2 as max_pool2x2;
pub use loss::cross_entropy;
pub use metrics::{EpochMetrics, EvalResult, TrainMetrics};
pub use net::{argmax, param_shapes, Cnn, ForwardOutput};
pub use perturb::AddNoise;
pub use regularizer::{apply_hooks, LossCx, NoRegularizer, PerReplica, Phase, Regularizer};
pub use silence::Silence;
pub use slot::{edit_replica, StepCtx, StepCx};
pub use store::{HiddenLayer, ParamStore};
pub use train::{
    default_loss_readback, replica_batch, train, train_replicas, training_batches, PendingLosses,
    ReplicaResult, SettledStep, Silent, TrainConfig, TrainObserver, Trainer, EVAL_BATCH,
    GPU_LOSS_READBACK,
};
pub use varmap::{VarAdam, VarMapStore};
