//! Figure 4: random vs targeted neurogenesis (replacing the least important units, or the most
//! important ones as a positive control; importance = L1 norm of a unit's incoming weights).
use std::path::PathBuf;

use super::report::Verdict;
use super::runner::{accuracies, run_groups};
use super::{plots, save_plot, FigureCtx};

/// Portion of the layer (least or most important) from which targeted units are drawn; the
/// reference scripts use 0.2.
pub const TARGETED_PORTION: f64 = 0.2;

/// Runs figure 4 and returns the report's path.
pub fn run(ctx: &FigureCtx) -> anyhow::Result<PathBuf> {
    let s = &ctx.scale;
    let groups = vec![
        ctx.group("Control", &[]),
        ctx.group("Random neurogenesis", &[s.neurogenesis("mode=random")]),
        ctx.group(
            "Targeted (low importance)",
            &[s.neurogenesis(&format!("mode=targeted-low,portion={TARGETED_PORTION}"))],
        ),
        ctx.group(
            "Targeted (high importance)",
            &[s.neurogenesis(&format!("mode=targeted-high,portion={TARGETED_PORTION}"))],
        ),
    ];
    let data = ctx.data(false)?;
    let rows = run_groups(&ctx.opts, &data, &groups, s.repeats)?;
    let test: Vec<(String, Vec<f64>)> = groups
        .iter()
        .map(|g| (g.name.clone(), accuracies(&rows, &g.name)))
        .collect();
    let mut rep = ctx.report("Figure 4: targeted neurogenesis", &rows);
    rep.section("Test accuracy (%)");
    rep.summary_table("test accuracy", &test);
    rep.anova_tukey("test accuracy", &test);
    let (d_low, p_low) = rep.welch(
        "test accuracy",
        "Targeted (low)",
        &test[2].1,
        "Random",
        &test[1].1,
    );
    let (d_high, p_high) = rep.welch(
        "test accuracy",
        "Targeted (high)",
        &test[3].1,
        "Random",
        &test[1].1,
    );
    let (d_rand, p_rand) = rep.welch("test accuracy", "Random", &test[1].1, "Control", &test[0].1);
    let f = save_plot(
        &ctx.dir,
        "test_accuracy",
        &plots::box_plot(&test, "Fig. 4: targeted neurogenesis", "test accuracy (%)"),
    )?;
    rep.figure(&f, "Test accuracy per group; each point is one repeat");
    rep.claim(
        "Random neurogenesis beats control",
        format!("{d_rand:+.2} points, p = {p_rand:.4}"),
        Verdict::from_test(d_rand, p_rand, true),
    );
    rep.claim(
        "Replacing low-importance units is at least as good as random replacement",
        format!("{d_low:+.2} points vs random, p = {p_low:.4}"),
        if d_low >= 0.0 || p_low >= 0.05 {
            Verdict::Holds
        } else {
            Verdict::DoesNotHold
        },
    );
    rep.claim(
        "Replacing high-importance units (positive control) hurts",
        format!("{d_high:+.2} points vs random, p = {p_high:.4}"),
        Verdict::from_test(d_high, p_high, false),
    );
    ctx.write_report(&rep.finish())
}
