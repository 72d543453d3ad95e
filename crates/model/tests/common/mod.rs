//! Helpers shared by the model crate's tests: the workspace's test kit.
#![allow(unused_imports)]
pub use neurogen_testkit::replicas::{
    assert_replica_equals_separate_run, max_diff, metrics_key, replica_weights, toy_split, vals,
    FailsAt,
};
