//! `Split::batch`: gathering and normalising a CIFAR-10 minibatch into a tensor, at batch 4
//! and 128, with the paper's seeded minibatch order.
use candle_core::Device;
use criterion::{BenchmarkId, Criterion, Throughput};

mod common;

fn bench(c: &mut Criterion) {
    let Some(train) = common::cifar10_train() else {
        return;
    };
    let dev = Device::Cpu;
    let mut g = c.benchmark_group("split_batch");
    for bs in [4usize, 128] {
        let batches = neurogen_data::epoch_batches(train.len(), bs, 0, 0);
        let mut i = 0usize;
        g.throughput(Throughput::Elements(bs as u64));
        g.bench_with_input(BenchmarkId::from_parameter(bs), &bs, |b, _| {
            b.iter(|| {
                let idx = &batches[i % (batches.len() - 1)];
                i += 1;
                train.batch(idx, &dev).unwrap()
            })
        });
    }
    g.finish();
}

fn main() {
    neurogen_model::runtime::prefer_rayon_threads();
    neurogen_model::runtime::tune_allocator();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
