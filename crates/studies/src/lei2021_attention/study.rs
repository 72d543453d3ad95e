//! The study on the engine (`neurogen_lab`): the recurrent gated network ([`AttentionNet`])
//! and the feed-forward control ([`FeedForwardNet`]) trained on two-object Fashion-MNIST
//! scenes for a few seeds, and the paper's claims decided (gating beats the control;
//! inhibition is lower on the attended object than on the unattended one).
//! `cargo xtask reproduce attention --scale smoke` runs it ([`run`]).
//!
//! Each run trains one network with [`fn@train`] on scenes composed from the first `n_train`
//! training items (at most `max_steps` minibatches) and evaluates it on `n_test` scenes
//! composed once, from a fixed seed, from the first `n_test` test items.
use std::path::Path;

use candle_core::Device;
use neurogen_lab::claims::{decide, Claim, Expect, Samples, Value};
use neurogen_lab::events::Observer;
use neurogen_lab::report::Report;
use neurogen_lab::schedule::{run_study, Options};
use neurogen_lab::store::{Row, RunStatus};
use neurogen_lab::study::{Arm, BoxError, RunCx, RunSpec, Study};
use serde::{Deserialize, Serialize};

use super::data::{Items, SceneConfig, Scenes, ITEM};
use super::error::{config, AttentionError, Result};
use super::model::{AttentionConfig, AttentionNet, FeedForwardNet};
use super::train::{train, AttentionTrainer, ControlTrainer, SceneLearner, TrainConfig};

/// The study's name and output directory (`OUT/attention/`); never renamed once results exist.
pub const STUDY_ID: &str = "attention";

/// The dataset every run trains on (recorded in each spec).
pub const DATASET: &str = "Fashion-MNIST";

/// Seed of the test scenes (the same for every run).
pub const TEST_SCENE_SEED: u64 = 1_000_003;

/// The gated network's display name.
pub const GATED: &str = "Gated";
/// The feed-forward control's display name.
pub const CONTROL: &str = "FeedForward";

/// How big the study is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttentionScale {
    /// Seconds: 64 training items, 3 minibatches of 16 scenes, 32 test scenes, 2 repeats.
    Smoke,
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
}

impl AttentionSettings {
    /// The settings of `scale`.
    pub fn new(scale: AttentionScale) -> Self {
        match scale {
            AttentionScale::Smoke => AttentionSettings {
                n_train: 64,
                n_test: 32,
                batch: 16,
                epochs: 1,
                max_steps: Some(3),
                repeats: 2,
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
    let scenes = SceneConfig::paper();
    AttentionSpec {
        group: if gated { GATED } else { CONTROL }.into(),
        repeat,
        gated,
        dataset: DATASET.into(),
        scenes,
        net: AttentionConfig::paper(&scenes),
        train: TrainConfig {
            batch: settings.batch,
            epochs: settings.epochs,
            max_steps: settings.max_steps,
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
        "seconds",
        "message",
    ];
    const WRITTEN_BY: &'static str = "reproduce attention";
    fn group(&self) -> &str {
        &self.group
    }
    fn repeat(&self) -> usize {
        self.repeat
    }
    fn config_hash(&self) -> &str {
        &self.config_hash
    }
    fn status(&self) -> RunStatus {
        self.status
    }
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
    /// The study of `settings` on Fashion-MNIST `data`; refuses settings that ask for more
    /// images than the dataset has, no epochs or steps, or fewer than two repeats.
    pub fn new(settings: AttentionSettings, data: &neurogen_data::Dataset) -> Result<Self> {
        let s = &settings;
        if s.repeats < 2 || s.epochs == 0 || s.batch == 0 || s.max_steps == Some(0) {
            return Err(config(format!(
                "the study needs >= 2 repeats, >= 1 epoch, >= 1 step and a batch (got {} repeats, {} epochs, {:?} steps, batch {})",
                s.repeats, s.epochs, s.max_steps, s.batch
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

    /// Trains and evaluates one run.
    fn run_one(&self, spec: &AttentionSpec) -> Result<AttentionRow> {
        let t0 = std::time::Instant::now();
        let dev = Device::Cpu;
        let seed = spec.repeat as u64;
        let trained = if spec.gated {
            let net = AttentionNet::new(spec.net, seed, &dev)?;
            let mut t = AttentionTrainer::new(net, &spec.train)?;
            train(&mut t, &self.train, &spec.scenes, &spec.train, &dev, |_| {})
                .and_then(|_| t.evaluate(&self.test, spec.train.batch))
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
            seconds: 0.0,
            message: String::new(),
        };
        match trained {
            Ok(e) => {
                row.accuracy = Some(e.accuracy);
                row.mask_attended = e.inhibition_attended;
                row.mask_unattended = e.inhibition_unattended;
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

impl Study for AttentionStudy {
    type Spec = AttentionSpec;
    type Row = AttentionRow;

    fn id(&self) -> &str {
        STUDY_ID
    }

    fn arms(&self) -> Vec<Arm<AttentionSpec>> {
        [(true, "gated", GATED), (false, "control", CONTROL)]
            .into_iter()
            .map(|(gated, key, name)| {
                Arm::new(key, name, self.settings.repeats, move |r| {
                    spec(&self.settings, gated, r)
                })
            })
            .collect()
    }

    fn run_batch(
        &self,
        cx: &mut RunCx<'_>,
        batch: &[AttentionSpec],
    ) -> std::result::Result<Vec<AttentionRow>, BoxError> {
        batch
            .iter()
            .map(|spec| {
                cx.note(format!("training {} r{}", spec.group, spec.repeat));
                let mut row = self.run_one(spec)?;
                row.config_hash = spec.hash()?;
                Ok(row)
            })
            .collect()
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
/// Wall seconds of a run, reported beside them.
pub const SECONDS: Value = Value::new("seconds", "seconds", "s", 1, false);

/// What [`run`] produced.
pub struct Outcome {
    /// Every run's row.
    pub rows: Vec<AttentionRow>,
    /// The report, also written to `DIR/report.md`.
    pub report: String,
}

/// Runs `study` into `dir` (resuming what is recorded there), decides the paper's claims and
/// writes `dir/report.md` atomically. `data_source` names where the images came from.
pub fn run(
    study: &AttentionStudy,
    dir: &Path,
    data_source: &str,
    observer: &mut dyn Observer,
) -> std::result::Result<Outcome, BoxError> {
    let rows = run_study(study, dir, &Options { max_batch: 1 }, observer)?;
    let report = report(study.settings(), &rows, data_source)?;
    neurogen_io::write_atomic(&dir.join("report.md"), report.as_bytes())?;
    Ok(Outcome { rows, report })
}

fn value_of(value: Value, r: &AttentionRow) -> Option<f64> {
    match value.key {
        "accuracy" => r.accuracy,
        "mask_attended" => r.mask_attended,
        "mask_unattended" => r.mask_unattended,
        "mask_difference" => Some(r.mask_attended? - r.mask_unattended?),
        _ => Some(r.seconds),
    }
}

/// The report of `rows` (the study's `runs.csv`) run with `settings`.
pub fn report(
    settings: &AttentionSettings,
    rows: &[AttentionRow],
    data_source: &str,
) -> std::result::Result<String, BoxError> {
    let mut obs = Samples::new();
    let mut tables = Vec::new();
    for value in [
        ACCURACY,
        MASK_ATTENDED,
        MASK_UNATTENDED,
        MASK_DIFFERENCE,
        SECONDS,
    ] {
        let mut groups = Vec::new();
        for name in [GATED, CONTROL] {
            let xs: Vec<(usize, f64)> = rows
                .iter()
                .filter(|r| r.group == name && r.status == RunStatus::Ok)
                .filter_map(|r| value_of(value, r).map(|v| (r.repeat, v)))
                .collect();
            obs.set(value, name, &xs)?;
            groups.push((name.to_string(), xs.iter().map(|&(_, x)| x).collect()));
        }
        tables.push((value, groups));
    }
    let claims = vec![
        Claim::welch(
            "Top-down gating beats the feed-forward control on accuracy (Gated vs FeedForward)",
            "difference {d}",
            ACCURACY,
            GATED,
            CONTROL,
            Expect::Better,
        ),
        Claim::threshold(
            "Inhibition is lower on the attended object than on the unattended one (Gated, attended − unattended < 0)",
            MASK_DIFFERENCE,
            GATED,
            0.0,
            Expect::Worse,
        ),
    ];
    let decided = decide(&obs, &claims, vec![])?;
    let s = settings;
    let mut rep = Report::new(
        "Object-based attention through internal gating (Lei, Benjamin & Kording 2021)",
    );
    rep.para(
        "Published (authors' analysis/Demo Analysis.ipynb, MNIST, 2 objects, mean of 4 runs): \
         accuracy 0.976 on both objects; mean inhibition 0.113 on the attended object against \
         0.907 on the unattended one. The paper's baseline without top-down gating is not in \
         the authors' code.",
    );
    rep.para(&format!(
        "Settings. The paper's and the authors' code's (KordingLab/object-based-attention at \
         59d8d6f): MNIST, two objects offset by 14 px on a 28×42 canvas with U(0, 0.3) \
         background noise, gating strength s = 0.2, 5 iterations per object, inhibition of \
         return, penalty 1e3, Adam 1e-3, batch 64, 10–30 epochs. Ours: {DATASET} in place of \
         MNIST (the published numbers are MNIST's); scenes from the first {} training items, \
         batch {}, {} epoch(s) capped at {} minibatch(es); {} test scenes from the first test \
         items (seed {TEST_SCENE_SEED}); the control is the same feed-forward path with one \
         10-way head per position; {} seeds per network (paper: 4).",
        s.n_train,
        s.batch,
        s.epochs,
        s.max_steps
            .map_or("no limit".to_string(), |m| m.to_string()),
        s.n_test,
        s.repeats,
    ));
    rep.para(&format!("Data: {data_source}"));
    let failed: Vec<String> = rows
        .iter()
        .filter(|r| r.status != RunStatus::Ok)
        .map(|r| format!("{} r{} ({})", r.group, r.repeat, r.message))
        .collect();
    if !failed.is_empty() {
        rep.para(&format!(
            "Failed runs, left out of every table and test: {}.",
            failed.join("; ")
        ));
    }
    for (value, groups) in &tables {
        rep.summary_table(value.short, groups);
    }
    rep.add_claims(decided);
    Ok(rep.finish())
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
        let md = report(&settings, &rows, "here").unwrap();
        assert_eq!(
            md.lines().filter(|l| l.ends_with("| holds |")).count(),
            2,
            "{md}"
        );
        for r in rows.iter_mut().filter(|r| r.group == GATED) {
            r.accuracy = r.accuracy.map(|a| a - 0.3);
            std::mem::swap(&mut r.mask_attended, &mut r.mask_unattended);
        }
        let md = report(&settings, &rows, "here").unwrap();
        assert_eq!(
            md.lines().filter(|l| l.ends_with("| holds |")).count(),
            0,
            "{md}"
        );
    }
}
