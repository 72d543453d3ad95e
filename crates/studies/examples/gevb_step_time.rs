//! Times training steps of the paper's MNIST FC-Vec (`784·10 → 1024 → 512 → 1`, batch 128)
//! with GEVB+ and with vectorized backprop, on random inputs, on the CPU: the median of
//! `STEPS` steps after two warm-up steps. With `conv` as second argument, also the authors'
//! MNIST Conv-Vec (64 and 32 channels, FC 1024) with GEVB+ and with backprop (BP+), after one
//! warm-up step each.
//!
//! `cargo run -p neurogen-studies --example gevb_step_time [STEPS] [conv]`
use std::time::Instant;

use candle_core::{Device, Tensor};
use neurogen_studies::clark2021_gevb::{
    paper_adam, Rule, RuleTrainer, VecConv, VecConvConfig, VecFc, VecFcConfig,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let steps: usize = std::env::args().nth(1).map_or(Ok(5), |s| s.parse())?;
    let dev = Device::Cpu;
    let x = Tensor::randn(0f32, 1., (128, 784), &dev)?;
    let y = Tensor::from_vec((0..128u32).map(|i| i % 10).collect::<Vec<_>>(), 128, &dev)?;
    for (name, mono, rule) in [("GEVB+", true, Rule::Gevb), ("BP+", true, Rule::Backprop)] {
        let net = VecFc::new(&VecFcConfig::mnist(mono), 0, &dev)?;
        let mut t = RuleTrainer::new(net, rule, paper_adam())?;
        t.step(&x, &y)?;
        t.step(&x, &y)?;
        let mut times: Vec<f64> = (0..steps.max(1))
            .map(|_| {
                let t0 = Instant::now();
                t.step(&x, &y).map(|_| t0.elapsed().as_secs_f64() * 1e3)
            })
            .collect::<Result<_, _>>()?;
        times.sort_by(f64::total_cmp);
        println!(
            "FC-Vec MNIST, batch 128, {name}: median {:.1} ms per step over {} steps (min {:.1}, max {:.1})",
            times[times.len() / 2],
            times.len(),
            times[0],
            times[times.len() - 1]
        );
    }
    if std::env::args().nth(2).as_deref() != Some("conv") {
        return Ok(());
    }
    for (name, rule) in [("GEVB+", Rule::Gevb), ("BP+", Rule::Backprop)] {
        let net = VecConv::new(&VecConvConfig::mnist(true), 0, &dev)?;
        let mut t = RuleTrainer::new(net, rule, paper_adam())?;
        let xi = x.reshape((128, 1, 28, 28))?;
        t.step(&xi, &y)?;
        let mut times = Vec::new();
        for _ in 0..steps.max(1) {
            let t0 = Instant::now();
            t.step(&xi, &y)?;
            times.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "Conv-Vec MNIST, batch 128, {name}: median {:.1} ms per step over {} steps (min {:.1}, max {:.1})",
            times[times.len() / 2],
            times.len(),
            times[0],
            times[times.len() - 1]
        );
    }
    Ok(())
}
