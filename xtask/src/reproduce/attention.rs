//! `reproduce attention`: Lei, Benjamin & Kording's object-based attention study
//! (`neurogen_studies::lei2021_attention::study`) into `OUT/attention/`. This module only reads the
//! flags, loads Fashion-MNIST and prints the engine's progress; the study, its claims and its
//! report live in the studies crate.
use anyhow::Context;
use neurogen_lab::events::{duration, Event, Observer};
use neurogen_studies::lei2021_attention::study::{
    self, AttentionScale, AttentionSettings, AttentionStudy,
};

use super::args::AttentionArgs;
use super::scale::ScaleName;

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
        ScaleName::Quick | ScaleName::Paper => anyhow::bail!(
            "reproduce attention has scale smoke only so far (quick and paper are not sized yet)"
        ),
    };
    let mut settings = AttentionSettings::new(scale);
    if let Some(r) = common.checked_repeats("the claims' tests need two runs per network")? {
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
    let attention = AttentionStudy::new(settings, &loaded.dataset)?;
    crate::common::ensure_dir(&common.out)?;
    let dir = common.out.join(study::STUDY_ID);
    let t0 = std::time::Instant::now();
    let out = study::run(
        &attention,
        &dir,
        &loaded.source.display().to_string(),
        &mut Lines {
            quiet: common.quiet,
        },
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    println!(
        "attention: {} runs; wrote {} ({:.0} s)",
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
                "attention: {recorded} of {total} runs recorded in {}",
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
