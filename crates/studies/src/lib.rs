//! neurogen-studies: the studies of the workspace beyond Tran et al. (2022), one module per
//! paper, each with the paper's model, learning rule and metrics.
//!
//! Each module opens with a doc header that cites the paper, the authors' repository and the
//! commit its reading follows, and says what is the authors' setting, what is the code's and
//! what is ours. A study's experiment (`cargo xtask reproduce <study>`) runs on the study
//! engine; what lives here is the part a researcher can use from their own code.
#![warn(missing_docs)]
pub mod bena2021_modular;
