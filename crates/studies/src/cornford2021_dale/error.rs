//! The module's error type: bad shapes, bad labels, bad settings and the underlying candle,
//! data and analysis errors, each naming what was wrong.

/// Everything that can go wrong in [`crate::cornford2021_dale`].
#[derive(Debug, thiserror::Error)]
pub enum DaleError {
    /// A tensor has the wrong shape.
    #[error("{what}: expected shape {expected}, got {got:?}")]
    Shape {
        /// Which tensor.
        what: String,
        /// The shape expected, in words (e.g. "[batch, 784]").
        expected: String,
        /// The shape supplied.
        got: Vec<usize>,
    },
    /// A label is not a class index.
    #[error("label {label} at position {index} is not a class index (classes: {classes})")]
    BadLabel {
        /// Position in the batch.
        index: usize,
        /// The label.
        label: u32,
        /// Number of classes.
        classes: usize,
    },
    /// A setting or argument is outside its allowed range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The loss became NaN or infinite.
    #[error("training diverged: loss {loss} at step {step}")]
    Diverged {
        /// The step (0-based).
        step: usize,
        /// The loss.
        loss: f32,
    },
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// Loading data failed.
    #[error(transparent)]
    Data(#[from] neurogen_data::DataError),
    /// Writing a report failed.
    #[error(transparent)]
    Io(#[from] neurogen_io::IoError),
    /// Encoding a report as JSON failed.
    #[error("JSON encoding: {0}")]
    Json(#[from] serde_json::Error),
    /// A plausibility measure rejected its input.
    #[error(transparent)]
    Analysis(#[from] neurogen_analysis::AnalysisError),
    /// The local rule ([`crate::krotov2019_local`]) rejected its input or settings.
    #[error(transparent)]
    LocalRule(#[from] crate::krotov2019_local::LocalRuleError),
    /// A learner behind the [`neurogen_learners::Learner`] seam failed.
    #[error(transparent)]
    Learner(#[from] neurogen_learners::LearnerError),
    /// The paper's CNN refused an operation (e.g. more than one replica).
    #[error(transparent)]
    Model(#[from] neurogen_model::ModelError),
}

/// Shorthand for `Result<T, DaleError>`.
pub type Result<T> = std::result::Result<T, DaleError>;

/// Checks that `t` has exactly the shape `dims`.
pub(crate) fn check_shape(what: &str, t: &candle_core::Tensor, dims: &[usize]) -> Result<()> {
    if t.dims() != dims {
        return Err(DaleError::Shape {
            what: what.into(),
            expected: format!("{dims:?}"),
            got: t.dims().to_vec(),
        });
    }
    Ok(())
}

/// Checks that `x` is `[batch, n_input]` and returns `batch`.
pub(crate) fn check_input(what: &str, x: &candle_core::Tensor, n_input: usize) -> Result<usize> {
    match x.dims() {
        [b, n] if *n == n_input => Ok(*b),
        dims => Err(DaleError::Shape {
            what: what.into(),
            expected: format!("[batch, {n_input}]"),
            got: dims.to_vec(),
        }),
    }
}
