//! Single directions and generalisation: Morcos et al. (2018) as a study of the workspace's
//! networks, the premise of Tran et al.'s Fig. 5 (issue #16; docs/single-directions.md).
//!
//! **Paper.** A. S. Morcos, D. G. T. Barrett, N. C. Rabinowitz, M. Botvinick, "On the
//! importance of single directions for generalization", ICLR 2018 (arXiv 1803.06959).
//! **Authors' code.** Not public: the paper cites none and none was found (the GitHub
//! repositories named after the paper, e.g. `bkj/single-directions` and
//! `growlix/single_directions_replication`, are third-party replications, not read here), so
//! there is no commit to follow and the experiment follows the paper's text.
//!
//! **The study.** The paper's CNN on a CIFAR-10 subset and an MLP on a Fashion-MNIST subset,
//! each trained with a fraction `f` of its training labels replaced by random ones, and
//! clean-label CNNs with dropout, a narrower hidden layer or fewer epochs ([`SdScale::arms`]);
//! every network is one run of the paper's CNN runner ([`crate::cnn`]) in the engine's run
//! store. Each network's ablation curves, noise robustness, class selectivity and unit
//! importance decide the paper's claims (1)–(4) in the report; [`robustness_predicts_generalisation`] is also
//! fig5's test of the prediction ([`crate::tran2022`]).
//!
//! **Settings.** The paper's: the corruption sweep, cumulative ablation in random order,
//! Gaussian noise scaled by each unit's activity SD, the class-selectivity index. Ours: the
//! subset sizes, epochs and repeats of each scale ([`SdScale::new`]), the MLP's width
//! ([`MLP_WIDTH`]), the corruption seed ([`CORRUPTION_SEED`]) and [`WEAK`].
//!
//! **Where it lives.** This module is the whole study: its definition (scales, arms,
//! constants) and decision rules here; what each arm trains on and as which run-store group in
//! [`data`]; each network's analyses and their cache (`analysis/STEM.json`) in [`analysis`];
//! the claims and report in a private `report` submodule; and [`run`], the study's script on
//! what the program running it provides ([`SdContext`]: the settings, the directory, the device
//! and the training of each arm's runs). `xtask/src/reproduce/single_directions.rs` only reads
//! the flags, loads the data and implements the context with its progress bars.
//!
//! **Command.** `cargo xtask reproduce single-directions --scale smoke|quick|paper`.
//! **Committed result.** `docs/results/single-directions-quick/` (made with
//! `reproduce single-directions --scale quick`).
//!
//! ```
//! use neurogen_studies::morcos2018::SdScale;
//! use neurogen_studies::ScaleName;
//!
//! let arms = SdScale::new(ScaleName::Smoke).arms();
//! assert_eq!(arms[0].key, "cnn-f0");
//! assert!(arms.iter().any(|a| a.key == "cnn-narrow"));
//! ```
use std::path::PathBuf;

use neurogen_analysis::stats::{self, pearson_ci, CorrelationCi};
use neurogen_lab::claims::Verdict;
use serde::Serialize;

use crate::cnn::RunStatus;
use crate::scale::ScaleName;

pub mod analysis;
mod context;
pub mod data;
mod error;
mod report;

pub use analysis::{analyse, analysis_of, LayerAnalysis, Network, RunAnalysis};
pub use context::{SdContext, SdData};
pub use data::{arm_data, arm_group, base_scale};
pub use error::SdError;

/// The figure's name: its directory under `--out` and `runs.csv`'s `figure` column.
pub const NAME: &str = "single-directions";
/// The hidden layer analysed (fig5's, `fcs.1`).
pub const LAYER: usize = 1;
/// The seed of the label corruption (the same corrupted labels for every repeat: repeats
/// differ in initial weights and minibatch order only).
pub const CORRUPTION_SEED: u64 = 16;
/// Test images of the per-epoch curves.
pub const CURVE_IMAGES: usize = 50;
/// Width of the MLP's three hidden layers (Morcos et al.'s MNIST MLPs were of this order).
pub const MLP_WIDTH: usize = 128;

/// Which network an arm trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// The paper's CNN on CIFAR-10.
    Cnn,
    /// A three-layer MLP on Fashion-MNIST.
    Mlp,
}

/// One network setting: a group of the run store, trained `repeats` times.
#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    /// Stable key (`cnn-f0.4`, `cnn-dropout0.2`, …).
    pub key: String,
    /// Display name (`runs.csv`'s `group` column).
    pub name: String,
    /// The network.
    pub net: Net,
    /// Fraction of corrupted training labels.
    pub corruption: f64,
    /// Dropout probability of the hidden layers (0: none).
    pub dropout: f64,
    /// Hidden width (None: the network's own).
    pub width: Option<usize>,
    /// Epochs.
    pub epochs: usize,
    /// A clean-label setting of claim 2 (every CNN arm with `corruption == 0`).
    pub clean: bool,
}

/// The settings of a scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SdScale {
    /// The scale.
    pub name: ScaleName,
    /// CIFAR-10 training images of the CNNs.
    pub cnn_train_images: usize,
    /// Fashion-MNIST training images of the MLPs.
    pub mlp_train_images: usize,
    /// Test images (each dataset).
    pub test_images: usize,
    /// Epochs of the CNNs (enough to fit the training set).
    pub cnn_epochs: usize,
    /// Epochs of the MLPs.
    pub mlp_epochs: usize,
    /// Epochs of the "short training" clean setting.
    pub short_epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Repeats (seeds) of every arm.
    pub repeats: usize,
    /// Fractions of corrupted labels.
    pub corruption: Vec<f64>,
    /// Dropout probabilities of the clean settings.
    pub dropouts: Vec<f64>,
    /// Hidden width of the "narrow" clean setting.
    pub narrow_width: usize,
    /// Training images of the analyses (ablation, noise, importance; selectivity uses every
    /// test image).
    pub analysis_images: usize,
    /// Random orders averaged per ablation curve.
    pub ablation_draws: usize,
    /// Noise draws averaged per level.
    pub noise_draws: usize,
    /// Noise levels (multiples of each unit's activity SD).
    pub noise_levels: Vec<f64>,
}

impl SdScale {
    /// The settings of scale `name` (costs measured in docs/single-directions.md).
    pub fn new(name: ScaleName) -> SdScale {
        let f6 = vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
        let levels = neurogen_analysis::default_noise_levels();
        match name {
            ScaleName::Smoke => SdScale {
                name,
                cnn_train_images: 40,
                mlp_train_images: 80,
                test_images: 100,
                cnn_epochs: 3,
                mlp_epochs: 3,
                short_epochs: 1,
                batch_size: 8,
                lr: 1e-3,
                repeats: 2,
                corruption: vec![0.0, 1.0],
                dropouts: vec![0.4],
                narrow_width: 32,
                analysis_images: 16,
                ablation_draws: 1,
                noise_draws: 1,
                noise_levels: vec![0.0, 0.5, 1.0, 2.0],
            },
            ScaleName::Quick => SdScale {
                name,
                cnn_train_images: 150,
                mlp_train_images: 500,
                test_images: 500,
                cnn_epochs: 80,
                mlp_epochs: 60,
                short_epochs: 8,
                batch_size: 8,
                lr: 1e-3,
                repeats: 3,
                corruption: f6,
                dropouts: vec![0.2, 0.4],
                narrow_width: 64,
                analysis_images: 150,
                ablation_draws: 2,
                noise_draws: 2,
                noise_levels: levels,
            },
            ScaleName::Paper => SdScale {
                name,
                cnn_train_images: 5000,
                mlp_train_images: 10000,
                test_images: 10000,
                cnn_epochs: 100,
                mlp_epochs: 100,
                short_epochs: 15,
                batch_size: 32,
                lr: 1e-3,
                repeats: 5,
                corruption: f6,
                dropouts: vec![0.1, 0.2, 0.3, 0.4, 0.5],
                narrow_width: 64,
                analysis_images: 1000,
                ablation_draws: 5,
                noise_draws: 5,
                noise_levels: levels,
            },
        }
    }

    /// Every arm: the corruption sweep of the CNN and of the MLP, then the CNN's clean-label
    /// settings (dropout, narrow, short).
    pub fn arms(&self) -> Vec<Arm> {
        let mut arms = Vec::new();
        for (net, tag, epochs) in [
            (Net::Cnn, "CNN", self.cnn_epochs),
            (Net::Mlp, "MLP", self.mlp_epochs),
        ] {
            for &f in &self.corruption {
                arms.push(Arm {
                    key: format!("{}-f{f}", tag.to_lowercase()),
                    name: format!("{tag} f = {f}"),
                    net,
                    corruption: f,
                    dropout: 0.0,
                    width: None,
                    epochs,
                    clean: net == Net::Cnn && f == 0.0,
                });
            }
        }
        let clean = |key: String, name: String, dropout, width, epochs| Arm {
            key,
            name,
            net: Net::Cnn,
            corruption: 0.0,
            dropout,
            width,
            epochs,
            clean: true,
        };
        for &p in &self.dropouts {
            arms.push(clean(
                format!("cnn-dropout{p}"),
                format!("CNN dropout p = {p}"),
                p,
                None,
                self.cnn_epochs,
            ));
        }
        arms.push(clean(
            "cnn-narrow".into(),
            format!("CNN width {}", self.narrow_width),
            0.0,
            Some(self.narrow_width),
            self.cnn_epochs,
        ));
        arms.push(clean(
            "cnn-short".into(),
            format!("CNN {} epochs", self.short_epochs),
            0.0,
            None,
            self.short_epochs,
        ));
        arms
    }
}

/// A correlation with its interval, as the report states it.
///
/// It ends with the smallest |coefficient| these `n` pairs detect with 80 % power (two-sided,
/// α = 0.05, Fisher z; Spearman's larger standard error when `what` names ρ), so "does not
/// hold" can be told from "too few networks".
pub fn corr_text(what: &str, c: &CorrelationCi) -> String {
    let spearman = what.contains('ρ');
    let mde = stats::correlation_mde(c.corr.n, 0.05, 0.8, spearman)
        .map(|r| {
            format!(
                "detects |{}| ≥ {r:.2} at 80 % power",
                if spearman { "ρ" } else { "r" }
            )
        })
        .unwrap_or_else(|_| "detectable correlation not computed".into());
    format!(
        "{what} = {:+.3} [95 % CI {:+.3}, {:+.3}], p = {:.4}, n = {} ({mde})",
        c.corr.r, c.lo, c.hi, c.corr.p, c.corr.n
    )
}

/// Morcos et al.'s prediction on a set of networks: the correlation of ablation robustness
/// (area under the normalised ablation curve) with test accuracy (Pearson, Fisher-z interval)
/// and its verdict (the prediction: positive). Used by this figure and by fig5's report.
pub fn robustness_predicts_generalisation(auc: &[f64], test_accuracy: &[f64]) -> (String, Verdict) {
    match pearson_ci(auc, test_accuracy, 0.95) {
        Ok(c) => (
            corr_text("Pearson r(ablation AUC, test accuracy)", &c),
            Verdict::from_test(c.corr.r, c.corr.p, true),
        ),
        Err(e) => (format!("not computed: {e}"), Verdict::Untestable),
    }
}

/// Slopes of a normalised ablation curve before and after fraction `p`: `(1 − y(p)) / p` and
/// `(y(p) − y(q)) / (q − p)` with `q = min(2p, 1)` (None when `p` or `q` is not a fraction of
/// the curve).
pub fn slopes_around(fractions: &[f64], y: &[f64], p: f64) -> Option<(f64, f64)> {
    let at = |f: f64| {
        fractions
            .iter()
            .position(|x| (x - f).abs() < 1e-9)
            .map(|i| y[i])
    };
    let q = (2.0 * p).min(1.0);
    if p <= 0.0 || q <= p {
        return None;
    }
    let (yp, yq, y0) = (at(p)?, at(q)?, at(0.0)?);
    Some(((y0 - yp) / p, (yp - yq) / (q - p)))
}

/// The rank correlation below which claim 3 calls selectivity a poor predictor of importance.
pub const WEAK: f64 = 0.3;

/// Runs the study: trains every arm's runs the run store does not record yet
/// ([`SdContext::train`]), analyses every network not yet analysed ([`analysis_of`]) and writes
/// the report and its plots in the study's directory; returns the report's path.
///
/// Refused before any work: fewer than 2 repeats per setting, or data of the wrong kind.
///
/// ```
/// use std::path::Path;
///
/// use candle_core::Device;
/// use neurogen_data::{Dataset, DatasetKind, Split};
/// use neurogen_studies::cnn::{FigureData, RunRecord};
/// use neurogen_studies::morcos2018::{run, SdContext, SdData, SdError, SdScale};
/// use neurogen_studies::tran2022::figure::Group;
/// use neurogen_studies::ScaleName;
///
/// struct Ctx(SdScale, Device);
/// impl SdContext for Ctx {
///     fn scale(&self) -> &SdScale {
///         &self.0
///     }
///     fn dir(&self) -> &Path {
///         Path::new("out/single-directions")
///     }
///     fn device(&self) -> &Device {
///         &self.1
///     }
///     fn train(&self, _: &FigureData, _: &Group, _: usize) -> Result<Vec<RunRecord>, SdError> {
///         unreachable!("refused before training")
///     }
/// }
/// let one = |kind: DatasetKind| {
///     let shape = kind.shape();
///     let pixels = shape.channels * shape.height * shape.width;
///     let split = Split::new(shape, vec![0; pixels], vec![0]).unwrap();
///     Dataset::new(kind, split.clone(), split).unwrap()
/// };
/// let (cifar, fashion) = (one(DatasetKind::Cifar10), one(DatasetKind::FashionMnist));
/// let data = SdData { cifar: &cifar, fashion: &fashion, sources: ("a".into(), "b".into()) };
/// let mut scale = SdScale::new(ScaleName::Smoke);
/// scale.repeats = 1;
/// let e = run(&Ctx(scale.clone(), Device::Cpu), &data).unwrap_err();
/// assert!(e.to_string().contains("at least 2 repeats"), "{e}");
/// // The two data sets swapped.
/// scale.repeats = 2;
/// let swapped = SdData { cifar: &fashion, fashion: &cifar, sources: ("b".into(), "a".into()) };
/// let e = run(&Ctx(scale, Device::Cpu), &swapped).unwrap_err();
/// assert!(matches!(e, SdError::WrongData { net: "CNN", .. }), "{e}");
/// ```
pub fn run(ctx: &dyn SdContext, data: &SdData) -> Result<PathBuf, SdError> {
    let s = ctx.scale();
    if s.repeats < 2 {
        return Err(SdError::Settings(
            "the statistics need at least 2 repeats per setting".into(),
        ));
    }
    data.check()?;
    let base = base_scale(s);
    let arms = s.arms();
    let analysis_dir = ctx.dir().join("analysis");
    std::fs::create_dir_all(&analysis_dir).map_err(|source| SdError::CreateDir {
        path: analysis_dir.clone(),
        source,
    })?;
    let mut networks = Vec::new();
    for arm in &arms {
        let fd = arm_data(s, data, arm)?;
        let g = arm_group(arm, &base)?;
        let rows = ctx.train(&fd, &g, s.repeats)?;
        for row in rows.into_iter().filter(|r| r.status == RunStatus::Ok) {
            let analysis = analysis_of(ctx.dir(), ctx.device(), s, &fd, &row)?;
            networks.push(Network { arm, row, analysis });
        }
    }
    let text = report::report(ctx, data, &arms, &networks)?;
    let path = ctx.dir().join("report.md");
    neurogen_io::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slopes_are_computed_by_hand() {
        let f = neurogen_analysis::default_fractions();
        // y = 1 until 0.2, then falling 2 per unit fraction: slopes 0 before, 2 after.
        let y: Vec<f64> = f
            .iter()
            .map(|x| {
                if *x <= 0.2 {
                    1.0
                } else {
                    1.0 - 2.0 * (x - 0.2)
                }
            })
            .collect();
        let (a, b) = slopes_around(&f, &y, 0.2).unwrap();
        assert!(a.abs() < 1e-12 && (b - 2.0).abs() < 1e-12, "{a} {b}");
        assert!(slopes_around(&f, &y, 0.0).is_none());
        assert!(slopes_around(&f, &y, 0.33).is_none());
    }
}
