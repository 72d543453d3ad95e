//! Evaluation of a trained network: loss and accuracy on a split, hidden activations, and the
//! finite-weights check of the training loop.
use candle_core::{DType, Device, Tensor};
use neurogen_data::Split;

use crate::error::{ModelError, Result};
use crate::hooks::ForwardCtx;
use crate::loss::cross_entropy;
use crate::metrics::EvalResult;
use crate::net::Cnn;
use crate::regularizer::{NoRegularizer, PerReplica, Regularizer};

/// Replica `r`'s error for every replica holding a NaN or infinity in some parameter (None
/// for the others), as [`ModelError::Diverged`] naming the parameter.
pub fn check_finite_weights(
    model: &Cnn,
    epoch: usize,
    step: usize,
) -> Result<Vec<Option<ModelError>>> {
    let mut out: Vec<Option<ModelError>> = (0..model.replicas()).map(|_| None).collect();
    for (name, v) in model.named_params() {
        let t = v.as_tensor();
        // x · 0 is 0 for every finite x and NaN for NaN and ±inf; a sum keeps any NaN.
        let s: Vec<f64> = (t * 0.0)?
            .flatten_from(1)?
            .sum(1)?
            .to_dtype(DType::F64)?
            .to_vec1()?;
        for (r, x) in s.into_iter().enumerate() {
            if x != 0.0 && out[r].is_none() {
                out[r] = Some(ModelError::Diverged {
                    epoch,
                    step,
                    what: format!("parameter {name} holds a non-finite value"),
                });
            }
        }
    }
    Ok(out)
}

fn single(model: &Cnn) -> Result<()> {
    if model.replicas() != 1 {
        return Err(ModelError::Config(format!(
            "evaluation takes one network, this model has {} replicas: evaluate model.replica(r)",
            model.replicas()
        )));
    }
    Ok(())
}

/// Evaluates `model` (one network; eval mode, no regulariser) on `split`: mean loss and
/// accuracy.
pub fn evaluate(model: &Cnn, split: &Split, batch_size: usize) -> Result<EvalResult> {
    evaluate_with(model, split, batch_size, &mut NoRegularizer)
}

/// Evaluates one network with a regulariser's (or any hook's) evaluation-mode steps, e.g. the
/// run's dropout max-norm or silencing units for ablation.
pub fn evaluate_with(
    model: &Cnn,
    split: &Split,
    batch_size: usize,
    mut hook: &mut dyn Regularizer,
) -> Result<EvalResult> {
    single(model)?;
    if split.is_empty() {
        return Err(ModelError::Config(
            "cannot evaluate on an empty split".into(),
        ));
    }
    let device: Device = model.device().clone();
    let bs = batch_size.max(1);
    let mut loss_sum = 0.0;
    let mut correct = 0usize;
    let all: Vec<usize> = (0..split.len()).collect();
    for idx in all.chunks(bs) {
        let (x, y) = split.batch(idx, &device)?;
        let y = y.unsqueeze(0)?;
        let logits = model
            .forward(
                &x,
                &mut PerReplica(std::slice::from_mut(&mut hook)),
                &ForwardCtx::eval(),
            )?
            .logits;
        let loss = cross_entropy(&logits, &y)?
            .to_dtype(DType::F64)?
            .to_vec1::<f64>()?[0];
        loss_sum += loss * idx.len() as f64;
        let pred = logits.argmax(candle_core::D::Minus1)?;
        let eq: Tensor = pred.eq(&y)?.to_dtype(DType::U32)?;
        correct += eq.sum_all()?.to_scalar::<u32>()? as usize;
    }
    Ok(EvalResult {
        loss: loss_sum / split.len() as f64,
        accuracy: correct as f64 / split.len() as f64,
        n: split.len(),
    })
}

/// Hidden layer `layer`'s activations of one network on every example of `split` (eval mode),
/// as a row-major `[n, width]` matrix (for class selectivity).
pub fn hidden_activations(
    model: &Cnn,
    split: &Split,
    layer: usize,
    batch_size: usize,
) -> Result<Vec<f32>> {
    single(model)?;
    model.hidden_width(layer)?;
    rows_of_split(model, split, batch_size, |x| {
        Ok(model
            .forward(x, &mut crate::hooks::NoHooks, &ForwardCtx::eval())?
            .hidden
            .swap_remove(layer))
    })
}

/// `per_batch`'s `[batch, width]` result for every minibatch of `split` (in order, of
/// `batch_size` examples), concatenated as a row-major f32 matrix.
fn rows_of_split(
    model: &Cnn,
    split: &Split,
    batch_size: usize,
    mut per_batch: impl FnMut(&Tensor) -> Result<Tensor>,
) -> Result<Vec<f32>> {
    let device = model.device().clone();
    let all: Vec<usize> = (0..split.len()).collect();
    let mut out = Vec::new();
    for idx in all.chunks(batch_size.max(1)) {
        let (x, _) = split.batch(idx, &device)?;
        out.extend(f32_rows(&per_batch(&x)?)?);
    }
    Ok(out)
}

/// A tensor's values as f32, row-major.
fn f32_rows(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
}

/// The spatial mean of each feature map of convolution `layer` of one network on every
/// example of `split` (eval mode, no hooks), as a row-major `[n, channels]` matrix (class
/// selectivity of feature maps, Morcos et al. 2018).
pub fn feature_map_activations(
    model: &Cnn,
    split: &Split,
    layer: usize,
    batch_size: usize,
) -> Result<Vec<f32>> {
    single(model)?;
    let n_conv = model.config().conv_channels.len();
    if layer >= n_conv {
        return Err(ModelError::Config(format!(
            "convolution {layer} does not exist: the network has convolutions 0..{n_conv}"
        )));
    }
    rows_of_split(model, split, batch_size, |x| {
        Ok(model
            .feature_map_means(x, &mut crate::hooks::NoHooks)?
            .swap_remove(layer))
    })
}

/// One network's convolutional features of a split, computed once (eval mode, no hooks), to
/// evaluate the fully connected head many times with different hooks ([`Cnn::head`]): an
/// ablation or noise analysis of hidden layers costs one convolution pass instead of one per
/// evaluation. Valid only for the network it was computed with.
#[derive(Debug, Clone)]
pub struct CachedFeatures {
    /// Per minibatch: features `[1, batch, flatten_dim]` and labels `[1, batch]`.
    batches: Vec<(Tensor, Tensor)>,
    n: usize,
}

impl CachedFeatures {
    /// The features of every example of `split` (in minibatches of `batch_size`).
    pub fn new(model: &Cnn, split: &Split, batch_size: usize) -> Result<Self> {
        single(model)?;
        if split.is_empty() {
            return Err(ModelError::Config(
                "cannot evaluate on an empty split".into(),
            ));
        }
        let device = model.device().clone();
        let all: Vec<usize> = (0..split.len()).collect();
        let mut batches = Vec::new();
        for idx in all.chunks(batch_size.max(1)) {
            let (x, y) = split.batch(idx, &device)?;
            batches.push((model.features(&x)?, y.unsqueeze(0)?));
        }
        Ok(CachedFeatures {
            batches,
            n: split.len(),
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there is no example (never: [`CachedFeatures::new`] refuses an empty split).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Accuracy of `model`'s head with `hook`'s evaluation-mode steps (as [`evaluate_with`],
    /// which it equals for hooks that act only on hidden layers).
    pub fn accuracy(&self, model: &Cnn, mut hook: &mut dyn Regularizer) -> Result<f64> {
        single(model)?;
        let mut correct = 0usize;
        for (f, y) in &self.batches {
            let logits = model
                .head(
                    f,
                    &mut PerReplica(std::slice::from_mut(&mut hook)),
                    &ForwardCtx::eval(),
                )?
                .logits;
            let pred = logits.argmax(candle_core::D::Minus1)?;
            let eq: Tensor = pred.eq(y)?.to_dtype(DType::U32)?;
            correct += eq.sum_all()?.to_scalar::<u32>()? as usize;
        }
        Ok(correct as f64 / self.n as f64)
    }

    /// Hidden layer `layer`'s activations (no hooks), row-major `[n, width]`, as
    /// [`hidden_activations`].
    pub fn hidden(&self, model: &Cnn, layer: usize) -> Result<Vec<f32>> {
        single(model)?;
        model.hidden_width(layer)?;
        let mut out = Vec::new();
        for (f, _) in &self.batches {
            let mut h = model
                .head(f, &mut crate::hooks::NoHooks, &ForwardCtx::eval())?
                .hidden;
            out.extend(f32_rows(&h.swap_remove(layer))?);
        }
        Ok(out)
    }
}
