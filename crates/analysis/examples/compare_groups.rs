//! Compares groups of training runs with `neurogen-analysis`: per-group summaries, one-way
//! ANOVA, Tukey's HSD and pairwise Welch t-tests of one numeric column of a results CSV (what
//! `cargo xtask analyze` prints).
//!
//! ```sh
//! cargo run -p neurogen-analysis --example compare_groups -- [RUNS_CSV [VALUE_COLUMN [GROUP_COLUMN]]]
//! ```
//! Without arguments it reads the committed Fig. 2 results of the neurogen repository
//! (`docs/results/fig2-quick/runs.csv`, column `test_accuracy` by `group`), and skips with a
//! message where that file is absent (a packaged copy of this crate does not carry it).
use std::path::{Path, PathBuf};

use neurogen_analysis::report::{analyze_csv, GroupAnalysis};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().map(PathBuf::from).unwrap_or_else(default_csv);
    let value = args.next().unwrap_or_else(|| "test_accuracy".into());
    let group = args.next().unwrap_or_else(|| "group".into());
    run(&path, &value, &group)?;
    Ok(())
}

/// The committed Fig. 2 results of the neurogen repository.
pub fn default_csv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/results/fig2-quick/runs.csv")
}

/// Compares the `value` column of `path` by `group`, prints the tables and returns the
/// analysis (`None`: no such file, skipped).
pub fn run(
    path: &Path,
    value: &str,
    group: &str,
) -> Result<Option<GroupAnalysis>, Box<dyn std::error::Error>> {
    if !path.is_file() {
        eprintln!(
            "SKIP: {} not found (pass a results CSV: RUNS_CSV [VALUE_COLUMN [GROUP_COLUMN]])",
            path.display()
        );
        return Ok(None);
    }
    let analysis = analyze_csv(path, value, group)?;
    println!("{} by {} in {}\n", value, group, path.display());
    println!("{}", analysis.to_table());
    let best = analysis
        .groups
        .iter()
        .max_by(|a, b| a.summary.mean.total_cmp(&b.summary.mean))
        .expect("analyze_csv needs at least 2 groups");
    println!(
        "highest mean: {} ({:.2}, 95 % CI [{:.2}, {:.2}], n = {})",
        best.name, best.summary.mean, best.summary.ci95.0, best.summary.ci95.1, best.summary.n
    );
    Ok(Some(analysis))
}
