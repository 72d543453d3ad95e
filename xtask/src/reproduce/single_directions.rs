//! `cargo xtask reproduce single-directions`: Morcos, Barrett, Rabinowitz & Botvinick (ICLR
//! 2018), "On the importance of single directions for generalization" — the premise of the
//! paper's Fig. 5, as a figure of its own (issue #16; docs/single-directions.md).
//!
//! Networks: the paper's CNN on a CIFAR-10 subset and an MLP on a Fashion-MNIST subset, each
//! trained to fit its training set with a fraction `f` of the labels replaced by random ones
//! ([`neurogen_data::Split::with_corrupted_labels`]); and clean-label CNNs with other settings
//! (dropout, a narrower hidden layer, fewer epochs). Every network is one run of the run store
//! (`runs.csv`, checkpoints; a rerun trains nothing), and its analysis is saved beside it
//! (`analysis/STEM.json`, keyed by the run's configuration hash), so a rerun analyses nothing
//! either and the report is re-derived from `runs.csv` and `analysis/`.
//!
//! Analyses of each network (on a sample of its own training images, with the labels it was
//! trained on, as Morcos et al.): cumulative ablation in random order of hidden layer 1's units
//! and (CNN) of the last convolution's feature maps, with the area under the normalised curve;
//! Gaussian noise added to hidden layer 1 ([`neurogen_analysis::perturbation`]); the class
//! selectivity (on test images, true labels) and importance of every unit and map.
//!
//! The study's definition (scales, arms) and decision rules are the library's
//! [`neurogen_studies::morcos2018`]; the training calls, analyses and report are here.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use neurogen_analysis::perturbation::{area_under_curve, noise_curve};
use neurogen_analysis::plot::{Curve, Labels, LinePlot, Points, ScatterPlot};
use neurogen_analysis::stats::{self, mean_correlation};
use neurogen_analysis::{
    ablation_curve, class_selectivity, default_fractions, unit_importance, AblationOrder,
};
use neurogen_data::{ImageShape, Split};
use neurogen_lab::claims::{Claim, Expect, Finding, Samples, Value, Verdict};
use neurogen_lab::report::{ClaimRow, Report};
use neurogen_model::{
    checkpoint, evaluate_with, feature_map_activations, AddNoise, CachedFeatures, Cnn, ModelConfig,
    Regularizer, Silence,
};
use neurogen_regularizers::Stack;
use serde::{Deserialize, Serialize};

pub use neurogen_studies::morcos2018::{
    slopes_around, Arm, Net, SdScale, CORRUPTION_SEED, CURVE_IMAGES, LAYER, MLP_WIDTH, NAME, WEAK,
};

use super::run::{run_groups, FigureData, RunOptions, RunRecord, RunStatus};
use super::scale::Scale;
use super::{figure::Group, save_plot};
use crate::common::EVAL_BATCH;

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

/// Reads the FIGURE's data: the CNN's CIFAR-10 and the MLP's Fashion-MNIST.
pub struct SdData<'a> {
    /// CIFAR-10.
    pub cifar: &'a neurogen_data::Dataset,
    /// Fashion-MNIST.
    pub fashion: &'a neurogen_data::Dataset,
    /// Where each came from (the report's `Data:` line).
    pub sources: (String, String),
}

fn flat(split: &Split) -> anyhow::Result<Split> {
    let s = split.shape();
    Ok(Split::new(
        ImageShape {
            channels: 1,
            height: 1,
            width: s.channels * s.height * s.width,
        },
        split.images().to_vec(),
        split.labels().to_vec(),
    )?)
}

/// The training and test data of `arm` (labels corrupted as it says, the MLP's images
/// flattened) and its network.
pub fn arm_data(s: &SdScale, data: &SdData, arm: &Arm) -> anyhow::Result<FigureData> {
    let (ds, n_train) = match arm.net {
        Net::Cnn => (data.cifar, s.cnn_train_images),
        Net::Mlp => (data.fashion, s.mlp_train_images),
    };
    let classes = ds.num_classes();
    let pool = ds.train.sample(n_train.min(ds.train.len()), 0)?;
    let test = ds.test.sample(s.test_images.min(ds.test.len()), 0)?;
    let train = if arm.corruption > 0.0 {
        pool.with_corrupted_labels(arm.corruption, classes, CORRUPTION_SEED)?
    } else {
        pool
    };
    let sh = ds.shape;
    let (train, test, mut model) = match arm.net {
        Net::Cnn => (
            train,
            test,
            ModelConfig::for_input(sh.channels, sh.height, sh.width, classes),
        ),
        Net::Mlp => (
            flat(&train)?,
            flat(&test)?,
            ModelConfig::mlp(sh.channels * sh.height * sh.width, &[MLP_WIDTH; 3], classes),
        ),
    };
    if let Some(w) = arm.width {
        model = model.with_hidden_width(w);
    }
    let dataset = if arm.corruption > 0.0 {
        format!(
            "{} (labels corrupted: f = {}, seed {CORRUPTION_SEED})",
            ds.kind, arm.corruption
        )
    } else {
        ds.kind.to_string()
    };
    // Per-epoch curves on a small test sample (the final test accuracy is on every test image):
    // networks trained for many epochs on few images would otherwise spend most of their time
    // evaluating.
    let curve = test.sample(CURVE_IMAGES.min(test.len()), 1)?;
    Ok(FigureData {
        dataset,
        curve,
        curve_name: format!("test sample ({CURVE_IMAGES} images)"),
        train,
        test,
        model,
    })
}

/// The arm as a group of the run store (its dropout as a regulariser spec, plain dropout
/// without max-norm, as Morcos et al.).
fn group(arm: &Arm, base: &Scale) -> anyhow::Result<Group> {
    let specs = if arm.dropout > 0.0 {
        vec![format!("dropout:p={},max_norm=0", arm.dropout)]
    } else {
        Vec::new()
    };
    let mut g = Group::new(&arm.key, &arm.name, &specs, base)?;
    g.epochs = arm.epochs;
    Ok(g)
}

/// A network's trained labels and results: what the report needs of each run.
#[derive(Debug, Clone)]
pub struct Network<'a> {
    /// Its arm.
    pub arm: &'a Arm,
    /// Its row in `runs.csv`.
    pub row: RunRecord,
    /// Its analysis.
    pub analysis: RunAnalysis,
}

/// The analysis settings, as recorded with each analysis.
fn settings(s: &SdScale) -> String {
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

fn give_back(reg: &mut Option<Box<dyn Regularizer>>, mut stack: Stack) {
    *reg = Some(stack.0.swap_remove(0));
}

/// Spearman correlation, None when undefined (a constant input).
fn spearman_or_none(a: &[f64], b: &[f64]) -> Option<f64> {
    stats::spearman(a, b).ok().map(|c| c.r)
}

/// Analyses one trained network (see the module documentation).
pub fn analyse(
    model: &Cnn,
    reg: Box<dyn Regularizer>,
    data: &FigureData,
    s: &SdScale,
    seed: u64,
) -> anyhow::Result<(LayerAnalysis, Option<LayerAnalysis>)> {
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
    let mut silenced_acc = |units: &[usize]| -> anyhow::Result<f64> {
        let mut st = with_probe(&mut reg, Box::new(Silence::new(LAYER, units.to_vec())));
        let acc = cache.accuracy(model, &mut st);
        give_back(&mut reg, st);
        Ok(acc?)
    };
    let curve = ablation_curve(width, &fractions, order.clone(), |u: &[usize]| {
        silenced_acc(u).map_err(|e| e.to_string())
    })?;
    let importance = unit_importance(width, curve.acc_none_silenced, |u: &[usize]| {
        silenced_acc(u).map_err(|e| e.to_string())
    })?;
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
        |level: f64, d: u64| {
            let sds: Vec<f32> = sd.iter().map(|x| x * level as f32).collect();
            let probe = AddNoise::new(LAYER, sds, d).map_err(|e| e.to_string())?;
            let mut st = with_probe(&mut reg, Box::new(probe));
            let acc = cache.accuracy(model, &mut st);
            give_back(&mut reg, st);
            acc.map_err(|e| e.to_string())
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
            let mut map_acc = |m: &[usize]| -> Result<f64, String> {
                let mut st = with_probe(&mut reg, Box::new(Silence::feature_maps(c, m.to_vec())));
                let acc = evaluate_with(model, &train, EVAL_BATCH, &mut st);
                give_back(&mut reg, st);
                acc.map(|r| r.accuracy).map_err(|e| e.to_string())
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

/// The analysis of `row` (read from `analysis/STEM.json` when it was made for this run and
/// these settings; else computed from the checkpoint and saved).
fn analysis_of(
    dir: &Path,
    device: &candle_core::Device,
    s: &SdScale,
    data: &FigureData,
    row: &RunRecord,
) -> anyhow::Result<RunAnalysis> {
    let path = dir.join(format!(
        "analysis/{}.json",
        super::run::spec::stem(&row.group, row.repeat)
    ));
    let want = settings(s);
    crate::common::cached_json(
        &path,
        |a: &RunAnalysis| a.config_hash == row.config_hash && a.settings == want,
        || {
            let ck_path = dir.join(&row.checkpoint);
            let ck = checkpoint::load(&ck_path, device).with_context(|| {
                format!(
                    "loading {} (to analyse {} r{})",
                    ck_path.display(),
                    row.group,
                    row.repeat
                )
            })?;
            let reg = crate::regs::from_metadata(&ck.meta.regularizer)?;
            let (hidden, conv) = analyse(&ck.model, reg, data, s, row.repeat as u64)
                .with_context(|| format!("analysing {} r{}", row.group, row.repeat))?;
            Ok(RunAnalysis {
                config_hash: row.config_hash.clone(),
                settings: want.clone(),
                hidden,
                conv,
            })
        },
    )
}

/// What `reproduce single-directions` needs besides the data.
pub struct SdCtx<'a> {
    /// The scale.
    pub scale: SdScale,
    /// Run options (the figure's directory, device, batch size, learning rate, replicas).
    pub opts: RunOptions<'a>,
}

/// Trains every arm's runs not yet recorded, analyses every network not yet analysed and
/// writes the report and plots; returns the report's path.
pub fn run(ctx: &SdCtx, data: &SdData) -> anyhow::Result<PathBuf> {
    let s = &ctx.scale;
    anyhow::ensure!(
        s.repeats >= 2,
        "the statistics need at least 2 repeats per setting"
    );
    let mut base = Scale::new(s.name);
    base.epochs = s.cnn_epochs;
    base.dropout_extra_epochs = 0;
    let arms = s.arms();
    std::fs::create_dir_all(ctx.opts.dir.join("analysis"))?;
    let mut networks = Vec::new();
    for arm in &arms {
        let fd = arm_data(s, data, arm)?;
        let g = group(arm, &base)?;
        let rows = run_groups(&ctx.opts, &fd, std::slice::from_ref(&g), s.repeats)?;
        for row in rows.into_iter().filter(|r| r.status == RunStatus::Ok) {
            let analysis = analysis_of(&ctx.opts.dir, &ctx.opts.device, s, &fd, &row)?;
            networks.push(Network { arm, row, analysis });
        }
    }
    let text = report(ctx, data, &arms, &networks)?;
    let path = ctx.opts.dir.join("report.md");
    neurogen_io::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

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
fn claim_row(
    claim: Claim,
    obs: Result<Samples, neurogen_lab::claims::ClaimError>,
) -> anyhow::Result<ClaimRow> {
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
fn observe(columns: &[(Value, &str, &[f64])]) -> Result<Samples, neurogen_lab::claims::ClaimError> {
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
) -> anyhow::Result<ClaimRow> {
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

fn report(ctx: &SdCtx, data: &SdData, arms: &[Arm], nets: &[Network]) -> anyhow::Result<String> {
    let s = &ctx.scale;
    let dir = &ctx.opts.dir;
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
        neurogen_model::device_name(&ctx.opts.device),
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

#[cfg(test)]
mod tests {
    use super::super::scale::ScaleName;
    use super::*;

    #[test]
    fn slopes_are_computed_by_hand() {
        let f = default_fractions();
        // y = 1 until 0.2, then falling 2 per unit fraction: slopes 0 before, 2 after.
        let y: Vec<f64> = f
            .iter()
            .map(|x| {
                if *x <= 0.2 {
                    1.0
                } else {
                    1.0 - 2.0 * (x - 0.2)
                }
            })
            .collect();
        let (a, b) = slopes_around(&f, &y, 0.2).unwrap();
        assert!(a.abs() < 1e-12 && (b - 2.0).abs() < 1e-12, "{a} {b}");
        assert!(slopes_around(&f, &y, 0.0).is_none());
        assert!(slopes_around(&f, &y, 0.33).is_none());
    }

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

    #[test]
    fn every_scale_has_distinct_arms_with_a_clean_base() {
        for name in [ScaleName::Smoke, ScaleName::Quick, ScaleName::Paper] {
            let s = SdScale::new(name);
            let arms = s.arms();
            let mut keys: Vec<&str> = arms.iter().map(|a| a.key.as_str()).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), arms.len());
            assert!(arms.iter().any(|a| a.key == "cnn-f0" && a.clean));
            assert!(arms.iter().filter(|a| a.net == Net::Mlp).all(|a| !a.clean));
            let base = Scale::new(name);
            for a in &arms {
                let g = group(a, &base).unwrap();
                assert_eq!(g.epochs, a.epochs);
                assert_eq!(g.dropout, a.dropout > 0.0);
            }
        }
    }
}
