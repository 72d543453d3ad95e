//! Single directions and generalisation: Morcos et al. (2018) as a study of the workspace's
//! networks, the premise of Tran et al.'s Fig. 5 (issue #16; docs/single-directions.md).
//!
//! **Paper.** A. S. Morcos, D. G. T. Barrett, N. C. Rabinowitz, M. Botvinick, "On the
//! importance of single directions for generalization", ICLR 2018 (arXiv 1803.06959).
//! **Authors' code.** None is cited: the project's docs name no repository or commit, and the
//! experiment follows the paper's text.
//!
//! **The study.** The paper's CNN on a CIFAR-10 subset and an MLP on a Fashion-MNIST subset,
//! each trained with a fraction `f` of its training labels replaced by random ones, and
//! clean-label CNNs with dropout, a narrower hidden layer or fewer epochs ([`SdScale::arms`]);
//! every network is one run of the paper's CNN runner ([`crate::cnn`]) in the engine's run
//! store. Each network's ablation curves, noise robustness, class selectivity and unit
//! importance decide the paper's three claims; [`robustness_predicts_generalisation`] is also
//! fig5's test of the prediction ([`crate::tran2022`]).
//!
//! **Settings.** The paper's: the corruption sweep, cumulative ablation in random order,
//! Gaussian noise scaled by each unit's activity SD, the class-selectivity index. Ours: the
//! subset sizes, epochs and repeats of each scale ([`SdScale::new`]), the MLP's width
//! ([`MLP_WIDTH`]), the corruption seed ([`CORRUPTION_SEED`]) and [`WEAK`].
//!
//! This module holds the study's definition (scales, arms) and its decision rules; the
//! training calls, analyses and report are still the command line's
//! (`xtask/src/reproduce/single_directions.rs`).
//!
//! **Command.** `cargo xtask reproduce single-directions --scale smoke|quick|paper`.
//! **Committed result.** `docs/results/single-directions-quick/`.
//!
//! ```
//! use neurogen_studies::morcos2018::SdScale;
//! use neurogen_studies::ScaleName;
//!
//! let arms = SdScale::new(ScaleName::Smoke).arms();
//! assert_eq!(arms[0].key, "cnn-f0");
//! assert!(arms.iter().any(|a| a.key == "cnn-narrow"));
//! ```
use neurogen_analysis::stats::{self, pearson_ci, CorrelationCi};
use neurogen_lab::claims::Verdict;
use serde::Serialize;

use crate::scale::ScaleName;

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
