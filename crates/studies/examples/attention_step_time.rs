//! Times the gated network's training step (Lei, Benjamin & Kording's object-based attention)
//! and its parts on random two-object scenes, on the CPU: one forward iteration, one object
//! pass (5 iterations), a pass's backward, and the whole step (2 passes, 2 backward passes,
//! 2 Adam steps), each the median of `STEPS` after a warm-up.
//!
//! `cargo run -p neurogen-studies --example attention_step_time [STEPS] [BATCH]`
use std::result::Result;
use std::time::Instant;

use candle_core::Device;
use neurogen_studies::lei2021_attention::{
    AttentionConfig, AttentionError, AttentionNet, AttentionTrainer, Items, SceneConfig,
    SceneLearner, Scenes, TrainConfig,
};
use rand::{Rng, SeedableRng};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let steps: usize = std::env::args().nth(1).map_or(Ok(3), |s| s.parse())?;
    let batch: usize = std::env::args().nth(2).map_or(Ok(64), |s| s.parse())?;
    let dev = Device::Cpu;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let pixels: Vec<f32> = (0..batch * 28 * 28)
        .map(|_| {
            if rng.random::<f32>() < 0.3 {
                rng.random()
            } else {
                0.0
            }
        })
        .collect();
    let labels: Vec<u8> = (0..batch).map(|i| (i % 10) as u8).collect();
    let items = Items::new(pixels, labels)?;
    let cfg = SceneConfig::paper();
    let scenes = Scenes::compose(&items, &cfg, 1)?;
    let all: Vec<usize> = (0..scenes.len()).collect();
    let bt = scenes.batch(&all, &dev)?;
    let net = AttentionNet::new(AttentionConfig::paper(&cfg), 0, &dev)?;
    let (m1, m2) = net.zero_masks(batch)?;
    let ior = net.empty_ior(batch)?;

    let time = |f: &mut dyn FnMut() -> Result<(), AttentionError>| -> Result<f64, AttentionError> {
        f()?;
        let mut t = Vec::new();
        for _ in 0..steps.max(1) {
            let t0 = Instant::now();
            f()?;
            t.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        Ok(median(t))
    };
    let it = time(&mut || net.step(bt.x(), &m1, &m2).map(|_| ()))?;
    let pass = time(&mut || net.attend(bt.x(), &ior).map(|_| ()))?;
    let back = time(&mut || {
        let p = net.attend(bt.x(), &ior)?;
        let l = p.logits.sum_all()?.add(&p.gated.sum_all()?)?;
        l.backward()?;
        Ok(())
    })?;
    let mut trainer = AttentionTrainer::new(net.clone(), &TrainConfig::paper(0))?;
    let step = time(&mut || trainer.train_step(&bt).map(|_| ()))?;
    println!(
        "batch {batch}, median of {steps}: iteration {it:.0} ms, pass (5 it.) {pass:.0} ms, \
         pass + backward {back:.0} ms, training step {step:.0} ms"
    );
    Ok(())
}
