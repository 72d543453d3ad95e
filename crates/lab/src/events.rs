//! Progress as events: the engine says what happens ([`Event`]) and an [`Observer`] shows it
//! (a command line draws bars and prints lines; a test records; [`Silent`] ignores).
use std::path::PathBuf;

/// Something that happened while a study's runs were scheduled and trained.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The schedule starts: `recorded` of `total` runs are already in `file` (a resume when
    /// `recorded > 0`).
    Started {
        /// The store's `runs.csv`.
        file: PathBuf,
        /// Runs of the schedule.
        total: usize,
        /// Of which already recorded.
        recorded: usize,
    },
    /// A batch starts training.
    BatchStarted {
        /// `Control r0-r3`, or `12 runs: A r0 … E r1` ([`crate::schedule::batch_label`]).
        label: String,
        /// Runs in the batch.
        runs: usize,
    },
    /// A batch's rows were written to the store.
    BatchRecorded {
        /// Runs in the batch.
        runs: usize,
        /// Runs recorded now, of `total`.
        recorded: usize,
        /// Runs of the schedule.
        total: usize,
        /// Estimated seconds until the last run is recorded (none when it is): the mean time
        /// of the batches so far, per run, times the runs left.
        seconds_left: Option<f64>,
        /// Each run of the batch in a few words ([`crate::store::Row::summary`]).
        summaries: Vec<String>,
    },
    /// Every run of the schedule is recorded.
    Finished {
        /// Runs of the schedule, all recorded.
        total: usize,
    },
    /// A line from the study's own code ([`crate::study::RunCx::note`]).
    Note(String),
}

/// Receives the engine's [`Event`]s.
pub trait Observer {
    /// Called once per event, in order.
    fn event(&mut self, event: &Event);
}

/// An observer that ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {
    fn event(&mut self, _event: &Event) {}
}

/// An observer that keeps every event (for tests and for callers that render afterwards).
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    /// The events so far, in order.
    pub events: Vec<Event>,
}

impl Observer for Recorder {
    fn event(&mut self, event: &Event) {
        self.events.push(event.clone());
    }
}

/// `secs` for a person: `40 s`, `12 min`, `3 h 05 min` (negative is `0 s`).
///
/// ```
/// use neurogen_lab::events::duration;
/// assert_eq!(duration(99.0), "99 s");
/// assert_eq!(duration(100.0), "2 min");
/// assert_eq!(duration(6_000.0), "1 h 40 min");
/// ```
pub fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..=99 => format!("{s} s"),
        100..=5_999 => format!("{} min", (s + 30) / 60),
        _ => {
            let m = (s + 30) / 60;
            format!("{} h {:02} min", m / 60, m % 60)
        }
    }
}
