//! Figure 5: why neurogenesis helps. Ablation curves (silencing 0–100 % of hidden layer 1's
//! units at random) for control, neurogenesis and dropout networks; class-selectivity
//! densities; and networks trained with or without neurogenesis tested with or without new
//! units added after training (two-way repeated-measures ANOVA, subjects = repeats).
//!
//! The claims are stated in the paper's direction: neurogenic networks are *less* robust to
//! ablation than control networks although they generalise better (Fig. 5B; Morcos et al.'s
//! single-direction account predicts the opposite, and the report tests that too), their
//! hidden units are less class-selective (Fig. 5C), and they lose less accuracy when new units
//! replace old ones after training. Each is decided by the paired test by repeat, beside the
//! paper's Welch test; with `--compare-reference` the published code's networks are analysed
//! beside the method's.
//!
//! Each network's analyses are saved in `analysis/STEM.json` with its configuration hash and
//! the analysis settings, so a rerun analyses nothing it has, and a committed result
//! (`docs/results/fig5-quick/`) re-derives its report from `runs.csv` and `analysis/` without
//! the checkpoints.
//!
//! The figure's groups, values and claims are the library's
//! [`neurogen_studies::tran2022::fig5`]; its analyses and report are here.
use std::path::PathBuf;

use anyhow::Context;
use neurogen_analysis::plot::{Curve, DensityPlot, Labels, LinePlot};
use neurogen_analysis::{
    ablation_curve, class_selectivity, default_fractions, kde::Bandwidth, stats, AblationOrder,
};
use neurogen_model::{
    checkpoint, edit_replica, evaluate, evaluate_with, hidden_activations, Adam, AdamConfig, Cnn,
    Silence, StepCtx,
};
use neurogen_regularizers::spec::stream;
use neurogen_regularizers::{Neurogenesis, NeurogenesisConfig, UnitCount};
use serde::{Deserialize, Serialize};

use neurogen_lab::claims::{Comparison, Verdict};
use neurogen_lab::report::Report;

pub use neurogen_studies::tran2022::fig5::{figure, ABLATION, LAYER, NEW_UNITS, SELECTIVITY};

use super::figure::{Group, Results};
use super::report::FigureReport;
use super::run::{RunRecord, RunStatus};
use super::scale::Scale;
use super::{save_plot, FigureCtx};
use crate::common::EVAL_BATCH;

/// Replaces `n` random units of hidden layer `layer` with fresh ones, as one neurogenesis
/// turnover event after training (the regularizers crate's own event: PyTorch's default Linear
/// initialisation of their incoming weights, bias and outgoing weights). Returns the units.
pub fn add_new_units(
    model: &mut Cnn,
    layer: usize,
    n: usize,
    seed: u64,
) -> anyhow::Result<Vec<usize>> {
    let config = NeurogenesisConfig {
        n: UnitCount::Count(n),
        layer,
        ..NeurogenesisConfig::default()
    };
    let mut ngn = Neurogenesis::new(config, false, stream(seed, 0, 0))?;
    let mut adam = Adam::new(AdamConfig::default(), model.replicas())?;
    let ctx = StepCtx {
        epoch: 0,
        batch: 0,
        step: 0,
        batches_per_epoch: 0,
    };
    let units = edit_replica(model, &mut adam, 0, ctx, |cx| {
        Ok(ngn
            .event(cx)
            .map_err(neurogen_model::ModelError::from)?
            .units
            .clone())
    })?;
    Ok(units)
}

/// One network's analyses, as the report uses them.
struct RunAnalysis {
    group: String,
    repeat: usize,
    test_accuracy: Option<f64>,
    /// Area under the normalised ablation curve ([`neurogen_analysis::AblationCurve::normalized_area`];
    /// NaN when the normalisation is undefined).
    auc: f64,
    accuracy: Vec<f64>,
    selectivity: Vec<f64>,
    /// Test accuracy (%) before and after new units replace [`Scale::ngn_units`] units.
    new_units: (f64, f64),
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
fn analysis_of(
    ctx: &FigureCtx,
    row: &RunRecord,
    split: &neurogen_data::Split,
    test: &neurogen_data::Split,
    num_classes: usize,
) -> anyhow::Result<RunAnalysis> {
    let path = ctx.dir.join("analysis").join(format!(
        "{}.json",
        super::run::spec::stem(&row.group, row.repeat)
    ));
    let want = settings(&ctx.scale, split.len());
    let saved: SavedAnalysis = crate::common::cached_json(
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
    ctx: &FigureCtx,
    row: &RunRecord,
    split: &neurogen_data::Split,
    test: &neurogen_data::Split,
    num_classes: usize,
    settings: String,
) -> anyhow::Result<SavedAnalysis> {
    let path = ctx.dir.join(&row.checkpoint);
    let ck = checkpoint::load(&path, &ctx.opts.device).with_context(|| {
        format!(
            "loading {} (to analyse {} r{})",
            path.display(),
            row.group,
            row.repeat
        )
    })?;
    let mut model = ck.model;
    let width = model.hidden_width(LAYER)?;
    let reg = crate::regs::from_metadata(&ck.meta.regularizer)?;
    let mut stack =
        neurogen_regularizers::Stack::new(vec![reg, Box::new(Silence::new(LAYER, vec![]))]);
    let curve = ablation_curve(
        width,
        &default_fractions(),
        AblationOrder::Random {
            draws: ctx.scale.ablation_draws,
            seed: row.repeat as u64,
        },
        |units: &[usize]| -> Result<f64, neurogen_model::ModelError> {
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
        ctx.scale.ngn_units,
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

/// Runs figure 5 and returns the report's path.
pub fn run(ctx: &FigureCtx) -> anyhow::Result<PathBuf> {
    let s = &ctx.scale;
    let fig = figure(s)?;
    let (data, mut res) = ctx.train(&fig)?;
    let num_classes = data.model.num_classes;
    // Ablation and selectivity on a fixed sample of training images, as the reference does.
    let analysis_split = data
        .train
        .sample(s.analysis_images.min(data.train.len()), 2)?;
    let mut analyses = Vec::new();
    for row in res.rows.iter().filter(|r| r.status == RunStatus::Ok) {
        analyses.push(analysis_of(
            ctx,
            row,
            &analysis_split,
            &data.test,
            num_classes,
        )?);
    }
    let mut rep = ctx.report(&fig, &res);
    ablation(
        s,
        &mut res,
        &mut rep,
        &analyses,
        analysis_split.len(),
        &ctx.report_dir,
    )?;
    morcos(&res, &mut rep, &analyses);
    selectivity(&mut res, &mut rep, &analyses, &ctx.report_dir);
    let method = new_units(ctx, &res, &mut rep, &analyses, "neurogenesis")?;
    let published = match res.published_of("neurogenesis").map(str::to_string) {
        Some(key) => Some(new_units(ctx, &res, &mut rep, &analyses, &key)?),
        None => None,
    };
    rep.claims(&res, &fig.claims, vec![method])?;
    if let Some((text, found, verdict)) = published {
        rep.published_analysis(text, found, verdict)?;
    }
    ctx.finish_report(rep)
}

/// The successful runs' analyses of each group, in figure order (groups without any left out
/// when `skip_empty`).
fn by_group<'a>(
    res: &'a Results,
    analyses: &'a [RunAnalysis],
    skip_empty: bool,
) -> Vec<(&'a Group, Vec<&'a RunAnalysis>)> {
    res.groups
        .iter()
        .map(|g| (g, analyses.iter().filter(|a| a.group == g.name).collect()))
        .filter(|(_, runs): &(_, Vec<_>)| !(skip_empty && runs.is_empty()))
        .collect()
}

/// Ablation curves (mean ± SEM per group) and robustness (area under the normalised curve,
/// set as the custom value [`ABLATION`]), with its Welch test.
fn ablation(
    s: &Scale,
    res: &mut Results,
    rep: &mut Report,
    analyses: &[RunAnalysis],
    n_images: usize,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let fractions = default_fractions();
    let mut curves = Vec::new();
    let mut auc: Vec<(String, Vec<f64>)> = Vec::new();
    let mut areas_of = Vec::new();
    for (g, runs) in by_group(res, analyses, true) {
        let mut m = Vec::new();
        let mut e = Vec::new();
        for k in 0..fractions.len() {
            let xs: Vec<f64> = runs.iter().map(|r| r.accuracy[k]).collect();
            m.push(stats::mean(&xs));
            e.push(if xs.len() > 1 {
                stats::sample_sd(&xs) / (xs.len() as f64).sqrt()
            } else {
                0.0
            });
        }
        curves.push(Curve {
            label: g.name.clone(),
            x: fractions.iter().map(|f| 100.0 * f).collect(),
            y: m,
            err: Some(e),
        });
        // Area under the normalised curve (trapezoids over the fraction axis).
        auc.push((g.name.clone(), runs.iter().map(|r| r.auc).collect()));
        areas_of.push((
            g.key.clone(),
            runs.iter().map(|r| (r.repeat, r.auc)).collect(),
        ));
    }
    for (key, areas) in areas_of {
        res.set_custom(ABLATION, &key, areas);
    }
    rep.section("Ablation of hidden layer 1 (random order)");
    rep.para(&format!(
        "Units of hidden layer {LAYER} silenced in steps of 5 %, {} random orders per network, accuracy on {n_images} training images. \
         Robustness = area under the normalised ablation curve ((acc − acc_all_silenced) / (acc_none − acc_all_silenced)).",
        s.ablation_draws,
    ));
    let lp = LinePlot {
        curves,
        labels: Labels::new(
            "Fig. 5B: ablation",
            "units silenced (%)",
            "accuracy (%) mean ± SEM",
        ),
    };
    let f = save_plot(dir, "ablation", &lp)?;
    rep.figure(&f, "Accuracy as units of hidden layer 1 are silenced");
    rep.summary_table("area under normalised curve", &auc);
    rep.welch_lines(
        res,
        &[&Comparison::new(ABLATION, "neurogenesis", "control")],
    );
    Ok(())
}

/// Morcos et al.'s prediction (networks that generalise better rely less on single
/// directions) beside what this figure's networks do: per group, test accuracy and ablation
/// robustness, and across every network their correlation, by the code of
/// `reproduce single-directions` ([`neurogen_studies::morcos2018::robustness_predicts_generalisation`]).
fn morcos(res: &Results, rep: &mut Report, analyses: &[RunAnalysis]) {
    rep.section("Morcos et al.'s prediction beside the neurogenic networks");
    rep.para(
        "Morcos et al. (ICLR 2018) find that networks which generalise better rely less on single directions: across networks, higher test accuracy goes with more robustness to ablation (a larger area under the normalised ablation curve). \
         Tran et al. report the opposite for neurogenesis (Fig. 5B): neurogenic networks generalise better yet are less robust to ablation. \
         The claims table tests the paper's direction (neurogenesis minus control, paired by repeat); the table below gives both quantities per group and their correlation across every network, which tests Morcos et al.'s. \
         `cargo xtask reproduce single-directions` runs Morcos et al.'s own experiment (docs/single-directions.md).",
    );
    let mut t = String::from(
        "| group | n | mean test accuracy (%) | mean ablation AUC |\n|---|---|---|---|\n",
    );
    let (mut auc, mut acc) = (Vec::new(), Vec::new());
    for (g, runs) in by_group(res, analyses, true) {
        let pairs: Vec<(f64, f64)> = runs
            .iter()
            .filter_map(|r| Some((r.auc, r.test_accuracy?)))
            .filter(|(a, _)| a.is_finite())
            .collect();
        if pairs.is_empty() {
            continue;
        }
        let a: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let y: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        t.push_str(&format!(
            "| {} | {} | {:.2} | {:.3} |\n",
            g.name,
            pairs.len(),
            stats::mean(&y),
            stats::mean(&a)
        ));
        auc.extend(a);
        acc.extend(y);
    }
    rep.para(t.trim_end());
    let (found, verdict) =
        neurogen_studies::morcos2018::robustness_predicts_generalisation(&auc, &acc);
    rep.para(&format!(
        "Across every network of this figure: {found}. Morcos et al.'s prediction (a positive correlation): **{}**.",
        verdict.text()
    ));
}

/// Class selectivity: the mean index per network (set as the custom value [`SELECTIVITY`]),
/// its Welch test, and the densities of all units' indices.
fn selectivity(
    res: &mut Results,
    rep: &mut Report,
    analyses: &[RunAnalysis],
    dir: &std::path::Path,
) {
    let mut sel_mean: Vec<(String, Vec<f64>)> = Vec::new();
    let mut sel_all: Vec<(String, Vec<f64>)> = Vec::new();
    let mut means_of = Vec::new();
    for (g, runs) in by_group(res, analyses, false) {
        let means: Vec<(usize, f64)> = runs
            .iter()
            .map(|r| (r.repeat, stats::mean(&r.selectivity)))
            .collect();
        sel_mean.push((g.name.clone(), means.iter().map(|m| m.1).collect()));
        means_of.push((g.key.clone(), means));
        sel_all.push((
            g.name.clone(),
            runs.iter()
                .flat_map(|r| r.selectivity.iter().copied())
                .collect(),
        ));
    }
    for (key, means) in means_of {
        res.set_custom(SELECTIVITY, &key, means);
    }
    rep.section("Class selectivity of hidden layer 1");
    rep.para("Selectivity index per unit = (μ_max − μ_rest) / (μ_max + μ_rest) over class-conditional mean activations (0 for units that never fire).");
    rep.summary_table("mean selectivity index", &sel_mean);
    rep.welch_lines(
        res,
        &[&Comparison::new(SELECTIVITY, "neurogenesis", "control")],
    );
    if sel_all.iter().all(|(_, v)| v.len() >= 2) {
        let dp = DensityPlot {
            series: sel_all,
            bandwidth: Bandwidth::Scott,
            labels: Labels::new("Fig. 5C: class selectivity", "selectivity index", "density"),
        };
        match save_plot(dir, "selectivity", &dp) {
            Ok(f) => rep.figure(
                &f,
                "Density of unit selectivity indices, all repeats pooled",
            ),
            Err(e) => rep.para(&format!("Density plot not drawn: {e}")),
        }
    }
}

/// New units after training: networks trained without (control) or with neurogenesis (group
/// `ngn`: the method's, or its published-code variant) (2) tested before and after replacing
/// units with fresh ones (2), a two-way repeated-measures ANOVA over the repeats; returns the
/// [`NEW_UNITS`] claim's finding and verdict.
fn new_units(
    ctx: &FigureCtx,
    res: &Results,
    rep: &mut Report,
    analyses: &[RunAnalysis],
    ngn: &str,
) -> anyhow::Result<(&'static str, String, Verdict)> {
    let s = &ctx.scale;
    let mut subjects = Vec::new();
    let mut drop_ctrl = Vec::new();
    let mut drop_ngn = Vec::new();
    let of = |key: &str, r: usize| {
        let name = &res.group(key).name;
        analyses
            .iter()
            .find(|a| &a.group == name && a.repeat == r)
            .map(|a| vec![a.new_units.0, a.new_units.1])
    };
    for r in 0..s.repeats {
        if let (Some(c), Some(n)) = (of("control", r), of(ngn, r)) {
            drop_ctrl.push(c[0] - c[1]);
            drop_ngn.push(n[0] - n[1]);
            subjects.push(vec![c, n]);
        }
    }
    rep.section(&format!(
        "New units added after training: {} against {}",
        res.group(ngn).name,
        res.group("control").name
    ));
    rep.para(&format!("{} random units of hidden layer {LAYER} replaced by freshly initialised ones after training; test accuracy before and after.", s.ngn_units));
    rep.summary_table(
        "accuracy drop (points)",
        &[
            (res.group("control").name.clone(), drop_ctrl.clone()),
            (res.group(ngn).name.clone(), drop_ngn.clone()),
        ],
    );
    let (d_new, p_new) = match stats::rm_anova_2way(&subjects) {
        Ok(a) => {
            rep.para(&format!(
                "Two-way repeated-measures ANOVA ({} subjects): trained with neurogenesis F({:.0}, {:.0}) = {:.3}, p = {:.4}; \
                 new units added F({:.0}, {:.0}) = {:.3}, p = {:.4}; interaction F({:.0}, {:.0}) = {:.3}, p = {:.4}.",
                a.n_subjects, a.factor_a.df, a.factor_a.df_error, a.factor_a.f, a.factor_a.p, a.factor_b.df, a.factor_b.df_error,
                a.factor_b.f, a.factor_b.p, a.interaction.df, a.interaction.df_error, a.interaction.f, a.interaction.p
            ));
            (
                stats::mean(&drop_ctrl) - stats::mean(&drop_ngn),
                a.interaction.p,
            )
        }
        Err(e) => {
            rep.para(&format!(
                "Two-way repeated-measures ANOVA not computed: {e}."
            ));
            (f64::NAN, f64::NAN)
        }
    };
    // The same contrast paired by repeat (in a 2 × 2 repeated-measures design the interaction's
    // F is this paired t squared, so the p-values agree), with its 95 % CI and the difference
    // it could detect.
    let paired = match stats::paired_comparison(&drop_ctrl, &drop_ngn) {
        Ok(pc) => {
            let mde = stats::paired_mde(pc.diff.n, 0.05, 0.8)
                .map(|d| format!("detects ±{:.2} at 80 % power", d * pc.diff.sd))
                .unwrap_or_else(|_| "detectable difference not computed".into());
            format!(
                " [{:+.2}, {:+.2}], n = {}, paired t p = {:.4} ({mde})",
                pc.diff.ci95.0, pc.diff.ci95.1, pc.diff.n, pc.t_test.p
            )
        }
        Err(e) => format!(" (paired comparison not computed: {e})"),
    };
    Ok((
        NEW_UNITS,
        format!(
            "drop(control) − drop(neurogenesis) = {d_new:+.2} points{paired}, interaction p = {p_new:.4}"
        ),
        Verdict::from_test(d_new, p_new, true),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_new_units_redraws_exactly_the_chosen_units() {
        let dev = candle_core::Device::Cpu;
        let mut model = Cnn::new(&neurogen_model::ModelConfig::cifar10(), 0, &dev).unwrap();
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
