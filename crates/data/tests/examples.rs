//! The crate's example runs (on the installed Fashion-MNIST; it skips with a message without).
#[allow(dead_code)]
#[path = "../examples/load_dataset.rs"]
mod load_dataset;

use neurogen_data::DatasetKind;

#[test]
fn load_dataset_example_runs() {
    let Some(ds) = load_dataset::run(None).unwrap() else {
        return; // the example printed why it skipped
    };
    assert_eq!(ds.kind, DatasetKind::FashionMnist);
    assert_eq!(
        (ds.train.len(), ds.test.len(), ds.num_classes()),
        (60_000, 10_000, 10)
    );
}
