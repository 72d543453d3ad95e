//! The crate's example runs (on the installed Fashion-MNIST; it skips with a message without):
//! a learner of one's own through the class-incremental harness.
#[allow(dead_code)]
#[path = "../examples/custom_learner.rs"]
mod custom_learner;

#[test]
fn custom_learner_example_runs() {
    let Some([mine, fly]) = custom_learner::run().unwrap() else {
        return; // the example printed why it skipped
    };
    for r in [&mine, &fly] {
        assert_eq!(r.accuracy.len(), 5, "{}: one row per task", r.learner);
        // Five tasks of two classes; chance over the ten classes is 0.1 (both reach ~0.6).
        assert!(
            r.final_accuracy() > 0.3,
            "{}: {}",
            r.learner,
            r.final_accuracy()
        );
    }
    assert_eq!(mine.learner, "nearest-mean");
}
