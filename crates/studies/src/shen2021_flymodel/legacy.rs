//! The former output format (`results.json` beside a `runs.csv` of other columns, written
//! before the study ran on the engine) converted to the engine's: one [`FlyRow`] per run, every
//! number as recorded, with the configuration hash its settings have now, and the features'
//! record (`features.json`). A converted directory resumes and re-derives its report like any
//! other; `results.json` itself is left in place (and no longer read).
use std::path::Path;

use neurogen_lab::store::{read_rows, write_rows, RUNS_FILE};
use neurogen_lab::study::RunSpec;
use neurogen_learners::features::ExtractorReport;
use neurogen_learners::IncrementalResult;
use serde::Deserialize;

use super::data::{FeatureRecord, FEATURE_RECORD};
use super::error::{FlyError, Result};
use super::settings::{Benchmark, FlyScale, Method};
use super::study::{spec, FlyRow};

/// The former store's file.
pub const LEGACY_FILE: &str = "results.json";

/// `results.json`: the settings, the extractor's record and every run.
#[derive(Debug, Deserialize)]
struct Results {
    scale: FlyScale,
    kind: Benchmark,
    #[serde(default)]
    images: Option<(usize, usize)>,
    #[serde(default)]
    extractor: Option<ExtractorReport>,
    runs: Vec<Run>,
}

/// One run of `results.json`.
#[derive(Debug, Deserialize)]
struct Run {
    method: String,
    repeat: usize,
    result: IncrementalResult,
    seconds: f64,
}

/// Converts the directory `dir` if it holds `results.json` and no `runs.csv` of the engine's
/// format: writes `runs.csv` (method by method, as the engine records them) and, when
/// `results.json` recorded the images, `features.json`. Returns the number of runs converted
/// (None: nothing to convert). A `results.json` that cannot be read is an error naming it.
pub fn convert(dir: &Path) -> Result<Option<usize>> {
    let path = dir.join(LEGACY_FILE);
    let runs = dir.join(RUNS_FILE);
    // Converted already (or written by the engine): runs.csv reads as this study's rows. An
    // interrupted former run may have left results.json without runs.csv.
    if !path.is_file() || (runs.is_file() && read_rows::<FlyRow>(&runs).is_ok()) {
        return Ok(None);
    }
    let bad = |problem: String| FlyError::Record {
        path: path.clone(),
        problem,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| bad(format!("cannot be read ({e})")))?;
    let res: Results = serde_json::from_str(&text).map_err(|e| {
        bad(format!(
            "is not a flymodel results.json ({e}); move it away"
        ))
    })?;
    if let Some(r) = res
        .runs
        .iter()
        .find(|r| Method::from_key(&r.method).is_none())
    {
        return Err(bad(format!(
            "holds a run of an unknown method {:?}",
            r.method
        )));
    }
    // Method by method, each by repeat, as the engine records a study's runs (one arm's
    // repeats after the other).
    let mut rows: Vec<FlyRow> = Vec::new();
    for m in Method::ALL {
        let mut runs: Vec<&Run> = res.runs.iter().filter(|r| r.method == m.key()).collect();
        runs.sort_by_key(|r| r.repeat);
        for r in runs {
            let hash = spec(&res.scale, res.kind, m, r.repeat).hash()?;
            rows.push(FlyRow::new(m, r.repeat, hash, &r.result, r.seconds)?);
        }
    }
    write_rows(&runs, &rows)?;
    if let Some((train_images, test_images)) = res.images {
        let record = FeatureRecord {
            train_images,
            test_images,
            extractor: res.extractor,
        };
        let json = serde_json::to_vec_pretty(&record).map_err(|e| bad(e.to_string()))?;
        neurogen_io::write_atomic(&dir.join(FEATURE_RECORD), &json)?;
    }
    Ok(Some(rows.len()))
}
