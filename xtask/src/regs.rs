//! Building the regulariser stack from command-line specs and TOML files.
use std::path::Path;

use neurogen_model::{NoRegularizer, Regularizer};

/// The parsed regulariser settings (placeholder type until the regularizers crate is wired in).
pub type Set = Vec<String>;

/// Parses `--regularizer` specs and an optional TOML file.
pub fn parse_set(specs: &[String], file: Option<&Path>, quirks: bool) -> anyhow::Result<Set> {
    anyhow::ensure!(
        specs.is_empty() && file.is_none() && !quirks,
        "regularisers are not wired into the command line yet"
    );
    Ok(Vec::new())
}

/// Builds the stack.
pub fn build(_set: &Set, _seed: u64) -> anyhow::Result<Box<dyn Regularizer>> {
    Ok(Box::new(NoRegularizer))
}

/// A one-line description.
pub fn describe(set: &Set) -> String {
    if set.is_empty() {
        "control (no regulariser)".into()
    } else {
        set.join(" + ")
    }
}
