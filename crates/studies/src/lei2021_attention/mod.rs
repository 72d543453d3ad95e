//! Object-based attention through internal gating: a recurrent network whose top-down masks
//! multiply its own feed-forward activity, attending to one object after another with
//! inhibition of return (issue #45).
//!
//! **Paper**: J. Lei, A. S. Benjamin, K. P. Kording, "Object-based attention through
//! internal gating", arXiv 2106.04540 (2021).
//! **Authors' code**: `KordingLab/object-based-attention` at commit `59d8d6f` ("Update
//! netdiagram.png"); this module follows `models/mnist_model.py` (`Net`, `Runner.train`,
//! `Runner.test`, `Runner.visualize`), `data/mnist_loader.py` (`MultiMNIST`, `get_data`),
//! `train_mnist.py` and `analysis/graphs.py` (`inhibition_plot`), read, not copied.
//!
//! What is here:
//! - [`data`]: multi-object scenes ([`Scenes`]) composed from 28×28 [`Items`] with the
//!   authors' geometry and noise, seeded; the authors' splits ([`paper_splits`]); MNIST or
//!   Fashion-MNIST IDX files ([`load_items`]).
//! - [`gating`]: the gate `x·(1 − s·m)` and inhibition of return ([`suppress`],
//!   [`extend_ior`]).
//! - [`model`]: the recurrent gated network ([`AttentionNet`]: one [`AttentionNet::step`],
//!   one object's passes [`AttentionNet::attend`]) and the feed-forward control
//!   ([`FeedForwardNet`]).
//! - [`loss`]: which object a pass attended ([`select_objects`]) and its loss
//!   ([`object_loss`]).
//! - [`mod@train`]: [`AttentionTrainer`], [`ControlTrainer`], the training loop [`fn@train`] with
//!   a progress callback, and the evaluation (accuracy, inhibition on attended and unattended
//!   pixels, modulation per layer).
//! - [`analysis`]: the masks, gated inputs and IOR sequence of a few scenes
//!   ([`trace_scenes`]) and their SVG grid ([`mask_grid_svg`], [`save_mask_grid`]).
//! - [`study`]: the study on the engine (gated network against the feed-forward control,
//!   the paper's claims, the report).
//! - [`tuning`]: oriented bars ([`bar`]), tuning curves with and without attention
//!   ([`tuning_curves`]) and the regression that tests multiplicative scaling
//!   ([`scaling_fit`]).
//!
//! Settings — the paper's: the architecture, gating strength 0.2 (gains in `[0.8, 1.2]`),
//! inhibition of return, two objects offset by 14 px on a 28×42 canvas, the per-object loss
//! with penalty 1e3, Adam 1e-3, batch 64, 10–30 epochs. The code's (where it is more precise
//! than, or differs from, the paper and the issue's summary):
//! - 5 iterations per object, each object starting from zero masks: the first iteration is
//!   ungated and the IOR mask takes effect from the second; the IOR mask gains the units
//!   whose mask (the one the fifth iteration gates with) is `< 0.5`.
//! - The matching target of object `k` is not its bare image but `(1 − s)·x + s·d_k`
//!   (`MultiMNIST` returns these as `data`), which is what a perfect gate for `k` would leave.
//! - Each object pass is its own backward pass and Adam step (so a minibatch of two-object
//!   scenes makes two updates, the second pass running on the updated weights).
//! - Scene partners are drawn with replacement (`resample = True`): both objects may share a
//!   label. `train_mnist.py` defaults to three objects; the paper's analyses use two, our
//!   default ([`SceneConfig::paper`]).
//! - Noise is `U(0, 0.3)` on pixels that are `≤ 0` after summing and clamping; inputs are
//!   `ToTensor` bytes over 255, not normalised.
//! - Split: 70 % / 30 % of the 60,000 training images (42,000 / 18,000) and the 10,000 test
//!   images.
//!
//! Ours: Fashion-MNIST items by default (MNIST is not on these machines; [`load_items`]
//! reads MNIST IDX files where they exist, and the published numbers are MNIST's); random
//! numbers from ChaCha8 (PyTorch's distributions, other draws); scenes composed per
//! minibatch from a seed instead of at every access; the control ([`FeedForwardNet`]: the
//! same feed-forward path with one 10-way head per position — the paper's baseline is not in
//! the code); the modulation-per-layer measure; a typed error for every bad input. The
//! code's unused `Dropout(0.7)` is left out.
//!
//! The study on the engine is [`study`]: `cargo xtask reproduce attention --scale smoke|quick`
//! runs it (its header says which of the quick scale's settings are the paper's, the code's
//! and ours); its report holds the mask figure, the modulation per layer and the tuning
//! regression. The bars of [`tuning`] are drawn directly (a Gaussian cross-section, cut at the
//! bar's length), not by rotating and shifting an image with PIL as the authors' script does.
//!
//! ```
//! use candle_core::Device;
//! use neurogen_studies::lei2021_attention::*;
//! let cfg = SceneConfig::paper();
//! // Eight flat items of four classes, composed into eight two-object scenes.
//! let items = Items::new(vec![0.6; 8 * 28 * 28], vec![0, 1, 2, 3, 0, 1, 2, 3])?;
//! let scenes = Scenes::compose(&items, &cfg, 1)?;
//! let net = AttentionNet::new(AttentionConfig::paper(&cfg), 0, &Device::Cpu)?;
//! let eval = evaluate_attention(&net, &scenes, 4)?;
//! assert!((0.0..=1.0).contains(&eval.accuracy));
//! # Ok::<(), AttentionError>(())
//! ```
pub mod analysis;
pub mod data;
pub mod error;
pub mod gating;
pub mod loss;
pub mod model;
pub mod study;
pub mod train;
pub mod tuning;

pub use analysis::{mask_grid_svg, save_mask_grid, trace_scenes, MaskGrid, PassTrace, SceneTrace};
pub use data::{
    compose_canvas, load_items, paper_splits, Items, SceneBatch, SceneConfig, Scenes, CLASSES,
    ITEM, OFFSET,
};
pub use error::{AttentionError, Result};
pub use gating::{extend_ior, gate, suppress, IOR_THRESHOLD};
pub use loss::{gating_targets, object_loss, select_objects, ObjectLoss, PAPER_PENALTY};
pub use model::{
    AttentionConfig, AttentionNet, FeedForwardNet, Ior, Iteration, ObjectPass, Shapes,
};
pub use train::{
    evaluate_attention, train, AttentionTrainer, ControlTrainer, Evaluation, Progress,
    SceneLearner, StepStats, TrainConfig, TrainSummary,
};
pub use tuning::{
    bar, scaling_fit, study_bars, summarize_tuning, tuning_curves, ScalingFit, TuningCurves,
    TuningSummary,
};
