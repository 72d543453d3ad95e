//! `reproduce gevb`: Clark et al.'s GEVB study
//! (`neurogen_studies::clark2021_gevb::study`) into `OUT/gevb/`. This module only reads the
//! flags, loads Fashion-MNIST and prints the engine's progress; the study, its claims and its
//! report live in the studies crate.
use anyhow::Context;
use neurogen_lab::events::{duration, Event, Observer};
use neurogen_studies::clark2021_gevb::study::{self, GevbScale, GevbSettings, GevbStudy};

use super::args::GevbArgs;
use super::scale::ScaleName;

/// Runs the study at the scale `args` ask for (resuming what `OUT/gevb/runs.csv` records) and
/// writes `OUT/gevb/report.md`.
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
    if let Some(r) = common.checked_repeats("the claims' tests need two runs per arm")? {
        settings.repeats = r;
    }
    let data = match &args.data {
        Some(p) => p.clone(),
        None => neurogen_data::fashion_mnist_dir().ok_or_else(|| {
            anyhow::anyhow!(
                "no Fashion-MNIST at /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist) or $NEUROGEN_FASHION_MNIST: pass --data DIR with the IDX files"
            )
        })?,
    };
    anyhow::ensure!(
        data.exists(),
        "--data {}: no such file or directory",
        data.display()
    );
    let opts = match &common.cache_dir {
        Some(d) => neurogen_data::LoadOptions::with_cache_dir(d),
        None => neurogen_data::LoadOptions::default(),
    };
    let loaded = neurogen_data::load_as(&data, neurogen_data::DatasetKind::FashionMnist, &opts)
        .with_context(|| format!("loading Fashion-MNIST from {}", data.display()))?;
    let gevb = GevbStudy::new(settings, &loaded.dataset)?;
    crate::common::ensure_dir(&common.out)?;
    let dir = common.out.join(study::STUDY_ID);
    let t0 = std::time::Instant::now();
    let out = study::run(
        &gevb,
        &dir,
        &loaded.source.display().to_string(),
        &mut Lines {
            quiet: common.quiet,
        },
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    println!(
        "gevb: {} runs; wrote {} ({:.0} s)",
        out.rows.len(),
        dir.join("report.md").display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Prints the engine's events as lines (notes only without `--quiet`).
struct Lines {
    quiet: bool,
}

impl Observer for Lines {
    fn event(&mut self, event: &Event) {
        match event {
            Event::Started {
                file,
                total,
                recorded,
            } => eprintln!(
                "gevb: {recorded} of {total} runs recorded in {}",
                file.display()
            ),
            Event::BatchRecorded {
                recorded,
                total,
                seconds_left,
                summaries,
                ..
            } => {
                let eta =
                    seconds_left.map_or(String::new(), |s| format!(", about {} left", duration(s)));
                for s in summaries {
                    eprintln!("{s} ({recorded} of {total} runs recorded{eta})");
                }
            }
            Event::Note(line) if !self.quiet => eprintln!("{line}"),
            _ => {}
        }
    }
}
