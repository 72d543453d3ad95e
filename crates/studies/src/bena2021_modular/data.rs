//! Pairs of images, one per agent (`DoubleMNIST` in `community/data/datasets.py`): image `i`
//! of a shuffled split goes to agent 0 and image `perm[i]` of an independent permutation to
//! agent 1. Pixels are normalised as the authors' MNIST transform does,
//! `(x / 255 − 0.1307) / 0.3081`, whatever the dataset (MNIST or Fashion-MNIST).
use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use neurogen_data::Split;

use super::error::{invalid, Result};
use super::task::{parity_digits_targets, N_CLASSES};

/// The authors' normalisation constants (MNIST's mean and standard deviation).
pub const PIXEL_MEAN: f32 = 0.1307;
/// See [`PIXEL_MEAN`].
pub const PIXEL_STD: f32 = 0.3081;

/// Image pairs with both agents' labels and the task's targets.
#[derive(Debug, Clone)]
pub struct DigitPairs {
    n_in: usize,
    /// `images[a]` is `len × n_in`, row-major, normalised.
    images: [Vec<f32>; 2],
    labels: [Vec<u8>; 2],
    targets: Vec<u8>,
}

impl DigitPairs {
    /// Pairs from normalised images (`len × n_in` per agent) and labels in `0..10`.
    pub fn new(n_in: usize, images: [Vec<f32>; 2], labels: [Vec<u8>; 2]) -> Result<DigitPairs> {
        let n = labels[0].len();
        if n == 0 || n_in == 0 {
            return Err(invalid("image pairs need at least one pair and n_in >= 1"));
        }
        for a in 0..2 {
            if labels[a].len() != n || images[a].len() != n * n_in {
                return Err(invalid(format!(
                    "agent {a}: {} labels and {} pixels, expected {n} and {n} × {n_in}",
                    labels[a].len(),
                    images[a].len()
                )));
            }
            if let Some(i) = images[a].iter().position(|v| !v.is_finite()) {
                return Err(invalid(format!("agent {a}: pixel {i} is not finite")));
            }
        }
        let targets = parity_digits_targets(&labels[0], &labels[1])?;
        Ok(DigitPairs {
            n_in,
            images,
            labels,
            targets,
        })
    }

    /// `n` pairs drawn from `split` with `seed` (see the module docs); `n` must not exceed the
    /// split's size and labels must lie in `0..10`.
    pub fn from_split(split: &Split, n: usize, seed: u64) -> Result<DigitPairs> {
        if n == 0 || n > split.len() {
            return Err(invalid(format!(
                "asked for {n} pairs from a split of {} images",
                split.len()
            )));
        }
        if let Some(&bad) = split.labels().iter().find(|&&l| l as usize >= N_CLASSES) {
            return Err(invalid(format!(
                "label {bad} is not a class in 0..{N_CLASSES}"
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut first: Vec<usize> = (0..split.len()).collect();
        let mut second = first.clone();
        first.shuffle(&mut rng);
        second.shuffle(&mut rng);
        let n_in = split.shape().numel();
        let norm = |i: usize| {
            split
                .image(i)
                .iter()
                .map(|&v| (v as f32 / 255.0 - PIXEL_MEAN) / PIXEL_STD)
        };
        let pick = |idx: &[usize]| -> (Vec<f32>, Vec<u8>) {
            let mut x = Vec::with_capacity(n * n_in);
            let mut y = Vec::with_capacity(n);
            for &i in &idx[..n] {
                x.extend(norm(i));
                y.push(split.labels()[i]);
            }
            (x, y)
        };
        let (x0, y0) = pick(&first);
        let (x1, y1) = pick(&second);
        DigitPairs::new(n_in, [x0, x1], [y0, y1])
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there is no pair (never true for a constructed value).
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Pixels per image.
    pub fn n_in(&self) -> usize {
        self.n_in
    }

    /// Agent `a`'s labels (0 or 1; panics otherwise).
    pub fn labels(&self, a: usize) -> &[u8] {
        &self.labels[a]
    }

    /// The task's targets.
    pub fn targets(&self) -> &[u8] {
        &self.targets
    }

    /// The pairs at `indices` as the two agents' input tensors (`batch × n_in`) and their
    /// targets.
    pub fn batch(&self, indices: &[usize], device: &Device) -> Result<([Tensor; 2], Vec<u8>)> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(invalid(format!(
                "pair index {bad} out of range for {} pairs",
                self.len()
            )));
        }
        let n = self.n_in;
        let take = |a: usize| -> Result<Tensor> {
            let mut v = Vec::with_capacity(indices.len() * n);
            for &i in indices {
                v.extend_from_slice(&self.images[a][i * n..(i + 1) * n]);
            }
            Ok(Tensor::from_vec(v, (indices.len(), n), device)?)
        };
        let targets = indices.iter().map(|&i| self.targets[i]).collect();
        Ok(([take(0)?, take(1)?], targets))
    }
}
