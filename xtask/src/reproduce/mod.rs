//! `cargo xtask reproduce fig2|fig3|fig4|fig5|all`: the paper's figures end to end.
//!
//! Each figure trains its groups for every repeat (each repeat starts every group from the same
//! initial weights and minibatch order, seeded by the repeat index, as the reference does),
//! records one row per run in `OUT/figN/runs.csv`, saves checkpoints and curves, draws plots
//! (SVG and PNG) and writes `report.md` with the statistics and the paper's claims.
//!
//! On several machines: `reproduce figN --shard I/N` trains a share of the runs,
//! `reproduce merge figN` combines the shards and writes the report ([`run::shard`]), and
//! `reproduce slurm figN --array N` writes the Slurm jobs that do both ([`slurm`];
//! docs/scale-out.md).
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use indicatif::MultiProgress;
use neurogen_data::{sample_indices, Split};
use neurogen_model::{device_name, parse_device_single_stream, ModelConfig};

pub mod export;
pub mod fig2;
pub mod fig3;
pub mod fig4;
pub mod fig5;
pub mod figure;
pub mod flymodel;
pub mod plots;
pub mod report;
pub mod run;
pub mod scale;
pub mod single_directions;
pub mod slurm;

use figure::{Figure, Results};
use run::{merge_groups, recorded_groups, run_groups, FigureData, RunOptions, Shard};
use scale::{Scale, ScaleName};

/// Which figure to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FigureName {
    /// Control vs neurogenesis (and with excitability).
    Fig2,
    /// Neurogenesis vs dropout, weight decay, neural noise, and their combinations.
    Fig3,
    /// Random vs targeted neurogenesis.
    Fig4,
    /// Ablation, class selectivity, new units after training.
    Fig5,
    /// All four figures.
    All,
    /// Class-incremental learning with the fruit-fly model (issue #17; Fashion-MNIST, not part
    /// of `all`).
    Flymodel,
    /// Single directions and generalisation (Morcos et al. 2018; issue #16): label corruption,
    /// ablation and noise robustness, selectivity against importance (CIFAR-10 and
    /// Fashion-MNIST, not part of `all`).
    SingleDirections,
}

/// Arguments of `cargo xtask reproduce`: a figure to reproduce (`reproduce figN ...`, with
/// `--shard I/N` only a shard of it), or an action on a sharded figure (`reproduce merge figN
/// ...`, `reproduce slurm figN ...`).
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ReproduceArgs {
    /// Merge a sharded figure, write its Slurm scripts (docs/scale-out.md), or export its
    /// results for committing (docs/results/README.md).
    #[command(subcommand)]
    pub action: Option<Action>,
    /// The figure to reproduce.
    #[arg(value_enum, required = true)]
    pub figure: Option<FigureName>,
    /// Train only shard I of N (1 <= I <= N) of each figure's runs, recorded in
    /// OUT/figN/shards/I-of-N/; `reproduce merge` combines the shards (docs/scale-out.md).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Settings shared with `merge` and `slurm`.
    #[command(flatten)]
    pub opts: FigureArgs,
}

/// `reproduce merge`, `reproduce slurm` and `reproduce export`.
#[derive(Subcommand, Debug)]
pub enum Action {
    /// Combine the shards of a figure into OUT/figN/runs.csv and write its report and plots;
    /// trains nothing. Takes the same flags as the shards.
    Merge(MergeArgs),
    /// Write a Slurm array job (one shard per task) and a merge job that depends on it, and
    /// print the sbatch commands.
    Slurm(SlurmArgs),
    /// Copy a finished figure's results (runs.csv, curves without event logs, report, plots)
    /// and the command that rewrites the report from them into a directory to commit, e.g.
    /// docs/results/fig2-quick (no checkpoints).
    Export(export::ExportArgs),
    /// Write an interim report of a figure still training (or carried unfinished) from the
    /// runs recorded so far, in its runs.csv and its shards', into OUT/figN/interim/; trains
    /// nothing and leaves the figure's own files alone. Takes the same flags as the figure.
    Interim(MergeArgs),
}

/// Arguments of `reproduce merge` and `reproduce interim`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The figure whose shards to merge (whose recorded runs to report).
    #[arg(value_enum)]
    pub figure: FigureName,
    /// The flags the shards ran with.
    #[command(flatten)]
    pub opts: FigureArgs,
}

/// Arguments of `reproduce slurm`.
#[derive(Args, Debug)]
pub struct SlurmArgs {
    /// The figure to reproduce on the cluster.
    #[arg(value_enum)]
    pub figure: FigureName,
    /// Array tasks, one shard each.
    #[arg(long)]
    pub array: usize,
    /// GPUs of each task (`#SBATCH --gpus-per-task`; pass `--device cuda` too).
    #[arg(long)]
    pub gpus_per_task: Option<usize>,
    /// CPU cores of each task (`#SBATCH --cpus-per-task`; also the task's rayon threads).
    #[arg(long)]
    pub cpus_per_task: Option<usize>,
    /// Time limit of each task (`#SBATCH --time`, e.g. 04:00:00).
    #[arg(long)]
    pub time: Option<String>,
    /// Partition (`#SBATCH --partition`).
    #[arg(long)]
    pub partition: Option<String>,
    /// Account (`#SBATCH --account`).
    #[arg(long)]
    pub account: Option<String>,
    /// The xtask binary the jobs run (default: this one); it must be reachable from the nodes.
    #[arg(long)]
    pub xtask: Option<PathBuf>,
    /// The flags every shard and the merge run with.
    #[command(flatten)]
    pub opts: FigureArgs,
}

/// The settings of a reproduction, shared by `reproduce figN`, `merge` and `slurm`.
#[derive(Args, Debug, Clone)]
pub struct FigureArgs {
    /// CIFAR-10 location (any form `cargo xtask data summary` accepts); default: the hub cache.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// smoke (minutes), quick (about an hour a figure on 2 CPU cores) or paper (the protocol).
    #[arg(long, value_enum, default_value = "quick")]
    pub scale: ScaleName,
    /// Compute device: cpu, cuda, cuda:N or metal.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Repeats per group (overrides the scale's).
    #[arg(long)]
    pub repeats: Option<usize>,
    /// Epochs per run (overrides the scale's; dropout groups get the scale's extra epochs).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Adam learning rate (overrides the scale's); any finite value > 0 (huge values make runs
    /// diverge, which is recorded as failed runs).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Reproduce the published code's behaviour (see docs/regularizers.md) in every group.
    #[arg(long, conflicts_with = "compare_reference")]
    pub reference_quirks: bool,
    /// Train every group with neurogenesis twice on the same seeds, as the paper describes it
    /// and as the published code runs it (quirks, and the published scripts' settings), and
    /// report both side by side; groups without neurogenesis are shared. fig2, fig3, fig4.
    #[arg(long)]
    pub compare_reference: bool,
    /// flymodel: the benchmark, and so what `--data` holds (MNIST, KMNIST and Fashion-MNIST
    /// files share their names, so the kind is stated, not guessed; mnist20: `--data` holds
    /// MNIST; cifar10: any form of CIFAR-10 `cargo xtask data summary` reads).
    #[arg(
        long = "dataset",
        alias = "idx-kind",
        value_enum,
        default_value = "fashion-mnist"
    )]
    pub dataset: flymodel::FlyDataset,
    /// flymodel --dataset mnist20: the Fashion-MNIST IDX folder (default: the installed one).
    #[arg(long)]
    pub fashion_mnist: Option<PathBuf>,
    /// single-directions: the Fashion-MNIST IDX folder of the MLP (default:
    /// $NEUROGEN_FASHION_MNIST or /usr/share/datasets/fashion-mnist); `--data` is CIFAR-10.
    #[arg(long)]
    pub mlp_data: Option<PathBuf>,
    /// flymodel: EWC strength λ (overrides the scale's).
    #[arg(long)]
    pub ewc_lambda: Option<f64>,
    /// flymodel: also run the A-GEM baseline (gradient episodic memory, single constraint).
    #[arg(long)]
    pub gem: bool,
    /// flymodel: write each FlyModel run's checkpoint (projection, weights, settings) to
    /// OUT/flymodel*/checkpoints/METHOD-rREPEAT.safetensors.
    #[arg(long)]
    pub save_learners: bool,
    /// Decode-cache directory.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Output directory; each figure writes into OUT/figN/.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// No progress bars (for logs).
    #[arg(long)]
    pub quiet: bool,
    /// Repeats of a group trained together as one batched model (results equal separate
    /// runs): a number >= 1, or auto (4 on the CPU, 20 on a GPU). 1 trains one run at a time.
    #[arg(long, default_value = "auto")]
    pub replicas: String,
    /// Batch runs of different groups together where they can train as one model (same epochs
    /// and optimiser settings; a group with additive growth only with itself), up to
    /// --replicas runs a batch: e.g. `--replicas 80 --mix-groups` trains fig2's four groups
    /// of 20 repeats as one batch on a GPU. Results are those of separate runs.
    #[arg(long)]
    pub mix_groups: bool,
}

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

/// The directory an interim report and its plots go to, inside the figure's directory.
pub const INTERIM_DIR: &str = "interim";

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
    let not_sharded =
        "reproduce flymodel runs on one machine in minutes: it has no shards, merge or Slurm jobs";
    match args.action {
        Some(Action::Merge(m)) if m.figure == FigureName::Flymodel => anyhow::bail!(not_sharded),
        Some(Action::Slurm(s)) if s.figure == FigureName::Flymodel => anyhow::bail!(not_sharded),
        Some(Action::Merge(m)) if m.figure == FigureName::SingleDirections => {
            anyhow::bail!(SD_NOT_SHARDED)
        }
        Some(Action::Slurm(s)) if s.figure == FigureName::SingleDirections => {
            anyhow::bail!(SD_NOT_SHARDED)
        }
        Some(Action::Merge(m)) => reproduce(m.figure, &m.opts, Mode::Merge),
        Some(Action::Slurm(s)) => slurm::run(&s),
        Some(Action::Export(e)) => export::run(&e),
        Some(Action::Interim(m)) => match m.figure {
            FigureName::Flymodel | FigureName::SingleDirections => anyhow::bail!(
                "reproduce interim covers fig2, fig3 and fig4 (figures of groups trained for hours); {:?} runs in minutes, rerun it",
                m.figure
            ),
            FigureName::Fig5 => anyhow::bail!(
                "reproduce interim covers fig2, fig3 and fig4: fig5's analyses read every group's checkpoint, so it has no report before its runs are done"
            ),
            f => reproduce(f, &m.opts, Mode::Interim),
        },
        None => {
            let figure = args
                .figure
                .context("name a figure: reproduce fig2|fig3|fig4|fig5|all|flymodel")?;
            if figure == FigureName::Flymodel {
                anyhow::ensure!(args.shard.is_none(), not_sharded);
                return run_flymodel(&args.opts);
            }
            if figure == FigureName::SingleDirections {
                anyhow::ensure!(args.shard.is_none(), SD_NOT_SHARDED);
                return run_single_directions(&args.opts);
            }
            let mode = match args.shard {
                Some(s) => Mode::Shard(s),
                None => Mode::Train,
            };
            reproduce(figure, &args.opts, mode)
        }
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
pub fn scale_of(args: &FigureArgs) -> anyhow::Result<Scale> {
    let mut scale = Scale::new(args.scale);
    if let Some(r) = args.checked_repeats("the statistics need two runs per group")? {
        scale.repeats = r;
    }
    if let Some(e) = args.checked_epochs()? {
        scale.epochs = e;
        scale = scale.rescaled();
    }
    if let Some(lr) = args.checked_lr()? {
        scale.lr = lr;
    }
    Ok(scale)
}

impl FigureArgs {
    /// `--repeats`, refused below 2 (`why` says what needs two).
    fn checked_repeats(&self, why: &str) -> anyhow::Result<Option<usize>> {
        if let Some(r) = self.repeats {
            anyhow::ensure!(r >= 2, "--repeats must be at least 2 ({why})");
        }
        Ok(self.repeats)
    }

    /// `--epochs`, refused below 1.
    fn checked_epochs(&self) -> anyhow::Result<Option<usize>> {
        if let Some(e) = self.epochs {
            anyhow::ensure!(e >= 1, "--epochs must be at least 1");
        }
        Ok(self.epochs)
    }

    /// `--lr`, refused unless finite and > 0.
    fn checked_lr(&self) -> anyhow::Result<Option<f64>> {
        if let Some(lr) = self.lr {
            anyhow::ensure!(
                lr.is_finite() && lr > 0.0,
                "--lr {lr}: the learning rate must be a finite number > 0"
            );
        }
        Ok(self.lr)
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
        FigureName::Fig2 => fig2::figure(s),
        FigureName::Fig3 => fig3::figure(s),
        FigureName::Fig4 => fig4::figure(s),
        FigureName::Fig5 => fig5::figure(s),
        FigureName::All => anyhow::bail!("`all` is not one figure"),
        FigureName::Flymodel => anyhow::bail!("flymodel is not a figure of groups and claims"),
        FigureName::SingleDirections => {
            anyhow::bail!("single-directions trains several data sets, not one figure of groups")
        }
    }
}

/// Reproduces (trains a shard of, or merges) `figure` with the settings `args`.
fn reproduce(figure: FigureName, args: &FigureArgs, mode: Mode) -> anyhow::Result<()> {
    let scale = scale_of(args)?;
    // SAFETY: xtask uses the device from its main thread only.
    let device = unsafe { parse_device_single_stream(&args.device)? };
    let replicas = parse_replicas(&args.replicas, &device)?;
    crate::common::ensure_dir(&args.out)?;
    let loaded = crate::common::load_data(args.data.as_deref(), args.cache_dir.as_deref())?;
    anyhow::ensure!(
        loaded.dataset.kind == neurogen_data::DatasetKind::Cifar10,
        "the paper's figures use CIFAR-10, but {} holds {}",
        loaded.source.display(),
        loaded.dataset.kind
    );
    let progress = if args.quiet {
        MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
    } else {
        MultiProgress::new()
    };
    for f in figures_of(figure) {
        let name = format!("{f:?}").to_lowercase();
        if mode == Mode::Interim && f == FigureName::Fig5 {
            eprintln!("{name}: no interim report (its analyses need every checkpoint); skipped");
            continue;
        }
        let compare_reference = args.compare_reference;
        let dir = args.out.join(&name);
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
                mix_groups: args.mix_groups,
                progress: &progress,
                quiet: args.quiet,
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
            let (_, res) = ctx.train(&figure_of(f, &scale)?)?;
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
            FigureName::All | FigureName::Flymodel | FigureName::SingleDirections => {
                unreachable!("expanded above")
            }
        };
        println!(
            "{name}: wrote {} ({:.0} s)",
            report.display(),
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// `reproduce flymodel`: the class-incremental benchmark (CPU only: its learners are small).
fn run_flymodel(args: &FigureArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.device == "cpu",
        "reproduce flymodel runs on the CPU (its learners are small); drop --device {}",
        args.device
    );
    for (flag, given) in [
        ("--epochs", args.epochs.is_some()),
        ("--lr", args.lr.is_some()),
        ("--reference-quirks", args.reference_quirks),
        ("--compare-reference", args.compare_reference),
        ("--mix-groups", args.mix_groups),
    ] {
        anyhow::ensure!(!given, "{flag} does not apply to reproduce flymodel");
    }
    let ds = args.dataset;
    let mut scale = flymodel::FlyScale::new(args.scale, ds);
    if let Some(r) = args.checked_repeats("the paired tests need two runs")? {
        scale.repeats = r;
    }
    if let Some(l) = args.ewc_lambda {
        anyhow::ensure!(
            l.is_finite() && l >= 0.0,
            "--ewc-lambda {l}: expected a finite number >= 0"
        );
        scale.ewc_lambda = l;
    }
    if args.gem {
        scale.gem = Some(flymodel::GemScale::default());
    }
    anyhow::ensure!(
        args.fashion_mnist.is_none() || ds == flymodel::FlyDataset::Mnist20,
        "--fashion-mnist is the second half of --dataset mnist20 only"
    );
    let name = |d: flymodel::FlyDataset| {
        clap::ValueEnum::to_possible_value(&d).map_or(String::new(), |v| v.get_name().to_string())
    };
    let data = match &args.data {
        Some(p) => p.clone(),
        None => match ds {
            flymodel::FlyDataset::FashionMnist => neurogen_data::fashion_mnist_dir().ok_or_else(|| {
                anyhow::anyhow!(
                    "no Fashion-MNIST at /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist) or $NEUROGEN_FASHION_MNIST: pass --data DIR with the IDX files"
                )
            })?,
            flymodel::FlyDataset::Cifar10 => neurogen_data::cifar10_archive().ok_or_else(|| {
                anyhow::anyhow!(
                    "--dataset cifar10: no CIFAR-10 in the shared data folder: pass --data PATH (any form `cargo xtask data summary` reads)"
                )
            })?,
            d => anyhow::bail!(
                "--dataset {} needs --data DIR with {}'s four IDX files ({}[.gz]); they are not installed on these machines",
                name(d),
                d.data_kind(),
                neurogen_data::idx::FILES.join(", ")
            ),
        },
    };
    crate::common::ensure_dir(&args.out)?;
    let opts = match &args.cache_dir {
        Some(d) => neurogen_data::LoadOptions::with_cache_dir(d),
        None => neurogen_data::LoadOptions::default(),
    };
    let load =
        |p: &Path, kind: neurogen_data::DatasetKind| -> anyhow::Result<neurogen_data::Loaded> {
            anyhow::ensure!(p.exists(), "{}: no such file or directory", p.display());
            neurogen_data::load_as(p, kind, &opts)
                .with_context(|| format!("loading {kind} from {}", p.display()))
        };
    let loaded = load(&data, ds.data_kind())?;
    let fashion = if ds == flymodel::FlyDataset::Mnist20 {
        let p = match &args.fashion_mnist {
            Some(p) => p.clone(),
            None => neurogen_data::fashion_mnist_dir().ok_or_else(|| {
                anyhow::anyhow!(
                    "--dataset mnist20 needs Fashion-MNIST too: pass --fashion-mnist DIR"
                )
            })?,
        };
        Some(load(&p, neurogen_data::DatasetKind::FashionMnist)?)
    } else {
        None
    };
    let dir = args.out.join(ds.dir_name());
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let _lock = neurogen_io::DirLock::acquire(&dir, "reproduce flymodel")?;
    // The CIFAR-10 features: in the decode cache's directory, else in the figure's.
    let feature_cache = Some(
        args.cache_dir
            .clone()
            .or_else(neurogen_data::cache::default_cache_dir)
            .map_or_else(|| dir.join("features"), |d| d.join("features")),
    );
    let t0 = std::time::Instant::now();
    let report = flymodel::run(
        &dir,
        scale,
        ds,
        &flymodel::FlyData {
            main: &loaded.dataset,
            source: loaded.source.display().to_string(),
            fashion: fashion
                .as_ref()
                .map(|f| (&f.dataset, f.source.display().to_string())),
            feature_cache,
        },
        args.save_learners,
        args.quiet,
    )?;
    println!(
        "flymodel: wrote {} ({:.0} s)",
        report.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Why `reproduce single-directions` has no shards, merge or Slurm jobs.
const SD_NOT_SHARDED: &str =
    "reproduce single-directions runs on one machine (its quick scale in under an hour on 2 CPU cores): it has no shards, merge or Slurm jobs";

/// `reproduce single-directions`: Morcos et al.'s experiment (the CNN on CIFAR-10 from
/// `--data`, the MLP on Fashion-MNIST from `--mlp-data`), in `OUT/single-directions/`.
fn run_single_directions(args: &FigureArgs) -> anyhow::Result<()> {
    for (flag, given) in [
        ("--reference-quirks", args.reference_quirks),
        ("--compare-reference", args.compare_reference),
        ("--ewc-lambda", args.ewc_lambda.is_some()),
    ] {
        anyhow::ensure!(
            !given,
            "{flag} does not apply to reproduce single-directions"
        );
    }
    let mut scale = single_directions::SdScale::new(args.scale);
    if let Some(r) = args.checked_repeats("the statistics need two runs per setting")? {
        scale.repeats = r;
    }
    if let Some(e) = args.checked_epochs()? {
        scale.cnn_epochs = e;
        scale.mlp_epochs = e;
        scale.short_epochs = scale.short_epochs.min(e);
    }
    if let Some(lr) = args.checked_lr()? {
        scale.lr = lr;
    }
    // SAFETY: xtask uses the device from its main thread only.
    let device = unsafe { parse_device_single_stream(&args.device)? };
    let replicas = parse_replicas(&args.replicas, &device)?;
    let mlp_data = match &args.mlp_data {
        Some(p) => p.clone(),
        None => neurogen_data::fashion_mnist_dir().ok_or_else(|| {
            anyhow::anyhow!(
                "no Fashion-MNIST for the MLP at /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist) or $NEUROGEN_FASHION_MNIST: pass --mlp-data DIR with the IDX files"
            )
        })?,
    };
    anyhow::ensure!(
        mlp_data.exists(),
        "--mlp-data {}: no such file or directory",
        mlp_data.display()
    );
    crate::common::ensure_dir(&args.out)?;
    let cifar = crate::common::load_data(args.data.as_deref(), args.cache_dir.as_deref())?;
    anyhow::ensure!(
        cifar.dataset.kind == neurogen_data::DatasetKind::Cifar10,
        "reproduce single-directions trains the paper's CNN on CIFAR-10 (--data), but {} holds {}",
        cifar.source.display(),
        cifar.dataset.kind
    );
    let fashion = crate::common::load_data(Some(&mlp_data), args.cache_dir.as_deref())?;
    anyhow::ensure!(
        fashion.dataset.kind == neurogen_data::DatasetKind::FashionMnist,
        "reproduce single-directions trains the MLP on Fashion-MNIST (--mlp-data), but {} holds {}",
        fashion.source.display(),
        fashion.dataset.kind
    );
    let progress = if args.quiet {
        MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
    } else {
        MultiProgress::new()
    };
    let name = single_directions::NAME;
    let dir = args.out.join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let _lock = neurogen_io::DirLock::acquire(&dir, &format!("reproduce {name}"))?;
    let ctx = single_directions::SdCtx {
        opts: RunOptions {
            dir: dir.clone(),
            figure: name.to_string(),
            device,
            reference_quirks: false,
            batch_size: scale.batch_size,
            lr: scale.lr,
            replicas,
            mix_groups: args.mix_groups,
            progress: &progress,
            quiet: args.quiet,
            shard: None,
        },
        scale,
    };
    let data = single_directions::SdData {
        cifar: &cifar.dataset,
        fashion: &fashion.dataset,
        sources: (
            cifar.source.display().to_string(),
            fashion.source.display().to_string(),
        ),
    };
    let t0 = std::time::Instant::now();
    let report = single_directions::run(&ctx, &data)?;
    println!(
        "{name}: wrote {} ({:.0} s)",
        report.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Saves a figure as SVG and PNG in `dir` ([`neurogen_lab::plot::save_plot`], whose note
/// replaces a plot that cannot be drawn); returns the SVG's file name.
pub fn save_plot<F: neurogen_analysis::plot::Figure>(
    dir: &Path,
    stem: &str,
    fig: &F,
) -> anyhow::Result<String> {
    Ok(neurogen_lab::plot::save_plot(dir, stem, fig)?)
}

/// [`save_plot`] at `size` pixels (width, height).
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
    use super::scale::{Scale, ScaleName};
    use super::*;

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
