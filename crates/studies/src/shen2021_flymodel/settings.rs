//! What a FlyModel run is made of: the benchmark ([`Benchmark`]), the settings a scale fixes
//! ([`FlyScale`]) and the methods compared ([`Method`]).
use neurogen_data::DatasetKind;
use neurogen_learners::features::ExtractorConfig;
use neurogen_model::ModelConfig;
use serde::{Deserialize, Serialize};

/// The benchmark a study runs. MNIST, KMNIST and Fashion-MNIST files share their names, so the
/// kind is stated, never guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Benchmark {
    /// Fashion-MNIST, raw pixels.
    FashionMnist,
    /// MNIST digits, raw pixels.
    Mnist,
    /// Kuzushiji-MNIST, raw pixels.
    Kmnist,
    /// MNIST-20 (the paper's): MNIST's digits as classes 0–9 and Fashion-MNIST's as 10–19, 10
    /// tasks of 2.
    Mnist20,
    /// CIFAR-10, 5 tasks of 2, on features of a frozen CNN trained on the other half of the
    /// training set.
    Cifar10,
}

impl Benchmark {
    /// Display name.
    pub fn display(self) -> &'static str {
        match self {
            Benchmark::FashionMnist => "Fashion-MNIST",
            Benchmark::Mnist => "MNIST",
            Benchmark::Kmnist => "KMNIST",
            Benchmark::Mnist20 => "MNIST-20 (MNIST + Fashion-MNIST)",
            Benchmark::Cifar10 => "CIFAR-10",
        }
    }

    /// The value of `reproduce flymodel --dataset` that selects it.
    pub fn cli_name(self) -> &'static str {
        match self {
            Benchmark::FashionMnist => "fashion-mnist",
            Benchmark::Mnist => "mnist",
            Benchmark::Kmnist => "kmnist",
            Benchmark::Mnist20 => "mnist20",
            Benchmark::Cifar10 => "cifar10",
        }
    }

    /// Number of classes.
    pub fn classes(self) -> usize {
        match self {
            Benchmark::Mnist20 => 20,
            _ => 10,
        }
    }

    /// The study's directory under the output folder (Fashion-MNIST keeps the original
    /// `flymodel`); also the study's id.
    pub fn dir_name(self) -> &'static str {
        match self {
            Benchmark::FashionMnist => "flymodel",
            Benchmark::Mnist => "flymodel-mnist",
            Benchmark::Kmnist => "flymodel-kmnist",
            Benchmark::Mnist20 => "flymodel-mnist20",
            Benchmark::Cifar10 => "flymodel-cifar10",
        }
    }

    /// The kind of the main dataset (MNIST-20: MNIST; Fashion-MNIST is its second half).
    pub fn data_kind(self) -> DatasetKind {
        match self {
            Benchmark::FashionMnist => DatasetKind::FashionMnist,
            Benchmark::Mnist | Benchmark::Mnist20 => DatasetKind::Mnist,
            Benchmark::Kmnist => DatasetKind::Kmnist,
            Benchmark::Cifar10 => DatasetKind::Cifar10,
        }
    }
}

/// How big the study is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlyScaleName {
    /// Seconds: 2,000 training / 1,000 test images (CIFAR-10: 500 / 300), 2 repeats, one
    /// hidden layer of 64.
    Smoke,
    /// Minutes: every image, 5 repeats, the MLP 256 → 256.
    Quick,
    /// 10 repeats, 5 epochs per task (offline 10).
    Paper,
}

/// The frozen extractor of a benchmark on learnt features (CIFAR-10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractorScale {
    /// Images of the extractor half it trains on (None: all of the half).
    pub images: Option<usize>,
    /// Training epochs.
    pub epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Width of the hidden layers (the last is the feature layer; the paper's CNN: 250).
    pub hidden: usize,
}

impl ExtractorScale {
    /// The extractor's settings for images of `kind`'s shape.
    pub fn config(&self, kind: DatasetKind) -> ExtractorConfig {
        let s = kind.shape();
        let model = ModelConfig::for_input(s.channels, s.height, s.width, 10)
            .with_hidden_width(self.hidden);
        ExtractorConfig {
            batch_size: self.batch_size,
            lr: self.lr,
            ..ExtractorConfig::last_hidden(model, self.epochs)
        }
    }
}

/// A-GEM's settings (the MLP, Adam, batch and epochs are the vanilla baseline's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GemScale {
    /// Training examples of each finished task kept in the episodic memory.
    pub memory_per_task: usize,
    /// Memory examples drawn for each step's reference gradient.
    pub memory_batch: usize,
}

impl Default for GemScale {
    /// A-GEM's defaults (Chaudhry et al. 2019): 256 and 256.
    fn default() -> Self {
        GemScale {
            memory_per_task: 256,
            memory_batch: 256,
        }
    }
}

/// The settings a scale fixes (ours unless the report says "paper"). Its JSON is that of the
/// former `results.json`'s `scale` ([`super::legacy`] reads it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlyScale {
    /// The scale's name.
    pub name: String,
    /// Training images of the benchmark (None: all; MNIST-20: of each source).
    pub train_images: Option<usize>,
    /// Test images (None: all; MNIST-20: of each source).
    pub test_images: Option<usize>,
    /// Repeats (seeds 0..repeats).
    pub repeats: usize,
    /// Classes per task.
    pub classes_per_task: usize,
    /// Epochs per task of the backprop learners (vanilla, EWC, A-GEM).
    pub backprop_epochs: usize,
    /// Epochs of offline i.i.d. training.
    pub offline_epochs: usize,
    /// Hidden widths of the MLP.
    pub hidden: Vec<usize>,
    /// Minibatch size of the backprop learners.
    pub batch_size: usize,
    /// Adam learning rate of the backprop learners.
    pub lr: f64,
    /// EWC strength λ.
    pub ewc_lambda: f64,
    /// Training examples per task the EWC Fisher is computed on.
    pub fisher_samples: usize,
    /// Kenyon cells per input dimension (paper: 40).
    pub cells_per_input: usize,
    /// The frozen feature extractor (None: raw pixels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extractor: Option<ExtractorScale>,
    /// The A-GEM baseline (`--gem`; None: not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gem: Option<GemScale>,
}

impl FlyScale {
    /// The settings of scale `name` on `benchmark`.
    ///
    /// ```
    /// use neurogen_studies::shen2021_flymodel::{Benchmark, FlyScale, FlyScaleName};
    /// let s = FlyScale::new(FlyScaleName::Quick, Benchmark::Cifar10);
    /// assert_eq!((s.repeats, s.feature_dim(Benchmark::Cifar10)), (5, 250));
    /// ```
    pub fn new(name: FlyScaleName, benchmark: Benchmark) -> Self {
        let quick = FlyScale {
            name: "quick".into(),
            train_images: None,
            test_images: None,
            repeats: 5,
            classes_per_task: 2,
            backprop_epochs: 1,
            offline_epochs: 2,
            hidden: vec![256, 256],
            batch_size: 32,
            lr: 1e-3,
            ewc_lambda: 1e3,
            fisher_samples: 500,
            cells_per_input: 40,
            extractor: None,
            gem: None,
        };
        let mut s = match name {
            FlyScaleName::Smoke => FlyScale {
                name: "smoke".into(),
                train_images: Some(2_000),
                test_images: Some(1_000),
                repeats: 2,
                hidden: vec![64],
                fisher_samples: 100,
                ..quick
            },
            FlyScaleName::Quick => quick,
            FlyScaleName::Paper => FlyScale {
                name: "paper".into(),
                repeats: 10,
                backprop_epochs: 5,
                offline_epochs: 10,
                ..quick
            },
        };
        if benchmark == Benchmark::Cifar10 {
            s.extractor = Some(ExtractorScale {
                images: None,
                epochs: match name {
                    FlyScaleName::Smoke => 1,
                    FlyScaleName::Quick => 3,
                    FlyScaleName::Paper => 10,
                },
                batch_size: 32,
                lr: 1e-3,
                hidden: 250,
            });
            if name == FlyScaleName::Smoke {
                // Tiny, for CI: a few hundred images everywhere.
                s.train_images = Some(500);
                s.test_images = Some(300);
                if let Some(e) = &mut s.extractor {
                    e.images = Some(600);
                }
            }
        }
        s
    }

    /// The feature dimension on `benchmark` (raw pixels: the image size).
    pub fn feature_dim(&self, benchmark: Benchmark) -> usize {
        match &self.extractor {
            Some(e) => e.hidden,
            None => benchmark.data_kind().shape().numel(),
        }
    }

    /// Number of tasks on `benchmark`.
    pub fn tasks(&self, benchmark: Benchmark) -> usize {
        benchmark.classes() / self.classes_per_task.max(1)
    }
}

/// The methods compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// FlyModel, exact top-5 % (the paper's rule).
    Fly,
    /// FlyModel with the authors' adaptive threshold (1.7 × the mean response).
    FlyAdaptive,
    /// An MLP trained by backprop, task after task.
    Vanilla,
    /// The MLP with EWC.
    Ewc,
    /// The MLP trained offline on all classes at once (i.i.d.): the upper bound.
    Offline,
    /// The MLP with A-GEM (`--gem`).
    Gem,
}

impl Method {
    /// Every method, in table order.
    pub const ALL: [Method; 6] = [
        Method::Fly,
        Method::FlyAdaptive,
        Method::Vanilla,
        Method::Ewc,
        Method::Gem,
        Method::Offline,
    ];

    /// Stable key: the study's group (`runs.csv`'s `method`) and checkpoint names.
    pub fn key(self) -> &'static str {
        match self {
            Method::Fly => "flymodel",
            Method::FlyAdaptive => "flymodel-adaptive",
            Method::Vanilla => "vanilla",
            Method::Ewc => "ewc",
            Method::Offline => "offline",
            Method::Gem => "a-gem",
        }
    }

    /// The method of key `key`.
    pub fn from_key(key: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.key() == key)
    }

    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Fly => "FlyModel (top 5 %)",
            Method::FlyAdaptive => "FlyModel (adaptive threshold)",
            Method::Vanilla => "Vanilla MLP",
            Method::Ewc => "EWC MLP",
            Method::Offline => "Offline MLP (i.i.d., upper bound)",
            Method::Gem => "A-GEM MLP",
        }
    }

    /// Whether the method is a FlyModel.
    pub fn is_fly(self) -> bool {
        matches!(self, Method::Fly | Method::FlyAdaptive)
    }
}
