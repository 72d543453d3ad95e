//! Plain minibatch SGD on the mean cross-entropy, as the authors' `main_loop` runs it: for each
//! batch, forward, `loss.backward()`, then each layer's update policy (its gradient scaling,
//! the step and its clamps; [`super::Layer::sgd_step`]).
use candle_core::{DType, Tensor, D};
use serde::Serialize;

use super::error::{DaleError, Result};
use super::net::DaleNet;

/// Mean cross-entropy of `logits` `[batch, classes]` against `labels` `[batch]` (u32), as
/// PyTorch's `F.cross_entropy`. Labels outside `0..classes` are [`DaleError::BadLabel`].
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let (b, c) = logits.dims2().map_err(|_| DaleError::Shape {
        what: "logits".into(),
        expected: "[batch, classes]".into(),
        got: logits.dims().to_vec(),
    })?;
    check_labels(labels, b, c)?;
    let max = logits.max_keepdim(D::Minus1)?.detach();
    let shifted = logits.broadcast_sub(&max)?;
    let lse = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
    let log_probs = shifted.broadcast_sub(&lse)?;
    let picked = log_probs.gather(&labels.unsqueeze(1)?, 1)?;
    Ok((picked.sum_all()? * (-1.0 / b as f64))?)
}

fn check_labels(labels: &Tensor, batch: usize, classes: usize) -> Result<()> {
    if labels.dims() != [batch] || labels.dtype() != DType::U32 {
        return Err(DaleError::Shape {
            what: format!("labels (u32, got {:?})", labels.dtype()),
            expected: format!("[{batch}]"),
            got: labels.dims().to_vec(),
        });
    }
    for (index, label) in labels.to_vec1::<u32>()?.into_iter().enumerate() {
        if label as usize >= classes {
            return Err(DaleError::BadLabel {
                index,
                label,
                classes,
            });
        }
    }
    Ok(())
}

/// One SGD step on the batch `(x, y)`; returns the batch's loss before the step.
pub fn train_step(net: &DaleNet, x: &Tensor, y: &Tensor, lr: f64) -> Result<f32> {
    if !(lr > 0.0 && lr.is_finite()) {
        return Err(DaleError::InvalidArgument(format!(
            "learning rate must be finite and > 0, got {lr}"
        )));
    }
    let out = net.forward(x)?;
    let loss = cross_entropy(&out.logits, y)?;
    let grads = loss.backward()?;
    for layer in net.layers() {
        layer.sgd_step(&grads, lr)?;
    }
    Ok(loss.to_scalar::<f32>()?)
}

/// How to train.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrainOptions {
    /// Learning rate (the paper's per network: [`super::NetKind::paper_lr`]).
    pub lr: f64,
    /// Minibatch size (paper: 32).
    pub batch_size: usize,
    /// Passes over the data.
    pub epochs: usize,
    /// Seed of the minibatch order.
    pub seed: u64,
}

/// Trains `net` on `x` `[n, n_input]`, `y` `[n]` by SGD in shuffled minibatches
/// (`neurogen_data::epoch_batches`); returns every step's loss. A non-finite loss stops
/// training with [`DaleError::Diverged`].
pub fn train(net: &DaleNet, x: &Tensor, y: &Tensor, opts: &TrainOptions) -> Result<Vec<f32>> {
    let n = x.dim(0)?;
    if opts.batch_size == 0 || n == 0 {
        return Err(DaleError::InvalidArgument(format!(
            "training needs a batch size >= 1 and at least one example (got {}, {n})",
            opts.batch_size
        )));
    }
    if y.dims() != [n] {
        return Err(DaleError::Shape {
            what: "labels".into(),
            expected: format!("[{n}]"),
            got: y.dims().to_vec(),
        });
    }
    let mut losses = Vec::new();
    for epoch in 0..opts.epochs {
        for batch in neurogen_data::epoch_batches(n, opts.batch_size, opts.seed, epoch) {
            let idx = Tensor::from_vec(
                batch.iter().map(|&i| i as u32).collect::<Vec<_>>(),
                batch.len(),
                x.device(),
            )?;
            let loss = train_step(
                net,
                &x.index_select(&idx, 0)?,
                &y.index_select(&idx, 0)?,
                opts.lr,
            )?;
            if !loss.is_finite() {
                return Err(DaleError::Diverged {
                    step: losses.len(),
                    loss,
                });
            }
            losses.push(loss);
        }
    }
    Ok(losses)
}

/// Loss and accuracy of a network on a labelled set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluation {
    /// Mean cross-entropy.
    pub loss: f32,
    /// Fraction classified correctly.
    pub accuracy: f64,
    /// Number of examples.
    pub n: usize,
}

/// Evaluates `net` on `x`, `y` in chunks of 1,000.
pub fn evaluate(net: &DaleNet, x: &Tensor, y: &Tensor) -> Result<Evaluation> {
    let n = x.dim(0)?;
    if n == 0 {
        return Err(DaleError::InvalidArgument(
            "evaluation needs at least one example".into(),
        ));
    }
    let (mut loss_sum, mut correct) = (0.0f64, 0usize);
    for start in (0..n).step_by(1000) {
        let len = (n - start).min(1000);
        let xb = x.narrow(0, start, len)?;
        let yb = y.narrow(0, start, len)?;
        let logits = net.forward(&xb)?.logits;
        loss_sum += cross_entropy(&logits, &yb)?.to_scalar::<f32>()? as f64 * len as f64;
        let pred = logits.argmax(D::Minus1)?;
        correct += pred
            .eq(&yb)?
            .to_dtype(DType::U32)?
            .sum_all()?
            .to_scalar::<u32>()? as usize;
    }
    Ok(Evaluation {
        loss: (loss_sum / n as f64) as f32,
        accuracy: correct as f64 / n as f64,
        n,
    })
}
