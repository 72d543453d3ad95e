//! The three scales of a reproduction: the library's [`neurogen_studies::tran2022::scale`]
//! (with its `clap` feature, [`ScaleName`] is every study's `--scale`).
pub use neurogen_studies::tran2022::scale::{Scale, ScaleName};
