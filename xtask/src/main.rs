//! neurogen's command line (`cargo xtask ...`).
use clap::{Parser, Subcommand};

mod analyze;
mod data;

/// neurogen: reproduce Tran et al. (PNAS 2022) and study brain-inspired regularisers.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inspect datasets (CIFAR-10, Fashion-MNIST).
    Data(data::DataArgs),
    /// Compare groups in a results CSV: one-way ANOVA, Tukey's HSD, pairwise Welch t-tests.
    Analyze(analyze::AnalyzeArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Data(args) => data::run(args),
        Command::Analyze(args) => analyze::run(args),
    }
}
