//! neurogen-data (work in progress).
#![warn(missing_docs)]
