//! A local, biologically inspired learning rule: Krotov & Hopfield's "unsupervised learning by
//! competing hidden units", with its supervised read-out on the frozen hidden layer.
//!
//! **Why this rule.** Issue 43's seed paper, Inoue, Röhrbein & Knoblauch, "Guiding Sparse
//! Neural Networks with Neurobiological Principles to Elicit Biologically Plausible
//! Representations" (arXiv 2603.03234, 2026), claims a local rule that yields sparse,
//! log-normal, Dale-compliant weights, but only its abstract is retrievable (no equations,
//! numbers or code). This module is **not** that rule: it is a published local rule with
//! published code, used in its place so that the seed's claims can be measured on a local
//! learner at all.
//!
//! **Paper.** D. Krotov and J. J. Hopfield, "Unsupervised learning by competing hidden units",
//! PNAS 116(16):7723–7731, 2019 (doi:10.1073/pnas.1820458116).
//! **Authors' code.** `DimaKrotov/Biological_Learning`, read at commit `45478bb` (HEAD),
//! notebook `Unsupervised_learning_algorithm_MNIST.ipynb`: the unsupervised rule only.
//!
//! **The rule** ([`rule`]; the paper's Eq. 3 in the notebook's minibatch form). Hidden unit
//! `μ` has weights `W_μ` (a row of `W`, `[hidden, n_input]`). For each example `v` of a
//! minibatch, the input currents are `I_μ = Σ_i sign(W_μi)|W_μi|^(p−1) v_i`; the unit with the
//! largest current gets `g = 1` (Hebbian), the unit ranked `k`-th gets `g = −Δ`
//! (anti-Hebbian), all others `g = 0`. Summed over the minibatch,
//! `ds_μ = Σ_v g_μ(v)·v − (Σ_v g_μ(v)·I_μ(v))·W_μ`, and `W ← W + ε·ds / max|ds|` (the largest
//! change is `ε`). The learning rate falls linearly over the epochs,
//! `ε = ε₀·(1 − epoch/epochs)`. The `−⟨g·I⟩·W` term drives each trained unit's `p`-norm to 1.
//!
//! **The read-out** ([`readout`]; the paper's supervised stage, not in the published code):
//! power-ReLU hidden activations `h_μ = max(0, Σ_i W_μi v_i)^n`, outputs
//! `c = tanh(β·h·S)`, loss `Σ_α |c_α − t_α|^m` with `t = ±1` one-hot, trained with Adam on
//! the frozen `W`.
//!
//! **Settings.**
//! - Code (the notebook): `p = 2`, `k = 2`, `Δ = 0.4`, `ε₀ = 0.02`, minibatch 100,
//!   `W ~ N(0, 1)`, precision floor `1e-30` for `max|ds|`, 200 epochs, 100 hidden units
//!   (the paper's MNIST network has 2,000); inputs in `[0, 1]` (pixels / 255).
//! - Paper: the read-out's form (power `n`, `tanh` outputs, loss power `m`) and its MNIST
//!   values `n = 4.5`, `m = 6` ([`KrotovConfig::notebook`] uses them). The paper's text was
//!   not retrievable when this module was written, so these two values (and the form) follow
//!   our reading of it and should be checked against the paper.
//! - Ours: `β`, the read-out's Adam learning rate and its zero initialisation, the epochs of
//!   each stage in our runs (short, CPU), ties in the ranking broken towards the lower unit
//!   index, ChaCha8 draws instead of NumPy's, and Fashion-MNIST in place of MNIST.
//!
//! **Measured (ours, CPU, not the paper's protocol)** with `examples/krotov2019_local_smoke.rs`
//! (first 2,000 Fashion-MNIST training images, minibatch 100, the notebook's rule settings,
//! `β = 1e-6`, read-out Adam lr 0.01; test on 2,000 images):
//! - 80 epochs of the rule (1,600 steps, 64 s), then 10 of the read-out: test accuracy 0.671
//!   (chance 0.1), but only 4 of 100 units have reached unit norm (the notebook runs 200
//!   epochs of 600 steps), and 20 read-out epochs on the *untrained* `N(0, 1)` weights reach
//!   0.670 (30 epochs of the rule, then 20 of the read-out: 0.690). In runs this short the read-out rides on random
//!   power-ReLU projections; the rule's own features need the paper's scale.
//! - Starting near the fixed point instead (`W ~ N(0, 1/28²)`, ours) every unit reaches unit
//!   norm within 30 epochs, but one unit wins every image and the anti-Hebbian term turns the
//!   other 99 into anti-prototypes that no test image excites (test accuracy 0.099): the
//!   notebook's large initial norms, which let units take turns at winning while they
//!   shrink, matter.
//! - Plausibility report after the 80-epoch run (`W` as 784 presynaptic pixels × 100 units;
//!   features on the test images): weight magnitudes fit best by the exponential (Δ-AIC
//!   log-normal 8,144, normal 87,416; KS statistic log-normal 0.063, exponential 0.105,
//!   normal 0.192, all p < 1e-200 at n = 78,400); Dale compliance 0.000 (every pixel's
//!   outgoing weights have both signs: the rule keeps the signed `N(0, 1)` start); no zero
//!   weights, Hoyer 0.34; features zero 0.43 of the time, population Hoyer 0.62, lifetime
//!   sparsity 0.87, no dead unit.
//! - Robustness after 30 epochs of the rule and 20 of the read-out (test accuracy 0.690;
//!   attacks on the read-out's `c` as logits): FGSM 0.338 / 0.097 / 0.024 and PGD (10 steps)
//!   0.265 / 0.009 / 0.001 at ε = 0.02 / 0.05 / 0.1, far below the backprop MLP's (FGSM
//!   0.431 / 0.341 / 0.195 after one epoch): the steep `x^4.5` activations amplify input
//!   perturbations.
//!
//! **Through the learner seam** ([`KrotovLearner`], a [`neurogen_learners::Learner`]): the
//! first `unsupervised_epochs · batches_per_epoch` calls of `learn` apply the local rule
//! (labels checked but unused); later calls train only the read-out on the frozen hidden
//! layer. `scores` gives `c`.
pub mod error;
pub mod learner;
pub mod readout;
pub mod rule;

pub use error::{LocalRuleError, Result};
pub use learner::{KrotovConfig, KrotovLearner};
pub use readout::PowerReadout;
pub use rule::{krotov_delta, power_relu, KrotovLayer};
