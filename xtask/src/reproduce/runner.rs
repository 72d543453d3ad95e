//! Running a figure's training runs: one row per run in `runs.csv`, recorded atomically,
//! resumable, with progress bars.
//!
//! Crash safety: a run's checkpoint and curves are written (atomically) before its row is added
//! to `runs.csv` (rewritten atomically), so a kill at any moment leaves every recorded run
//! complete; a run killed before its row was written is simply run again. Each row carries a
//! hash of the run's full configuration; a rerun with a changed configuration stops with an
//! error instead of silently reusing old runs.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use neurogen_data::Split;
use neurogen_model::checkpoint::{self, CheckpointMeta};
use neurogen_model::{
    device_name, evaluate_with, AdamConfig, Cnn, ModelConfig, ModelError, NoRegularizer,
    Regularizer, TrainConfig, TrainMetrics,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::common::{write_json_atomic, ProgressObserver};
use crate::regs;

/// One group of a figure: a name and its regularisers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Display name (e.g. `Neurogenesis + Dropout`).
    pub name: String,
    /// Regulariser specs (as for `--regularizer`), combined in order.
    pub specs: Vec<String>,
    /// Epochs for this group.
    pub epochs: usize,
}

/// The data a figure trains and tests on.
pub struct FigureData {
    /// Dataset name (e.g. `cifar10`).
    pub dataset: String,
    /// Training images.
    pub train: Split,
    /// Held-out images for per-epoch curves (validation, or test when `validation` is false).
    pub curve: Split,
    /// Name of the curve split.
    pub curve_name: String,
    /// Test images.
    pub test: Split,
    /// The network for this data.
    pub model: ModelConfig,
}

/// Everything that determines a run's result (hashed for resuming).
#[derive(Debug, Clone, Serialize)]
pub struct RunSpec {
    /// Figure (e.g. `fig3`).
    pub figure: String,
    /// Group name.
    pub group: String,
    /// Repeat index (also the seed of the initial weights, minibatch order and regularisers).
    pub repeat: usize,
    /// Regulariser specs.
    pub specs: Vec<String>,
    /// Reproduce the published code's quirks.
    pub reference_quirks: bool,
    /// Epochs.
    pub epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Learning rate.
    pub lr: f64,
    /// Dataset name.
    pub dataset: String,
    /// Training images.
    pub train_images: usize,
    /// Test images.
    pub test_images: usize,
    /// Name of the split of the per-epoch curves.
    pub curve_split: String,
    /// The network.
    pub model: ModelConfig,
}

impl RunSpec {
    /// A stable hash of the whole configuration.
    pub fn hash(&self) -> String {
        let json = serde_json::to_string(self).expect("RunSpec serialises");
        let digest = Sha256::digest(json.as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// File-name stem of this run (`neurogenesis-dropout-r03`).
    pub fn stem(&self) -> String {
        format!("{}-r{:02}", slug(&self.group), self.repeat)
    }
}

/// A file-name-safe form of a group name.
pub fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-').to_string()
}

/// One row of `runs.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Figure.
    pub figure: String,
    /// Group name.
    pub group: String,
    /// Repeat index.
    pub repeat: usize,
    /// Seed (= repeat).
    pub seed: u64,
    /// Hash of the run's configuration.
    pub config_hash: String,
    /// Regulariser specs joined with ` + `.
    pub regularizers: String,
    /// Reference quirks on or off.
    pub reference_quirks: bool,
    /// Epochs.
    pub epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Learning rate.
    pub lr: f64,
    /// Training images.
    pub train_images: usize,
    /// Test images.
    pub test_images: usize,
    /// Device the run trained on.
    pub device: String,
    /// `ok` or `failed`.
    pub status: String,
    /// Failure reason (empty when ok).
    pub message: String,
    /// Final training accuracy (eval mode), percent.
    pub train_accuracy: Option<f64>,
    /// Final training loss (eval mode).
    pub train_loss: Option<f64>,
    /// Final test accuracy, percent.
    pub test_accuracy: Option<f64>,
    /// Final test loss.
    pub test_loss: Option<f64>,
    /// Neurogenesis events (0 without neurogenesis).
    pub neurogenesis_events: u64,
    /// Wall time of the run in seconds.
    pub wall_seconds: f64,
    /// Training images per second.
    pub images_per_second: f64,
    /// Checkpoint file, relative to the figure's directory.
    pub checkpoint: String,
    /// Networks trained together with this one as replicas (1: alone). `wall_seconds` is the
    /// whole replica batch's time. Replicas give the same results as separate runs.
    #[serde(default = "one")]
    pub replicas: usize,
}

fn one() -> usize {
    1
}

/// Per-run curves, saved beside the checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunCurves {
    /// Per-epoch mean training loss.
    pub train_loss: Vec<f64>,
    /// Per-epoch held-out loss.
    pub curve_loss: Vec<f64>,
    /// Per-epoch held-out accuracy.
    pub curve_accuracy: Vec<f64>,
    /// The regulariser's report.
    pub regularizer: serde_json::Value,
}

/// The columns of `runs.csv`, in order ([`RunRecord`]'s fields). Files written before the
/// `replicas` column existed lack only the last one and still read.
pub const RUNS_COLUMNS: [&str; 24] = [
    "figure",
    "group",
    "repeat",
    "seed",
    "config_hash",
    "regularizers",
    "reference_quirks",
    "epochs",
    "batch_size",
    "lr",
    "train_images",
    "test_images",
    "device",
    "status",
    "message",
    "train_accuracy",
    "train_loss",
    "test_accuracy",
    "test_loss",
    "neurogenesis_events",
    "wall_seconds",
    "images_per_second",
    "checkpoint",
    "replicas",
];

/// Reads `runs.csv` (empty if absent or empty, as [`write_runs`] writes no rows). A file that
/// cannot be read as a whole (a header that is not [`RUNS_COLUMNS`], a damaged or truncated
/// row) is an error naming the file and the problem, so that it is never overwritten.
pub fn read_runs(path: &Path) -> anyhow::Result<Vec<RunRecord>> {
    if !path.exists() || std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        return Ok(Vec::new());
    }
    let kept = "it was left unchanged and nothing was written; move it away or repair it";
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let header = rdr
        .headers()
        .with_context(|| format!("{}: the header cannot be read ({kept})", path.display()))?;
    let found: Vec<&str> = header.iter().collect();
    if found != RUNS_COLUMNS && found != RUNS_COLUMNS[..RUNS_COLUMNS.len() - 1] {
        anyhow::bail!(
            "{} is not a runs.csv written by reproduce: its header is {found:?}, expected the \
             columns {RUNS_COLUMNS:?} (older files: without the last); {kept}",
            path.display()
        );
    }
    let mut rows = Vec::new();
    for (i, r) in rdr.deserialize().enumerate() {
        let row: RunRecord =
            r.with_context(|| format!("{}: row {} is damaged ({kept})", path.display(), i + 2))?;
        rows.push(row);
    }
    Ok(rows)
}

/// Writes `runs.csv` atomically.
pub fn write_runs(path: &Path, rows: &[RunRecord]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))?;
    Ok(neurogen_io::write_atomic(path, &bytes)?)
}

/// Settings shared by all runs of an invocation.
pub struct RunOptions<'a> {
    /// The figure's directory (`OUT/figN`).
    pub dir: PathBuf,
    /// Figure name.
    pub figure: String,
    /// Compute device.
    pub device: candle_core::Device,
    /// Reproduce the published code's quirks.
    pub reference_quirks: bool,
    /// Minibatch size.
    pub batch_size: usize,
    /// Learning rate.
    pub lr: f64,
    /// Repeats of a group trained together as replicas (1: one run at a time).
    pub replicas: usize,
    /// Progress display (hidden in tests).
    pub progress: &'a MultiProgress,
    /// Whether to show bars.
    pub quiet: bool,
}

/// Runs every (group, repeat) not yet in `runs.csv`; returns all rows of this figure's groups.
pub fn run_groups(
    opts: &RunOptions,
    data: &FigureData,
    groups: &[Group],
    repeats: usize,
) -> anyhow::Result<Vec<RunRecord>> {
    std::fs::create_dir_all(opts.dir.join("checkpoints"))
        .with_context(|| format!("cannot create {}", opts.dir.display()))?;
    std::fs::create_dir_all(opts.dir.join("curves"))?;
    let csv_path = opts.dir.join("runs.csv");
    let mut rows = read_runs(&csv_path)?;
    let mut specs = Vec::new();
    for r in 0..repeats {
        for g in groups {
            specs.push(RunSpec {
                figure: opts.figure.clone(),
                group: g.name.clone(),
                repeat: r,
                specs: g.specs.clone(),
                reference_quirks: opts.reference_quirks,
                epochs: g.epochs,
                batch_size: opts.batch_size,
                lr: opts.lr,
                dataset: data.dataset.clone(),
                train_images: data.train.len(),
                test_images: data.test.len(),
                curve_split: data.curve_name.clone(),
                model: data.model.clone(),
            });
        }
    }
    // Validate every spec before any training, so a typo fails at once.
    for s in &specs {
        regs::parse_set(&s.specs, None, s.reference_quirks)
            .with_context(|| format!("group {:?}", s.group))?;
    }
    let done: BTreeMap<(String, usize), &RunRecord> = rows
        .iter()
        .map(|r| ((r.group.clone(), r.repeat), r))
        .collect();
    let mut todo = Vec::new();
    for s in &specs {
        match done.get(&(s.group.clone(), s.repeat)) {
            Some(r) if r.config_hash == s.hash() => {}
            Some(r) => anyhow::bail!(
                "{} already holds run {:?} repeat {} with a different configuration (hash {} vs {} now: \
                 scale, epochs, data, regularisers or quirks changed); use another --out, or delete that directory to start over",
                csv_path.display(),
                r.group,
                r.repeat,
                r.config_hash,
                s.hash()
            ),
            None => todo.push(s.clone()),
        }
    }
    let total = specs.len();
    let overall = opts.progress.add(if opts.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total as u64)
    });
    overall.set_style(
        ProgressStyle::with_template(
            "{prefix} runs {pos}/{len} [{elapsed_precise}, about {eta} left] {msg}",
        )
        .expect("valid template"),
    );
    overall.set_prefix(opts.figure.clone());
    overall.set_position((total - todo.len()) as u64);
    if todo.len() < total && !opts.quiet {
        overall.println(format!(
            "{}: resuming, {} of {total} runs already recorded in {}",
            opts.figure,
            total - todo.len(),
            csv_path.display()
        ));
    }
    let mut todo_time = 0.0;
    let mut finished = 0usize;
    for batch in replica_batches(&todo, groups, opts.replicas.max(1)) {
        overall.set_message(batch_label(&batch));
        let t0 = Instant::now();
        let new_rows = run_batch(opts, data, &batch)?;
        todo_time += t0.elapsed().as_secs_f64();
        for row in new_rows {
            rows.retain(|r| !(r.group == row.group && r.repeat == row.repeat));
            rows.push(row);
        }
        // One atomic write per batch: a kill leaves either all of its runs or none.
        write_runs(&csv_path, &rows)?;
        overall.inc(batch.len() as u64);
        finished += batch.len();
        let left = todo.len() - finished;
        if left > 0 {
            overall.set_message(format!(
                "~{:.0} s left",
                todo_time / finished as f64 * left as f64
            ));
        }
    }
    overall.finish_and_clear();
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    Ok(rows
        .into_iter()
        .filter(|r| names.contains(&r.group.as_str()) && r.repeat < repeats)
        .collect())
}

/// The runs still to do, as batches of at most `k` repeats of one group (trained together as
/// replicas), groups in figure order, repeats in order.
fn replica_batches(todo: &[RunSpec], groups: &[Group], k: usize) -> Vec<Vec<RunSpec>> {
    let mut out = Vec::new();
    for g in groups {
        let mine: Vec<RunSpec> = todo.iter().filter(|s| s.group == g.name).cloned().collect();
        for chunk in mine.chunks(k) {
            out.push(chunk.to_vec());
        }
    }
    out
}

/// `Neurogenesis r0` or `Neurogenesis r0-r3`.
fn batch_label(batch: &[RunSpec]) -> String {
    match (batch.first(), batch.last()) {
        (Some(a), Some(b)) if batch.len() > 1 => format!("{} r{}-r{}", a.group, a.repeat, b.repeat),
        (Some(a), _) => format!("{} r{}", a.group, a.repeat),
        _ => String::new(),
    }
}

/// A finished run's metrics, or what stopped it.
type Outcome = Result<TrainMetrics, ModelError>;

/// What one run trains with: seed (= repeat), regularisers, initial network and settings.
struct Prepared {
    seed: u64,
    set: regs::Set,
    reg: Box<dyn Regularizer>,
    model: Cnn,
    cfg: TrainConfig,
}

fn prepare(opts: &RunOptions, data: &FigureData, spec: &RunSpec) -> anyhow::Result<Prepared> {
    let seed = spec.repeat as u64;
    let set = regs::parse_set(&spec.specs, None, spec.reference_quirks)?;
    let reg = regs::build(&set, seed)?;
    let model = Cnn::new(&data.model, seed, &opts.device)?;
    let cfg = TrainConfig {
        epochs: spec.epochs,
        batch_size: spec.batch_size,
        adam: AdamConfig {
            lr: spec.lr,
            ..AdamConfig::default()
        },
        seed,
        eval_every_epoch: true,
        eval_train_at_end: true,
        eval_batch_size: neurogen_model::EVAL_BATCH,
    };
    Ok(Prepared {
        seed,
        set,
        reg,
        model,
        cfg,
    })
}

/// Trains one batch of runs (one group's repeats) as replicas, or alone when the batch holds
/// one run, and records each (checkpoint, curves, row).
fn run_batch(
    opts: &RunOptions,
    data: &FigureData,
    batch: &[RunSpec],
) -> anyhow::Result<Vec<RunRecord>> {
    let mut prepared = batch
        .iter()
        .map(|s| prepare(opts, data, s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let spec0 = &batch[0];
    let steps =
        neurogen_model::train::training_batches(data.train.len(), spec0.batch_size, 0, 0).len();
    let mut obs = ProgressObserver::new(
        spec0.epochs,
        steps,
        spec0.batch_size * batch.len(),
        &format!("  {}", batch_label(batch)),
        opts.quiet,
    )
    .in_multi(opts.progress);
    let t0 = Instant::now();
    let eval = Some((data.curve_name.as_str(), &data.curve));
    // One loop for every batch size: a single run is one replica.
    let models: Vec<Cnn> = prepared.iter().map(|p| p.model.clone()).collect();
    let mut net = Cnn::stack(&models)?;
    let cfgs: Vec<TrainConfig> = prepared.iter().map(|p| p.cfg.clone()).collect();
    let mut stacks: Vec<Box<dyn Regularizer>> = prepared
        .iter_mut()
        .map(|p| std::mem::replace(&mut p.reg, Box::new(NoRegularizer)))
        .collect();
    let (runs, _adam) =
        neurogen_model::train_replicas(&mut net, &data.train, eval, &cfgs, &mut stacks, &mut obs)
            .with_context(|| format!("training {}", batch_label(batch)))?;
    for (p, s) in prepared.iter_mut().zip(stacks) {
        p.reg = s;
    }
    let results = runs
        .into_iter()
        .enumerate()
        .map(|(r, res)| Ok((net.replica(r)?, res)))
        .collect::<anyhow::Result<Vec<(Cnn, Outcome)>>>()?;
    obs.finish();
    let wall = t0.elapsed().as_secs_f64();
    let mut rows = Vec::with_capacity(batch.len());
    for ((spec, mut p), (model, result)) in batch.iter().zip(prepared).zip(results) {
        rows.push(record(
            opts,
            data,
            spec,
            &mut p,
            &model,
            result,
            wall,
            batch.len(),
        )?);
    }
    Ok(rows)
}

/// Saves one finished run (checkpoint and curves, atomically) and returns its row; a diverged
/// run becomes a `failed` row.
#[allow(clippy::too_many_arguments)]
fn record(
    opts: &RunOptions,
    data: &FigureData,
    spec: &RunSpec,
    p: &mut Prepared,
    model: &Cnn,
    result: Outcome,
    wall: f64,
    replicas: usize,
) -> anyhow::Result<RunRecord> {
    let seed = p.seed;
    let stem = spec.stem();
    let ck_rel = format!("checkpoints/{stem}.safetensors");
    let mut row = RunRecord {
        figure: spec.figure.clone(),
        group: spec.group.clone(),
        repeat: spec.repeat,
        seed,
        config_hash: spec.hash(),
        regularizers: if spec.specs.is_empty() {
            "none".into()
        } else {
            spec.specs.join(" + ")
        },
        reference_quirks: spec.reference_quirks,
        epochs: spec.epochs,
        batch_size: spec.batch_size,
        lr: spec.lr,
        train_images: spec.train_images,
        test_images: spec.test_images,
        device: device_name(&opts.device),
        status: "ok".into(),
        message: String::new(),
        train_accuracy: None,
        train_loss: None,
        test_accuracy: None,
        test_loss: None,
        neurogenesis_events: 0,
        wall_seconds: wall,
        images_per_second: 0.0,
        checkpoint: String::new(),
        replicas,
    };
    let metrics = match result {
        Ok(m) => m,
        Err(e @ ModelError::Diverged { .. }) => {
            row.status = "failed".into();
            row.message = e.to_string();
            opts.progress
                .println(format!("  {} r{}: FAILED: {e}", spec.group, spec.repeat))
                .ok();
            return Ok(row);
        }
        Err(e) => {
            return Err(e).with_context(|| format!("run {} repeat {}", spec.group, spec.repeat))
        }
    };
    let test = if data.curve_name == "test" {
        metrics.final_eval.expect("evaluated at the last epoch")
    } else {
        evaluate_with(model, &data.test, neurogen_model::EVAL_BATCH, &mut p.reg)?
    };
    let train = metrics.final_train.expect("eval_train_at_end is set");
    row.train_accuracy = Some(100.0 * train.accuracy);
    row.train_loss = Some(train.loss);
    row.test_accuracy = Some(100.0 * test.accuracy);
    row.test_loss = Some(test.loss);
    row.neurogenesis_events = regs::event_count(&metrics.regularizer);
    row.images_per_second = metrics.images_per_second;
    row.checkpoint = ck_rel.clone();
    let curves = RunCurves {
        train_loss: metrics.epochs.iter().map(|e| e.train_loss).collect(),
        curve_loss: metrics
            .epochs
            .iter()
            .filter_map(|e| e.eval.map(|v| v.loss))
            .collect(),
        curve_accuracy: metrics
            .epochs
            .iter()
            .filter_map(|e| e.eval.map(|v| v.accuracy))
            .collect(),
        regularizer: metrics.regularizer.clone(),
    };
    let meta = CheckpointMeta {
        regularizer: regs::metadata(&p.set, &metrics.regularizer)?,
        epoch: spec.epochs,
        seed,
        dataset: data.dataset.clone(),
        metrics: serde_json::to_value(&metrics)?,
        ..CheckpointMeta::for_model(model)
    };
    checkpoint::save(model, &meta, &opts.dir.join(&ck_rel))?;
    write_json_atomic(&opts.dir.join(format!("curves/{stem}.json")), &curves)?;
    Ok(row)
}

/// Reads the curves of a recorded run.
pub fn read_curves(dir: &Path, row: &RunRecord) -> anyhow::Result<RunCurves> {
    let path = dir.join(format!(
        "curves/{}-r{:02}.json",
        slug(&row.group),
        row.repeat
    ));
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is damaged", path.display()))
}

/// Test accuracies (percent) of the successful runs of `group`, ordered by repeat.
pub fn accuracies(rows: &[RunRecord], group: &str) -> Vec<f64> {
    values(rows, group, |r| r.test_accuracy)
}

/// Training accuracies (percent) of the successful runs of `group`, ordered by repeat.
pub fn train_accuracies(rows: &[RunRecord], group: &str) -> Vec<f64> {
    values(rows, group, |r| r.train_accuracy)
}

fn values(rows: &[RunRecord], group: &str, pick: impl Fn(&RunRecord) -> Option<f64>) -> Vec<f64> {
    let mut v: Vec<(usize, f64)> = rows
        .iter()
        .filter(|r| r.group == group && r.status == "ok")
        .filter_map(|r| pick(r).map(|a| (r.repeat, a)))
        .collect();
    v.sort_by_key(|(k, _)| *k);
    v.into_iter().map(|(_, a)| a).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(group: &str, repeat: usize) -> RunSpec {
        RunSpec {
            figure: "fig3".into(),
            group: group.into(),
            repeat,
            specs: vec![],
            reference_quirks: false,
            epochs: 1,
            batch_size: 4,
            lr: 2e-4,
            dataset: "cifar10".into(),
            train_images: 8,
            test_images: 8,
            curve_split: "test".into(),
            model: ModelConfig::cifar10(),
        }
    }

    #[test]
    fn batches_hold_one_group_and_at_most_k_repeats() {
        let groups: Vec<Group> = ["A", "B"]
            .iter()
            .map(|n| Group {
                name: n.to_string(),
                specs: vec![],
                epochs: 1,
            })
            .collect();
        // Repeat-major, as run_groups lists them; repeat 1 of A already done.
        let todo = vec![
            spec("A", 0),
            spec("B", 0),
            spec("B", 1),
            spec("A", 2),
            spec("B", 2),
        ];
        let b = replica_batches(&todo, &groups, 2);
        let names: Vec<String> = b.iter().map(|x| batch_label(x)).collect();
        assert_eq!(names, ["A r0-r2", "B r0-r1", "B r2"]);
        assert_eq!(replica_batches(&todo, &groups, 1).len(), 5);
    }

    #[test]
    fn runs_csv_without_the_replicas_column_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.csv");
        let mut w = csv::Writer::from_writer(Vec::new());
        let row = RunRecord {
            figure: "fig3".into(),
            group: "Control".into(),
            repeat: 0,
            seed: 0,
            config_hash: "ab".into(),
            regularizers: "none".into(),
            reference_quirks: false,
            epochs: 1,
            batch_size: 4,
            lr: 2e-4,
            train_images: 8,
            test_images: 8,
            device: "cpu".into(),
            status: "ok".into(),
            message: String::new(),
            train_accuracy: Some(50.0),
            train_loss: Some(1.0),
            test_accuracy: Some(40.0),
            test_loss: Some(1.2),
            neurogenesis_events: 0,
            wall_seconds: 1.0,
            images_per_second: 8.0,
            checkpoint: "c".into(),
            replicas: 3,
        };
        w.serialize(&row).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        // Drop the last column, as files written before it existed lack it.
        let old: String = text
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
            .collect();
        std::fs::write(&path, old).unwrap();
        let rows = read_runs(&path).unwrap();
        assert_eq!(rows[0].replicas, 1);
        // The current header is RUNS_COLUMNS, which read_runs checks.
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        assert_eq!(header, RUNS_COLUMNS);
        std::fs::write(&path, &text).unwrap();
        assert_eq!(read_runs(&path).unwrap()[0], row);
        // Another CSV file, or garbage, is refused naming the file; nothing is rewritten.
        for bad in [
            "garbage,\"unterminated",
            "a,b\n1,2\n",
            &text.replacen("config_hash", "hash", 1),
        ] {
            std::fs::write(&path, bad).unwrap();
            let e = format!("{:#}", read_runs(&path).unwrap_err());
            assert!(
                e.contains("runs.csv") && e.contains("left unchanged"),
                "{e}"
            );
            assert_eq!(std::fs::read_to_string(&path).unwrap(), bad);
        }
        // A damaged row (a number that is not one) names the row.
        std::fs::write(&path, text.replacen(",4,", ",four,", 1)).unwrap();
        let e = format!("{:#}", read_runs(&path).unwrap_err());
        assert!(e.contains("row 2 is damaged"), "{e}");
        assert_eq!(rows[0].test_accuracy, Some(40.0));
    }
}
