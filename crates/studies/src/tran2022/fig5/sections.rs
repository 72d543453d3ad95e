//! Fig. 5's report sections on its networks' analyses ([`super::analysis`]): the ablation
//! curves and robustness, Morcos et al.'s prediction beside them, class selectivity, and new
//! units added after training (two-way repeated-measures ANOVA).
use std::path::Path;

use neurogen_analysis::plot::{Curve, DensityPlot, Labels, LinePlot};
use neurogen_analysis::{default_fractions, kde::Bandwidth, stats};
use neurogen_lab::claims::{Comparison, Verdict};
use neurogen_lab::plot::save_plot;
use neurogen_lab::report::Report;

use super::analysis::RunAnalysis;
use super::{ABLATION, LAYER, NEW_UNITS, SELECTIVITY};
use crate::tran2022::error::TranError;
use crate::tran2022::figure::{Group, Results};
use crate::tran2022::report::FigureReport;
use crate::tran2022::scale::Scale;

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
pub(super) fn ablation(
    s: &Scale,
    res: &mut Results,
    rep: &mut Report,
    analyses: &[RunAnalysis],
    n_images: usize,
    dir: &Path,
) -> Result<(), TranError> {
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
/// `reproduce single-directions` ([`crate::morcos2018::robustness_predicts_generalisation`]).
pub(super) fn morcos(res: &Results, rep: &mut Report, analyses: &[RunAnalysis]) {
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
    let (found, verdict) = crate::morcos2018::robustness_predicts_generalisation(&auc, &acc);
    rep.para(&format!(
        "Across every network of this figure: {found}. Morcos et al.'s prediction (a positive correlation): **{}**.",
        verdict.text()
    ));
}

/// Class selectivity: the mean index per network (set as the custom value [`SELECTIVITY`]),
/// its Welch test, and the densities of all units' indices.
pub(super) fn selectivity(
    res: &mut Results,
    rep: &mut Report,
    analyses: &[RunAnalysis],
    dir: &Path,
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
pub(super) fn new_units(
    s: &Scale,
    res: &Results,
    rep: &mut Report,
    analyses: &[RunAnalysis],
    ngn: &str,
) -> (&'static str, String, Verdict) {
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
    (
        NEW_UNITS,
        format!(
            "drop(control) − drop(neurogenesis) = {d_new:+.2} points{paired}, interaction p = {p_new:.4}"
        ),
        Verdict::from_test(d_new, p_new, true),
    )
}
