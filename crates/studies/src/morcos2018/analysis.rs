//! The analyses of one trained network (on a sample of its own training images, with the
//! labels it was trained on, as Morcos et al.): cumulative ablation in random order of hidden
//! layer [`LAYER`]'s units and (CNN) of the last convolution's feature maps, with the area under
//! the normalised curve; Gaussian noise added to hidden layer [`LAYER`]
//! ([`neurogen_analysis::perturbation`]); the class selectivity (on test images, true labels)
//! and importance of every unit and map.
//!
//! Each network's analysis is saved as `analysis/STEM.json` beside its run, keyed by the run's
//! configuration hash and the analysis settings ([`crate::cache::cached_json`]), so a rerun
//! analyses nothing it has and a committed result re-derives its report from `runs.csv` and
//! `analysis/` without the checkpoints.
use std::path::Path;

use candle_core::Device;
use neurogen_analysis::perturbation::{area_under_curve, noise_curve};
use neurogen_analysis::stats;
use neurogen_analysis::{
    ablation_curve, class_selectivity, default_fractions, unit_importance, AblationOrder,
};
use neurogen_model::{
    checkpoint, evaluate_with, feature_map_activations, AddNoise, CachedFeatures, Cnn, ModelError,
    Regularizer, Silence, EVAL_BATCH,
};
use neurogen_regularizers::Stack;
use serde::{Deserialize, Serialize};

use super::{Arm, SdError, SdScale, LAYER};
use crate::cache::cached_json;
use crate::cnn::{stem, FigureData, RunRecord};

/// One network's analysis, saved as `analysis/STEM.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunAnalysis {
    /// The run's configuration hash (the analysis is redone when it differs).
    pub config_hash: String,
    /// The analysis settings it was made with (redone when they differ).
    pub settings: String,
    /// Hidden layer [`LAYER`]: ablation, noise, selectivity, importance.
    pub hidden: LayerAnalysis,
    /// The CNN's last convolution (feature maps): ablation, selectivity, importance (no noise).
    pub conv: Option<LayerAnalysis>,
}

/// The analyses of one layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerAnalysis {
    /// Fractions of units ablated.
    pub fractions: Vec<f64>,
    /// Mean accuracy at each fraction (0..1).
    pub ablation_accuracy: Vec<f64>,
    /// Normalised ablation curve (None when silencing the layer does not change accuracy).
    pub ablation_normalized: Option<Vec<f64>>,
    /// Area under the normalised ablation curve.
    pub ablation_auc: Option<f64>,
    /// Noise levels (empty for a convolution).
    pub noise_levels: Vec<f64>,
    /// Mean accuracy at each level divided by the accuracy without noise (None for a
    /// convolution, or when the accuracy without noise is 0).
    pub noise_normalized: Option<Vec<f64>>,
    /// Area under the normalised noise curve (mean over the level range).
    pub noise_auc: Option<f64>,
    /// Class selectivity of every unit.
    pub selectivity: Vec<f64>,
    /// Importance of every unit (accuracy drop when it alone is ablated).
    pub importance: Vec<f64>,
    /// Spearman correlation of selectivity and importance across the layer's units (None when
    /// one of them is constant).
    pub selectivity_importance: Option<f64>,
}

/// A network's arm, results and analysis: what the report needs of each run.
#[derive(Debug, Clone)]
pub struct Network<'a> {
    /// Its arm.
    pub arm: &'a Arm,
    /// Its row in `runs.csv`.
    pub row: RunRecord,
    /// Its analysis.
    pub analysis: RunAnalysis,
}

/// The analysis settings, as recorded with each analysis (an analysis made with others is
/// redone).
pub fn settings(s: &SdScale) -> String {
    format!(
        "images={},ablation_draws={},noise_draws={},levels={:?},fractions={:?},layer={LAYER},seed=analysis-v1",
        s.analysis_images,
        s.ablation_draws,
        s.noise_draws,
        s.noise_levels,
        default_fractions()
    )
}

/// Evaluation-mode hooks of the run, then `probe`.
fn with_probe(reg: &mut Option<Box<dyn Regularizer>>, probe: Box<dyn Regularizer>) -> Stack {
    Stack::new(vec![
        reg.take()
            .unwrap_or_else(|| Box::new(neurogen_model::NoRegularizer)),
        probe,
    ])
}

/// Takes the run's hooks back out of a stack made by [`with_probe`].
fn give_back(reg: &mut Option<Box<dyn Regularizer>>, mut stack: Stack) {
    *reg = Some(stack.0.swap_remove(0));
}

/// Spearman correlation, None when undefined (a constant input).
fn spearman_or_none(a: &[f64], b: &[f64]) -> Option<f64> {
    stats::spearman(a, b).ok().map(|c| c.r)
}

/// Analyses one trained network (see the module documentation): `model` evaluated with its
/// run's evaluation-mode hooks `reg`, on `data` (its own training images and labels, its test
/// images), at the settings of `s`, random orders and noise seeded by `seed`. Returns hidden
/// layer [`LAYER`]'s analysis and (a network with convolutions) the last convolution's.
pub fn analyse(
    model: &Cnn,
    reg: Box<dyn Regularizer>,
    data: &FigureData,
    s: &SdScale,
    seed: u64,
) -> Result<(LayerAnalysis, Option<LayerAnalysis>), SdError> {
    let n = s.analysis_images;
    let train = data.train.sample(n.min(data.train.len()), 2)?;
    // Selectivity on every test image (true labels; every class must occur).
    let test = &data.test;
    let classes = data.model.num_classes;
    let fractions = default_fractions();
    let order = AblationOrder::Random {
        draws: s.ablation_draws,
        seed,
    };
    let mut reg = Some(reg);
    // Hidden layer: the convolutions once, the head many times.
    let cache = CachedFeatures::new(model, &train, EVAL_BATCH)?;
    let width = model.hidden_width(LAYER)?;
    let mut silenced_acc = |units: &[usize]| -> Result<f64, ModelError> {
        let mut st = with_probe(&mut reg, Box::new(Silence::new(LAYER, units.to_vec())));
        let acc = cache.accuracy(model, &mut st);
        give_back(&mut reg, st);
        acc
    };
    let curve = ablation_curve(width, &fractions, order.clone(), &mut silenced_acc)?;
    let importance = unit_importance(width, curve.acc_none_silenced, &mut silenced_acc)?;
    let acts = cache.hidden(model, LAYER)?;
    let sd: Vec<f32> = (0..width)
        .map(|u| {
            let col: Vec<f64> = acts
                .iter()
                .skip(u)
                .step_by(width)
                .map(|&a| a as f64)
                .collect();
            if col.len() > 1 {
                stats::sample_sd(&col) as f32
            } else {
                0.0
            }
        })
        .collect();
    let noise = noise_curve(
        &s.noise_levels,
        s.noise_draws,
        seed,
        |level: f64, d: u64| -> Result<f64, ModelError> {
            let sds: Vec<f32> = sd.iter().map(|x| x * level as f32).collect();
            let probe = AddNoise::new(LAYER, sds, d)?;
            let mut st = with_probe(&mut reg, Box::new(probe));
            let acc = cache.accuracy(model, &mut st);
            give_back(&mut reg, st);
            acc
        },
    )?;
    let base = noise.accuracy_mean[0];
    let noise_normalized: Option<Vec<f64>> =
        (base > 0.0).then(|| noise.accuracy_mean.iter().map(|a| a / base).collect());
    let noise_auc = noise_normalized
        .as_ref()
        .and_then(|y| area_under_curve(&noise.levels, y).ok());
    let test_cache = CachedFeatures::new(model, test, EVAL_BATCH)?;
    let selectivity = class_selectivity(
        &test_cache.hidden(model, LAYER)?,
        width,
        test.labels(),
        classes,
    )?;
    let hidden = LayerAnalysis {
        fractions: fractions.clone(),
        ablation_accuracy: curve.accuracy_mean.clone(),
        ablation_normalized: curve.normalized.clone(),
        ablation_auc: curve.normalized_area(),
        noise_levels: noise.levels.clone(),
        noise_normalized,
        noise_auc,
        selectivity_importance: spearman_or_none(&selectivity, &importance),
        selectivity,
        importance,
    };
    // The last convolution's feature maps: full forward passes.
    let conv = match model.config().conv_channels.len() {
        0 => None,
        n_conv => {
            let c = n_conv - 1;
            let maps = model.config().conv_channels[c];
            let mut map_acc = |m: &[usize]| -> Result<f64, ModelError> {
                let mut st = with_probe(&mut reg, Box::new(Silence::feature_maps(c, m.to_vec())));
                let acc = evaluate_with(model, &train, EVAL_BATCH, &mut st);
                give_back(&mut reg, st);
                acc.map(|r| r.accuracy)
            };
            let curve = ablation_curve(maps, &fractions, order, &mut map_acc)?;
            let importance = unit_importance(maps, curve.acc_none_silenced, &mut map_acc)?;
            let selectivity = class_selectivity(
                &feature_map_activations(model, test, c, EVAL_BATCH)?,
                maps,
                test.labels(),
                classes,
            )?;
            Some(LayerAnalysis {
                fractions: fractions.clone(),
                ablation_accuracy: curve.accuracy_mean.clone(),
                ablation_normalized: curve.normalized.clone(),
                ablation_auc: curve.normalized_area(),
                noise_levels: Vec::new(),
                noise_normalized: None,
                noise_auc: None,
                selectivity_importance: spearman_or_none(&selectivity, &importance),
                selectivity,
                importance,
            })
        }
    };
    Ok((hidden, conv))
}

/// The analysis of `row`, a run of the study in `dir`: read from `analysis/STEM.json` when it
/// was made for this run and these settings, else computed from the run's checkpoint (loaded
/// on `device`) and saved.
pub fn analysis_of(
    dir: &Path,
    device: &Device,
    s: &SdScale,
    data: &FigureData,
    row: &RunRecord,
) -> Result<RunAnalysis, SdError> {
    let path = dir
        .join("analysis")
        .join(format!("{}.json", stem(&row.group, row.repeat)));
    let want = settings(s);
    cached_json(
        &path,
        |a: &RunAnalysis| a.config_hash == row.config_hash && a.settings == want,
        || {
            let ck_path = dir.join(&row.checkpoint);
            let ck = checkpoint::load(&ck_path, device).map_err(|e| SdError::Checkpoint {
                path: ck_path.clone(),
                group: row.group.clone(),
                repeat: row.repeat,
                source: Box::new(e),
            })?;
            let reg = crate::cnn::regularizers_of(&ck.meta.regularizer)?;
            let (hidden, conv) =
                analyse(&ck.model, reg, data, s, row.repeat as u64).map_err(|e| {
                    SdError::Analyse {
                        group: row.group.clone(),
                        repeat: row.repeat,
                        source: Box::new(e),
                    }
                })?;
            Ok(RunAnalysis {
                config_hash: row.config_hash.clone(),
                settings: want.clone(),
                hidden,
                conv,
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_analysis_without_noise_or_normalisation_round_trips_through_json() {
        let layer = LayerAnalysis {
            fractions: vec![0.0, 1.0],
            ablation_accuracy: vec![0.1, 0.1],
            ablation_normalized: None,
            ablation_auc: None,
            noise_levels: vec![0.0, 1.0],
            noise_normalized: None,
            noise_auc: None,
            selectivity: vec![0.0, 0.5],
            importance: vec![0.0, -0.1],
            selectivity_importance: None,
        };
        let a = RunAnalysis {
            config_hash: "abc".into(),
            settings: "s".into(),
            hidden: layer.clone(),
            conv: Some(layer),
        };
        let text = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<RunAnalysis>(&text).unwrap(), a);
    }
}
