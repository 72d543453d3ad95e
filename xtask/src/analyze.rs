//! `cargo xtask analyze`: compare groups of a results CSV (one-way ANOVA, Tukey's HSD,
//! pairwise Welch t-tests). The analysis lives in `neurogen_analysis::report`; this only parses
//! flags and prints.
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

/// Flags of `cargo xtask analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Results CSV file with a header row.
    #[arg(long)]
    pub csv: PathBuf,
    /// Numeric column to compare (e.g. test_acc).
    #[arg(long)]
    pub value: String,
    /// Column whose values name the groups (e.g. regulariser).
    #[arg(long)]
    pub group: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the analysis and prints a table (or JSON with `--json`).
pub fn run(args: AnalyzeArgs) -> anyhow::Result<()> {
    if args.csv.is_dir() {
        anyhow::bail!(
            "--csv {}: is a directory, expected a CSV file (e.g. {})",
            args.csv.display(),
            args.csv.join("runs.csv").display()
        );
    }
    let analysis = neurogen_analysis::report::analyze_csv(&args.csv, &args.value, &args.group)
        .with_context(|| format!("cannot analyse {}", args.csv.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&analysis)?);
    } else {
        print!("{}", analysis.to_table());
    }
    Ok(())
}
