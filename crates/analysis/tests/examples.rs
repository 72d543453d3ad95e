//! The crate's example runs (on the repository's committed Fig. 2 results; it skips with a
//! message where they are absent, as in a packaged copy).
#[allow(dead_code)]
#[path = "../examples/compare_groups.rs"]
mod compare_groups;

#[test]
fn compare_groups_example_runs_on_the_committed_results() {
    let path = compare_groups::default_csv();
    let Some(a) = compare_groups::run(&path, "test_accuracy", "group").unwrap() else {
        return; // the example printed why it skipped
    };
    // docs/results/fig2-quick: 6 groups of 8 repeats.
    assert_eq!(a.groups.len(), 6);
    assert!(a.groups.iter().all(|g| g.summary.n == 8));
    assert_eq!(a.tukey.len(), 15);
}
