//! neurogen-regularizers (work in progress).
#![warn(missing_docs)]
