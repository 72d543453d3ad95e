//! The weight-mask metric (`community/funcspec/masks.py`, after Ramanujan et al. 2020, "What's
//! hidden in a randomly weighted neural network?", the edge-popup algorithm).
//!
//! On a frozen community, every masked weight gets a trained score; the forward pass keeps the
//! weights whose scores are in the top `k` fraction chosen **globally** over all masked
//! tensors (`GetSubnet_global`: sort all scores, keep those at sorted position
//! `≥ ⌊(1 − k) N⌋`), and the backward pass sends the gradient straight through the 0/1 mask to
//! the scores. As in the authors' `Mask_Community`, the masked tensors are each agent's
//! recurrent weights and bias and readout weights and bias (not the input weights, not the
//! interconnections); weight scores start as `kaiming_uniform_(a = √5)`
//! (`U(−1/√fan_in, 1/√fan_in)`) and bias scores as `N(0, 0.01²)`; they are trained with SGD
//! (lr 0.1, momentum 0.9, weight decay 5e-4) for one epoch on one sub-task (report agent
//! `t`'s label) with the max-|output| decision. The metric is the share of the kept weights
//! that lie in each agent: an agent specialised on sub-task `t` holds most of `t`'s mask.
use candle_core::{Device, Tensor, Var};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use neurogen_model::cross_entropy;

use super::connections::flat;
use super::data::DigitPairs;
use super::error::{invalid, Result};
use super::model::{AgentWeights, Community};
use super::task::{accuracy, max_decision};

/// Which entries of `scores` (several tensors, each flattened) are in the top `k` fraction of
/// all of them together: after sorting every score ascending, the entries at positions
/// `⌊(1 − k) N⌋..N` are kept (ties are ordered by position). `k` must lie in (0, 1].
///
/// ```
/// use neurogen_studies::bena2021_modular::supermask::global_top_k;
/// let keep = global_top_k(&[&[0.1, 0.9], &[0.5, 0.2, 0.7]], 0.4).unwrap();
/// assert_eq!(keep, vec![vec![false, true], vec![false, false, true]]);
/// ```
pub fn global_top_k(scores: &[&[f32]], k: f64) -> Result<Vec<Vec<bool>>> {
    if !(k > 0.0 && k <= 1.0) {
        return Err(invalid(format!(
            "the kept fraction k = {k} must lie in (0, 1]"
        )));
    }
    let mut all: Vec<(f32, usize, usize)> = Vec::new();
    for (t, s) in scores.iter().enumerate() {
        for (i, &v) in s.iter().enumerate() {
            if !v.is_finite() {
                return Err(invalid(format!(
                    "score {i} of tensor {t} is not finite ({v})"
                )));
            }
            all.push((v, t, i));
        }
    }
    if all.is_empty() {
        return Err(invalid("global top-k of no scores"));
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let j = ((1.0 - k) * all.len() as f64) as usize;
    let mut keep: Vec<Vec<bool>> = scores.iter().map(|s| vec![false; s.len()]).collect();
    for &(_, t, i) in &all[j..] {
        keep[t][i] = true;
    }
    Ok(keep)
}

/// The straight-through mask: its value is exactly `mask` (0/1, the shape of `score`), its
/// gradient with respect to `score` is the incoming gradient unchanged.
pub fn straight_through(score: &Tensor, mask: &[bool]) -> Result<Tensor> {
    if mask.len() != score.elem_count() {
        return Err(invalid(format!(
            "mask of {} entries for a score of shape {:?}",
            mask.len(),
            score.dims()
        )));
    }
    let m: Vec<f32> = mask.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect();
    let m = Tensor::from_vec(m, score.shape(), score.device())?;
    // score − detach(score) is exactly 0 in value and the identity in gradient.
    Ok(m.add(&score.sub(&score.detach())?)?)
}

/// Settings of the mask training. `Default` is the authors' (`train_and_get_mask_metric`,
/// `p_masks = [0.1]` in `scripts/main_funcspec.py`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SupermaskConfig {
    /// Fraction of the masked weights kept.
    pub k: f64,
    /// SGD learning rate.
    pub lr: f64,
    /// SGD momentum.
    pub momentum: f64,
    /// SGD weight decay (L2 added to the gradient).
    pub weight_decay: f64,
    /// Epochs over the pairs.
    pub epochs: usize,
    /// Pairs per batch.
    pub batch_size: usize,
    /// Seed of the scores and the batch order.
    pub seed: u64,
}

impl Default for SupermaskConfig {
    fn default() -> Self {
        SupermaskConfig {
            k: 0.1,
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 5e-4,
            epochs: 1,
            batch_size: 64,
            seed: 0,
        }
    }
}

/// Trained scores over a frozen community.
#[derive(Debug)]
pub struct Supermask<'a> {
    community: &'a Community,
    k: f64,
    /// Per agent: scores of `w_hh`, `b_hh`, `w_out`, `b_out`.
    scores: Vec<Var>,
}

/// What one mask training found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MaskResult {
    /// Share of the kept weights in each agent (sums to 1).
    pub share: [f64; 2],
    /// Accuracy of the masked community on the sub-task, on the evaluation pairs.
    pub accuracy: f64,
}

impl<'a> Supermask<'a> {
    /// Scores for `community`, drawn from `rng` (see the module docs), keeping a fraction `k`.
    pub fn new(community: &'a Community, k: f64, rng: &mut impl Rng) -> Result<Supermask<'a>> {
        if !(k > 0.0 && k <= 1.0) {
            return Err(invalid(format!(
                "the kept fraction k = {k} must lie in (0, 1]"
            )));
        }
        let cfg = community.config();
        let (h, o) = (cfg.n_hidden, cfg.n_out);
        let device: Device = community.agent(0).w_hh.device().clone();
        let normal = Normal::new(0.0f32, 0.01).expect("valid normal");
        let mut scores = Vec::new();
        for _ in 0..2 {
            // PyTorch's fan_in of a (out, in) weight is `in` = n_hidden for both matrices.
            let bound = 1.0 / (h as f32).sqrt();
            let mut uni = |n: usize| -> Vec<f32> {
                (0..n).map(|_| rng.random_range(-bound..bound)).collect()
            };
            let w_hh = uni(h * h);
            let w_out = uni(h * o);
            let b_hh: Vec<f32> = (0..h).map(|_| normal.sample(rng)).collect();
            let b_out: Vec<f32> = (0..o).map(|_| normal.sample(rng)).collect();
            scores.push(Var::from_tensor(&Tensor::from_vec(w_hh, (h, h), &device)?)?);
            scores.push(Var::from_tensor(&Tensor::from_vec(b_hh, h, &device)?)?);
            scores.push(Var::from_tensor(&Tensor::from_vec(
                w_out,
                (h, o),
                &device,
            )?)?);
            scores.push(Var::from_tensor(&Tensor::from_vec(b_out, o, &device)?)?);
        }
        Ok(Supermask {
            community,
            k,
            scores,
        })
    }

    /// The current masks, in the order of [`Supermask::scores`].
    pub fn masks(&self) -> Result<Vec<Vec<bool>>> {
        let flats: Vec<Vec<f32>> = self
            .scores
            .iter()
            .map(|s| flat(s.as_tensor()))
            .collect::<Result<_>>()?;
        let refs: Vec<&[f32]> = flats.iter().map(|v| v.as_slice()).collect();
        global_top_k(&refs, self.k)
    }

    /// The scores: agent 0's `w_hh`, `b_hh`, `w_out`, `b_out`, then agent 1's.
    pub fn scores(&self) -> &[Var] {
        &self.scores
    }

    /// Share of the kept weights in each agent.
    pub fn share(&self) -> Result<[f64; 2]> {
        let masks = self.masks()?;
        let kept: Vec<usize> = masks
            .iter()
            .map(|m| m.iter().filter(|&&b| b).count())
            .collect();
        let a0: usize = kept[..4].iter().sum();
        let a1: usize = kept[4..].iter().sum();
        let total = (a0 + a1) as f64;
        Ok([a0 as f64 / total, a1 as f64 / total])
    }

    /// The community's weights with the masks applied (straight-through to the scores).
    pub fn masked_weights(&self) -> Result<[AgentWeights; 2]> {
        let masks = self.masks()?;
        let one = |a: usize| -> Result<AgentWeights> {
            let mut w = self.community.agent_weights(a);
            let s = &self.scores[4 * a..4 * a + 4];
            let m = &masks[4 * a..4 * a + 4];
            let frozen = |t: &Tensor| t.detach();
            w.w_ih = frozen(&w.w_ih);
            w.b_ih = frozen(&w.b_ih);
            w.w_hh = frozen(&w.w_hh).mul(&straight_through(s[0].as_tensor(), &m[0])?)?;
            w.b_hh = frozen(&w.b_hh).mul(&straight_through(s[1].as_tensor(), &m[1])?)?;
            w.w_out = w.w_out.mul(&straight_through(s[2].as_tensor(), &m[2])?)?;
            w.b_out = w.b_out.mul(&straight_through(s[3].as_tensor(), &m[3])?)?;
            Ok(w)
        };
        Ok([one(0)?, one(1)?])
    }

    /// Loss (differentiable in the scores) and accuracy on one batch of sub-task targets.
    fn batch(&self, inputs: [&Tensor; 2], targets: &[u8]) -> Result<(Tensor, f64)> {
        let w = self.masked_weights()?;
        let out = self.community.forward_with(inputs, &w)?;
        let d = max_decision(out.outputs.last().expect("n_steps >= 1"))?;
        let y: Vec<u32> = targets.iter().map(|&t| t as u32).collect();
        let y = Tensor::from_vec(y, (1, targets.len()), d.logits.device())?;
        let loss = cross_entropy(&d.logits.unsqueeze(0)?, &y)?.squeeze(0)?;
        Ok((loss, accuracy(&d.logits, targets)?))
    }
}

/// Trains a mask on the frozen `community` to report agent `sub_task`'s label (0 or 1) on
/// `train` pairs, and returns the share of the kept weights per agent and the masked
/// community's accuracy on `eval` pairs. The community's own weights do not change.
pub fn train_supermask(
    community: &Community,
    train: &DigitPairs,
    eval: &DigitPairs,
    sub_task: usize,
    cfg: SupermaskConfig,
) -> Result<MaskResult> {
    if sub_task > 1 {
        return Err(invalid(format!(
            "sub-task {sub_task} does not exist (0 or 1)"
        )));
    }
    if cfg.epochs == 0 || cfg.batch_size == 0 || cfg.lr.is_nan() || cfg.lr <= 0.0 {
        return Err(invalid("mask training needs epochs, batch_size and lr > 0"));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mask = Supermask::new(community, cfg.k, &mut rng)?;
    let device = community.agent(0).w_hh.device().clone();
    let mut velocity: Vec<Option<Tensor>> = vec![None; mask.scores.len()];
    let mut order: Vec<usize> = (0..train.len()).collect();
    for _ in 0..cfg.epochs {
        order.shuffle(&mut rng);
        for chunk in order.chunks(cfg.batch_size) {
            let (x, _) = train.batch(chunk, &device)?;
            let y: Vec<u8> = chunk.iter().map(|&i| train.labels(sub_task)[i]).collect();
            let (loss, _) = mask.batch([&x[0], &x[1]], &y)?;
            let grads = loss.backward()?;
            for (s, v) in mask.scores.iter().zip(velocity.iter_mut()) {
                let Some(g) = grads.get(s.as_tensor()) else {
                    continue;
                };
                // PyTorch's SGD: g += wd · p; buf = μ · buf + g (buf = g at first); p −= lr · buf.
                let g = g.add(&s.as_tensor().affine(cfg.weight_decay, 0.0)?)?;
                let buf = match v.take() {
                    None => g,
                    Some(b) => b.affine(cfg.momentum, 0.0)?.add(&g)?,
                };
                s.set(&s.as_tensor().sub(&buf.affine(cfg.lr, 0.0)?)?)?;
                *v = Some(buf);
            }
        }
    }
    let idx: Vec<usize> = (0..eval.len()).collect();
    let mut hits = 0.0;
    for chunk in idx.chunks(cfg.batch_size) {
        let (x, _) = eval.batch(chunk, &device)?;
        let y: Vec<u8> = chunk.iter().map(|&i| eval.labels(sub_task)[i]).collect();
        let (_, acc) = mask.batch([&x[0], &x[1]], &y)?;
        hits += acc * chunk.len() as f64;
    }
    Ok(MaskResult {
        share: mask.share()?,
        accuracy: hits / eval.len() as f64,
    })
}

/// The weight-mask metric of a frozen community: one mask per sub-task (report agent 0's or
/// agent 1's label), and the share of each mask's kept weights that lie in each agent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MaskMetric {
    /// `share[t][a]`: share of sub-task `t`'s kept weights in agent `a`.
    pub share: [[f64; 2]; 2],
    /// `accuracy[t]`: the masked community's accuracy on sub-task `t`.
    pub accuracy: [f64; 2],
    /// Agent `n`'s specialization: `normalised_difference(share[n][n], share[1 − n][n])`, how
    /// much more of its own sub-task's mask than of the other's it holds.
    pub specialization: [f64; 2],
}

/// [`train_supermask`] for both sub-tasks (seeds `cfg.seed` and `cfg.seed + 1`) and the
/// specialization of each agent.
pub fn mask_metric(
    community: &Community,
    train: &DigitPairs,
    eval: &DigitPairs,
    cfg: SupermaskConfig,
) -> Result<MaskMetric> {
    let r0 = train_supermask(community, train, eval, 0, cfg)?;
    let r1 = train_supermask(
        community,
        train,
        eval,
        1,
        SupermaskConfig {
            seed: cfg.seed.wrapping_add(1),
            ..cfg
        },
    )?;
    let share = [r0.share, r1.share];
    let spec = |n: usize| {
        neurogen_analysis::modularity::normalised_difference(share[n][n], share[1 - n][n])
    };
    Ok(MaskMetric {
        share,
        accuracy: [r0.accuracy, r1.accuracy],
        specialization: [spec(0)?, spec(1)?],
    })
}
