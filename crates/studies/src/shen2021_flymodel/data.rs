//! The learners' inputs: raw pixels of the benchmark's images (MNIST-20: MNIST's and
//! Fashion-MNIST's, as 20 classes), or for CIFAR-10 the features of a frozen CNN trained on the
//! half of the training set the benchmark does not use ([`neurogen_learners::features`]).
use std::path::PathBuf;

use neurogen_data::{Dataset, Split};
use neurogen_lab::events::{Event, Observer};
use neurogen_learners::features::{self, CacheStatus, ExtractorReport, FeatureJob};
use neurogen_learners::FeatureSplit;
use serde::{Deserialize, Serialize};

use super::error::{FlyError, Result};
use super::settings::{Benchmark, FlyScale};

/// The seed of the CIFAR-10 split between the extractor and the benchmark.
pub const EXTRACTOR_SPLIT_SEED: u64 = 0;

/// What a study reads: the dataset of the benchmark's kind and, for MNIST-20, Fashion-MNIST.
pub struct FlyData<'a> {
    /// The benchmark's dataset (its kind is [`Benchmark::data_kind`]).
    pub main: &'a Dataset,
    /// Where it was read (the report's `Data:` line).
    pub source: String,
    /// MNIST-20's second half: Fashion-MNIST and where it was read.
    pub fashion: Option<(&'a Dataset, String)>,
    /// Where the CIFAR-10 features are cached (None: not cached).
    pub feature_cache: Option<PathBuf>,
}

/// The images the runs were trained and tested on, and the extractor their features came
/// from: `features.json` in the study's directory, written when features are first prepared
/// and checked on every later preparation (runs of other data are never mixed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureRecord {
    /// Training images the learners saw.
    pub train_images: usize,
    /// Test images.
    pub test_images: usize,
    /// The frozen extractor the features came from (None: raw pixels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extractor: Option<ExtractorReport>,
}

/// The file name of the [`FeatureRecord`] in the study's directory.
pub const FEATURE_RECORD: &str = "features.json";

/// The learners' training and test features, and their record.
pub(crate) struct Prepared {
    pub train: FeatureSplit,
    pub test: FeatureSplit,
    pub record: FeatureRecord,
}

/// `n` images of `split` (a seeded sample; None or `n >= len`: all of them).
fn pick(split: &Split, n: Option<usize>) -> Result<Split> {
    Ok(match n {
        Some(n) if n < split.len() => split.sample(n, 0)?,
        _ => split.clone(),
    })
}

/// Sends `line` to the observer as a note.
fn note(observer: &mut dyn Observer, line: String) {
    observer.event(&Event::Note(line));
}

/// The features of `benchmark` at `scale` from `data`; warnings (an unusable feature cache) go
/// to `warn`.
pub(crate) fn prepare(
    benchmark: Benchmark,
    scale: &FlyScale,
    data: &FlyData,
    observer: &mut dyn Observer,
    warn: &mut dyn FnMut(String),
) -> Result<Prepared> {
    let main = data.main;
    let raw = |d: &Dataset| -> Result<(FeatureSplit, FeatureSplit)> {
        Ok((
            FeatureSplit::from_pixels(&pick(&d.train, scale.train_images)?),
            FeatureSplit::from_pixels(&pick(&d.test, scale.test_images)?),
        ))
    };
    let (train, test, extractor) = match (&scale.extractor, benchmark) {
        (None, Benchmark::Mnist20) => {
            let (fashion, _) = data.fashion.as_ref().ok_or_else(|| {
                FlyError::InvalidArgument(
                    "MNIST-20 needs Fashion-MNIST too (--fashion-mnist DIR)".into(),
                )
            })?;
            let (mtr, mte) = raw(main)?;
            let (ftr, fte) = raw(fashion)?;
            (mtr.concat(&ftr, 10)?, mte.concat(&fte, 10)?, None)
        }
        (None, _) => {
            let (train, test) = raw(main)?;
            (train, test, None)
        }
        (Some(e), _) => {
            // A seeded half of the training set trains the extractor; the other half (which
            // the extractor never sees) is the benchmark's training set.
            let n = main.train.len();
            let half = neurogen_data::sample_indices(n, n / 2, EXTRACTOR_SPLIT_SEED);
            let mut in_half = vec![false; n];
            for &i in &half {
                in_half[i] = true;
            }
            let rest: Vec<usize> = (0..n).filter(|&i| !in_half[i]).collect();
            let ext_train = pick(&main.train.subset(&half), e.images)?;
            let bench_train = pick(&main.train.subset(&rest), scale.train_images)?;
            let test = pick(&main.test, scale.test_images)?;
            let cfg = e.config(main.kind);
            let job = FeatureJob {
                config: &cfg,
                extractor_train: &ext_train,
                extractor_eval: &test,
                train: &bench_train,
                test: &test,
            };
            note(
                observer,
                format!(
                    "flymodel: features of a CNN trained on {} of the {} extractor images ({} epochs), cache {}",
                    ext_train.len(),
                    half.len(),
                    e.epochs,
                    data.feature_cache
                        .as_ref()
                        .map_or("off".to_string(), |p| p.display().to_string())
                ),
            );
            let mut progress = Progress {
                observer: &mut *observer,
                last: 0,
            };
            let (f, status) =
                features::extract(&job, data.feature_cache.as_deref(), &mut progress)?;
            match status {
                CacheStatus::Recomputed { path, reason } => warn(format!(
                    "flymodel: the feature cache {} was not usable ({reason}); recomputed and replaced",
                    path.display()
                )),
                CacheStatus::NotWritten(reason) => {
                    warn(format!("flymodel: the features could not be cached: {reason}"))
                }
                CacheStatus::Hit(p) => note(
                    observer,
                    format!("flymodel: features read from {}", p.display()),
                ),
                _ => {}
            }
            note(
                observer,
                format!(
                    "flymodel: extractor test accuracy {:.3} ({} images); {:.0} s training, {:.0} s features",
                    f.report.eval_accuracy,
                    f.report.eval_images,
                    f.report.train_seconds,
                    f.report.feature_seconds
                ),
            );
            (f.train, f.test, Some(f.report))
        }
    };
    let record = FeatureRecord {
        train_images: train.len(),
        test_images: test.len(),
        extractor,
    };
    Ok(Prepared {
        train,
        test,
        record,
    })
}

/// Sends the extractor's training progress every 100 steps as notes.
struct Progress<'o> {
    observer: &'o mut dyn Observer,
    last: usize,
}

impl neurogen_model::TrainObserver for Progress<'_> {
    fn on_step(&mut self, epoch: usize, batch: usize, batches: usize, loss: f64) {
        self.last += 1;
        if self.last == 100 || batch + 1 == batches {
            self.last = 0;
            note(
                self.observer,
                format!(
                    "flymodel: extractor epoch {} batch {}/{batches} loss {loss:.3}",
                    epoch + 1,
                    batch + 1
                ),
            );
        }
    }
}
