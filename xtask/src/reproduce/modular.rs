//! `reproduce modular`: Béna & Goodman's sparsity and specialization study
//! (`neurogen_studies::bena2021_modular::study`) into `OUT/modular/` (`OUT/modular-SCHEME/`
//! with `--scheme`). This module only reads the flags, loads Fashion-MNIST (or MNIST with `--dataset mnist --data DIR`) and prints the
//! engine's progress; the study, its claims and its report live in the studies crate.

use clap::ValueEnum;
use neurogen_studies::bena2021_modular::study::{
    self, ModularScale, ModularSettings, ModularStudy,
};
use neurogen_studies::bena2021_modular::ConnectionScheme;

use super::args::IdxDataset;
use super::args::{ModularArgs, ModularScheme};
use super::study_cli::Lines;
use neurogen_studies::scale::ScaleName;

/// Runs the study at the scale `args` ask for (resuming what `OUT/modular/runs.csv` records) and
/// writes `OUT/modular/report.md`.
pub fn run(args: &ModularArgs) -> anyhow::Result<()> {
    let common = &args.common;
    anyhow::ensure!(
        common.device == "cpu",
        "reproduce modular runs on the CPU (its networks are small); drop --device {}",
        common.device
    );
    let scale = match common.scale() {
        ScaleName::Smoke => ModularScale::Smoke,
        ScaleName::Quick => ModularScale::Quick,
        ScaleName::Paper => ModularScale::Paper,
    };
    let mut settings = ModularSettings::new(scale);
    let dir_name = match args.scheme {
        None => study::STUDY_ID.to_string(),
        Some(scheme) => {
            settings.scheme = match scheme {
                ModularScheme::DeepR => ConnectionScheme::DeepR,
                ModularScheme::FixedMask => ConnectionScheme::FixedMask,
            };
            let name = scheme
                .to_possible_value()
                .expect("no variant is skipped")
                .get_name()
                .to_string();
            format!("{}-{name}", study::STUDY_ID)
        }
    };
    if let Some(r) = common.checked_repeats("the claims' tests need two runs per value of p")? {
        settings.repeats = r;
    }
    if args.dataset == IdxDataset::Mnist {
        settings.dataset = "MNIST";
    }
    let loaded = super::study_cli::load_idx(args.dataset, &args.data, common)?;
    let modular = ModularStudy::new(settings, &loaded.dataset)?;
    crate::common::ensure_dir(&common.out)?;
    let dir = common.out.join(dir_name);
    if super::study_cli::shard_or_merge(&args.sharding, &modular, &dir, common.quiet)? {
        return Ok(());
    }
    let t0 = std::time::Instant::now();
    let out = study::run(
        &modular,
        &dir,
        &loaded.source.display().to_string(),
        &mut Lines {
            study: study::STUDY_ID,
            quiet: common.quiet,
        },
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    println!(
        "modular: {} runs; wrote {} ({:.0} s)",
        out.rows.len(),
        super::study_cli::report_written(&dir).display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
