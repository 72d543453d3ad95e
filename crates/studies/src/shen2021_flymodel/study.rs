//! The study on the engine (`neurogen_lab`): every method of [`Method`] run through the
//! class-incremental harness for each repeat, one `runs.csv` row per run, resumed run by run.
//!
//! Each run is one spec ([`FlySpec`]: the method's own settings, the benchmark and its images),
//! whose hash is the resume key: a finished run is never trained again, and adding `--gem` to
//! a finished directory trains only A-GEM. The features are prepared when the first run is
//! left to train (so a rerun of a finished study computes none), and what they were made of is
//! kept in `features.json` ([`FeatureRecord`]) and checked against every later preparation.
use std::cell::{OnceCell, RefCell};
use std::path::Path;
use std::time::Instant;

use neurogen_lab::events::Observer;
use neurogen_lab::schedule::Options;
use neurogen_lab::store::{Row, RunStatus};
use neurogen_lab::study::{Arm, BoxError, RunCx, RunSpec, Study};
use neurogen_lab::summary::run_and_report;
use neurogen_learners::harness::run_class_incremental;
use neurogen_learners::{
    AGem, BackpropConfig, BackpropLearner, FlyConfig, FlyModel, GemConfig, HarnessConfig,
    IncrementalResult, Learner, TaskSequence, Wta,
};
use neurogen_model::AdamConfig;
use serde::{Deserialize, Serialize};

use super::data::{prepare, FeatureRecord, FlyData, Prepared, FEATURE_RECORD};
use super::error::{FlyError, Result};
use super::report;
use super::settings::{Benchmark, ExtractorScale, FlyScale, GemScale, Method};

/// The most tasks a `runs.csv` row has columns for (`seen_after_task_1` … `_10`; MNIST-20 has
/// 10, the other benchmarks 5).
pub const MAX_TASKS: usize = 10;

/// Everything that determines one run (hashed into its resume key). A method's spec holds only
/// the settings it uses (FlyModel: the Kenyon cells and the winner-take-all; the MLPs: the
/// network, Adam, EWC or A-GEM).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlySpec {
    /// The method's key ([`Method::key`]): the run's group.
    pub group: String,
    /// The repeat, also the seed of the class order, the learner and the minibatch order.
    pub repeat: usize,
    /// The method.
    pub method: Method,
    /// The benchmark.
    pub benchmark: Benchmark,
    /// Training images (None: all; MNIST-20: of each source).
    pub train_images: Option<usize>,
    /// Test images (None: all; MNIST-20: of each source).
    pub test_images: Option<usize>,
    /// The frozen extractor of the features (None: raw pixels).
    pub extractor: Option<ExtractorScale>,
    /// Classes per task.
    pub classes_per_task: usize,
    /// Passes over each task's training data.
    pub epochs: usize,
    /// Minibatch size given to the learner.
    pub batch_size: usize,
    /// FlyModel: Kenyon cells per input dimension.
    pub cells_per_input: Option<usize>,
    /// FlyModel: the winner-take-all.
    pub wta: Option<Wta>,
    /// The MLPs: hidden widths.
    pub hidden: Option<Vec<usize>>,
    /// The MLPs: Adam's learning rate.
    pub lr: Option<f64>,
    /// EWC: λ.
    pub ewc_lambda: Option<f64>,
    /// EWC: training examples per task of the Fisher.
    pub fisher_samples: Option<usize>,
    /// A-GEM: its memory.
    pub gem: Option<GemScale>,
}

impl RunSpec for FlySpec {
    fn group(&self) -> &str {
        &self.group
    }
    fn repeat(&self) -> usize {
        self.repeat
    }
}

/// The spec of repeat `repeat` of `method` at `scale` on `benchmark`.
///
/// ```
/// use neurogen_studies::shen2021_flymodel::{spec, Benchmark, FlyScale, FlyScaleName, Method};
/// let scale = FlyScale::new(FlyScaleName::Smoke, Benchmark::FashionMnist);
/// let s = spec(&scale, Benchmark::FashionMnist, Method::Ewc, 1);
/// assert_eq!((s.group.as_str(), s.repeat, s.ewc_lambda), ("ewc", 1, Some(1000.0)));
/// assert_eq!(spec(&scale, Benchmark::FashionMnist, Method::Fly, 1).hidden, None);
/// ```
pub fn spec(scale: &FlyScale, benchmark: Benchmark, method: Method, repeat: usize) -> FlySpec {
    let s = scale;
    let mlp = !method.is_fly();
    let (epochs, batch_size) = match method {
        Method::Fly | Method::FlyAdaptive => (1, 100),
        Method::Vanilla | Method::Ewc | Method::Gem => (s.backprop_epochs, s.batch_size),
        Method::Offline => (s.offline_epochs, s.batch_size),
    };
    FlySpec {
        group: method.key().into(),
        repeat,
        method,
        benchmark,
        train_images: s.train_images,
        test_images: s.test_images,
        extractor: s.extractor.clone(),
        classes_per_task: s.classes_per_task,
        epochs,
        batch_size,
        cells_per_input: method.is_fly().then_some(s.cells_per_input),
        wta: match method {
            Method::Fly => Some(Wta::TopK { fraction: 0.05 }),
            Method::FlyAdaptive => Some(Wta::Adaptive { ratio: 1.7 }),
            _ => None,
        },
        hidden: mlp.then(|| s.hidden.clone()),
        lr: mlp.then_some(s.lr),
        ewc_lambda: (method == Method::Ewc).then_some(s.ewc_lambda),
        fisher_samples: (method == Method::Ewc).then_some(s.fisher_samples),
        gem: (method == Method::Gem).then(|| s.gem.clone().unwrap_or_default()),
    }
}

/// One line of the study's `runs.csv`: a run's task order, final accuracy, memory loss,
/// seen-class accuracy after each task (empty beyond the benchmark's tasks) and accuracy
/// matrix, every number as computed (shortest exact decimal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlyRow {
    /// The method's key (the run's group).
    pub method: String,
    /// The repeat.
    pub repeat: usize,
    /// The seed (the repeat).
    pub seed: u64,
    /// The tasks' classes in training order (`2+8 6+1 …`).
    pub task_order: String,
    /// Accuracy on all classes after the last task.
    pub final_accuracy: f64,
    /// Mean memory loss over the tasks before the last (empty for the offline MLP).
    pub memory_loss: Option<f64>,
    /// Seen-class accuracy after task 1.
    pub seen_after_task_1: Option<f64>,
    /// … after task 2.
    pub seen_after_task_2: Option<f64>,
    /// … after task 3.
    pub seen_after_task_3: Option<f64>,
    /// … after task 4.
    pub seen_after_task_4: Option<f64>,
    /// … after task 5.
    pub seen_after_task_5: Option<f64>,
    /// … after task 6.
    pub seen_after_task_6: Option<f64>,
    /// … after task 7.
    pub seen_after_task_7: Option<f64>,
    /// … after task 8.
    pub seen_after_task_8: Option<f64>,
    /// … after task 9.
    pub seen_after_task_9: Option<f64>,
    /// … after task 10.
    pub seen_after_task_10: Option<f64>,
    /// The accuracy matrix: row `t` (after task `t`, `t + 1` entries) as numbers separated by
    /// spaces, rows separated by `;`.
    pub accuracy: String,
    /// The spec's configuration hash.
    pub config_hash: String,
    /// `ok` (a run that fails stops the study).
    pub status: RunStatus,
    /// Wall time of the run in seconds.
    pub seconds: f64,
}

impl Row for FlyRow {
    const COLUMNS: &'static [&'static str] = &[
        "method",
        "repeat",
        "seed",
        "task_order",
        "final_accuracy",
        "memory_loss",
        "seen_after_task_1",
        "seen_after_task_2",
        "seen_after_task_3",
        "seen_after_task_4",
        "seen_after_task_5",
        "seen_after_task_6",
        "seen_after_task_7",
        "seen_after_task_8",
        "seen_after_task_9",
        "seen_after_task_10",
        "accuracy",
        "config_hash",
        "status",
        "seconds",
    ];
    const WRITTEN_BY: &'static str = "reproduce flymodel";
    const VOLATILE_COLUMNS: &'static [&'static str] = &["seconds"];
    fn group(&self) -> &str {
        &self.method
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
        format!(
            "flymodel: {} repeat {}: final accuracy {:.3}{} ({:.0} s)",
            self.method,
            self.repeat,
            self.final_accuracy,
            self.memory_loss
                .map_or(String::new(), |m| format!(", memory loss {m:.3}")),
            self.seconds
        )
    }
}

impl FlyRow {
    /// The row of a finished run of `method` (its configuration hash `config_hash`).
    pub fn new(
        method: Method,
        repeat: usize,
        config_hash: String,
        result: &IncrementalResult,
        seconds: f64,
    ) -> Result<FlyRow> {
        let seen = &result.seen_accuracy;
        if seen.len() > MAX_TASKS || result.accuracy.len() != seen.len() {
            return Err(FlyError::InvalidArgument(format!(
                "{} repeat {repeat}: {} tasks with {} rows of accuracies (a row holds 1 to {MAX_TASKS} tasks)",
                method.key(),
                seen.len(),
                result.accuracy.len()
            )));
        }
        let at = |i: usize| seen.get(i).copied();
        let numbers = |v: &[f64]| v.iter().map(f64::to_string).collect::<Vec<_>>().join(" ");
        let join = |c: &[usize]| c.iter().map(usize::to_string).collect::<Vec<_>>().join("+");
        Ok(FlyRow {
            method: method.key().into(),
            repeat,
            seed: repeat as u64,
            task_order: result
                .tasks
                .iter()
                .map(|c| join(c))
                .collect::<Vec<_>>()
                .join(" "),
            final_accuracy: result.final_accuracy(),
            memory_loss: (method != Method::Offline).then(|| result.mean_memory_loss()),
            seen_after_task_1: at(0),
            seen_after_task_2: at(1),
            seen_after_task_3: at(2),
            seen_after_task_4: at(3),
            seen_after_task_5: at(4),
            seen_after_task_6: at(5),
            seen_after_task_7: at(6),
            seen_after_task_8: at(7),
            seen_after_task_9: at(8),
            seen_after_task_10: at(9),
            accuracy: result
                .accuracy
                .iter()
                .map(|r| numbers(r))
                .collect::<Vec<_>>()
                .join(";"),
            config_hash,
            status: RunStatus::Ok,
            seconds,
        })
    }

    /// The seen-class accuracy after each task (the filled `seen_after_task_*` columns).
    pub fn seen_accuracy(&self) -> Vec<f64> {
        [
            self.seen_after_task_1,
            self.seen_after_task_2,
            self.seen_after_task_3,
            self.seen_after_task_4,
            self.seen_after_task_5,
            self.seen_after_task_6,
            self.seen_after_task_7,
            self.seen_after_task_8,
            self.seen_after_task_9,
            self.seen_after_task_10,
        ]
        .into_iter()
        .map_while(|x| x)
        .collect()
    }

    /// The accuracy matrix (`accuracy[t][j]`, `j <= t`); an entry that is not a number is an
    /// error naming the run.
    pub fn accuracy_matrix(&self) -> Result<Vec<Vec<f64>>> {
        self.accuracy
            .split(';')
            .map(|row| {
                row.split_whitespace()
                    .map(|x| {
                        x.parse::<f64>().map_err(|_| {
                            FlyError::InvalidArgument(format!(
                                "{} repeat {}: accuracy entry {x:?} is not a number",
                                self.method, self.repeat
                            ))
                        })
                    })
                    .collect()
            })
            .collect()
    }
}

/// A method's learner; FlyModel is kept as itself so that its checkpoint can be written.
enum Built {
    Fly(FlyModel),
    Other(Box<dyn Learner>),
}

impl Built {
    fn as_learner(&mut self) -> &mut dyn Learner {
        match self {
            Built::Fly(f) => f,
            Built::Other(l) => l.as_mut(),
        }
    }
}

/// The learner of `spec` on `dim` inputs and `classes` classes.
fn learner(spec: &FlySpec, dim: usize, classes: usize) -> Result<Built> {
    let seed = spec.repeat as u64;
    let missing =
        |what: &str| FlyError::InvalidArgument(format!("the spec of {} has no {what}", spec.group));
    if let Some(wta) = spec.wta {
        let cells = spec
            .cells_per_input
            .ok_or_else(|| missing("Kenyon cells"))?;
        return Ok(Built::Fly(FlyModel::new(FlyConfig {
            kenyon_cells: cells * dim,
            wta,
            seed,
            ..FlyConfig::new(dim, classes)
        })?));
    }
    let hidden = spec
        .hidden
        .as_ref()
        .ok_or_else(|| missing("hidden widths"))?;
    let adam = AdamConfig {
        lr: spec.lr.ok_or_else(|| missing("learning rate"))?,
        ..AdamConfig::default()
    };
    if let Some(g) = &spec.gem {
        return Ok(Built::Other(Box::new(AGem::new(GemConfig {
            adam,
            seed,
            memory_per_task: g.memory_per_task,
            memory_batch: g.memory_batch,
            ..GemConfig::new(dim, hidden, classes)
        })?)));
    }
    let base = BackpropConfig::new(dim, hidden, classes);
    Ok(Built::Other(Box::new(BackpropLearner::vanilla(
        BackpropConfig {
            adam,
            seed,
            ewc_lambda: spec.ewc_lambda,
            fisher_samples: spec.fisher_samples.unwrap_or(base.fisher_samples),
            ..base
        },
    )?)))
}

/// The study: its settings, its benchmark, the data, and the features once prepared.
pub struct FlyStudy<'a> {
    settings: FlyScale,
    benchmark: Benchmark,
    data: FlyData<'a>,
    save_learners: bool,
    prepared: OnceCell<Prepared>,
    warnings: RefCell<Vec<String>>,
}

impl<'a> FlyStudy<'a> {
    /// The study of `settings` on `benchmark`, reading `data`. With `save_learners`, every
    /// FlyModel run trained writes its checkpoint to `DIR/checkpoints/METHOD-rREPEAT.safetensors`.
    /// Refuses fewer than two repeats, more than [`MAX_TASKS`] tasks, and data of another kind
    /// than the benchmark's.
    pub fn new(
        settings: FlyScale,
        benchmark: Benchmark,
        data: FlyData<'a>,
        save_learners: bool,
    ) -> Result<Self> {
        if data.main.kind != benchmark.data_kind() {
            return Err(FlyError::InvalidArgument(format!(
                "reproduce flymodel --dataset {} reads {}, but {} holds {}",
                benchmark.cli_name(),
                benchmark.data_kind(),
                data.source,
                data.main.kind
            )));
        }
        if settings.repeats < 2 {
            return Err(FlyError::InvalidArgument(
                "the paired tests need at least 2 repeats".into(),
            ));
        }
        let tasks = settings.tasks(benchmark);
        if tasks == 0 || tasks > MAX_TASKS {
            return Err(FlyError::InvalidArgument(format!(
                "{} classes in tasks of {} make {tasks} tasks; the study records 1 to {MAX_TASKS}",
                benchmark.classes(),
                settings.classes_per_task
            )));
        }
        Ok(FlyStudy {
            settings,
            benchmark,
            data,
            save_learners,
            prepared: OnceCell::new(),
            warnings: RefCell::new(Vec::new()),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &FlyScale {
        &self.settings
    }

    /// The benchmark.
    pub fn benchmark(&self) -> Benchmark {
        self.benchmark
    }

    /// The methods run, in table order (A-GEM only with its settings).
    pub fn methods(&self) -> Vec<Method> {
        Method::ALL
            .into_iter()
            .filter(|m| *m != Method::Gem || self.settings.gem.is_some())
            .collect()
    }

    /// The features, prepared on the first call and checked against (or recorded in)
    /// `dir/features.json`.
    fn features(&self, dir: &Path, observer: &mut dyn Observer) -> Result<&Prepared> {
        if let Some(p) = self.prepared.get() {
            return Ok(p);
        }
        let p = prepare(
            self.benchmark,
            &self.settings,
            &self.data,
            observer,
            &mut |w| self.warnings.borrow_mut().push(w),
        )?;
        let dim = self.settings.feature_dim(self.benchmark);
        if p.train.dim() != dim {
            return Err(FlyError::InvalidArgument(format!(
                "features have {} dimensions, the settings say {dim}",
                p.train.dim()
            )));
        }
        let path = dir.join(FEATURE_RECORD);
        match read_record(dir)? {
            Some(old) => check_record(&path, &old, &p.record)?,
            None => {
                let json = serde_json::to_vec_pretty(&p.record).map_err(|e| FlyError::Record {
                    path: path.clone(),
                    problem: e.to_string(),
                })?;
                neurogen_io::write_atomic(&path, &json)?;
            }
        }
        Ok(self.prepared.get_or_init(|| p))
    }

    /// Trains one run on the prepared features.
    fn run_one(&self, dir: &Path, p: &Prepared, spec: &FlySpec) -> Result<FlyRow> {
        let classes = self.benchmark.classes();
        let seed = spec.repeat as u64;
        let tasks = if spec.method == Method::Offline {
            TaskSequence::offline(classes)?
        } else {
            TaskSequence::shuffled(classes, spec.classes_per_task, seed)?
        };
        let mut l = learner(spec, p.train.dim(), classes)?;
        let t0 = Instant::now();
        let result = run_class_incremental(
            l.as_learner(),
            &p.train,
            &p.test,
            &tasks,
            &HarnessConfig {
                epochs: spec.epochs,
                batch_size: spec.batch_size,
                seed,
            },
            &mut |_, _| {},
        )?;
        let seconds = t0.elapsed().as_secs_f64();
        if let (true, Built::Fly(fly)) = (self.save_learners, &l) {
            let ck = dir.join("checkpoints");
            std::fs::create_dir_all(&ck).map_err(|e| FlyError::Record {
                path: ck.clone(),
                problem: format!("cannot create the directory: {e}"),
            })?;
            neurogen_learners::checkpoint::save_fly(
                fly,
                &ck.join(format!("{}-r{}.safetensors", spec.group, spec.repeat)),
            )?;
        }
        FlyRow::new(spec.method, spec.repeat, spec.hash()?, &result, seconds)
    }

    /// What went wrong without stopping the study so far (an unusable feature cache), each
    /// once.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut self.warnings.borrow_mut())
    }
}

impl Study for FlyStudy<'_> {
    type Spec = FlySpec;
    type Row = FlyRow;

    fn id(&self) -> &str {
        self.benchmark.dir_name()
    }

    fn arms(&self) -> Vec<Arm<FlySpec>> {
        self.methods()
            .into_iter()
            .map(|m| {
                Arm::new(m.key(), m.key(), self.settings.repeats, |r| {
                    spec(&self.settings, self.benchmark, m, r)
                })
            })
            .collect()
    }

    fn run_batch(
        &self,
        cx: &mut RunCx<'_>,
        batch: &[FlySpec],
    ) -> std::result::Result<Vec<FlyRow>, BoxError> {
        let p = self.features(cx.dir, cx.observer)?;
        batch
            .iter()
            .map(|s| {
                self.run_one(cx.dir, p, s)
                    .map_err(|e| BoxError::from(format!("{} repeat {}: {e}", s.group, s.repeat)))
            })
            .collect()
    }
}

/// The [`FeatureRecord`] of the study in `dir` (None when no features were prepared there).
pub fn read_record(dir: &Path) -> Result<Option<FeatureRecord>> {
    let path = dir.join(FEATURE_RECORD);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| FlyError::Record {
                path,
                problem: format!("cannot be read ({e}); move it away to start over"),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FlyError::Record {
            path,
            problem: format!("cannot be read ({e})"),
        }),
    }
}

/// Refuses features of other images or another extractor than those of the recorded runs.
fn check_record(path: &Path, old: &FeatureRecord, new: &FeatureRecord) -> Result<()> {
    let other = |problem: String| FlyError::Record {
        path: path.to_path_buf(),
        problem: format!("{problem}; use another --out or move the directory away"),
    };
    if (old.train_images, old.test_images) != (new.train_images, new.test_images) {
        return Err(other(format!(
            "the runs here were trained on {} training / {} test images, this data gives {} / {}",
            old.train_images, old.test_images, new.train_images, new.test_images
        )));
    }
    if let (Some(a), Some(b)) = (&old.extractor, &new.extractor) {
        if a.key != b.key {
            return Err(other(format!(
                "the runs here are on features of key {}, this data and extractor give {}",
                a.key, b.key
            )));
        }
    }
    Ok(())
}

/// What [`run`] produced: every run's row and the report.
pub type Outcome = neurogen_lab::summary::Outcome<FlyRow>;

/// Runs `study` into `dir` (resuming what `dir/runs.csv` records; a directory of the former
/// format, `results.json`, is converted first, [`super::legacy::convert`]), draws
/// `seen_accuracy.{svg,png}` and writes `dir/report.md` atomically.
pub fn run(
    study: &FlyStudy,
    dir: &Path,
    observer: &mut dyn Observer,
) -> std::result::Result<Outcome, BoxError> {
    super::legacy::convert(dir)?;
    run_and_report(study, dir, &Options::default(), observer, |rows| {
        let record = read_record(dir)?;
        let sources = report::Sources {
            main: study.data.source.clone(),
            fashion: study.data.fashion.as_ref().map(|f| f.1.clone()),
        };
        let plot = report::plot(dir, study.settings(), study.benchmark(), rows)?;
        Ok(report::report(
            study.settings(),
            study.benchmark(),
            rows,
            record.as_ref(),
            &sources,
            &plot,
        )?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shen2021_flymodel::FlyScaleName;

    /// The spec's JSON and hash are the resume key of every output directory (and of the
    /// committed `runs.csv` files): a change here makes them refuse to resume.
    #[test]
    fn the_config_hash_is_that_of_existing_output_directories() {
        let scale = FlyScale::new(FlyScaleName::Quick, Benchmark::FashionMnist);
        let s = spec(&scale, Benchmark::FashionMnist, Method::Fly, 0);
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"group":"flymodel","repeat":0,"method":"fly","benchmark":"FashionMnist","train_images":null,"test_images":null,"extractor":null,"classes_per_task":2,"epochs":1,"batch_size":100,"cells_per_input":40,"wta":{"TopK":{"fraction":0.05}},"hidden":null,"lr":null,"ewc_lambda":null,"fisher_samples":null,"gem":null}"#
        );
        assert_eq!(s.hash().unwrap(), "039fa4759bb3dd75");
        let s = spec(&scale, Benchmark::FashionMnist, Method::Ewc, 3);
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"group":"ewc","repeat":3,"method":"ewc","benchmark":"FashionMnist","train_images":null,"test_images":null,"extractor":null,"classes_per_task":2,"epochs":1,"batch_size":32,"cells_per_input":null,"wta":null,"hidden":[256,256],"lr":0.001,"ewc_lambda":1000.0,"fisher_samples":500,"gem":null}"#
        );
        assert_eq!(s.hash().unwrap(), "9cedf2f2844e3726");
    }

    /// A row keeps every number exactly (the report reads nothing else).
    #[test]
    fn a_row_keeps_the_accuracy_matrix_and_seen_accuracy_exactly() {
        let result = IncrementalResult {
            learner: "flymodel".into(),
            tasks: vec![vec![2, 8], vec![6, 1], vec![9, 5]],
            accuracy: vec![
                vec![0.971],
                vec![0.816, 0.87],
                vec![0.7945, 0.1 + 0.2, 2.0 / 3.0],
            ],
            seen_accuracy: vec![0.971, 0.843, 0.7896666666666666],
        };
        let row = FlyRow::new(Method::Fly, 1, "ab".into(), &result, 57.064123857).unwrap();
        assert_eq!(row.task_order, "2+8 6+1 9+5");
        assert_eq!(row.accuracy_matrix().unwrap(), result.accuracy);
        assert_eq!(row.seen_accuracy(), result.seen_accuracy);
        assert_eq!(row.final_accuracy, 0.7896666666666666);
        assert_eq!(row.memory_loss, Some(result.mean_memory_loss()));
        let dir = tempfile::tempdir().unwrap();
        let store = neurogen_lab::RunStore::new(dir.path());
        store.write(std::slice::from_ref(&row)).unwrap();
        assert_eq!(store.read::<FlyRow>().unwrap(), vec![row.clone()]);
        // The offline MLP has no memory loss.
        let off = FlyRow::new(Method::Offline, 1, "ab".into(), &result, 1.0).unwrap();
        assert_eq!(off.memory_loss, None);
        // More tasks than a row holds.
        let many = IncrementalResult {
            accuracy: vec![vec![1.0]; 11],
            seen_accuracy: vec![1.0; 11],
            ..result
        };
        assert!(FlyRow::new(Method::Fly, 0, "ab".into(), &many, 1.0).is_err());
    }
}
