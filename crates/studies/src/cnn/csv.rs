//! The rows of `runs.csv` ([`RunRecord`], one per run) and reading and writing the file.
//!
//! The columns, their order and the way values are written are the file's format: old output
//! directories are read back (and resumed) with this code.
use std::path::Path;

use neurogen_lab::store::{read_rows, write_rows, Row, StoreError};
use serde::{Deserialize, Serialize};

pub use neurogen_lab::store::RunStatus;

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
    /// Whether the run finished (`ok`) or diverged (`failed`).
    pub status: RunStatus,
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
    /// Wall time of the run in seconds: of its whole replica batch when it trained with others
    /// ([`RunRecord::replicas`]; see [`RunRecord::share_of_wall`]).
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

impl RunRecord {
    /// The run's share of its batch's wall time (`wall_seconds / replicas`): summed over a
    /// figure's runs, the wall time its batches took (summing `wall_seconds` would count a
    /// batch once per replica).
    pub fn share_of_wall(&self) -> f64 {
        self.wall_seconds / self.replicas.max(1) as f64
    }
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

/// `runs.csv` rows for the engine ([`neurogen_lab::store`]): its columns ([`RUNS_COLUMNS`],
/// and the older header without `replicas`), and the run's key, hash and status. Merging
/// shards ([`neurogen_lab::shard::merge()`]): two recordings of a run agree when every column
/// but the timing, the device's name and the replicas it trained with is equal; a successful
/// run saved its checkpoint.
impl Row for RunRecord {
    const COLUMNS: &'static [&'static str] = &RUNS_COLUMNS;
    const WRITTEN_BY: &'static str = "reproduce";
    const VOLATILE_COLUMNS: &'static [&'static str] =
        &["device", "wall_seconds", "images_per_second", "replicas"];

    fn saved_files(&self) -> Vec<String> {
        vec![self.checkpoint.clone()]
    }

    fn older_columns() -> Vec<&'static [&'static str]> {
        vec![&RUNS_COLUMNS[..RUNS_COLUMNS.len() - 1]]
    }

    neurogen_lab::row_identity!();

    /// Group, repeat, outcome (test and train accuracy, or why it failed), wall time.
    fn summary(&self) -> String {
        let pct = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |a| format!("{a:.2} %"));
        let outcome = match self.status {
            RunStatus::Ok => format!(
                "test accuracy {}, train {}",
                pct(self.test_accuracy),
                pct(self.train_accuracy)
            ),
            RunStatus::Failed => format!("failed: {}", self.message),
        };
        format!(
            "{} r{}: {outcome}, {:.0} s",
            self.group, self.repeat, self.wall_seconds
        )
    }
}

/// Reads `runs.csv` (empty if absent or empty, as [`write_runs`] writes no rows). A file that
/// cannot be read as a whole (a header that is not [`RUNS_COLUMNS`], a damaged or truncated
/// row) is an error naming the file, the line and the problem, so that it is never
/// overwritten ([`neurogen_lab::store::read_rows`]).
pub fn read_runs(path: &Path) -> Result<Vec<RunRecord>, StoreError> {
    read_rows(path)
}

/// Writes `runs.csv` atomically ([`neurogen_lab::store::write_rows`]).
pub fn write_runs(path: &Path, rows: &[RunRecord]) -> Result<(), StoreError> {
    write_rows(path, rows)
}

/// The values `pick` reads from the successful runs of the group displayed as `group`, ordered
/// by repeat (runs without a value are left out).
pub fn ok_values(
    rows: &[RunRecord],
    group: &str,
    pick: impl Fn(&RunRecord) -> Option<f64>,
) -> Vec<f64> {
    let mut v: Vec<(usize, f64)> = rows
        .iter()
        .filter(|r| r.group == group && r.status == RunStatus::Ok)
        .filter_map(|r| pick(r).map(|a| (r.repeat, a)))
        .collect();
    v.sort_by_key(|(k, _)| *k);
    v.into_iter().map(|(_, a)| a).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_csv_without_the_replicas_column_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.csv");
        let mut w = ::csv::Writer::from_writer(Vec::new());
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
            status: RunStatus::Ok,
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
        // A batch of 3 took 1 s: each run's share is a third.
        assert_eq!(row.share_of_wall(), 1.0 / 3.0);
        let rows = read_runs(&path).unwrap();
        assert_eq!(rows[0].replicas, 1);
        assert_eq!(rows[0].share_of_wall(), 1.0);
        assert_eq!(rows[0].test_accuracy, Some(40.0));
    }

    #[test]
    fn a_merge_compares_every_column_but_timing_device_and_replicas() {
        // The columns a run's results determine: all but these four, as before the merge
        // moved into the engine.
        let volatile = <RunRecord as Row>::VOLATILE_COLUMNS;
        assert!(
            volatile.iter().all(|c| RUNS_COLUMNS.contains(c)),
            "{volatile:?}"
        );
        assert_eq!(
            volatile,
            ["device", "wall_seconds", "images_per_second", "replicas"]
        );
    }

    #[test]
    fn status_is_written_as_ok_or_failed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.csv");
        std::fs::write(
            &path,
            "figure,group,repeat,seed,config_hash,regularizers,reference_quirks,epochs,batch_size,lr,\
             train_images,test_images,device,status,message,train_accuracy,train_loss,test_accuracy,\
             test_loss,neurogenesis_events,wall_seconds,images_per_second,checkpoint,replicas\n\
             fig3,Control,0,0,ab,none,false,1,4,0.001,8,8,cpu,ok,,50.0,1.0,40.0,1.2,0,1.0,8.0,c,1\n\
             fig3,Control,1,1,ab,none,false,1,4,0.001,8,8,cpu,failed,diverged,,,,,0,1.0,0.0,,1\n",
        )
        .unwrap();
        let rows = read_runs(&path).unwrap();
        assert_eq!(rows[0].status, RunStatus::Ok);
        assert_eq!(rows[1].status, RunStatus::Failed);
        let again = dir.path().join("again.csv");
        write_runs(&again, &rows).unwrap();
        assert_eq!(
            std::fs::read_to_string(&again).unwrap(),
            std::fs::read_to_string(&path).unwrap()
        );
        std::fs::write(
            &path,
            std::fs::read_to_string(&path)
                .unwrap()
                .replace(",failed,", ",FAILED,"),
        )
        .unwrap();
        assert!(read_runs(&path).is_err(), "an unknown status is refused");
    }
}
