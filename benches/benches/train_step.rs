//! One training step of the paper's CNN on the CPU: forward + backward, and the library's whole
//! step (`Trainer::step`: forward, backward, Adam), at batch 4 (the paper's) and 128, on real
//! CIFAR-10 minibatches.
use candle_core::Device;
use criterion::{BenchmarkId, Criterion, Throughput};
use neurogen_model::{
    cross_entropy, AdamConfig, Cnn, ForwardCtx, ModelConfig, NoHooks, NoRegularizer, StepCtx,
    Trainer,
};

mod common;

fn bench(c: &mut Criterion) {
    let Some(train) = common::cifar10_train() else {
        return;
    };
    let dev = Device::Cpu;
    let mut g = c.benchmark_group("train_step");
    g.sample_size(20);
    for bs in [4usize, 128] {
        let idx: Vec<usize> = (0..bs).map(|i| (i * 7919) % train.len()).collect();
        let (x, y) = train.batch(&idx, &dev).unwrap();
        let y = y.unsqueeze(0).unwrap();
        let mut model = Cnn::new(&ModelConfig::cifar10(), 0, &dev).unwrap();
        g.throughput(Throughput::Elements(bs as u64));
        g.bench_with_input(BenchmarkId::new("forward_backward", bs), &bs, |b, _| {
            b.iter(|| {
                let out = model
                    .forward(&x, &mut NoHooks, &ForwardCtx::train(0, 0))
                    .unwrap();
                let loss = cross_entropy(&out.logits, &y).unwrap();
                loss.sum_all().unwrap().backward().unwrap()
            })
        });
        let x5 = x.unsqueeze(0).unwrap();
        let mut regs = [NoRegularizer];
        let mut trainer = Trainer::new(&mut model, AdamConfig::default(), &mut regs).unwrap();
        let mut step = 0;
        g.bench_with_input(
            BenchmarkId::new("forward_backward_adam", bs),
            &bs,
            |b, _| {
                b.iter(|| {
                    let ctx = StepCtx {
                        epoch: 0,
                        batch: 0,
                        step,
                        batches_per_epoch: 1,
                    };
                    step += 1;
                    trainer.step(&x5, &y, ctx).unwrap()
                })
            },
        );
    }
    g.finish();
}

fn main() {
    // Before any thread or tensor op: keep candle's spin-waiting pool out of the kernels' way.
    neurogen_model::runtime::prefer_rayon_threads();
    neurogen_model::runtime::tune_allocator();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
