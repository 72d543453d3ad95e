//! Tensor helpers and the check that replica `r` of a batched model (`train_replicas`) is, bit
//! for bit, the same seed trained alone (`train`, K = 1): weights, optimiser state, clock-free
//! metrics and regulariser reports, or the same error.
use neurogen_data::{ImageShape, Split};

/// A small synthetic split (only for tests that check mechanics, never accuracy claims):
/// `n` images of `shape` whose class is encoded in their mean brightness.
pub fn toy_split(n: usize, shape: ImageShape, classes: u8) -> Split {
    let mut images = Vec::with_capacity(n * shape.numel());
    let mut labels = Vec::with_capacity(n);
    let mut s: u32 = 12345;
    for i in 0..n {
        let label = (i % classes as usize) as u8;
        labels.push(label);
        for _ in 0..shape.numel() {
            s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let noise = (s >> 16) % 64;
            images.push((label as u32 * 180 / classes as u32 + noise) as u8);
        }
    }
    Split::new(shape, images, labels).unwrap()
}

/// A regulariser whose forward hook fails from training step `at` on, for seed `fail_seed`
/// only (the error says "hook failed at step N"): tests of a replica that stops alone.
#[derive(Debug, Clone)]
pub struct FailsAt {
    /// This regulariser's replica seed.
    pub seed: u64,
    /// The seed whose hook fails.
    pub fail_seed: u64,
    /// First training step at which it fails.
    pub at: usize,
}

impl neurogen_model::Regularizer for FailsAt {
    fn name(&self) -> String {
        "fails".into()
    }
    fn hook(
        &mut self,
        site: &neurogen_model::HookSite,
    ) -> neurogen_model::Result<Vec<neurogen_model::HookStep>> {
        if self.seed == self.fail_seed && site.ctx.train && site.ctx.step >= self.at {
            return Err(neurogen_model::ModelError::Config(format!(
                "hook failed at step {}",
                site.ctx.step
            )));
        }
        Ok(Vec::new())
    }
}

/// A tensor's values as f32.
pub fn vals(t: &candle_core::Tensor) -> Vec<f32> {
    t.to_dtype(candle_core::DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// The largest absolute difference between two tensors of one shape.
pub fn max_diff(a: &candle_core::Tensor, b: &candle_core::Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    vals(a)
        .iter()
        .zip(vals(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Every parameter of replica `r` of `model`, by name, as f32 values (bit-exact comparisons).
pub fn replica_weights(model: &neurogen_model::Cnn, r: usize) -> Vec<(String, Vec<f32>)> {
    model
        .named_params()
        .into_iter()
        .map(|(n, _)| (n.to_string(), vals(&model.value(n, r).unwrap())))
        .collect()
}

/// The parts of a run's metrics that do not depend on the clock.
pub fn metrics_key(m: &neurogen_model::TrainMetrics) -> String {
    let epochs: Vec<String> = m
        .epochs
        .iter()
        .map(|e| format!("{} {:e} {:?}", e.epoch, e.train_loss, e.eval))
        .collect();
    format!(
        "steps {} split {} final {:?} train {:?} report {} epochs {:?}",
        m.steps, m.eval_split, m.final_eval, m.final_train, m.regularizer, epochs
    )
}

/// Trains `seeds.len()` replicas together with `train_replicas` (replica `r`: model seed
/// `seeds[r]` passed through `prepare`, config `config(seeds[r])`, regulariser
/// `reg(seeds[r])`), and every seed alone with `train` (K = 1), and asserts that each replica
/// is bit-identical to its own run: weights, optimiser state, clock-free metrics (which hold the
/// regulariser's report, e.g. its event log), or the same error. Returns
/// the trained replicas and their results. Optimiser states (moments, step counts) are compared
/// bit for bit too.
pub fn assert_replica_equals_separate_run<R: neurogen_model::Regularizer>(
    model: &neurogen_model::ModelConfig,
    train: &Split,
    eval: Option<(&str, &Split)>,
    seeds: &[u64],
    config: impl Fn(u64) -> neurogen_model::TrainConfig,
    reg: impl Fn(u64) -> R,
    prepare: impl Fn(u64, &mut neurogen_model::Cnn),
) -> (neurogen_model::Cnn, Vec<neurogen_model::ReplicaResult>) {
    use neurogen_model::{train_replicas, Cnn, Silent};
    let dev = candle_core::Device::Cpu;
    let fresh = |s: u64| {
        let mut m = Cnn::new(model, s, &dev).unwrap();
        prepare(s, &mut m);
        m
    };
    let mut stacked = Cnn::stack(&seeds.iter().map(|&s| fresh(s)).collect::<Vec<_>>()).unwrap();
    let configs: Vec<_> = seeds.iter().map(|&s| config(s)).collect();
    let mut regs: Vec<R> = seeds.iter().map(|&s| reg(s)).collect();
    let (runs, adam) =
        train_replicas(&mut stacked, train, eval, &configs, &mut regs, &mut Silent).unwrap();
    assert_eq!(runs.len(), seeds.len());
    for (r, &s) in seeds.iter().enumerate() {
        let mut alone = fresh(s);
        let mut one = reg(s);
        let single =
            neurogen_model::train(&mut alone, train, eval, &config(s), &mut one, &mut Silent);
        match (&runs[r], &single) {
            (Ok(a), Ok((b, alone_adam))) => {
                assert!(
                    adam_state_bits(&adam, r) == adam_state_bits(alone_adam, 0),
                    "replica {r} (seed {s}): optimiser state differs from its own run"
                );
                assert_eq!(
                    metrics_key(a),
                    metrics_key(b),
                    "replica {r} (seed {s}): metrics"
                );
                assert_eq!(
                    stacked.replica(r).unwrap().config(),
                    alone.config(),
                    "replica {r} (seed {s}): shape"
                );
                for ((n, a), (_, b)) in replica_weights(&stacked, r)
                    .iter()
                    .zip(replica_weights(&alone, 0))
                {
                    assert!(
                        a.iter()
                            .map(|x| x.to_bits())
                            .eq(b.iter().map(|x| x.to_bits())),
                        "replica {r} (seed {s}): {n} differs from its own run by {}",
                        a.iter()
                            .zip(&b)
                            .map(|(x, y)| (x - y).abs())
                            .fold(0.0, f32::max)
                    );
                }
            }
            (Err(a), Err(b)) => {
                assert_eq!(
                    a.to_string(),
                    b.to_string(),
                    "replica {r} (seed {s}): error"
                )
            }
            (a, b) => panic!(
                "replica {r} (seed {s}): together {:?}, alone {:?}",
                a.as_ref().map(metrics_key),
                b.as_ref().map(|(m, _)| metrics_key(m))
            ),
        }
    }
    (stacked, runs)
}

/// One parameter's optimiser state as bit patterns: (m, v, step), None before its first step.
pub type StateBits = Option<(Vec<u32>, Vec<u32>, u64)>;

/// Bit patterns of every optimiser state of replica `r` of `adam`, by parameter name.
pub fn adam_state_bits(adam: &neurogen_model::Adam, r: usize) -> Vec<(String, StateBits)> {
    let bits = |t: &candle_core::Tensor| vals(t).into_iter().map(f32::to_bits).collect();
    adam.state_names()
        .into_iter()
        .map(|n| {
            let st = adam
                .state(&n, r)
                .unwrap()
                .map(|s| (bits(&s.m), bits(&s.v), s.step));
            (n, st)
        })
        .collect()
}
