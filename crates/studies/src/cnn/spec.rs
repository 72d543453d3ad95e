//! A run's identity: everything that determines its result ([`RunSpec`]), hashed for resuming,
//! and its file names.
use neurogen_model::ModelConfig;
use serde::Serialize;

pub use neurogen_lab::store::{slug, stem};

/// Everything that determines a run's result (hashed for resuming).
///
/// The serialised JSON is what [`RunSpec::hash`] hashes, so the fields, their order and their
/// values are part of the `runs.csv` format: changing any of them makes old output directories
/// refuse to resume.
#[derive(Debug, Clone, Serialize)]
pub struct RunSpec {
    /// Figure (e.g. `fig3`).
    pub figure: String,
    /// Group display name (as in `runs.csv`'s `group` column).
    pub group: String,
    /// Repeat index (also the seed of the initial weights, minibatch order and regularisers).
    pub repeat: usize,
    /// Regulariser specs.
    pub specs: Vec<String>,
    /// Reproduce the published code's quirks.
    pub reference_quirks: bool,
    /// Epochs.
    pub epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Learning rate.
    pub lr: f64,
    /// Dataset name.
    pub dataset: String,
    /// Training images.
    pub train_images: usize,
    /// Test images.
    pub test_images: usize,
    /// Name of the split of the per-epoch curves.
    pub curve_split: String,
    /// The network.
    pub model: ModelConfig,
}

impl neurogen_lab::RunSpec for RunSpec {
    fn group(&self) -> &str {
        &self.group
    }

    fn repeat(&self) -> usize {
        self.repeat
    }
}

impl RunSpec {
    /// A stable hash of the whole configuration ([`neurogen_lab::RunSpec::hash`]: the first 8
    /// bytes of the SHA-256 of its JSON, in hex).
    pub fn hash(&self) -> String {
        neurogen_lab::RunSpec::hash(self).expect("RunSpec serialises")
    }

    /// File-name stem of this run (`neurogenesis-dropout-r03`).
    pub fn stem(&self) -> String {
        stem(&self.group, self.repeat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Repeat 0 of fig4's control group at smoke scale, as recorded in `runs.csv` by every
    /// version so far: the hash must not change, or old output directories stop resuming.
    fn fig4_control_smoke() -> RunSpec {
        RunSpec {
            figure: "fig4".into(),
            group: "Control".into(),
            repeat: 0,
            specs: vec![],
            reference_quirks: false,
            epochs: 2,
            batch_size: 4,
            lr: 1e-3,
            dataset: "CIFAR-10".into(),
            train_images: 320,
            test_images: 200,
            curve_split: "test".into(),
            model: ModelConfig::for_input(3, 32, 32, 10),
        }
    }

    #[test]
    fn the_config_hash_is_that_of_existing_output_directories() {
        let s = fig4_control_smoke();
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            "{\"figure\":\"fig4\",\"group\":\"Control\",\"repeat\":0,\"specs\":[],\
             \"reference_quirks\":false,\"epochs\":2,\"batch_size\":4,\"lr\":0.001,\
             \"dataset\":\"CIFAR-10\",\"train_images\":320,\"test_images\":200,\
             \"curve_split\":\"test\",\"model\":{\"in_channels\":3,\"in_height\":32,\
             \"in_width\":32,\"conv_channels\":[16,16,32,32,64,64],\"hidden_sizes\":[250,250,250],\
             \"num_classes\":10}}"
        );
        assert_eq!(s.hash(), "931d8ec9d85f5e01");
        let mut t = s.clone();
        t.epochs = 3;
        assert_ne!(s.hash(), t.hash());
    }

    #[test]
    fn stems_are_file_name_safe() {
        let mut s = fig4_control_smoke();
        s.group = "Neurogenesis + Dropout (p = 0.1)".into();
        s.repeat = 3;
        assert_eq!(s.stem(), "neurogenesis-dropout-p-0-1-r03");
        assert_eq!(slug("Targeted (low importance)"), "targeted-low-importance");
    }
}
