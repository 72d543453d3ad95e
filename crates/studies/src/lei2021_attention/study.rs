//! The study on the engine (`neurogen_lab`): the recurrent gated network ([`AttentionNet`])
//! and the feed-forward control ([`FeedForwardNet`]) trained on two-object Fashion-MNIST
//! scenes for a few seeds, and the paper's claims decided (gating beats the control;
//! inhibition is lower on the attended object than on the unattended one; modulation is
//! strongest in deeper layers; attention scales tuning curves multiplicatively), with the
//! masks and IOR sequence of a few scenes and a few units' tuning curves as figures.
//! `cargo xtask reproduce attention --scale smoke|quick` runs it ([`run`]).
//!
//! Each run trains one network with [`fn@train`] on scenes composed from the first `n_train`
//! training items (at most `max_steps` minibatches) and evaluates it on `n_test` scenes
//! composed once, from a fixed seed, from the first `n_test` test items. A gated run then
//! saves the traces of the first [`TRACED_SCENES`] test scenes (`masks/GROUP-rNN.json`) and
//! its units' tuning curves (`tuning/GROUP-rNN.json`); the report draws its figures from
//! these files, so it is re-derived from the directory without training.
//!
//! Scales. The paper's: batch 64, 10–30 epochs of 42,000 MNIST items, penalty 1e3 (its sweep:
//! 0, 1e3, 1e4), 4 runs. The code's: 10 epochs (`train_mnist.py`). Ours, the quick scale
//! ([`AttentionScale::Quick`]), sized to about half an hour on a loaded 2-core machine
//! (a gated step of batch 16 takes about 1–2 s there: 2 objects × 5 iterations, each pass
//! its own backward pass and Adam step): Fashion-MNIST, one pass over the first 2,400
//! training items as 150 minibatches of 16 scenes (the paper's batch is 64; 16 gives four
//! times the Adam steps for the same time, and the network's accuracy rises within the
//! budget), 512 test scenes, 3 repeats, and the penalty sweep trimmed to the paper's 1e3
//! (`Gated`) and 0 (`Gated, penalty 0`): in 60 calibration steps of batch 32 at penalty
//! 1e3 the reconstruction term fell (MSE 0.0040 → 0.0019) and the masks separated the
//! objects while the cross-entropy stayed at chance (2.29), whereas at penalty 0 it fell
//! from the first steps (test accuracy 0.41 after 40 steps, 0.44 after 60 of batch 16). The
//! scale was sized on those runs (`examples/attention_calibrate.rs`), before any claim was
//! decided. The control trains on the same minibatches.
use std::path::Path;

use candle_core::Device;
use neurogen_analysis::plot::{Curve, Labels, LinePlot};
use neurogen_lab::claims::{decide, Claim, Expect, Value};
use neurogen_lab::events::Observer;
use neurogen_lab::report::Report;
use neurogen_lab::schedule::Options;
use neurogen_lab::store::{slug, Row, RunStatus};
use neurogen_lab::study::{Arm, BoxError, RunCx, RunSpec, Study};
use neurogen_lab::summary::{failed_runs, run_and_report, Summary};
use serde::{Deserialize, Serialize};

use super::analysis::{trace_scenes, MaskGrid, SceneTrace};
use super::data::{Items, SceneConfig, Scenes, ITEM, OFFSET};
use super::error::{config, AttentionError, Result};
use super::loss::PAPER_PENALTY;
use super::model::{AttentionConfig, AttentionNet, FeedForwardNet};
use super::train::{train, AttentionTrainer, ControlTrainer, SceneLearner, TrainConfig};
use super::tuning::{study_bars, summarize_tuning, tuning_curves, TuningCurves};

/// The study's name and output directory (`OUT/attention/`); never renamed once results exist.
pub const STUDY_ID: &str = "attention";

/// The dataset every run trains on (recorded in each spec).
pub const DATASET: &str = "Fashion-MNIST";

/// Seed of the test scenes (the same for every run).
pub const TEST_SCENE_SEED: u64 = 1_000_003;

/// The gated network's display name.
pub const GATED: &str = "Gated";
/// The gated network trained without the reconstruction penalty (the paper's sweep's other
/// end: penalty 0, published 0.949), at scales that trim the sweep to these two.
pub const GATED_P0: &str = "Gated, penalty 0";
/// The feed-forward control's display name.
pub const CONTROL: &str = "FeedForward";

/// How big the study is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttentionScale {
    /// Seconds: 64 training items, 3 minibatches of 16 scenes, 32 test scenes, 2 repeats.
    Smoke,
    /// About half an hour on a loaded 2-core machine: 150 minibatches of 16 scenes, the
    /// penalty sweep trimmed to 1e3 and 0, 512 test scenes, 3 repeats.
    Quick,
}

/// Every setting of a scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttentionSettings {
    /// Training items (the first ones of the training split); scenes are composed from them.
    pub n_train: usize,
    /// Test scenes (one per test item, the first ones of the test split).
    pub n_test: usize,
    /// Scenes per minibatch (paper: 64).
    pub batch: usize,
    /// Passes over the training items (paper: 10–30).
    pub epochs: usize,
    /// Minibatches in all, if fewer than `epochs` passes make.
    pub max_steps: Option<usize>,
    /// Seeds per network.
    pub repeats: usize,
    /// Whether a second gated arm trains without the reconstruction penalty ([`GATED_P0`]).
    pub penalty_zero: bool,
    /// The dataset the runs train on, recorded in each spec: [`DATASET`] (Fashion-MNIST) or
    /// `"MNIST"` (the paper's, from IDX files the user passes). Not serialised with the
    /// settings, so the scales' records are unchanged.
    #[serde(skip)]
    pub dataset: &'static str,
}

impl AttentionSettings {
    /// The settings of `scale`.
    pub fn new(scale: AttentionScale) -> Self {
        match scale {
            AttentionScale::Smoke => AttentionSettings {
                dataset: DATASET,
                n_train: 64,
                n_test: 32,
                batch: 16,
                epochs: 1,
                max_steps: Some(3),
                repeats: 2,
                penalty_zero: false,
            },
            AttentionScale::Quick => AttentionSettings {
                dataset: DATASET,
                n_train: 2_400,
                n_test: 512,
                batch: 16,
                epochs: 1,
                max_steps: Some(150),
                repeats: 3,
                penalty_zero: true,
            },
        }
    }
}

/// Everything that determines one run (hashed into its resume key).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttentionSpec {
    /// The network's display name ([`GATED`] or [`CONTROL`]).
    pub group: String,
    /// The repeat, also the seed of the initialisation, minibatch order and scenes.
    pub repeat: usize,
    /// Whether the network gates itself top-down (false: the control).
    pub gated: bool,
    /// The dataset ([`DATASET`]).
    pub dataset: String,
    /// How scenes are composed (the paper's: two objects, noise 0.3).
    pub scenes: SceneConfig,
    /// Gating strength (0.2) and iterations per object (5); unused by the control.
    pub net: AttentionConfig,
    /// Adam's rate, batch, penalty, epochs, step limit and seed.
    pub train: TrainConfig,
    /// Training items.
    pub n_train: usize,
    /// Test scenes.
    pub n_test: usize,
}

impl RunSpec for AttentionSpec {
    fn group(&self) -> &str {
        &self.group
    }
    fn repeat(&self) -> usize {
        self.repeat
    }
}

/// The spec of repeat `repeat` of the gated network (`gated`) or the control under
/// `settings` (the paper's scenes, gating, Adam rate and penalty).
///
/// ```
/// use neurogen_studies::lei2021_attention::study::{spec, AttentionScale, AttentionSettings};
/// let s = spec(&AttentionSettings::new(AttentionScale::Smoke), true, 1);
/// assert_eq!((s.group.as_str(), s.repeat, s.net.iterations), ("Gated", 1, 5));
/// ```
pub fn spec(settings: &AttentionSettings, gated: bool, repeat: usize) -> AttentionSpec {
    let group = if gated { GATED } else { CONTROL };
    arm_spec(settings, group, gated, PAPER_PENALTY, repeat)
}

/// The spec of repeat `repeat` of the gated network trained with reconstruction `penalty`
/// (the paper's sweep: 0, 1e3, 1e4), named `group`.
///
/// ```
/// use neurogen_studies::lei2021_attention::study::{
///     penalty_spec, AttentionScale, AttentionSettings, GATED_P0,
/// };
/// let s = penalty_spec(&AttentionSettings::new(AttentionScale::Quick), GATED_P0, 0.0, 2);
/// assert_eq!((s.train.penalty, s.repeat, s.gated), (0.0, 2, true));
/// ```
pub fn penalty_spec(
    settings: &AttentionSettings,
    group: &str,
    penalty: f64,
    repeat: usize,
) -> AttentionSpec {
    arm_spec(settings, group, true, penalty, repeat)
}

fn arm_spec(
    settings: &AttentionSettings,
    group: &str,
    gated: bool,
    penalty: f64,
    repeat: usize,
) -> AttentionSpec {
    let scenes = SceneConfig::paper();
    AttentionSpec {
        group: group.into(),
        repeat,
        gated,
        dataset: settings.dataset.into(),
        scenes,
        net: AttentionConfig::paper(&scenes),
        train: TrainConfig {
            batch: settings.batch,
            epochs: settings.epochs,
            max_steps: settings.max_steps,
            penalty,
            ..TrainConfig::paper(repeat as u64)
        },
        n_train: settings.n_train,
        n_test: settings.n_test,
    }
}

/// One line of the study's `runs.csv`; the measures are empty for a failed run, and the
/// masks for the control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttentionRow {
    /// The network's display name.
    pub group: String,
    /// The repeat.
    pub repeat: usize,
    /// The spec's configuration hash.
    pub config_hash: String,
    /// `ok` or `failed`.
    pub status: RunStatus,
    /// Fraction of both objects of the test scenes reported correctly.
    pub accuracy: Option<f64>,
    /// Mean input mask (inhibition) on the attended objects' pixels (paper: 0.113).
    pub mask_attended: Option<f64>,
    /// Mean input mask on the unattended pixels (paper: 0.907).
    pub mask_unattended: Option<f64>,
    /// Relative modulation of the input by the top-down gate (`Σ|gated − ungated| /
    /// Σ|ungated|`, last iteration against the first).
    pub modulation_input: Option<f64>,
    /// Relative modulation of conv1's output.
    pub modulation_conv1: Option<f64>,
    /// Relative modulation of conv2's output.
    pub modulation_conv2: Option<f64>,
    /// Median slope of conv2 units' attended on unattended tuning curves.
    pub tuning_slope: Option<f64>,
    /// Median intercept of those fits over the unit's mean attended response.
    pub tuning_intercept: Option<f64>,
    /// Median R² of those fits.
    pub tuning_r2: Option<f64>,
    /// Wall time of the run in seconds.
    pub seconds: f64,
    /// Why the run failed (empty when it did not).
    pub message: String,
}

impl Row for AttentionRow {
    const COLUMNS: &'static [&'static str] = &[
        "group",
        "repeat",
        "config_hash",
        "status",
        "accuracy",
        "mask_attended",
        "mask_unattended",
        "modulation_input",
        "modulation_conv1",
        "modulation_conv2",
        "tuning_slope",
        "tuning_intercept",
        "tuning_r2",
        "seconds",
        "message",
    ];
    const WRITTEN_BY: &'static str = "reproduce attention";
    const VOLATILE_COLUMNS: &'static [&'static str] = &["seconds"];
    neurogen_lab::row_identity!();
    fn summary(&self) -> String {
        match self.accuracy {
            Some(a) => format!(
                "{} r{}: accuracy {a:.4} ({:.0} s)",
                self.group, self.repeat, self.seconds
            ),
            None => format!("{} r{}: failed: {}", self.group, self.repeat, self.message),
        }
    }
}

/// The first `n` 28×28 items of `split`, pixels over 255.
fn first_items(split: &neurogen_data::Split, n: usize) -> Result<Items> {
    let px = ITEM * ITEM;
    if n == 0 || n > split.len() {
        return Err(config(format!(
            "asked for {n} items of a split of {} (out of range)",
            split.len()
        )));
    }
    let s = split.shape();
    if (s.channels, s.height, s.width) != (1, ITEM, ITEM) {
        return Err(config(format!(
            "scenes are composed from 1×{ITEM}×{ITEM} items, the split holds {}×{}×{}",
            s.channels, s.height, s.width
        )));
    }
    let pixels = split.images()[..n * px]
        .iter()
        .map(|&b| b as f32 / 255.0)
        .collect();
    Items::new(pixels, split.labels()[..n].to_vec())
}

/// The study: its settings, the training items and the test scenes.
pub struct AttentionStudy {
    settings: AttentionSettings,
    train: Items,
    test: Scenes,
}

impl AttentionStudy {
    /// The study of `settings` on `data` (Fashion-MNIST or MNIST, as `settings.dataset` says); refuses settings that ask for more
    /// images than the dataset has, no epochs or steps, or fewer than two repeats.
    pub fn new(settings: AttentionSettings, data: &neurogen_data::Dataset) -> Result<Self> {
        let s = &settings;
        if s.repeats < 2 || s.epochs == 0 || s.batch == 0 || s.max_steps == Some(0) {
            return Err(config(format!(
                "the study needs >= 2 repeats, >= 1 epoch, >= 1 step and a batch (got {} repeats, {} epochs, {:?} steps, batch {})",
                s.repeats, s.epochs, s.max_steps, s.batch
            )));
        }
        if data.kind.to_string() != s.dataset {
            return Err(config(format!(
                "the settings say {} but the data are {}: set settings.dataset to the dataset passed",
                s.dataset, data.kind
            )));
        }
        let train = first_items(&data.train, s.n_train)?;
        let test_items = first_items(&data.test, s.n_test)?;
        let test = Scenes::compose(&test_items, &SceneConfig::paper(), TEST_SCENE_SEED)?;
        Ok(AttentionStudy {
            settings,
            train,
            test,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &AttentionSettings {
        &self.settings
    }

    /// Trains and evaluates one run; a gated run's mask traces and tuning curves are saved
    /// as `dir/masks/GROUP-rNN.json` and `dir/tuning/GROUP-rNN.json`.
    fn run_one(&self, dir: &Path, spec: &AttentionSpec) -> Result<AttentionRow> {
        let t0 = std::time::Instant::now();
        let dev = Device::Cpu;
        let seed = spec.repeat as u64;
        let mut tuning = None;
        let trained = if spec.gated {
            let net = AttentionNet::new(spec.net, seed, &dev)?;
            let mut t = AttentionTrainer::new(net, &spec.train)?;
            let e = train(&mut t, &self.train, &spec.scenes, &spec.train, &dev, |_| {})
                .and_then(|_| t.evaluate(&self.test, spec.train.batch));
            if e.is_ok() {
                let (traces, curves) = self.analyse(t.net())?;
                save_json(&run_file(dir, MASKS_DIR, spec), &traces)?;
                save_json(&run_file(dir, TUNING_DIR, spec), &curves)?;
                tuning = summarize_tuning(&curves, "conv2");
            }
            e
        } else {
            let net = FeedForwardNet::new(&spec.scenes, seed, &dev)?;
            let mut t = ControlTrainer::new(net, &spec.train)?;
            train(&mut t, &self.train, &spec.scenes, &spec.train, &dev, |_| {})
                .and_then(|_| t.evaluate(&self.test, spec.train.batch))
        };
        let mut row = AttentionRow {
            group: spec.group.clone(),
            repeat: spec.repeat,
            config_hash: String::new(),
            status: RunStatus::Ok,
            accuracy: None,
            mask_attended: None,
            mask_unattended: None,
            modulation_input: None,
            modulation_conv1: None,
            modulation_conv2: None,
            tuning_slope: tuning.map(|t| t.slope),
            tuning_intercept: tuning.map(|t| t.relative_intercept),
            tuning_r2: tuning.map(|t| t.r2),
            seconds: 0.0,
            message: String::new(),
        };
        match trained {
            Ok(e) => {
                row.accuracy = Some(e.accuracy);
                row.mask_attended = e.inhibition_attended;
                row.mask_unattended = e.inhibition_unattended;
                if let Some([i, c1, c2]) = e.modulation {
                    row.modulation_input = Some(i);
                    row.modulation_conv1 = Some(c1);
                    row.modulation_conv2 = Some(c2);
                }
            }
            Err(e @ AttentionError::NonFinite(_)) => {
                row.status = RunStatus::Failed;
                row.message = e.to_string();
            }
            Err(e) => return Err(e),
        }
        row.seconds = t0.elapsed().as_secs_f64();
        Ok(row)
    }
}

impl AttentionStudy {
    /// The mask traces of the first [`TRACED_SCENES`] test scenes and the tuning curves of
    /// conv1's and conv2's units over the first object's place ([`study_bars`], the first
    /// test item as the distractor at the second object's place).
    fn analyse(&self, net: &AttentionNet) -> Result<(Vec<SceneTrace>, Vec<TuningCurves>)> {
        let n = TRACED_SCENES.min(self.test.len());
        let traces = trace_scenes(net, &self.test, &(0..n).collect::<Vec<_>>())?;
        let (h, w) = net.shapes().input;
        let item = self
            .test
            .object(0, 0)
            .ok_or_else(|| config("no test scene to take a distractor from"))?;
        // The first test scene's first object, moved to the second object's place.
        let mut distractor = vec![0f32; h * w];
        for r in 0..h {
            for c in 0..w - OFFSET {
                distractor[r * w + c + OFFSET] = item[r * w + c];
            }
        }
        let bars = study_bars((h, w))?;
        let curves = tuning_curves(net, &distractor, &bars, TUNED_CONV1, TUNED_CONV2)?;
        Ok((traces, curves))
    }
}

/// Test scenes whose masks and IOR sequence each gated run saves (and the report draws).
pub const TRACED_SCENES: usize = 4;
/// The conv1 unit position whose channels the tuning analysis reads (over the bars' centre).
pub const TUNED_CONV1: (usize, usize) = (12, 12);
/// The conv2 unit position whose channels the tuning analysis reads (its receptive field,
/// input rows and columns 8–19, covers the bars' centre).
pub const TUNED_CONV2: (usize, usize) = (4, 4);
/// Where gated runs save their mask traces.
pub const MASKS_DIR: &str = "masks";
/// Where gated runs save their tuning curves.
pub const TUNING_DIR: &str = "tuning";

fn run_file(dir: &Path, sub: &str, spec: &AttentionSpec) -> std::path::PathBuf {
    dir.join(sub)
        .join(format!("{}-r{:02}.json", slug(&spec.group), spec.repeat))
}

fn save_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| config(format!("cannot create {}: {e}", parent.display())))?;
    }
    let text =
        serde_json::to_string(value).map_err(|e| config(format!("{}: {e}", path.display())))?;
    neurogen_io::write_atomic(path, text.as_bytes())?;
    Ok(())
}

fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

impl Study for AttentionStudy {
    type Spec = AttentionSpec;
    type Row = AttentionRow;

    fn id(&self) -> &str {
        STUDY_ID
    }

    fn arms(&self) -> Vec<Arm<AttentionSpec>> {
        let mut arms: Vec<Arm<AttentionSpec>> =
            [(true, "gated", GATED), (false, "control", CONTROL)]
                .into_iter()
                .map(|(gated, key, name)| {
                    Arm::new(key, name, self.settings.repeats, move |r| {
                        spec(&self.settings, gated, r)
                    })
                })
                .collect();
        if self.settings.penalty_zero {
            arms.push(Arm::new(
                "gated-p0",
                GATED_P0,
                self.settings.repeats,
                move |r| penalty_spec(&self.settings, GATED_P0, 0.0, r),
            ));
        }
        arms
    }

    fn run_batch(
        &self,
        cx: &mut RunCx<'_>,
        batch: &[AttentionSpec],
    ) -> std::result::Result<Vec<AttentionRow>, BoxError> {
        cx.each_run(batch, |spec, dir, config_hash| {
            Ok::<_, BoxError>(AttentionRow {
                config_hash,
                ..self.run_one(dir, spec)?
            })
        })
    }
}

/// Accuracy on both objects, the first claim's value.
pub const ACCURACY: Value = Value::new("accuracy", "accuracy on both objects", "", 4, true);
/// Mean input mask on the attended objects' pixels.
pub const MASK_ATTENDED: Value =
    Value::new("mask_attended", "mask on attended pixels", "", 3, false);
/// Mean input mask on the unattended pixels.
pub const MASK_UNATTENDED: Value =
    Value::new("mask_unattended", "mask on unattended pixels", "", 3, true);
/// Attended minus unattended mask of one run, the second claim's value (the claims API
/// compares one value between groups, not two values of one group, so the paired difference
/// is its own value, tested against 0 by a one-sample t-test).
pub const MASK_DIFFERENCE: Value = Value::new(
    "mask_difference",
    "mask, attended − unattended",
    "",
    3,
    true,
);
/// Relative modulation of the input by the gate.
pub const MOD_INPUT: Value = Value::new("modulation_input", "modulation of the input", "", 3, true);
/// Relative modulation of conv1's output.
pub const MOD_CONV1: Value = Value::new("modulation_conv1", "modulation of conv1", "", 3, true);
/// Relative modulation of conv2's output.
pub const MOD_CONV2: Value = Value::new("modulation_conv2", "modulation of conv2", "", 3, true);
/// Conv2's modulation minus the input's, the third claim's value (paired within a run).
pub const MOD_DEPTH: Value =
    Value::new("modulation_depth", "modulation, conv2 − input", "", 3, true);
/// Median slope of conv2 units' attended on unattended tuning curves, the fourth claim's.
pub const TUNING_SLOPE: Value = Value::new("tuning_slope", "tuning slope", "", 3, true);
/// Median relative intercept of those fits (≈ 0 when the scaling is multiplicative).
pub const TUNING_INTERCEPT: Value = Value::new(
    "tuning_intercept",
    "tuning intercept / mean response",
    "",
    3,
    false,
);
/// Median R² of those fits.
pub const TUNING_R2: Value = Value::new("tuning_r2", "tuning fit R²", "", 3, true);
/// Wall seconds of a run, reported beside them.
pub const SECONDS: Value = Value::new("seconds", "seconds", "s", 1, false);

/// What [`run`] produced: every run's row and the report.
pub type Outcome = neurogen_lab::summary::Outcome<AttentionRow>;

/// Runs `study` into `dir` (resuming what is recorded there), decides the paper's claims and
/// writes `dir/report.md` atomically. `data_source` names where the images came from.
pub fn run(
    study: &AttentionStudy,
    dir: &Path,
    data_source: &str,
    observer: &mut dyn Observer,
) -> std::result::Result<Outcome, BoxError> {
    run_and_report(study, dir, &Options { max_batch: 1 }, observer, |rows| {
        report(study.settings(), rows, data_source, dir)
    })
}

/// The row's measure `value` (one of the study's [`Value`]s; the seconds for any other).
fn value_of(r: &AttentionRow, value: Value) -> Option<f64> {
    match value.key {
        "accuracy" => r.accuracy,
        "mask_attended" => r.mask_attended,
        "mask_unattended" => r.mask_unattended,
        "mask_difference" => Some(r.mask_attended? - r.mask_unattended?),
        "modulation_input" => r.modulation_input,
        "modulation_conv1" => r.modulation_conv1,
        "modulation_conv2" => r.modulation_conv2,
        "modulation_depth" => Some(r.modulation_conv2? - r.modulation_input?),
        "tuning_slope" => r.tuning_slope,
        "tuning_intercept" => r.tuning_intercept,
        "tuning_r2" => r.tuning_r2,
        _ => Some(r.seconds),
    }
}

/// The report of `rows` (the study's `runs.csv`) run with `settings`; the figures are drawn
/// from the mask traces and tuning curves saved in `dir` (left out where absent) and written
/// there (the mask grids as PNG, the tuning curves as SVG and PNG).
pub fn report(
    settings: &AttentionSettings,
    rows: &[AttentionRow],
    data_source: &str,
    dir: &Path,
) -> std::result::Result<String, BoxError> {
    let mut gated_groups = vec![GATED];
    if settings.penalty_zero {
        gated_groups.push(GATED_P0);
    }
    let mut all_groups = gated_groups.clone();
    all_groups.push(CONTROL);
    let mut summary = Summary::new();
    for value in [
        ACCURACY,
        MASK_ATTENDED,
        MASK_UNATTENDED,
        MASK_DIFFERENCE,
        MOD_INPUT,
        MOD_CONV1,
        MOD_CONV2,
        MOD_DEPTH,
        TUNING_SLOPE,
        TUNING_INTERCEPT,
        TUNING_R2,
        SECONDS,
    ] {
        let shown = if [ACCURACY.key, SECONDS.key].contains(&value.key) {
            &all_groups
        } else {
            &gated_groups
        };
        let groups = summary.record(value, &all_groups, rows, value_of)?;
        let groups = groups
            .into_iter()
            .filter(|(name, _)| shown.contains(&name.as_str()))
            .collect();
        summary.add_table(value, groups);
    }
    let mut claims = vec![Claim::welch(
        "Top-down gating beats the feed-forward control on accuracy (Gated vs FeedForward)",
        "difference {d}",
        ACCURACY,
        GATED,
        CONTROL,
        Expect::Better,
    )];
    if settings.penalty_zero {
        claims.push(Claim::welch(
            "(the paper's sweep) Gating without the reconstruction penalty beats the control (Gated, penalty 0 vs FeedForward)",
            "difference {d}",
            ACCURACY,
            GATED_P0,
            CONTROL,
            Expect::Better,
        ));
    }
    claims.extend([
        Claim::threshold(
            "Inhibition is lower on the attended object than on the unattended one (Gated, attended − unattended < 0)",
            MASK_DIFFERENCE,
            GATED,
            0.0,
            Expect::Worse,
        ),
        Claim::threshold(
            "Modulation is strongest in deeper layers (Gated, conv2's relative modulation − the input's > 0)",
            MOD_DEPTH,
            GATED,
            0.0,
            Expect::Better,
        ),
        Claim::threshold(
            "Attention scales tuning curves multiplicatively (Gated, median slope of conv2 units' attended on unattended curves > 1)",
            TUNING_SLOPE,
            GATED,
            1.0,
            Expect::Better,
        ),
    ]);
    let decided = decide(summary.samples(), &claims, vec![])?;
    let s = settings;
    let mut rep = Report::new(
        "Object-based attention through internal gating (Lei, Benjamin & Kording 2021)",
    );
    rep.para(
        "Published (authors' analysis/Demo Analysis.ipynb, MNIST, 2 objects, mean of 4 runs): \
         accuracy 0.976 on both objects at penalty 1e3 (penalty 0: 0.949; 1e4: 0.967); mean \
         inhibition 0.113 on the attended object against 0.907 on the unattended one; \
         qualitatively, attention scales tuning curves multiplicatively and modulation is \
         strongest in deeper layers. The paper's baseline without top-down gating is not in \
         the authors' code.",
    );
    let sweep = if s.penalty_zero {
        "the penalty sweep trimmed to 1e3 (Gated) and 0 (Gated, penalty 0)"
    } else {
        "penalty 1e3 only"
    };
    let data = if s.dataset == DATASET {
        format!("{DATASET} in place of MNIST (the published numbers are MNIST's)")
    } else {
        format!("{}, as the paper", s.dataset)
    };
    rep.para(&format!(
        "Settings. The paper's and the authors' code's (KordingLab/object-based-attention at \
         59d8d6f): MNIST, two objects offset by 14 px on a 28×42 canvas with U(0, 0.3) \
         background noise, gating strength s = 0.2, 5 iterations per object, inhibition of \
         return, penalty 1e3, Adam 1e-3, batch 64, 10–30 epochs. Ours: {data}; {sweep}; scenes from the first {} training \
         items, batch {}, {} epoch(s) capped at {} minibatch(es) (the paper: 10–30 epochs of \
         42,000); {} test scenes from the first test items (seed {TEST_SCENE_SEED}); the \
         control is the same feed-forward path with one 10-way head per position, trained on \
         the same minibatches; {} seeds per network (paper: 4).",
        s.n_train,
        s.batch,
        s.epochs,
        s.max_steps
            .map_or("no limit".to_string(), |m| m.to_string()),
        s.n_test,
        s.repeats,
    ));
    rep.para(&format!("Data: {data_source}"));
    if let Some(failed) = failed_runs(rows, |r| &r.message) {
        rep.para(&failed);
    }
    rep.para(
        "Measures. Inhibition: the mean input mask m1 the last iteration gated with, over the \
         attended object's pixels and over the rest (higher = more suppressed; m1 = 1 gives \
         gain 0.8, m1 = −1 gain 1.2). Modulation (ours): Σ|a_gated − a_ungated| / Σ|a_ungated| \
         of the input, conv1 and conv2, the last iteration against the first (ungated) one. \
         Tuning (ours, after the authors' analysis/tuning_curves.py): oriented bars (12 \
         orientations, 3 positions) at the first object's place beside a fixed test item; \
         each conv2 channel at one position has an attended curve (passes that attended the \
         bar) and an unattended one (passes that attended the distractor); per unit, \
         attended = slope · unattended + intercept by least squares; a run's value is the \
         median over its units (slope > 1 with intercept near 0 is multiplicative scaling). \
         Conv2's output lies behind both gates, so its modulation compounds them: an \
         untrained network already shows conv2 above the input (the smoke scale does), and \
         the depth claim's test says less than its p-value suggests.",
    );
    summary.write_tables(&mut rep);
    for &g in &gated_groups {
        if let Some((r, traces)) = first_saved::<Vec<SceneTrace>>(dir, MASKS_DIR, g, rows) {
            let grid = MaskGrid::new(traces, &neurogen_data::FASHION_MNIST_CLASSES)?;
            // PNG only: as SVG, one rectangle per run of equal pixels weighs megabytes.
            let file = format!("masks-{}.png", slug(g));
            neurogen_analysis::plot::save(&grid, &dir.join(&file), grid.size())?;
            let caption = format!(
                "{g} r{r}: the first {TRACED_SCENES} test scenes; per pass the input mask m1 \
                 (dark = low = attended, white = suppressed), the gated input and the IOR \
                 mask after the pass (white = inhibited)"
            );
            rep.push_str(&format!("![{caption}]({file})\n\n*{caption}*\n\n"));
        }
    }
    if let Some((r, curves)) = first_saved::<Vec<TuningCurves>>(dir, TUNING_DIR, GATED, rows) {
        if let Some(plot) = tuning_plot(&curves) {
            let file = neurogen_lab::plot::save_plot(dir, "tuning-gated", &plot)?;
            rep.figure(
                &file,
                &format!(
                    "{GATED} r{r}: tuning curves of the three most responsive conv2 units, \
                     attended (bar attended) and unattended (distractor attended)"
                ),
            );
        }
    }
    rep.add_claims(decided);
    Ok(rep.finish())
}

/// The lowest repeat of `group` among the successful `rows` whose `sub/` file is saved in
/// `dir`, and its contents.
fn first_saved<T: serde::de::DeserializeOwned>(
    dir: &Path,
    sub: &str,
    group: &str,
    rows: &[AttentionRow],
) -> Option<(usize, T)> {
    let mut repeats: Vec<usize> = rows
        .iter()
        .filter(|r| r.group == group && r.status == RunStatus::Ok)
        .map(|r| r.repeat)
        .collect();
    repeats.sort_unstable();
    repeats.into_iter().find_map(|r| {
        let path = dir.join(sub).join(format!("{}-r{r:02}.json", slug(group)));
        load_json(&path).map(|t| (r, t))
    })
}

/// Line plot of the three conv2 units with the largest mean attended response, attended
/// and unattended curves against orientation; `None` when no unit has full curves.
fn tuning_plot(curves: &[TuningCurves]) -> Option<LinePlot> {
    let full = |v: &[Option<f64>]| v.iter().copied().collect::<Option<Vec<f64>>>();
    let mut units: Vec<(f64, &TuningCurves, Vec<f64>, Vec<f64>)> = curves
        .iter()
        .filter(|c| c.layer == "conv2")
        .filter_map(|c| {
            let (a, u) = (full(&c.attended)?, full(&c.unattended)?);
            Some((a.iter().sum::<f64>() / a.len() as f64, c, a, u))
        })
        .collect();
    units.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut lines = Vec::new();
    for (_, c, a, u) in units.into_iter().take(3) {
        let x: Vec<f64> = (0..a.len()).map(|o| 15.0 * o as f64).collect();
        for (what, y) in [("attended", a), ("unattended", u)] {
            lines.push(Curve {
                label: format!("conv2 unit {} {what}", c.channel),
                x: x.clone(),
                y,
                err: None,
            });
        }
    }
    (!lines.is_empty()).then(|| LinePlot {
        curves: lines,
        labels: Labels::new(
            "Orientation tuning with and without attention",
            "bar orientation (degrees)",
            "largest response",
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's JSON and hash are the resume key of every output directory: a change here
    /// makes old `OUT/attention/` directories refuse to resume.
    #[test]
    fn the_config_hash_is_that_of_existing_output_directories() {
        let s = spec(&AttentionSettings::new(AttentionScale::Smoke), true, 0);
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"group":"Gated","repeat":0,"gated":true,"dataset":"Fashion-MNIST","scenes":{"objects":2,"noise":0.3},"net":{"height":28,"width":42,"strength":0.2,"iterations":5},"train":{"lr":0.001,"batch":16,"penalty":1000.0,"epochs":1,"max_steps":3,"seed":0},"n_train":64,"n_test":32}"#
        );
        assert_eq!(s.hash().unwrap(), "e7c1c4f637d319e5");
    }

    fn row(group: &str, repeat: usize, acc: f64, masks: Option<(f64, f64)>) -> AttentionRow {
        AttentionRow {
            group: group.into(),
            repeat,
            config_hash: "0".into(),
            status: RunStatus::Ok,
            accuracy: Some(acc),
            mask_attended: masks.map(|m| m.0),
            mask_unattended: masks.map(|m| m.1),
            modulation_input: None,
            modulation_conv1: None,
            modulation_conv2: None,
            tuning_slope: None,
            tuning_intercept: None,
            tuning_r2: None,
            seconds: 1.0,
            message: String::new(),
        }
    }

    /// The report reads only rows: both claims are decided in the paper's direction, and
    /// fail when the numbers go the other way.
    #[test]
    fn the_report_decides_both_claims_from_the_rows() {
        let mut rows = Vec::new();
        for r in 0..4 {
            let e = 0.01 * r as f64;
            rows.push(row(GATED, r, 0.95 + e, Some((0.1 + e, 0.9 - e / 2.0))));
            rows.push(row(CONTROL, r, 0.80 + e * 1.3, None));
        }
        let settings = AttentionSettings::new(AttentionScale::Smoke);
        let tmp = tempfile::tempdir().unwrap();
        let md = report(&settings, &rows, "here", tmp.path()).unwrap();
        assert_eq!(
            md.lines().filter(|l| l.ends_with("| holds |")).count(),
            2,
            "{md}"
        );
        for r in rows.iter_mut().filter(|r| r.group == GATED) {
            r.accuracy = r.accuracy.map(|a| a - 0.3);
            std::mem::swap(&mut r.mask_attended, &mut r.mask_unattended);
        }
        let md = report(&settings, &rows, "here", tmp.path()).unwrap();
        assert_eq!(
            md.lines().filter(|l| l.ends_with("| holds |")).count(),
            0,
            "{md}"
        );
    }
}
