//! Pieces shared by the subcommands: loading data, progress bars, writing JSON atomically.
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use neurogen_data::{LoadOptions, Loaded};
use neurogen_model::{EpochMetrics, TrainObserver};

/// Minibatch size of every evaluation pass (the library's constant).
pub use neurogen_model::EVAL_BATCH;

/// Loads the dataset at `path` (any supported form), or the default (hub cache / download).
pub fn load_data(path: Option<&Path>, cache_dir: Option<&Path>) -> anyhow::Result<Loaded> {
    let opts = match cache_dir {
        Some(d) => LoadOptions::with_cache_dir(d),
        None => LoadOptions::default(),
    };
    match path {
        Some(p) => {
            if !p.exists() {
                anyhow::bail!("--data {}: no such file or directory", p.display());
            }
            neurogen_data::load(p, &opts)
                .with_context(|| format!("loading data from {}", p.display()))
        }
        None => neurogen_data::load_default(&opts).context("loading the default dataset"),
    }
}

/// The checkpoint at `path` (`--checkpoint`) on `device` and the dataset at `data` (or the
/// default), refusing a missing file or a directory (`expected` says what the file should be,
/// e.g. "model.safetensors written by `cargo xtask train`") and a dataset whose image shape is
/// not the one the network takes.
pub fn load_checkpoint_and_data(
    path: &Path,
    expected: &str,
    data: Option<&Path>,
    cache_dir: Option<&Path>,
    device: &candle_core::Device,
) -> anyhow::Result<(neurogen_model::checkpoint::Checkpoint, Loaded)> {
    if !path.exists() {
        anyhow::bail!(
            "--checkpoint {}: no such file (expected {expected})",
            path.display()
        );
    }
    if path.is_dir() {
        anyhow::bail!(
            "--checkpoint {}: is a directory, expected a checkpoint file (e.g. {})",
            path.display(),
            path.join("model.safetensors").display()
        );
    }
    let ck = neurogen_model::checkpoint::load(path, device)?;
    let loaded = load_data(data, cache_dir)?;
    let (cfg, shape) = (ck.model.config(), loaded.dataset.shape);
    anyhow::ensure!(
        (cfg.in_channels, cfg.in_height, cfg.in_width)
            == (shape.channels, shape.height, shape.width),
        "checkpoint {} takes {}x{}x{} images but {} has {}",
        path.display(),
        cfg.in_channels,
        cfg.in_height,
        cfg.in_width,
        loaded.source.display(),
        shape
    );
    Ok((ck, loaded))
}

/// Writes `value` as pretty JSON to `path` atomically ([`neurogen_io::write_atomic`]).
pub fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    Ok(neurogen_io::write_atomic(path, text.as_bytes())?)
}

/// Creates the `--out` directory `dir` (and parents) and checks that files can be written in
/// it (by creating and removing a probe file), so that a bad `--out` fails before any work
/// rather than after hours of training. Errors name the path and what is wrong with it.
pub fn ensure_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!(
            "--out {}: exists and is not a directory (pass a directory; it is created if absent)",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "--out {}: cannot create the output directory",
            dir.display()
        )
    })?;
    let probe = dir.join(format!(".neurogen-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .with_context(|| {
            format!(
                "--out {}: the output directory is not writable",
                dir.display()
            )
        })?;
    Ok(dir.to_path_buf())
}

/// Prints one line of progress: above the bars on a terminal, as a plain line on stderr when
/// stderr is a file or pipe (a `nohup` or Slurm log, where indicatif draws nothing), not at
/// all when `quiet`.
pub fn progress_line(bar: &ProgressBar, quiet: bool, line: &str) {
    use std::io::IsTerminal;
    if quiet {
        return;
    }
    if std::io::stderr().is_terminal() {
        bar.println(line);
    } else {
        eprintln!("{line}");
    }
}

/// A progress bar over training steps: epoch, step, loss, images per second; each epoch's
/// summary also as a line ([`progress_line`]).
pub struct ProgressObserver {
    bar: ProgressBar,
    batch_size: usize,
    loss_ema: Option<f64>,
    prefix: String,
    quiet: bool,
}

impl ProgressObserver {
    /// A bar for `epochs` epochs of `batches` steps; hidden when `quiet` (e.g. `--json`).
    pub fn new(
        epochs: usize,
        batches: usize,
        batch_size: usize,
        prefix: &str,
        quiet: bool,
    ) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new((epochs * batches) as u64)
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}<{eta_precise}] {bar:30.cyan/blue} {pos}/{len} steps {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(prefix.to_string());
        bar.enable_steady_tick(Duration::from_millis(500));
        ProgressObserver {
            bar,
            batch_size,
            loss_ema: None,
            prefix: prefix.to_string(),
            quiet,
        }
    }

    /// Shows the bar inside `multi` (below the other bars there).
    pub fn in_multi(self, multi: &indicatif::MultiProgress) -> Self {
        let bar = if self.bar.is_hidden() {
            self.bar
        } else {
            multi.add(self.bar)
        };
        ProgressObserver { bar, ..self }
    }

    /// Finishes and clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl TrainObserver for ProgressObserver {
    // `is_multiple_of` needs Rust 1.87; the workspace supports 1.85.
    #[allow(unknown_lints, clippy::manual_is_multiple_of)]
    fn on_step(&mut self, epoch: usize, batch: usize, batches: usize, loss: f64) {
        let ema = match self.loss_ema {
            Some(e) => 0.98 * e + 0.02 * loss,
            None => loss,
        };
        self.loss_ema = Some(ema);
        self.bar.inc(1);
        if batch % 20 == 0 || batch + 1 == batches {
            let per_sec = self.bar.per_sec() * self.batch_size as f64;
            self.bar.set_message(format!(
                "epoch {} step {}/{} loss {ema:.4} {per_sec:.0} img/s",
                epoch + 1,
                batch + 1,
                batches
            ));
        }
    }

    fn on_epoch(&mut self, m: &EpochMetrics) {
        let eval = m
            .eval
            .map(|e| {
                format!(
                    ", held-out loss {:.4} accuracy {:.2}%",
                    e.loss,
                    100.0 * e.accuracy
                )
            })
            .unwrap_or_default();
        let line = format!(
            "{} epoch {}: train loss {:.4}{eval}, {:.0} img/s",
            self.prefix,
            m.epoch + 1,
            m.train_loss,
            m.images_per_second
        );
        progress_line(&self.bar, self.quiet, &line);
    }
}
