//! Fixtures and checks shared by the tests of the neurogen workspace (not published).
//!
//! - [`cifar`]: CIFAR-10 binary-release fixtures written into a directory (no dependencies, so
//!   the data crate's own tests can use it);
//! - [`data`]: the skip of a test whose real dataset is absent, which fails instead with
//!   `NEUROGEN_REQUIRE_DATA=1` (CI);
//! - `replicas` (feature `model`): tensor helpers and the check that replica `r` of a batched
//!   model trains bit for bit like the same seed trained alone.
//!
//! Real data is preferred wherever it is at hand (the shared CIFAR-10 archive, Fashion-MNIST);
//! these fixtures serve the tests of file formats, flags and error paths, where a few
//! synthetic records say exactly what is being tested.
pub mod cifar;
pub mod data;
#[cfg(feature = "model")]
pub mod replicas;
