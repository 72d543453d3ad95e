//! `reproduce attention`: Lei, Benjamin & Kording's object-based attention study
//! (`neurogen_studies::lei2021_attention::study`) into `OUT/attention/`. This module only reads the
//! flags, loads Fashion-MNIST (or MNIST with `--dataset mnist --data DIR`) and prints the engine's progress; the study, its claims and its
//! report live in the studies crate.

use neurogen_studies::lei2021_attention::study::{
    self, AttentionScale, AttentionSettings, AttentionStudy,
};

use super::args::AttentionArgs;
use super::args::IdxDataset;
use super::study_cli::Lines;
use neurogen_studies::scale::ScaleName;

/// Runs the study at the scale `args` ask for (resuming what `OUT/attention/runs.csv` records) and
/// writes `OUT/attention/report.md`.
pub fn run(args: &AttentionArgs) -> anyhow::Result<()> {
    let common = &args.common;
    anyhow::ensure!(
        common.device == "cpu",
        "reproduce attention runs on the CPU (its networks are small); drop --device {}",
        common.device
    );
    let scale = match common.scale() {
        ScaleName::Smoke => AttentionScale::Smoke,
        ScaleName::Quick => AttentionScale::Quick,
        ScaleName::Paper => anyhow::bail!(
            "reproduce attention has scales smoke and quick only so far (paper is not sized yet)"
        ),
    };
    let mut settings = AttentionSettings::new(scale);
    if let Some(r) = common.checked_repeats("the claims' tests need two runs per network")? {
        settings.repeats = r;
    }
    if args.dataset == IdxDataset::Mnist {
        settings.dataset = "MNIST";
    }
    let loaded = super::study_cli::load_idx(args.dataset, &args.data, common)?;
    let attention = AttentionStudy::new(settings, &loaded.dataset)?;
    crate::common::ensure_dir(&common.out)?;
    let dir = common.out.join(study::STUDY_ID);
    if super::study_cli::shard_or_merge(&args.sharding, &attention, &dir, common.quiet)? {
        return Ok(());
    }
    let t0 = std::time::Instant::now();
    let out = study::run(
        &attention,
        &dir,
        &loaded.source.display().to_string(),
        &mut Lines {
            study: study::STUDY_ID,
            quiet: common.quiet,
        },
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    println!(
        "attention: {} runs; wrote {} ({:.0} s)",
        out.rows.len(),
        super::study_cli::report_written(&dir).display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
