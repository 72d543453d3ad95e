//! neurogen-model (work in progress).
#![warn(missing_docs)]
