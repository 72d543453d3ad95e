//! The study on the engine (`neurogen_lab`): two-agent communities trained on `parity_digits`
//! for a few interconnection fractions p and seeds, each run's accuracy, Newman's Q and the
//! three specialization metrics recorded, and the paper's claims decided (specialization is
//! higher at the sparsest p than dense; it falls with p; the three metrics agree). `cargo xtask
//! reproduce modular --scale smoke|quick` runs it ([`run`]).
//!
//! Each run builds a community (a fixed random interconnection mask at smoke scale, the
//! authors' Deep-R at quick scale), trains it with [`super::train()`] on `n_train`
//! Fashion-MNIST pairs (class indices as digits), evaluates it on `n_test` test pairs and
//! measures, each as the mean over both agents: the correlation metric on the test pairs, the
//! bottleneck metric (readouts trained on the training pairs' states, tested on the test
//! pairs) and the weight-mask metric (masks trained on the training pairs), with the metrics'
//! settings of [`MetricSettings`].
use std::path::Path;

use candle_core::Device;
use neurogen_lab::claims::{decide, Claim, Expect, Value};
use neurogen_lab::events::Observer;
use neurogen_lab::report::Report;
use neurogen_lab::schedule::Options;
use neurogen_lab::store::{Row, RunStatus};
use neurogen_lab::study::{Arm, BoxError, RunCx, RunSpec, Study};
use neurogen_lab::summary::{failed_runs, run_and_report, Summary};
use serde::{Deserialize, Serialize};

use neurogen_analysis::plot::{Curve, Labels, LinePlot};

use super::bottleneck::{bottleneck_metric, BottleneckConfig};
use super::connections::{sparsity_levels, ConnectionScheme, DeepRConfig};
use super::data::DigitPairs;
use super::error::{invalid, Result};
use super::metrics::correlation_metric;
use super::model::{Community, CommunityConfig};
use super::supermask::{mask_metric, SupermaskConfig};
use super::train::{evaluate, train, TrainConfig};

/// The study's name and output directory (`OUT/modular/`); never renamed once results exist.
pub const STUDY_ID: &str = "modular";

/// The dataset every run trains on (recorded in each spec).
pub const DATASET: &str = "Fashion-MNIST";

/// How big the study is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModularScale {
    /// Seconds: agents of 10 hidden units, 3 values of p from one connection to dense,
    /// 300 training and 200 test pairs, 1 epoch, 2 repeats, fixed mask.
    Smoke,
    /// About 20 minutes on one thread of a loaded 2-core machine (30 runs of ~35 s), the
    /// smallest scale calibrated to train well above chance (test accuracy ≈ 0.63 at the
    /// sparsest p and ≈ 0.77 dense after 10 epochs, chance 0.1). The paper's and the authors'
    /// code's: agents of 100 hidden units (784 → 100 tanh RNN, untrained 100 → 10 readout),
    /// the `parity_digits` task with the max-output decision, Deep-R interconnections (l1
    /// 1e-4, noise 1e-4 · (1 − p), per-level lr from geomspace(0.1, 0.001), γ 0.95), Adam
    /// 1e-3 with StepLR γ 0.9, batch 64, p from geomspace(1/100², 0.999) (one connection to
    /// dense), the metrics' settings ([`MetricSettings`]). The issue's: T = 2 steps. Ours: 5
    /// values of p (the authors' 10), 6 seeds per p (the paper's 10), 10,000 training and
    /// 2,000 test pairs of Fashion-MNIST images (class indices as digits; the authors pair
    /// MNIST digits over the whole training set), 10 epochs without early stopping (the
    /// authors' up to 15 stop at 0.9 test accuracy, which no network here reaches).
    Quick,
    /// The paper's protocol: 10 values of p, 10 seeds per p, up to 15 epochs with the
    /// authors' early stopping (best test accuracy ≥ 0.9 after at least three epochs), every
    /// image of the dataset's training split paired once (60,000 pairs for MNIST or
    /// Fashion-MNIST) and 10,000 test pairs, Deep-R interconnections, agents of 100 hidden
    /// units, T = 2 steps (the issue's). Sized, not run here: one run (p = 0.0001, all 15
    /// epochs, metrics included) took 197 s on one thread of the loaded 2-core machine
    /// (2026-12-07), so the 100 runs are about 5.5 hours (less where a run reaches 0.9).
    Paper,
}

/// Every setting of a scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModularSettings {
    /// Training pairs.
    pub n_train: usize,
    /// Test pairs (accuracy and the correlation metric).
    pub n_test: usize,
    /// Hidden units per agent (paper: 100).
    pub n_hidden: usize,
    /// Time steps the input is repeated for (the issue's: 2).
    pub n_steps: usize,
    /// Values of p, geomspace(1/n_hidden², 0.999) (paper: 10).
    pub n_levels: usize,
    /// Epochs (paper: up to 15 with early stopping).
    pub epochs: usize,
    /// The authors' early stopping: training ends once the best test accuracy is at least 0.9
    /// after at least three epochs (the paper scale's; the smaller scales train every epoch).
    pub early_stop: bool,
    /// Pairs per batch (paper: 64).
    pub batch_size: usize,
    /// How the interconnections are kept sparse.
    pub scheme: ConnectionScheme,
    /// Seeds per p (paper: 10).
    pub repeats: usize,
    /// The dataset the runs train on, recorded in each spec: [`DATASET`] (Fashion-MNIST) or
    /// `"MNIST"` (the paper's, from IDX files the user passes). Not serialised with the
    /// settings, so the scales' records are unchanged.
    #[serde(skip)]
    pub dataset: &'static str,
}

impl ModularSettings {
    /// The settings of `scale`.
    pub fn new(scale: ModularScale) -> Self {
        match scale {
            ModularScale::Smoke => ModularSettings {
                dataset: DATASET,
                n_train: 300,
                n_test: 200,
                n_hidden: 10,
                n_steps: 2,
                n_levels: 3,
                epochs: 1,
                early_stop: false,
                batch_size: 64,
                scheme: ConnectionScheme::FixedMask,
                repeats: 2,
            },
            ModularScale::Quick => ModularSettings {
                dataset: DATASET,
                n_train: 10_000,
                n_test: 2_000,
                n_hidden: 100,
                n_steps: 2,
                n_levels: 5,
                epochs: 10,
                early_stop: false,
                batch_size: 64,
                scheme: ConnectionScheme::DeepR,
                repeats: 6,
            },
            ModularScale::Paper => ModularSettings {
                dataset: DATASET,
                n_train: 60_000,
                n_test: 10_000,
                n_hidden: 100,
                n_steps: 2,
                n_levels: 10,
                epochs: 15,
                early_stop: true,
                batch_size: 64,
                scheme: ConnectionScheme::DeepR,
                repeats: 10,
            },
        }
    }

    /// The values of p, sparsest first.
    pub fn levels(&self) -> Result<Vec<f64>> {
        sparsity_levels(self.n_hidden, self.n_levels)
    }
}

/// The specialization metrics' settings; the seed of each is replaced by the run's repeat.
/// `Default` is the authors' (issue's): a 5-unit bottleneck retrained for 5 epochs, a
/// supermask keeping k = 10 % trained for one epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct MetricSettings {
    /// The bottleneck retraining.
    pub bottleneck: BottleneckConfig,
    /// The weight mask.
    pub supermask: SupermaskConfig,
}

impl MetricSettings {
    /// Whether these are the default settings (then left out of the spec's JSON, so the
    /// hashes of runs recorded before the metrics were part of the study stand).
    pub fn is_default(&self) -> bool {
        *self == MetricSettings::default()
    }
}

/// Everything that determines one run (hashed into its resume key).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModularSpec {
    /// The arm's display name ([`group_name`]).
    pub group: String,
    /// The repeat, also the seed of the initialisation, the mask and the batch order.
    pub repeat: usize,
    /// The dataset ([`DATASET`]).
    pub dataset: String,
    /// The community.
    pub community: CommunityConfig,
    /// The training.
    pub train: TrainConfig,
    /// The index of p among the levels (sets the interconnections' learning rate).
    pub level: usize,
    /// Training pairs.
    pub n_train: usize,
    /// Test pairs.
    pub n_test: usize,
    /// The specialization metrics' settings (in the JSON only when not the default).
    #[serde(skip_serializing_if = "MetricSettings::is_default")]
    pub metrics: MetricSettings,
}

impl RunSpec for ModularSpec {
    fn group(&self) -> &str {
        &self.group
    }
    fn repeat(&self) -> usize {
        self.repeat
    }
}

/// The display name of the arm of interconnection fraction `p`.
pub fn group_name(p: f64) -> String {
    format!("p={p}")
}

/// The spec of repeat `repeat` at level `level` (of [`ModularSettings::levels`]) under
/// `settings`: the authors' agents' training (Adam 1e-3, γ 0.9) and their per-level
/// interconnection learning rate, early stopping as `settings.early_stop` says.
///
/// ```
/// use neurogen_studies::bena2021_modular::study::{spec, ModularScale, ModularSettings};
/// let s = spec(&ModularSettings::new(ModularScale::Smoke), 0, 1).unwrap();
/// assert_eq!((s.group.as_str(), s.repeat, s.community.p), ("p=0.01", 1, 0.01));
/// ```
pub fn spec(settings: &ModularSettings, level: usize, repeat: usize) -> Result<ModularSpec> {
    let s = settings;
    let levels = s.levels()?;
    let p = *levels
        .get(level)
        .ok_or_else(|| invalid(format!("level {level} of {} does not exist", levels.len())))?;
    Ok(ModularSpec {
        group: group_name(p),
        repeat,
        dataset: s.dataset.into(),
        community: CommunityConfig {
            n_hidden: s.n_hidden,
            n_steps: s.n_steps,
            p,
            scheme: s.scheme,
            ..CommunityConfig::default()
        },
        train: TrainConfig {
            batch_size: s.batch_size,
            epochs: s.epochs,
            early_stop: s.early_stop,
            deep_r: DeepRConfig::default().for_level(level, levels.len(), p)?,
            seed: repeat as u64,
            ..TrainConfig::default()
        },
        level,
        n_train: s.n_train,
        n_test: s.n_test,
        metrics: MetricSettings::default(),
    })
}

/// One line of the study's `runs.csv`; the measures are empty for a failed run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModularRow {
    /// The arm's display name.
    pub group: String,
    /// The repeat.
    pub repeat: usize,
    /// The spec's configuration hash.
    pub config_hash: String,
    /// `ok` or `failed`.
    pub status: RunStatus,
    /// The fraction of interconnections kept.
    pub p: f64,
    /// Accuracy on the test pairs.
    pub accuracy: Option<f64>,
    /// Newman's Q of the two-module partition.
    pub q: Option<f64>,
    /// The correlation specialization, mean over both agents.
    pub specialization: Option<f64>,
    /// The bottleneck specialization, mean over both agents (empty in files written before
    /// it was recorded).
    #[serde(default)]
    pub bottleneck: Option<f64>,
    /// The weight-mask specialization, mean over both agents (empty in files written before
    /// it was recorded).
    #[serde(default)]
    pub mask: Option<f64>,
    /// Wall time of the run in seconds.
    pub seconds: f64,
    /// Why the run failed (empty when it did not).
    pub message: String,
}

impl Row for ModularRow {
    const COLUMNS: &'static [&'static str] = &[
        "group",
        "repeat",
        "config_hash",
        "status",
        "p",
        "accuracy",
        "q",
        "specialization",
        "bottleneck",
        "mask",
        "seconds",
        "message",
    ];
    const WRITTEN_BY: &'static str = "reproduce modular";
    const VOLATILE_COLUMNS: &'static [&'static str] = &["seconds"];
    fn older_columns() -> Vec<&'static [&'static str]> {
        vec![&[
            "group",
            "repeat",
            "config_hash",
            "status",
            "p",
            "accuracy",
            "q",
            "specialization",
            "seconds",
            "message",
        ]]
    }
    neurogen_lab::row_identity!();
    fn summary(&self) -> String {
        match (self.accuracy, self.specialization) {
            (Some(a), Some(s)) => format!(
                "{} r{}: accuracy {a:.4}, specialization {s:.3} ({:.1} s)",
                self.group, self.repeat, self.seconds
            ),
            _ => format!("{} r{}: failed: {}", self.group, self.repeat, self.message),
        }
    }
}

/// The study: its settings and the image pairs.
pub struct ModularStudy {
    settings: ModularSettings,
    train: DigitPairs,
    test: DigitPairs,
}

impl ModularStudy {
    /// The study of `settings` on `data` (as `settings.dataset` says); refuses a different dataset, fewer than two repeats or levels, no epochs
    /// or more pairs than the dataset has.
    pub fn new(settings: ModularSettings, data: &neurogen_data::Dataset) -> Result<Self> {
        let s = &settings;
        if s.repeats < 2 || s.n_levels < 2 || s.epochs == 0 {
            return Err(invalid(format!(
                "the study needs >= 2 repeats, >= 2 levels of p and >= 1 epoch (got {}, {}, {})",
                s.repeats, s.n_levels, s.epochs
            )));
        }
        if data.kind.to_string() != s.dataset {
            return Err(invalid(format!(
                "the settings say {} but the data are {}: set settings.dataset to the dataset passed",
                s.dataset, data.kind
            )));
        }
        s.levels()?;
        Ok(ModularStudy {
            train: DigitPairs::from_split(&data.train, s.n_train, 0)?,
            test: DigitPairs::from_split(&data.test, s.n_test, 1)?,
            settings,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &ModularSettings {
        &self.settings
    }

    fn run_one(&self, spec: &ModularSpec) -> Result<ModularRow> {
        let t0 = std::time::Instant::now();
        let c = Community::new(spec.community, spec.repeat as u64, &Device::Cpu)?;
        // The authors' early stopping reads the test accuracy after every epoch.
        let stop_on = spec.train.early_stop.then_some(&self.test);
        train(&c, &self.train, stop_on, spec.train)?;
        let ev = evaluate(&c, &self.test, spec.train.batch_size)?;
        let [s0, s1] = correlation_metric(&c, &self.test, spec.train.batch_size, 0)?;
        let (acc, spec_mean) = (ev.accuracy, (s0.specialization + s1.specialization) / 2.0);
        let seed = spec.repeat as u64;
        let m = &spec.metrics;
        let b = bottleneck_metric(
            &c,
            &self.train,
            &self.test,
            &BottleneckConfig {
                seed,
                ..m.bottleneck
            },
        )?;
        let k = mask_metric(
            &c,
            &self.train,
            &self.test,
            SupermaskConfig {
                seed,
                ..m.supermask
            },
        )?;
        let bottleneck = (b.specialization[0] + b.specialization[1]) / 2.0;
        let mask = (k.specialization[0] + k.specialization[1]) / 2.0;
        let finite = [acc, spec_mean, bottleneck, mask]
            .iter()
            .all(|x| x.is_finite());
        Ok(ModularRow {
            group: spec.group.clone(),
            repeat: spec.repeat,
            config_hash: String::new(),
            status: if finite {
                RunStatus::Ok
            } else {
                RunStatus::Failed
            },
            p: spec.community.p,
            accuracy: finite.then_some(acc),
            q: Some(c.modularity_q()?),
            specialization: finite.then_some(spec_mean),
            bottleneck: finite.then_some(bottleneck),
            mask: finite.then_some(mask),
            seconds: t0.elapsed().as_secs_f64(),
            message: if finite {
                String::new()
            } else {
                "non-finite accuracy or specialization metric".into()
            },
        })
    }
}

impl Study for ModularStudy {
    type Spec = ModularSpec;
    type Row = ModularRow;

    fn id(&self) -> &str {
        STUDY_ID
    }

    fn arms(&self) -> Vec<Arm<ModularSpec>> {
        let levels = self.settings.levels().unwrap_or_default();
        levels
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let name = group_name(p);
                Arm::new(&name, &name, self.settings.repeats, move |r| {
                    spec(&self.settings, i, r).expect("levels checked in ModularStudy::new")
                })
            })
            .collect()
    }

    fn run_batch(
        &self,
        cx: &mut RunCx<'_>,
        batch: &[ModularSpec],
    ) -> std::result::Result<Vec<ModularRow>, BoxError> {
        cx.each_run(batch, |spec, _dir, config_hash| {
            Ok::<_, BoxError>(ModularRow {
                config_hash,
                ..self.run_one(spec)?
            })
        })
    }
}

/// The correlation specialization (the `specialization` column), a claims' value.
pub const SPECIALIZATION: Value =
    Value::new("specialization", "correlation specialization", "", 3, true);
/// The bottleneck specialization, a claims' value.
pub const BOTTLENECK: Value = Value::new("bottleneck", "bottleneck specialization", "", 3, true);
/// The weight-mask specialization, a claims' value.
pub const MASK: Value = Value::new("mask", "weight-mask specialization", "", 3, true);

/// The three specialization metrics with the names the claims and the plot give them.
pub const METRICS: [(Value, &str); 3] = [
    (SPECIALIZATION, "correlation metric"),
    (BOTTLENECK, "bottleneck metric"),
    (MASK, "weight-mask metric"),
];

/// The file stem of the plot of the metrics against log p (`DIR/STEM.svg` and `.png`).
pub const PLOT_STEM: &str = "specialization_vs_p";
/// Test accuracy, reported beside it.
pub const ACCURACY: Value = Value::new("accuracy", "test accuracy", "", 4, true);
/// Newman's Q, reported beside it.
pub const MODULARITY_Q: Value = Value::new("q", "Newman's Q", "", 3, true);
/// The fraction of interconnections p (the Spearman claim's x).
pub const P: Value = Value::new("p", "interconnection fraction p", "", 4, false);

/// What [`run`] produced: every run's row and the report.
pub type Outcome = neurogen_lab::summary::Outcome<ModularRow>;

/// Runs `study` into `dir` (resuming what is recorded there), decides the paper's claims and
/// writes `dir/report.md` atomically. `data_source` names where the images came from.
pub fn run(
    study: &ModularStudy,
    dir: &Path,
    data_source: &str,
    observer: &mut dyn Observer,
) -> std::result::Result<Outcome, BoxError> {
    run_and_report(study, dir, &Options { max_batch: 1 }, observer, |rows| {
        neurogen_lab::plot::save_plot(dir, PLOT_STEM, &plot(study.settings(), rows)?)?;
        report(study.settings(), rows, data_source)
    })
}

/// The value `key` of a row (`p` for any other key).
fn value_of(r: &ModularRow, key: &str) -> Option<f64> {
    match key {
        "accuracy" => r.accuracy,
        "q" => r.q,
        "specialization" => r.specialization,
        "bottleneck" => r.bottleneck,
        "mask" => r.mask,
        _ => Some(r.p),
    }
}

/// The three specialization metrics against log₁₀ p: per value of p, the mean ± SD over the
/// seeds whose runs succeeded (a value of p without any is left out of that curve).
///
/// ```
/// use neurogen_studies::bena2021_modular::study::{plot, ModularScale, ModularSettings};
/// let fig = plot(&ModularSettings::new(ModularScale::Smoke), &[]).unwrap();
/// assert_eq!(fig.curves.len(), 3);
/// assert!(fig.curves.iter().all(|c| c.x.is_empty()));
/// ```
pub fn plot(settings: &ModularSettings, rows: &[ModularRow]) -> Result<LinePlot> {
    let levels = settings.levels()?;
    let curves = METRICS
        .iter()
        .map(|(value, name)| {
            let (mut x, mut y, mut err) = (Vec::new(), Vec::new(), Vec::new());
            for &p in &levels {
                let name = group_name(p);
                let xs: Vec<f64> = rows
                    .iter()
                    .filter(|r| r.group == name && r.status == RunStatus::Ok)
                    .filter_map(|r| value_of(r, value.key))
                    .collect();
                if xs.is_empty() {
                    continue;
                }
                let n = xs.len() as f64;
                let mean = xs.iter().sum::<f64>() / n;
                let var = if xs.len() > 1 {
                    xs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
                } else {
                    0.0
                };
                x.push(p.log10());
                y.push(mean);
                err.push(var.sqrt());
            }
            Curve {
                label: (*name).to_string(),
                x,
                y,
                err: Some(err),
            }
        })
        .collect();
    Ok(LinePlot {
        curves,
        labels: Labels::new(
            "Specialization against the interconnection fraction p",
            "log10 p (fraction of possible interconnections kept)",
            "specialization, mean of both agents (mean ± SD over seeds)",
        ),
    })
}

/// How the metrics agree within one value of p (exploratory, not a claim of the paper): per
/// pair of metrics, the Spearman ρ over the seeds of each value of p (`groups`) and their mean
/// with its t-based 95 % CI (n = values of p; a plain mean, since a ρ of exactly ±1 from a few
/// seeds would dominate a Fisher-z mean); "not computed" with the reason where the seeds are
/// too few or a metric is constant.
///
/// ```
/// use neurogen_studies::bena2021_modular::study::within_p_agreement;
/// let text = within_p_agreement(&["p=0.01".to_string()], &[]);
/// assert!(text.contains("not computed"));
/// ```
pub fn within_p_agreement(groups: &[String], rows: &[ModularRow]) -> String {
    use neurogen_analysis::stats::{correlation::spearman, summarize};
    let mut parts = Vec::new();
    for (i, j) in [(0, 1), (0, 2), (1, 2)] {
        let ((a, an), (b, bn)) = (METRICS[i], METRICS[j]);
        let per_p: std::result::Result<Vec<f64>, String> = groups
            .iter()
            .map(|g| {
                let (x, y): (Vec<f64>, Vec<f64>) = rows
                    .iter()
                    .filter(|r| &r.group == g && r.status == RunStatus::Ok)
                    .filter_map(|r| Some((value_of(r, a.key)?, value_of(r, b.key)?)))
                    .unzip();
                spearman(&x, &y)
                    .map(|c| c.r)
                    .map_err(|e| format!("{g}: {e}"))
            })
            .collect();
        let text = per_p.and_then(|rs| {
            let m = summarize(&rs).map_err(|e| e.to_string())?;
            let each: Vec<String> = rs.iter().map(|r| format!("{r:+.2}")).collect();
            Ok(format!(
                "mean ρ {:+.2} [95 % CI {:+.2}, {:+.2}], n = {} values of p (per p: {})",
                m.mean,
                m.ci95.0,
                m.ci95.1,
                m.n,
                each.join(", ")
            ))
        });
        parts.push(format!(
            "the {an} and the {bn}: {}",
            text.unwrap_or_else(|e| format!("not computed ({e})"))
        ));
    }
    format!(
        "Within one value of p (exploratory, not a claim of the paper): the Spearman ρ of each \
         pair of metrics over the seeds of each p, and their mean over the values of p — {}.",
        parts.join("; ")
    )
}

/// The report of `rows` (the study's `runs.csv`) run with `settings`.
pub fn report(
    settings: &ModularSettings,
    rows: &[ModularRow],
    data_source: &str,
) -> std::result::Result<String, BoxError> {
    let levels = settings.levels()?;
    let names: Vec<String> = levels.iter().map(|&p| group_name(p)).collect();
    let measure = |r: &ModularRow, value: Value| value_of(r, value.key);
    let mut summary = Summary::new();
    let tabled = [ACCURACY, MODULARITY_Q, SPECIALIZATION, BOTTLENECK, MASK];
    summary.tabulate(&tabled, &names, rows, measure)?;
    // p is the Spearman claims' x, not a table.
    summary.record(P, &names, rows, measure)?;
    let (sparsest, dense) = (&names[0], &names[names.len() - 1]);
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut claims = Vec::new();
    for (value, metric) in METRICS {
        claims.push(Claim::paired(
            &format!("Specialization is higher at the sparsest p than dense, {metric} ({sparsest} vs {dense}, paired by seed)"),
            "difference {d}",
            value,
            sparsest,
            dense,
            Expect::Better,
        ));
        claims.push(Claim::spearman(
            &format!("Specialization decreases with p, {metric} (Spearman over all networks)"),
            P,
            value,
            &all,
            false,
        ));
    }
    for (i, j) in [(0, 1), (0, 2), (1, 2)] {
        let ((a, an), (b, bn)) = (METRICS[i], METRICS[j]);
        claims.push(Claim::spearman(
            &format!("The metrics agree: the {an} and the {bn} rank the networks alike (Spearman over all networks)"),
            a,
            b,
            &all,
            true,
        ));
    }
    let decided = decide(summary.samples(), &claims, vec![])?;
    let s = settings;
    let m = MetricSettings::default();
    let mut rep = Report::new(
        "Extreme sparsity gives rise to functional specialization (Béna & Goodman 2021)",
    );
    rep.para(
        "Published claim (Béna & Goodman, arXiv 2106.02626, 2021, qualitative): two RNN agents \
         joined by interconnections that keep a fraction p of the possible ones specialise on \
         their own input only at extreme sparsity; specialization falls steeply as p grows.",
    );
    let data = if s.dataset == DATASET {
        format!("{DATASET} class indices as the digits")
    } else {
        format!("{}'s digits, as the authors", s.dataset)
    };
    rep.para(&format!(
        "Settings. The authors' (GabrielBena/community-of-agents at dbca3d3): 784 → 100 tanh \
         RNN agents, untrained 100 → 10 readouts, T = 2 steps (the issue's), the parity_digits \
         task and max-output decision, Adam 1e-3 with StepLR γ 0.9, batch 64, up to 15 epochs \
         with early stopping, 10 values of p = geomspace(1/100², 0.999), 10 repeats, Deep-R \
         interconnections, three specialization metrics. Ours: {data}; the same agents with {} hidden units; {} values of p = geomspace(1/{}², \
         0.999) ({}); {} training and {} test pairs; {}; batch {}; \
         {} seeds per p; {}. Each run records Newman's Q of its two-module graph and the \
         three specialization metrics, each the mean over both agents: correlation (on the \
         test pairs), bottleneck ({}-unit bottleneck and readout retrained for {} epochs on \
         the training pairs' states, accuracy on the test pairs; the authors' code at dbca3d3 \
         retrains without the bottleneck, the issue's is used) and weight mask (a supermask \
         keeping k = {} of the recurrent and readout weights, trained for {} SGD epoch(s) on \
         the training pairs).",
        s.n_hidden,
        s.n_levels,
        s.n_hidden,
        names.join(", "),
        s.n_train,
        s.n_test,
        if s.early_stop {
            format!(
                "up to {} epochs with the authors' early stopping (best test accuracy ≥ 0.9 \
                 after three epochs)",
                s.epochs
            )
        } else {
            format!("{} epoch(s), no early stop", s.epochs)
        },
        s.batch_size,
        s.repeats,
        match s.scheme {
            ConnectionScheme::FixedMask =>
                "a fixed random mask (FixedMask, the cheaper scheme) in place of Deep-R (the \
                 interconnections' Adam uses the authors' per-level Deep-R learning rate)",
            ConnectionScheme::DeepR => "Deep-R interconnections, as the authors'",
        },
        m.bottleneck.n_bottleneck,
        m.bottleneck.epochs,
        m.supermask.k,
        m.supermask.epochs,
    ));
    rep.para(&format!("Data: {data_source}"));
    if let Some(failed) = failed_runs(rows, |r| &r.message) {
        rep.para(&failed);
    }
    summary.write_tables(&mut rep);
    rep.figure(
        &format!("{PLOT_STEM}.svg"),
        "The three specialization metrics against log10 p, mean ± SD over seeds",
    );
    rep.para(
        "The agreement claims rank all networks together, so they include what the metrics \
         share through p: they say the metrics rise and fall together across p, not that they \
         rank the networks of one value of p alike.",
    );
    rep.para(&within_p_agreement(&names, rows));
    rep.add_claims(decided);
    Ok(rep.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's JSON hash is the resume key of every output directory: a change here makes
    /// old `OUT/modular/` directories refuse to resume.
    #[test]
    fn the_config_hash_is_that_of_existing_output_directories() {
        let s = spec(&ModularSettings::new(ModularScale::Smoke), 0, 0).unwrap();
        assert_eq!(s.hash().unwrap(), "7886791df59ff6ce");
    }

    #[test]
    fn the_paper_scale_is_the_authors_protocol_and_only_it_stops_early() {
        let paper = ModularSettings::new(ModularScale::Paper);
        assert_eq!(
            (paper.n_levels, paper.repeats, paper.epochs, paper.n_hidden),
            (10, 10, 15, 100)
        );
        assert_eq!(
            (paper.n_train, paper.n_test, paper.batch_size),
            (60_000, 10_000, 64)
        );
        assert_eq!(paper.scheme, ConnectionScheme::DeepR);
        let s = spec(&paper, 9, 3).unwrap();
        assert!(s.train.early_stop && s.train.epochs == 15);
        assert_eq!(s.community.p, 0.999);
        for scale in [ModularScale::Smoke, ModularScale::Quick] {
            let settings = ModularSettings::new(scale);
            assert!(!settings.early_stop && !spec(&settings, 0, 0).unwrap().train.early_stop);
        }
    }

    #[test]
    fn levels_go_from_one_connection_to_dense() {
        let s = ModularSettings::new(ModularScale::Smoke);
        assert_eq!(s.levels().unwrap(), vec![0.01, 0.0999, 0.999]);
        assert!(spec(&s, 3, 0).is_err());
    }

    fn row(p: f64, repeat: usize, spec: f64) -> ModularRow {
        ModularRow {
            group: group_name(p),
            repeat,
            config_hash: "0".into(),
            status: RunStatus::Ok,
            p,
            accuracy: Some(0.5),
            q: Some(0.5 - p / 2.0),
            specialization: Some(spec),
            bottleneck: None,
            mask: None,
            seconds: 1.0,
            message: String::new(),
        }
    }

    /// The report reads only rows: specialization falling with p holds, rising does not.
    #[test]
    fn the_report_decides_the_claims_from_the_rows() {
        let mut s = ModularSettings::new(ModularScale::Smoke);
        s.repeats = 4;
        let levels = s.levels().unwrap();
        let mut rows = Vec::new();
        for r in 0..4 {
            for (i, &p) in levels.iter().enumerate() {
                rows.push(row(
                    p,
                    r,
                    0.8 - 0.3 * i as f64 + 0.01 * ((r * (i + 1)) % 3) as f64,
                ));
            }
        }
        let md = report(&s, &rows, "here").unwrap();
        assert_eq!(
            md.lines().filter(|l| l.ends_with("| holds |")).count(),
            2,
            "{md}"
        );
        for r in &mut rows {
            r.specialization = r.specialization.map(|x| 1.0 - x);
        }
        let md = report(&s, &rows, "here").unwrap();
        assert_eq!(
            md.lines().filter(|l| l.ends_with("| holds |")).count(),
            0,
            "{md}"
        );
    }

    /// With all three metrics recorded, the nine claims read them: falling and agreeing
    /// metrics hold everywhere; a weight-mask metric that rises with p breaks its own two
    /// claims and both agreements it enters, and nothing else.
    #[test]
    fn the_agreement_claims_read_the_three_metrics() {
        let mut s = ModularSettings::new(ModularScale::Smoke);
        s.repeats = 4;
        let levels = s.levels().unwrap();
        let mut rows = Vec::new();
        for r in 0..4 {
            for (i, &p) in levels.iter().enumerate() {
                let x = 0.8 - 0.3 * i as f64 + 0.01 * ((r * (i + 1)) % 3) as f64;
                let mut row = row(p, r, x);
                row.bottleneck = Some(0.5 * x + 0.003 * r as f64);
                row.mask = Some(x * x);
                rows.push(row);
            }
        }
        let holds = |rows: &[ModularRow]| -> Vec<String> {
            let md = report(&s, rows, "here").unwrap();
            md.lines()
                .filter(|l| l.ends_with("| holds |"))
                .map(String::from)
                .collect()
        };
        assert_eq!(holds(&rows).len(), 9, "{:#?}", holds(&rows));
        for r in &mut rows {
            r.mask = r.mask.map(|x| 1.0 - x);
        }
        let h = holds(&rows);
        assert_eq!(h.len(), 5, "{h:#?}");
        assert!(h.iter().all(|l| !l.contains("weight-mask")), "{h:#?}");
    }

    /// Within-p agreement on a hand-made case: the two metrics rank the seeds alike at one p
    /// (ρ = +1) and oppositely at the other (ρ = −1), which average to 0 (t interval with 1 df:
    /// ± 12.706 · SD / √2 = ± 12.71); a metric without
    /// values is "not computed".
    #[test]
    fn within_p_agreement_averages_the_per_p_rank_correlations() {
        let mut rows = Vec::new();
        for (p, sign) in [(0.01, 1.0), (0.999, -1.0)] {
            for r in 0..4 {
                let mut row = row(p, r, r as f64);
                row.bottleneck = Some(sign * (r * r) as f64);
                rows.push(row);
            }
        }
        let text = within_p_agreement(&[group_name(0.01), group_name(0.999)], &rows);
        assert!(
            text.contains("the bottleneck metric: ")
                && text.contains("mean ρ +0.00 [95 % CI -12.71, +12.71]")
                && text.contains("n = 2 values of p (per p: +1.00, -1.00)"),
            "{text}"
        );
        assert!(
            text.contains("the correlation metric and the weight-mask metric: not computed"),
            "{text}"
        );
    }

    /// The plot's curves are the per-p mean and SD of each metric, at log10 p, and leave out
    /// failed runs.
    #[test]
    fn the_plot_draws_each_metric_as_mean_and_sd_against_log_p() {
        let s = ModularSettings::new(ModularScale::Smoke);
        let levels = s.levels().unwrap();
        let mut rows = Vec::new();
        for (i, &p) in levels.iter().enumerate() {
            for (r, x) in [(0, 0.2), (1, 0.4)] {
                let mut row = row(p, r, x + i as f64);
                row.bottleneck = Some(x);
                row.mask = Some(-x);
                rows.push(row);
            }
        }
        let mut failed = row(levels[0], 2, 100.0);
        failed.status = RunStatus::Failed;
        rows.push(failed);
        let fig = plot(&s, &rows).unwrap();
        let names: Vec<&str> = fig.curves.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            names,
            [
                "correlation metric",
                "bottleneck metric",
                "weight-mask metric"
            ]
        );
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
        for c in &fig.curves {
            assert!(
                close(&c.x, &[-2.0, 0.0999f64.log10(), 0.999f64.log10()]),
                "{c:?}"
            );
            let sd = 0.2 / 2f64.sqrt();
            assert!(close(c.err.as_ref().unwrap(), &[sd, sd, sd]), "{c:?}");
        }
        assert!(close(&fig.curves[0].y, &[0.3, 1.3, 2.3]));
        assert!(close(&fig.curves[1].y, &[0.3, 0.3, 0.3]));
        assert!(close(&fig.curves[2].y, &[-0.3, -0.3, -0.3]));
    }
}
