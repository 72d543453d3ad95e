//! Trains the paper's MLP, DANN and ColumnEI (3 hidden layers of 500 E + 50 I, batch 32, the
//! paper's learning rates) briefly on real Fashion-MNIST and prints test accuracy and a
//! plausibility summary; writes each network's report as JSON when `--out DIR` is given.
//!
//! ```text
//! cargo run -p neurogen-studies --example cornford2021_dale_smoke -- --train 2000 --epochs 1 --test 2000 \
//!     [--lr-scale F] [--kinds mlp,dann,column_ei] [--out DIR]
//! ```
//! Before training it prints, per hidden layer, the fraction of test images for which every
//! unit of that layer is silent (such an image's gradient reaches only the layers above).
//! Not the paper's experiment (50 epochs on 60,000 MNIST images, 5 seeds): a smoke check that
//! the three networks learn and that the report runs on them.
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use neurogen_analysis::plausibility::Family;
use neurogen_studies::cornford2021_dale::{
    evaluate, few_shot_curve, fgsm_curve, pgd_curve, train, unit_tensors, DaleNet, Features,
    NetConfig, NetKind, TrainOptions, PAPER_BATCH_SIZE,
};

fn main() -> Result<()> {
    let (mut n_train, mut epochs, mut n_test, mut out, mut seed) = (2000, 1, 2000, None, 0u64);
    let mut lr_scale = 1.0f64;
    let mut kinds = NetKind::ALL.to_vec();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--train" => n_train = val()?.parse()?,
            "--epochs" => epochs = val()?.parse()?,
            "--test" => n_test = val()?.parse()?,
            "--seed" => seed = val()?.parse()?,
            "--out" => out = Some(PathBuf::from(val()?)),
            "--lr-scale" => lr_scale = val()?.parse()?,
            "--kinds" => {
                kinds = val()?
                    .split(',')
                    .map(|k| {
                        NetKind::ALL
                            .into_iter()
                            .find(|n| n.name() == k)
                            .with_context(|| format!("unknown kind {k}: use mlp, dann, column_ei"))
                    })
                    .collect::<Result<_>>()?
            }
            _ => {
                bail!("unknown argument {a}; use --train N --epochs E --test N --seed S --lr-scale F --kinds K,K --out DIR")
            }
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
    for kind in kinds {
        let t0 = std::time::Instant::now();
        let net = DaleNet::new(&NetConfig::paper(kind, seed), &dev)?;
        let silent: Vec<String> = net
            .forward(&xq)?
            .hidden
            .iter()
            .map(|h| -> Result<String> {
                let max = h.max_keepdim(1)?.flatten_all()?.to_vec1::<f32>()?;
                let n = max.iter().filter(|&&m| m <= 0.0).count();
                Ok(format!("{:.3}", n as f64 / max.len() as f64))
            })
            .collect::<Result<_>>()?;
        println!(
            "{:9} at init: images with a silent hidden layer (per layer) {}",
            kind.name(),
            silent.join(" / ")
        );
        let opts = TrainOptions {
            lr: kind.paper_lr() * lr_scale,
            batch_size: PAPER_BATCH_SIZE,
            epochs,
            seed,
        };
        let losses = train(&net, &x, &y, &opts)?;
        let test = evaluate(&net, &xq, &yq)?;
        let train_eval = evaluate(&net, &x, &y)?;
        let secs = t0.elapsed().as_secs_f64();
        let mut report = net.plausibility_report(&xq, 0.0)?;
        let logits = |x: &Tensor| Ok(net.forward(x)?.logits);
        report.fgsm = fgsm_curve(logits, &xq, &yq, &[0.0, 0.02, 0.05, 0.1], Some((0.0, 1.0)))?;
        report.pgd = pgd_curve(
            logits,
            &xq,
            &yq,
            &[0.0, 0.02, 0.05, 0.1],
            10,
            Some((0.0, 1.0)),
        )?;
        let feats = |x: &Tensor| -> Result<Vec<f32>> {
            let h = net.forward(x)?.hidden.pop().context("no hidden layer")?;
            Ok(h.flatten_all()?.to_vec1::<f32>()?)
        };
        let (pv, qv) = (feats(&x)?, feats(&xq)?);
        let (pl, ql) = (y.to_vec1::<u32>()?, yq.to_vec1::<u32>()?);
        let dim = net.layers()[net.layers().len() - 1].n_input();
        let pool = Features {
            values: &pv,
            labels: &pl,
            dim,
        };
        let query = Features {
            values: &qv,
            labels: &ql,
            dim,
        };
        report.few_shot = few_shot_curve(pool, query, 10, &[1, 5, 10, 50], 5, seed)?;
        println!(
            "{:9} steps {:4}  last loss {:.3}  train acc {:.4}  test acc {:.4}  ({secs:.1} s)",
            kind.name(),
            losses.len(),
            losses.last().copied().unwrap_or(f32::NAN),
            train_eval.accuracy,
            test.accuracy
        );
        for s in &report.synapses {
            let best = s.magnitude_fits.as_ref().map(|f| f.best);
            let ln_p = s
                .magnitude_fits
                .as_ref()
                .and_then(|f| f.get(Family::LogNormal))
                .map(|f| f.ks.p_value);
            println!(
                "  {:12} Dale {:>6}  zero {:.3}  best fit {:12}  log-normal KS p {}",
                s.name,
                s.dale.fraction.map_or("-".into(), |f| format!("{f:.3}")),
                s.sparsity.fraction_near_zero,
                best.map_or("-".into(), |b| b.to_string()),
                ln_p.map_or("-".into(), |p| format!("{p:.2e}"))
            );
        }
        for a in &report.activity {
            println!(
                "  hidden {}  zero {:.3}  population Hoyer {:?}  lifetime {:?}  dead {}",
                a.layer,
                a.sparsity.fraction_near_zero,
                a.sparsity
                    .population_hoyer
                    .map(|v| (v * 1000.0).round() / 1000.0),
                a.sparsity.lifetime.map(|v| (v * 1000.0).round() / 1000.0),
                a.sparsity.dead_units
            );
        }
        let fg: Vec<String> = report
            .fgsm
            .iter()
            .map(|p| format!("ε {}: {:.3}", p.epsilon, p.accuracy))
            .collect();
        let pg: Vec<String> = report
            .pgd
            .iter()
            .map(|p| format!("ε {}: {:.3}", p.epsilon, p.accuracy))
            .collect();
        let fs: Vec<String> = report
            .few_shot
            .iter()
            .map(|p| format!("k {}: {:.3}±{:.3}", p.k, p.accuracy, p.sd))
            .collect();
        println!(
            "  FGSM {}\n  PGD (10 steps) {}\n  few-shot {}",
            fg.join(", "),
            pg.join(", "),
            fs.join(", ")
        );
        if let Some(dir) = &out {
            std::fs::create_dir_all(dir)?;
            report.save(&dir.join(format!("{}.json", kind.name())))?;
        }
    }
    Ok(())
}
