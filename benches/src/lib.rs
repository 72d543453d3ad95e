//! Criterion benchmarks live in `benches/benches/`: `train_step` (forward + backward, and the
//! full step with Adam, at batch 4 and 128), `data_loading` (`Split::batch`) and `neurogenesis`
//! (one neurogenesis event). They use the real CIFAR-10 archive
//! (`../shared/data/cifar10-jpeg.tar.gz`) and skip with a message when it is absent. Run with
//! `cargo bench -p neurogen-benches`; end-to-end throughput is `cargo xtask bench throughput`.
