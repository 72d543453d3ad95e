//! The scales every study's `--scale` names: `smoke` (minutes, run by CI), `quick` (a regime
//! like the paper's on 2 CPU cores) and `paper`. What a scale fixes is each study's own (e.g.
//! [`crate::tran2022::scale::Scale`], [`crate::morcos2018::SdScale`]). With the crate's `clap`
//! feature, [`ScaleName`] is a `clap::ValueEnum`, as the command line parses it.
use serde::Serialize;

/// Which scale to run at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ScaleName {
    /// A couple of minutes: tiny subsets, 2 epochs, 2 repeats (CI runs it).
    Smoke,
    /// The paper's regime on a CIFAR-10 subset (7,500 training images, 15 epochs, batch 4):
    /// the control overfits (training ≥ test + 15 points) and reaches ≥ 50 % test accuracy;
    /// fig2 in about an hour on 2 CPU cores.
    Quick,
    /// The published protocol: full CIFAR-10, batch 4, 15 epochs (22 with dropout), 20 repeats.
    Paper,
}
