//! neurogen-analysis (work in progress).
#![warn(missing_docs)]
