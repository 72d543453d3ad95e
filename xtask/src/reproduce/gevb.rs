//! `reproduce gevb`: Clark et al.'s GEVB study
//! (`neurogen_studies::clark2021_gevb::study`) into `OUT/gevb/`. This module only reads the
//! flags, loads Fashion-MNIST (or CIFAR-10 with `--dataset cifar10`, into
//! `OUT/gevb-cifar10/`; `--conv` and `--signed` add arms and their suffixes) and prints the
//! engine's progress; the study, its claims and its report live in the studies crate.

use neurogen_studies::clark2021_gevb::study::{
    self, ConvShape, GevbScale, GevbSettings, GevbStudy,
};

use super::args::{GevbArgs, GevbDataset};
use super::study_cli::Lines;
use neurogen_studies::scale::ScaleName;

/// Runs the study at the scale `args` ask for (resuming what `OUT/gevb/runs.csv` records, or
/// the directory its flags name, e.g. `OUT/gevb-conv/` with `--conv`) and writes its
/// `report.md`.
pub fn run(args: &GevbArgs) -> anyhow::Result<()> {
    let common = &args.common;
    anyhow::ensure!(
        common.device == "cpu",
        "reproduce gevb runs on the CPU (its smoke networks are small); drop --device {}",
        common.device
    );
    let scale = match common.scale() {
        ScaleName::Smoke => GevbScale::Smoke,
        ScaleName::Quick => GevbScale::Quick,
        ScaleName::Paper => anyhow::bail!(
            "reproduce gevb has scales smoke and quick (the paper's up to 200 epochs on 60,000 images are not sized yet)"
        ),
    };
    let mut settings = GevbSettings::new(scale);
    if args.conv {
        settings.conv = Some(match scale {
            GevbScale::Smoke => ConvShape::smoke(),
            GevbScale::Quick => ConvShape::quick(),
        });
    }
    settings.signed = args.signed;
    if let Some(r) = common.checked_repeats("the claims' tests need two runs per arm")? {
        settings.repeats = r;
    }
    let loaded = match args.dataset {
        GevbDataset::FashionMnist => super::study_cli::load_fashion_mnist(&args.data, common)?,
        GevbDataset::Mnist => {
            settings.dataset = study::MNIST;
            super::study_cli::load_idx(super::args::IdxDataset::Mnist, &args.data, common)?
        }
        GevbDataset::Cifar10 => {
            settings.dataset = study::CIFAR10;
            super::study_cli::load_cifar10(&args.data, common)?
        }
    };
    let gevb = GevbStudy::new(settings, &loaded.dataset)?;
    crate::common::ensure_dir(&common.out)?;
    let dir = common.out.join(gevb.id());
    if super::study_cli::shard_or_merge(&args.sharding, &gevb, &dir, common.quiet)? {
        return Ok(());
    }
    let t0 = std::time::Instant::now();
    let out = study::run(
        &gevb,
        &dir,
        &loaded.source.display().to_string(),
        &mut Lines {
            study: gevb.id(),
            quiet: common.quiet,
        },
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    println!(
        "gevb: {} runs; wrote {} ({:.0} s)",
        out.rows.len(),
        super::study_cli::report_written(&dir).display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
