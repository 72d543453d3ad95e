//! What a study tells the engine: its runs ([`RunSpec`]), grouped in arms ([`Arm`]), and how to
//! train a batch of them ([`Study`]). [`crate::schedule::run_study`] does the rest: the run
//! store, resuming, batches and progress.
use std::path::Path;

use serde::Serialize;

use crate::events::{Event, Observer};
use crate::store::{config_hash, Row, StoreError};

/// The error a study's own code returns (any error type converts into it with `?`, including
/// `anyhow::Error`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that determines one run's result.
///
/// Its JSON (`serde_json::to_string`) is hashed for resuming ([`RunSpec::hash`]), so the
/// fields, their order and their values are part of the study's `runs.csv` format: changing
/// any of them makes old output directories refuse to resume. Put in it every setting that
/// changes the result, and nothing that does not (a device, a path).
pub trait RunSpec: Serialize + Clone {
    /// The display name of the run's arm (`runs.csv`'s `group`; the resume key with
    /// [`RunSpec::repeat`]).
    fn group(&self) -> &str;

    /// The repeat index (by convention also the run's seed).
    fn repeat(&self) -> usize;

    /// A stable hash of the whole configuration ([`config_hash`]: the first 8 bytes of the
    /// SHA-256 of the spec's JSON, in hex).
    fn hash(&self) -> Result<String, StoreError> {
        config_hash(self)
    }
}

/// One arm of a study: a keyed group of runs, one spec per repeat.
#[derive(Debug, Clone, PartialEq)]
pub struct Arm<S> {
    /// A short stable key (`control`), for code and command lines.
    pub key: String,
    /// The display name (`Control`): every spec's [`RunSpec::group`], and `runs.csv`'s
    /// `group`.
    pub name: String,
    /// The spec of each repeat, repeat `r` at index `r`.
    pub specs: Vec<S>,
}

impl<S> Arm<S> {
    /// An arm of `repeats` runs, the spec of repeat `r` made by `spec(r)`.
    pub fn new(key: &str, name: &str, repeats: usize, spec: impl FnMut(usize) -> S) -> Arm<S> {
        Arm {
            key: key.to_string(),
            name: name.to_string(),
            specs: (0..repeats).map(spec).collect(),
        }
    }
}

/// What the study's code gets while it trains a batch.
pub struct RunCx<'a> {
    /// The study's output directory (`runs.csv` is in it; put what runs save beside it).
    pub dir: &'a Path,
    /// Progress: [`RunCx::note`] sends a line, and a study may send its own [`Event`]s.
    pub observer: &'a mut dyn Observer,
}

impl RunCx<'_> {
    /// Sends `line` to the observer ([`Event::Note`]).
    pub fn note(&mut self, line: impl Into<String>) {
        self.observer.event(&Event::Note(line.into()));
    }

    /// Trains the runs of `batch` one after the other, for a study whose batches hold one
    /// run each or whose runs share nothing: for each spec a note `training GROUP rREPEAT`,
    /// then `run(spec, dir, hash)`, where `hash` is the spec's [`RunSpec::hash`] for the
    /// row's `config_hash`. The first error ends the batch.
    ///
    /// ```
    /// use neurogen_lab::events::{Event, Recorder};
    /// use neurogen_lab::study::{BoxError, RunCx, RunSpec};
    /// # use serde::Serialize;
    /// # #[derive(Clone, Serialize)]
    /// # struct Spec { group: String, repeat: usize }
    /// # impl RunSpec for Spec {
    /// #     fn group(&self) -> &str { &self.group }
    /// #     fn repeat(&self) -> usize { self.repeat }
    /// # }
    /// let batch = [Spec { group: "a".into(), repeat: 0 }, Spec { group: "a".into(), repeat: 1 }];
    /// let mut events = Recorder::default();
    /// let dir = std::env::temp_dir();
    /// let mut cx = RunCx { dir: &dir, observer: &mut events };
    /// let rows = cx.each_run(&batch, |spec, _dir, hash| {
    ///     Ok::<_, BoxError>((spec.repeat, hash))
    /// })?;
    /// assert_eq!(rows[1], (1, batch[1].hash()?));
    /// let notes = ["training a r0", "training a r1"].map(|n| Event::Note(n.into()));
    /// assert_eq!(events.events, notes);
    /// # Ok::<(), BoxError>(())
    /// ```
    pub fn each_run<S: RunSpec, R, E: Into<BoxError>>(
        &mut self,
        batch: &[S],
        mut run: impl FnMut(&S, &Path, String) -> Result<R, E>,
    ) -> Result<Vec<R>, BoxError> {
        batch
            .iter()
            .map(|spec| {
                self.note(format!("training {} r{}", spec.group(), spec.repeat()));
                let hash = spec.hash()?;
                run(spec, self.dir, hash).map_err(Into::into)
            })
            .collect()
    }
}

/// A study: its arms, which of its runs may train together, and how to train them.
///
/// The engine ([`crate::schedule::run_study`]) lists the runs repeat-major (repeat 0 of every
/// arm first), skips those already recorded in the output directory's `runs.csv` (refusing
/// one recorded with another configuration), groups the rest into batches of one
/// [`Study::batch_class`], calls [`Study::run_batch`] on each and writes its rows at once.
///
/// ```
/// use neurogen_lab::events::Silent;
/// use neurogen_lab::schedule::{run_study, Options};
/// use neurogen_lab::store::{Row, RunStatus};
/// use neurogen_lab::study::{Arm, BoxError, RunCx, RunSpec, Study};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Clone, Serialize)]
/// struct Spec { group: String, repeat: usize, steps: usize }
/// impl RunSpec for Spec {
///     fn group(&self) -> &str { &self.group }
///     fn repeat(&self) -> usize { self.repeat }
/// }
///
/// #[derive(Clone, Serialize, Deserialize)]
/// struct Run { group: String, repeat: usize, config_hash: String, status: RunStatus, value: f64 }
/// impl Row for Run {
///     const COLUMNS: &'static [&'static str] =
///         &["group", "repeat", "config_hash", "status", "value"];
///     fn group(&self) -> &str { &self.group }
///     fn repeat(&self) -> usize { self.repeat }
///     fn config_hash(&self) -> &str { &self.config_hash }
///     fn status(&self) -> RunStatus { self.status }
/// }
///
/// struct Toy;
/// impl Study for Toy {
///     type Spec = Spec;
///     type Row = Run;
///     fn id(&self) -> &str { "toy" }
///     fn arms(&self) -> Vec<Arm<Spec>> {
///         ["Short", "Long"].iter().zip([1, 10]).map(|(name, steps)| {
///             Arm::new(&name.to_lowercase(), name, 3, |repeat| Spec {
///                 group: name.to_string(), repeat, steps,
///             })
///         }).collect()
///     }
///     fn run_batch(&self, _cx: &mut RunCx<'_>, batch: &[Spec]) -> Result<Vec<Run>, BoxError> {
///         batch.iter().map(|s| Ok(Run {
///             group: s.group.clone(), repeat: s.repeat, config_hash: s.hash()?,
///             status: RunStatus::Ok, value: (s.steps * (s.repeat + 1)) as f64,
///         })).collect()
///     }
/// }
///
/// let dir = tempfile::tempdir()?;
/// let rows = run_study(&Toy, dir.path(), &Options::default(), &mut Silent)?;
/// assert_eq!(rows.len(), 6);
/// // A second call finds every run recorded and trains nothing.
/// let again = run_study(&Toy, dir.path(), &Options::default(), &mut Silent)?;
/// assert_eq!(again.len(), 6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Study {
    /// Everything that determines one run.
    type Spec: RunSpec;
    /// One line of `runs.csv`.
    type Row: Row;

    /// The study's name (its output directory's name by convention); never renamed once
    /// results exist.
    fn id(&self) -> &str;

    /// The arms, in display order, each with its specs by repeat.
    fn arms(&self) -> Vec<Arm<Self::Spec>>;

    /// Which runs may train in one batch: runs with equal classes may. The default is the
    /// run's group (the repeats of one arm train together); a study whose arms can share one
    /// model returns what they must have in common (epochs, optimiser settings, ...).
    fn batch_class(&self, spec: &Self::Spec) -> Result<String, BoxError> {
        Ok(spec.group().to_string())
    }

    /// Trains `batch` (runs of one batch class) and returns one row per run, in the order of
    /// `batch`, each with the run's group, repeat and configuration hash. A failed run is a
    /// row with [`crate::store::RunStatus::Failed`]; an error stops the whole schedule, and
    /// the batch's runs are not recorded.
    fn run_batch(
        &self,
        cx: &mut RunCx<'_>,
        batch: &[Self::Spec],
    ) -> Result<Vec<Self::Row>, BoxError>;
}
