//! GEVB: credit assignment by broadcasting one global error vector, in vectorized nonnegative
//! networks, beside exact backprop and direct feedback alignment (issue #42).
//!
//! **Paper**: D. G. Clark, L. F. Abbott, S. Chung, "Credit assignment through broadcasting a
//! global error vector", NeurIPS 2021 (arXiv 2106.04089).
//! **Authors' code**: `davidclark1/VectorizedNets` at commit `0a5856d` ("Update README yet
//! again"); this module follows `vnn.py` (`expand_input`, `Linear`, `tReLU`,
//! `set_model_grads`, `post_step_callback`), `init_methods.py`, `dfa_util.py`,
//! `nonvec_models.py` and `train_models.py`, read, not copied.
//!
//! What is here:
//! - [`VecFc`] ([`vnn`]): the vectorized FC network — K-vector units, scalar weights shared
//!   over K, biases `[K, n]`, the gate `G = 1[t·Z ≥ 0]` with fixed ON/OFF-paired signs `t`, one
//!   output unit giving K logits; the "+" variant's ON/OFF-paired non-negative initialisation
//!   and clamp.
//! - [`VecConv`] ([`conv`]): the vectorized convolutional network (Conv-Vec) — kernels shared
//!   over K, channel-shared ON/OFF signs, average pooling, then vectorized FC layers.
//! - [`Fc`] ([`fc`]): the conventional FC network of the baselines (the authors' `aReLU`) with
//!   DFA's fixed feedback matrix; [`ConvNet`] ([`cnn`]): the conventional CNN of the
//!   baselines, likewise.
//! - [`rules`]: [`Rule::Backprop`] (autograd), [`Rule::Gevb`], [`Rule::Dfa`] as per-parameter
//!   [`Updates`]; [`RuleTrainer`] ([`train`]) feeds them to the workspace's
//!   `neurogen_model::Adam` through a filled candle `GradStore` (why: see [`rules`]).
//! - [`mod@alignment`]: per layer, the angle and sign agreement between a rule's update and the
//!   exact gradient.
//! - [`data`]: flattened, normalised minibatches and the checks on inputs and labels.
//!
//! Settings — the paper's: architectures (`784·10 → 1024 → 512 → 1`,
//! `3072·10 → 1024 → 512 → 512 → 1`, the conventional nets of the same widths), inputs
//! `(x − 0.5)/0.5`, Adam lr 3e-4 ([`paper_adam`]), batch 128, the GEVB formula. The code's
//! (not stated in the paper): the initialisations (`N(0, 1/(f·n_in))`, f = 1 first layer,
//! 0.5 later; "+": `W̃ ~ N(0, 1/(0.25·n_in))` paired as `relu(±W̃)`; first layer scaled by
//! `√K`), zero biases, the gate's `≥ 0`, the conventional nets' alternating-sign `aReLU`, DFA's
//! single feedback matrix `U[0, 1)` ("+") or `U[−1, 1)` truncated per layer without
//! normalisation, cross-entropy with mean reduction. Ours: the first layer as one `[d, K·n]`
//! product instead of the block-diagonal `[K·d, n]` matmul (same numbers, K× fewer
//! operations), random numbers from ChaCha8 (same distributions as PyTorch's, other draws),
//! and a typed error for every bad input.
//!
//! - [`study`]: the study on the engine — `cargo xtask reproduce gevb --scale smoke|quick`
//!   trains FC-Vec+ by GEVB and by backprop and a conventional FC+ by DFA and by backprop for
//!   several seeds on Fashion-MNIST (with `--conv`, also a Conv-Vec+ by GEVB and by backprop
//!   and a Conv+ by DFA and by backprop) and decides
//!   the paper's claims; [`tracking`]: the alignment each run measures during training.
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use neurogen_studies::clark2021_gevb::{rule_alignment, Rule, VecFc, VecFcConfig};
//! let net = VecFc::new(&VecFcConfig { classes: 4, input_dim: 6, hidden: vec![8], mono: true }, 1, &Device::Cpu)?;
//! let x = Tensor::randn(0f32, 1., (16, 6), &Device::Cpu)?;
//! let y = Tensor::new(&[0u32, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3], &Device::Cpu)?;
//! for a in rule_alignment(&net, Rule::Gevb, &x, &y)? {
//!     println!("{}: {:?} degrees", a.name, a.angle_degrees);
//! }
//! # Ok::<(), neurogen_studies::clark2021_gevb::GevbError>(())
//! ```
pub mod alignment;
pub mod cnn;
pub mod conv;
pub mod data;
pub mod error;
pub mod fc;
pub mod init;
pub mod rules;
pub mod study;
pub mod tracking;
pub mod train;
pub mod vnn;

pub use alignment::{alignment, rule_alignment, AlignmentLog, AlignmentRecord, ParamAlignment};
pub use cnn::{ConvNet, ConvNetConfig, ConvNetForward};
pub use conv::{VecConv, VecConvConfig, VecConvForward, VecConvLayer};
pub use data::{check_batch, flat_batch};
pub use error::{GevbError, Result};
pub use fc::{Fc, FcConfig, FcForward};
pub use rules::{Rule, RuleNetwork, RuleOutput, Updates};
pub use train::{apply_updates, evaluate, paper_adam, EvalStats, RuleTrainer, StepStats};
pub use vnn::{VecFc, VecFcConfig, VecForward};
