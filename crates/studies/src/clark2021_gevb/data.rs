//! Inputs and labels: flattened images normalised as the authors do, `(x − 0.5)/0.5` with `x`
//! in `[0, 1]` (`torchvision.transforms.Normalize((0.5,), (0.5,))`), and the checks every
//! network and rule of the study runs on a minibatch before using it.
//!
//! The images come from `neurogen-data`: [`neurogen_data::Split::batch`] already applies the
//! normalisation, so [`flat_batch`] only flattens. Fashion-MNIST is at
//! [`neurogen_data::fashion_mnist_dir`]; the paper's MNIST is read from its IDX files with
//! [`neurogen_data::load_as`] (`DatasetKind::Mnist`) by anyone who has them.
use candle_core::{DType, Device, Tensor};
use neurogen_data::Split;

use super::error::{GevbError, Result};

/// The images of `split` at `indices` as a `[B, C·H·W]` f32 tensor normalised to
/// `(x − 0.5)/0.5`, and their labels as `[B]` u32, on `device`.
pub fn flat_batch(split: &Split, indices: &[usize], device: &Device) -> Result<(Tensor, Tensor)> {
    let (x, y) = split.batch(indices, device)?;
    let b = x.dim(0)?;
    Ok((x.reshape((b, ()))?, y))
}

/// Checks a minibatch of images: `x` is `[B, C, H, W]` with `B ≥ 1` and `(C, H, W)` =
/// `chw`, `y` is `[B]` u32 with every label below `classes`. Returns the labels.
pub fn check_image_batch(
    x: &Tensor,
    y: &Tensor,
    chw: [usize; 3],
    classes: usize,
) -> Result<Vec<u32>> {
    let dims = x.dims();
    if dims.len() != 4 || dims[1..] != chw || dims[0] == 0 {
        return Err(GevbError::Shape(format!(
            "images must be [batch ≥ 1, {}, {}, {}], got {dims:?}",
            chw[0], chw[1], chw[2]
        )));
    }
    check_labels(y, dims[0], classes)
}

/// Checks a minibatch: `x` is `[B, dim]` f32 with `B ≥ 1`, `y` is `[B]` u32 with every label
/// below `classes`. Returns the labels.
pub fn check_batch(x: &Tensor, y: &Tensor, dim: usize, classes: usize) -> Result<Vec<u32>> {
    let dims = x.dims();
    if dims.len() != 2 || dims[1] != dim {
        return Err(GevbError::Shape(format!(
            "inputs must be [batch, {dim}] (flattened images), got {dims:?}"
        )));
    }
    if dims[0] == 0 {
        return Err(GevbError::Shape("the minibatch is empty".into()));
    }
    if x.dtype() != DType::F32 {
        return Err(GevbError::Shape(format!(
            "inputs must be f32, got {:?}",
            x.dtype()
        )));
    }
    check_labels(y, dims[0], classes)
}

/// Checks labels: `[n]` u32, each below `classes`. Returns them.
pub fn check_labels(y: &Tensor, n: usize, classes: usize) -> Result<Vec<u32>> {
    if y.dtype() != DType::U32 {
        return Err(GevbError::Label(format!(
            "labels must be u32, got {:?}",
            y.dtype()
        )));
    }
    if y.dims() != [n] {
        return Err(GevbError::Label(format!(
            "expected {n} labels (one per input), got shape {:?}",
            y.dims()
        )));
    }
    let labels = y.to_vec1::<u32>()?;
    if let Some((i, &l)) = labels
        .iter()
        .enumerate()
        .find(|(_, &l)| l as usize >= classes)
    {
        return Err(GevbError::Label(format!(
            "label {l} at position {i} is out of range for {classes} classes"
        )));
    }
    Ok(labels)
}

/// `[B, classes]` one-hot f32 targets of `labels` (already checked).
pub(crate) fn one_hot(labels: &[u32], classes: usize, device: &Device) -> Result<Tensor> {
    let mut v = vec![0f32; labels.len() * classes];
    for (b, &l) in labels.iter().enumerate() {
        v[b * classes + l as usize] = 1.0;
    }
    Ok(Tensor::from_vec(v, (labels.len(), classes), device)?)
}

/// The output error `e = softmax(y) − onehot(label)`, `[B, classes]`, from detached logits.
pub(crate) fn output_error(logits: &Tensor, labels: &[u32]) -> Result<Tensor> {
    let (_, k) = logits.dims2()?;
    let p = candle_nn::ops::softmax_last_dim(&logits.detach())?;
    Ok((p - one_hot(labels, k, logits.device())?)?)
}

/// Mean cross-entropy of `[B, classes]` logits (differentiable).
pub(crate) fn cross_entropy(logits: &Tensor, labels: &[u32]) -> Result<Tensor> {
    let (b, _) = logits.dims2()?;
    let y = Tensor::from_slice(labels, b, logits.device())?;
    let lsm = candle_nn::ops::log_softmax(logits, candle_core::D::Minus1)?;
    let picked = lsm.gather(&y.unsqueeze(1)?, 1)?.squeeze(1)?;
    Ok(picked.mean_all()?.neg()?)
}

/// Number of rows of `[B, classes]` logits whose arg-max is the label.
pub(crate) fn correct(logits: &Tensor, labels: &[u32]) -> Result<usize> {
    let pred = logits.argmax(1)?.to_vec1::<u32>()?;
    Ok(pred.iter().zip(labels).filter(|(p, l)| p == l).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_batches_are_named() {
        let dev = Device::Cpu;
        let x = Tensor::zeros((3, 4), DType::F32, &dev).unwrap();
        let y = Tensor::new(&[0u32, 1, 2], &dev).unwrap();
        assert_eq!(check_batch(&x, &y, 4, 3).unwrap(), vec![0, 1, 2]);
        let e = check_batch(&x, &y, 5, 3).unwrap_err().to_string();
        assert!(e.contains("[batch, 5]"), "{e}");
        let e = check_batch(&x, &y, 4, 2).unwrap_err().to_string();
        assert!(e.contains("label 2 at position 2"), "{e}");
        let y2 = Tensor::new(&[0u32, 1], &dev).unwrap();
        let e = check_batch(&x, &y2, 4, 3).unwrap_err().to_string();
        assert!(e.contains("expected 3 labels"), "{e}");
        let yf = Tensor::new(&[0f32, 1., 2.], &dev).unwrap();
        let e = check_batch(&x, &yf, 4, 3).unwrap_err().to_string();
        assert!(e.contains("u32"), "{e}");
    }

    #[test]
    fn output_error_rows_sum_to_zero() {
        let dev = Device::Cpu;
        let logits = Tensor::new(&[[1f32, 2., 3.], [0., 0., 0.]], &dev).unwrap();
        let e = output_error(&logits, &[2, 0]).unwrap();
        let rows: Vec<f32> = e.sum(1).unwrap().to_vec1().unwrap();
        assert!(rows.iter().all(|r| r.abs() < 1e-6));
        let v: Vec<Vec<f32>> = e.to_vec2().unwrap();
        assert!((v[1][0] - (1.0 / 3.0 - 1.0)).abs() < 1e-6);
        let ce = cross_entropy(&logits, &[2, 0])
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let expect = ((1f32.exp() + 2f32.exp() + 3f32.exp()).ln() - 3.0 + 3f32.ln()) / 2.0;
        assert!((ce - expect).abs() < 1e-5, "{ce} vs {expect}");
    }
}
