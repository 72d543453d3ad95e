//! Dale's-law networks: DANN, ColumnEI and the MLP baseline of Cornford et al.
//!
//! **Paper.** J. Cornford, D. Kalajdzievski, M. Leite, A. Lamarquette, D. M. Kullmann,
//! B. Richards, "Learning to live with Dale's principle: ANNs with separate excitatory and
//! inhibitory units", ICLR 2021.
//! **Authors' code.** `linclab/ltlwdp`, read at commit `624fe94` ("Adding code"; HEAD adds only
//! a README edit): `ariamis/ei_models.py` (DANN layer, initialisation, corrected SGD),
//! `ariamis/column_ei_models.py` (ColumnEI), `ariamis/base_models.py` (MLP), `run_exp.py`
//! (network construction, training loop) and `exp_configs/test_mnist_*.yaml` (settings).
//! **Why here.** Issue 43's seed paper, Inoue, Röhrbein & Knoblauch, "Guiding Sparse Neural
//! Networks with Neurobiological Principles to Elicit Biologically Plausible Representations"
//! (arXiv 2603.03234, 2026), claims a local rule that yields Dale-compliant, log-normal, sparse
//! weights; only its abstract is retrievable (no equations, numbers or code), so the study
//! anchors its Dale's-law networks on Cornford et al.'s published code, and measures
//! plausibility with `neurogen_analysis::plausibility` ([`report`], with
//! [`fgsm`](mod@fgsm), [`pgd`](mod@pgd) and [`few_shot`]); the same report covers the
//! paper's CNN ([`cnn_plausibility_report`]) and GEVB's networks ([`gevb_report`]).
//!
//! **Elsewhere:** the local learning rule (item 2) is [`crate::krotov2019_local`]. PGD
//! ([`pgd`](mod@pgd)) sits beside FGSM.
//! **The study.** `cargo xtask reproduce dale --scale smoke|quick` trains the three networks
//! for several seeds on the study engine and decides the paper's claims ([`study`]); with
//! `--local-rule` a fourth arm, Krotov & Hopfield's local rule as a stand-in for the seed
//! paper's ([`local_rule`]), and the seed's four claims against the backprop MLP.
//!
//! **Settings.**
//! - Paper and code: the layers' equations ([`dann`], [`column_ei`], [`mlp`]), their
//!   initialisations and update policies (corrected SGD and clamps for DANN, clamps for
//!   ColumnEI), 3 hidden layers of 500 E + 50 I (ColumnEI: 550 units at 10:1; DANN's output
//!   layer 10 E + 1 I), batch 32, 50 epochs, learning rates DANN 0.1107, MLP 0.2976, ColumnEI
//!   0.05273 (the MNIST configs; [`NetKind::paper_lr`]); inputs in `[0, 1]`; mean
//!   cross-entropy.
//! - Code, not stated in the paper: ColumnEI's first layer is all-excitatory with a bias that
//!   centres the pre-activations with the dataset's pixel mean (Fashion-MNIST 0.2860).
//! - Ours: Fashion-MNIST in place of MNIST (not in the workspace), or CIFAR-10 in colour
//!   flattened to 3,072 inputs (`--dataset cifar10`; its MLP rate, ColumnEI pixel mean, local
//!   rule `β` and quick scale are ours: [`study::DaleSettings::for_data`]); ChaCha8 draws instead of
//!   NumPy's, so the same seed does not give the authors' weights; the minibatch order of
//!   `neurogen_data::epoch_batches`; `γ`'s `ε = 1e-8` is the code's.
pub mod column_ei;
pub mod dann;
pub mod data;
pub mod error;
pub mod few_shot;
pub mod fgsm;
pub mod gevb_report;
pub mod init;
pub mod layer;
pub mod local_rule;
pub mod mlp;
pub mod net;
pub mod pgd;
pub mod report;
pub mod study;
pub mod train;

pub use column_ei::{column_ei_split, ColumnEiLayer};
pub use dann::{DannGrads, DannLayer, DANN_EPSILON};
pub use data::unit_tensors;
pub use error::{DaleError, Result};
pub use few_shot::{few_shot_curve, nearest_mean_accuracy, Features, FewShotPoint};
pub use fgsm::{fgsm, fgsm_curve, FgsmPoint};
pub use layer::Layer;
pub use mlp::DenseLayer;
pub use net::{
    DaleNet, Forward, NetConfig, NetKind, CIFAR10_PIXEL_MEAN, DANN_NO_CORRECTION_LR,
    FASHION_MNIST_PIXEL_MEAN, MNIST_PIXEL_MEAN, PAPER_BATCH_SIZE,
};
pub use pgd::{pgd, pgd_curve};
pub use report::{
    cnn_plausibility_report, conv_as_synapses, plausibility_report, synapse_report,
    LayerActivityReport, PlausibilityReport, SynapseReport, HISTOGRAM_BINS,
};
pub use train::{cross_entropy, evaluate, train, train_step, Evaluation, TrainOptions};
