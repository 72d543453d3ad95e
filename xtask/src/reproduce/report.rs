//! Tran et al.'s `report.md` header and interim notice: the library's
//! [`neurogen_studies::tran2022::report`].
pub use neurogen_studies::tran2022::report::{header, interim_notice, Mode};
