//! Building the regulariser stack from `--regularizer` specs and TOML files.
use std::path::Path;

use anyhow::Context;
use neurogen_model::Regularizer;
use neurogen_regularizers::RegularizerSet;

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

/// A one-line description, e.g. `neurogenesis:n=8,... + dropout:p=0.2`.
pub fn describe(set: &Set) -> String {
    if set.specs.is_empty() {
        "control (no regulariser)".into()
    } else {
        let s: Vec<String> = set.specs.iter().map(|r| r.to_string()).collect();
        format!(
            "{}{}",
            s.join(" + "),
            if set.reference_quirks {
                " (reference quirks)"
            } else {
                ""
            }
        )
    }
}

/// What checkpoints store under `regularizer`: the description, the set, and the run's report.
pub fn metadata(set: &Set, report: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
    Ok(
        serde_json::json!({ "spec": describe(set), "config": serde_json::to_value(set)?, "report": report }),
    )
}

/// Rebuilds a checkpoint's regularisers (for evaluation-mode hooks such as the reference's
/// dropout max-norm) from its metadata; no regulariser if the metadata has none.
pub fn from_metadata(meta: &serde_json::Value) -> anyhow::Result<Box<dyn Regularizer>> {
    match meta.get("config") {
        Some(cfg) if !cfg.is_null() => {
            let set: Set = serde_json::from_value(cfg.clone())
                .context("checkpoint metadata: regulariser config")?;
            build(&set, 0)
        }
        _ => Ok(Box::new(neurogen_model::NoRegularizer)),
    }
}

/// Number of neurogenesis events in a regulariser report (0 if none): the length of every
/// `events` array, or the value of every `events`/`event_count` number, found anywhere in it.
pub fn event_count(report: &serde_json::Value) -> u64 {
    use serde_json::Value;
    match report {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| match (k.as_str(), v) {
                ("events" | "event_count", Value::Number(n)) => n.as_u64().unwrap_or(0),
                ("events", Value::Array(a)) => a.len() as u64,
                _ => event_count(v),
            })
            .sum(),
        Value::Array(a) => a.iter().map(event_count).sum(),
        _ => 0,
    }
}
