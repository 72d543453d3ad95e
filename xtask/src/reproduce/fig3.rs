//! Figure 3: neurogenesis vs the conventional regularisers (dropout with max-norm, weight decay,
//! multiplicative log-normal neural noise) and every pairwise combination, shown as z-scores
//! relative to neurogenesis alone; plus low-rate dropout (p = 0.1) with neurogenesis.
use std::path::PathBuf;

use neurogen_analysis::plot::{Heatmap, Labels};
use neurogen_analysis::stats::{mean, sample_sd, tukey_hsd};

use super::report::Verdict;
use super::runner::{accuracies, run_groups};
use super::{plots, save_plot, FigureCtx};

/// The four regularisers: display name, spec, whether it is dropout.
fn regularisers(ngn: &str) -> Vec<(&'static str, String, bool)> {
    vec![
        ("Neurogenesis", ngn.to_string(), false),
        ("Dropout", "dropout:p=0.2".to_string(), true),
        (
            "Weight decay",
            "weight-decay:lambda=1e-5".to_string(),
            false,
        ),
        ("Neural noise", "noise:mean=-0.2,std=0.5".to_string(), false),
    ]
}

/// The group holding regularisers `i` and `j` (the single one when `i == j`).
fn pair_name(regs: &[(&str, String, bool)], i: usize, j: usize) -> String {
    if i == j {
        regs[i].0.to_string()
    } else {
        let (a, b) = (i.min(j), i.max(j));
        format!("{} + {}", regs[a].0, regs[b].0)
    }
}

/// Runs figure 3 and returns the report's path.
pub fn run(ctx: &FigureCtx) -> anyhow::Result<PathBuf> {
    let s = &ctx.scale;
    let regs = regularisers(&s.neurogenesis(""));
    let mut groups = vec![ctx.group("Control", &[])];
    for (name, spec, _) in regs.iter() {
        groups.push(ctx.group(name, std::slice::from_ref(spec)));
    }
    for i in 0..regs.len() {
        for j in i + 1..regs.len() {
            groups.push(ctx.group(
                &pair_name(&regs, i, j),
                &[regs[i].1.clone(), regs[j].1.clone()],
            ));
        }
    }
    groups.push(ctx.group(
        "Neurogenesis + Dropout (p = 0.1)",
        &[regs[0].1.clone(), "dropout:p=0.1".into()],
    ));
    let data = ctx.data(false)?;
    let rows = run_groups(&ctx.opts, &data, &groups, s.repeats)?;
    let acc = |n: &str| accuracies(&rows, n);

    let mut rep = ctx.report("Figure 3: neurogenesis vs conventional regularisers", &rows);
    let singles: Vec<(String, Vec<f64>)> = std::iter::once("Control".to_string())
        .chain(regs.iter().map(|r| r.0.to_string()))
        .map(|n| (n.clone(), acc(&n)))
        .collect();
    rep.section("Single regularisers: test accuracy (%)");
    rep.summary_table("test accuracy", &singles);
    rep.anova_tukey("test accuracy", &singles);
    let f = save_plot(
        &ctx.dir,
        "single_regularisers",
        &plots::box_plot(&singles, "Fig. 3: single regularisers", "test accuracy (%)"),
    )?;
    rep.figure(&f, "Test accuracy of each regulariser alone");

    let combos: Vec<(String, Vec<f64>)> = groups[5..]
        .iter()
        .map(|g| (g.name.clone(), acc(&g.name)))
        .collect();
    rep.section("Combinations: test accuracy (%)");
    rep.summary_table("test accuracy", &combos);

    // z-score of each pair's mean relative to neurogenesis alone.
    let ngn = acc("Neurogenesis");
    let (m0, sd0) = (mean(&ngn), sample_sd(&ngn));
    let mut matrix = vec![vec![f64::NAN; regs.len()]; regs.len()];
    for (i, row) in matrix.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            let xs = acc(&pair_name(&regs, i, j));
            if !xs.is_empty() && sd0 > 0.0 {
                *cell = (mean(&xs) - m0) / sd0;
            }
        }
    }
    rep.section("z-scores relative to neurogenesis alone");
    rep.para(&format!(
        "z = (mean test accuracy of the pair − mean of neurogenesis alone) / SD of neurogenesis alone \
         (mean {m0:.2}, SD {sd0:.2}); the diagonal holds each regulariser alone."
    ));
    let mut table = String::from("| | ");
    table += &regs.iter().map(|r| r.0).collect::<Vec<_>>().join(" | ");
    table += " |\n|---|";
    table += &"---|".repeat(regs.len());
    for (i, row) in matrix.iter().enumerate() {
        table += &format!("\n| {} | ", regs[i].0);
        table += &row
            .iter()
            .map(|z| format!("{z:+.2}"))
            .collect::<Vec<_>>()
            .join(" | ");
        table += " |";
    }
    rep.para(&table);
    let heat = Heatmap {
        matrix: matrix.clone(),
        row_labels: regs.iter().map(|r| r.0.to_string()).collect(),
        col_labels: regs.iter().map(|r| r.0.to_string()).collect(),
        colour_bar_label: "z vs neurogenesis alone".into(),
        labels: Labels::new(
            "Fig. 3: regulariser pairs (z-score)",
            "regulariser",
            "regulariser",
        ),
    };
    if matrix.iter().flatten().all(|z| z.is_finite()) {
        let f = save_plot(&ctx.dir, "pairs_zscore", &heat)?;
        rep.figure(
            &f,
            "Pairs of regularisers, z-score relative to neurogenesis alone",
        );
    } else {
        rep.para("Heat map not drawn: some z-scores are undefined (a group had no successful run, or neurogenesis alone had zero spread).");
    }

    let control = acc("Control");
    for r in &regs {
        let (d, p) = rep.welch("test accuracy", r.0, &acc(r.0), "Control", &control);
        rep.claim(
            &format!("{} improves on control", r.0),
            format!("{d:+.2} points, p = {p:.4}"),
            Verdict::from_test(d, p, true),
        );
    }
    let named: Vec<(&str, &[f64])> = singles
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    if let Ok(pairs) = tukey_hsd(&named, 0.05) {
        let worse: Vec<String> = pairs
            .iter()
            .filter(|p| {
                p.reject
                    && ((p.group_a == "Neurogenesis"
                        && p.mean_diff < 0.0
                        && p.group_b != "Control")
                        || (p.group_b == "Neurogenesis"
                            && p.mean_diff > 0.0
                            && p.group_a != "Control"))
            })
            .map(|p| {
                if p.group_a == "Neurogenesis" {
                    p.group_b.clone()
                } else {
                    p.group_a.clone()
                }
            })
            .collect();
        rep.claim(
            "Neurogenesis performs comparably to dropout, weight decay and neural noise",
            if worse.is_empty() {
                "no conventional regulariser is significantly better (Tukey)".into()
            } else {
                format!("significantly worse than {}", worse.join(", "))
            },
            if worse.is_empty() {
                Verdict::Holds
            } else {
                Verdict::DoesNotHold
            },
        );
    }
    let ngn_pairs: Vec<f64> = (1..regs.len()).map(|j| matrix[0][j]).collect();
    let mean_z = mean(&ngn_pairs);
    rep.claim(
        "Adding a conventional regulariser to neurogenesis does not hurt it",
        format!(
            "z of neurogenesis pairs: {}",
            ngn_pairs
                .iter()
                .map(|z| format!("{z:+.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        if !mean_z.is_finite() {
            Verdict::Untestable
        } else if mean_z >= 0.0 {
            Verdict::Holds
        } else {
            Verdict::DoesNotHold
        },
    );
    let low = acc("Neurogenesis + Dropout (p = 0.1)");
    let (d, p) = rep.welch(
        "test accuracy",
        "Neurogenesis + Dropout (p = 0.1)",
        &low,
        "Control",
        &control,
    );
    rep.claim(
        "Low-rate dropout with neurogenesis improves on control",
        format!("{d:+.2} points, p = {p:.4}"),
        Verdict::from_test(d, p, true),
    );
    ctx.write_report(&rep.finish())
}
