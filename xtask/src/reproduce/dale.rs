//! `reproduce dale`: Cornford et al.'s Dale's-principle study
//! (`neurogen_studies::cornford2021_dale::study`) into `OUT/dale/`. This module only reads the
//! flags (`--local-rule` adds the local-rule arm), loads Fashion-MNIST (or MNIST with
//! `--dataset mnist --data DIR`, or CIFAR-10 with `--dataset cifar10`) and prints the engine's
//! progress; the study, its claims and its
//! report live in the studies crate.

use neurogen_studies::cornford2021_dale::study::{
    self, DaleData, DaleScale, DaleSettings, DaleStudy,
};

use super::args::{DaleArgs, DaleDataset, IdxDataset};
use super::study_cli::Lines;
use neurogen_studies::scale::ScaleName;

/// Runs the study at the scale `args` ask for (resuming what `OUT/dale/runs.csv` records) and
/// writes `OUT/dale/report.md`.
pub fn run(args: &DaleArgs) -> anyhow::Result<()> {
    let common = &args.common;
    anyhow::ensure!(
        common.device == "cpu",
        "reproduce dale runs on the CPU (its networks are small); drop --device {}",
        common.device
    );
    let scale = match common.scale() {
        ScaleName::Smoke => DaleScale::Smoke,
        ScaleName::Quick => DaleScale::Quick,
        ScaleName::Paper => DaleScale::Paper,
    };
    let data = match args.dataset {
        DaleDataset::FashionMnist => DaleData::FashionMnist,
        DaleDataset::Mnist => DaleData::Mnist,
        DaleDataset::Cifar10 => DaleData::Cifar10,
    };
    let mut settings = DaleSettings::for_data(scale, data, args.local_rule);
    if let Some(r) = common.checked_repeats("the claims' tests need two runs per network")? {
        settings.repeats = r;
    }
    let loaded = match args.dataset {
        DaleDataset::FashionMnist => {
            super::study_cli::load_idx(IdxDataset::FashionMnist, &args.data, common)?
        }
        DaleDataset::Mnist => super::study_cli::load_idx(IdxDataset::Mnist, &args.data, common)?,
        DaleDataset::Cifar10 => super::study_cli::load_cifar10(&args.data, common)?,
    };
    let dale = DaleStudy::new(settings, &loaded.dataset)?;
    crate::common::ensure_dir(&common.out)?;
    let dir = common.out.join(study::STUDY_ID);
    if super::study_cli::shard_or_merge(&args.sharding, &dale, &dir, common.quiet)? {
        return Ok(());
    }
    let t0 = std::time::Instant::now();
    let out = study::run(
        &dale,
        &dir,
        &loaded.source.display().to_string(),
        &mut Lines {
            study: study::STUDY_ID,
            quiet: common.quiet,
        },
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    println!(
        "dale: {} runs; wrote {} ({:.0} s)",
        out.rows.len(),
        super::study_cli::report_written(&dir).display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
