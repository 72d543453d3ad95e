//! Tests that need a real dataset (the shared CIFAR-10 archive, Fashion-MNIST): where the data
//! is absent they skip with a visible message, or, with `NEUROGEN_REQUIRE_DATA=1` (set by
//! `.ci/run`, where both datasets are installed), they fail, so CI cannot pass by skipping.
//!
//! ```
//! use neurogen_testkit::data::{or_skip, required};
//! let found: Option<std::path::PathBuf> = None; // e.g. neurogen_data::cifar10_archive()
//! if !required() {
//!     // A test writes `let Some(path) = or_skip(found, "...") else { return };`
//!     assert!(or_skip(found, "CIFAR-10 is absent").is_none()); // prints "SKIP: CIFAR-10 is absent"
//! }
//! ```

/// The environment variable that turns a skip for absent data into a failure (when `1`).
pub const REQUIRE_DATA: &str = "NEUROGEN_REQUIRE_DATA";

/// Whether absent data must fail the test (`NEUROGEN_REQUIRE_DATA=1`).
pub fn required() -> bool {
    std::env::var(REQUIRE_DATA).as_deref() == Ok("1")
}

/// Where a test would skip because data is absent (`why` says which and how to get it):
/// prints `SKIP: {why}` and returns, or panics when [`required`].
///
/// # Panics
/// When `NEUROGEN_REQUIRE_DATA=1`.
pub fn skip(why: &str) {
    if required() {
        panic!("{why}, and {REQUIRE_DATA}=1 requires it: the test must run, not skip");
    }
    eprintln!("SKIP: {why}");
}

/// `found`, or (after [`skip`] with `why`) `None`.
///
/// # Panics
/// When `found` is `None` and `NEUROGEN_REQUIRE_DATA=1`.
pub fn or_skip<T>(found: Option<T>, why: &str) -> Option<T> {
    if found.is_none() {
        skip(why);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_or_fails_by_the_variable() {
        // One test owns the variable (tests of this crate run in threads of one process).
        std::env::remove_var(REQUIRE_DATA);
        assert!(!required());
        assert_eq!(or_skip(Some(3), "absent"), Some(3));
        assert_eq!(or_skip(None::<u8>, "absent"), None);
        std::env::set_var(REQUIRE_DATA, "1");
        assert!(required());
        assert_eq!(or_skip(Some(3), "absent"), Some(3));
        let e = std::panic::catch_unwind(|| or_skip(None::<u8>, "CIFAR-10 is absent")).unwrap_err();
        let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            msg.contains("CIFAR-10 is absent") && msg.contains("NEUROGEN_REQUIRE_DATA=1"),
            "{msg}"
        );
        std::env::set_var(REQUIRE_DATA, "0");
        assert!(!required());
        std::env::remove_var(REQUIRE_DATA);
    }
}
