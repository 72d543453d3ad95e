//! What the single-directions study needs from the program that runs it ([`SdContext`]): the
//! settings, the study's directory, the device its networks are analysed on, and the training
//! of each arm's runs (resumed from the run store). The command line
//! (`cargo xtask reproduce single-directions`) implements it with its device, progress bars and
//! lock; [`super::run`] is the study on top. [`SdData`] is the two data sets it reads.
use std::path::Path;

use candle_core::Device;

use super::{SdError, SdScale};
use crate::cnn::{FigureData, RunRecord};
use crate::tran2022::figure::Group;

/// The program running the study, as the study sees it.
pub trait SdContext {
    /// The settings (the scale's, after the command line's overrides).
    fn scale(&self) -> &SdScale;

    /// The study's directory (`OUT/single-directions`: `runs.csv`, `checkpoints/`, `curves/`,
    /// the saved analyses in `analysis/`, the report and its plots).
    fn dir(&self) -> &Path;

    /// The device the analyses load the runs' checkpoints on (and the report names).
    fn device(&self) -> &Device;

    /// Trains the runs of `group` (repeats `0..repeats`) on `data` that the run store does not
    /// record yet, and returns every run of the group (recorded before or now).
    fn train(
        &self,
        data: &FigureData,
        group: &Group,
        repeats: usize,
    ) -> Result<Vec<RunRecord>, SdError>;
}

/// The study's data: CIFAR-10 for the CNN, Fashion-MNIST for the MLP.
pub struct SdData<'a> {
    /// CIFAR-10.
    pub cifar: &'a neurogen_data::Dataset,
    /// Fashion-MNIST.
    pub fashion: &'a neurogen_data::Dataset,
    /// Where each came from (the report's `Data:` line).
    pub sources: (String, String),
}

impl SdData<'_> {
    /// Checks that each data set is the kind its network trains on.
    pub fn check(&self) -> Result<(), SdError> {
        use neurogen_data::DatasetKind;
        for (net, want, got) in [
            ("CNN", DatasetKind::Cifar10, self.cifar.kind),
            ("MLP", DatasetKind::FashionMnist, self.fashion.kind),
        ] {
            if got != want {
                return Err(SdError::WrongData { net, want, got });
            }
        }
        Ok(())
    }
}
