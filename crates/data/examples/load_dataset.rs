//! Loads a dataset with `neurogen-data` and shows what a training program gets from it: the
//! splits, a seeded validation split and one preprocessed minibatch as candle tensors.
//!
//! ```sh
//! cargo run --release -p neurogen-data --example load_dataset -- PATH
//! ```
//! `PATH` is any supported source (a CIFAR-10 archive or folder, Fashion-MNIST's IDX folder);
//! without one, the example uses Fashion-MNIST where the `dataset-fashion-mnist` package
//! installs it (or `$NEUROGEN_FASHION_MNIST`), and skips with a message if it is absent. The
//! decode cache is off, so nothing is written.
use std::path::PathBuf;
use std::time::Instant;

use candle_core::Device;
use neurogen_data::{epoch_batches, fashion_mnist_dir, load, Dataset, LoadOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(std::env::args_os().nth(1).map(PathBuf::from))?;
    Ok(())
}

/// Loads `path` (or the installed Fashion-MNIST), prints what was found and returns the
/// dataset (`None`: nothing to load, skipped).
pub fn run(path: Option<PathBuf>) -> Result<Option<Dataset>, Box<dyn std::error::Error>> {
    let path = match path {
        Some(p) => p,
        None => match fashion_mnist_dir() {
            Some(d) => d,
            None => {
                eprintln!(
                    "SKIP: no dataset given and Fashion-MNIST is not installed \
                     (apt-get install dataset-fashion-mnist, or pass a path)"
                );
                return Ok(None);
            }
        },
    };
    let t0 = Instant::now();
    let opts = LoadOptions {
        use_cache: false,
        ..LoadOptions::default()
    };
    let loaded = load(&path, &opts)?;
    let ds = &loaded.dataset;
    let s = ds.shape;
    println!(
        "{} from {} ({}): {} training and {} test images of {}x{}x{}, {} classes, loaded in {:.1} s",
        ds.kind,
        loaded.source.display(),
        loaded.form,
        ds.train.len(),
        ds.test.len(),
        s.channels,
        s.height,
        s.width,
        ds.num_classes(),
        t0.elapsed().as_secs_f64()
    );

    // The paper's protocol holds out a tenth of the training images for validation (seeded).
    let (train, val) = ds.train_val_split(ds.train.len() / 10, 0)?;
    println!(
        "validation split (seed 0): {} training, {} validation images",
        train.len(),
        val.len()
    );

    // Minibatch order of epoch 0 (seeded), first minibatch as tensors, preprocessed as the
    // paper does: (x - 0.5) / 0.5 per channel, x in [0, 1].
    let batches = epoch_batches(train.len(), 128, 0, 0);
    let (x, y) = train.batch(&batches[0], &Device::Cpu)?;
    let (lo, hi) = (
        x.min_all()?.to_scalar::<f32>()?,
        x.max_all()?.to_scalar::<f32>()?,
    );
    println!(
        "{} minibatches of 128 per epoch; the first: images {:?} in [{lo:.2}, {hi:.2}], labels {:?}",
        batches.len(),
        x.dims(),
        y.dims()
    );
    Ok(Some(loaded.dataset))
}
