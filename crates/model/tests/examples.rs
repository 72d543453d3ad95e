//! The crate's example runs (on the installed Fashion-MNIST; it skips with a message without).
#[allow(dead_code)]
#[path = "../examples/train_fashion.rs"]
mod train_fashion;

#[test]
fn train_fashion_example_learns() {
    let Some(accuracy) = train_fashion::run().unwrap() else {
        return; // the example printed why it skipped
    };
    // One epoch on 1,000 images reaches about 0.43 on the test subset; chance is 0.1.
    assert!(accuracy > 0.25, "test accuracy {accuracy}");
}
