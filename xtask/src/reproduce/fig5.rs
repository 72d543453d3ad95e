//! Figure 5: why neurogenesis helps. Ablation curves (silencing 0–100 % of hidden layer 1's
//! units at random) for control, neurogenesis and dropout networks; class-selectivity
//! densities; and networks trained with or without neurogenesis tested with or without new
//! units added after training (two-way repeated-measures ANOVA, subjects = repeats).
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

use super::report::Verdict;
use super::runner::{run_groups, RunRecord};
use super::{save_plot, FigureCtx};

/// The hidden layer analysed (the reference's neurogenesis layer, `fcs.1`).
pub const LAYER: usize = 1;

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

struct RunAnalysis {
    group: String,
    normalized: Vec<f64>,
    accuracy: Vec<f64>,
    selectivity: Vec<f64>,
}

fn analyse(
    ctx: &FigureCtx,
    row: &RunRecord,
    split: &neurogen_data::Split,
    num_classes: usize,
) -> anyhow::Result<RunAnalysis> {
    let path = ctx.dir.join(&row.checkpoint);
    let ck = checkpoint::load(&path, &ctx.opts.device)
        .with_context(|| format!("loading {}", path.display()))?;
    let model = ck.model;
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
            Ok(evaluate_with(&model, split, 500, &mut stack)?.accuracy)
        },
    )?;
    let acts = hidden_activations(&model, split, LAYER, 500)?;
    let selectivity = class_selectivity(&acts, width, split.labels(), num_classes)?;
    Ok(RunAnalysis {
        group: row.group.clone(),
        normalized: curve
            .normalized
            .clone()
            .unwrap_or_else(|| vec![f64::NAN; curve.fractions.len()]),
        accuracy: curve.accuracy_mean.iter().map(|a| 100.0 * a).collect(),
        selectivity,
    })
}

/// Runs figure 5 and returns the report's path.
pub fn run(ctx: &FigureCtx) -> anyhow::Result<PathBuf> {
    let s = &ctx.scale;
    let groups = vec![
        ctx.group("Control", &[]),
        ctx.group("Neurogenesis", &[s.neurogenesis("")]),
        ctx.group("Dropout", &["dropout:p=0.2".into()]),
    ];
    let data = ctx.data(false)?;
    let rows = run_groups(&ctx.opts, &data, &groups, s.repeats)?;
    let num_classes = data.model.num_classes;
    // Ablation and selectivity on a fixed sample of training images, as the reference does.
    let analysis_split = data
        .train
        .sample(s.analysis_images.min(data.train.len()), 2)?;
    let mut analyses = Vec::new();
    for row in rows.iter().filter(|r| r.status == "ok") {
        analyses.push(analyse(ctx, row, &analysis_split, num_classes)?);
    }
    let names: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
    let mut rep = ctx.report(
        "Figure 5: ablation, class selectivity and new units after training",
        &rows,
    );

    // Ablation curves.
    let fractions = default_fractions();
    let mut curves = Vec::new();
    let mut auc: Vec<(String, Vec<f64>)> = Vec::new();
    for g in &names {
        let runs: Vec<&RunAnalysis> = analyses.iter().filter(|a| &a.group == g).collect();
        if runs.is_empty() {
            continue;
        }
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
            label: g.clone(),
            x: fractions.iter().map(|f| 100.0 * f).collect(),
            y: m,
            err: Some(e),
        });
        // Area under the normalised curve (trapezoids over the fraction axis).
        let areas: Vec<f64> = runs
            .iter()
            .map(|r| {
                fractions
                    .windows(2)
                    .zip(r.normalized.windows(2))
                    .map(|(f, y)| (f[1] - f[0]) * (y[0] + y[1]) / 2.0)
                    .sum()
            })
            .collect();
        auc.push((g.clone(), areas));
    }
    rep.section("Ablation of hidden layer 1 (random order)");
    rep.para(&format!(
        "Units of hidden layer {LAYER} silenced in steps of 5 %, {} random orders per network, accuracy on {} training images. \
         Robustness = area under the normalised ablation curve ((acc − acc_all_silenced) / (acc_none − acc_all_silenced)).",
        s.ablation_draws,
        analysis_split.len()
    ));
    let lp = LinePlot {
        curves,
        labels: Labels::new(
            "Fig. 5B: ablation",
            "units silenced (%)",
            "accuracy (%) mean ± SEM",
        ),
    };
    let f = save_plot(&ctx.dir, "ablation", &lp)?;
    rep.figure(&f, "Accuracy as units of hidden layer 1 are silenced");
    rep.summary_table("area under normalised curve", &auc);
    let find = |v: &[(String, Vec<f64>)], n: &str| {
        v.iter()
            .find(|(g, _)| g == n)
            .map(|(_, x)| x.clone())
            .unwrap_or_default()
    };
    let (d_auc, p_auc) = rep.welch(
        "ablation robustness",
        "Neurogenesis",
        &find(&auc, "Neurogenesis"),
        "Control",
        &find(&auc, "Control"),
    );

    // Selectivity.
    let mut sel_mean: Vec<(String, Vec<f64>)> = Vec::new();
    let mut sel_all: Vec<(String, Vec<f64>)> = Vec::new();
    for g in &names {
        let runs: Vec<&RunAnalysis> = analyses.iter().filter(|a| &a.group == g).collect();
        sel_mean.push((
            g.clone(),
            runs.iter().map(|r| stats::mean(&r.selectivity)).collect(),
        ));
        sel_all.push((
            g.clone(),
            runs.iter()
                .flat_map(|r| r.selectivity.iter().copied())
                .collect(),
        ));
    }
    rep.section("Class selectivity of hidden layer 1");
    rep.para("Selectivity index per unit = (μ_max − μ_rest) / (μ_max + μ_rest) over class-conditional mean activations (0 for units that never fire).");
    rep.summary_table("mean selectivity index", &sel_mean);
    let (d_sel, p_sel) = rep.welch(
        "mean selectivity",
        "Neurogenesis",
        &find(&sel_mean, "Neurogenesis"),
        "Control",
        &find(&sel_mean, "Control"),
    );
    if sel_all.iter().all(|(_, v)| v.len() >= 2) {
        let dp = DensityPlot {
            series: sel_all,
            bandwidth: Bandwidth::Scott,
            labels: Labels::new("Fig. 5C: class selectivity", "selectivity index", "density"),
        };
        match save_plot(&ctx.dir, "selectivity", &dp) {
            Ok(f) => rep.figure(
                &f,
                "Density of unit selectivity indices, all repeats pooled",
            ),
            Err(e) => rep.para(&format!("Density plot not drawn: {e}")),
        }
    }

    // New units after training: 2 (trained with/without neurogenesis) x 2 (tested with/without new units).
    let mut subjects = Vec::new();
    let mut drop_ctrl = Vec::new();
    let mut drop_ngn = Vec::new();
    for r in 0..s.repeats {
        let mut cell = Vec::new();
        for g in ["Control", "Neurogenesis"] {
            let Some(row) = rows
                .iter()
                .find(|x| x.group == g && x.repeat == r && x.status == "ok")
            else {
                break;
            };
            let mut model =
                checkpoint::load(&ctx.dir.join(&row.checkpoint), &ctx.opts.device)?.model;
            let before = 100.0 * evaluate(&model, &data.test, 500)?.accuracy;
            add_new_units(&mut model, LAYER, s.ngn_units, 10_000 + r as u64)?;
            let after = 100.0 * evaluate(&model, &data.test, 500)?.accuracy;
            cell.push(vec![before, after]);
        }
        if cell.len() == 2 {
            drop_ctrl.push(cell[0][0] - cell[0][1]);
            drop_ngn.push(cell[1][0] - cell[1][1]);
            subjects.push(cell);
        }
    }
    rep.section("New units added after training");
    rep.para(&format!("{} random units of hidden layer {LAYER} replaced by freshly initialised ones after training; test accuracy before and after.", s.ngn_units));
    rep.summary_table(
        "accuracy drop (points)",
        &[
            ("Control".to_string(), drop_ctrl.clone()),
            ("Neurogenesis".to_string(), drop_ngn.clone()),
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

    rep.claim(
        "Networks trained with neurogenesis are more robust to ablation",
        format!("area difference {d_auc:+.3}, p = {p_auc:.4}"),
        Verdict::from_test(d_auc, p_auc, true),
    );
    rep.claim(
        "Neurogenesis lowers the class selectivity of hidden units",
        format!("mean index difference {d_sel:+.3}, p = {p_sel:.4}"),
        Verdict::from_test(d_sel, p_sel, false),
    );
    rep.claim(
        "Networks trained with neurogenesis lose less accuracy when new units are added after training",
        format!("drop(control) − drop(neurogenesis) = {d_new:+.2} points, interaction p = {p_new:.4}"),
        Verdict::from_test(d_new, p_new, true),
    );
    ctx.write_report(&rep.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_new_units_redraws_exactly_the_chosen_units() {
        let dev = candle_core::Device::Cpu;
        let mut model = Cnn::new(&neurogen_model::ModelConfig::cifar10(), 0, &dev).unwrap();
        let before: Vec<Vec<f32>> = model
            .param("fcs.1.weight")
            .unwrap()
            .as_tensor()
            .to_vec2()
            .unwrap();
        let out_before: Vec<Vec<f32>> = model
            .param("fcs.2.weight")
            .unwrap()
            .as_tensor()
            .to_vec2()
            .unwrap();
        let units = add_new_units(&mut model, LAYER, 8, 3).unwrap();
        assert_eq!(units.len(), 8);
        let after: Vec<Vec<f32>> = model
            .param("fcs.1.weight")
            .unwrap()
            .as_tensor()
            .to_vec2()
            .unwrap();
        let out_after: Vec<Vec<f32>> = model
            .param("fcs.2.weight")
            .unwrap()
            .as_tensor()
            .to_vec2()
            .unwrap();
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
