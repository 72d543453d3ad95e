//! A learner of one's own through the class-incremental harness of `neurogen-learners`:
//! implement [`Learner`] (here a nearest-class-mean classifier, 40 lines), hand it to
//! [`run_class_incremental`] beside the fruit-fly model, and read the accuracy matrix,
//! seen-class accuracy and memory loss of both.
//!
//! ```sh
//! cargo run --release -p neurogen-learners --example custom_learner
//! ```
//! Runs on 2,000 training and 1,000 test images of Fashion-MNIST (pixels as features, five
//! tasks of two classes) where the `dataset-fashion-mnist` package installs it (or
//! `$NEUROGEN_FASHION_MNIST`), and skips with a message where it is absent.
use candle_core::Tensor;
use neurogen_data::{fashion_mnist_dir, load, LoadOptions};
use neurogen_learners::harness::{run_class_incremental, IncrementalResult};
use neurogen_learners::learner::{host_batch, host_inputs};
use neurogen_learners::{
    FeatureSplit, FlyConfig, FlyModel, HarnessConfig, Learner, Result, TaskSequence,
};

/// Classifies by the nearest class mean (squared Euclidean distance); learning is updating the
/// running mean of each class, so nothing learnt is ever overwritten.
struct NearestMean {
    dim: usize,
    sums: Vec<f64>,
    counts: Vec<usize>,
}

impl NearestMean {
    fn new(dim: usize, classes: usize) -> Self {
        NearestMean {
            dim,
            sums: vec![0.0; dim * classes],
            counts: vec![0; classes],
        }
    }
}

impl Learner for NearestMean {
    fn name(&self) -> String {
        "nearest-mean".into()
    }

    fn classes(&self) -> usize {
        self.counts.len()
    }

    fn learn(&mut self, x: &Tensor, y: &Tensor) -> Result<()> {
        // Checks shapes and labels, with the errors every learner gives.
        let (xs, ys) = host_batch(x, y, self.dim, self.classes())?;
        for (row, &c) in xs.chunks(self.dim).zip(&ys) {
            let sum = &mut self.sums[c as usize * self.dim..(c as usize + 1) * self.dim];
            sum.iter_mut().zip(row).for_each(|(s, &v)| *s += v as f64);
            self.counts[c as usize] += 1;
        }
        Ok(())
    }

    fn scores(&self, x: &Tensor) -> Result<Tensor> {
        let xs = host_inputs(x, self.dim)?;
        let n = xs.len() / self.dim;
        let mut scores = Vec::with_capacity(n * self.classes());
        for row in xs.chunks(self.dim) {
            for (c, &count) in self.counts.iter().enumerate() {
                let sum = &self.sums[c * self.dim..(c + 1) * self.dim];
                let d: f64 = if count == 0 {
                    f64::INFINITY // a class not seen yet
                } else {
                    row.iter()
                        .zip(sum)
                        .map(|(&v, &s)| (v as f64 - s / count as f64).powi(2))
                        .sum()
                };
                scores.push(-d as f32); // higher is more likely
            }
        }
        Ok(Tensor::from_vec(scores, (n, self.classes()), x.device())?)
    }
}

fn print(result: &IncrementalResult) {
    println!("{}:", result.learner);
    for (t, row) in result.accuracy.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(|a| format!("{:5.1}", 100.0 * a)).collect();
        println!(
            "  after task {t} {:?}: per task {}  seen classes {:5.1} %",
            result.tasks[t],
            cells.join(" "),
            100.0 * result.seen_accuracy[t]
        );
    }
    println!(
        "  final accuracy {:.1} %, mean memory loss {:.1} points",
        100.0 * result.final_accuracy(),
        100.0 * result.mean_memory_loss()
    );
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    run()?;
    Ok(())
}

/// Runs both learners and returns their results, the nearest-mean one's first (`None`: no
/// Fashion-MNIST, skipped).
pub fn run() -> std::result::Result<Option<[IncrementalResult; 2]>, Box<dyn std::error::Error>> {
    let Some(dir) = fashion_mnist_dir() else {
        eprintln!(
            "SKIP: Fashion-MNIST not found (apt-get install dataset-fashion-mnist, or set \
             NEUROGEN_FASHION_MNIST)"
        );
        return Ok(None);
    };
    let opts = LoadOptions {
        use_cache: false,
        ..LoadOptions::default()
    };
    let ds = load(&dir, &opts)?.dataset;
    let train = FeatureSplit::from_pixels(&ds.train.sample(2_000, 0)?);
    let test = FeatureSplit::from_pixels(&ds.test.sample(1_000, 0)?);
    let classes = ds.num_classes();
    let tasks = TaskSequence::in_order(classes, 2)?;
    let cfg = HarnessConfig {
        epochs: 1,
        batch_size: 16,
        seed: 0,
    };

    let mut mine = NearestMean::new(train.dim(), classes);
    let mine = run_class_incremental(&mut mine, &train, &test, &tasks, &cfg, &mut |_, _| {})?;
    print(&mine);

    // The fly model with fewer Kenyon cells than the paper's 40 per input, to run in seconds.
    let mut fly = FlyModel::new(FlyConfig {
        kenyon_cells: 4_000,
        ..FlyConfig::new(train.dim(), classes)
    })?;
    let fly = run_class_incremental(&mut fly, &train, &test, &tasks, &cfg, &mut |_, _| {})?;
    print(&fly);
    Ok(Some([mine, fly]))
}
