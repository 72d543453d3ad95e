//! The convolutional network of Tran et al. (PNAS 2022), "Adult neurogenesis acts as a neural
//! regulariser", in candle: PyTorch-compatible initialisation and parameter names, Adam with
//! PyTorch's semantics and inspectable state, a training loop with regulariser hooks, and
//! safetensors checkpoints that load into PyTorch.
//!
//! ```
//! use candle_core::Device;
//! use neurogen_model::{Cnn, ModelConfig};
//! let model = Cnn::new(&ModelConfig::cifar10(), 42, &Device::Cpu)?;
//! assert_eq!(model.hidden_width(1)?, 250);
//! # Ok::<(), neurogen_model::ModelError>(())
//! ```
#![warn(missing_docs)]

pub mod adam;
pub mod checkpoint;
pub mod config;
pub mod device;
pub mod error;
pub mod hookplan;
pub mod init;
pub mod kernels;
pub mod metrics;
pub mod network;
pub mod regularizer;
pub mod replica;
pub mod silence;
pub mod train;

pub use adam::{Adam, AdamConfig, ParamState};
pub use checkpoint::{Checkpoint, CheckpointMeta};
pub use config::ModelConfig;
pub use device::{device_name, parse_device, parse_device_single_stream};
pub use error::{ModelError, Result};
pub use metrics::{EpochMetrics, EvalResult, TrainMetrics};
pub use network::{argmax, max_pool2x2, Cnn, ForwardOutput};
pub use regularizer::{ForwardCtx, HookStep, NoRegularizer, Regularizer, StepCtx, StepHook};
pub use replica::{train_replicas, ReplicaAdam, ReplicaCnn, ReplicaRun};
pub use silence::Silence;
pub use train::{
    evaluate, evaluate_with, hidden_activations, train, Silent, TrainConfig, TrainObserver,
};
