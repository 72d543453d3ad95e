//! The study's report: the networks' training fit and robustness, the ablation and noise
//! curves per corruption fraction, and Morcos et al.'s claims decided on the analyses
//! ([`super::analysis`]): (1) more corrupted labels, less robust; (2) across clean-label
//! networks, robustness predicts generalisation; (3) class selectivity is a poor predictor of a
//! unit's importance; (4) dropout protects only up to its drop fraction.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use neurogen_analysis::default_fractions;
use neurogen_analysis::plot::{Curve, Labels, LinePlot, Points, ScatterPlot};
use neurogen_analysis::stats::{self, mean_correlation};
use neurogen_lab::claims::{Claim, ClaimError, Expect, Finding, Samples, Value, Verdict};
use neurogen_lab::plot::save_plot;
use neurogen_lab::report::{ClaimRow, Report};

use super::analysis::{LayerAnalysis, Network};
use super::{
    slopes_around, Arm, Net, SdContext, SdData, SdError, CORRUPTION_SEED, LAYER, MLP_WIDTH, WEAK,
};

/// Mean and standard error of the mean (0 for one value).
fn mean_sem(xs: &[f64]) -> (f64, f64) {
    let m = stats::mean(xs);
    let sem = if xs.len() > 1 {
        stats::sample_sd(xs) / (xs.len() as f64).sqrt()
    } else {
        0.0
    };
    (m, sem)
}

/// Mean ± SEM curve of `pick` over the networks of one arm (None when no network has it).
fn mean_curve(
    label: &str,
    x: &[f64],
    nets: &[&Network],
    pick: impl Fn(&Network) -> Option<Vec<f64>>,
) -> Option<Curve> {
    let ys: Vec<Vec<f64>> = nets
        .iter()
        .filter_map(|n| pick(n))
        .filter(|y| y.len() == x.len() && y.iter().all(|v| v.is_finite()))
        .collect();
    if ys.is_empty() {
        return None;
    }
    let (mut m, mut e) = (Vec::new(), Vec::new());
    for k in 0..x.len() {
        let col: Vec<f64> = ys.iter().map(|y| y[k]).collect();
        let (a, b) = mean_sem(&col);
        m.push(a);
        e.push(b);
    }
    Some(Curve {
        label: label.to_string(),
        x: x.to_vec(),
        y: m,
        err: Some(e),
    })
}

/// The first value of a correlation row ([`correlation_row`]).
const X_VALUE: Value = Value::new("x", "x", "", 3, true);
/// The second value of a correlation row.
const Y_VALUE: Value = Value::new("y", "y", "", 3, true);
/// The slope change of claim 4 (slope after p − slope before p of the normalised ablation
/// curve); higher: dropout protects up to p.
const ACCELERATION: Value = Value::new("acceleration", "slope change", "", 3, true);

/// One row of the claims table: `claim`, decided by its test on `obs`; a
/// value that cannot be observed (not finite) makes the row untestable, with the reason.
fn claim_row(claim: Claim, obs: Result<Samples, ClaimError>) -> Result<ClaimRow, SdError> {
    let main = match obs {
        Ok(obs) => claim.evaluate(&obs)?,
        Err(e) => Finding::analysis(format!("not computed ({e})"), Verdict::Untestable),
    };
    Ok(ClaimRow {
        claim: claim.text,
        how: claim.how,
        main,
        variant: None,
    })
}

/// Observations of (value, group, one number per network): the networks' order pairs them.
fn observe(columns: &[(Value, &str, &[f64])]) -> Result<Samples, ClaimError> {
    let mut obs = Samples::new();
    for (value, group, xs) in columns {
        let by: Vec<(usize, f64)> = xs.iter().copied().enumerate().collect();
        obs.set(*value, group, &by)?;
    }
    Ok(obs)
}

/// A row of a correlation claim over networks: `x` against `y` (Spearman's ρ if `spearman`,
/// else Pearson's r), expected positive if `positive`.
fn correlation_row(
    claim: &str,
    how: &str,
    x: &[f64],
    y: &[f64],
    positive: bool,
    spearman: bool,
) -> Result<ClaimRow, SdError> {
    let c = if spearman {
        Claim::spearman(claim, X_VALUE, Y_VALUE, &["nets"], positive)
    } else {
        Claim::correlation(claim, X_VALUE, Y_VALUE, &["nets"], positive)
    };
    claim_row(
        c.with_how(how),
        observe(&[(X_VALUE, "nets", x), (Y_VALUE, "nets", y)]),
    )
}

/// The report (`report.md`'s text) on the networks `nets` of `arms`, its plots saved in the
/// study's directory.
pub(super) fn report(
    ctx: &dyn SdContext,
    data: &SdData,
    arms: &[Arm],
    nets: &[Network],
) -> Result<String, SdError> {
    let s = ctx.scale();
    let dir = ctx.dir();
    let mut rep = Report::new("Single directions and generalisation (Morcos et al., ICLR 2018)");
    let wall: f64 = nets.iter().map(|n| n.row.share_of_wall()).sum();
    rep.para(&format!(
        "Scale **{:?}**: the paper's CNN on {} CIFAR-10 training images ({} epochs), an MLP ({}×{MLP_WIDTH}) on {} Fashion-MNIST training images ({} epochs), \
         {} test images each; batch {}, Adam learning rate {}, {} repeats (seeds) per setting; label corruption f ∈ {:?} (seed {CORRUPTION_SEED}); \
         clean-label CNN settings: dropout p ∈ {:?} (no max-norm), hidden width {}, {} epochs. Analyses on {} images, {} random ablation orders, {} noise draws per level.",
        s.name, s.cnn_train_images, s.cnn_epochs, 3, s.mlp_train_images, s.mlp_epochs, s.test_images, s.batch_size, s.lr, s.repeats,
        s.corruption, s.dropouts, s.narrow_width, s.short_epochs, s.analysis_images, s.ablation_draws, s.noise_draws
    ));
    rep.para(&format!(
        "Data: `{}` and `{}`. Device: {}. Networks: {} ok, {:.0} s of training in all.",
        data.sources.0,
        data.sources.1,
        neurogen_model::device_name(ctx.device()),
        nets.len(),
        wall
    ));
    let of = |key: &str| -> Vec<&Network> { nets.iter().filter(|n| n.arm.key == key).collect() };

    // Training fit.
    rep.section("Networks: training fit and generalisation");
    let mut t = String::from(
        "| setting | n | training accuracy (own labels, %) | test accuracy (%) | ablation AUC (hidden 1) | noise AUC (hidden 1) | ablation AUC (last conv) |\n|---|---|---|---|---|---|---|\n",
    );
    for arm in arms {
        let ns = of(&arm.key);
        let col = |f: &dyn Fn(&Network) -> Option<f64>| -> String {
            let xs: Vec<f64> = ns
                .iter()
                .filter_map(|n| f(n))
                .filter(|x| x.is_finite())
                .collect();
            if xs.is_empty() {
                "–".into()
            } else {
                let (m, e) = mean_sem(&xs);
                format!("{m:.3} ± {e:.3}")
            }
        };
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {} |",
            arm.name,
            ns.len(),
            col(&|n| n.row.train_accuracy),
            col(&|n| n.row.test_accuracy),
            col(&|n| n.analysis.hidden.ablation_auc),
            col(&|n| n.analysis.hidden.noise_auc),
            col(&|n| n.analysis.conv.as_ref().and_then(|c| c.ablation_auc)),
        );
    }
    rep.para(t.trim_end());
    rep.para("Mean ± SEM over repeats. Ablation AUC: area under the normalised cumulative-ablation curve ((acc − acc_all_ablated) / (acc_none − acc_all_ablated), fractions 0–1 in steps of 5 %, random order) on training images with the labels the network was trained on. Noise AUC: area under accuracy / accuracy without noise over the noise levels (Gaussian noise of SD level × the unit's activity SD added to every unit of hidden layer 1), divided by the level range.");

    // Plots: ablation and noise curves per corruption fraction.
    let x_abl: Vec<f64> = default_fractions().iter().map(|f| 100.0 * f).collect();
    for (net, tag) in [(Net::Cnn, "cnn"), (Net::Mlp, "mlp")] {
        let sweep: Vec<&Arm> = arms
            .iter()
            .filter(|a| {
                a.net == net && a.dropout == 0.0 && a.width.is_none() && a.key.contains("-f")
            })
            .collect();
        let mut abl = Vec::new();
        let mut noise = Vec::new();
        let mut conv = Vec::new();
        for a in &sweep {
            let ns = of(&a.key);
            abl.extend(mean_curve(&a.name, &x_abl, &ns, |n| {
                n.analysis.hidden.ablation_normalized.clone()
            }));
            noise.extend(mean_curve(&a.name, &s.noise_levels, &ns, |n| {
                n.analysis.hidden.noise_normalized.clone()
            }));
            conv.extend(mean_curve(&a.name, &x_abl, &ns, |n| {
                n.analysis
                    .conv
                    .as_ref()
                    .and_then(|c| c.ablation_normalized.clone())
            }));
        }
        let upper = tag.to_uppercase();
        for (stem, curves, title, x, caption) in [
            (format!("ablation-{tag}"), abl, format!("{upper}: cumulative ablation of hidden layer {LAYER}"), "units ablated (%)", format!("{upper}: normalised accuracy as units of hidden layer {LAYER} are ablated, per label-corruption fraction f")),
            (format!("noise-{tag}"), noise, format!("{upper}: noise in hidden layer {LAYER}"), "noise SD (× unit SD)", format!("{upper}: accuracy (relative to none) under Gaussian noise in hidden layer {LAYER}, per f")),
            (format!("ablation-{tag}-conv"), conv, format!("{upper}: cumulative ablation of the last convolution's feature maps"), "feature maps ablated (%)", format!("{upper}: normalised accuracy as feature maps of the last convolution are ablated, per f")),
        ] {
            if curves.is_empty() {
                continue;
            }
            let lp = LinePlot {
                curves,
                labels: Labels::new(title, x, "normalised accuracy, mean ± SEM"),
            };
            let f = save_plot(dir, &stem, &lp)?;
            rep.figure(&f, &caption);
        }
    }

    let mut claims: Vec<ClaimRow> = Vec::new();
    // Claim 1: corruption against robustness.
    const C1: &str = "(1) Networks trained on more corrupted labels degrade faster under cumulative ablation and under noise";
    for (net, tag) in [(Net::Cnn, "CNN"), (Net::Mlp, "MLP")] {
        let sweep: Vec<&Network> = nets
            .iter()
            .filter(|n| n.arm.net == net && n.arm.key.contains("-f"))
            .collect();
        type Pick = fn(&Network) -> Option<f64>;
        let measures: [(&str, Pick); 3] = [
            ("ablation AUC, hidden layer 1", |n| {
                n.analysis.hidden.ablation_auc
            }),
            ("noise AUC, hidden layer 1", |n| n.analysis.hidden.noise_auc),
            ("ablation AUC, last convolution", |n| {
                n.analysis.conv.as_ref().and_then(|c| c.ablation_auc)
            }),
        ];
        for (what, pick) in measures {
            let pairs: Vec<(f64, f64)> = sweep
                .iter()
                .filter_map(|n| {
                    pick(n)
                        .filter(|v| v.is_finite())
                        .map(|v| (n.arm.corruption, v))
                })
                .collect();
            if net == Net::Mlp && what.contains("convolution") {
                continue;
            }
            let (f, v): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
            claims.push(correlation_row(
                C1,
                &format!("{tag}: Spearman ρ(f, {what}) < 0"),
                &f,
                &v,
                false,
                true,
            )?);
        }
    }

    // Claim 2: robustness predicts generalisation across clean-label networks.
    const C2: &str =
        "(2) Across clean-label networks, robustness to ablation predicts generalisation";
    let clean: Vec<&Network> = nets.iter().filter(|n| n.arm.clean).collect();
    let pick_clean = |f: &dyn Fn(&Network) -> Option<f64>| -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut auc = Vec::new();
        let mut test = Vec::new();
        let mut gap = Vec::new();
        for n in &clean {
            if let (Some(a), Some(te), Some(tr)) = (f(n), n.row.test_accuracy, n.row.train_accuracy)
            {
                if a.is_finite() {
                    auc.push(a);
                    test.push(te);
                    gap.push(tr - te);
                }
            }
        }
        (auc, test, gap)
    };
    let (auc, test, gap) = pick_clean(&|n| n.analysis.hidden.ablation_auc);
    claims.push(correlation_row(
        C2,
        "CNN, hidden layer 1: Pearson r(ablation AUC, test accuracy) > 0",
        &auc,
        &test,
        true,
        false,
    )?);
    claims.push(correlation_row(
        C2,
        "CNN, hidden layer 1: Spearman ρ(ablation AUC, generalisation gap) < 0",
        &auc,
        &gap,
        false,
        true,
    )?);
    let (cauc, ctest, _) = pick_clean(&|n| n.analysis.conv.as_ref().and_then(|c| c.ablation_auc));
    claims.push(correlation_row(
        C2,
        "CNN, last convolution: Pearson r(ablation AUC, test accuracy) > 0",
        &cauc,
        &ctest,
        true,
        false,
    )?);
    let mut series = Vec::new();
    for arm in arms.iter().filter(|a| a.clean) {
        let ns: Vec<&Network> = clean
            .iter()
            .copied()
            .filter(|n| n.arm.key == arm.key)
            .collect();
        let pts: Vec<(f64, f64)> = ns
            .iter()
            .filter_map(|n| Some((n.analysis.hidden.ablation_auc?, n.row.test_accuracy?)))
            .filter(|(a, _)| a.is_finite())
            .collect();
        if !pts.is_empty() {
            series.push(Points {
                label: arm.name.clone(),
                x: pts.iter().map(|p| p.0).collect(),
                y: pts.iter().map(|p| p.1).collect(),
            });
        }
    }
    if !series.is_empty() {
        let sp = ScatterPlot {
            series,
            labels: Labels::new(
                "Robustness against generalisation (clean labels)",
                "ablation AUC, hidden layer 1",
                "test accuracy (%)",
            ),
        };
        let f = save_plot(dir, "robustness-vs-test", &sp)?;
        rep.figure(
            &f,
            "Clean-label CNNs: ablation robustness against test accuracy, one point per network",
        );
    }

    // Claim 3: selectivity against importance.
    const C3: &str = "(3) Class selectivity is a poor predictor of a unit's importance (weak or negative rank correlation)";
    let layers: [(&str, Net, PickLayer); 3] = [
        ("CNN hidden layer 1", Net::Cnn, |n| Some(&n.analysis.hidden)),
        ("CNN last convolution", Net::Cnn, |n| {
            n.analysis.conv.as_ref()
        }),
        ("MLP hidden layer 1", Net::Mlp, |n| Some(&n.analysis.hidden)),
    ];
    let mut sel_series = Vec::new();
    for (what, net, pick) in layers {
        let rs: Vec<f64> = nets
            .iter()
            .filter(|n| n.arm.net == net)
            .filter_map(|n| pick(n).and_then(|l| l.selectivity_importance))
            .collect();
        let (found, verdict) = match mean_correlation(&rs, 0.95) {
            Ok(m) => (
                format!(
                    "mean ρ = {:+.3} [95 % CI {:+.3}, {:+.3}], p = {:.4}, n = {} networks",
                    m.r, m.lo, m.hi, m.p, m.n
                ),
                if m.hi < WEAK {
                    Verdict::Holds
                } else if m.r < WEAK {
                    Verdict::DirectionOnly
                } else {
                    Verdict::DoesNotHold
                },
            ),
            Err(e) => (format!("not computed: {e}"), Verdict::Untestable),
        };
        // Decided by its own rule (an upper bound, not a sign): an analysis claim.
        claims.push(ClaimRow {
            claim: C3.into(),
            how: Some(format!("{what}: per-network Spearman ρ(selectivity, importance), mean on the Fisher-z scale, upper 95 % bound < {WEAK}")),
            main: Finding::analysis(found, verdict),
            variant: None,
        });
        let (x, y): (Vec<f64>, Vec<f64>) = nets
            .iter()
            .filter(|n| n.arm.net == net && n.arm.clean)
            .filter_map(pick)
            .flat_map(|l| {
                l.selectivity
                    .iter()
                    .copied()
                    .zip(l.importance.iter().map(|i| 100.0 * i))
            })
            .unzip();
        if !x.is_empty() {
            sel_series.push(Points {
                label: what.to_string(),
                x,
                y,
            });
        }
    }
    if !sel_series.is_empty() {
        let sp = ScatterPlot {
            series: sel_series,
            labels: Labels::new(
                "Selectivity against importance (clean labels)",
                "class selectivity index",
                "importance: accuracy drop when ablated alone (points)",
            ),
        };
        let f = save_plot(dir, "selectivity-vs-importance", &sp)?;
        rep.figure(&f, "Every unit (and feature map) of the clean-label networks: selectivity against importance");
    }

    // Claim 4: dropout protects only up to its drop fraction.
    const C4: &str = "(4) Dropout protects against ablation only up to its drop fraction";
    let bases: BTreeMap<usize, &Network> = of("cnn-f0")
        .into_iter()
        .map(|n| (n.row.repeat, n))
        .collect();
    for &p in &s.dropouts {
        let mut accel_d = Vec::new();
        let mut accel_b = Vec::new();
        for n in of(&format!("cnn-dropout{p}")) {
            let Some(b) = bases.get(&n.row.repeat) else {
                continue;
            };
            let h = &n.analysis.hidden;
            let hb = &b.analysis.hidden;
            let (Some(yd), Some(yb)) = (&h.ablation_normalized, &hb.ablation_normalized) else {
                continue;
            };
            if let (Some((d0, d1)), Some((b0, b1))) = (
                slopes_around(&h.fractions, yd, p),
                slopes_around(&hb.fractions, yb, p),
            ) {
                accel_d.push(d1 - d0);
                accel_b.push(b1 - b0);
            }
        }
        let claim = Claim::paired(
            C4,
            "mean difference {d}",
            ACCELERATION,
            "dropout",
            "clean",
            Expect::Better,
        )
        .with_how(&format!("dropout p = {p}: (slope after p − slope before p) of the normalised curve, dropout network − clean network of the same seed, > 0"));
        let obs = observe(&[
            (ACCELERATION, "dropout", &accel_d),
            (ACCELERATION, "clean", &accel_b),
        ]);
        claims.push(claim_row(claim, obs)?);
    }

    let style = rep.style_mut();
    style.heading = "Claims (Morcos et al. 2018) and this run".into();
    style.how_column = Some("test".into());
    style.bold_verdicts = true;
    style.note = format!(
        "Confidence intervals: Fisher z (Pearson: SE 1/√(n − 3); Spearman: SE √(1.06/(n − 3)), Fieller et al. 1957). \"Holds\": the predicted sign with p < 0.05 (the verdict rule of every study: neurogen_lab::claims); for claim 3, by its own rule, the upper 95 % bound of the mean rank correlation below {WEAK} (no moderate positive relation). Claim 4 pairs each dropout network with the clean network of the same seed: paired t-test (its p decides; Holm-adjusted across claim 4's settings beside it), Wilcoxon signed-rank test, Cohen's d_z and the difference detectable at 80 % power. Slopes of claim 4: (1 − y(p))/p before and (y(p) − y(2p))/p after the drop fraction p, on the normalised ablation curve of hidden layer {LAYER}; dropout protects up to p if its curve then falls faster than the clean network's. Small scales have little power: a claim that does not hold here says little about Morcos et al.'s."
    );
    for row in claims {
        rep.push_claim(row);
    }
    Ok(rep.finish())
}

/// Picks one layer's analysis of a network.
type PickLayer = for<'x, 'y> fn(&'x Network<'y>) -> Option<&'x LayerAnalysis>;
