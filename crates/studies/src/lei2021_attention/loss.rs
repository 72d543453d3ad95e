//! The per-object loss (`Runner.train`): which object the network attended, and the loss
//! for it.
//!
//! The object a pass attended is the one whose *gating target* lies nearest (summed squared
//! error) to the gated input, among the objects not yet reported in this scene (ties go to
//! the first, as `torch.argmin`). An object's gating target is the scene as a perfect gate
//! for it would leave it: `(1 − s)·x + s·d_k` (`MultiMNIST.__getitem__`: `data = [(1 −
//! strength)·x + strength·d for d in data]`), with `x` the scene and `d_k` the object alone
//! on the canvas. The loss is cross-entropy on that object's label plus
//! `penalty · MSE(gated input, its target)` (mean over pixels and scenes; penalty 1e3).
use candle_core::{DType, Tensor};

use super::data::SceneBatch;
use super::error::{shape, AttentionError, Result};

/// A scalar tensor of any float dtype as f32.
pub(crate) fn scalar(t: &Tensor) -> Result<f32> {
    Ok(t.to_dtype(DType::F32)?.to_scalar::<f32>()?)
}

/// The authors' reconstruction penalty (1e3).
pub const PAPER_PENALTY: f64 = 1e3;

/// Every object's gating target `(1 − s)·x + s·d_k`, `B × objects × pixels`.
pub fn gating_targets(batch: &SceneBatch, strength: f64) -> Vec<f32> {
    let (n, p) = (batch.per_scene(), batch.pixels());
    let s = strength as f32;
    let mut out = Vec::with_capacity(batch.objects().len());
    for (i, scene) in batch.scenes().chunks(p).enumerate() {
        for k in 0..n {
            let d = &batch.objects()[(i * n + k) * p..(i * n + k + 1) * p];
            out.extend(scene.iter().zip(d).map(|(&x, &d)| (1.0 - s) * x + s * d));
        }
    }
    out
}

/// The object each scene's pass attended: per scene, the index of the target nearest to the
/// gated input among the objects whose `reported` flag is false, which this then sets.
/// `gated` is `B × pixels`, `targets` is `B × objects × pixels`, `reported` is
/// `B × objects`. A scene with every object reported, or buffers that disagree, are errors.
///
/// ```
/// use neurogen_studies::lei2021_attention::select_objects;
/// // One scene of two pixels, two objects: the input is nearer to object 1.
/// let (gated, targets) = ([0.0, 1.0], [1.0, 0.0, 0.0, 0.9]);
/// let mut reported = vec![false, false];
/// assert_eq!(select_objects(&gated, &targets, 2, &mut reported)?, vec![1]);
/// // Object 1 is reported now: the next pass can only name object 0.
/// assert_eq!(select_objects(&gated, &targets, 2, &mut reported)?, vec![0]);
/// # Ok::<(), neurogen_studies::lei2021_attention::AttentionError>(())
/// ```
pub fn select_objects(
    gated: &[f32],
    targets: &[f32],
    objects: usize,
    reported: &mut [bool],
) -> Result<Vec<usize>> {
    if objects == 0 || reported.is_empty() || reported.len() % objects != 0 {
        return Err(shape(format!(
            "{} reported flags are not a positive multiple of {objects} objects",
            reported.len()
        )));
    }
    let b = reported.len() / objects;
    if gated.is_empty() || gated.len() % b != 0 || targets.len() != gated.len() * objects {
        return Err(shape(format!(
            "{b} scenes of {objects} objects: {} gated pixels and {} target pixels do not fit",
            gated.len(),
            targets.len()
        )));
    }
    let p = gated.len() / b;
    let mut picks = Vec::with_capacity(b);
    for i in 0..b {
        let g = &gated[i * p..(i + 1) * p];
        let mut best: Option<(usize, f32)> = None;
        for k in 0..objects {
            if reported[i * objects + k] {
                continue;
            }
            let t = &targets[(i * objects + k) * p..(i * objects + k + 1) * p];
            let err: f32 = g.iter().zip(t).map(|(a, b)| (a - b) * (a - b)).sum();
            if !err.is_finite() {
                return Err(AttentionError::NonFinite(format!(
                    "the gated input of scene {i} is not finite"
                )));
            }
            if best.is_none_or(|(_, e)| err < e) {
                best = Some((k, err));
            }
        }
        let Some((k, _)) = best else {
            return Err(AttentionError::Config(format!(
                "scene {i}: every one of its {objects} objects is already reported"
            )));
        };
        reported[i * objects + k] = true;
        picks.push(k);
    }
    Ok(picks)
}

/// The loss of one object pass and what it measured.
#[derive(Debug, Clone)]
pub struct ObjectLoss {
    /// `cross_entropy + penalty · mse`, a scalar tensor in the graph.
    pub loss: Tensor,
    /// The cross-entropy part.
    pub class_loss: f32,
    /// The reconstruction part before the penalty (MSE of the gated input to the target).
    pub mask_loss: f32,
    /// Per scene, the position of the object the pass was scored against.
    pub selected: Vec<usize>,
    /// Per scene, that object's label.
    pub labels: Vec<u32>,
    /// Scenes whose report (arg-max logit) is that label.
    pub correct: usize,
}

/// The loss of one pass (`logits` `[B, 10]`, `gated` `[B, 1, H, W]`) on `batch`, scored
/// against the attended object ([`select_objects`]; `reported` is updated); `targets` from
/// [`gating_targets`].
pub fn object_loss(
    logits: &Tensor,
    gated: &Tensor,
    batch: &SceneBatch,
    targets: &[f32],
    reported: &mut [bool],
    penalty: f64,
) -> Result<ObjectLoss> {
    let (n, p) = (batch.per_scene(), batch.pixels());
    let b = batch.len();
    if logits.dims() != [b, super::data::CLASSES] {
        return Err(shape(format!(
            "logits must be [{b}, {}], got {:?}",
            super::data::CLASSES,
            logits.dims()
        )));
    }
    if gated.dims() != [b, 1, batch.height(), batch.width()] {
        return Err(shape(format!(
            "the gated input must be [{b}, 1, {}, {}], got {:?}",
            batch.height(),
            batch.width(),
            gated.dims()
        )));
    }
    if targets.len() != b * n * p {
        return Err(shape(format!(
            "{} target pixels for {b} scenes of {n} objects of {p} pixels",
            targets.len()
        )));
    }
    let g = gated
        .detach()
        .flatten_all()?
        .to_dtype(DType::F32)?
        .to_vec1::<f32>()?;
    let selected = select_objects(&g, targets, n, reported)?;
    let mut target = Vec::with_capacity(b * p);
    let mut labels = Vec::with_capacity(b);
    for (i, &k) in selected.iter().enumerate() {
        target.extend_from_slice(&targets[(i * n + k) * p..(i * n + k + 1) * p]);
        labels.push(batch.labels()[i * n + k] as u32);
    }
    let device = logits.device();
    let target = Tensor::from_vec(target, gated.dims(), device)?.to_dtype(gated.dtype())?;
    let y = Tensor::from_vec(labels.clone(), b, device)?;
    let class = candle_nn::loss::cross_entropy(logits, &y)?;
    let mse = gated.sub(&target)?.sqr()?.mean_all()?;
    let loss = class.add(&mse.affine(penalty, 0.0)?)?;
    let pred = super::model::argmax_rows(&logits.detach())?;
    let correct = pred.iter().zip(&labels).filter(|(a, b)| a == b).count();
    Ok(ObjectLoss {
        loss,
        class_loss: scalar(&class)?,
        mask_loss: scalar(&mse)?,
        selected,
        labels,
        correct,
    })
}
