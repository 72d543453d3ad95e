//! `cargo xtask data ...` (filled in by the data issue).
use clap::Args;

/// Arguments of `cargo xtask data`.
#[derive(Args)]
pub struct DataArgs {}

/// Runs `cargo xtask data`.
pub fn run(_args: DataArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
