//! Figure 2: neurogenesis vs control (test and training accuracy, validation-loss curves), and
//! neurogenesis with excitability of the new units (one-way ANOVA + Tukey's HSD).
use std::path::PathBuf;

use super::report::Verdict;
use super::runner::{accuracies, run_groups, train_accuracies};
use super::{plots, save_plot, FigureCtx};

/// Excitability factor of new units used for the third group. The reference scripts pass
/// `excite=True` (a factor of 1, i.e. no change); we use 2 so the group tests the idea.
pub const EXCITE_FACTOR: f64 = 2.0;

/// Runs figure 2 and returns the report's path.
pub fn run(ctx: &FigureCtx) -> anyhow::Result<PathBuf> {
    let s = &ctx.scale;
    let groups = vec![
        ctx.group("Control", &[]),
        ctx.group("Neurogenesis", &[s.neurogenesis("")]),
        ctx.group(
            "Neurogenesis + excitability",
            &[s.neurogenesis(&format!("excite={EXCITE_FACTOR}"))],
        ),
    ];
    let data = ctx.data(true)?;
    let rows = run_groups(&ctx.opts, &data, &groups, s.repeats)?;
    let names: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
    let test: Vec<(String, Vec<f64>)> = names
        .iter()
        .map(|n| (n.clone(), accuracies(&rows, n)))
        .collect();
    let train: Vec<(String, Vec<f64>)> = names
        .iter()
        .map(|n| (n.clone(), train_accuracies(&rows, n)))
        .collect();

    let mut rep = ctx.report("Figure 2: neurogenesis as a regulariser", &rows);
    rep.section("Test accuracy (%)");
    rep.summary_table("test accuracy", &test);
    let (d_test, p_test) = rep.welch(
        "test accuracy",
        "Neurogenesis",
        &test[1].1,
        "Control",
        &test[0].1,
    );
    rep.section("Training accuracy (%)");
    rep.summary_table("training accuracy", &train);
    rep.welch(
        "training accuracy",
        "Neurogenesis",
        &train[1].1,
        "Control",
        &train[0].1,
    );
    let gap = |i: usize| -> Vec<f64> {
        train[i]
            .1
            .iter()
            .zip(&test[i].1)
            .map(|(a, b)| a - b)
            .collect()
    };
    rep.section("Generalisation gap (training − test accuracy, points)");
    let gaps = vec![
        ("Control".to_string(), gap(0)),
        ("Neurogenesis".to_string(), gap(1)),
    ];
    rep.summary_table("gap", &gaps);
    let (d_gap, p_gap) = rep.welch(
        "generalisation gap",
        "Neurogenesis",
        &gaps[1].1,
        "Control",
        &gaps[0].1,
    );
    rep.section("Control vs neurogenesis vs neurogenesis with excitability");
    rep.anova_tukey("test accuracy", &test);
    let (d_ex, p_ex) = rep.welch(
        "test accuracy",
        "Neurogenesis + excitability",
        &test[2].1,
        "Neurogenesis",
        &test[1].1,
    );

    let f = save_plot(
        &ctx.dir,
        "test_accuracy",
        &plots::box_plot(&test, "Fig. 2: test accuracy", "test accuracy (%)"),
    )?;
    rep.figure(&f, "Test accuracy per group; each point is one repeat");
    let curves = plots::epoch_curves(
        &ctx.dir,
        &rows,
        &names,
        |c| c.curve_loss.clone(),
        "Fig. 2: validation loss",
        "validation loss (mean ± SEM)",
    )?;
    let f = save_plot(&ctx.dir, "validation_loss", &curves)?;
    rep.figure(&f, "Validation loss per epoch, mean ± SEM over repeats");

    rep.claim(
        "Neurogenesis raises test accuracy over control",
        format!("difference {d_test:+.2} points, p = {p_test:.4}"),
        Verdict::from_test(d_test, p_test, true),
    );
    rep.claim(
        "Neurogenesis narrows the gap between training and test accuracy",
        format!("gap difference {d_gap:+.2} points, p = {p_gap:.4}"),
        Verdict::from_test(d_gap, p_gap, false),
    );
    rep.claim(
        "Excitability of new units improves on plain neurogenesis",
        format!("difference {d_ex:+.2} points, p = {p_ex:.4}"),
        Verdict::from_test(d_ex, p_ex, true),
    );
    ctx.write_report(&rep.finish())
}
