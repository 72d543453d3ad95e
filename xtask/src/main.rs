//! neurogen's command line (`cargo xtask ...`).
use clap::{Parser, Subcommand};

mod analyze;
mod bench;
mod common;
mod data;
mod eval;
mod regs;
mod reproduce;
mod train;

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
    /// Train one network; writes model.safetensors and metrics.json.
    Train(train::TrainArgs),
    /// Loss and accuracy of a checkpoint on a split.
    Eval(eval::EvalArgs),
    /// Reproduce a figure of Tran et al. (PNAS 2022) end to end.
    Reproduce(Box<reproduce::ReproduceArgs>),
    /// Measure speed: training and evaluation images per second.
    Bench(bench::BenchArgs),
}

fn main() -> anyhow::Result<()> {
    // Before any thread exists: keep candle's spin-waiting pool from competing with rayon
    // (about 3x faster training at batch 4 on 2 cores; see docs/performance.md).
    neurogen_model::runtime::prefer_rayon_threads();
    neurogen_model::runtime::tune_allocator();
    let cli = Cli::parse();
    match cli.command {
        Command::Data(args) => data::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Train(args) => train::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Reproduce(args) => reproduce::run(*args),
        Command::Bench(args) => bench::run(args),
    }
}
