//! neurogen-studies: the studies of the workspace, one module per paper, each with the paper's
//! model, learning rule and metrics, and the pieces studies share.
//!
//! Each module opens with a doc header that cites the paper, the authors' repository and the
//! commit its reading follows, and says what is the authors' setting, what is the code's and
//! what is ours:
//!
//! - [`tran2022`]: the paper's figures 2–5 (Tran et al. 2022, neurogenesis as a regulariser):
//!   scales, groups, claims, the report header and the figures' scripts.
//! - [`morcos2018`]: single directions and generalisation (Morcos et al. 2018), the premise of
//!   Tran et al.'s Fig. 5, whole: its scales, arms, per-network analyses, claims, report and
//!   script on the CNN runner.
//! - [`cache`]: the JSON file that caches a network's analyses beside its run (fig. 5's and
//!   single directions').
//! - [`scale`]: the scale names every study's `--scale` takes.
//! - [`cnn`]: the paper's CNN runner that the CNN studies share (a run's spec and hash, its
//!   `runs.csv` row, training a batch of runs as replicas, saving checkpoints and curves).
//! - [`bena2021_modular`]: two-module recurrent communities, Deep-R and fixed-mask
//!   interconnections, and three specialization metrics (Béna & Goodman 2021).
//! - [`clark2021_gevb`]: vectorized nonnegative networks trained by global error-vector
//!   broadcasting, beside backprop and direct feedback alignment (Clark, Abbott & Chung 2021).
//! - [`cornford2021_dale`]: Dale's-law networks (DANN, ColumnEI) and a biological-plausibility
//!   report for any network (Cornford et al. 2021; Inoue et al. 2026).
//! - [`krotov2019_local`]: a local learning rule, unsupervised learning by competing hidden
//!   units with a supervised read-out, through the learner seam (Krotov & Hopfield 2019; in
//!   place of Inoue et al.'s unretrievable rule).
//! - [`lei2021_attention`]: a recurrent network attending to one object after another by
//!   top-down multiplicative gating and inhibition of return (Lei, Benjamin & Kording 2021).
//! - [`shen2021_flymodel`]: the fruit-fly model against backprop baselines in
//!   class-incremental learning, on the study engine (Shen, Dasgupta & Navlakha 2021).
//!
//! A study's experiment (`cargo xtask reproduce <study>`) runs on the study
//! engine; what lives here is the part a researcher can use from their own code.
#![warn(missing_docs)]
pub mod bena2021_modular;
pub mod cache;
pub mod clark2021_gevb;
pub mod cnn;
pub mod cornford2021_dale;
pub mod krotov2019_local;
pub mod lei2021_attention;
pub mod morcos2018;
pub mod scale;
pub mod shen2021_flymodel;
pub mod tran2022;

pub use scale::ScaleName;
