//! Trains Krotov & Hopfield's local rule (then its read-out) through the learner seam on real
//! Fashion-MNIST and prints test accuracy and the plausibility report's headline numbers
//! (weight-magnitude fits, Dale compliance, weight and activity sparsity, FGSM and PGD on the
//! read-out's outputs as logits); writes the report
//! as JSON when `--out FILE` is given.
//!
//! ```text
//! cargo run -p neurogen-studies --example krotov2019_local_smoke -- --train 2000 --test 2000 \
//!     [--hidden 100] [--unsup-epochs 10] [--readout-epochs 20] [--batch 100] [--beta 0.01] \
//!     [--readout-lr 0.01] [--power 4.5] [--eps0 0.02] \
//!     [--init-std 1] [--seed 0] [--out FILE]
//! ```
//! Not the paper's experiment (MNIST, 2,000 hidden units, hundreds of epochs): a short check
//! that the rule learns features a read-out can use.
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor, D};
use neurogen_analysis::plausibility::Family;
use neurogen_learners::Learner;
use neurogen_studies::cornford2021_dale::{
    fgsm_curve, pgd_curve, plausibility_report, unit_tensors, DaleError,
};
use neurogen_studies::krotov2019_local::{KrotovConfig, KrotovLearner};

fn main() -> Result<()> {
    let (mut n_train, mut n_test, mut out) = (2000usize, 2000usize, None);
    let mut cfg = KrotovConfig::notebook(784, 10);
    let (mut unsup, mut readout_epochs, mut batch) = (10usize, 20usize, 100usize);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--train" => n_train = val()?.parse()?,
            "--test" => n_test = val()?.parse()?,
            "--hidden" => cfg.hidden = val()?.parse()?,
            "--unsup-epochs" => unsup = val()?.parse()?,
            "--readout-epochs" => readout_epochs = val()?.parse()?,
            "--batch" => batch = val()?.parse()?,
            "--beta" => cfg.beta = val()?.parse()?,
            "--readout-lr" => cfg.readout_lr = val()?.parse()?,
            "--power" => cfg.power = val()?.parse()?,
            "--eps0" => cfg.eps0 = val()?.parse()?,
            "--init-std" => cfg.init.1 = val()?.parse()?,
            "--seed" => cfg.seed = val()?.parse()?,
            "--out" => out = Some(PathBuf::from(val()?)),
            _ => bail!(
                "unknown argument {a}; use --train N --test N --hidden H --unsup-epochs E \
                 --readout-epochs E --batch B --beta F --readout-lr F --power F --eps0 F --init-std F --seed S --out FILE"
            ),
        }
    }
    let dir = neurogen_data::fashion_mnist_dir()
        .context("Fashion-MNIST not found: set NEUROGEN_FASHION_MNIST")?;
    let ds = neurogen_data::load_as(
        &dir,
        neurogen_data::DatasetKind::FashionMnist,
        &neurogen_data::LoadOptions::no_cache(),
    )?
    .dataset;
    let dev = Device::Cpu;
    let (x, y) = unit_tensors(&ds.train, &(0..n_train).collect::<Vec<_>>(), &dev)?;
    let (xq, yq) = unit_tensors(&ds.test, &(0..n_test).collect::<Vec<_>>(), &dev)?;
    cfg.unsupervised_epochs = unsup;
    cfg.batches_per_epoch = n_train / batch;
    let mut net = KrotovLearner::new(&cfg, &dev)?;
    let t0 = std::time::Instant::now();
    for epoch in 0..unsup + readout_epochs {
        for batch_idx in neurogen_data::epoch_batches(n_train, batch, cfg.seed, epoch) {
            if batch_idx.len() < batch {
                continue; // the notebook drops the last, incomplete minibatch
            }
            let idx = Tensor::from_vec(
                batch_idx.iter().map(|&i| i as u32).collect::<Vec<_>>(),
                batch_idx.len(),
                &dev,
            )?;
            net.learn(&x.index_select(&idx, 0)?, &y.index_select(&idx, 0)?)?;
        }
    }
    let acc = |x: &Tensor, y: &Tensor| -> Result<f64> {
        let pred = net.scores(x)?.argmax(D::Minus1)?;
        let hits = pred.eq(y)?.to_dtype(candle_core::DType::F32)?.sum_all()?;
        Ok(hits.to_scalar::<f32>()? as f64 / y.dims()[0] as f64)
    };
    let norms = net.layer().p_norms()?;
    let h = net.features(&xq)?;
    println!(
        "  p-norms: min {:.3} max {:.3}; features: mean {:.3e} max {:.3e}",
        norms.iter().cloned().fold(f32::INFINITY, f32::min),
        norms.iter().cloned().fold(0.0, f32::max),
        h.mean_all()?.to_scalar::<f32>()?,
        h.max_all()?.to_scalar::<f32>()?
    );
    let near_one = norms.iter().filter(|&&n| (n - 1.0).abs() < 0.05).count();
    println!(
        "krotov2019 hidden {} unsupervised {} epochs + read-out {} epochs ({} steps, {:.1} s): \
         train acc {:.4}  test acc {:.4}  units with p-norm within 0.05 of 1: {near_one}/{}",
        cfg.hidden,
        unsup,
        readout_epochs,
        net.steps(),
        t0.elapsed().as_secs_f64(),
        acc(&x, &y)?,
        acc(&xq, &yq)?,
        norms.len()
    );
    let synapses = vec![("W<-x".to_string(), net.layer().weights().clone())];
    let mut report = plausibility_report("krotov2019", &synapses, &[net.features(&xq)?], 0.0)?;
    // The attacks take the read-out's outputs c as logits (cross-entropy on c).
    let logits = |x: &Tensor| -> std::result::Result<Tensor, DaleError> {
        net.scores(x)
            .map_err(|e| DaleError::InvalidArgument(e.to_string()))
    };
    let eps = [0.0, 0.02, 0.05, 0.1];
    report.fgsm = fgsm_curve(logits, &xq, &yq, &eps, Some((0.0, 1.0)))?;
    report.pgd = pgd_curve(logits, &xq, &yq, &eps, 10, Some((0.0, 1.0)))?;
    let show = |c: &[neurogen_studies::cornford2021_dale::FgsmPoint]| {
        c.iter()
            .map(|p| format!("ε {}: {:.3}", p.epsilon, p.accuracy))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "  FGSM {}\n  PGD (10 steps) {}",
        show(&report.fgsm),
        show(&report.pgd)
    );
    for s in &report.synapses {
        let fits = s.magnitude_fits.as_ref();
        let ks = |f: Family| {
            fits.and_then(|x| x.get(f))
                .map_or("-".into(), |x| format!("{:.2e}", x.ks.p_value))
        };
        println!(
            "  {} Dale {}  zero {:.3}  Hoyer {:.3}  best fit {}  KS p: log-normal {} normal {} exponential {}",
            s.name,
            s.dale.fraction.map_or("-".into(), |f| format!("{f:.3}")),
            s.sparsity.fraction_near_zero,
            s.sparsity.hoyer.unwrap_or(f64::NAN),
            fits.map_or("-".into(), |f| f.best.to_string()),
            ks(Family::LogNormal),
            ks(Family::Normal),
            ks(Family::Exponential),
        );
    }
    for a in &report.activity {
        println!(
            "  hidden {}  zero {:.3}  population Hoyer {:?}  lifetime {:?}  dead {}",
            a.layer,
            a.sparsity.fraction_near_zero,
            a.sparsity.population_hoyer,
            a.sparsity.lifetime,
            a.sparsity.dead_units
        );
    }
    if let Some(path) = out {
        report.save(&path)?;
    }
    Ok(())
}
