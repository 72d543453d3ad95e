//! Building the regulariser stack from `--regularizer` specs and TOML files.
use std::path::Path;

use anyhow::Context;
use neurogen_model::Regularizer;
use neurogen_regularizers::{RegularizerRecord, RegularizerSet};

/// The parsed regulariser settings.
pub type Set = RegularizerSet;

/// Parses `--regularizer` specs, then appends those of an optional TOML file; `quirks` (or the
/// file's `reference_quirks`) switches on the published code's behaviour.
pub fn parse_set(specs: &[String], file: Option<&Path>, quirks: bool) -> anyhow::Result<Set> {
    let mut set = RegularizerSet::from_specs(specs, quirks).context("--regularizer")?;
    if let Some(path) = file {
        let more = RegularizerSet::from_toml_file(path)
            .with_context(|| format!("--regularizer-config {}", path.display()))?;
        set.specs.extend(more.specs);
        set.reference_quirks |= more.reference_quirks;
        set.validate().context("combined regularisers")?;
    }
    Ok(set)
}

/// Builds the regulariser stack, seeded.
pub fn build(set: &Set, seed: u64) -> anyhow::Result<Box<dyn Regularizer>> {
    Ok(Box::new(neurogen_regularizers::build(set, seed)?))
}

/// A one-line description, e.g. `neurogenesis:n=8,... + dropout:p=0.2`
/// ([`RegularizerSet::describe`]).
pub fn describe(set: &Set) -> String {
    set.describe()
}

/// What checkpoints store under `regularizer`: the library's
/// [`neurogen_regularizers::RegularizerRecord`] (description, set, the run's report).
pub fn metadata(set: &Set, report: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
    Ok(RegularizerRecord::new(set, report.clone()).to_json())
}

/// Rebuilds a checkpoint's regularisers (for evaluation-mode hooks such as the reference's
/// dropout max-norm) from its metadata; no regulariser if the metadata records none (see
/// [`records_regularizers`]).
pub fn from_metadata(meta: &serde_json::Value) -> anyhow::Result<Box<dyn Regularizer>> {
    match RegularizerRecord::from_json(meta).context("checkpoint metadata: regulariser config")? {
        Some(record) => build(&record.config, 0),
        None => Ok(Box::new(neurogen_model::NoRegularizer)),
    }
}

/// Whether a checkpoint's `regularizer` metadata records its regularisers (an empty set counts:
/// a run without any); without, it cannot be evaluated as trained.
pub fn records_regularizers(meta: &serde_json::Value) -> bool {
    matches!(RegularizerRecord::from_json(meta), Ok(Some(_)))
}
