//! The command line of `cargo xtask reproduce`: one subcommand per study, each with only its own
//! flags (the flags every study shares are [`CommonArgs`], flattened into each), so a flag that
//! does not belong to a study is clap's error, not silently ignored.
//!
//! | subcommand | flags |
//! |---|---|
//! | `fig2` `fig3` `fig4` `fig5` `all` | [`FigureRunArgs`]: [`TranArgs`] and `--shard` |
//! | `merge` FIGURE or STUDY | [`MergeStudyArgs`]: a figure's [`TranArgs`], each defaulting to what the shards recorded ([`Recorded`]); a study on the engine's, only `--out`, `--quiet` and `--cache-dir` (the shards recorded the rest) |
//! | `interim` FIGURE or STUDY | [`MergeStudyArgs`], as `merge` (a study on one machine, unsharded: `STUDY ... --interim`) |
//! | `slurm` FIGURE | [`SlurmArgs`]: [`TranArgs`] and the `#SBATCH` settings |
//! | `flymodel` | [`FlyArgs`] and `--shard`, `--interim` ([`StudyShardArgs`]) |
//! | `single-directions` | [`SdArgs`] |
//! | `dale` | [`DaleArgs`] and `--shard`, `--interim` |
//! | `gevb` | [`GevbArgs`] and `--shard`, `--interim` |
//! | `modular` | [`ModularArgs`] and `--shard`, `--interim` |
//! | `attention` | [`AttentionArgs`] and `--shard`, `--interim` |
//! | `export` | [`super::export::ExportArgs`] |
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};

use super::flymodel::FlyDataset;
use super::run::Shard;
use neurogen_studies::scale::ScaleName;

/// Arguments of `cargo xtask reproduce`.
#[derive(Args, Debug)]
pub struct ReproduceArgs {
    /// The study to reproduce, or an action on a sharded figure.
    #[command(subcommand)]
    pub study: Study,
}

/// `reproduce STUDY [its flags]`: the studies, and the actions on a figure's shards and
/// results.
#[derive(Subcommand, Debug)]
pub enum Study {
    /// Fig. 2 of Tran et al. (PNAS 2022): control vs neurogenesis (and with excitability).
    Fig2(FigureRunArgs),
    /// Fig. 3: neurogenesis vs dropout, weight decay, neural noise, and their combinations.
    Fig3(FigureRunArgs),
    /// Fig. 4: random vs targeted neurogenesis.
    Fig4(FigureRunArgs),
    /// Fig. 5: ablation, class selectivity, new units after training.
    Fig5(FigureRunArgs),
    /// All four figures of Tran et al. (fig2 to fig5).
    All(FigureRunArgs),
    /// Class-incremental learning with the fruit-fly model (Shen et al. 2021; issue #17;
    /// Fashion-MNIST by default, not part of `all`).
    Flymodel(FlyArgs),
    /// Single directions and generalisation (Morcos et al. 2018; issue #16): label corruption,
    /// ablation and noise robustness, selectivity against importance (CIFAR-10 and
    /// Fashion-MNIST, not part of `all`).
    SingleDirections(SdArgs),
    /// Dale's principle (Cornford et al. 2021; issue #43): the MLP, DANN and ColumnEI on
    /// Fashion-MNIST, their plausibility reports, and the paper's claims (DANN learns as well as
    /// the MLP, ColumnEI worse). Scales smoke and quick; not part of `all`.
    Dale(DaleArgs),
    /// Global error-vector broadcasting (Clark et al. 2021; issue #42): FC-Vec+ trained by GEVB
    /// and by backprop, a conventional FC+ by DFA, on Fashion-MNIST, and the paper's claims
    /// (GEVB+ learns as well as BP+, better than DFA+). Scale smoke; not part of `all`.
    Gevb(GevbArgs),
    /// Extreme sparsity and functional specialization (Béna & Goodman 2021; issue #44): two-agent
    /// RNN communities on Fashion-MNIST pairs over the interconnection fraction p, accuracy, Q
    /// and three specialization metrics, and the paper's claims. Scales smoke and quick; not
    /// part of `all`.
    Modular(ModularArgs),
    /// Object-based attention through internal gating (Lei, Benjamin & Kording 2021; issue
    /// #45): the recurrent gated network with inhibition of return against a feed-forward
    /// control on two-object Fashion-MNIST scenes, and the paper's claims (gating beats the
    /// control; inhibition lower on the attended object; modulation grows with depth;
    /// multiplicative tuning), with the mask and tuning figures. Scales smoke and quick; not
    /// part of `all`.
    Attention(AttentionArgs),
    /// Combine the shards of a figure into OUT/figN/runs.csv (or of a study on the engine,
    /// e.g. gevb, into OUT/gevb/runs.csv) and write its report and plots; trains nothing.
    /// Reads the settings the shards recorded (data, scale, ...): only --out is needed.
    Merge(MergeStudyArgs),
    /// Write a Slurm array job (one shard per task) and a merge job that depends on it, and
    /// print the sbatch commands.
    Slurm(SlurmArgs),
    /// Copy a finished figure's results (runs.csv, curves without event logs, report, plots)
    /// and the command that rewrites the report from them into a directory to commit, e.g.
    /// docs/results/fig2-quick (no checkpoints).
    Export(super::export::ExportArgs),
    /// Write an interim report of a figure still training (or carried unfinished) from the
    /// runs recorded so far, in its runs.csv and its shards', into OUT/figN/interim/; trains
    /// nothing and leaves the figure's own files alone. Takes the figure's flags (those the
    /// shards recorded, if any, by default). For a sharded study on the engine (e.g. gevb),
    /// the same into OUT/STUDY/interim-report.md with the flags its shards recorded.
    Interim(MergeStudyArgs),
}

/// A figure of Tran et al. (the figures `merge`, `interim` and `slurm` act on).
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
}

impl FigureName {
    /// The name on the command line and of the output directory (`fig4`, `all`).
    pub fn name(self) -> &'static str {
        match self {
            FigureName::Fig2 => "fig2",
            FigureName::Fig3 => "fig3",
            FigureName::Fig4 => "fig4",
            FigureName::Fig5 => "fig5",
            FigureName::All => "all",
        }
    }
}

/// The flags every study takes.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// smoke (minutes), quick (about an hour a figure on 2 CPU cores) or paper (the protocol)
    /// [default: quick].
    #[arg(long, value_enum)]
    pub scale: Option<ScaleName>,
    /// Compute device: cpu, cuda, cuda:N or metal.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Repeats per group (overrides the scale's).
    #[arg(long)]
    pub repeats: Option<usize>,
    /// Decode-cache directory.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Output directory; each study writes into OUT/NAME/ (e.g. OUT/fig2/).
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// No progress bars (for logs).
    #[arg(long)]
    pub quiet: bool,
}

impl CommonArgs {
    /// `--scale`, or the default (quick).
    pub fn scale(&self) -> ScaleName {
        self.scale.unwrap_or(ScaleName::Quick)
    }

    /// `--repeats`, refused below 2 (`why` says what needs two).
    pub fn checked_repeats(&self, why: &str) -> anyhow::Result<Option<usize>> {
        if let Some(r) = self.repeats {
            anyhow::ensure!(r >= 2, "--repeats must be at least 2 ({why})");
        }
        Ok(self.repeats)
    }
}

/// The flags of the studies that train the paper's CNN through the run engine (the figures and
/// single-directions).
#[derive(Args, Debug, Clone)]
pub struct TrainingArgs {
    /// Epochs per run (overrides the scale's; dropout groups get the scale's extra epochs).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Adam learning rate (overrides the scale's); any finite value > 0 (huge values make runs
    /// diverge, which is recorded as failed runs).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Repeats of a group trained together as one batched model (results equal separate
    /// runs): a number >= 1, or auto (4 on the CPU, 20 on a GPU). 1 trains one run at a time
    /// [default: auto].
    #[arg(long)]
    pub replicas: Option<String>,
    /// Batch runs of different groups together where they can train as one model (same epochs
    /// and optimiser settings; a group with additive growth only with itself), up to
    /// --replicas runs a batch: e.g. `--replicas 80 --mix-groups` trains fig2's four groups
    /// of 20 repeats as one batch on a GPU. Results are those of separate runs.
    #[arg(long)]
    pub mix_groups: bool,
}

impl TrainingArgs {
    /// `--epochs`, refused below 1.
    pub fn checked_epochs(&self) -> anyhow::Result<Option<usize>> {
        if let Some(e) = self.epochs {
            anyhow::ensure!(e >= 1, "--epochs must be at least 1");
        }
        Ok(self.epochs)
    }

    /// `--lr`, refused unless finite and > 0.
    pub fn checked_lr(&self) -> anyhow::Result<Option<f64>> {
        if let Some(lr) = self.lr {
            anyhow::ensure!(
                lr.is_finite() && lr > 0.0,
                "--lr {lr}: the learning rate must be a finite number > 0"
            );
        }
        Ok(self.lr)
    }

    /// `--replicas`, or the default (auto).
    pub fn replicas(&self) -> &str {
        self.replicas.as_deref().unwrap_or("auto")
    }
}

/// The settings of a figure of Tran et al., shared by `reproduce figN`, `merge`, `interim` and
/// `slurm`.
#[derive(Args, Debug, Clone)]
pub struct TranArgs {
    /// CIFAR-10 location (any form `cargo xtask data summary` accepts); default: the hub cache.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Reproduce the published code's behaviour (see docs/regularizers.md) in every group.
    #[arg(long, conflicts_with = "compare_reference")]
    pub reference_quirks: bool,
    /// Train every group with neurogenesis twice on the same seeds, as the paper describes it
    /// and as the published code runs it (quirks, and the published scripts' settings), and
    /// report both side by side; groups without neurogenesis are shared.
    #[arg(long)]
    pub compare_reference: bool,
    /// Flags every study takes.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Training flags.
    #[command(flatten)]
    pub training: TrainingArgs,
}

/// `reproduce fig2|fig3|fig4|fig5|all`.
#[derive(Args, Debug, Clone)]
pub struct FigureRunArgs {
    /// Train only shard I of N (1 <= I <= N) of each figure's runs, recorded in
    /// OUT/figN/shards/I-of-N/ with the settings they ran with; `reproduce merge` combines the
    /// shards (docs/scale-out.md).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// The figure's settings.
    #[command(flatten)]
    pub tran: TranArgs,
}

/// What `reproduce merge` combines: a figure of Tran et al., or a study on the engine by its
/// output directory's name ([`merge_studies`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeTarget {
    /// A figure (`fig2` ... `fig5`, `all`).
    Figure(FigureName),
    /// A study on the engine, by its directory under `--out` (`gevb`, `gevb-cifar10`, ...).
    Study(String),
}

/// A target is the figure it names (so `merge`'s figure reads as before).
impl PartialEq<FigureName> for MergeTarget {
    fn eq(&self, other: &FigureName) -> bool {
        *self == MergeTarget::Figure(*other)
    }
}

/// The output directories of the studies on the engine that `--shard` splits and `reproduce
/// merge` combines (and `reproduce interim` reports): `flymodel` (and per `--dataset`, e.g. `flymodel-cifar10`), `dale`,
/// `gevb` (and its conv, mixed-sign and CIFAR-10 variants), `modular` (and per `--scheme`)
/// and `attention`.
pub fn merge_studies() -> Vec<&'static str> {
    use neurogen_studies::shen2021_flymodel::Benchmark;
    let mut ids: Vec<&'static str> = [
        Benchmark::FashionMnist,
        Benchmark::Mnist,
        Benchmark::Kmnist,
        Benchmark::Mnist20,
        Benchmark::Cifar10,
    ]
    .iter()
    .map(|b| b.dir_name())
    .collect();
    ids.push(neurogen_studies::cornford2021_dale::study::STUDY_ID);
    ids.extend(neurogen_studies::clark2021_gevb::study::STUDY_IDS);
    ids.extend([
        neurogen_studies::bena2021_modular::study::STUDY_ID,
        "modular-deep-r",
        "modular-fixed-mask",
        neurogen_studies::lei2021_attention::study::STUDY_ID,
    ]);
    ids
}

/// `reproduce merge`'s target: a figure's name or one of [`merge_studies`] (clap's invalid
/// value, listing them, for any other).
fn merge_target() -> impl clap::builder::TypedValueParser<Value = MergeTarget> {
    let figures = FigureName::value_variants()
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>();
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(figures.into_iter().chain(merge_studies())).map(
        |name: String| match <FigureName as ValueEnum>::from_str(&name, false) {
            Ok(f) => MergeTarget::Figure(f),
            Err(_) => MergeTarget::Study(name),
        },
    )
}

/// Arguments of `reproduce merge` and `reproduce interim`.
#[derive(Args, Debug)]
pub struct MergeStudyArgs {
    /// The figure whose shards to merge (or whose recorded runs to report), or the output
    /// directory (under --out) of the study on the engine whose shards to merge (or report).
    #[arg(value_parser = merge_target(), value_name = "FIGURE|STUDY")]
    pub figure: MergeTarget,
    /// A figure's settings: each one not given is the one the shards recorded (their
    /// `settings.json`), or the default where no shard recorded its settings. A study on the
    /// engine takes only --out, --quiet and --cache-dir: its shards recorded the rest.
    #[command(flatten)]
    pub tran: TranArgs,
}

/// `--shard` and `--interim` of the studies on the engine (`flymodel`, `dale`, `gevb`,
/// `modular`, `attention`).
#[derive(Args, Debug, Clone, Default)]
pub struct StudyShardArgs {
    /// Train only shard I of N (1 <= I <= N) of the study's runs, recorded in
    /// OUT/STUDY/shards/I-of-N/ with the flags they ran with, and write no report;
    /// `reproduce merge STUDY` combines the shards and writes the report (docs/reproduce.md).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Train nothing: write the report of the runs recorded so far (in OUT/STUDY/runs.csv and
    /// its shards') to OUT/STUDY/interim-report.md, marked as interim, beside a run still
    /// training (report.md is left alone). `reproduce interim STUDY` does it with the flags
    /// the shards recorded.
    #[arg(long, conflicts_with = "shard")]
    pub interim: bool,
    /// Set by `reproduce merge STUDY` (not a flag): merge the shards, then write the report.
    #[arg(skip)]
    pub merge: bool,
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
    /// The settings every shard and the merge run with.
    #[command(flatten)]
    pub tran: TranArgs,
}

/// `reproduce flymodel`.
#[derive(Args, Debug, Clone)]
pub struct FlyArgs {
    /// The benchmark, and so what `--data` holds (MNIST, KMNIST and Fashion-MNIST files share
    /// their names, so the kind is stated, not guessed; mnist20: `--data` holds MNIST; cifar10:
    /// any form of CIFAR-10 `cargo xtask data summary` reads).
    #[arg(
        long = "dataset",
        alias = "idx-kind",
        value_enum,
        default_value = "fashion-mnist"
    )]
    pub dataset: FlyDataset,
    /// The benchmark's data (default: the installed Fashion-MNIST, or for cifar10 the shared
    /// data folder's CIFAR-10).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// --dataset mnist20: the Fashion-MNIST IDX folder (default: the installed one).
    #[arg(long)]
    pub fashion_mnist: Option<PathBuf>,
    /// EWC strength λ (overrides the scale's).
    #[arg(long)]
    pub ewc_lambda: Option<f64>,
    /// Also run the A-GEM baseline (gradient episodic memory, single constraint).
    #[arg(long)]
    pub gem: bool,
    /// Write each FlyModel run's checkpoint (projection, weights, settings) to
    /// OUT/flymodel*/checkpoints/METHOD-rREPEAT.safetensors.
    #[arg(long)]
    pub save_learners: bool,
    /// Flags every study takes (the learners are small: --device must be cpu).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `--shard I/N` and `--interim`.
    #[command(flatten)]
    pub sharding: StudyShardArgs,
}

/// `reproduce dale`.
#[derive(Args, Debug, Clone)]
pub struct DaleArgs {
    /// The data: the IDX folder (default: $NEUROGEN_FASHION_MNIST or
    /// /usr/share/datasets/fashion-mnist), or with --dataset cifar10 any form of CIFAR-10
    /// `cargo xtask data summary` reads (default: the shared archive).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Add a fourth arm: Krotov & Hopfield's local rule, a stand-in for the seed paper's
    /// (unretrievable) rule, and decide the seed's four claims for it against the MLP.
    #[arg(long)]
    pub local_rule: bool,
    /// The dataset: fashion-mnist (default), mnist (the paper's; not installed here, so --data
    /// DIR with its four IDX files is required) or cifar10 (in colour, flattened to 3,072
    /// inputs; default --data: the shared CIFAR-10 archive).
    #[arg(long, value_enum, default_value_t = DaleDataset::FashionMnist)]
    pub dataset: DaleDataset,
    /// Flags every study takes (scales smoke and quick; --device must be cpu).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `--shard I/N` and `--interim`.
    #[command(flatten)]
    pub sharding: StudyShardArgs,
}

/// `--dataset` of `reproduce dale`: the IDX datasets and CIFAR-10.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaleDataset {
    /// Fashion-MNIST.
    FashionMnist,
    /// MNIST.
    Mnist,
    /// CIFAR-10, in colour, flattened to 3,072 inputs.
    Cifar10,
}

/// `--dataset` of the studies that read IDX files (`dale`, `modular`, `attention`): MNIST and
/// Fashion-MNIST share file names, so the user says which.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdxDataset {
    /// Fashion-MNIST.
    FashionMnist,
    /// MNIST.
    Mnist,
}

/// `reproduce gevb`.
#[derive(Args, Debug, Clone)]
pub struct GevbArgs {
    /// The data: with fashion-mnist the IDX folder (default: $NEUROGEN_FASHION_MNIST or
    /// /usr/share/datasets/fashion-mnist), with cifar10 any form of CIFAR-10 `data summary`
    /// reads (default: the shared archive ../shared/data/cifar10-jpeg.tar.gz).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The dataset: fashion-mnist (default), mnist (the paper's first table, with --data DIR
    /// holding MNIST's IDX files; writes into OUT/gevb-mnist/) or cifar10 (the paper's second
    /// table; writes into OUT/gevb-cifar10/, or OUT/gevb-conv-cifar10/ with --conv).
    #[arg(long, value_enum, default_value_t = GevbDataset::FashionMnist)]
    pub dataset: GevbDataset,
    /// Adds the convolutional arms (GEVB+ Conv-Vec, BP+ Conv-Vec, DFA+ Conv, BP+ Conv; a small
    /// shape at each scale) and writes into OUT/gevb-conv/.
    #[arg(long)]
    pub conv: bool,
    /// Adds the mixed-sign arms (GEVB and BP on FC-Vec without the "+" constraint) and writes
    /// into OUT/gevb-signed/ (suffixes combine: OUT/gevb-conv-signed-cifar10/).
    #[arg(long)]
    pub signed: bool,
    /// Flags every study takes (scales smoke and quick; --device must be cpu).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `--shard I/N` and `--interim`.
    #[command(flatten)]
    pub sharding: StudyShardArgs,
}

/// The datasets of `reproduce gevb`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum GevbDataset {
    /// Fashion-MNIST (the default; MNIST's shape).
    FashionMnist,
    /// MNIST, the paper's first table, from `--data DIR` holding its four IDX files (not
    /// installed here); writes into OUT/gevb-mnist/.
    Mnist,
    /// CIFAR-10, flattened to 3,072 inputs for the FC networks.
    Cifar10,
}

/// `reproduce modular`.
#[derive(Args, Debug, Clone)]
pub struct ModularArgs {
    /// The Fashion-MNIST IDX folder (default: $NEUROGEN_FASHION_MNIST or
    /// /usr/share/datasets/fashion-mnist).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The IDX dataset in --data: fashion-mnist (default) or mnist (the paper's; not installed
    /// here, so --data DIR with its four IDX files is required).
    #[arg(long, value_enum, default_value_t = IdxDataset::FashionMnist)]
    pub dataset: IdxDataset,
    /// The interconnections' scheme in place of the scale's (smoke: fixed mask, quick:
    /// Deep-R); the study then writes into OUT/modular-SCHEME (e.g. OUT/modular-fixed-mask).
    #[arg(long, value_enum)]
    pub scheme: Option<ModularScheme>,
    /// Flags every study takes (scales smoke and quick; --device must be cpu).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `--shard I/N` and `--interim`.
    #[command(flatten)]
    pub sharding: StudyShardArgs,
}

/// How `reproduce modular --scheme` keeps the interconnections sparse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModularScheme {
    /// Deep-R: connections rewire, their number stays fixed (the authors').
    DeepR,
    /// A random mask fixed at init (the comparison).
    FixedMask,
}

/// `reproduce attention`.
#[derive(Args, Debug, Clone)]
pub struct AttentionArgs {
    /// The Fashion-MNIST IDX folder (default: $NEUROGEN_FASHION_MNIST or
    /// /usr/share/datasets/fashion-mnist).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The IDX dataset in --data: fashion-mnist (default) or mnist (the paper's; not installed
    /// here, so --data DIR with its four IDX files is required).
    #[arg(long, value_enum, default_value_t = IdxDataset::FashionMnist)]
    pub dataset: IdxDataset,
    /// Flags every study takes (scale smoke; --device must be cpu).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `--shard I/N` and `--interim`.
    #[command(flatten)]
    pub sharding: StudyShardArgs,
}

/// `reproduce single-directions`.
#[derive(Args, Debug, Clone)]
pub struct SdArgs {
    /// CIFAR-10 location for the CNN (any form `cargo xtask data summary` accepts); default:
    /// the hub cache.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The Fashion-MNIST IDX folder of the MLP (default: $NEUROGEN_FASHION_MNIST or
    /// /usr/share/datasets/fashion-mnist).
    #[arg(long)]
    pub mlp_data: Option<PathBuf>,
    /// Flags every study takes.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Training flags.
    #[command(flatten)]
    pub training: TrainingArgs,
}

/// The settings a shard of a figure ran with (in its [`super::run::shard::SETTINGS_FILE`]): every flag that
/// enters a run's configuration hash or the split into shards, with the data resolved to the
/// file it was loaded from, so a merge neither repeats them nor looks the data up (no
/// download).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    /// The figure (`fig4`).
    pub figure: String,
    /// Where the data was loaded from (canonical).
    pub data: PathBuf,
    /// What the data holds (`CIFAR-10`).
    pub dataset: String,
    /// `--scale`, as on the command line (`smoke`).
    pub scale: String,
    /// `--repeats`, if given.
    pub repeats: Option<usize>,
    /// `--epochs`, if given.
    pub epochs: Option<usize>,
    /// `--lr`, if given.
    pub lr: Option<f64>,
    /// `--reference-quirks`.
    pub reference_quirks: bool,
    /// `--compare-reference`.
    pub compare_reference: bool,
    /// The replicas per batch the runs were split with (`--replicas`, resolved).
    pub replicas: usize,
    /// `--mix-groups`.
    pub mix_groups: bool,
}

impl Recorded {
    /// The settings of `figure` run with `args`, its data loaded from `data` (`dataset`), and
    /// `replicas` resolved.
    pub fn new(
        figure: &str,
        args: &TranArgs,
        data: &Path,
        dataset: &str,
        replicas: usize,
    ) -> Recorded {
        Recorded {
            figure: figure.to_string(),
            data: data.to_path_buf(),
            dataset: dataset.to_string(),
            scale: scale_name(args.common.scale()).to_string(),
            repeats: args.common.repeats,
            epochs: args.training.epochs,
            lr: args.training.lr,
            reference_quirks: args.reference_quirks,
            compare_reference: args.compare_reference,
            replicas,
            mix_groups: args.training.mix_groups,
        }
    }
}

impl TranArgs {
    /// These flags, each one not given taken from `rec` (a flag given wins: a setting other
    /// than the shards' is then refused by the configuration hashes, naming the runs).
    pub fn or_recorded(&self, rec: &Recorded) -> anyhow::Result<TranArgs> {
        let scale = match self.common.scale {
            Some(s) => s,
            None => <ScaleName as ValueEnum>::from_str(&rec.scale, false).map_err(|_| {
                anyhow::anyhow!(
                    "{}: the shards recorded --scale {:?}, which this xtask does not know",
                    rec.figure,
                    rec.scale
                )
            })?,
        };
        let data = match &self.data {
            Some(d) => d.clone(),
            None => {
                anyhow::ensure!(
                    rec.data.exists(),
                    "{}: the shards loaded {} from {}, which is not here: pass --data PATH",
                    rec.figure,
                    rec.dataset,
                    rec.data.display()
                );
                rec.data.clone()
            }
        };
        let mut a = self.clone();
        a.data = Some(data);
        a.common.scale = Some(scale);
        a.common.repeats = self.common.repeats.or(rec.repeats);
        a.training.epochs = self.training.epochs.or(rec.epochs);
        a.training.lr = self.training.lr.or(rec.lr);
        a.training.replicas = Some(
            self.training
                .replicas
                .clone()
                .unwrap_or_else(|| rec.replicas.to_string()),
        );
        a.training.mix_groups |= rec.mix_groups;
        if !(self.reference_quirks || self.compare_reference) {
            a.reference_quirks = rec.reference_quirks;
            a.compare_reference = rec.compare_reference;
        }
        Ok(a)
    }
}

/// `--scale`'s value for `s` (`smoke`).
pub fn scale_name(s: ScaleName) -> &'static str {
    match s {
        ScaleName::Smoke => "smoke",
        ScaleName::Quick => "quick",
        ScaleName::Paper => "paper",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tran(args: &[&str]) -> TranArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            tran: TranArgs,
        }
        Cli::try_parse_from(std::iter::once("merge").chain(args.iter().copied()))
            .unwrap()
            .tran
    }

    /// `reproduce modular --scheme S` writes into `modular-S`: each is a merge target.
    #[test]
    fn every_modular_scheme_directory_can_be_merged() {
        for s in ModularScheme::value_variants() {
            let dir = format!("modular-{}", s.to_possible_value().unwrap().get_name());
            assert!(merge_studies().contains(&dir.as_str()), "{dir}");
        }
    }

    #[test]
    fn scale_names_are_the_command_line_values() {
        for s in ScaleName::value_variants() {
            assert_eq!(
                s.to_possible_value().unwrap().get_name(),
                scale_name(*s),
                "{s:?}"
            );
        }
    }

    #[test]
    fn merge_takes_the_recorded_settings_where_no_flag_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let rec = Recorded {
            figure: "fig4".into(),
            data: dir.path().to_path_buf(),
            dataset: "CIFAR-10".into(),
            scale: "smoke".into(),
            repeats: Some(3),
            epochs: Some(1),
            lr: None,
            reference_quirks: false,
            compare_reference: true,
            replicas: 20,
            mix_groups: true,
        };
        let a = tran(&["--out", "x"]).or_recorded(&rec).unwrap();
        assert_eq!(a.data.as_deref(), Some(dir.path()));
        assert_eq!(a.common.scale, Some(ScaleName::Smoke));
        assert_eq!(
            (a.common.repeats, a.training.epochs, a.training.lr),
            (Some(3), Some(1), None)
        );
        assert_eq!(a.training.replicas(), "20");
        assert!(a.training.mix_groups && a.compare_reference && !a.reference_quirks);
        assert_eq!(Recorded::new("fig4", &a, dir.path(), "CIFAR-10", 20), rec);
        // A flag given wins (the configuration hashes then refuse the merge, naming the runs).
        let b = tran(&["--scale", "quick", "--lr", "0.002", "--reference-quirks"])
            .or_recorded(&rec)
            .unwrap();
        assert_eq!(b.common.scale, Some(ScaleName::Quick));
        assert_eq!(b.training.lr, Some(0.002));
        assert!(b.reference_quirks && !b.compare_reference);
        // Data recorded where this machine has none: say so, and how to go on.
        let gone = Recorded {
            data: dir.path().join("nowhere"),
            ..rec.clone()
        };
        let e = tran(&[]).or_recorded(&gone).unwrap_err().to_string();
        assert!(e.contains("which is not here: pass --data"), "{e}");
        assert!(tran(&["--data", "elsewhere"]).or_recorded(&gone).is_ok());
    }
}
