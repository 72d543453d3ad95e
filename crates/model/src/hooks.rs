//! Forward hooks as data: what a regulariser (or an analysis, such as silencing units) does to
//! a layer's activations, described as [`HookStep`]s that the network applies to all K
//! replicas at once.
//!
//! Every hook of the built-in regularisers is one of three kinds: multiply by factors drawn on
//! the host (dropout masks, neural noise), scale whole units (excitability, silencing), and
//! rescale units whose L1 norm over the minibatch is too large (dropout's max-norm, in
//! evaluation per block of 4 examples as the reference's test loader). [`crate::Cnn::forward`]
//! asks each replica's [`Hooks`] for its steps at every [`HookSite`], uploads the factors of
//! all replicas at once and applies each step to the `[K, batch, width]` activations in one
//! operation: a hook is written once, and is as fast with 20 replicas as with one.
//! A plugin whose transform is none of these kinds implements [`ForwardTransform`] and returns
//! it as [`HookStep::Transform`]: it runs replica by replica, and the built-in steps around it
//! stay batched.
use candle_core::{Device, Tensor};

use crate::error::{ModelError, Result};

/// Added to the norms before dividing (as `torch.renorm`).
pub const RENORM_EPS: f64 = 1e-7;

/// What a forward pass is for.
///
/// More fields may come (`#[non_exhaustive]`): build one with [`ForwardCtx::train`] or
/// [`ForwardCtx::eval`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ForwardCtx {
    /// Training (true) or evaluation (false) mode.
    pub train: bool,
    /// Zero-based epoch (0 outside training).
    pub epoch: usize,
    /// Global optimiser step about to be taken (number of steps already taken).
    pub step: usize,
}

impl ForwardCtx {
    /// An evaluation-mode context.
    pub fn eval() -> Self {
        ForwardCtx {
            train: false,
            epoch: 0,
            step: 0,
        }
    }

    /// A training-mode context at `epoch` and global `step`.
    pub fn train(epoch: usize, step: usize) -> Self {
        ForwardCtx {
            train: true,
            epoch,
            step,
        }
    }
}

/// The kinds of layer hooks act on.
///
/// More kinds of layer may come (`#[non_exhaustive]`): a `match` outside this crate needs a `_`
/// arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayerKind {
    /// A hidden fully connected layer (`fcs.{index}`).
    Hidden,
    /// A convolution (`convs.{index}`): its feature maps after the ReLU (before the max-pool
    /// that follows every second convolution). Its `width` is the number of feature maps; the
    /// only step taken there is [`HookStep::ScaleUnits`], one factor per feature map (see
    /// [`apply_feature_maps`]).
    Conv,
}

/// What the loop and the hooks know of a layer: its index, kind and width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerInfo {
    /// Index among the layers of its kind (hidden layer `l` is `fcs.{l}`).
    pub index: usize,
    /// The layer's kind.
    pub kind: LayerKind,
    /// Number of units.
    pub width: usize,
}

/// Where in a layer a hook acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// The pre-activations `z = W x + b`, before the ReLU (neural noise acts here).
    PreActivation,
    /// The activations `relu(z)`, as passed on to the next layer (excitability, dropout and
    /// max-norm, silencing act here).
    Activation,
}

/// One place in one forward pass where hooks act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookSite {
    /// The layer.
    pub layer: LayerInfo,
    /// Before or after its nonlinearity.
    pub point: Point,
    /// Examples in the minibatch (per replica).
    pub batch: usize,
    /// Training or evaluation, epoch and step.
    pub ctx: ForwardCtx,
}

impl HookSite {
    /// Whether this is `point` of hidden layer `layer`.
    pub fn is(&self, layer: usize, point: Point) -> bool {
        self.layer.kind == LayerKind::Hidden && self.layer.index == layer && self.point == point
    }

    /// Whether this is the feature maps (after the ReLU) of convolution `layer`.
    pub fn is_conv(&self, layer: usize) -> bool {
        self.layer.kind == LayerKind::Conv && self.layer.index == layer
    }
}

/// A forward transform of a plugin's own: any differentiable function of one replica's
/// activations `[batch, width]` to activations of the same shape, returned by a regulariser's
/// `hook` as [`HookStep::Transform`] (build one with [`HookStep::transform`]).
///
/// The built-in kinds of [`HookStep`] run as one operation for all K replicas; a transform runs
/// once per replica (on its own slice of the stacked activations), and the built-in steps
/// around it stay batched. Gradients flow through it as through any candle operation.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use neurogen_model::hooks::{apply_all, ForwardTransform, HookStep};
///
/// /// Clips activations at 1 (a capped ReLU), by name in errors.
/// struct Cap;
/// impl ForwardTransform for Cap {
///     fn name(&self) -> &str { "cap" }
///     fn apply(&self, x: &Tensor) -> candle_core::Result<Tensor> { x.clamp(0f32, 1f32) }
/// }
/// let x = Tensor::new(&[[[0.5f32, 3.0]], [[2.0, 0.25]]], &Device::Cpu)?; // K = 2, batch 1
/// let step = HookStep::transform(Cap);
/// let y = apply_all(&x, &[vec![step.clone()], vec![step]])?;
/// assert_eq!(y.to_vec3::<f32>()?, vec![vec![vec![0.5, 1.0]], vec![vec![1.0, 0.25]]]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait ForwardTransform: Send + Sync {
    /// A short name, used in errors.
    fn name(&self) -> &str;

    /// The transformed activations: `x` is one replica's `[batch, width]`; the result must have
    /// the same shape (an error naming the transform otherwise).
    fn apply(&self, x: &Tensor) -> candle_core::Result<Tensor>;
}

/// One step of a forward hook on one replica's activations of shape `[batch, width]`.
///
/// More kinds of step may come (`#[non_exhaustive]`): a `match` outside this crate needs a `_`
/// arm.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum HookStep {
    /// Multiply elementwise by these `batch · width` factors (row-major).
    Multiply(Vec<f32>),
    /// Multiply every row by these `width` per-unit factors (0 silences a unit; at a
    /// convolution, one factor per feature map).
    ScaleUnits(Vec<f32>),
    /// Add these `batch · width` values elementwise (row-major), e.g. Gaussian noise of a
    /// random-direction perturbation (`crate::AddNoise`).
    Add(Vec<f32>),
    /// Rescale every unit (column) whose L1 norm over the examples exceeds `max_norm` to that
    /// norm (`torch.renorm(x, p=1, dim=1, maxnorm)`, see [`renorm_l1`]); with `block`, over
    /// each run of `block` consecutive examples on its own.
    RenormL1 {
        /// The largest allowed L1 norm of a unit's activations.
        max_norm: f64,
        /// Renormalise blocks of this many examples separately (None: the whole minibatch).
        block: Option<usize>,
    },
    /// k-winner-take-all per example: keep the `k` largest activations of every row (ties go
    /// to the lower unit index, see [`top_k_mask`]) and set the others to 0. The mask is taken
    /// from the activations themselves; gradients flow through the winners.
    TopK(usize),
    /// A plugin's own transform ([`ForwardTransform`]), applied replica by replica; equal
    /// (`==`) when it is the same `Arc`.
    Transform(std::sync::Arc<dyn ForwardTransform>),
}

impl std::fmt::Debug for dyn ForwardTransform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ForwardTransform({})", self.name())
    }
}

impl PartialEq for dyn ForwardTransform {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(self as *const Self, other as *const Self)
    }
}

impl HookStep {
    /// [`HookStep::Transform`] of `t`.
    pub fn transform(t: impl ForwardTransform + 'static) -> Self {
        HookStep::Transform(std::sync::Arc::new(t))
    }
}

impl HookStep {
    /// Whether two steps can run as one batched operation (same kind and settings).
    fn same_kind(&self, other: &HookStep) -> bool {
        match (self, other) {
            (HookStep::Multiply(_), HookStep::Multiply(_)) => true,
            (HookStep::Add(_), HookStep::Add(_)) => true,
            (HookStep::ScaleUnits(_), HookStep::ScaleUnits(_)) => true,
            (a @ HookStep::RenormL1 { .. }, b @ HookStep::RenormL1 { .. }) => a == b,
            (HookStep::TopK(_), HookStep::TopK(_)) => true,
            // Applied replica by replica, so any two transforms line up.
            (HookStep::Transform(_), HookStep::Transform(_)) => true,
            _ => false,
        }
    }
}

/// Per-replica forward hooks: the steps replica `replica` takes at `site`.
///
/// The loop implements this for its regularisers (one per replica); [`NoHooks`] takes no
/// step. A hook that takes no step costs nothing: an empty `Vec` does not allocate, and a site
/// where no replica has a step is skipped.
pub trait Hooks {
    /// The steps of replica `replica` at `site`, in order.
    fn steps(&mut self, replica: usize, site: &HookSite) -> Result<Vec<HookStep>>;
}

/// No hooks: the plain network.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl Hooks for NoHooks {
    fn steps(&mut self, _replica: usize, _site: &HookSite) -> Result<Vec<HookStep>> {
        Ok(Vec::new())
    }
}

/// `torch.renorm(x, p=1, dim, maxnorm)` over the rows of `dim`: every slice along the other
/// axes whose L1 norm over `dim` exceeds `max_norm` is scaled by `max_norm / (norm + 1e-7)`;
/// the others are left as they are. For `[batch, width]` activations, `dim = 0` renormalises
/// each unit over the minibatch; for `[K, batch, width]`, `dim = 1` does so per replica.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let x = Tensor::new(&[[1f32, 4.], [1., -4.]], &Device::Cpu)?;
/// let y = neurogen_model::hooks::renorm_l1(&x, 0, 3.0)?;
/// // Column 0 has norm 2 (kept), column 1 norm 8 (scaled to 3).
/// let v = y.to_vec2::<f32>()?;
/// assert_eq!(v[0][0], 1.0);
/// assert!((v[0][1] - 1.5).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn renorm_l1(x: &Tensor, dim: usize, max_norm: f64) -> candle_core::Result<Tensor> {
    let norms = x.abs()?.sum_keepdim(dim)?;
    let over = norms.gt(max_norm)?;
    let factor = ((norms + RENORM_EPS)?.recip()? * max_norm)?;
    let scale = over.where_cond(&factor, &factor.ones_like()?)?;
    x.broadcast_mul(&scale)
}

/// The k-winner-take-all mask of one row: 1 at the `k` largest values (ties broken towards
/// the lower index, so exactly `min(k, len)` ones), 0 elsewhere.
///
/// ```
/// use neurogen_model::hooks::top_k_mask;
/// assert_eq!(top_k_mask(&[0.5, 3.0, 3.0, -1.0], 2), vec![0.0, 1.0, 1.0, 0.0]);
/// assert_eq!(top_k_mask(&[1.0, 1.0, 1.0], 1), vec![1.0, 0.0, 0.0]);
/// ```
pub fn top_k_mask(row: &[f32], k: usize) -> Vec<f32> {
    let k = k.min(row.len());
    let mut mask = vec![0f32; row.len()];
    if k == 0 {
        return mask;
    }
    let mut order: Vec<usize> = (0..row.len()).collect();
    if k < row.len() {
        order.select_nth_unstable_by(k - 1, |&a, &b| {
            row[b].total_cmp(&row[a]).then_with(|| a.cmp(&b))
        });
    }
    for &i in &order[..k] {
        mask[i] = 1.0;
    }
    mask
}

/// [`renorm_l1`] over dim 1 of `[K, n, width]`, each run of `block` consecutive rows on its
/// own (the last run may be shorter).
fn renorm_blocks(x: &Tensor, max_norm: f64, block: usize) -> candle_core::Result<Tensor> {
    let (_, n, _) = x.dims3()?;
    if n <= block {
        return renorm_l1(x, 1, max_norm);
    }
    let mut parts = Vec::with_capacity(n.div_ceil(block));
    for start in (0..n).step_by(block) {
        let len = block.min(n - start);
        parts.push(renorm_l1(&x.narrow(1, start, len)?, 1, max_norm)?);
    }
    Tensor::cat(&parts, 1)
}

/// Applies replica `r`'s steps `plans[r]` to the `[K, batch, width]` activations: one
/// operation per step for all replicas when every replica's steps are of the same kinds (the
/// usual case: replicas of one experimental group), else replica by replica.
pub fn apply_all(x: &Tensor, plans: &[Vec<HookStep>]) -> Result<Tensor> {
    let (k, b, w) = x.dims3()?;
    if plans.len() != k {
        return Err(ModelError::Config(format!(
            "{} hook plans for {k} replicas",
            plans.len()
        )));
    }
    if plans.iter().all(|p| p.is_empty()) {
        return Ok(x.clone());
    }
    let first = &plans[0];
    let uniform = plans
        .iter()
        .all(|p| p.len() == first.len() && p.iter().zip(first).all(|(a, b)| a.same_kind(b)));
    if !uniform {
        let outs = plans
            .iter()
            .enumerate()
            .map(|(r, p)| apply_all(&x.narrow(0, r, 1)?, std::slice::from_ref(p)))
            .collect::<Result<Vec<_>>>()?;
        return Ok(Tensor::cat(&outs, 0)?);
    }
    let mut x = x.clone();
    for (i, step) in first.iter().enumerate() {
        x = match step {
            HookStep::Multiply(_) => {
                let mut all = Vec::with_capacity(k * b * w);
                for p in plans {
                    let HookStep::Multiply(f) = &p[i] else {
                        return Err(mixed());
                    };
                    check_len("Multiply", f.len(), b * w)?;
                    all.extend_from_slice(f);
                }
                let f = upload(all, (k, b, w), &x)?;
                (x * f)?
            }
            HookStep::Add(_) => {
                let mut all = Vec::with_capacity(k * b * w);
                for p in plans {
                    let HookStep::Add(f) = &p[i] else {
                        return Err(mixed());
                    };
                    check_len("Add", f.len(), b * w)?;
                    all.extend_from_slice(f);
                }
                let f = upload(all, (k, b, w), &x)?;
                (x + f)?
            }
            HookStep::ScaleUnits(_) => {
                let mut all = Vec::with_capacity(k * w);
                for p in plans {
                    let HookStep::ScaleUnits(f) = &p[i] else {
                        return Err(mixed());
                    };
                    check_len("ScaleUnits", f.len(), w)?;
                    all.extend_from_slice(f);
                }
                let f = upload(all, (k, 1, w), &x)?;
                x.broadcast_mul(&f)?
            }
            HookStep::TopK(_) => {
                let host: Vec<f32> = x
                    .to_dtype(candle_core::DType::F32)?
                    .flatten_all()?
                    .to_vec1()?;
                let mut mask = Vec::with_capacity(k * b * w);
                for (r, p) in plans.iter().enumerate() {
                    let HookStep::TopK(top) = &p[i] else {
                        return Err(mixed());
                    };
                    for row in host[r * b * w..(r + 1) * b * w].chunks_exact(w.max(1)) {
                        mask.extend(top_k_mask(row, *top));
                    }
                }
                let m = upload(mask, (k, b, w), &x)?;
                (x * m)?
            }
            HookStep::Transform(_) => {
                let mut outs = Vec::with_capacity(k);
                for (r, p) in plans.iter().enumerate() {
                    let HookStep::Transform(t) = &p[i] else {
                        return Err(mixed());
                    };
                    let xr = x.get(r)?;
                    let y = t.apply(&xr)?;
                    if y.dims() != xr.dims() {
                        return Err(ModelError::Config(format!(
                            "forward transform {} returned shape {:?} for activations of shape {:?}",
                            t.name(),
                            y.dims(),
                            xr.dims()
                        )));
                    }
                    outs.push(y);
                }
                Tensor::stack(&outs, 0)?
            }
            HookStep::RenormL1 {
                max_norm,
                block: None,
            } => renorm_l1(&x, 1, *max_norm)?,
            HookStep::RenormL1 {
                max_norm,
                block: Some(block),
            } => renorm_blocks(&x, *max_norm, (*block).max(1))?,
        };
    }
    Ok(x)
}

/// Applies one network's steps at the feature maps of convolution `layer`: `x` holds the maps
/// along axis `channel_axis` (axis 1 of `[batch, C, H, W]` on the CPU path and of one replica's
/// `[1, C, N, H, W]` on a GPU). Only [`HookStep::ScaleUnits`] with one factor per map is taken;
/// any other step is an error naming the layer.
pub fn apply_feature_maps(
    x: &Tensor,
    channel_axis: usize,
    layer: usize,
    steps: &[HookStep],
) -> Result<Tensor> {
    let dims = x.dims().to_vec();
    let channels = *dims.get(channel_axis).ok_or_else(|| {
        ModelError::Config(format!(
            "feature maps of shape {dims:?} have no axis {channel_axis}"
        ))
    })?;
    let mut x = x.clone();
    for step in steps {
        let HookStep::ScaleUnits(f) = step else {
            return Err(ModelError::Config(format!(
                "convolution {layer}: only ScaleUnits (one factor per feature map) acts on feature maps, got {}",
                step.kind_name()
            )));
        };
        check_len("ScaleUnits", f.len(), channels)?;
        let mut shape = vec![1usize; dims.len()];
        shape[channel_axis] = channels;
        let f = upload(f.clone(), shape, &x)?;
        x = x.broadcast_mul(&f)?;
    }
    Ok(x)
}

impl HookStep {
    /// The step's kind, for error messages.
    fn kind_name(&self) -> &'static str {
        match self {
            HookStep::Multiply(_) => "Multiply",
            HookStep::ScaleUnits(_) => "ScaleUnits",
            HookStep::Add(_) => "Add",
            HookStep::RenormL1 { .. } => "RenormL1",
            HookStep::TopK(_) => "TopK",
            HookStep::Transform(_) => "Transform",
        }
    }
}

fn mixed() -> ModelError {
    ModelError::Config("hook plans of different kinds in one batched step".into())
}

fn check_len(what: &str, got: usize, want: usize) -> Result<()> {
    if got != want {
        return Err(ModelError::Config(format!(
            "hook step {what} has {got} factors for activations that need {want}"
        )));
    }
    Ok(())
}

/// Factors as a tensor of `like`'s dtype and device (one upload).
fn upload<S: Into<candle_core::Shape>>(v: Vec<f32>, shape: S, like: &Tensor) -> Result<Tensor> {
    Ok(Tensor::from_vec(v, shape, &Device::Cpu)?
        .to_dtype(like.dtype())?
        .to_device(like.device())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn x(k: usize, b: usize, w: usize) -> Tensor {
        let v: Vec<f32> = (0..k * b * w)
            .map(|i| (i as f32 * 0.37).sin() * 3.0)
            .collect();
        Tensor::from_vec(v, (k, b, w), &Device::Cpu).unwrap()
    }

    #[test]
    fn block_renorm_equals_renorm_of_each_block() {
        let t = x(2, 10, 3);
        let steps = vec![HookStep::RenormL1 {
            max_norm: 2.0,
            block: Some(4),
        }];
        let y = apply_all(&t, &[steps.clone(), steps]).unwrap();
        for r in 0..2 {
            for (start, len) in [(0, 4), (4, 4), (8, 2)] {
                let want = renorm_l1(&t.get(r).unwrap().narrow(0, start, len).unwrap(), 0, 2.0)
                    .unwrap()
                    .to_vec2::<f32>()
                    .unwrap();
                let got = y
                    .get(r)
                    .unwrap()
                    .narrow(0, start, len)
                    .unwrap()
                    .to_vec2::<f32>()
                    .unwrap();
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn top_k_keeps_the_k_largest_of_each_row_per_replica() {
        let t = Tensor::new(
            &[
                [[1f32, 5., 3., 2.], [4., 4., 0., 9.]],
                [[0., 1., 2., 3.], [3., 2., 1., 0.]],
            ],
            &Device::Cpu,
        )
        .unwrap();
        let y = apply_all(&t, &[vec![HookStep::TopK(2)], vec![HookStep::TopK(1)]])
            .unwrap()
            .to_vec3::<f32>()
            .unwrap();
        assert_eq!(y[0], vec![vec![0., 5., 3., 0.], vec![4., 0., 0., 9.]]);
        assert_eq!(y[1], vec![vec![0., 0., 0., 3.], vec![3., 0., 0., 0.]]);
        assert_eq!(top_k_mask(&[1.0, 2.0], 5), vec![1.0, 1.0]);
        assert_eq!(top_k_mask(&[1.0, 2.0], 0), vec![0.0, 0.0]);
    }

    /// Doubles, then adds the replica-independent constant 1 (so order matters).
    struct AffineTest;
    impl ForwardTransform for AffineTest {
        fn name(&self) -> &str {
            "affine-test"
        }
        fn apply(&self, x: &Tensor) -> candle_core::Result<Tensor> {
            (x * 2.0)? + 1.0
        }
    }

    #[test]
    fn transforms_run_per_replica_between_batched_built_in_steps() {
        let t = x(3, 4, 5);
        let f: Arc<dyn ForwardTransform> = Arc::new(AffineTest);
        let plan = |r: usize| {
            vec![
                HookStep::ScaleUnits(vec![0.5 + r as f32; 5]),
                HookStep::Transform(f.clone()),
                HookStep::RenormL1 {
                    max_norm: 2.0,
                    block: None,
                },
            ]
        };
        let plans: Vec<_> = (0..3).map(plan).collect();
        let y = apply_all(&t, &plans).unwrap();
        for r in 0..3 {
            let alone = apply_all(&t.narrow(0, r, 1).unwrap(), &[plan(r)]).unwrap();
            assert_eq!(
                y.get(r).unwrap().to_vec2::<f32>().unwrap(),
                alone.get(0).unwrap().to_vec2::<f32>().unwrap()
            );
            // By hand: scale, transform, renorm.
            let by_hand = renorm_l1(
                &(((t.get(r).unwrap() * (0.5 + r as f64)).unwrap() * 2.0).unwrap() + 1.0).unwrap(),
                0,
                2.0,
            )
            .unwrap();
            let (a, b) = (
                y.get(r)
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap(),
                by_hand.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            );
            for (u, v) in a.iter().zip(&b) {
                assert!((u - v).abs() < 1e-6, "{u} vs {v}");
            }
        }
        assert_eq!(
            HookStep::Transform(f.clone()),
            HookStep::Transform(f.clone())
        );
        assert_ne!(
            HookStep::Transform(f),
            HookStep::Transform(Arc::new(AffineTest))
        );
    }

    /// Returns a tensor of the wrong shape.
    struct Shrink;
    impl ForwardTransform for Shrink {
        fn name(&self) -> &str {
            "shrink"
        }
        fn apply(&self, x: &Tensor) -> candle_core::Result<Tensor> {
            x.narrow(1, 0, 1)
        }
    }

    #[test]
    fn a_transform_of_the_wrong_shape_is_an_error_naming_it() {
        let t = x(1, 2, 3);
        let err = apply_all(&t, &[vec![HookStep::transform(Shrink)]])
            .unwrap_err()
            .to_string();
        assert!(err.contains("shrink") && err.contains("shape"), "{err}");
        let err = apply_feature_maps(&t, 1, 0, &[HookStep::transform(Shrink)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("Transform"), "{err}");
    }

    #[test]
    fn mixed_plans_run_replica_by_replica() {
        let t = x(2, 2, 3);
        let plans = vec![
            vec![HookStep::ScaleUnits(vec![0.0, 1.0, 2.0])],
            vec![HookStep::Multiply(vec![2.0; 6])],
        ];
        let y = apply_all(&t, &plans).unwrap().to_vec3::<f32>().unwrap();
        let v = t.to_vec3::<f32>().unwrap();
        assert_eq!(y[0][1], vec![0.0, v[0][1][1], 2.0 * v[0][1][2]]);
        assert_eq!(y[1][0], v[1][0].iter().map(|a| 2.0 * a).collect::<Vec<_>>());
        let bad = vec![vec![HookStep::ScaleUnits(vec![1.0])], vec![]];
        assert!(apply_all(&t, &bad).is_err());
    }
}
