//! A quick probe of Béna & Goodman's metrics across the sparsity of the interconnections, on
//! Fashion-MNIST pairs: one community per p (a subset of the authors' sweep), trained briefly,
//! then accuracy, Q and the three specialization metrics. A smoke-sized look, not the study
//! (`cargo xtask reproduce modular` runs that on the study engine).
//!
//! `cargo run -p neurogen-studies --example bena2021_probe [n_pairs] [epochs] [deep_r|fixed_mask]`
use anyhow::{bail, Context, Result};
use candle_core::Device;

use neurogen_studies::bena2021_modular::{
    bottleneck_metric, correlation_metric, mask_metric, sparsity_levels, train, BottleneckConfig,
    Community, CommunityConfig, ConnectionScheme, DeepRConfig, DigitPairs, SupermaskConfig,
    TrainConfig,
};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n_pairs: usize = args.first().map_or(Ok(2048), |s| s.parse())?;
    let epochs: usize = args.get(1).map_or(Ok(3), |s| s.parse())?;
    let scheme = match args.get(2).map(String::as_str) {
        None | Some("deep_r") => ConnectionScheme::DeepR,
        Some("fixed_mask") => ConnectionScheme::FixedMask,
        Some(other) => bail!("unknown scheme {other:?}: deep_r or fixed_mask"),
    };
    let dir = neurogen_data::fashion_mnist_dir()
        .context("Fashion-MNIST not found (set NEUROGEN_FASHION_MNIST)")?;
    let opts = neurogen_data::LoadOptions {
        use_cache: false,
        ..neurogen_data::LoadOptions::default()
    };
    let data = neurogen_data::load_as(&dir, neurogen_data::DatasetKind::FashionMnist, &opts)?;
    let train_pairs = DigitPairs::from_split(&data.dataset.train, n_pairs, 0)?;
    let test_pairs = DigitPairs::from_split(&data.dataset.test, 1024, 1)?;
    let levels = sparsity_levels(100, 10)?;
    println!("scheme {scheme:?}, {n_pairs} training pairs, {epochs} epochs, 1024 test pairs");
    println!(
        "| p | Q | test acc | corr spec (a0, a1) | bottleneck spec (a0, a1) | mask spec (a0, a1) |"
    );
    println!("|---|---|---|---|---|---|");
    for (i, &p) in levels.iter().enumerate().step_by(3) {
        let c = Community::new(
            CommunityConfig {
                p,
                scheme,
                ..CommunityConfig::default()
            },
            i as u64,
            &Device::Cpu,
        )?;
        let tc = TrainConfig {
            epochs,
            early_stop: false,
            deep_r: DeepRConfig::default().for_level(i, levels.len(), p)?,
            seed: i as u64,
            ..TrainConfig::default()
        };
        let report = train(&c, &train_pairs, Some(&test_pairs), tc)?;
        let acc = report
            .epochs
            .last()
            .and_then(|e| e.test)
            .map_or(f64::NAN, |t| t.accuracy);
        let corr = correlation_metric(&c, &test_pairs, 256, 0)?;
        let bott = bottleneck_metric(&c, &train_pairs, &test_pairs, &BottleneckConfig::default())?;
        let mask = mask_metric(&c, &train_pairs, &test_pairs, SupermaskConfig::default())?;
        println!(
            "| {p} | {:.4} | {acc:.3} | {:.3}, {:.3} | {:.3}, {:.3} | {:.3}, {:.3} |",
            c.modularity_q()?,
            corr[0].specialization,
            corr[1].specialization,
            bott.specialization[0],
            bott.specialization[1],
            mask.specialization[0],
            mask.specialization[1],
        );
    }
    Ok(())
}
