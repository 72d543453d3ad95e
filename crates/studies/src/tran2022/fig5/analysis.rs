//! Fig. 5's analyses of one trained network: the ablation curve and class selectivity of hidden
//! layer [`LAYER`] on a sample of training images, and the test accuracy before and after new
//! units replace old ones. Each network's analyses are saved in `analysis/STEM.json` (in the
//! figure's directory) with its configuration hash and the analysis settings, so a rerun
//! analyses nothing it has and a committed result re-derives its report without checkpoints.
use neurogen_analysis::{ablation_curve, class_selectivity, default_fractions, AblationOrder};
use neurogen_data::Split;
use neurogen_model::{
    checkpoint, edit_replica, evaluate, evaluate_with, hidden_activations, Adam, AdamConfig, Cnn,
    ModelError, Silence, StepCtx, EVAL_BATCH,
};
use neurogen_regularizers::spec::stream;
use neurogen_regularizers::{Neurogenesis, NeurogenesisConfig, UnitCount};
use serde::{Deserialize, Serialize};

use super::LAYER;
use crate::cache::cached_json;
use crate::cnn::{stem, CnnError, RunRecord};
use crate::tran2022::context::FigureContext;
use crate::tran2022::error::TranError;
use crate::tran2022::scale::Scale;

/// Replaces `n` random units of hidden layer `layer` with fresh ones, as one neurogenesis
/// turnover event after training (the regularizers crate's own event: PyTorch's default Linear
/// initialisation of their incoming weights, bias and outgoing weights). Returns the units.
pub fn add_new_units(
    model: &mut Cnn,
    layer: usize,
    n: usize,
    seed: u64,
) -> Result<Vec<usize>, TranError> {
    let config = NeurogenesisConfig {
        n: UnitCount::Count(n),
        layer,
        ..NeurogenesisConfig::default()
    };
    let mut ngn = Neurogenesis::new(config, false, stream(seed, 0, 0)).map_err(CnnError::from)?;
    let mut adam = Adam::new(AdamConfig::default(), model.replicas())?;
    let ctx = StepCtx {
        epoch: 0,
        batch: 0,
        step: 0,
        batches_per_epoch: 0,
    };
    let units = edit_replica(model, &mut adam, 0, ctx, |cx| {
        Ok(ngn.event(cx).map_err(ModelError::from)?.units.clone())
    })?;
    Ok(units)
}

/// One network's analyses, as the report uses them.
pub(super) struct RunAnalysis {
    /// The run's group (display name, as in `runs.csv`).
    pub(super) group: String,
    /// The run's repeat.
    pub(super) repeat: usize,
    /// The run's test accuracy (%), as recorded.
    pub(super) test_accuracy: Option<f64>,
    /// Area under the normalised ablation curve ([`neurogen_analysis::AblationCurve::normalized_area`];
    /// NaN when the normalisation is undefined).
    pub(super) auc: f64,
    /// Mean accuracy (%) at each fraction of [`default_fractions`] silenced.
    pub(super) accuracy: Vec<f64>,
    /// Class-selectivity index of each unit of hidden layer [`LAYER`].
    pub(super) selectivity: Vec<f64>,
    /// Test accuracy (%) before and after new units replace [`Scale::ngn_units`] units.
    pub(super) new_units: (f64, f64),
}

/// One network's analyses as saved in `analysis/STEM.json`, so that a rerun (and
/// `xtask/tests/results.rs` on a committed result) re-derives the report from `runs.csv` and
/// `analysis/` without the checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SavedAnalysis {
    /// The run's configuration hash (the analysis is redone when it differs).
    config_hash: String,
    /// The analysis settings it was made with (redone when they differ).
    settings: String,
    /// Area under the normalised ablation curve (None where the normalisation is undefined).
    ablation_auc: Option<f64>,
    /// Mean accuracy (%) at each fraction of [`default_fractions`].
    ablation_accuracy: Vec<f64>,
    /// Class-selectivity index of each unit of hidden layer [`LAYER`].
    selectivity: Vec<f64>,
    /// Test accuracy (%) before and after new units are added.
    new_units: (f64, f64),
}

/// The analysis settings a saved analysis must have been made with.
fn settings(s: &Scale, analysis_images: usize) -> String {
    format!(
        "layer={LAYER} ablation_draws={} analysis_images={analysis_images} fractions={} new_units={} new_units_seed=10000+repeat",
        s.ablation_draws,
        default_fractions().len(),
        s.ngn_units
    )
}

/// The analyses of `row`: read from `analysis/STEM.json` when they were made for this run and
/// these settings, else computed from the checkpoint and saved.
pub(super) fn analysis_of(
    ctx: &dyn FigureContext,
    row: &RunRecord,
    split: &Split,
    test: &Split,
    num_classes: usize,
) -> Result<RunAnalysis, TranError> {
    let path = ctx
        .dir()
        .join("analysis")
        .join(format!("{}.json", stem(&row.group, row.repeat)));
    let want = settings(ctx.scale(), split.len());
    let saved: SavedAnalysis = cached_json(
        &path,
        |a: &SavedAnalysis| a.config_hash == row.config_hash && a.settings == want,
        || analyse(ctx, row, split, test, num_classes, want.clone()),
    )?;
    Ok(RunAnalysis {
        group: row.group.clone(),
        repeat: row.repeat,
        test_accuracy: row.test_accuracy,
        auc: saved.ablation_auc.unwrap_or(f64::NAN),
        accuracy: saved.ablation_accuracy,
        selectivity: saved.selectivity,
        new_units: saved.new_units,
    })
}

/// Computes `row`'s analyses from its checkpoint: the ablation curve and selectivity on
/// `split`, and the test accuracy before and after new units.
fn analyse(
    ctx: &dyn FigureContext,
    row: &RunRecord,
    split: &Split,
    test: &Split,
    num_classes: usize,
    settings: String,
) -> Result<SavedAnalysis, TranError> {
    let path = ctx.dir().join(&row.checkpoint);
    let ck = checkpoint::load(&path, ctx.device()).map_err(|e| TranError::Checkpoint {
        path: path.clone(),
        group: row.group.clone(),
        repeat: row.repeat,
        source: Box::new(e),
    })?;
    let mut model = ck.model;
    let width = model.hidden_width(LAYER)?;
    let reg = crate::cnn::regularizers_of(&ck.meta.regularizer)?;
    let mut stack =
        neurogen_regularizers::Stack::new(vec![reg, Box::new(Silence::new(LAYER, vec![]))]);
    let curve = ablation_curve(
        width,
        &default_fractions(),
        AblationOrder::Random {
            draws: ctx.scale().ablation_draws,
            seed: row.repeat as u64,
        },
        |units: &[usize]| -> Result<f64, ModelError> {
            // The run's own evaluation-mode hooks first (e.g. dropout's max-norm), then silencing.
            stack.0[1] = Box::new(Silence::new(LAYER, units.to_vec()));
            Ok(evaluate_with(&model, split, EVAL_BATCH, &mut stack)?.accuracy)
        },
    )?;
    let acts = hidden_activations(&model, split, LAYER, EVAL_BATCH)?;
    let selectivity = class_selectivity(&acts, width, split.labels(), num_classes)?;
    let before = 100.0 * evaluate(&model, test, EVAL_BATCH)?.accuracy;
    add_new_units(
        &mut model,
        LAYER,
        ctx.scale().ngn_units,
        10_000 + row.repeat as u64,
    )?;
    let after = 100.0 * evaluate(&model, test, EVAL_BATCH)?.accuracy;
    Ok(SavedAnalysis {
        config_hash: row.config_hash.clone(),
        settings,
        ablation_auc: curve.normalized_area(),
        ablation_accuracy: curve.accuracy_mean.iter().map(|a| 100.0 * a).collect(),
        selectivity,
        new_units: (before, after),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurogen_model::ModelConfig;

    #[test]
    fn add_new_units_redraws_exactly_the_chosen_units() {
        let dev = candle_core::Device::Cpu;
        let mut model = Cnn::new(&ModelConfig::cifar10(), 0, &dev).unwrap();
        let before: Vec<Vec<f32>> = model.value("fcs.1.weight", 0).unwrap().to_vec2().unwrap();
        let out_before: Vec<Vec<f32>> = model.value("fcs.2.weight", 0).unwrap().to_vec2().unwrap();
        let units = add_new_units(&mut model, LAYER, 8, 3).unwrap();
        assert_eq!(units.len(), 8);
        let after: Vec<Vec<f32>> = model.value("fcs.1.weight", 0).unwrap().to_vec2().unwrap();
        let out_after: Vec<Vec<f32>> = model.value("fcs.2.weight", 0).unwrap().to_vec2().unwrap();
        for u in 0..250 {
            assert_eq!(before[u] == after[u], !units.contains(&u), "row {u}");
            assert_eq!(
                out_before[0][u] == out_after[0][u],
                !units.contains(&u),
                "column {u}"
            );
        }
    }
}
