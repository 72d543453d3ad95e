//! `cargo xtask data ...`: inspect the datasets the reproduction uses (CIFAR-10, Fashion-MNIST).
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use neurogen_data::{LoadOptions, Loaded};
use serde::Serialize;

/// Arguments of `cargo xtask data`.
#[derive(Args)]
pub struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Load a dataset and print its kind, image shape, per-split and per-class counts, and
    /// where its decode cache lives.
    Summary(SummaryArgs),
}

#[derive(Args)]
struct SummaryArgs {
    /// Dataset location: CIFAR-10 binary release (folder or cifar-10-binary.tar.gz), an image
    /// folder (`train/<class>/*`, `test/<class>/*`) or such a folder as .tar.gz, a folder of
    /// Hugging Face parquet files, or a Fashion-MNIST IDX folder. Without it: CIFAR-10 from the
    /// Hugging Face hub cache, downloaded if absent.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Decode-cache directory (default: $NEUROGEN_CACHE_DIR, $XDG_CACHE_HOME/neurogen or
    /// ~/.cache/neurogen).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Decode without reading or writing the cache.
    #[arg(long)]
    no_cache: bool,
}

#[derive(Serialize)]
struct ClassCount {
    label: usize,
    class: String,
    count: usize,
}

#[derive(Serialize)]
struct SplitSummary {
    name: &'static str,
    total: usize,
    per_class: Vec<ClassCount>,
}

#[derive(Serialize)]
struct CacheSummary {
    path: Option<PathBuf>,
    from_cache: bool,
    note: Option<String>,
}

#[derive(Serialize)]
struct Summary {
    kind: neurogen_data::DatasetKind,
    kind_name: String,
    source: PathBuf,
    form: neurogen_data::SourceForm,
    form_name: String,
    shape: neurogen_data::ImageShape,
    shape_str: String,
    num_classes: usize,
    splits: Vec<SplitSummary>,
    cache: CacheSummary,
    load_seconds: f64,
}

fn summarise(l: &Loaded) -> Summary {
    let ds = &l.dataset;
    let split = |name, s: &neurogen_data::Split| SplitSummary {
        name,
        total: s.len(),
        per_class: s
            .class_counts(ds.num_classes())
            .into_iter()
            .enumerate()
            .map(|(label, count)| ClassCount {
                label,
                class: ds.class_names[label].clone(),
                count,
            })
            .collect(),
    };
    Summary {
        kind: ds.kind,
        kind_name: ds.kind.to_string(),
        source: l.source.clone(),
        form: l.form,
        form_name: l.form.to_string(),
        shape: ds.shape,
        shape_str: ds.shape.to_string(),
        num_classes: ds.num_classes(),
        splits: vec![split("train", &ds.train), split("test", &ds.test)],
        cache: CacheSummary {
            path: l.cache_path.clone(),
            from_cache: l.from_cache,
            note: l.cache_note.clone(),
        },
        load_seconds: l.load_time.as_secs_f64(),
    }
}

fn print_text(s: &Summary) {
    println!("dataset:  {} ({})", s.kind_name, s.form_name);
    println!("source:   {}", s.source.display());
    println!("shape:    {} (channels x height x width)", s.shape_str);
    for sp in &s.splits {
        println!("{}: {} images", sp.name, sp.total);
        for c in &sp.per_class {
            println!("  {:>2} {:<12} {:>6}", c.label, c.class, c.count);
        }
    }
    match &s.cache.path {
        Some(p) => println!(
            "cache:    {} ({})",
            p.display(),
            if s.cache.from_cache {
                "served from the cache"
            } else {
                "decoded, cache written"
            }
        ),
        None => println!("cache:    off"),
    }
    if let Some(n) = &s.cache.note {
        println!("          note: {n}");
    }
    println!("load:     {:.3} s", s.load_seconds);
}

/// Runs `cargo xtask data`.
pub fn run(args: DataArgs) -> anyhow::Result<()> {
    match args.command {
        DataCommand::Summary(a) => {
            let opts = LoadOptions {
                cache_dir: a.cache_dir.clone(),
                use_cache: !a.no_cache,
                ..LoadOptions::default()
            };
            let loaded = match &a.data {
                Some(p) => neurogen_data::load(p, &opts)
                    .with_context(|| format!("loading dataset from {}", p.display()))?,
                None => neurogen_data::load_default(&opts).context("loading CIFAR-10")?,
            };
            let s = summarise(&loaded);
            if a.json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print_text(&s);
            }
            Ok(())
        }
    }
}
