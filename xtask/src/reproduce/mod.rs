//! `cargo xtask reproduce STUDY`: the paper's figures (`fig2` ... `fig5`, `all`), FlyModel
//! (`flymodel`), Morcos et al. (`single-directions`) and Cornford et al. (`dale`), Lei et al. (`attention`) end to end, one subcommand per study
//! with only its own flags ([`args`]).
//!
//! Each figure trains its groups for every repeat (each repeat starts every group from the same
//! initial weights and minibatch order, seeded by the repeat index, as the reference does),
//! records one row per run in `OUT/figN/runs.csv`, saves checkpoints and curves, draws plots
//! (SVG and PNG) and writes `report.md` with the statistics and the paper's claims.
//!
//! On several machines: `reproduce figN --shard I/N` trains a share of the runs,
//! `reproduce merge figN` combines the shards and writes the report with the settings the
//! shards recorded ([`run::shard`], [`Recorded`]), and
//! `reproduce slurm figN --array N` writes the Slurm jobs that do both ([`slurm`];
//! docs/scale-out.md).
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::MultiProgress;
use neurogen_data::{sample_indices, Split};
use neurogen_model::{device_name, parse_device_single_stream, ModelConfig};

pub mod args;
pub mod attention;
pub mod dale;
pub mod export;
pub mod figure;
pub mod flymodel;
pub mod gevb;
pub mod modular;
pub mod run;
pub mod single_directions;
pub mod slurm;
pub mod study_cli;

pub use args::{
    FigureName, FigureRunArgs, MergeTarget, Recorded, ReproduceArgs, SlurmArgs, Study, TranArgs,
};
use figure::{Figure, Results};
use neurogen_studies::tran2022::report;
use neurogen_studies::tran2022::scale::Scale;
use neurogen_studies::tran2022::{fig2, fig3, fig4, fig5};
use run::{merge_groups, recorded_groups, run_groups, FigureData, RunOptions, Shard};

/// Everything a figure needs.
pub struct FigureCtx<'a> {
    /// The scale (after overrides).
    pub scale: Scale,
    /// The figure's output directory.
    pub dir: PathBuf,
    /// Run options (device, quirks, progress).
    pub opts: RunOptions<'a>,
    /// Whether published-code variants are trained beside the method (`--compare-reference`).
    pub compare_reference: bool,
    /// Where [`FigureCtx::train`] takes the runs from: training, the shards, or the runs
    /// recorded so far.
    pub runs: RunsFrom,
    /// Where the report and plots are written: the figure's directory, or its `interim/`.
    pub report_dir: PathBuf,
    /// The loaded dataset.
    pub dataset: &'a neurogen_data::Dataset,
    /// Where the data came from.
    pub source: String,
}

/// Where [`FigureCtx::train`] takes a figure's runs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunsFrom {
    /// Train every run not yet recorded (only a shard's with [`RunOptions::shard`]).
    Training,
    /// `reproduce merge`: combine the shards; every run must be there.
    Shards,
    /// `reproduce interim`: the runs recorded so far; nothing is trained.
    Recorded,
}

/// The directory an interim report and its plots go to, inside the figure's directory (the
/// engine's: [`neurogen_lab::shard::INTERIM_DIR`]).
pub use neurogen_lab::shard::INTERIM_DIR;

impl FigureCtx<'_> {
    /// Training and test data at this scale; with `validation`, `validation_images` of the
    /// training images are held out for per-epoch curves.
    pub fn data(&self, validation: bool) -> anyhow::Result<FigureData> {
        let ds = self.dataset;
        let s = &self.scale;
        let n_train = s.train_images.unwrap_or(ds.train.len()).min(ds.train.len());
        let n_val = if validation { s.validation_images } else { 0 };
        anyhow::ensure!(
            n_val < ds.train.len(),
            "the training split ({} images) is too small to hold out {n_val} validation images",
            ds.train.len()
        );
        let pool = if validation && s.train_images.is_none() {
            ds.train.clone()
        } else {
            ds.train.sample((n_train + n_val).min(ds.train.len()), 0)?
        };
        let (train, curve, curve_name) = if validation {
            let val_idx = sample_indices(pool.len(), n_val, 1);
            let mut is_val = vec![false; pool.len()];
            for &i in &val_idx {
                is_val[i] = true;
            }
            let train_idx: Vec<usize> = (0..pool.len()).filter(|&i| !is_val[i]).collect();
            (
                pool.subset(&train_idx),
                pool.subset(&val_idx),
                "validation".to_string(),
            )
        } else {
            let test = self.test()?;
            (pool, test, "test".to_string())
        };
        Ok(FigureData {
            dataset: ds.kind.to_string(),
            train,
            curve,
            curve_name,
            test: self.test()?,
            model: ModelConfig::for_input(
                ds.shape.channels,
                ds.shape.height,
                ds.shape.width,
                ds.num_classes(),
            ),
        })
    }

    fn test(&self) -> anyhow::Result<Split> {
        let ds = self.dataset;
        match self.scale.test_images {
            Some(n) => Ok(ds.test.sample(n.min(ds.test.len()), 0)?),
            None => Ok(ds.test.clone()),
        }
    }

    /// Checks `fig`, trains every run of its groups not yet recorded (see [`run::schedule`]) and
    /// returns its data and results. With `--compare-reference`, the published-code variants
    /// ([`Figure::with_published`]) are trained too and are part of the results. With a shard
    /// ([`RunOptions::shard`]) only the shard's runs are trained and returned; when merging
    /// ([`RunsFrom::Shards`]) nothing is trained: the shards are merged into `runs.csv`
    /// ([`run::shard::merge`]) and every run must be there; for an interim report
    /// ([`RunsFrom::Recorded`]) the runs recorded so far are returned ([`run::recorded_groups`]).
    pub fn train(&self, fig: &Figure) -> anyhow::Result<(FigureData, Results)> {
        let fig = if self.compare_reference {
            fig.with_published(&self.scale)?
        } else {
            fig.clone()
        };
        fig.check()?;
        let data = self.data(fig.validation)?;
        let (opts, groups, repeats) = (&self.opts, &fig.groups, self.scale.repeats);
        let rows = match self.runs {
            RunsFrom::Training => run_groups(opts, &data, groups, repeats)?,
            RunsFrom::Shards => merge_groups(opts, &data, groups, repeats)?,
            RunsFrom::Recorded => recorded_groups(opts, &data, groups, repeats)?,
        };
        Ok((data, Results::new(fig.groups.clone(), rows)))
    }

    /// Starts the report of `fig` with the common header (an interim report's says so first,
    /// and which runs are still missing).
    pub fn report(&self, fig: &Figure, res: &Results) -> neurogen_lab::report::Report {
        let interim = (self.runs == RunsFrom::Recorded).then(|| {
            let missing: Vec<(String, Vec<usize>)> = res
                .groups
                .iter()
                .map(|g| {
                    let done =
                        |r: &usize| res.rows.iter().any(|x| x.group == g.name && x.repeat == *r);
                    let left: Vec<usize> = (0..self.scale.repeats).filter(|r| !done(r)).collect();
                    (g.name.clone(), left)
                })
                .filter(|(_, left)| !left.is_empty())
                .collect();
            (res.groups.len() * self.scale.repeats, missing)
        });
        let title = match &interim {
            Some((total, _)) => format!(
                "{} (interim: {} of {total} runs)",
                fig.title,
                res.rows.len()
            ),
            None => fig.title.to_string(),
        };
        let mut rep = report::header(
            &title,
            &self.scale,
            &res.rows,
            if res.compares_published() {
                report::Mode::SideBySide
            } else if self.opts.reference_quirks {
                report::Mode::Published
            } else {
                report::Mode::Method
            },
            &self.source,
            &device_name(&self.opts.device),
        );
        if let Some((total, missing)) = interim {
            rep.para(&report::interim_notice(res.rows.len(), total, &missing));
        }
        rep
    }

    /// Draws the paired-difference plots of `rep`'s claims
    /// ([`neurogen_lab::report::Report::paired_plots`])
    /// after its claims table, then writes the finished report.
    pub fn finish_report(&self, mut rep: neurogen_lab::report::Report) -> anyhow::Result<PathBuf> {
        for (stem, plot) in rep.paired_plots() {
            let size = (neurogen_analysis::plot::DEFAULT_SIZE.0, plot.height());
            let file = save_plot_sized(&self.report_dir, &stem, &plot, size)?;
            rep.closing_figure(
                &file,
                "Each claim's paired differences by repeat (points), their mean and 95 % CI (bars); a claim holds where its bar leaves zero on the paper's side",
            );
        }
        self.write_report(&rep.finish())
    }

    /// Writes `report.md` atomically into [`FigureCtx::report_dir`] and returns its path.
    pub fn write_report(&self, text: &str) -> anyhow::Result<PathBuf> {
        let path = self.report_dir.join("report.md");
        neurogen_io::write_atomic(&path, text.as_bytes())?;
        Ok(path)
    }
}

/// Replicas trained together on the CPU by `--replicas auto`: measured ~1.4x the throughput of
/// one run at a time at batch 4 (docs/performance.md), and 4 and 8 were alike; fewer keeps the
/// work lost to an interruption small.
const AUTO_REPLICAS_CPU: usize = 4;
/// Replicas trained together on a GPU by `--replicas auto`: the paper's 20 repeats of a group
/// in one batched model (one run at batch 4 leaves a GPU idle).
const AUTO_REPLICAS_GPU: usize = 20;

/// `--replicas`: `auto` or a number >= 1.
pub fn parse_replicas(value: &str, device: &candle_core::Device) -> anyhow::Result<usize> {
    if value == "auto" {
        return Ok(if device.is_cpu() {
            AUTO_REPLICAS_CPU
        } else {
            AUTO_REPLICAS_GPU
        });
    }
    match value.parse::<usize>() {
        Ok(k) if k >= 1 => Ok(k),
        _ => anyhow::bail!("--replicas {value}: expected auto or a whole number >= 1"),
    }
}

/// Runs `cargo xtask reproduce`.
pub fn run(args: ReproduceArgs) -> anyhow::Result<()> {
    let figure = |f: FigureName, a: FigureRunArgs| {
        let mode = match a.shard {
            Some(s) => Mode::Shard(s),
            None => Mode::Train,
        };
        reproduce(f, &a.tran, mode)
    };
    match args.study {
        Study::Fig2(a) => figure(FigureName::Fig2, a),
        Study::Fig3(a) => figure(FigureName::Fig3, a),
        Study::Fig4(a) => figure(FigureName::Fig4, a),
        Study::Fig5(a) => figure(FigureName::Fig5, a),
        Study::All(a) => figure(FigureName::All, a),
        Study::SingleDirections(a) => single_directions::run(&a),
        s @ (Study::Flymodel(_)
        | Study::Dale(_)
        | Study::Gevb(_)
        | Study::Modular(_)
        | Study::Attention(_)) => study_cli::run_engine(&s),
        Study::Merge(m) => match m.figure {
            MergeTarget::Figure(f) => reproduce(f, &m.tran, Mode::Merge),
            MergeTarget::Study(name) => study_cli::merge(&name, &m.tran),
        },
        Study::Slurm(s) => slurm::run(&s),
        Study::Export(e) => export::run(&e),
        Study::Interim(m) => match m.figure {
            MergeTarget::Figure(f) => {
                anyhow::ensure!(
                    f != FigureName::Fig5,
                    "reproduce interim covers fig2, fig3 and fig4: fig5's analyses read every group's checkpoint, so it has no report before its runs are done"
                );
                reproduce(f, &m.tran, Mode::Interim)
            }
            MergeTarget::Study(name) => study_cli::interim(&name, &m.tran),
        },
    }
}

/// What `reproduce` does with each figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Train every run not yet recorded, then write the report.
    Train,
    /// Train the shard's runs not yet recorded (no report).
    Shard(Shard),
    /// Merge the shards, then write the report (no training).
    Merge,
    /// Write an interim report from the runs recorded so far (no training, no lock on the
    /// figure, which may be training).
    Interim,
}

/// The scale `args` ask for (after `--repeats`, `--epochs`, `--lr`), checked.
pub fn scale_of(args: &TranArgs) -> anyhow::Result<Scale> {
    let mut scale = Scale::new(args.common.scale());
    if let Some(r) = args
        .common
        .checked_repeats("the statistics need two runs per group")?
    {
        scale.repeats = r;
    }
    if let Some(e) = args.training.checked_epochs()? {
        scale.epochs = e;
        scale = scale.rescaled();
    }
    if let Some(lr) = args.training.checked_lr()? {
        scale.lr = lr;
    }
    Ok(scale)
}

/// `args` completed with the settings the shards of `figure` recorded ([`Recorded`], in
/// OUT/figN/shards/*/settings.json; for `all`, every figure's shards must agree): what
/// `merge` and `interim` run with, so that neither needs a flag repeated. Shards of an older
/// xtask recorded none: then `args` as given.
fn with_recorded(figure: FigureName, args: &TranArgs) -> anyhow::Result<TranArgs> {
    let mut found: Option<Recorded> = None;
    for f in figures_of(figure) {
        let dir = args.common.out.join(f.name());
        let Some(rec) = run::shard::recorded_settings::<Recorded>(&dir)? else {
            if !run::shard::find_shards(&dir)?.is_empty() {
                eprintln!(
                    "{}: its shards recorded no settings (an older xtask): using the flags given",
                    f.name()
                );
            }
            continue;
        };
        if let Some(prev) = &found {
            let same = Recorded {
                figure: prev.figure.clone(),
                ..rec.clone()
            };
            anyhow::ensure!(
                &same == prev,
                "{} and {} were sharded with different settings: merge them one at a time",
                prev.figure,
                rec.figure
            );
        }
        found.get_or_insert(rec);
    }
    match found {
        Some(rec) => args.or_recorded(&rec),
        None => Ok(args.clone()),
    }
}

/// The figures `figure` names (`all`: the four), by their names.
pub fn figures_of(figure: FigureName) -> Vec<FigureName> {
    match figure {
        FigureName::All => vec![
            FigureName::Fig2,
            FigureName::Fig3,
            FigureName::Fig4,
            FigureName::Fig5,
        ],
        f => vec![f],
    }
}

/// Figure `f`'s groups and claims at scale `s`.
fn figure_of(f: FigureName, s: &Scale) -> anyhow::Result<Figure> {
    match f {
        FigureName::Fig2 => Ok(fig2::figure(s)?),
        FigureName::Fig3 => Ok(fig3::figure(s)?),
        FigureName::Fig4 => Ok(fig4::figure(s)?),
        FigureName::Fig5 => Ok(fig5::figure(s)?),
        FigureName::All => anyhow::bail!("`all` is not one figure"),
    }
}

/// Reproduces (trains a shard of, or merges) `figure` with the settings `args` (for a merge or
/// an interim report, completed by those its shards recorded: [`with_recorded`]).
fn reproduce(figure: FigureName, args: &TranArgs, mode: Mode) -> anyhow::Result<()> {
    let args = &match mode {
        Mode::Merge | Mode::Interim => with_recorded(figure, args)?,
        Mode::Train | Mode::Shard(_) => args.clone(),
    };
    let scale = scale_of(args)?;
    let common = &args.common;
    // SAFETY: xtask uses the device from its main thread only.
    let device = unsafe { parse_device_single_stream(&common.device)? };
    let replicas = parse_replicas(args.training.replicas(), &device)?;
    crate::common::ensure_dir(&common.out)?;
    let loaded = crate::common::load_data(args.data.as_deref(), common.cache_dir.as_deref())?;
    anyhow::ensure!(
        loaded.dataset.kind == neurogen_data::DatasetKind::Cifar10,
        "the paper's figures use CIFAR-10, but {} holds {}",
        loaded.source.display(),
        loaded.dataset.kind
    );
    let progress = if common.quiet {
        MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
    } else {
        MultiProgress::new()
    };
    for f in figures_of(figure) {
        let name = f.name().to_string();
        if mode == Mode::Interim && f == FigureName::Fig5 {
            eprintln!("{name}: no interim report (its analyses need every checkpoint); skipped");
            continue;
        }
        let compare_reference = args.compare_reference;
        let dir = common.out.join(&name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        // Held until this figure is done: a second `reproduce` (or `merge`) on the same --out
        // refuses. A shard locks its own directory only, so that shards run side by side.
        let _lock = match mode {
            Mode::Train => neurogen_io::DirLock::acquire(&dir, &format!("reproduce {name}"))?,
            Mode::Merge => neurogen_io::DirLock::acquire(&dir, &format!("reproduce merge {name}"))?,
            // The figure may be training (its lock held): only the interim folder is locked.
            Mode::Interim => {
                let idir = dir.join(INTERIM_DIR);
                std::fs::create_dir_all(&idir)
                    .with_context(|| format!("cannot create {}", idir.display()))?;
                neurogen_io::DirLock::acquire(&idir, &format!("reproduce interim {name}"))?
            }
            Mode::Shard(s) => {
                let sdir = s.dir(&dir);
                std::fs::create_dir_all(&sdir)
                    .with_context(|| format!("cannot create {}", sdir.display()))?;
                neurogen_io::DirLock::acquire(&sdir, &format!("reproduce {name} --shard {s}"))?
            }
        };
        let ctx = FigureCtx {
            scale: scale.clone(),
            dir: dir.clone(),
            opts: RunOptions {
                dir: dir.clone(),
                figure: name.clone(),
                device: device.clone(),
                reference_quirks: args.reference_quirks,
                batch_size: scale.batch_size,
                lr: scale.lr,
                replicas,
                mix_groups: args.training.mix_groups,
                progress: &progress,
                quiet: common.quiet,
                shard: match mode {
                    Mode::Shard(s) => Some(s),
                    _ => None,
                },
            },
            compare_reference,
            runs: match mode {
                Mode::Train | Mode::Shard(_) => RunsFrom::Training,
                Mode::Merge => RunsFrom::Shards,
                Mode::Interim => RunsFrom::Recorded,
            },
            report_dir: if mode == Mode::Interim {
                dir.join(INTERIM_DIR)
            } else {
                dir.clone()
            },
            dataset: &loaded.dataset,
            source: loaded.source.display().to_string(),
        };
        let t0 = std::time::Instant::now();
        if let Mode::Shard(s) = mode {
            // What the shard runs with, so that merge and interim need no flags repeated:
            // written before training where none is yet (an interim report of a shard still
            // training reads it), and again once its runs are recorded.
            let settings = Recorded::new(
                &name,
                args,
                &loaded.source,
                &loaded.dataset.kind.to_string(),
                replicas,
            );
            let sdir = s.dir(&dir);
            if !sdir.join(run::shard::SETTINGS_FILE).exists() {
                run::shard::write_settings(&sdir, &settings)?;
            }
            let (_, res) = ctx.train(&figure_of(f, &scale)?)?;
            run::shard::write_settings(&sdir, &settings)?;
            println!(
                "{name}: shard {s}: {} runs recorded in {} ({:.0} s); `reproduce merge {name}` writes the report once every shard is done",
                res.rows.len(),
                s.dir(&dir).join("runs.csv").display(),
                t0.elapsed().as_secs_f64()
            );
            continue;
        }
        let report = match f {
            FigureName::Fig2 => fig2::run(&ctx)?,
            FigureName::Fig3 => fig3::run(&ctx)?,
            FigureName::Fig4 => fig4::run(&ctx)?,
            FigureName::Fig5 => fig5::run(&ctx)?,
            FigureName::All => unreachable!("expanded above"),
        };
        println!(
            "{name}: wrote {} ({:.0} s)",
            report.display(),
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Saves a figure as SVG and PNG in `dir` at `size` pixels (width, height)
/// ([`neurogen_lab::plot::save_plot_sized`], whose note replaces a plot that cannot be drawn);
/// returns the SVG's file name.
pub fn save_plot_sized<F: neurogen_analysis::plot::Figure>(
    dir: &Path,
    stem: &str,
    fig: &F,
    size: (u32, u32),
) -> anyhow::Result<String> {
    Ok(neurogen_lab::plot::save_plot_sized(dir, stem, fig, size)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurogen_studies::tran2022::scale::{Scale, ScaleName};

    fn figures(s: &Scale) -> Vec<Figure> {
        vec![
            fig2::figure(s).unwrap(),
            fig3::figure(s).unwrap(),
            fig4::figure(s).unwrap(),
            fig5::figure(s).unwrap(),
        ]
    }

    #[test]
    fn every_figure_is_consistent_at_every_scale() {
        for name in [ScaleName::Smoke, ScaleName::Quick, ScaleName::Paper] {
            let s = Scale::new(name);
            for fig in figures(&s) {
                fig.check().unwrap();
                for g in &fig.groups {
                    let with_dropout = g.specs.iter().any(|x| x.contains("dropout"));
                    assert_eq!(g.dropout, with_dropout, "{}", g.key);
                    assert_eq!(g.epochs, s.epochs_for(with_dropout), "{}", g.key);
                }
            }
        }
    }

    /// Display names are the `group` column of `runs.csv`, part of every run's configuration
    /// hash and (as slugs) its file names: renaming one makes old directories stop resuming.
    #[test]
    fn group_names_are_those_of_existing_output_directories() {
        let s = Scale::new(ScaleName::Paper);
        let names =
            |f: &Figure| -> Vec<String> { f.groups.iter().map(|g| g.name.clone()).collect() };
        let f = figures(&s);
        assert_eq!(
            names(&f[0]),
            [
                "Control",
                "Neurogenesis",
                "Neurogenesis + excitability",
                "Frozen layers"
            ]
        );
        assert_eq!(
            names(&f[1]),
            [
                "Control",
                "Neurogenesis",
                "Dropout",
                "Weight decay",
                "Neural noise",
                "Neurogenesis + Dropout",
                "Neurogenesis + Weight decay",
                "Neurogenesis + Neural noise",
                "Dropout + Weight decay",
                "Dropout + Neural noise",
                "Weight decay + Neural noise",
                "Neurogenesis + Dropout (p = 0.1)",
            ]
        );
        assert_eq!(
            names(&f[2]),
            [
                "Control",
                "Random neurogenesis",
                "Targeted (low importance)",
                "Targeted (high importance)",
            ]
        );
        assert_eq!(names(&f[3]), ["Control", "Neurogenesis", "Dropout"]);
        let fig3 = &f[1];
        let key = |k: &str| fig3.groups.iter().find(|g| g.key == k).unwrap();
        assert_eq!(key("ngn+dropout").name, "Neurogenesis + Dropout");
        assert_eq!(key("ngn+dropout").epochs, 22);
        assert_eq!(key("wd+noise").epochs, 15);
    }
}
