//! Figure 3: neurogenesis vs the conventional regularisers (dropout with max-norm, weight decay,
//! multiplicative log-normal neural noise) and every pairwise combination, shown as z-scores
//! relative to neurogenesis alone; plus low-rate dropout (p = 0.1) with neurogenesis.
//!
//! The groups and the Welch claims are data ([`figure`]); the pair z-score heat map and the two
//! claims it and Tukey's HSD decide are this module's own analysis.
use std::path::PathBuf;

use neurogen_analysis::plot::{Heatmap, Labels};
use neurogen_analysis::stats::{mean, sample_sd, tukey_hsd};
use neurogen_lab::claims::{Claim, Expect, Value, Verdict};
use neurogen_lab::plot::save_plot;
use neurogen_lab::report::Report;

use super::context::FigureContext;
use super::error::TranError;
use super::figure::{Figure, Group, Results};
use super::plots;
use super::report::FigureReport;
use super::scale::Scale;

/// One of the four regularisers of the figure.
struct Single {
    /// Group key of the regulariser alone.
    key: &'static str,
    /// Short form in the keys of pairs (`ngn+dropout`).
    abbrev: &'static str,
    /// Display name.
    name: &'static str,
    /// Its spec.
    spec: String,
}

/// The four regularisers, in the order of the heat map.
fn singles(s: &Scale) -> Vec<Single> {
    let single = |key, abbrev, name, spec: String| Single {
        key,
        abbrev,
        name,
        spec,
    };
    vec![
        single("neurogenesis", "ngn", "Neurogenesis", s.neurogenesis("")),
        single("dropout", "dropout", "Dropout", "dropout:p=0.2".into()),
        single(
            "weight-decay",
            "wd",
            "Weight decay",
            "weight-decay:lambda=1e-5".into(),
        ),
        single(
            "noise",
            "noise",
            "Neural noise",
            "noise:mean=-0.2,std=0.5".into(),
        ),
    ]
}

/// Key of the group holding regularisers `i` and `j` (the single one when `i == j`).
fn pair_key(regs: &[Single], i: usize, j: usize) -> String {
    if i == j {
        regs[i].key.to_string()
    } else {
        let (a, b) = (i.min(j), i.max(j));
        format!("{}+{}", regs[a].abbrev, regs[b].abbrev)
    }
}

/// Key of the low-rate dropout group.
const LOW_RATE: &str = "ngn+dropout-0.1";
/// The claim Tukey's HSD over the single regularisers decides.
const COMPARABLE: &str =
    "Neurogenesis performs comparably to dropout, weight decay and neural noise";
/// The claim the z-scores of the neurogenesis pairs decide.
const PAIRS_DO_NOT_HURT: &str =
    "Adding a conventional regulariser to neurogenesis does not hurt it";

/// Figure 3's groups and claims at scale `s`.
pub fn figure(s: &Scale) -> Result<Figure, TranError> {
    let regs = singles(s);
    let mut groups = vec![Group::new("control", "Control", &[], s)?];
    for r in &regs {
        groups.push(Group::new(r.key, r.name, std::slice::from_ref(&r.spec), s)?);
    }
    for i in 0..regs.len() {
        for j in i + 1..regs.len() {
            let name = format!("{} + {}", regs[i].name, regs[j].name);
            let specs = [regs[i].spec.clone(), regs[j].spec.clone()];
            groups.push(Group::new(&pair_key(&regs, i, j), &name, &specs, s)?);
        }
    }
    groups.push(Group::new(
        LOW_RATE,
        "Neurogenesis + Dropout (p = 0.1)",
        &[s.neurogenesis(""), "dropout:p=0.1".into()],
        s,
    )?);
    let better = |text: &str, key: &str| {
        Claim::welch(
            text,
            "{d} points",
            Value::TEST_ACCURACY,
            key,
            "control",
            Expect::Better,
        )
    };
    let mut claims: Vec<Claim> = regs
        .iter()
        .map(|r| better(&format!("{} improves on control", r.name), r.key))
        .collect();
    claims.push(Claim::analysis(COMPARABLE));
    claims.push(Claim::analysis(PAIRS_DO_NOT_HURT));
    claims.push(better(
        "Low-rate dropout with neurogenesis improves on control",
        LOW_RATE,
    ));
    Ok(Figure {
        title: "Figure 3: neurogenesis vs conventional regularisers",
        validation: false,
        groups,
        claims,
    })
}

/// Runs figure 3 and returns the report's path.
pub fn run(ctx: &dyn FigureContext) -> Result<PathBuf, TranError> {
    let fig = figure(ctx.scale())?;
    let (_, res) = ctx.train(&fig)?;
    let regs = singles(ctx.scale());
    let acc = Value::TEST_ACCURACY;
    let published = res.compares_published();

    let mut rep = ctx.report(&fig, &res);
    let single_keys: Vec<&str> = std::iter::once("control")
        .chain(regs.iter().map(|r| r.key))
        .collect();
    let published_singles = res.published_keys(&single_keys);
    let mut shown = single_keys.clone();
    if published {
        shown.extend(
            published_singles
                .iter()
                .filter(|k| !single_keys.contains(k)),
        );
    }
    rep.section("Single regularisers: test accuracy (%)");
    rep.summary(&res, acc, &shown);
    rep.anova(&res, acc, &single_keys);
    if published {
        rep.para("As the published code runs them:");
        rep.anova(&res, acc, &published_singles);
    }
    let f = save_plot(
        ctx.report_dir(),
        "single_regularisers",
        &plots::box_plot(
            &res.table(acc, &shown),
            "Fig. 3: single regularisers",
            "test accuracy (%)",
        ),
    )?;
    rep.figure(&f, "Test accuracy of each regulariser alone");

    let combo_keys: Vec<&str> = res
        .keys()
        .into_iter()
        .filter(|k| !shown.contains(k))
        .collect();
    rep.section("Combinations: test accuracy (%)");
    rep.summary(&res, acc, &combo_keys);

    let matrix = pair_zscores(ctx, &res, &regs, &mut rep, false)?;
    let comparisons: Vec<_> = fig.claims.iter().filter_map(|c| c.comparison()).collect();
    rep.welch_lines(&res, &comparisons);

    let (found, verdict) = comparable(&res, &single_keys);
    let (z_found, z_verdict) = pairs_do_not_hurt(&regs, &matrix);
    let analysed = vec![
        (COMPARABLE, found, verdict),
        (PAIRS_DO_NOT_HURT, z_found, z_verdict),
    ];
    rep.claims(&res, &fig.claims, analysed)?;
    if published {
        let matrix = pair_zscores(ctx, &res, &regs, &mut rep, true)?;
        let (found, verdict) = comparable(&res, &published_singles);
        rep.published_analysis(COMPARABLE, found, verdict)?;
        let (found, verdict) = pairs_do_not_hurt(&regs, &matrix);
        rep.published_analysis(PAIRS_DO_NOT_HURT, found, verdict)?;
    }
    ctx.finish_report(rep)
}

/// Decides [`COMPARABLE`] by Tukey's HSD over the control and the single regularisers `keys`
/// (neurogenesis, or its published-code variant, among them).
fn comparable(res: &Results, keys: &[&str]) -> (String, Verdict) {
    let singles = res.table(Value::TEST_ACCURACY, keys);
    let named: Vec<(&str, &[f64])> = singles
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    let ngn_key = keys
        .iter()
        .find(|k| k.starts_with("neurogenesis"))
        .expect("neurogenesis is one of the singles");
    match tukey_hsd(&named, 0.05) {
        Ok(pairs) => {
            let ngn = res.group(ngn_key).name.as_str();
            let control = res.group("control").name.as_str();
            let worse: Vec<String> = pairs
                .iter()
                .filter(|p| {
                    p.reject
                        && ((p.group_a == ngn && p.mean_diff < 0.0 && p.group_b != control)
                            || (p.group_b == ngn && p.mean_diff > 0.0 && p.group_a != control))
                })
                .map(|p| {
                    if p.group_a == ngn {
                        p.group_b.clone()
                    } else {
                        p.group_a.clone()
                    }
                })
                .collect();
            if worse.is_empty() {
                (
                    "no conventional regulariser is significantly better (Tukey)".into(),
                    Verdict::Holds,
                )
            } else {
                (
                    format!("significantly worse than {}", worse.join(", ")),
                    Verdict::DoesNotHold,
                )
            }
        }
        Err(e) => (
            format!("Tukey's HSD not computed ({e})"),
            Verdict::Untestable,
        ),
    }
}

/// Decides [`PAIRS_DO_NOT_HURT`] from the z-scores of the neurogenesis pairs in `matrix`.
fn pairs_do_not_hurt(regs: &[Single], matrix: &[Vec<f64>]) -> (String, Verdict) {
    let ngn = regs
        .iter()
        .position(|r| r.key == "neurogenesis")
        .expect("neurogenesis is one of the singles");
    let ngn_pairs: Vec<f64> = (0..regs.len())
        .filter(|&j| j != ngn)
        .map(|j| matrix[ngn][j])
        .collect();
    let mean_z = mean(&ngn_pairs);
    (
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
    )
}

/// The z-score of each pair's mean test accuracy relative to neurogenesis alone (the diagonal:
/// each regulariser alone), written to the report as a table and a heat map; returns the
/// matrix, rows and columns in the order of `regs`. With `published`, every group with
/// neurogenesis is its published-code variant.
fn pair_zscores(
    ctx: &dyn FigureContext,
    res: &Results,
    regs: &[Single],
    rep: &mut Report,
    published: bool,
) -> Result<Vec<Vec<f64>>, TranError> {
    let acc = |k: &str| {
        let k = if published {
            res.published_of(k).unwrap_or(k)
        } else {
            k
        };
        res.values(Value::TEST_ACCURACY, k)
    };
    let ngn = acc("neurogenesis");
    let (m0, sd0) = (mean(&ngn), sample_sd(&ngn));
    let mut matrix = vec![vec![f64::NAN; regs.len()]; regs.len()];
    for (i, row) in matrix.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            let xs = acc(&pair_key(regs, i, j));
            if !xs.is_empty() && sd0 > 0.0 {
                *cell = (mean(&xs) - m0) / sd0;
            }
        }
    }
    let (suffix, stem) = if published {
        (" (published code)", "pairs_zscore_published")
    } else {
        ("", "pairs_zscore")
    };
    rep.section(&format!("z-scores relative to neurogenesis alone{suffix}"));
    rep.para(&format!(
        "z = (mean test accuracy of the pair − mean of neurogenesis alone) / SD of neurogenesis alone \
         (mean {m0:.2}, SD {sd0:.2}); the diagonal holds each regulariser alone."
    ));
    let mut table = String::from("| | ");
    table += &regs.iter().map(|r| r.name).collect::<Vec<_>>().join(" | ");
    table += " |\n|---|";
    table += &"---|".repeat(regs.len());
    for (i, row) in matrix.iter().enumerate() {
        table += &format!("\n| {} | ", regs[i].name);
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
        row_labels: regs.iter().map(|r| r.name.to_string()).collect(),
        col_labels: regs.iter().map(|r| r.name.to_string()).collect(),
        colour_bar_label: "z vs neurogenesis alone".into(),
        labels: Labels::new(
            format!("Fig. 3: regulariser pairs (z-score){suffix}"),
            "regulariser",
            "regulariser",
        ),
    };
    if matrix.iter().flatten().all(|z| z.is_finite()) {
        let f = save_plot(ctx.report_dir(), stem, &heat)?;
        rep.figure(
            &f,
            "Pairs of regularisers, z-score relative to neurogenesis alone",
        );
    } else {
        rep.para("Heat map not drawn: some z-scores are undefined (a group had no successful run, or neurogenesis alone had zero spread).");
    }
    Ok(matrix)
}
