//! The module's error type: bad shapes, bad settings and candle's errors, each naming what
//! was wrong.

/// Everything that can go wrong in [`crate::krotov2019_local`].
#[derive(Debug, thiserror::Error)]
pub enum LocalRuleError {
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
    /// A setting or an input is outside its allowed range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Shorthand for `Result<T, LocalRuleError>`.
pub type Result<T> = std::result::Result<T, LocalRuleError>;

impl From<LocalRuleError> for neurogen_learners::LearnerError {
    fn from(e: LocalRuleError) -> Self {
        match e {
            LocalRuleError::Candle(c) => neurogen_learners::LearnerError::Candle(c),
            other => neurogen_learners::LearnerError::Config(other.to_string()),
        }
    }
}

/// Checks that `x` is `[batch, n]` with `batch >= 1` and finite values; returns `batch`.
pub(crate) fn check_batch(what: &str, x: &candle_core::Tensor, n: usize) -> Result<usize> {
    let b = match x.dims() {
        [b, d] if *d == n && *b > 0 => *b,
        dims => {
            return Err(LocalRuleError::Shape {
                what: what.into(),
                expected: format!("[batch >= 1, {n}]"),
                got: dims.to_vec(),
            })
        }
    };
    let v: Vec<f32> = x
        .to_dtype(candle_core::DType::F32)?
        .flatten_all()?
        .to_vec1()?;
    if let Some(i) = v.iter().position(|a| !a.is_finite()) {
        return Err(LocalRuleError::InvalidArgument(format!(
            "{what}: value {} at row {}, column {} is not finite",
            v[i],
            i / n,
            i % n
        )));
    }
    Ok(b)
}
