//! The study on the engine (`neurogen_lab`): the MLP, DANN and ColumnEI trained on
//! Fashion-MNIST for a few seeds, each run's plausibility report saved beside `runs.csv`, and
//! the paper's two claims decided (DANN learns as well as the MLP; ColumnEI learns worse).
//! `cargo xtask reproduce dale --scale smoke|quick` runs it ([`run`]).
//!
//! Each run trains one network with [`super::train()`] on the first `n_train` training images
//! (pixels in `[0, 1]`, [`super::unit_tensors`]), evaluates it on the first `n_test` test
//! images, measures FGSM accuracy at one `ε` and the plausibility report on the first
//! `n_attack` test images, and writes that report to `plausibility/GROUP-rNN.json`.
use std::path::Path;

use candle_core::{Device, Tensor};
use neurogen_lab::claims::{decide, Claim, Expect, Samples, Value};
use neurogen_lab::events::Observer;
use neurogen_lab::report::Report;
use neurogen_lab::schedule::{run_study, Options};
use neurogen_lab::store::{stem, Row, RunStatus};
use neurogen_lab::study::{Arm, BoxError, RunCx, RunSpec, Study};
use serde::{Deserialize, Serialize};

use super::error::{DaleError, Result};
use super::fgsm::fgsm_curve;
use super::net::{DaleNet, NetConfig, NetKind, FASHION_MNIST_PIXEL_MEAN, PAPER_BATCH_SIZE};
use super::train::{evaluate, train, TrainOptions};
use super::unit_tensors;

/// The study's name and output directory (`OUT/dale/`); never renamed once results exist.
pub const STUDY_ID: &str = "dale";

/// The dataset every run trains on (recorded in each spec).
pub const DATASET: &str = "Fashion-MNIST";

/// How big the study is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaleScale {
    /// Seconds: 2,000 training images, 1 epoch, 2 hidden layers of 100 E + 10 I, 1,000 test
    /// images, 2 repeats.
    Smoke,
    /// Under an hour on 2 CPU cores (about 30–40 min estimated from timed steps, not yet run
    /// whole; docs/reproduce.md): the paper's networks
    /// (3 hidden layers of 500 E + 50 I), 10,000 training images, 5 epochs, the 10,000 test
    /// images, 5 repeats.
    Quick,
}

/// Every setting of a scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaleSettings {
    /// Training images (the first ones of the training split).
    pub n_train: usize,
    /// Test images (the first ones of the test split).
    pub n_test: usize,
    /// Test images attacked by FGSM and probed for the plausibility report.
    pub n_attack: usize,
    /// Passes over the training images.
    pub epochs: usize,
    /// Minibatch size (paper: 32).
    pub batch_size: usize,
    /// Hidden layers (paper: 3).
    pub hidden_layers: usize,
    /// Excitatory units per hidden layer (paper: 500; the MLP's width).
    pub ne: usize,
    /// Inhibitory units per hidden layer (paper: 50).
    pub ni: usize,
    /// FGSM strength in pixel units.
    pub fgsm_epsilon: f64,
    /// Seeds per network.
    pub repeats: usize,
}

impl DaleSettings {
    /// The settings of `scale`.
    pub fn new(scale: DaleScale) -> Self {
        match scale {
            DaleScale::Smoke => DaleSettings {
                n_train: 2_000,
                n_test: 1_000,
                n_attack: 500,
                epochs: 1,
                batch_size: PAPER_BATCH_SIZE,
                hidden_layers: 2,
                ne: 100,
                ni: 10,
                fgsm_epsilon: 0.05,
                repeats: 2,
            },
            DaleScale::Quick => DaleSettings {
                n_train: 10_000,
                n_test: 10_000,
                n_attack: 1_000,
                epochs: 5,
                batch_size: PAPER_BATCH_SIZE,
                hidden_layers: 3,
                ne: 500,
                ni: 50,
                fgsm_epsilon: 0.05,
                repeats: 5,
            },
        }
    }
}

/// Everything that determines one run (hashed into its resume key).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaleSpec {
    /// The network's display name (`MLP`, `DANN`, `ColumnEI`).
    pub group: String,
    /// The repeat, also the seed of the initialisation and of the minibatch order.
    pub repeat: usize,
    /// Which network.
    pub kind: NetKind,
    /// The dataset ([`DATASET`]).
    pub dataset: String,
    /// Training images.
    pub n_train: usize,
    /// Test images.
    pub n_test: usize,
    /// Test images attacked and probed.
    pub n_attack: usize,
    /// Epochs.
    pub epochs: usize,
    /// SGD learning rate (the paper's for the kind, [`NetKind::paper_lr`]).
    pub lr: f64,
    /// Minibatch size.
    pub batch_size: usize,
    /// Hidden layers.
    pub hidden_layers: usize,
    /// Excitatory units per hidden layer.
    pub ne: usize,
    /// Inhibitory units per hidden layer.
    pub ni: usize,
    /// FGSM strength.
    pub fgsm_epsilon: f64,
}

impl RunSpec for DaleSpec {
    fn group(&self) -> &str {
        &self.group
    }
    fn repeat(&self) -> usize {
        self.repeat
    }
}

impl DaleSpec {
    /// The network this run trains.
    pub fn net_config(&self) -> NetConfig {
        NetConfig {
            hidden_layers: self.hidden_layers,
            ne: self.ne,
            ni: self.ni,
            pixel_mean: FASHION_MNIST_PIXEL_MEAN,
            ..NetConfig::paper(self.kind, self.repeat as u64)
        }
    }
}

/// One line of the study's `runs.csv`; the measures are empty for a failed run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaleRow {
    /// The network's display name.
    pub group: String,
    /// The repeat.
    pub repeat: usize,
    /// The spec's configuration hash.
    pub config_hash: String,
    /// `ok` or `failed`.
    pub status: RunStatus,
    /// Accuracy on the test images.
    pub test_accuracy: Option<f64>,
    /// Mean cross-entropy on the training images after training.
    pub train_loss: Option<f64>,
    /// Accuracy on the attacked test images under FGSM at the spec's `ε`.
    pub fgsm_accuracy: Option<f64>,
    /// Fraction of presynaptic units, over every synaptic matrix, whose outgoing weights share
    /// one sign (silent units left out).
    pub dale_fraction: Option<f64>,
    /// Wall time of the run in seconds.
    pub seconds: f64,
    /// Why the run failed (empty when it did not).
    pub message: String,
}

impl Row for DaleRow {
    const COLUMNS: &'static [&'static str] = &[
        "group",
        "repeat",
        "config_hash",
        "status",
        "test_accuracy",
        "train_loss",
        "fgsm_accuracy",
        "dale_fraction",
        "seconds",
        "message",
    ];
    const WRITTEN_BY: &'static str = "reproduce dale";
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
        match self.test_accuracy {
            Some(a) => format!(
                "{} r{}: test accuracy {a:.4} ({:.0} s)",
                self.group, self.repeat, self.seconds
            ),
            None => format!("{} r{}: failed: {}", self.group, self.repeat, self.message),
        }
    }
}

/// The networks' display names, in display order.
pub fn group_name(kind: NetKind) -> &'static str {
    match kind {
        NetKind::Mlp => "MLP",
        NetKind::Dann => "DANN",
        NetKind::ColumnEi => "ColumnEI",
    }
}

/// The spec of repeat `repeat` of network `kind` under `settings` (the paper's learning rate
/// for the kind).
///
/// ```
/// use neurogen_studies::cornford2021_dale::study::{spec, DaleScale, DaleSettings};
/// use neurogen_studies::cornford2021_dale::NetKind;
/// let s = spec(&DaleSettings::new(DaleScale::Smoke), NetKind::Dann, 1);
/// assert_eq!((s.group.as_str(), s.repeat, s.lr), ("DANN", 1, 0.1107));
/// ```
pub fn spec(settings: &DaleSettings, kind: NetKind, repeat: usize) -> DaleSpec {
    let s = settings;
    DaleSpec {
        group: group_name(kind).into(),
        repeat,
        kind,
        dataset: DATASET.into(),
        n_train: s.n_train,
        n_test: s.n_test,
        n_attack: s.n_attack,
        epochs: s.epochs,
        lr: kind.paper_lr(),
        batch_size: s.batch_size,
        hidden_layers: s.hidden_layers,
        ne: s.ne,
        ni: s.ni,
        fgsm_epsilon: s.fgsm_epsilon,
    }
}

/// The study: its settings and the images (as tensors in `[0, 1]`).
pub struct DaleStudy {
    settings: DaleSettings,
    train: (Tensor, Tensor),
    test: (Tensor, Tensor),
}

impl DaleStudy {
    /// The study of `settings` on Fashion-MNIST `data`; refuses settings that ask for more
    /// images than the dataset has, no epochs or fewer than two repeats.
    pub fn new(settings: DaleSettings, data: &neurogen_data::Dataset) -> Result<Self> {
        let s = &settings;
        if s.repeats < 2 || s.epochs == 0 || s.n_attack == 0 || s.n_attack > s.n_test {
            return Err(DaleError::InvalidArgument(format!(
                "the study needs >= 2 repeats, >= 1 epoch and 1 <= n_attack <= n_test (got {} repeats, {} epochs, n_attack {}, n_test {})",
                s.repeats, s.epochs, s.n_attack, s.n_test
            )));
        }
        let dev = Device::Cpu;
        let train = unit_tensors(&data.train, &(0..s.n_train).collect::<Vec<_>>(), &dev)?;
        let test = unit_tensors(&data.test, &(0..s.n_test).collect::<Vec<_>>(), &dev)?;
        Ok(DaleStudy {
            settings,
            train,
            test,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &DaleSettings {
        &self.settings
    }

    /// Trains and measures one run, saving its plausibility report into `dir/plausibility/`.
    fn run_one(&self, dir: &Path, spec: &DaleSpec) -> Result<DaleRow> {
        let t0 = std::time::Instant::now();
        let net = DaleNet::new(&spec.net_config(), &Device::Cpu)?;
        let (x, y) = &self.train;
        let opts = TrainOptions {
            lr: spec.lr,
            batch_size: spec.batch_size,
            epochs: spec.epochs,
            seed: spec.repeat as u64,
        };
        let row = |status, message: String| DaleRow {
            group: spec.group.clone(),
            repeat: spec.repeat,
            config_hash: String::new(),
            status,
            test_accuracy: None,
            train_loss: None,
            fgsm_accuracy: None,
            dale_fraction: None,
            seconds: 0.0,
            message,
        };
        match train(&net, x, y, &opts) {
            Ok(_) => {}
            Err(e @ DaleError::Diverged { .. }) => {
                return Ok(DaleRow {
                    seconds: t0.elapsed().as_secs_f64(),
                    ..row(RunStatus::Failed, e.to_string())
                })
            }
            Err(e) => return Err(e),
        }
        let test = evaluate(&net, &self.test.0, &self.test.1)?;
        let train_eval = evaluate(&net, x, y)?;
        let xa = self.test.0.narrow(0, 0, spec.n_attack)?;
        let ya = self.test.1.narrow(0, 0, spec.n_attack)?;
        let mut report = net.plausibility_report(&xa, 0.0)?;
        let logits = |x: &Tensor| Ok(net.forward(x)?.logits);
        report.fgsm = fgsm_curve(logits, &xa, &ya, &[spec.fgsm_epsilon], Some((0.0, 1.0)))?;
        let (compliant, units) = report.synapses.iter().fold((0, 0), |(c, u), s| {
            (
                c + s.dale.excitatory + s.dale.inhibitory,
                u + s.dale.n_units - s.dale.silent,
            )
        });
        let path = dir
            .join("plausibility")
            .join(format!("{}.json", stem(&spec.group, spec.repeat)));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                DaleError::InvalidArgument(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        report.save(&path)?;
        Ok(DaleRow {
            test_accuracy: Some(test.accuracy),
            train_loss: Some(train_eval.loss as f64),
            fgsm_accuracy: report.fgsm.first().map(|p| p.accuracy),
            dale_fraction: (units > 0).then(|| compliant as f64 / units as f64),
            seconds: t0.elapsed().as_secs_f64(),
            ..row(RunStatus::Ok, String::new())
        })
    }
}

impl Study for DaleStudy {
    type Spec = DaleSpec;
    type Row = DaleRow;

    fn id(&self) -> &str {
        STUDY_ID
    }

    fn arms(&self) -> Vec<Arm<DaleSpec>> {
        NetKind::ALL
            .into_iter()
            .map(|kind| {
                Arm::new(kind.name(), group_name(kind), self.settings.repeats, |r| {
                    spec(&self.settings, kind, r)
                })
            })
            .collect()
    }

    fn run_batch(
        &self,
        cx: &mut RunCx<'_>,
        batch: &[DaleSpec],
    ) -> std::result::Result<Vec<DaleRow>, BoxError> {
        batch
            .iter()
            .map(|spec| {
                cx.note(format!("training {} r{}", spec.group, spec.repeat));
                let mut row = self.run_one(cx.dir, spec)?;
                row.config_hash = spec.hash()?;
                Ok(row)
            })
            .collect()
    }
}

/// Test accuracy, the claims' value.
pub const TEST_ACCURACY: Value = Value::new("test_accuracy", "test accuracy", "", 4, true);
/// FGSM accuracy at the study's `ε`, reported beside it.
pub const FGSM_ACCURACY: Value = Value::new("fgsm_accuracy", "FGSM accuracy", "", 4, true);
/// The fraction of Dale-compliant units ([`DaleRow::dale_fraction`]), reported beside it.
pub const DALE_FRACTION: Value =
    Value::new("dale_fraction", "Dale-compliant fraction", "", 4, true);

/// What [`run`] produced.
pub struct Outcome {
    /// Every run's row.
    pub rows: Vec<DaleRow>,
    /// The report, also written to `DIR/report.md`.
    pub report: String,
}

/// Runs `study` into `dir` (resuming what is recorded there), decides the paper's claims and
/// writes `dir/report.md` atomically. `data_source` names where the images came from (the
/// report's `Data:` line).
pub fn run(
    study: &DaleStudy,
    dir: &Path,
    data_source: &str,
    observer: &mut dyn Observer,
) -> std::result::Result<Outcome, BoxError> {
    let rows = run_study(study, dir, &Options { max_batch: 1 }, observer)?;
    let report = report(study.settings(), &rows, data_source)?;
    neurogen_io::write_atomic(&dir.join("report.md"), report.as_bytes())?;
    Ok(Outcome { rows, report })
}

/// The report of `rows` (the study's `runs.csv`) run with `settings`.
pub fn report(
    settings: &DaleSettings,
    rows: &[DaleRow],
    data_source: &str,
) -> std::result::Result<String, BoxError> {
    let mut obs = Samples::new();
    let mut tables = Vec::new();
    for value in [TEST_ACCURACY, FGSM_ACCURACY, DALE_FRACTION] {
        let mut groups = Vec::new();
        for kind in NetKind::ALL {
            let name = group_name(kind);
            let xs: Vec<(usize, f64)> = rows
                .iter()
                .filter(|r| r.group == name && r.status == RunStatus::Ok)
                .filter_map(|r| {
                    let v = match value.key {
                        "test_accuracy" => r.test_accuracy,
                        "fgsm_accuracy" => r.fgsm_accuracy,
                        _ => r.dale_fraction,
                    };
                    v.map(|v| (r.repeat, v))
                })
                .collect();
            obs.set(value, name, &xs)?;
            groups.push((name.to_string(), xs.iter().map(|&(_, x)| x).collect()));
        }
        tables.push((value, groups));
    }
    let claims = vec![
        Claim::welch(
            "DANNs learn as well as standard networks (DANN vs MLP)",
            "difference {d}",
            TEST_ACCURACY,
            "DANN",
            "MLP",
            Expect::NotWorse,
        ),
        Claim::welch(
            "ColumnEI learns worse than standard networks (ColumnEI vs MLP)",
            "difference {d}",
            TEST_ACCURACY,
            "ColumnEI",
            "MLP",
            Expect::Worse,
        ),
    ];
    let decided = decide(&obs, &claims, vec![])?;
    let s = settings;
    let mut rep =
        Report::new("Dale's principle: MLP, DANN and ColumnEI (Cornford et al., ICLR 2021)");
    rep.para(
        "Published claim (Cornford et al., ICLR 2021, Fig. 2 on MNIST): DANNs learn as well as \
         standard multilayer perceptrons, while ColumnEI networks (sign-constrained columns, \
         after Song et al. 2016) learn worse.",
    );
    rep.para(&format!(
        "Settings. The paper's (and the authors' code, linclab/ltlwdp at 624fe94): the layers' \
         equations, initialisations and update policies (DANN's corrected SGD and clamps), \
         plain SGD, batch {}, learning rates MLP {}, DANN {}, ColumnEI {}, E:I = 10:1, pixels \
         in [0, 1]. Ours: {DATASET} in place of MNIST; the first {} training and {} test \
         images; {} epoch(s) (paper: 50); {} hidden layer(s) of {} E + {} I (paper: 3 of \
         500 E + 50 I); {} seeds per network (paper: 5); FGSM at ε = {} on the first {} test \
         images.",
        s.batch_size,
        NetKind::Mlp.paper_lr(),
        NetKind::Dann.paper_lr(),
        NetKind::ColumnEi.paper_lr(),
        s.n_train,
        s.n_test,
        s.epochs,
        s.hidden_layers,
        s.ne,
        s.ni,
        s.repeats,
        s.fgsm_epsilon,
        s.n_attack,
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
    /// makes old `OUT/dale/` directories refuse to resume (docs/adding-a-study.md, section 2).
    #[test]
    fn the_config_hash_is_that_of_existing_output_directories() {
        let s = spec(&DaleSettings::new(DaleScale::Smoke), NetKind::Mlp, 0);
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"group":"MLP","repeat":0,"kind":"mlp","dataset":"Fashion-MNIST","n_train":2000,"n_test":1000,"n_attack":500,"epochs":1,"lr":0.2976,"batch_size":32,"hidden_layers":2,"ne":100,"ni":10,"fgsm_epsilon":0.05}"#
        );
        assert_eq!(s.hash().unwrap(), "aff338001b0cd38b");
    }

    #[test]
    fn each_network_gets_its_paper_learning_rate_and_seed() {
        let settings = DaleSettings::new(DaleScale::Quick);
        for kind in NetKind::ALL {
            let s = spec(&settings, kind, 3);
            assert_eq!(s.lr, kind.paper_lr());
            let c = s.net_config();
            assert_eq!(
                (c.kind, c.seed, c.hidden_layers, c.ne, c.ni),
                (kind, 3, 3, 500, 50)
            );
        }
    }

    /// Four blank 28×28 images a split.
    fn tiny() -> neurogen_data::Dataset {
        let shape = neurogen_data::ImageShape::new(1, 28, 28);
        let split =
            || neurogen_data::Split::new(shape, vec![0; 4 * 784], vec![0, 1, 2, 3]).unwrap();
        neurogen_data::Dataset::new(neurogen_data::DatasetKind::FashionMnist, split(), split())
            .unwrap()
    }

    #[test]
    fn bad_settings_are_refused() {
        let data = tiny();
        let mut s = DaleSettings::new(DaleScale::Smoke);
        s.repeats = 1;
        let e = DaleStudy::new(s, &data).err().unwrap().to_string();
        assert!(e.contains(">= 2 repeats"), "{e}");
        // More images than the dataset holds.
        let e = DaleStudy::new(DaleSettings::new(DaleScale::Smoke), &data)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("out of range"), "{e}");
    }

    fn row(group: &str, repeat: usize, acc: f64) -> DaleRow {
        DaleRow {
            group: group.into(),
            repeat,
            config_hash: "0".into(),
            status: RunStatus::Ok,
            test_accuracy: Some(acc),
            train_loss: Some(0.5),
            fgsm_accuracy: Some(acc / 2.0),
            dale_fraction: Some(1.0),
            seconds: 1.0,
            message: String::new(),
        }
    }

    /// The report reads only rows: the claims are decided in the paper's direction, and a
    /// failed run is named and left out.
    #[test]
    fn the_report_decides_both_claims_from_the_rows() {
        let mut rows = Vec::new();
        for r in 0..4 {
            let e = 0.01 * r as f64;
            rows.push(row("MLP", r, 0.85 + e));
            rows.push(row(
                "DANN",
                r,
                0.85 + e + if r % 2 == 0 { 0.002 } else { -0.002 },
            ));
            rows.push(row("ColumnEI", r, 0.70 + e + 0.003 * (r % 2) as f64));
        }
        rows.push(DaleRow {
            status: RunStatus::Failed,
            test_accuracy: None,
            message: "training diverged".into(),
            ..row("ColumnEI", 4, 0.0)
        });
        let settings = DaleSettings::new(DaleScale::Smoke);
        let md = report(&settings, &rows, "here").unwrap();
        for line in md
            .lines()
            .filter(|l| l.starts_with("| DANNs") || l.starts_with("| ColumnEI learns"))
        {
            assert!(line.ends_with("| holds |"), "{line}");
        }
        assert_eq!(
            md.lines().filter(|l| l.ends_with("| holds |")).count(),
            2,
            "{md}"
        );
        assert!(md.contains("ColumnEI r4 (training diverged)"), "{md}");
        assert!(md.contains("| ColumnEI | 4 |"), "{md}");
        // DANN clearly worse than the MLP: the first claim does not hold.
        for r in rows.iter_mut().filter(|r| r.group == "DANN") {
            r.test_accuracy = r.test_accuracy.map(|a| a - 0.2);
        }
        let md = report(&settings, &rows, "here").unwrap();
        let dann = md.lines().find(|l| l.starts_with("| DANNs")).unwrap();
        assert!(!dann.ends_with("| holds |"), "{dann}");
    }
}
