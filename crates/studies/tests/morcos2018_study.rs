//! The single-directions study from the library, end to end on synthetic images (no dataset
//! needed), through a context of its own that trains with the CNN runner ([`SdContext`]): every
//! arm trains, every network is analysed and its analysis saved, every claim gets a row, a rerun
//! without the checkpoints trains and analyses nothing and writes the same report, and a
//! damaged saved analysis is named.
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};

use candle_core::Device;
use neurogen_data::{Dataset, DatasetKind, Split};
use neurogen_model::Silent;
use neurogen_studies::cache::CacheError;
use neurogen_studies::cnn::{self, BatchTiming, FigureData, RunRecord, RunSpec};
use neurogen_studies::morcos2018::{run, SdContext, SdData, SdError, SdScale, NAME};
use neurogen_studies::tran2022::figure::Group;
use neurogen_studies::ScaleName;

/// `n` images of `kind`: image `i` has label `i % 10`, a brighter band of rows for its class
/// and a little deterministic noise.
fn images(kind: DatasetKind, n: usize) -> Split {
    let shape = kind.shape();
    let (h, w) = (shape.height, shape.width);
    let mut pixels = Vec::with_capacity(n * shape.channels * h * w);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % 10;
        labels.push(c as u8);
        for p in 0..shape.channels * h * w {
            let row = (p / w) % h;
            pixels.push(if (2 * c..2 * c + 3).contains(&row) {
                200
            } else {
                ((p * 7 + i * 13) % 40) as u8
            });
        }
    }
    Split::new(shape, pixels, labels).unwrap()
}

fn dataset(kind: DatasetKind) -> Dataset {
    Dataset::new(kind, images(kind, 20), images(kind, 20)).unwrap()
}

/// Smoke's arms at tiny sizes: 16 training images, 1 epoch, 20 test images (every class).
fn tiny() -> SdScale {
    SdScale {
        cnn_train_images: 16,
        mlp_train_images: 16,
        test_images: 20,
        cnn_epochs: 1,
        mlp_epochs: 1,
        short_epochs: 1,
        analysis_images: 8,
        ..SdScale::new(ScaleName::Smoke)
    }
}

/// A context that trains each missing run alone with the CNN runner and keeps the rows in
/// memory (the command line's keeps them in `runs.csv`); with `frozen`, it trains nothing.
struct Ctx {
    scale: SdScale,
    dir: PathBuf,
    device: Device,
    rows: RefCell<Vec<RunRecord>>,
    trained: Cell<usize>,
    frozen: bool,
}

impl Ctx {
    fn new(dir: &Path, rows: Vec<RunRecord>, frozen: bool) -> Ctx {
        Ctx {
            scale: tiny(),
            dir: dir.to_path_buf(),
            device: Device::Cpu,
            rows: RefCell::new(rows),
            trained: Cell::new(0),
            frozen,
        }
    }
}

impl SdContext for Ctx {
    fn scale(&self) -> &SdScale {
        &self.scale
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn train(
        &self,
        data: &FigureData,
        group: &Group,
        repeats: usize,
    ) -> Result<Vec<RunRecord>, SdError> {
        // Where the CNN runner saves a run's checkpoint and curves.
        for sub in ["checkpoints", "curves"] {
            std::fs::create_dir_all(self.dir.join(sub)).unwrap();
        }
        let mut out = Vec::new();
        for repeat in 0..repeats {
            let known = self
                .rows
                .borrow()
                .iter()
                .find(|r| r.group == group.name && r.repeat == repeat)
                .cloned();
            let row = match known {
                Some(row) => row,
                None => {
                    assert!(!self.frozen, "{} r{repeat} trained again", group.name);
                    let spec = RunSpec {
                        figure: NAME.into(),
                        group: group.name.clone(),
                        repeat,
                        specs: group.specs.clone(),
                        reference_quirks: group.quirks,
                        epochs: group.epochs,
                        batch_size: self.scale.batch_size,
                        lr: self.scale.lr,
                        dataset: data.dataset.clone(),
                        train_images: data.train.len(),
                        test_images: data.test.len(),
                        curve_split: data.curve_name.clone(),
                        model: data.model.clone(),
                    };
                    let mut runs = vec![cnn::prepare(&self.device, data, &spec)?];
                    let outcomes = cnn::train(&mut runs, data, &mut Silent, &group.name)?;
                    let timing = BatchTiming {
                        wall_seconds: 1.0,
                        replicas: 1,
                    };
                    let (run, outcome) = (runs.pop().unwrap(), outcomes.into_iter().next());
                    let row = cnn::record(
                        &self.dir,
                        &self.device,
                        data,
                        &spec,
                        run,
                        outcome.unwrap(),
                        timing,
                    )?;
                    self.trained.set(self.trained.get() + 1);
                    self.rows.borrow_mut().push(row.clone());
                    row
                }
            };
            out.push(row);
        }
        Ok(out)
    }
}

#[test]
fn the_study_runs_from_the_library_and_rederives_its_report_without_checkpoints() {
    let (cifar, fashion) = (
        dataset(DatasetKind::Cifar10),
        dataset(DatasetKind::FashionMnist),
    );
    let data = SdData {
        cifar: &cifar,
        fashion: &fashion,
        sources: (
            "synthetic CIFAR-10".into(),
            "synthetic Fashion-MNIST".into(),
        ),
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(NAME);
    let ctx = Ctx::new(&dir, Vec::new(), false);
    let path = run(&ctx, &data).unwrap();
    assert_eq!(path, dir.join("report.md"));
    // 7 arms (CNN f = 0, 1; MLP f = 0, 1; dropout 0.4; narrow; short) × 2 repeats.
    assert_eq!(ctx.trained.get(), 14);
    let report = std::fs::read_to_string(&path).unwrap();
    assert!(report.starts_with("# Single directions and generalisation (Morcos et al., ICLR 2018)"));
    assert!(report.contains("Data: `synthetic CIFAR-10` and `synthetic Fashion-MNIST`"));
    let claims = report.split("## Claims").nth(1).unwrap();
    let rows: Vec<&str> = claims.lines().filter(|l| l.starts_with("| (")).collect();
    // Claim 1: CNN ×3 and MLP ×2; claim 2: 3; claim 3: 3; claim 4: one per dropout setting.
    assert_eq!(rows.len(), 12, "{claims}");
    for r in &rows {
        assert!(r.ends_with("** |"), "no verdict in {r}");
    }
    // One saved analysis per network, in analysis/STEM.json's format: the CNNs with their last
    // convolution, the MLPs without.
    let saved: Vec<PathBuf> = std::fs::read_dir(dir.join("analysis"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(saved.len(), 14);
    for p in &saved {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["config_hash", "conv", "hidden", "settings"],
            "{}",
            p.display()
        );
        let mlp = p.file_name().unwrap().to_string_lossy().starts_with("mlp");
        assert_eq!(v["conv"].is_null(), mlp, "{}", p.display());
    }
    // A rerun without the checkpoints: every run is known and every analysis saved, so nothing
    // is trained or analysed, and the report is the same.
    std::fs::remove_dir_all(dir.join("checkpoints")).unwrap();
    let again = Ctx::new(&dir, ctx.rows.take(), true);
    run(&again, &data).unwrap();
    assert_eq!(again.trained.get(), 0);
    assert_eq!(report, std::fs::read_to_string(&path).unwrap());
    // A damaged saved analysis is named, not silently redone.
    std::fs::write(&saved[0], "{not json").unwrap();
    let e = run(&again, &data).unwrap_err();
    assert!(
        matches!(e, SdError::Cache(CacheError::Damaged { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("delete it"), "{e}");
}
